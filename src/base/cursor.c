#include "base/cursor.h"

#include <string.h>

bool cur_skip(cursor *c, size_t n) {
  if (n > c->n) {
    return false;
  }
  c->p += n;
  c->n -= n;
  return true;
}

bool cur_bytes(cursor *c, size_t n, const uint8_t **out) {
  if (n > c->n) {
    return false;
  }
  *out = c->p;
  c->p += n;
  c->n -= n;
  return true;
}

bool cur_sub(cursor *c, size_t n, cursor *child) {
  const uint8_t *p;
  if (!cur_bytes(c, n, &p)) {
    return false;
  }
  child->p = p;
  child->n = n;
  return true;
}

bool cur_copy(cursor *c, uint8_t *out, size_t n) {
  const uint8_t *p;
  if (!cur_bytes(c, n, &p)) {
    return false;
  }
  if (n > 0) {
    memcpy(out, p, n);
  }
  return true;
}

static bool cur_uint(cursor *c, size_t width, uint64_t *out) {
  const uint8_t *p;
  if (!cur_bytes(c, width, &p)) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < width; i++) {
    v = (v << 8) | p[i];
  }
  *out = v;
  return true;
}

bool cur_u8(cursor *c, uint8_t *out) {
  uint64_t v;
  if (!cur_uint(c, 1, &v)) {
    return false;
  }
  *out = (uint8_t)v;
  return true;
}

bool cur_u16(cursor *c, uint16_t *out) {
  uint64_t v;
  if (!cur_uint(c, 2, &v)) {
    return false;
  }
  *out = (uint16_t)v;
  return true;
}

bool cur_u24(cursor *c, uint32_t *out) {
  uint64_t v;
  if (!cur_uint(c, 3, &v)) {
    return false;
  }
  *out = (uint32_t)v;
  return true;
}

bool cur_u32(cursor *c, uint32_t *out) {
  uint64_t v;
  if (!cur_uint(c, 4, &v)) {
    return false;
  }
  *out = (uint32_t)v;
  return true;
}

bool cur_u64(cursor *c, uint64_t *out) {
  return cur_uint(c, 8, out);
}

bool cur_peek_u8(const cursor *c, uint8_t *out) {
  if (c->n == 0) {
    return false;
  }
  *out = c->p[0];
  return true;
}

static bool cur_prefixed(cursor *c, size_t width, cursor *child) {
  cursor save = *c;
  uint64_t len;
  if (!cur_uint(c, width, &len) || !cur_sub(c, (size_t)len, child)) {
    *c = save;
    return false;
  }
  return true;
}

bool cur_prefixed8(cursor *c, cursor *child) {
  return cur_prefixed(c, 1, child);
}
bool cur_prefixed16(cursor *c, cursor *child) {
  return cur_prefixed(c, 2, child);
}
bool cur_prefixed24(cursor *c, cursor *child) {
  return cur_prefixed(c, 3, child);
}

bool cur_equal(const cursor *c, const uint8_t *data, size_t len) {
  return c->n == len && (len == 0 || memcmp(c->p, data, len) == 0);
}

/* X.690 8.1.2-8.1.3 with the DER restrictions of X.690 10.1: the length
 * is definite and uses the fewest octets. */
static bool asn1_header(cursor *c, uint8_t *out_tag, size_t *out_hdr,
                        size_t *out_len) {
  cursor t = *c;
  uint8_t tag, b;
  if (!cur_u8(&t, &tag) || (tag & 0x1f) == 0x1f) {
    return false; /* high tag numbers are not used by moat's formats */
  }
  if (!cur_u8(&t, &b)) {
    return false;
  }
  size_t len;
  if (b < 0x80) {
    len = b;
  } else {
    size_t nbytes = b & 0x7f;
    if (nbytes == 0 || nbytes > 4) {
      return false; /* indefinite (0x80) or absurdly long */
    }
    uint64_t v;
    if (!cur_uint(&t, nbytes, &v)) {
      return false;
    }
    /* minimal: long form only for >= 128, no leading zero octet */
    if (v < 0x80 || (v >> ((nbytes - 1) * 8)) == 0) {
      return false;
    }
    len = (size_t)v;
  }
  if (len > t.n) {
    return false;
  }
  *out_tag = tag;
  *out_hdr = c->n - t.n;
  *out_len = len;
  return true;
}

bool cur_asn1_any(cursor *c, cursor *child, uint8_t *out_tag) {
  uint8_t tag;
  size_t hdr, len;
  if (!asn1_header(c, &tag, &hdr, &len)) {
    return false;
  }
  (void)cur_skip(c, hdr);
  (void)cur_sub(c, len, child);
  if (out_tag != NULL) {
    *out_tag = tag;
  }
  return true;
}

bool cur_asn1(cursor *c, cursor *child, uint8_t tag) {
  cursor save = *c;
  uint8_t got;
  if (!cur_asn1_any(c, child, &got) || got != tag) {
    *c = save;
    return false;
  }
  return true;
}

bool cur_asn1_element(cursor *c, cursor *child, uint8_t tag) {
  uint8_t got;
  size_t hdr, len;
  if (!asn1_header(c, &got, &hdr, &len) || got != tag) {
    return false;
  }
  return cur_sub(c, hdr + len, child);
}

bool cur_peek_asn1(const cursor *c, uint8_t tag) {
  return c->n > 0 && c->p[0] == tag;
}

bool cur_asn1_optional(cursor *c, cursor *child, bool *out_present,
                       uint8_t tag) {
  if (!cur_peek_asn1(c, tag)) {
    *out_present = false;
    return true;
  }
  *out_present = true;
  return cur_asn1(c, child, tag);
}

bool cur_asn1_integer(cursor *c, cursor *out_contents) {
  cursor save = *c;
  cursor v = {0};
  if (!cur_asn1(c, &v, ASN1_INTEGER) || v.n == 0) {
    *c = save;
    return false;
  }
  /* X.690 8.3.2: the first nine bits are not all zero or all one. */
  if (v.n > 1 && ((v.p[0] == 0x00 && (v.p[1] & 0x80) == 0) ||
                  (v.p[0] == 0xff && (v.p[1] & 0x80) != 0))) {
    *c = save;
    return false;
  }
  *out_contents = v;
  return true;
}

bool cur_asn1_u64(cursor *c, uint64_t *out) {
  cursor save = *c;
  cursor v;
  if (!cur_asn1_integer(c, &v) || (v.p[0] & 0x80) != 0) {
    *c = save;
    return false;
  }
  if (v.p[0] == 0x00 && v.n > 1) {
    (void)cur_skip(&v, 1);
  }
  if (v.n > 8) {
    *c = save;
    return false;
  }
  uint64_t x = 0;
  (void)cur_uint(&v, v.n, &x);
  *out = x;
  return true;
}

bool cur_asn1_bool(cursor *c, bool *out) {
  cursor save = *c;
  cursor v = {0};
  uint8_t b;
  if (!cur_asn1(c, &v, ASN1_BOOLEAN) || v.n != 1 || !cur_u8(&v, &b) ||
      (b != 0x00 && b != 0xff)) {
    *c = save;
    return false;
  }
  *out = b == 0xff;
  return true;
}

bool cur_asn1_bitstring_bytes(cursor *c, cursor *out) {
  cursor save = *c;
  cursor v;
  uint8_t unused;
  if (!cur_asn1(c, &v, ASN1_BIT_STRING) || !cur_u8(&v, &unused) ||
      unused != 0) {
    *c = save;
    return false;
  }
  *out = v;
  return true;
}
