/* moat's table of object identifiers with the numbers and names Python's
 * ssl reports (NIDs and short / long names as OpenSSL spells them), for
 * moat_oid_* (moat.h "object identifiers"). */
#include <string.h>

#include "moat.h"
#include "x509/der.h"

/* clang-format off */
static const moat_oid_info oid_table[] = {
  {13,  "CN", "commonName", "2.5.4.3"},
  {100, "SN", "surname", "2.5.4.4"},
  {105, "serialNumber", "serialNumber", "2.5.4.5"},
  {14,  "C", "countryName", "2.5.4.6"},
  {15,  "L", "localityName", "2.5.4.7"},
  {16,  "ST", "stateOrProvinceName", "2.5.4.8"},
  {660, "street", "streetAddress", "2.5.4.9"},
  {17,  "O", "organizationName", "2.5.4.10"},
  {18,  "OU", "organizationalUnitName", "2.5.4.11"},
  {106, "title", "title", "2.5.4.12"},
  {107, "description", "description", "2.5.4.13"},
  {860, "businessCategory", "businessCategory", "2.5.4.15"},
  {661, "postalCode", "postalCode", "2.5.4.17"},
  {173, "name", "name", "2.5.4.41"},
  {99,  "GN", "givenName", "2.5.4.42"},
  {101, "initials", "initials", "2.5.4.43"},
  {509, "generationQualifier", "generationQualifier", "2.5.4.44"},
  {174, "dnQualifier", "dnQualifier", "2.5.4.46"},
  {510, "pseudonym", "pseudonym", "2.5.4.65"},
  {48,  "emailAddress", "emailAddress", "1.2.840.113549.1.9.1"},
  {391, "DC", "domainComponent", "0.9.2342.19200300.100.1.25"},
  {458, "UID", "userId", "0.9.2342.19200300.100.1.1"},
  {955, "jurisdictionL", "jurisdictionLocalityName", "1.3.6.1.4.1.311.60.2.1.1"},
  {956, "jurisdictionST", "jurisdictionStateOrProvinceName", "1.3.6.1.4.1.311.60.2.1.2"},
  {957, "jurisdictionC", "jurisdictionCountryName", "1.3.6.1.4.1.311.60.2.1.3"},
  {129, "serverAuth", "TLS Web Server Authentication", "1.3.6.1.5.5.7.3.1"},
  {130, "clientAuth", "TLS Web Client Authentication", "1.3.6.1.5.5.7.3.2"},
  {131, "codeSigning", "Code Signing", "1.3.6.1.5.5.7.3.3"},
  {132, "emailProtection", "E-mail Protection", "1.3.6.1.5.5.7.3.4"},
  {133, "timeStamping", "Time Stamping", "1.3.6.1.5.5.7.3.8"},
  {180, "OCSPSigning", "OCSP Signing", "1.3.6.1.5.5.7.3.9"},
  {178, "OCSP", "OCSP", "1.3.6.1.5.5.7.48.1"},
  {179, "caIssuers", "CA Issuers", "1.3.6.1.5.5.7.48.2"},
  {177, "authorityInfoAccess", "Authority Information Access", "1.3.6.1.5.5.7.1.1"},
  {82,  "subjectKeyIdentifier", "X509v3 Subject Key Identifier", "2.5.29.14"},
  {83,  "keyUsage", "X509v3 Key Usage", "2.5.29.15"},
  {85,  "subjectAltName", "X509v3 Subject Alternative Name", "2.5.29.17"},
  {86,  "issuerAltName", "X509v3 Issuer Alternative Name", "2.5.29.18"},
  {87,  "basicConstraints", "X509v3 Basic Constraints", "2.5.29.19"},
  {666, "nameConstraints", "X509v3 Name Constraints", "2.5.29.30"},
  {103, "crlDistributionPoints", "X509v3 CRL Distribution Points", "2.5.29.31"},
  {89,  "certificatePolicies", "X509v3 Certificate Policies", "2.5.29.32"},
  {90,  "authorityKeyIdentifier", "X509v3 Authority Key Identifier", "2.5.29.35"},
  {126, "extendedKeyUsage", "X509v3 Extended Key Usage", "2.5.29.37"},
  {6,   "rsaEncryption", "rsaEncryption", "1.2.840.113549.1.1.1"},
  {668, "RSA-SHA256", "sha256WithRSAEncryption", "1.2.840.113549.1.1.11"},
  {669, "RSA-SHA384", "sha384WithRSAEncryption", "1.2.840.113549.1.1.12"},
  {670, "RSA-SHA512", "sha512WithRSAEncryption", "1.2.840.113549.1.1.13"},
  {912, "RSASSA-PSS", "rsassaPss", "1.2.840.113549.1.1.10"},
  {408, "id-ecPublicKey", "id-ecPublicKey", "1.2.840.10045.2.1"},
  {794, "ecdsa-with-SHA256", "ecdsa-with-SHA256", "1.2.840.10045.4.3.2"},
  {795, "ecdsa-with-SHA384", "ecdsa-with-SHA384", "1.2.840.10045.4.3.3"},
  {796, "ecdsa-with-SHA512", "ecdsa-with-SHA512", "1.2.840.10045.4.3.4"},
  {415, "prime256v1", "prime256v1", "1.2.840.10045.3.1.7"},
  {715, "secp384r1", "secp384r1", "1.3.132.0.34"},
  {716, "secp521r1", "secp521r1", "1.3.132.0.35"},
  {1087, "ED25519", "ED25519", "1.3.101.112"},
  {1088, "ED448", "ED448", "1.3.101.113"},
  {672, "SHA256", "sha256", "2.16.840.1.101.3.4.2.1"},
  {673, "SHA384", "sha384", "2.16.840.1.101.3.4.2.2"},
  {674, "SHA512", "sha512", "2.16.840.1.101.3.4.2.3"},
};
/* clang-format on */

