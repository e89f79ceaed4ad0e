/* Distinguished names (RFC 5280 4.1.2.4, 7.1): structure checks,
 * comparison, hashing and text. */
#include <string.h>

#include "x509/cert.h"
#include "x509/der.h"

bool x509_name_valid(cursor name) {
  cursor rdns, rdn, ava, oid, value;
  uint8_t tag;
  if (!cur_asn1(&name, &rdns, ASN1_SEQUENCE) || !cur_done(&name)) {
    return false;
  }
  while (!cur_done(&rdns)) {
    /* RelativeDistinguishedName ::= SET SIZE (1..MAX) */
    if (!cur_asn1(&rdns, &rdn, ASN1_SET) || cur_done(&rdn)) {
      return false;
    }
    while (!cur_done(&rdn)) {
      if (!cur_asn1(&rdn, &ava, ASN1_SEQUENCE) || !der_read_oid(&ava, &oid) ||
          !cur_asn1_any(&ava, &value, &tag) || !cur_done(&ava)) {
        return false;
      }
    }
  }
  return true;
}

bool x509_name_empty(cursor name) {
  cursor rdns;
  return !cur_asn1(&name, &rdns, ASN1_SEQUENCE) || cur_done(&rdns);
}

/* Directory strings compared by RFC 4518-like folding: ASCII case,
 * leading/trailing space removed, inner runs of space collapsed. */
static bool foldable(uint8_t tag) {
  return tag == ASN1_UTF8STRING || tag == ASN1_PRINTABLESTRING ||
         tag == ASN1_IA5STRING || tag == ASN1_T61STRING;
}

/* Next folded character of a string value, or -1 at the end. */
typedef struct fold_iter {
  cursor c;
  bool pending_space;
  bool started;
} fold_iter;

static void fold_init(fold_iter *it, cursor v) {
  it->c = v;
  it->pending_space = false;
  it->started = false;
}

static int fold_next(fold_iter *it) {
  uint8_t b;
  while (cur_peek_u8(&it->c, &b)) {
    if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
      (void)cur_skip(&it->c, 1);
      it->pending_space = it->started;
      continue;
    }
    if (it->pending_space) {
      it->pending_space = false; /* the collapsed run, then b next time */
      return ' ';
    }
    (void)cur_skip(&it->c, 1);
    it->started = true;
    return (b >= 'A' && b <= 'Z') ? b + 32 : b;
  }
  return -1;
}

static bool value_eq(uint8_t ta, cursor a, uint8_t tb, cursor b) {
  if (ta == tb && cur_len(&a) == cur_len(&b) &&
      cur_equal(&a, cur_data(&b), cur_len(&b))) {
    return true;
  }
  if (!foldable(ta) || !foldable(tb)) {
    return false;
  }
  fold_iter x, y;
  fold_init(&x, a);
  fold_init(&y, b);
  for (;;) {
    int p = fold_next(&x), q = fold_next(&y);
    if (p != q) {
      return false;
    }
    if (p < 0) {
      return true;
    }
  }
}

static bool rdn_eq(cursor a, cursor b) {
  /* Multi-valued RDNs are compared in order (DER sorts SET OF). */
  while (!cur_done(&a) && !cur_done(&b)) {
    cursor x, y, ox, oy, vx, vy;
    uint8_t tx, ty;
    if (!cur_asn1(&a, &x, ASN1_SEQUENCE) || !cur_asn1(&b, &y, ASN1_SEQUENCE) ||
        !cur_asn1(&x, &ox, ASN1_OID) || !cur_asn1(&y, &oy, ASN1_OID) ||
        !cur_asn1_any(&x, &vx, &tx) || !cur_asn1_any(&y, &vy, &ty)) {
      return false;
    }
    if (!cur_equal(&ox, cur_data(&oy), cur_len(&oy)) ||
        !value_eq(tx, vx, ty, vy)) {
      return false;
    }
  }
  return cur_done(&a) && cur_done(&b);
}

/* Compares the first n RDNs of a with all of prefix's (n = prefix's
 * count); exact says whether a must have no more. */
static bool rdns_match(cursor a, cursor b, bool exact) {
  cursor ra, rb;
  if (!cur_asn1(&a, &ra, ASN1_SEQUENCE) || !cur_asn1(&b, &rb, ASN1_SEQUENCE)) {
    return false;
  }
  while (!cur_done(&rb)) {
    cursor x, y;
    if (!cur_asn1(&ra, &x, ASN1_SET) || !cur_asn1(&rb, &y, ASN1_SET) ||
        !rdn_eq(x, y)) {
      return false;
    }
  }
  return !exact || cur_done(&ra);
}

bool x509_name_eq(cursor a, cursor b) {
  if (cur_len(&a) == cur_len(&b) && cur_equal(&a, cur_data(&b), cur_len(&b))) {
    return true;
  }
  return rdns_match(a, b, true);
}

bool x509_name_has_prefix(cursor name, cursor prefix) {
  return rdns_match(name, prefix, false);
}

