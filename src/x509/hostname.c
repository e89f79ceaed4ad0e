/* Host name and IP address matching (RFC 6125 6.4, RFC 9525 6.3,
 * RFC 2818 3.1). */
#include <string.h>

#include "x509/cert.h"
#include "x509/der.h"
#include "x509/x509.h"

static bool parse_v4(const char *s, size_t n, uint8_t out[4]) {
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    unsigned v = 0;
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 4) {
      v = v * 10 + (unsigned)(s[i] - '0');
      i++;
    }
    /* No empty parts, no leading zeros (octal ambiguity), 0..255. */
    if (i == start || i - start > 3 || v > 255 ||
        (s[start] == '0' && i - start > 1)) {
      return false;
    }
    out[part] = (uint8_t)v;
    if (part < 3) {
      if (i >= n || s[i] != '.') {
        return false;
      }
      i++;
    }
  }
  return i == n;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') {
    return ch - '0';
  }
  if (ch >= 'a' && ch <= 'f') {
    return ch - 'a' + 10;
  }
  if (ch >= 'A' && ch <= 'F') {
    return ch - 'A' + 10;
  }
  return -1;
}

/* RFC 4291 2.2 text forms, including "::" and a trailing dotted quad. */
static bool parse_v6(const char *s, size_t n, uint8_t out[16]) {
  uint8_t buf[16];
  size_t len = 0, i = 0;
  int gap = -1;
  if (n >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    i = 2;
    if (i == n) {
      memset(out, 0, 16);
      return true;
    }
  } else if (n > 0 && s[0] == ':') {
    return false;
  }
  while (i < n) {
    /* A trailing IPv4 part. */
    const char *colon = memchr(s + i, ':', n - i);
    size_t group = colon != NULL ? (size_t)(colon - (s + i)) : n - i;
    if (memchr(s + i, '.', group) != NULL) {
      if (len > 12 || !parse_v4(s + i, n - i, buf + len)) {
        return false;
      }
      len += 4;
      i = n;
      break;
    }
    unsigned v = 0;
    size_t start = i;
    while (i < n && hexval(s[i]) >= 0 && i - start < 5) {
      v = (v << 4) | (unsigned)hexval(s[i]);
      i++;
    }
    if (i == start || i - start > 4 || len + 2 > 16) {
      return false;
    }
    buf[len++] = (uint8_t)(v >> 8);
    buf[len++] = (uint8_t)v;
    if (i == n) {
      break;
    }
    if (s[i] != ':') {
      return false;
    }
    i++;
    if (i < n && s[i] == ':') {
      if (gap >= 0) {
        return false; /* at most one "::" */
      }
      gap = (int)len;
      i++;
      if (i == n) {
        break;
      }
    } else if (i == n) {
      return false; /* a trailing single colon */
    }
  }
  if (gap < 0) {
    if (len != 16) {
      return false;
    }
    memcpy(out, buf, 16);
    return true;
  }
  if (len > 14) {
    return false;
  }
  size_t tail = len - (size_t)gap;
  memset(out, 0, 16);
  memcpy(out, buf, (size_t)gap);
  memcpy(out + 16 - tail, buf + gap, tail);
  return true;
}

bool x509_parse_ip(const char *s, uint8_t out[16], size_t *out_len) {
  size_t n = strlen(s);
  if (parse_v4(s, n, out)) {
    *out_len = 4;
    return true;
  }
  if (memchr(s, ':', n) != NULL && parse_v6(s, n, out)) {
    *out_len = 16;
    return true;
  }
  return false;
}

