/* Certificate parsing (RFC 5280 4.1, 4.2). */
#include "x509/cert.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "x509/der.h"

static moat_err fail(char *detail, size_t cap, const char *what) {
  if (detail != NULL && cap > 0) {
    snprintf(detail, cap, "certificate: %s", what);
  }
  return MOAT_ERR_X509_PARSE;
}

bool x509_hash_alg_parse(cursor *c, hash_id *out) {
  cursor alg, oid, null;
  if (!cur_asn1(c, &alg, ASN1_SEQUENCE) || !der_read_oid(&alg, &oid)) {
    return false;
  }
  if (!cur_done(&alg) && (!cur_asn1(&alg, &null, ASN1_NULL) ||
                          !cur_done(&null) || !cur_done(&alg))) {
    return false;
  }
  if (OID_IS(&oid, OID_SHA256)) {
    *out = HASH_SHA256;
  } else if (OID_IS(&oid, OID_SHA384)) {
    *out = HASH_SHA384;
  } else if (OID_IS(&oid, OID_SHA512)) {
    *out = HASH_SHA512;
  } else if (OID_IS(&oid, OID_SHA1)) {
    *out = HASH_SHA1;
  } else {
    *out = HASH_NONE;
  }
  return true;
}

/* RFC 4055 3.1 RSASSA-PSS-params; defaults (SHA-1) are refused later as
 * weak. */
static bool pss_params_parse(cursor *params, x509_sigalg *out) {
  cursor p, field;
  bool present;
  out->kind = SIG_RSA_PSS;
  out->hash = HASH_SHA1;
  out->mgf1 = HASH_SHA1;
  out->salt_len = 20;
  if (!cur_asn1(params, &p, ASN1_SEQUENCE) || !cur_done(params)) {
    return false;
  }
  if (!cur_asn1_optional(&p, &field, &present, ASN1_CONTEXT_CONS(0))) {
    return false;
  }
  if (present &&
      (!x509_hash_alg_parse(&field, &out->hash) || !cur_done(&field))) {
    return false;
  }
  if (!cur_asn1_optional(&p, &field, &present, ASN1_CONTEXT_CONS(1))) {
    return false;
  }
  if (present) {
    cursor mgf, oid;
    if (!cur_asn1(&field, &mgf, ASN1_SEQUENCE) || !cur_done(&field) ||
        !der_read_oid(&mgf, &oid) || !OID_IS(&oid, OID_MGF1) ||
        !x509_hash_alg_parse(&mgf, &out->mgf1) || !cur_done(&mgf)) {
      return false;
    }
  }
  if (!cur_asn1_optional(&p, &field, &present, ASN1_CONTEXT_CONS(2))) {
    return false;
  }
  if (present) {
    uint64_t salt;
    if (!cur_asn1_u64(&field, &salt) || !cur_done(&field) || salt > 1024) {
      return false;
    }
    out->salt_len = (size_t)salt;
  }
  if (!cur_asn1_optional(&p, &field, &present, ASN1_CONTEXT_CONS(3))) {
    return false;
  }
  if (present) {
    uint64_t trailer;
    /* RFC 4055 3.1: trailerField must be 1 (DER omits the default). */
    if (!cur_asn1_u64(&field, &trailer) || !cur_done(&field) || trailer != 1) {
      return false;
    }
  }
  return cur_done(&p);
}

