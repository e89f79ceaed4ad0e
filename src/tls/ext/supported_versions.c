/* supported_versions (RFC 8446 4.2.1). */
#include "tls/ext/ext.h"

bool ext_versions_build_ch(builder *b, bool tls13, bool tls12) {
  bld_open8(b);
  if (tls13) {
    bld_u16(b, 0x0304);
  }
  if (tls12) {
    bld_u16(b, 0x0303);
  }
  return bld_close(b);
}

moat_err ext_versions_parse_ch(cursor data, bool *out_tls13, bool *out_tls12,
                               tls_cause *why) {
  cursor list;
  *out_tls13 = *out_tls12 = false;
  if (!cur_prefixed8(&data, &list) || !cur_done(&data) || cur_len(&list) < 2 ||
      cur_len(&list) % 2 != 0) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed supported_versions");
  }
  while (!cur_done(&list)) {
    uint16_t v;
    (void)cur_u16(&list, &v);
    if (v == 0x0304) {
      *out_tls13 = true;
    } else if (v == 0x0303) {
      *out_tls12 = true;
    }
  }
  return MOAT_OK;
}

moat_err ext_versions_parse_sh(cursor data, uint16_t *out_version,
                               tls_cause *why) {
  if (!cur_u16(&data, out_version) || !cur_done(&data)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed supported_versions in ServerHello");
  }
  return MOAT_OK;
}

/* The client lists it only when it offers TLS 1.3: a TLS 1.2 client
 * says its version in legacy_version (RFC 8446 4.2.1).  A server sends
 * it in every TLS 1.3 ServerHello and HelloRetryRequest. */
bool ext_versions_send(unsigned msg, const ext_params *p) {
  return msg != M_CH || p->tls13;
}

bool ext_versions_row_build(builder *b, unsigned msg, const ext_params *p) {
  if (msg == M_CH) {
    return ext_versions_build_ch(b, p->tls13, p->tls12);
  }
  return bld_u16(b, 0x0304);
}

moat_err ext_versions_read(cursor data, unsigned msg, const ext_params *p,
                           ext_values *out, tls_cause *why) {
  (void)p;
  if (msg == M_CH) {
    return ext_versions_parse_ch(data, &out->tls13, &out->tls12, why);
  }
  return ext_versions_parse_sh(data, &out->version, why);
}