#define OID_TABLE_LEN (sizeof(oid_table) / sizeof(oid_table[0]))

const moat_oid_info *moat_oid_by_nid(int nid) {
  for (size_t i = 0; i < OID_TABLE_LEN; i++) {
    if (oid_table[i].nid == nid) {
      return &oid_table[i];
    }
  }
  return NULL;
}

const moat_oid_info *moat_oid_by_name(const char *name) {
  if (name == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < OID_TABLE_LEN; i++) {
    if (strcmp(oid_table[i].short_name, name) == 0 ||
        strcmp(oid_table[i].long_name, name) == 0) {
      return &oid_table[i];
    }
  }
  return NULL;
}

const moat_oid_info *moat_oid_by_dotted(const char *dotted) {
  if (dotted == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < OID_TABLE_LEN; i++) {
    if (strcmp(oid_table[i].dotted, dotted) == 0) {
      return &oid_table[i];
    }
  }
  return NULL;
}

bool moat_oid_dotted_valid(const char *dotted) {
  /* X.660: first arc 0..2, then at least one more arc, digits only, no
   * leading zeros. */
  if (dotted == NULL || dotted[0] < '0' || dotted[0] > '2' ||
      dotted[1] != '.') {
    return false;
  }
  const char *p = dotted + 2;
  size_t arcs = 1;
  while (*p != '\0') {
    const char *start = p;
    while (*p >= '0' && *p <= '9') {
      p++;
    }
    if (p == start || (p - start > 1 && *start == '0') || p - start > 18) {
      return false;
    }
    arcs++;
    if (*p == '.') {
      p++;
      if (*p == '\0') {
        return false;
      }
    } else if (*p != '\0') {
      return false;
    }
  }
  return arcs >= 2;
}

size_t moat_oid_text(const uint8_t *oid, size_t len, char *out, size_t cap) {
  cursor c = cur_make(oid, len);
  return der_oid_text(&c, out, cap);
}