uint64_t x509_name_hash(cursor name) {
  /* FNV-1a over OIDs and folded values, consistent with x509_name_eq. */
  uint64_t h = 1469598103934665603ull;
  cursor rdns, rdn, ava, oid, v;
  uint8_t tag;
  if (!cur_asn1(&name, &rdns, ASN1_SEQUENCE)) {
    return h;
  }
  while (cur_asn1(&rdns, &rdn, ASN1_SET)) {
    while (cur_asn1(&rdn, &ava, ASN1_SEQUENCE)) {
      if (!cur_asn1(&ava, &oid, ASN1_OID) || !cur_asn1_any(&ava, &v, &tag)) {
        return h;
      }
      for (size_t i = 0; i < cur_len(&oid); i++) {
        h = (h ^ cur_data(&oid)[i]) * 1099511628211ull;
      }
      if (foldable(tag)) {
        fold_iter it;
        int ch;
        fold_init(&it, v);
        while ((ch = fold_next(&it)) >= 0) {
          h = (h ^ (uint8_t)ch) * 1099511628211ull;
        }
      } else {
        h = (h ^ tag) * 1099511628211ull;
        for (size_t i = 0; i < cur_len(&v); i++) {
          h = (h ^ cur_data(&v)[i]) * 1099511628211ull;
        }
      }
      h = (h ^ 0x1ff) * 1099511628211ull;
    }
    h = (h ^ 0x2ff) * 1099511628211ull;
  }
  return h;
}

bool x509_name_next_attr(cursor *pos, const uint8_t *oid, size_t oid_len,
                         uint8_t *out_tag, cursor *out_value) {
  /* pos walks RDNs and moves past an RDN once it is scanned: of a
   * multi-valued RDN only the first value of the type is returned.  The
   * host-name check and the name constraints both read CNs this way, so
   * they see the same names. */
  cursor rdn, ava, o, v;
  uint8_t tag;
  while (cur_asn1(pos, &rdn, ASN1_SET)) {
    while (cur_asn1(&rdn, &ava, ASN1_SEQUENCE)) {
      if (cur_asn1(&ava, &o, ASN1_OID) && cur_asn1_any(&ava, &v, &tag) &&
          cur_equal(&o, oid, oid_len)) {
        *out_tag = tag;
        *out_value = v;
        return true;
      }
    }
  }
  return false;
}

static const char *attr_short_name(const cursor *oid) {
  static const struct {
    const char *oid;
    size_t len;
    const char *name;
  } names[] = {
#define N(o, n) {o, sizeof(o) - 1, n}
      N(OID_CN, "CN"),
      N(OID_C, "C"),
      N(OID_O, "O"),
      N(OID_OU, "OU"),
      N(OID_L, "L"),
      N(OID_ST, "ST"),
      N(OID_STREET, "street"),
      N(OID_SN, "SN"),
      N(OID_GN, "GN"),
      N(OID_TITLE, "title"),
      N(OID_SERIALNUMBER, "serialNumber"),
      N(OID_EMAIL, "emailAddress"),
      N(OID_DC, "DC"),
      N(OID_UID, "UID"),
#undef N
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (cur_equal(oid, (const uint8_t *)names[i].oid, names[i].len)) {
      return names[i].name;
    }
  }
  return NULL;
}

static void value_text(text_buf *tb, uint8_t tag, cursor v) {
  if (!der_is_string_tag(tag) || tag == ASN1_BMPSTRING ||
      tag == ASN1_UNIVERSALSTRING) {
    tb_putc(tb, '#');
    tb_hex(tb, cur_data(&v), cur_len(&v), 0);
    return;
  }
  for (size_t i = 0; i < cur_len(&v); i++) {
    uint8_t b = cur_data(&v)[i];
    if (b == ',' || b == '+' || b == '\\' || b == '"' || b == '=' || b == '<' ||
        b == '>' || b == ';') {
      tb_putc(tb, '\\');
      tb_putc(tb, (char)b);
    } else if (b < 0x20 || b == 0x7f || (b >= 0x80 && tag != ASN1_UTF8STRING)) {
      tb_printf(tb, "\\%02X", b);
    } else {
      tb_putc(tb, (char)b);
    }
  }
}

size_t x509_name_text(cursor name, char *out, size_t cap) {
  text_buf tb;
  cursor rdns, rdn, ava, oid, v;
  uint8_t tag;
  tb_init(&tb, out, cap);
  if (!cur_asn1(&name, &rdns, ASN1_SEQUENCE)) {
    return tb.len;
  }
  bool first_rdn = true;
  while (cur_asn1(&rdns, &rdn, ASN1_SET)) {
    bool first_ava = true;
    if (!first_rdn) {
      tb_puts(&tb, ", ");
    }
    first_rdn = false;
    while (cur_asn1(&rdn, &ava, ASN1_SEQUENCE)) {
      if (!cur_asn1(&ava, &oid, ASN1_OID) || !cur_asn1_any(&ava, &v, &tag)) {
        return tb.len;
      }
      if (!first_ava) {
        tb_putc(&tb, '+');
      }
      first_ava = false;
      const char *sn = attr_short_name(&oid);
      if (sn != NULL) {
        tb_puts(&tb, sn);
      } else {
        char dotted[64];
        der_oid_text(&oid, dotted, sizeof(dotted));
        tb_puts(&tb, dotted);
      }
      tb_putc(&tb, '=');
      value_text(&tb, tag, v);
    }
  }
  return tb.len;
}
