/* Name constraints (RFC 5280 4.2.1.10, 6.1.3 (b)-(c)). */
#include <string.h>

#include "x509/cert.h"
#include "x509/der.h"
#include "x509/nc.h"

static char lower(uint8_t ch) {
  return (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : (char)ch;
}

static bool ieq(const uint8_t *a, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

/* name within the DNS subtree c: equal, or c's labels added to on the
 * left; a leading "." in c means strictly below it. */
static bool dns_within(const uint8_t *n, size_t nl, const uint8_t *c,
                       size_t cl) {
  if (nl > 0 && n[nl - 1] == '.') {
    nl--;
  }
  if (cl == 0) {
    return true;
  }
  if (c[0] == '.') {
    return nl > cl && ieq(n + nl - cl, c, cl);
  }
  if (nl == cl) {
    return ieq(n, c, cl);
  }
  return nl > cl && n[nl - cl - 1] == '.' && ieq(n + nl - cl, c, cl);
}

/* For excluded subtrees: could the wildcard name "*.R" stand for a name in
 * subtree c?  True when c is "L.R" for one label L. */
static bool wildcard_hits(const uint8_t *n, size_t nl, const uint8_t *c,
                          size_t cl) {
  if (nl < 3 || n[0] != '*' || n[1] != '.' || cl == 0 || c[0] == '.') {
    return false;
  }
  const uint8_t *dot = memchr(c, '.', cl);
  if (dot == NULL) {
    return false;
  }
  size_t rest = cl - (size_t)(dot - c); /* ".R" */
  return rest == nl - 1 && ieq(dot, n + 1, rest);
}

static bool email_within(cursor name, cursor c) {
  const uint8_t *n = cur_data(&name), *cp = cur_data(&c);
  size_t nl = cur_len(&name), cl = cur_len(&c);
  const uint8_t *at = memchr(n, '@', nl);
  if (at == NULL) {
    return false;
  }
  if (memchr(cp, '@', cl) != NULL) {
    /* A whole mailbox: local part exact, host case-insensitive. */
    const uint8_t *cat = memchr(cp, '@', cl);
    size_t loc = (size_t)(at - n), cloc = (size_t)(cat - cp);
    return loc == cloc && memcmp(n, cp, loc) == 0 && nl - loc == cl - cloc &&
           ieq(at, cat, nl - loc);
  }
  const uint8_t *host = at + 1;
  size_t hl = nl - (size_t)(host - n);
  if (cl > 0 && cp[0] == '.') {
    return hl > cl && ieq(host + hl - cl, cp, cl);
  }
  return hl == cl && ieq(host, cp, cl);
}

/* The host of a URI ("scheme://[user@]host[:port][/...]"). */
static bool uri_host(cursor uri, const uint8_t **out, size_t *out_len) {
  const uint8_t *p = cur_data(&uri);
  size_t n = cur_len(&uri);
  const uint8_t *sep = NULL;
  for (size_t i = 0; i + 2 < n; i++) {
    if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') {
      sep = p + i + 3;
      break;
    }
  }
  if (sep == NULL) {
    return false;
  }
  size_t start = (size_t)(sep - p), end = start;
  while (end < n && p[end] != '/' && p[end] != '?' && p[end] != '#') {
    end++;
  }
  const uint8_t *at = memchr(p + start, '@', end - start);
  if (at != NULL) {
    start = (size_t)(at - p) + 1;
  }
  if (start < end && p[start] == '[') {
    return false; /* IP literal hosts are not DNS names */
  }
  size_t hend = start;
  while (hend < end && p[hend] != ':') {
    hend++;
  }
  if (hend == start) {
    return false;
  }
  *out = p + start;
  *out_len = hend - start;
  return true;
}

static bool ip_mask_ok(const uint8_t *mask, size_t n) {
  bool zero = false;
  for (size_t i = 0; i < n; i++) {
    for (int b = 7; b >= 0; b--) {
      bool one = (mask[i] >> b) & 1;
      if (one && zero) {
        return false; /* not a CIDR prefix */
      }
      zero = zero || !one;
    }
  }
  return true;
}

#define NC_MAX_COMPARISONS (1u << 16)

typedef enum { NC_NO, NC_YES, NC_BAD } nc_match;

/* Does name (tag, value) fall in subtree base (btag, bval)?  Only called
 * with equal tags. */
static nc_match within(uint8_t tag, cursor v, cursor b, bool excluded) {
  switch (tag) {
  case GN_DNS:
    if (dns_within(cur_data(&v), cur_len(&v), cur_data(&b), cur_len(&b))) {
      return NC_YES;
    }
    return excluded && wildcard_hits(cur_data(&v), cur_len(&v), cur_data(&b),
                                     cur_len(&b))
               ? NC_YES
               : NC_NO;
  case GN_EMAIL:
    return email_within(v, b) ? NC_YES : NC_NO;
  case GN_URI: {
    const uint8_t *h;
    size_t hl;
    if (!uri_host(v, &h, &hl)) {
      return NC_BAD;
    }
    if (cur_len(&b) > 0 && cur_data(&b)[0] == '.') {
      return hl > cur_len(&b) &&
                     ieq(h + hl - cur_len(&b), cur_data(&b), cur_len(&b))
                 ? NC_YES
                 : NC_NO;
    }
    return hl == cur_len(&b) && ieq(h, cur_data(&b), hl) ? NC_YES : NC_NO;
  }
  case GN_IP: {
    size_t n = cur_len(&v);
    if (cur_len(&b) != 2 * n) {
      return NC_NO; /* other family */
    }
    const uint8_t *a = cur_data(&b), *m = cur_data(&b) + n;
    if (!ip_mask_ok(m, n)) {
      return NC_BAD;
    }
    for (size_t i = 0; i < n; i++) {
      if ((cur_data(&v)[i] & m[i]) != (a[i] & m[i])) {
        return NC_NO;
      }
    }
    return NC_YES;
  }
  case GN_DIRNAME:
    return x509_name_has_prefix(v, b) ? NC_YES : NC_NO;
  default:
    return NC_BAD;
  }
}

/* One name against a CA's subtrees: 0 or an X509_V_ERR code. */
static long check_name(const x509_cert *ca, uint8_t tag, cursor v) {
  bool any_permitted_of_type = false, permitted = false;
  cursor list = ca->nc_permitted;
  while (ca->has_permitted && !cur_done(&list)) {
    cursor st, base;
    uint8_t btag;
    if (!cur_asn1(&list, &st, ASN1_SEQUENCE) ||
        !x509_next_general_name(&st, &btag, &base)) {
      return 52; /* X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX */
    }
    if (btag != tag) {
      continue;
    }
    any_permitted_of_type = true;
    nc_match m = within(tag, v, base, false);
    if (m == NC_BAD) {
      return 53; /* X509_V_ERR_UNSUPPORTED_NAME_SYNTAX */
    }
    permitted = permitted || m == NC_YES;
  }
  if (any_permitted_of_type && !permitted) {
    return 47; /* X509_V_ERR_PERMITTED_VIOLATION */
  }
  list = ca->nc_excluded;
  while (ca->has_excluded && !cur_done(&list)) {
    cursor st, base;
    uint8_t btag;
    if (!cur_asn1(&list, &st, ASN1_SEQUENCE) ||
        !x509_next_general_name(&st, &btag, &base)) {
      return 52;
    }
    if (btag != tag) {
      continue;
    }
    nc_match m = within(tag, v, base, true);
    if (m == NC_BAD) {
      return 53;
    }
    if (m == NC_YES) {
      return 48; /* X509_V_ERR_EXCLUDED_VIOLATION */
    }
  }
  return 0;
}

/* Subtrees of a type moat cannot evaluate (otherName, x400, EDI, RID). */
static bool has_unsupported_type(const x509_cert *ca, uint8_t tag) {
  for (int pass = 0; pass < 2; pass++) {
    cursor list = pass == 0 ? ca->nc_permitted : ca->nc_excluded;
    bool present = pass == 0 ? ca->has_permitted : ca->has_excluded;
    while (present && !cur_done(&list)) {
      cursor st, base;
      uint8_t btag;
      if (!cur_asn1(&list, &st, ASN1_SEQUENCE) ||
          !x509_next_general_name(&st, &btag, &base)) {
        return true;
      }
      if (btag == tag) {
        return true;
      }
    }
  }
  return false;
}

static bool looks_like_host(cursor cn) {
  size_t dots = 0;
  for (size_t i = 0; i < cur_len(&cn); i++) {
    uint8_t ch = cur_data(&cn)[i];
    if (ch == '.') {
      dots++;
    } else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '-' || ch == '*' ||
                 ch == '_')) {
      return false;
    }
  }
  return dots > 0;
}