bool x509_sigalg_parse(cursor alg, x509_sigalg *out) {
  cursor oid;
  memset(out, 0, sizeof(*out));
  if (!der_read_oid(&alg, &oid)) {
    return false;
  }
  static const struct {
    const char *oid;
    size_t len;
    sig_kind kind;
    hash_id hash;
    bool null_params; /* RFC 4055 5: PKCS#1 v1.5 has NULL parameters */
    bool weak;
  } table[] = {
#define E(o, k, h, n, w) {o, sizeof(o) - 1, k, h, n, w}
      E(OID_RSA_SHA256, SIG_RSA_PKCS1, HASH_SHA256, true, false),
      E(OID_RSA_SHA384, SIG_RSA_PKCS1, HASH_SHA384, true, false),
      E(OID_RSA_SHA512, SIG_RSA_PKCS1, HASH_SHA512, true, false),
      E(OID_RSA_SHA1, SIG_RSA_PKCS1, HASH_SHA1, true, true),
      E(OID_RSA_MD5, SIG_RSA_PKCS1, HASH_NONE, true, true),
      E(OID_ECDSA_SHA256, SIG_ECDSA, HASH_SHA256, false, false),
      E(OID_ECDSA_SHA384, SIG_ECDSA, HASH_SHA384, false, false),
      E(OID_ECDSA_SHA512, SIG_ECDSA, HASH_SHA512, false, false),
      E(OID_ECDSA_SHA1, SIG_ECDSA, HASH_SHA1, false, true),
      E(OID_ED25519, SIG_EDDSA, HASH_NONE, false, false),
      E(OID_ED448, SIG_EDDSA, HASH_NONE, false, false),
#undef E
  };
  if (OID_IS(&oid, OID_RSA_PSS)) {
    if (!pss_params_parse(&alg, out)) {
      return false;
    }
    out->known = out->hash != HASH_NONE && out->mgf1 != HASH_NONE;
    out->weak = out->hash == HASH_SHA1 || out->mgf1 == HASH_SHA1;
    return true;
  }
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
    if (!cur_equal(&oid, (const uint8_t *)table[i].oid, table[i].len)) {
      continue;
    }
    if (table[i].null_params) {
      cursor null;
      /* RFC 4055 5: NULL parameters (absent tolerated as many CAs do). */
      if (!cur_done(&alg) &&
          (!cur_asn1(&alg, &null, ASN1_NULL) || !cur_done(&null))) {
        return false;
      }
    }
    if (!cur_done(&alg)) {
      return false; /* RFC 5758 3.2, RFC 8410 3: parameters absent */
    }
    out->known = true;
    out->kind = table[i].kind;
    out->hash = table[i].hash;
    out->weak = table[i].weak;
    out->ed448 = OID_IS(&oid, OID_ED448);
    return true;
  }
  return true; /* unknown algorithm: parses, never verifies */
}

bool x509_parse_key_usage(cursor *c, uint16_t *out) {
  cursor v;
  uint8_t unused;
  if (!cur_asn1(c, &v, ASN1_BIT_STRING) || !cur_u8(&v, &unused) || unused > 7 ||
      cur_len(&v) > 2 || (cur_done(&v) && unused != 0)) {
    return false;
  }
  uint16_t ku = 0;
  for (size_t i = 0; i < cur_len(&v); i++) {
    uint8_t b = cur_data(&v)[i];
    if (i + 1 == cur_len(&v) && (b & ((1u << unused) - 1)) != 0) {
      return false; /* X.690 11.2.1: unused bits are zero */
    }
    for (int bit = 0; bit < 8; bit++) {
      if (b & (0x80 >> bit)) {
        ku |= (uint16_t)(1u << (i * 8 + (size_t)bit));
      }
    }
  }
  *out = ku;
  return true;
}

bool x509_next_general_name(cursor *names, uint8_t *out_tag, cursor *out) {
  uint8_t tag;
  cursor v;
  if (!cur_asn1_any(names, &v, &tag)) {
    return false;
  }
  switch (tag) {
  case GN_OTHER:
  case GN_EMAIL:
  case GN_DNS:
  case GN_X400:
  case GN_EDI:
  case GN_URI:
  case GN_IP:
  case GN_RID:
    break;
  case GN_DIRNAME: {
    /* [4] EXPLICIT Name */
    cursor inner = v, name;
    if (!cur_asn1_element(&inner, &name, ASN1_SEQUENCE) || !cur_done(&inner)) {
      return false;
    }
    v = name;
    break;
  }
  default:
    return false;
  }
  *out_tag = tag;
  *out = v;
  return true;
}

