/* CRL parsing and lookup (RFC 5280 5.1). */
#include "x509/crl.h"

#include <stdio.h>
#include <string.h>

#include "x509/der.h"

static moat_err fail(char *detail, size_t cap, const char *what) {
  if (detail != NULL && cap > 0) {
    snprintf(detail, cap, "CRL: %s", what);
  }
  return MOAT_ERR_X509_PARSE;
}

static bool crl_extensions(x509_crl *out, cursor exts) {
  cursor list;
  if (!cur_asn1(&exts, &list, ASN1_SEQUENCE) || !cur_done(&exts) ||
      cur_done(&list)) {
    return false;
  }
  while (!cur_done(&list)) {
    cursor oid, value;
    bool critical;
    if (!der_next_extension(&list, &oid, &critical, &value)) {
      return false;
    }
    if (OID_IS(&oid, OID_EXT_AKI)) {
      cursor aki;
      bool present;
      if (!cur_asn1(&value, &aki, ASN1_SEQUENCE) ||
          !cur_asn1_optional(&aki, &out->aki, &present, ASN1_CONTEXT(0))) {
        return false;
      }
    } else if (OID_IS(&oid, OID_EXT_CRL_NUMBER)) {
      cursor n;
      if (!cur_asn1_integer(&value, &n) || !cur_done(&value)) {
        return false;
      }
      out->has_number = true;
      out->number_critical = critical;
    } else if (critical) {
      /* RFC 5280 5.2: issuingDistributionPoint, deltaCRLIndicator and
       * anything else critical: moat does not process partitioned or
       * delta CRLs, so such a CRL is not used. */
      out->unknown_critical = true;
    }
  }
  return true;
}

/* crlEntryExtensions: each well formed; none is processed, so any
 * critical one marks the CRL as unusable. */
static bool entry_extensions(x509_crl *out, cursor list) {
  if (cur_done(&list)) {
    return false; /* Extensions ::= SEQUENCE SIZE (1..MAX) */
  }
  while (!cur_done(&list)) {
    cursor oid, value;
    bool critical;
    if (!der_next_extension(&list, &oid, &critical, &value)) {
      return false;
    }
    out->unknown_critical = out->unknown_critical || critical;
  }
  return true;
}

moat_err x509_crl_parse(x509_crl *out, const uint8_t *der, size_t len,
                        char *detail, size_t cap) {
  cursor all = cur_make(der, len), crl, tbs, f, alg_elem, inner_alg;
  bool present;
  memset(out, 0, sizeof(*out));
  if (!cur_asn1_element(&all, &out->der, ASN1_SEQUENCE) || !cur_done(&all)) {
    return fail(detail, cap, "not a DER SEQUENCE (or trailing data)");
  }
  crl = out->der;
  (void)cur_asn1(&crl, &f, ASN1_SEQUENCE);
  crl = f;
  if (!cur_asn1_element(&crl, &out->tbs, ASN1_SEQUENCE) ||
      !cur_asn1_element(&crl, &alg_elem, ASN1_SEQUENCE) ||
      !cur_asn1_bitstring_bytes(&crl, &out->signature) || !cur_done(&crl)) {
    return fail(detail, cap, "malformed CertificateList");
  }
  cursor a = alg_elem;
  (void)cur_asn1(&a, &f, ASN1_SEQUENCE);
  if (!x509_sigalg_parse(f, &out->sig)) {
    return fail(detail, cap, "malformed signatureAlgorithm");
  }
  tbs = out->tbs;
  (void)cur_asn1(&tbs, &f, ASN1_SEQUENCE);
  tbs = f;
  uint64_t version = 0;
  if (cur_peek_asn1(&tbs, ASN1_INTEGER) &&
      (!cur_asn1_u64(&tbs, &version) || version != 1)) {
    return fail(detail, cap, "bad version");
  }
  if (!cur_asn1_element(&tbs, &inner_alg, ASN1_SEQUENCE) ||
      !cur_equal(&inner_alg, cur_data(&alg_elem), cur_len(&alg_elem))) {
    return fail(detail, cap, "signature algorithms differ");
  }
  if (!cur_asn1_element(&tbs, &out->issuer, ASN1_SEQUENCE) ||
      !x509_name_valid(out->issuer)) {
    return fail(detail, cap, "malformed issuer");
  }
  if (!der_read_time(&tbs, &out->this_update)) {
    return fail(detail, cap, "malformed thisUpdate");
  }
  if (cur_peek_asn1(&tbs, ASN1_UTCTIME) ||
      cur_peek_asn1(&tbs, ASN1_GENERALIZEDTIME)) {
    if (!der_read_time(&tbs, &out->next_update)) {
      return fail(detail, cap, "malformed nextUpdate");
    }
    out->has_next_update = true;
  }
  if (!cur_asn1_optional(&tbs, &out->revoked, &present, ASN1_SEQUENCE)) {
    return fail(detail, cap, "malformed revokedCertificates");
  }
  cursor r = out->revoked;
  while (!cur_done(&r)) {
    cursor e, serial, ext;
    int64_t when;
    if (!cur_asn1(&r, &e, ASN1_SEQUENCE) || !cur_asn1_integer(&e, &serial) ||
        !der_read_time(&e, &when) ||
        !cur_asn1_optional(&e, &ext, &present, ASN1_SEQUENCE) ||
        !cur_done(&e)) {
      return fail(detail, cap, "malformed revoked entry");
    }
    /* RFC 5280 5.3: a critical entry extension moat does not process
     * (certificateIssuer of an indirect CRL, ...) makes the CRL unusable
     * for every certificate. */
    if (present && (version != 1 || !entry_extensions(out, ext))) {
      return fail(detail, cap, "malformed revoked entry extensions");
    }
  }
  if (!cur_asn1_optional(&tbs, &f, &present, ASN1_CONTEXT_CONS(0))) {
    return fail(detail, cap, "malformed crlExtensions");
  }
  if (present && (version != 1 || !crl_extensions(out, f))) {
    return fail(detail, cap, "malformed crlExtensions");
  }
  if (!cur_done(&tbs)) {
    return fail(detail, cap, "trailing data in tbsCertList");
  }
  return MOAT_OK;
}

bool x509_crl_lists(const x509_crl *crl, cursor serial, int64_t *out_date) {
  cursor r = crl->revoked;
  while (!cur_done(&r)) {
    cursor e, s;
    int64_t when;
    if (!cur_asn1(&r, &e, ASN1_SEQUENCE) || !cur_asn1_integer(&e, &s) ||
        !der_read_time(&e, &when)) {
      return false;
    }
    if (cur_len(&s) == cur_len(&serial) &&
        cur_equal(&s, cur_data(&serial), cur_len(&serial))) {
      *out_date = when;
      return true;
    }
  }
  return false;
}
