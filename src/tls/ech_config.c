/* ECHConfigList (RFC 9849 4): parse into slices, judge each config
 * usable or not, build. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tls/ech_config.h"
#include "x509/x509.h"

__attribute__((format(printf, 2, 3))) static void
set_unusable(ech_config *c, const char *fmt, ...) {
  va_list ap;
  c->usable = false;
  va_start(ap, fmt);
  vsnprintf(c->unusable, sizeof(c->unusable), fmt, ap);
  va_end(ap);
}

bool ech_public_name_ok(const uint8_t *name, size_t len) {
  /* RFC 9849 6.1.7 (RFC 5890 2.3.1 labels): moat's DNS name check, with
   * no wildcard label, which preferred name syntax does not have. */
  if (len == 0 || memchr(name, '*', len) != NULL ||
      !x509_dns_syntax_ok(name, len)) {
    return false;
  }
  size_t start = len;
  while (start > 0 && name[start - 1] != '.') {
    start--;
  }
  const uint8_t *last = name + start;
  size_t n = len - start;
  /* The last label must not read as an IPv4 number: all decimal digits,
   * or "0x" / "0X" and hex digits (possibly none). */
  size_t i = 0;
  bool hex = n >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X');
  if (hex) {
    i = 2;
  }
  for (; i < n; i++) {
    uint8_t ch = last[i];
    bool digit = ch >= '0' && ch <= '9';
    bool hexdigit =
        digit || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    if (hex ? !hexdigit : !digit) {
      return true;
    }
  }
  return false;
}

moat_err ech_config_list_open(cursor in, cursor *out_configs, tls_cause *why) {
  /* RFC 9849 4: ECHConfig ECHConfigList<4..2^16-1>. */
  if (!cur_prefixed16(&in, out_configs) || !cur_done(&in)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "the ECHConfigList's length does not match its data");
  }
  if (cur_len(out_configs) < 4) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "the ECHConfigList is empty or shorter than 4 bytes");
  }
  return MOAT_OK;
}

/* RFC 9849 4.2: no type twice; a mandatory type moat does not know (it
 * knows none yet) makes the config unusable. */
static moat_err check_extensions(ech_config *c, tls_cause *why) {
  uint64_t seen[65536 / 64];
  memset(seen, 0, sizeof(seen));
  cursor exts = c->extensions;
  while (!cur_done(&exts)) {
    uint16_t type;
    cursor data;
    if (!cur_u16(&exts, &type) || !cur_prefixed16(&exts, &data)) {
      return cause_set(why, MOAT_ERR_DECODE_ERROR,
                       "malformed extension list in ECHConfig %u",
                       c->config_id);
    }
    uint64_t bit = (uint64_t)1 << (type % 64);
    if ((seen[type / 64] & bit) != 0) {
      return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                       "extension 0x%04x appears twice in ECHConfig %u", type,
                       c->config_id);
    }
    seen[type / 64] |= bit;
    if ((type & ECH_EXT_MANDATORY) != 0 && c->usable) {
      set_unusable(c,
                   "it has mandatory extension 0x%04x, which moat does not "
                   "support",
                   type);
    }
  }
  return MOAT_OK;
}

/* Whether moat's HPKE can encrypt to the config, and with which suite. */
static void judge(ech_config *c) {
  c->usable = true;
  c->unusable[0] = '\0';
  if (hpke_kem_name(c->kem_id) == NULL) {
    set_unusable(c, "its KEM 0x%04x is not supported", c->kem_id);
    return;
  }
  if (cur_len(&c->public_key) != HPKE_X25519_LEN) {
    set_unusable(c, "its public key is %zu bytes, not the KEM's %d",
                 cur_len(&c->public_key), HPKE_X25519_LEN);
    return;
  }
  cursor suites = c->cipher_suites;
  uint16_t kdf, aead;
  bool found = false;
  while (!found && cur_u16(&suites, &kdf) && cur_u16(&suites, &aead)) {
    hpke_suite s = {c->kem_id, kdf, aead};
    if (hpke_suite_supported(s)) {
      c->suite = s;
      found = true;
    }
  }
  if (!found) {
    set_unusable(c, "none of its %zu cipher suites is supported",
                 cur_len(&c->cipher_suites) / 4);
    return;
  }
  if (!ech_public_name_ok(cur_data(&c->public_name),
                          cur_len(&c->public_name))) {
    set_unusable(c, "its public_name is not a valid DNS name");
  }
}