/* GeneralNames: SEQUENCE SIZE (1..MAX) OF GeneralName, each well formed. */
static bool general_names_valid(cursor body) {
  if (cur_done(&body)) {
    return false;
  }
  while (!cur_done(&body)) {
    uint8_t tag;
    cursor v;
    if (!x509_next_general_name(&body, &tag, &v)) {
      return false;
    }
    if (tag == GN_DIRNAME && !x509_name_valid(v)) {
      return false;
    }
    if (tag == GN_IP && cur_len(&v) != 4 && cur_len(&v) != 16) {
      return false;
    }
  }
  return true;
}

static bool subtrees_valid(cursor body) {
  if (cur_done(&body)) {
    return false; /* GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) */
  }
  while (!cur_done(&body)) {
    cursor st, base;
    uint8_t tag;
    if (!cur_asn1(&body, &st, ASN1_SEQUENCE) ||
        !x509_next_general_name(&st, &tag, &base)) {
      return false;
    }
    /* RFC 5280 4.2.1.10: minimum is 0 (omitted), maximum absent. */
    if (!cur_done(&st)) {
      return false;
    }
    if (tag == GN_IP && cur_len(&base) != 8 && cur_len(&base) != 32) {
      return false;
    }
  }
  return true;
}

static bool policies_valid(cursor body) {
  if (cur_done(&body)) {
    return false;
  }
  while (!cur_done(&body)) {
    cursor pi, oid, quals;
    bool present;
    if (!cur_asn1(&body, &pi, ASN1_SEQUENCE) || !der_read_oid(&pi, &oid) ||
        !cur_asn1_optional(&pi, &quals, &present, ASN1_SEQUENCE) ||
        !cur_done(&pi)) {
      return false;
    }
  }
  return true;
}

static bool aia_valid(cursor body) {
  if (cur_done(&body)) {
    return false;
  }
  while (!cur_done(&body)) {
    cursor ad, oid, name;
    uint8_t tag;
    if (!cur_asn1(&body, &ad, ASN1_SEQUENCE) || !der_read_oid(&ad, &oid) ||
        !x509_next_general_name(&ad, &tag, &name) || !cur_done(&ad)) {
      return false;
    }
  }
  return true;
}

static bool crldp_valid(cursor body) {
  if (cur_done(&body)) {
    return false;
  }
  while (!cur_done(&body)) {
    cursor dp, f;
    uint8_t tag;
    if (!cur_asn1(&body, &dp, ASN1_SEQUENCE)) {
      return false;
    }
    while (!cur_done(&dp)) {
      if (!cur_asn1_any(&dp, &f, &tag) ||
          (tag != ASN1_CONTEXT_CONS(0) && tag != ASN1_CONTEXT(1) &&
           tag != ASN1_CONTEXT_CONS(1) && tag != ASN1_CONTEXT_CONS(2))) {
        return false;
      }
    }
  }
  return true;
}

