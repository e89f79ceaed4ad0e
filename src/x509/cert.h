/* A certificate view: slices into its DER, parsed strictly once
 * (RFC 5280 4.1).  Nothing is copied; the DER must outlive the view. */
#ifndef MOAT_X509_CERT_H
#define MOAT_X509_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cursor.h"
#include "crypto/crypto.h"
#include "moat.h"

/* RFC 5280 4.2.1.3 key usage bits (bit n of the BIT STRING). */
#define KU_DIGITAL_SIGNATURE 0x001
#define KU_NON_REPUDIATION 0x002
#define KU_KEY_ENCIPHERMENT 0x004
#define KU_DATA_ENCIPHERMENT 0x008
#define KU_KEY_AGREEMENT 0x010
#define KU_KEY_CERT_SIGN 0x020
#define KU_CRL_SIGN 0x040
#define KU_ENCIPHER_ONLY 0x080
#define KU_DECIPHER_ONLY 0x100

/* Extensions seen (for duplicate detection and presence tests). */
enum {
  EXT_BC = 1u << 0,
  EXT_KU = 1u << 1,
  EXT_EKU = 1u << 2,
  EXT_SAN = 1u << 3,
  EXT_NC = 1u << 4,
  EXT_SKI = 1u << 5,
  EXT_AKI = 1u << 6,
  EXT_POLICIES = 1u << 7,
  EXT_AIA = 1u << 8,
  EXT_CRLDP = 1u << 9,
  EXT_IAN = 1u << 10,
  EXT_POLICY_MAPPINGS = 1u << 11,
  EXT_POLICY_CONSTRAINTS = 1u << 12,
  EXT_INHIBIT_ANY = 1u << 13,
};

/* A signature algorithm (RFC 4055, RFC 5758, RFC 8410). */
typedef struct x509_sigalg {
  bool known; /* false: an algorithm moat does not verify */
  bool weak;  /* SHA-1 or MD5: recognised and refused */
  sig_kind kind;
  hash_id hash;    /* HASH_NONE for EdDSA */
  hash_id mgf1;    /* PSS only */
  size_t salt_len; /* PSS only */
  bool ed448;
} x509_sigalg;

typedef struct x509_cert {
  cursor der;      /* the whole Certificate */
  cursor tbs;      /* TBSCertificate with its header: the signed bytes */
  int version;     /* 1, 2 or 3 */
  cursor serial;   /* INTEGER contents */
  cursor sig_alg;  /* outer AlgorithmIdentifier element */
  x509_sigalg sig; /* its meaning */
  cursor issuer;   /* Name element (header included) */
  cursor subject;  /* Name element */
  int64_t not_before;
  int64_t not_after;
  cursor spki;      /* SubjectPublicKeyInfo element */
  cursor spki_alg;  /* its algorithm OID contents */
  cursor signature; /* signature value octets */

  uint32_t exts;     /* EXT_* present */
  uint32_t critical; /* EXT_* marked critical */
  bool unknown_critical;
  cursor unknown_critical_oid;
  bool ca;
  int path_len; /* -1 when absent */
  uint16_t key_usage;
  cursor eku;         /* SEQUENCE OF KeyPurposeId contents */
  cursor san;         /* GeneralNames contents */
  bool has_permitted; /* nameConstraints permittedSubtrees */
  bool has_excluded;
  cursor nc_permitted; /* GeneralSubtrees contents */
  cursor nc_excluded;
  cursor ski;      /* key identifier octets */
  cursor aki;      /* keyIdentifier octets (may be empty) */
  bool aki_extra;  /* authorityCertIssuer or serial present */
  cursor policies; /* certificatePolicies contents */
  cursor aia;      /* AuthorityInfoAccessSyntax contents */
  cursor crldp;    /* CRLDistributionPoints contents */
  cursor ext_list; /* Extensions SEQUENCE contents (empty when absent) */
  /* x509_cert_parse_lenient: malformed non-critical extensions left out */
  uint32_t dropped_exts;
} x509_cert;