moat_err ech_config_next(cursor *configs, ech_config *out, tls_cause *why) {
  cursor whole = *configs, contents;
  memset(out, 0, sizeof(*out));
  if (!cur_u16(configs, &out->version) || !cur_prefixed16(configs, &contents)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "an ECHConfig runs past the end of the ECHConfigList");
  }
  out->raw = cur_make(cur_data(&whole), cur_len(&whole) - cur_len(configs));
  if (out->version != ECH_CONFIG_VERSION) {
    /* RFC 9849 4: skipped by its length, ignored. */
    set_unusable(out, "its version 0x%04x is not supported", out->version);
    return MOAT_OK;
  }
  cursor *c = &contents;
  if (!cur_u8(c, &out->config_id) || !cur_u16(c, &out->kem_id) ||
      !cur_prefixed16(c, &out->public_key) ||
      !cur_prefixed16(c, &out->cipher_suites) ||
      !cur_u8(c, &out->maximum_name_length) ||
      !cur_prefixed8(c, &out->public_name) ||
      !cur_prefixed16(c, &out->extensions) || !cur_done(c)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed ECHConfigContents in an ECHConfigList");
  }
  /* RFC 9849 4: public_key<1..2^16-1>, cipher_suites<4..2^16-4> of 4-byte
   * pairs, public_name<1..255>. */
  if (cur_len(&out->public_key) == 0) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "ECHConfig %u has an empty public key", out->config_id);
  }
  if (cur_len(&out->cipher_suites) < 4 ||
      cur_len(&out->cipher_suites) % 4 != 0) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "ECHConfig %u's cipher_suites is %zu bytes, not a "
                     "non-empty list of 4-byte pairs",
                     out->config_id, cur_len(&out->cipher_suites));
  }
  if (cur_len(&out->public_name) == 0) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "ECHConfig %u has an empty public_name", out->config_id);
  }
  judge(out);
  return check_extensions(out, why);
}

moat_err ech_config_list_parse(const uint8_t *data, size_t len, size_t *out_num,
                               size_t *out_num_usable,
                               ech_config *out_first_usable, tls_cause *why) {
  cursor configs;
  size_t num = 0, usable = 0;
  TRY(ech_config_list_open(cur_make(data, len), &configs, why));
  while (!cur_done(&configs)) {
    ech_config c;
    TRY(ech_config_next(&configs, &c, why));
    if (c.usable && usable++ == 0 && out_first_usable != NULL) {
      *out_first_usable = c;
    }
    num++;
  }
  *out_num = num;
  *out_num_usable = usable;
  return MOAT_OK;
}

moat_err ech_config_build(builder *b, const ech_config_params *p,
                          tls_cause *why) {
  size_t name_len = p->public_name != NULL ? strlen(p->public_name) : 0;
  if (p->public_key_len == 0 || p->public_key_len > 0xffff) {
    return cause_set(why, MOAT_ERR_INVALID_ARGUMENT,
                     "an ECHConfig needs a public key of 1 to 65535 bytes");
  }
  if (p->num_suites == 0 || p->num_suites > ECH_MAX_SUITES) {
    return cause_set(why, MOAT_ERR_INVALID_ARGUMENT,
                     "an ECHConfig needs 1 to %d cipher suites",
                     ECH_MAX_SUITES);
  }
  if (name_len > 255 ||
      !ech_public_name_ok((const uint8_t *)p->public_name, name_len)) {
    return cause_set(why, MOAT_ERR_INVALID_ARGUMENT,
                     "the public name \"%.64s\" is not a DNS name a client "
                     "would accept (RFC 9849 6.1.7)",
                     p->public_name != NULL ? p->public_name : "");
  }
  if (p->extensions_len > 0xffff) {
    return cause_set(why, MOAT_ERR_INVALID_ARGUMENT,
                     "the ECHConfig extensions are too long");
  }
  bld_u16(b, ECH_CONFIG_VERSION);
  bld_open16(b);
  bld_u8(b, p->config_id);
  bld_u16(b, p->kem_id);
  bld_open16(b);
  bld_bytes(b, p->public_key, p->public_key_len);
  bld_close(b);
  bld_open16(b);
  for (size_t i = 0; i < p->num_suites; i++) {
    bld_u16(b, p->suites[i].kdf_id);
    bld_u16(b, p->suites[i].aead_id);
  }
  bld_close(b);
  bld_u8(b, p->maximum_name_length);
  bld_open8(b);
  bld_bytes(b, (const uint8_t *)p->public_name, name_len);
  bld_close(b);
  bld_open16(b);
  bld_bytes(b, p->extensions, p->extensions_len);
  bld_close(b);
  if (!bld_close(b) || b->failed) {
    return cause_set(why, MOAT_ERR_INVALID_ARGUMENT,
                     "the ECHConfig does not fit in 65535 bytes");
  }
  return MOAT_OK;
}

moat_err ech_config_list_build(builder *b, const ech_config_params *p,
                               size_t num, tls_cause *why) {
  if (num == 0) {
    return cause_set(why, MOAT_ERR_INVALID_ARGUMENT,
                     "an ECHConfigList needs at least one ECHConfig");
  }
  bld_open16(b);
  for (size_t i = 0; i < num; i++) {
    TRY(ech_config_build(b, &p[i], why));
  }
  if (!bld_close(b) || b->failed) {
    return cause_set(why, MOAT_ERR_INVALID_ARGUMENT,
                     "the ECHConfigList does not fit in 65535 bytes");
  }
  return MOAT_OK;
}