/* One extension's value, by OID.  Returns false when malformed. */
static bool parse_extension(x509_cert *c, const cursor *oid, cursor value,
                            bool critical, bool *out_dup) {
  uint32_t bit = 0;
  bool ok = true;
  cursor v;
  if (OID_IS(oid, OID_EXT_BC)) {
    bit = EXT_BC;
    cursor bc;
    bool present = false;
    c->ca = false;
    c->path_len = -1;
    ok = cur_asn1(&value, &bc, ASN1_SEQUENCE);
    if (ok && cur_peek_asn1(&bc, ASN1_BOOLEAN)) {
      /* DER: DEFAULT FALSE is omitted, so an explicit cA is TRUE. */
      ok = cur_asn1_bool(&bc, &c->ca) && c->ca;
    }
    if (ok && cur_peek_asn1(&bc, ASN1_INTEGER)) {
      uint64_t pl;
      ok = cur_asn1_u64(&bc, &pl);
      c->path_len = ok && pl < 255 ? (int)pl : 255;
      present = true;
    }
    (void)present;
    ok = ok && cur_done(&bc);
  } else if (OID_IS(oid, OID_EXT_KU)) {
    bit = EXT_KU;
    ok = x509_parse_key_usage(&value, &c->key_usage) && c->key_usage != 0;
  } else if (OID_IS(oid, OID_EXT_EKU)) {
    bit = EXT_EKU;
    ok = cur_asn1(&value, &c->eku, ASN1_SEQUENCE) && !cur_done(&c->eku);
    cursor e = c->eku, o;
    while (ok && !cur_done(&e)) {
      ok = der_read_oid(&e, &o);
    }
  } else if (OID_IS(oid, OID_EXT_SAN)) {
    bit = EXT_SAN;
    ok =
        cur_asn1(&value, &c->san, ASN1_SEQUENCE) && general_names_valid(c->san);
  } else if (OID_IS(oid, OID_EXT_IAN)) {
    bit = EXT_IAN;
    ok = cur_asn1(&value, &v, ASN1_SEQUENCE) && general_names_valid(v);
  } else if (OID_IS(oid, OID_EXT_NC)) {
    bit = EXT_NC;
    cursor nc;
    ok = cur_asn1(&value, &nc, ASN1_SEQUENCE) &&
         cur_asn1_optional(&nc, &c->nc_permitted, &c->has_permitted,
                           ASN1_CONTEXT_CONS(0)) &&
         cur_asn1_optional(&nc, &c->nc_excluded, &c->has_excluded,
                           ASN1_CONTEXT_CONS(1)) &&
         cur_done(&nc);
    /* RFC 5280 4.2.1.10: at least one of the two is present. */
    ok = ok && (c->has_permitted || c->has_excluded) &&
         (!c->has_permitted || subtrees_valid(c->nc_permitted)) &&
         (!c->has_excluded || subtrees_valid(c->nc_excluded));
  } else if (OID_IS(oid, OID_EXT_SKI)) {
    bit = EXT_SKI;
    ok = cur_asn1(&value, &c->ski, ASN1_OCTET_STRING);
  } else if (OID_IS(oid, OID_EXT_AKI)) {
    bit = EXT_AKI;
    cursor aki, f;
    bool present;
    ok = cur_asn1(&value, &aki, ASN1_SEQUENCE) &&
         cur_asn1_optional(&aki, &c->aki, &present, ASN1_CONTEXT(0));
    if (ok && !present) {
      c->aki = cur_make(NULL, 0);
    }
    bool p1 = false, p2 = false;
    ok = ok && cur_asn1_optional(&aki, &f, &p1, ASN1_CONTEXT_CONS(1)) &&
         cur_asn1_optional(&aki, &f, &p2, ASN1_CONTEXT(2)) && cur_done(&aki);
    c->aki_extra = p1 || p2;
  } else if (OID_IS(oid, OID_EXT_POLICIES)) {
    bit = EXT_POLICIES;
    ok = cur_asn1(&value, &c->policies, ASN1_SEQUENCE) &&
         policies_valid(c->policies);
  } else if (OID_IS(oid, OID_EXT_AIA)) {
    bit = EXT_AIA;
    ok = cur_asn1(&value, &c->aia, ASN1_SEQUENCE) && aia_valid(c->aia);
  } else if (OID_IS(oid, OID_EXT_CRLDP)) {
    bit = EXT_CRLDP;
    ok = cur_asn1(&value, &c->crldp, ASN1_SEQUENCE) && crldp_valid(c->crldp);
  } else if (OID_IS(oid, OID_EXT_POLICY_MAPPINGS)) {
    bit = EXT_POLICY_MAPPINGS;
    ok = cur_asn1(&value, &v, ASN1_SEQUENCE) && !cur_done(&v);
  } else if (OID_IS(oid, OID_EXT_POLICY_CONSTRAINTS)) {
    bit = EXT_POLICY_CONSTRAINTS;
    ok = cur_asn1(&value, &v, ASN1_SEQUENCE) && !cur_done(&v);
  } else if (OID_IS(oid, OID_EXT_INHIBIT_ANY)) {
    bit = EXT_INHIBIT_ANY;
    uint64_t skip;
    ok = cur_asn1_u64(&value, &skip);
  } else {
    if (critical && !c->unknown_critical) {
      c->unknown_critical = true;
      c->unknown_critical_oid = *oid;
    }
    return true;
  }
  if (c->exts & bit) {
    *out_dup = true;
    return false;
  }
  c->exts |= bit;
  if (critical) {
    c->critical |= bit;
  }
  return ok && cur_done(&value);
}