static char lower(char ch) {
  return (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
}

static bool ieq(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

/* A DNS name in preferred syntax (RFC 1034 3.5, with '_' tolerated);
 * allow_wild admits a leftmost "*" label. */
static bool dns_syntax_ok(const char *s, size_t n, bool allow_wild) {
  if (n == 0 || n > 253) {
    return false;
  }
  size_t label = 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (ch == '.') {
      if (label == 0 || s[i - 1] == '-') {
        return false;
      }
      label = 0;
      continue;
    }
    if (ch == '*') {
      if (!allow_wild || i != 0 || n < 2 || s[1] != '.') {
        return false; /* RFC 9525 6.3: the whole leftmost label only */
      }
      label++;
      continue;
    }
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || (ch == '-' && label > 0);
    if (!ok || ++label > 63) {
      return false;
    }
  }
  return label > 0 && s[n - 1] != '-';
}

bool x509_dns_syntax_ok(const uint8_t *name, size_t len) {
  const char *s = (const char *)name;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '_' || s[i] == '\0') {
      return false; /* RFC 1034 3.5: LDH only in certificates */
    }
  }
  return dns_syntax_ok(s, len, true);
}

bool x509_dns_match(const uint8_t *pattern, size_t pattern_len,
                    const char *host) {
  const char *p = (const char *)pattern;
  size_t pn = pattern_len, hn = strlen(host);
  /* RFC 9525 6.3: a trailing dot (absolute name) is ignored on both. */
  if (hn > 0 && host[hn - 1] == '.') {
    hn--;
  }
  if (pn > 0 && p[pn - 1] == '.') {
    pn--;
  }
  if (memchr(p, '\0', pn) != NULL || !dns_syntax_ok(host, hn, false) ||
      !dns_syntax_ok(p, pn, true)) {
    return false;
  }
  if (pn >= 2 && p[0] == '*') {
    /* "*.rest": rest must have at least two labels (no "*.com"), and the
     * wildcard stands for exactly one non-empty label of host. */
    const char *rest = p + 1; /* ".rest" */
    size_t rn = pn - 1;
    if (memchr(rest + 1, '.', rn - 1) == NULL) {
      return false;
    }
    const char *hdot = memchr(host, '.', hn);
    if (hdot == NULL || hdot == host) {
      return false;
    }
    size_t hrest = hn - (size_t)(hdot - host);
    return hrest == rn && ieq(hdot, rest, rn);
  }
  return pn == hn && ieq(p, host, hn);
}

bool x509_cert_matches_host(const uint8_t *der, size_t len,
                            const char *hostname, bool check_common_name) {
  x509_cert c;
  cursor cn;
  return x509_cert_parse(&c, der, len, NULL, 0) == MOAT_OK &&
         x509_host_match(&c, hostname, check_common_name, &cn);
}

bool x509_host_match(const x509_cert *leaf, const char *hostname,
                     bool check_common_name, cursor *out_cn) {
  uint8_t ip[16];
  size_t ip_len;
  *out_cn = cur_make(NULL, 0);
  if (hostname == NULL) {
    return false;
  }
  bool is_ip = x509_parse_ip(hostname, ip, &ip_len);
  bool has_dns = false;
  cursor names = leaf->san, v;
  uint8_t tag;
  while ((leaf->exts & EXT_SAN) && x509_next_general_name(&names, &tag, &v)) {
    if (tag == GN_IP && is_ip) {
      if (cur_equal(&v, ip, ip_len)) {
        return true;
      }
    } else if (tag == GN_DNS) {
      has_dns = true;
      if (!is_ip && x509_dns_match(cur_data(&v), cur_len(&v), hostname)) {
        return true;
      }
    }
  }
  /* RFC 9525 6.3: the CN is a legacy fallback, only when asked for, only
   * without DNS names, and never for IP addresses. */
  if (is_ip || has_dns || !check_common_name) {
    return false;
  }
  cursor rdns, cn;
  cursor subj = leaf->subject;
  if (!cur_asn1(&subj, &rdns, ASN1_SEQUENCE)) {
    return false;
  }
  while (x509_name_next_attr(&rdns, (const uint8_t *)OID_CN, sizeof(OID_CN) - 1,
                             &tag, &cn)) {
    if ((tag == ASN1_UTF8STRING || tag == ASN1_PRINTABLESTRING ||
         tag == ASN1_IA5STRING) &&
        x509_dns_match(cur_data(&cn), cur_len(&cn), hostname)) {
      *out_cn = cn;
      return true;
    }
  }
  return false;
}
