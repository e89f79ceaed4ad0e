/* Structured certificate details (moat.h "certificate details"): names as
 * RDN sequences of typed attributes, typed subjectAltName entries,
 * authorityInfoAccess and CRL distribution points.  Everything reads the
 * certificate's DER through the bounded cursor. */
#include <stdio.h>
#include <string.h>

#include "x509/cert.h"
#include "x509/cert_api.h"
#include "x509/der.h"

int moat_cert_version(const moat_cert *cert) {
  return cert->c.version;
}

bool moat_cert_is_ca(const moat_cert *cert) {
  return (cert->c.exts & EXT_BC) && cert->c.ca;
}

void moat_cert_subject_der(const moat_cert *cert, const uint8_t **out_der,
                           size_t *out_len) {
  *out_der = cur_data(&cert->c.subject);
  *out_len = cur_len(&cert->c.subject);
}

void moat_cert_issuer_der(const moat_cert *cert, const uint8_t **out_der,
                          size_t *out_len) {
  *out_der = cur_data(&cert->c.issuer);
  *out_len = cur_len(&cert->c.issuer);
}

/* Appends code point cp as UTF-8. */
static void put_utf8(text_buf *tb, uint32_t cp) {
  if (cp < 0x80) {
    tb_putc(tb, (char)cp);
  } else if (cp < 0x800) {
    tb_putc(tb, (char)(0xc0 | cp >> 6));
    tb_putc(tb, (char)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    tb_putc(tb, (char)(0xe0 | cp >> 12));
    tb_putc(tb, (char)(0x80 | ((cp >> 6) & 0x3f)));
    tb_putc(tb, (char)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x110000) {
    tb_putc(tb, (char)(0xf0 | cp >> 18));
    tb_putc(tb, (char)(0x80 | ((cp >> 12) & 0x3f)));
    tb_putc(tb, (char)(0x80 | ((cp >> 6) & 0x3f)));
    tb_putc(tb, (char)(0x80 | (cp & 0x3f)));
  } else {
    tb_puts(tb, "\xef\xbf\xbd"); /* U+FFFD */
  }
}

/* A directory string as UTF-8: UTF8String as it is, BMPString and
 * UniversalString decoded, the 8-bit types read as Latin-1, anything else
 * as "#" and hex (RFC 4514 2.4). */
static void value_utf8(text_buf *tb, uint8_t tag, cursor v) {
  const uint8_t *p = cur_data(&v);
  size_t n = cur_len(&v);
  switch (tag) {
  case ASN1_UTF8STRING:
    tb_putn(tb, (const char *)p, n);
    return;
  case ASN1_BMPSTRING:
    for (size_t i = 0; i + 1 < n; i += 2) {
      put_utf8(tb, (uint32_t)p[i] << 8 | p[i + 1]);
    }
    return;
  case ASN1_UNIVERSALSTRING:
    for (size_t i = 0; i + 3 < n; i += 4) {
      put_utf8(tb, (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
                       (uint32_t)p[i + 2] << 8 | p[i + 3]);
    }
    return;
  default:
    if (der_is_string_tag(tag)) {
      for (size_t i = 0; i < n; i++) {
        put_utf8(tb, p[i]);
      }
      return;
    }
    tb_putc(tb, '#');
    tb_hex(tb, p, n, 0);
    return;
  }
}

/* Walks the attributes of a Name element; calls back for the index-th.
 * Returns how many there are. */
static size_t name_walk(const uint8_t *name, size_t len, size_t want,
                        moat_name_attr *out, bool *out_found) {
  cursor c = cur_make(name, len), rdns, rdn, ava, oid, v;
  size_t count = 0, rdn_index = 0;
  uint8_t tag;
  *out_found = false;
  if (!cur_asn1(&c, &rdns, ASN1_SEQUENCE)) {
    return 0;
  }
  while (!cur_done(&rdns)) {
    if (!cur_asn1(&rdns, &rdn, ASN1_SET)) {
      return count;
    }
    while (!cur_done(&rdn)) {
      if (!cur_asn1(&rdn, &ava, ASN1_SEQUENCE) ||
          !cur_asn1(&ava, &oid, ASN1_OID) || !cur_asn1_any(&ava, &v, &tag)) {
        return count;
      }
      if (count == want && out != NULL) {
        text_buf tb;
        out->rdn = rdn_index;
        der_oid_text(&oid, out->oid, sizeof(out->oid));
        const moat_oid_info *info = moat_oid_by_dotted(out->oid);
        out->long_name = info ? info->long_name : NULL;
        out->short_name = info ? info->short_name : NULL;
        tb_init(&tb, out->value, sizeof(out->value));
        value_utf8(&tb, tag, v);
        out->value_len =
            tb.len < sizeof(out->value) ? tb.len : sizeof(out->value) - 1;
        *out_found = true;
      }
      count++;
    }
    rdn_index++;
  }
  return count;
}

size_t moat_name_num_attrs(const uint8_t *name, size_t len) {
  bool found;
  return name_walk(name, len, (size_t)-1, NULL, &found);
}

moat_err moat_name_attr_at(const uint8_t *name, size_t len, size_t index,
                           moat_name_attr *out) {
  bool found;
  memset(out, 0, sizeof(*out));
  (void)name_walk(name, len, index, out, &found);
  return found ? MOAT_OK : MOAT_ERR_INVALID_ARGUMENT;
}

static moat_gn_type gn_type(uint8_t tag) {
  switch (tag) {
  case GN_OTHER:
    return MOAT_GN_OTHER;
  case GN_EMAIL:
    return MOAT_GN_EMAIL;
  case GN_DNS:
    return MOAT_GN_DNS;
  case GN_X400:
    return MOAT_GN_X400;
  case GN_DIRNAME:
    return MOAT_GN_DIRNAME;
  case GN_EDI:
    return MOAT_GN_EDI;
  case GN_URI:
    return MOAT_GN_URI;
  case GN_IP:
    return MOAT_GN_IP;
  case GN_RID:
    return MOAT_GN_RID;
  default:
    return MOAT_GN_OTHER;
  }
}

moat_err moat_cert_san_at(const moat_cert *cert, size_t index,
                          moat_general_name *out) {
  cursor names = cert->c.san, v;
  uint8_t tag;
  if (!(cert->c.exts & EXT_SAN)) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  while (x509_next_general_name(&names, &tag, &v)) {
    if (index-- > 0) {
      continue;
    }
    out->type = gn_type(tag);
    out->data = cur_data(&v);
    out->len = cur_len(&v);
    return MOAT_OK;
  }
  return MOAT_ERR_INVALID_ARGUMENT;
}

/* RFC 5280 4.2.2.1: AuthorityInfoAccessSyntax ::= SEQUENCE OF
 * AccessDescription { accessMethod OID, accessLocation GeneralName }. */
moat_err moat_cert_aia_at(const moat_cert *cert, size_t index,
                          moat_aia_method *out_method,
                          moat_general_name *out_location) {
  if (!(cert->c.exts & EXT_AIA)) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  cursor list = cert->c.aia, ad, oid, one, v;
  uint8_t tag;
  while (!cur_done(&list)) {
    if (!cur_asn1(&list, &ad, ASN1_SEQUENCE) ||
        !cur_asn1(&ad, &oid, ASN1_OID)) {
      return MOAT_ERR_X509_PARSE;
    }
    one = ad;
    if (!x509_next_general_name(&one, &tag, &v)) {
      return MOAT_ERR_X509_PARSE;
    }
    if (index-- > 0) {
      continue;
    }
    *out_method = OID_IS(&oid, OID_AD_OCSP)         ? MOAT_AIA_OCSP
                  : OID_IS(&oid, OID_AD_CA_ISSUERS) ? MOAT_AIA_CA_ISSUERS
                                                    : MOAT_AIA_OTHER;
    out_location->type = gn_type(tag);
    out_location->data = cur_data(&v);
    out_location->len = cur_len(&v);
    return MOAT_OK;
  }
  return MOAT_ERR_INVALID_ARGUMENT;
}

/* RFC 5280 4.2.1.13: DistributionPoint ::= SEQUENCE {
 *   distributionPoint [0] { fullName [0] GeneralNames | ... } OPTIONAL, ...}
 * The index-th name of all the fullName lists, in order. */
moat_err moat_cert_crldp_at(const moat_cert *cert, size_t index,
                            moat_general_name *out) {
  if (!(cert->c.exts & EXT_CRLDP)) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  cursor list = cert->c.crldp, dp, dpn, full, v;
  uint8_t tag;
  bool present;
  while (!cur_done(&list)) {
    if (!cur_asn1(&list, &dp, ASN1_SEQUENCE)) {
      return MOAT_ERR_X509_PARSE;
    }
    if (!cur_asn1_optional(&dp, &dpn, &present, ASN1_CONTEXT_CONS(0))) {
      return MOAT_ERR_X509_PARSE;
    }
    if (!present) {
      continue;
    }
    if (!cur_asn1_optional(&dpn, &full, &present, ASN1_CONTEXT_CONS(0))) {
      return MOAT_ERR_X509_PARSE;
    }
    if (!present) {
      continue; /* nameRelativeToCRLIssuer */
    }
    while (x509_next_general_name(&full, &tag, &v)) {
      if (index-- > 0) {
        continue;
      }
      out->type = gn_type(tag);
      out->data = cur_data(&v);
      out->len = cur_len(&v);
      return MOAT_OK;
    }
  }
  return MOAT_ERR_INVALID_ARGUMENT;
}

/* ---- extensions and the signature algorithm -------------------------------*/

static const struct {
  const char *oid;
  const char *name;
} known_exts[] = {
    {OID_EXT_SKI, "subjectKeyIdentifier"},
    {OID_EXT_KU, "keyUsage"},
    {OID_EXT_SAN, "subjectAltName"},
    {OID_EXT_IAN, "issuerAltName"},
    {OID_EXT_BC, "basicConstraints"},
    {OID_EXT_NC, "nameConstraints"},
    {OID_EXT_CRLDP, "cRLDistributionPoints"},
    {OID_EXT_POLICIES, "certificatePolicies"},
    {OID_EXT_POLICY_MAPPINGS, "policyMappings"},
    {OID_EXT_AKI, "authorityKeyIdentifier"},
    {OID_EXT_POLICY_CONSTRAINTS, "policyConstraints"},
    {OID_EXT_EKU, "extKeyUsage"},
    {OID_EXT_INHIBIT_ANY, "inhibitAnyPolicy"},
    {OID_EXT_AIA, "authorityInfoAccess"},
};

/* The index-th extension's OID and critical flag (the list was checked
 * when the certificate was parsed). */
static bool ext_at(const moat_cert *cert, size_t index, cursor *out_oid,
                   bool *out_critical) {
  cursor list = cert->c.ext_list;
  for (size_t i = 0; !cur_done(&list); i++) {
    cursor ext, oid;
    bool critical = false;
    if (!cur_asn1(&list, &ext, ASN1_SEQUENCE) || !der_read_oid(&ext, &oid)) {
      return false;
    }
    if (cur_peek_asn1(&ext, ASN1_BOOLEAN) && !cur_asn1_bool(&ext, &critical)) {
      return false;
    }
    if (i == index) {
      *out_oid = oid;
      *out_critical = critical;
      return true;
    }
  }
  return false;
}

size_t moat_cert_num_extensions(const moat_cert *cert) {
  size_t n = 0;
  cursor oid;
  bool critical;
  while (ext_at(cert, n, &oid, &critical)) {
    n++;
  }
  return n;
}

moat_err moat_cert_extension_at(const moat_cert *cert, size_t index,
                                char *oid_out, size_t oid_cap,
                                const char **out_name, bool *out_critical) {
  cursor oid;
  bool critical = false;
  if (!ext_at(cert, index, &oid, &critical)) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  der_oid_text(&oid, oid_out, oid_cap);
  *out_name = NULL;
  for (size_t i = 0; i < sizeof(known_exts) / sizeof(known_exts[0]); i++) {
    if (cur_equal(&oid, (const uint8_t *)known_exts[i].oid,
                  strlen(known_exts[i].oid))) {
      *out_name = known_exts[i].name;
    }
  }
  *out_critical = critical;
  return MOAT_OK;
}

static const char *hash_text(hash_id h) {
  switch (h) {
  case HASH_SHA1:
    return "SHA-1";
  case HASH_SHA256:
    return "SHA-256";
  case HASH_SHA384:
    return "SHA-384";
  case HASH_SHA512:
    return "SHA-512";
  default:
    return "?";
  }
}

size_t moat_cert_signature_name(const moat_cert *cert, char *out, size_t cap) {
  const x509_sigalg *a = &cert->c.sig;
  char oid[96] = "";
  int n;
  cursor alg = cert->c.sig_alg, body, o;
  if (!a->known && cur_asn1(&alg, &body, ASN1_SEQUENCE) &&
      der_read_oid(&body, &o)) {
    der_oid_text(&o, oid, sizeof(oid));
  }
  if (!a->known) {
    n = snprintf(out, cap, "unsupported algorithm %s", oid[0] ? oid : "?");
  } else if (a->kind == SIG_EDDSA) {
    n = snprintf(out, cap, "%s", a->ed448 ? "Ed448" : "Ed25519");
  } else if (a->kind == SIG_RSA_PSS) {
    n = snprintf(out, cap, "RSASSA-PSS with %s (MGF1 %s, salt %zu)",
                 hash_text(a->hash), hash_text(a->mgf1), a->salt_len);
  } else {
    n = snprintf(out, cap, "%s with %s",
                 a->kind == SIG_ECDSA ? "ECDSA" : "RSA PKCS#1 v1.5",
                 hash_text(a->hash));
  }
  if (a->weak && n >= 0 && (size_t)n < cap) {
    n += snprintf(out + n, cap - (size_t)n, " (weak hash: refused)");
  }
  return n < 0 ? 0 : (size_t)n;
}

static void text_eku(const x509_cert *c, text_buf *tb) {
  cursor e = c->eku, oid;
  char text[64];
  const char *sep = "";
  while (der_read_oid(&e, &oid)) {
    tb_puts(tb, sep);
    sep = " ";
    if (OID_IS(&oid, OID_EKU_SERVER)) {
      tb_puts(tb, "serverAuth");
    } else if (OID_IS(&oid, OID_EKU_CLIENT)) {
      tb_puts(tb, "clientAuth");
    } else if (OID_IS(&oid, OID_EKU_ANY)) {
      tb_puts(tb, "anyExtendedKeyUsage");
    } else {
      der_oid_text(&oid, text, sizeof(text));
      tb_puts(tb, text);
    }
  }
}

static void text_ku(uint16_t ku, text_buf *tb) {
  static const char *const names[] = {
      "digitalSignature", "nonRepudiation", "keyEncipherment",
      "dataEncipherment", "keyAgreement",   "keyCertSign",
      "cRLSign",          "encipherOnly",   "decipherOnly"};
  const char *sep = "";
  for (int i = 0; i < 9; i++) {
    if (ku & (1u << i)) {
      tb_puts(tb, sep);
      tb_puts(tb, names[i]);
      sep = " ";
    }
  }
}

size_t moat_cert_extension_text(const moat_cert *cert, size_t index, char *out,
                                size_t cap) {
  const x509_cert *c = &cert->c;
  cursor oid;
  bool critical;
  text_buf tb;
  tb_init(&tb, out, cap);
  if (!ext_at(cert, index, &oid, &critical)) {
    return 0;
  }
  if (OID_IS(&oid, OID_EXT_BC)) {
    tb_printf(&tb, "CA:%s", c->ca ? "TRUE" : "FALSE");
    if (c->path_len >= 0) {
      tb_printf(&tb, ", pathlen:%d", c->path_len);
    }
  } else if (OID_IS(&oid, OID_EXT_KU)) {
    text_ku(c->key_usage, &tb);
  } else if (OID_IS(&oid, OID_EXT_EKU)) {
    text_eku(c, &tb);
  } else if (OID_IS(&oid, OID_EXT_NC)) {
    tb_printf(&tb, "%s%s%s", c->has_permitted ? "permitted" : "",
              c->has_permitted && c->has_excluded ? " " : "",
              c->has_excluded ? "excluded" : "");
  } else if (OID_IS(&oid, OID_EXT_SKI)) {
    tb_hex(&tb, cur_data(&c->ski), cur_len(&c->ski), ':');
  } else if (OID_IS(&oid, OID_EXT_AKI)) {
    tb_hex(&tb, cur_data(&c->aki), cur_len(&c->aki), ':');
  }
  return tb.len;
}