static moat_err parse_extensions(x509_cert *c, cursor exts, bool lenient,
                                 char *detail, size_t cap) {
  cursor list;
  cursor seen[32];
  size_t nseen = 0;
  if (!cur_asn1(&exts, &list, ASN1_SEQUENCE) || !cur_done(&exts) ||
      cur_done(&list)) {
    return fail(detail, cap, "malformed extensions");
  }
  c->ext_list = list;
  while (!cur_done(&list)) {
    cursor ext, oid, value;
    bool critical = false, dup = false;
    if (!cur_asn1(&list, &ext, ASN1_SEQUENCE) || !der_read_oid(&ext, &oid)) {
      return fail(detail, cap, "malformed extension");
    }
    if (cur_peek_asn1(&ext, ASN1_BOOLEAN) &&
        (!cur_asn1_bool(&ext, &critical) || !critical)) {
      /* X.690 11.5: DEFAULT FALSE is never encoded. */
      return fail(detail, cap, "extension critical flag is not DER");
    }
    if (!cur_asn1(&ext, &value, ASN1_OCTET_STRING) || !cur_done(&ext)) {
      return fail(detail, cap, "malformed extension value");
    }
    /* RFC 5280 4.2: at most one instance of an extension, known or not. */
    for (size_t i = 0; i < nseen; i++) {
      if (cur_len(&seen[i]) == cur_len(&oid) &&
          cur_equal(&seen[i], cur_data(&oid), cur_len(&oid))) {
        return fail(detail, cap, "duplicate extension");
      }
    }
    if (nseen < sizeof(seen) / sizeof(seen[0])) {
      seen[nseen++] = oid;
    }
    x509_cert before;
    if (lenient) {
      before = *c;
    }
    if (!parse_extension(c, &oid, value, critical, &dup)) {
      if (lenient && !dup && !critical) {
        /* as OpenSSL shows such a certificate: without the extension */
        *c = before;
        c->dropped_exts++;
        continue;
      }
      char name[64];
      char msg[128];
      der_oid_text(&oid, name, sizeof(name));
      snprintf(msg, sizeof(msg), "%s extension %s",
               dup ? "duplicate" : "malformed", name);
      return fail(detail, cap, msg);
    }
  }
  return MOAT_OK;
}

