/* DER helpers: OIDs, times, text (X.690, RFC 5280 4.1.2.5). */
#include "x509/der.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool der_oid_valid(const cursor *oid) {
  cursor c = *oid;
  bool start = true;
  if (cur_done(&c)) {
    return false;
  }
  while (!cur_done(&c)) {
    uint8_t b;
    (void)cur_u8(&c, &b);
    if (start && b == 0x80) {
      return false; /* X.690 8.19.2: no leading 0x80 octet */
    }
    start = (b & 0x80) == 0;
  }
  return start; /* the last subidentifier must be complete */
}

bool der_read_oid(cursor *c, cursor *out) {
  cursor save = *c;
  if (!cur_asn1(c, out, ASN1_OID) || !der_oid_valid(out)) {
    *c = save;
    return false;
  }
  return true;
}

size_t der_oid_text(const cursor *oid, char *out, size_t cap) {
  text_buf tb;
  tb_init(&tb, out, cap);
  cursor c = *oid;
  uint64_t v = 0;
  bool first = true;
  while (!cur_done(&c)) {
    uint8_t b;
    (void)cur_u8(&c, &b);
    if (v > (UINT64_MAX >> 7)) {
      tb_puts(&tb, "?");
      return tb.len;
    }
    v = (v << 7) | (b & 0x7f);
    if (b & 0x80) {
      continue;
    }
    if (first) {
      uint64_t a = v < 40 ? 0 : v < 80 ? 1 : 2;
      tb_printf(&tb, "%llu.%llu", (unsigned long long)a,
                (unsigned long long)(v - a * 40));
      first = false;
    } else {
      tb_printf(&tb, ".%llu", (unsigned long long)v);
    }
    v = 0;
  }
  return tb.len;
}

int64_t der_civil_to_time(int64_t y, unsigned mon, unsigned d, unsigned h,
                          unsigned mi, unsigned s) {
  /* Days from 1970-01-01 in the proleptic Gregorian calendar. */
  y -= mon <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (mon + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + s;
}

static bool digits(cursor *c, size_t n, unsigned *out) {
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t b;
    if (!cur_u8(c, &b) || b < '0' || b > '9') {
      return false;
    }
    v = v * 10 + (unsigned)(b - '0');
  }
  *out = v;
  return true;
}

static bool is_leap(unsigned y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool der_read_time(cursor *c, int64_t *out) {
  cursor save = *c;
  cursor v;
  uint8_t tag;
  unsigned y, mon, d, h, mi, s;
  uint8_t z;
  if (!cur_asn1_any(c, &v, &tag)) {
    return false;
  }
  if (tag == ASN1_UTCTIME && cur_len(&v) == 13) {
    if (!digits(&v, 2, &y)) {
      goto fail;
    }
    y += y >= 50 ? 1900 : 2000; /* RFC 5280 4.1.2.5.1 */
  } else if (tag == ASN1_GENERALIZEDTIME && cur_len(&v) == 15) {
    if (!digits(&v, 4, &y)) {
      goto fail;
    }
  } else {
    goto fail;
  }
  if (!digits(&v, 2, &mon) || !digits(&v, 2, &d) || !digits(&v, 2, &h) ||
      !digits(&v, 2, &mi) || !digits(&v, 2, &s) || !cur_u8(&v, &z) ||
      z != 'Z') {
    goto fail;
  }
  static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
  if (mon < 1 || mon > 12 || d < 1 || d > mdays[mon - 1] ||
      (mon == 2 && d == 29 && !is_leap(y)) || h > 23 || mi > 59 || s > 59) {
    goto fail;
  }
  *out = der_civil_to_time(y, mon, d, h, mi, s);
  return true;
fail:
  *c = save;
  return false;
}

void der_time_text(int64_t t, char *out, size_t cap) {
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t secs = t - days * 86400;
  /* Civil from days (inverse of der_civil_to_time). */
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  snprintf(out, cap, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld UTC",
           (long long)y, (long long)m, (long long)d, (long long)(secs / 3600),
           (long long)(secs / 60 % 60), (long long)(secs % 60));
}

bool der_next_extension(cursor *list, cursor *oid, bool *critical,
                        cursor *value) {
  cursor ext;
  *critical = false;
  return cur_asn1(list, &ext, ASN1_SEQUENCE) && der_read_oid(&ext, oid) &&
         (!cur_peek_asn1(&ext, ASN1_BOOLEAN) ||
          (cur_asn1_bool(&ext, critical) && *critical)) &&
         cur_asn1(&ext, value, ASN1_OCTET_STRING) && cur_done(&ext);
}

bool der_is_string_tag(uint8_t tag) {
  switch (tag) {
  case ASN1_UTF8STRING:
  case ASN1_PRINTABLESTRING:
  case ASN1_T61STRING:
  case ASN1_IA5STRING:
  case ASN1_UNIVERSALSTRING:
  case ASN1_BMPSTRING:
  case 0x12: /* NumericString */
  case 0x1a: /* VisibleString */
    return true;
  default:
    return false;
  }
}

void tb_init(text_buf *tb, char *out, size_t cap) {
  tb->out = out;
  tb->cap = cap;
  tb->len = 0;
  if (cap > 0) {
    out[0] = '\0';
  }
}

void tb_putc(text_buf *tb, char ch) {
  if (tb->len + 1 < tb->cap) {
    tb->out[tb->len] = ch;
    tb->out[tb->len + 1] = '\0';
  }
  tb->len++;
}

void tb_putn(text_buf *tb, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    tb_putc(tb, s[i]);
  }
}

void tb_puts(text_buf *tb, const char *s) {
  tb_putn(tb, s, strlen(s));
}

void tb_printf(text_buf *tb, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n > 0) {
    tb_putn(tb, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
  }
}

void tb_hex(text_buf *tb, const uint8_t *p, size_t n, char sep) {
  static const char hx[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && sep != 0) {
      tb_putc(tb, sep);
    }
    tb_putc(tb, hx[p[i] >> 4]);
    tb_putc(tb, hx[p[i] & 15]);
  }
}