static size_t count_elements(cursor c, bool present) {
  size_t n = 0;
  cursor e;
  uint8_t tag;
  while (present && cur_asn1_any(&c, &e, &tag)) {
    n++;
  }
  return n;
}

long x509_nc_check(const x509_cert *ca, const x509_cert *c, bool subject,
                   bool leaf) {
  long r;
  if (!(ca->exts & EXT_NC)) {
    return 0;
  }
  /* Bound the work: names times subtrees (quadratic in hostile input). */
  size_t subtrees = count_elements(ca->nc_permitted, ca->has_permitted) +
                    count_elements(ca->nc_excluded, ca->has_excluded);
  size_t nnames = count_elements(c->san, (c->exts & EXT_SAN) != 0) + 1;
  cursor all_rdns, s0 = c->subject;
  if (cur_asn1(&s0, &all_rdns, ASN1_SEQUENCE)) {
    nnames += count_elements(all_rdns, true);
  }
  if (subtrees * nnames > NC_MAX_COMPARISONS) {
    return 1; /* X509_V_ERR_UNSPECIFIED: over the budget */
  }
  /* RFC 5280 6.1.3 (b): the subject DN (unless self-issued below). */
  if (subject && !x509_name_empty(c->subject)) {
    if ((r = check_name(ca, GN_DIRNAME, c->subject)) != 0) {
      return r;
    }
    /* emailAddress attributes are rfc822Name constraints' business. */
    cursor rdns, v;
    uint8_t tag;
    cursor s = c->subject;
    if (!(c->exts & EXT_SAN) && cur_asn1(&s, &rdns, ASN1_SEQUENCE)) {
      while (x509_name_next_attr(&rdns, (const uint8_t *)OID_EMAIL,
                                 sizeof(OID_EMAIL) - 1, &tag, &v)) {
        if ((r = check_name(ca, GN_EMAIL, v)) != 0) {
          return r;
        }
      }
    }
  }
  bool has_dns = false, has_ip = false;
  cursor names = c->san, v;
  uint8_t tag;
  while ((c->exts & EXT_SAN) && x509_next_general_name(&names, &tag, &v)) {
    switch (tag) {
    case GN_DNS:
    case GN_EMAIL:
    case GN_URI:
    case GN_IP:
    case GN_DIRNAME:
      has_dns = has_dns || tag == GN_DNS;
      has_ip = has_ip || tag == GN_IP;
      if ((r = check_name(ca, tag, v)) != 0) {
        return r;
      }
      break;
    default:
      if (has_unsupported_type(ca, tag)) {
        return 51; /* X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE */
      }
      break;
    }
  }
  /* A leaf without DNS names may be named by its CN: hold that CN to the
   * DNS constraints too, so the legacy fallback cannot escape them. */
  if (leaf && !has_dns && !has_ip) {
    cursor rdns, cn;
    cursor s = c->subject;
    if (cur_asn1(&s, &rdns, ASN1_SEQUENCE)) {
      while (x509_name_next_attr(&rdns, (const uint8_t *)OID_CN,
                                 sizeof(OID_CN) - 1, &tag, &cn)) {
        if (looks_like_host(cn) && (r = check_name(ca, GN_DNS, cn)) != 0) {
          return r;
        }
      }
    }
  }
  return 0;
}

long x509_nc_check_dns(const x509_cert *ca, cursor name) {
  if (!(ca->exts & EXT_NC)) {
    return 0;
  }
  return check_name(ca, GN_DNS, name);
}