static moat_err cert_parse(x509_cert *out, const uint8_t *der, size_t len,
                           bool lenient, char *detail, size_t cap) {
  cursor all = cur_make(der, len), cert, tbs, f;
  bool present;
  memset(out, 0, sizeof(*out));
  out->path_len = -1;
  if (!cur_asn1_element(&all, &out->der, ASN1_SEQUENCE) || !cur_done(&all)) {
    return fail(detail, cap, "not a DER SEQUENCE (or trailing data)");
  }
  cert = out->der;
  if (!cur_asn1(&cert, &f, ASN1_SEQUENCE)) {
    return fail(detail, cap, "malformed Certificate");
  }
  cert = f;
  if (!cur_asn1_element(&cert, &out->tbs, ASN1_SEQUENCE)) {
    return fail(detail, cap, "malformed tbsCertificate");
  }
  cursor sig_alg_body;
  if (!cur_asn1_element(&cert, &out->sig_alg, ASN1_SEQUENCE)) {
    return fail(detail, cap, "malformed signatureAlgorithm");
  }
  sig_alg_body = out->sig_alg;
  (void)cur_asn1(&sig_alg_body, &f, ASN1_SEQUENCE);
  if (!x509_sigalg_parse(f, &out->sig)) {
    return fail(detail, cap, "malformed signatureAlgorithm parameters");
  }
  if (!cur_asn1_bitstring_bytes(&cert, &out->signature) || !cur_done(&cert)) {
    return fail(detail, cap, "malformed signatureValue");
  }

  tbs = out->tbs;
  (void)cur_asn1(&tbs, &f, ASN1_SEQUENCE);
  tbs = f;
  out->version = 1;
  if (!cur_asn1_optional(&tbs, &f, &present, ASN1_CONTEXT_CONS(0))) {
    return fail(detail, cap, "malformed version");
  }
  if (present) {
    uint64_t v;
    /* X.690 11.5: the DEFAULT v1 is never encoded explicitly. */
    if (!cur_asn1_u64(&f, &v) || !cur_done(&f) || v < 1 || v > 2) {
      return fail(detail, cap, "bad version");
    }
    out->version = (int)v + 1;
  }
  if (!cur_asn1_integer(&tbs, &out->serial)) {
    return fail(detail, cap, "malformed serialNumber");
  }
  cursor inner_alg;
  if (!cur_asn1_element(&tbs, &inner_alg, ASN1_SEQUENCE)) {
    return fail(detail, cap, "malformed signature algorithm in tbs");
  }
  /* RFC 5280 4.1.1.2: both copies must be identical. */
  if (cur_len(&inner_alg) != cur_len(&out->sig_alg) ||
      !cur_equal(&inner_alg, cur_data(&out->sig_alg), cur_len(&out->sig_alg))) {
    return fail(detail, cap,
                "signatureAlgorithm differs from tbsCertificate.signature");
  }
  if (!cur_asn1_element(&tbs, &out->issuer, ASN1_SEQUENCE) ||
      !x509_name_valid(out->issuer)) {
    return fail(detail, cap, "malformed issuer");
  }
  cursor validity;
  if (!cur_asn1(&tbs, &validity, ASN1_SEQUENCE) ||
      !der_read_time(&validity, &out->not_before) ||
      !der_read_time(&validity, &out->not_after) || !cur_done(&validity)) {
    return fail(detail, cap, "malformed validity");
  }
  if (!cur_asn1_element(&tbs, &out->subject, ASN1_SEQUENCE) ||
      !x509_name_valid(out->subject)) {
    return fail(detail, cap, "malformed subject");
  }
  cursor spki, alg, oid, key;
  if (!cur_asn1_element(&tbs, &out->spki, ASN1_SEQUENCE)) {
    return fail(detail, cap, "malformed subjectPublicKeyInfo");
  }
  spki = out->spki;
  (void)cur_asn1(&spki, &f, ASN1_SEQUENCE);
  if (!cur_asn1(&f, &alg, ASN1_SEQUENCE) || !der_read_oid(&alg, &oid) ||
      !cur_asn1(&f, &key, ASN1_BIT_STRING) || !cur_done(&f)) {
    return fail(detail, cap, "malformed subjectPublicKeyInfo");
  }
  out->spki_alg = oid;
  if (!cur_asn1_optional(&tbs, &f, &present, ASN1_CONTEXT(1)) ||
      !cur_asn1_optional(&tbs, &f, &present, ASN1_CONTEXT(2))) {
    return fail(detail, cap, "malformed unique identifier");
  }
  if (!cur_asn1_optional(&tbs, &f, &present, ASN1_CONTEXT_CONS(3))) {
    return fail(detail, cap, "malformed extensions");
  }
  if (present) {
    if (out->version != 3) {
      return fail(detail, cap, "extensions in a certificate before v3");
    }
    TRY(parse_extensions(out, f, lenient, detail, cap));
  }
  if (!cur_done(&tbs)) {
    return fail(detail, cap, "trailing data in tbsCertificate");
  }
  return MOAT_OK;
}

moat_err x509_cert_parse(x509_cert *out, const uint8_t *der, size_t len,
                         char *detail, size_t cap) {
  return cert_parse(out, der, len, false, detail, cap);
}

moat_err x509_cert_parse_lenient(x509_cert *out, const uint8_t *der, size_t len,
                                 char *detail, size_t cap) {
  return cert_parse(out, der, len, true, detail, cap);
}

bool x509_cert_has_eku(const x509_cert *c, const uint8_t *oid, size_t len) {
  cursor e = c->eku, o;
  while (!cur_done(&e) && der_read_oid(&e, &o)) {
    if (cur_equal(&o, oid, len)) {
      return true;
    }
  }
  return false;
}

bool x509_cert_self_issued(const x509_cert *c) {
  return x509_name_eq(c->subject, c->issuer);
}