/* Parse strictly.  On failure detail names the field. */
moat_err x509_cert_parse(x509_cert *out, const uint8_t *der, size_t len,
                         char *detail, size_t cap);
/* The same, but a malformed extension that is not critical is left out
 * (counted in dropped_exts) instead of refusing the certificate: for
 * showing a certificate, never for deciding trust. */
moat_err x509_cert_parse_lenient(x509_cert *out, const uint8_t *der, size_t len,
                                 char *detail, size_t cap);
/* Parses an AlgorithmIdentifier element's contents into *out. */
bool x509_sigalg_parse(cursor alg, x509_sigalg *out);
/* A hash AlgorithmIdentifier element (RFC 4055 2.1: parameters NULL or
 * absent); an algorithm moat does not know is HASH_NONE. */
bool x509_hash_alg_parse(cursor *c, hash_id *out);
/* Checks signature sig over the signed bytes tbs with the key of the
 * SubjectPublicKeyInfo element spki: 0, or an X509_V_ERR code (7 bad
 * signature, 68 SHA-1 / MD5 refused, 76 unsupported algorithm).  cache
 * may be NULL. */
long x509_check_signature(pubkey_cache *cache, const x509_sigalg *alg,
                          cursor tbs, cursor sig, cursor spki);
/* Key usage from a KeyUsage BIT STRING (the extnValue contents). */
bool x509_parse_key_usage(cursor *c, uint16_t *out);

/* True when the EKU list has this purpose OID (contents octets). */
bool x509_cert_has_eku(const x509_cert *c, const uint8_t *oid, size_t len);
/* Self-issued: subject and issuer names match (RFC 5280 6.1). */
bool x509_cert_self_issued(const x509_cert *c);

/* GeneralName tags (RFC 5280 4.2.1.6, context-specific). */
#define GN_OTHER 0xa0
#define GN_EMAIL 0x81
#define GN_DNS 0x82
#define GN_X400 0xa3
#define GN_DIRNAME 0xa4
#define GN_EDI 0xa5
#define GN_URI 0x86
#define GN_IP 0x87
#define GN_RID 0x88

/* Next GeneralName from a GeneralNames body: tag and contents (for
 * directoryName the contents are the Name element). */
bool x509_next_general_name(cursor *names, uint8_t *out_tag, cursor *out);

/* x509_cert_matches_host on a parsed leaf.  When the match is the legacy
 * CN fallback, *out_cn is that CN's value (else empty): the caller holds
 * it to the chain's name constraints (x509_nc_check_dns). */
bool x509_host_match(const x509_cert *leaf, const char *hostname,
                     bool check_common_name, cursor *out_cn);

/* ---- names (name.c) ---------------------------------------------------- */

/* Checks a Name element's structure (RFC 5280 4.1.2.4). */
bool x509_name_valid(cursor name);
/* RFC 5280 7.1: equality after case folding and whitespace folding of
 * string values (exact bytes first). */
bool x509_name_eq(cursor a, cursor b);
/* A hash consistent with x509_name_eq. */
uint64_t x509_name_hash(cursor name);
/* "C=US, O=Example, CN=example.com"; returns the full length. */
size_t x509_name_text(cursor name, char *out, size_t cap);
/* True when the Name has no RDNs. */
bool x509_name_empty(cursor name);
/* Iterate attribute values of one type (oid contents) in a Name: *pos
 * starts as the Name's contents cursor.  One value per RDN (the first of
 * the type in a multi-valued RDN). */
bool x509_name_next_attr(cursor *pos, const uint8_t *oid, size_t oid_len,
                         uint8_t *out_tag, cursor *out_value);
/* True when prefix's RDN sequence is a prefix of name's (RFC 5280
 * 4.2.1.10 directoryName constraints). */
bool x509_name_has_prefix(cursor name, cursor prefix);

#endif
