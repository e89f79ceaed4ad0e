/* supported_versions (RFC 8446 4.2.1). */
#include "tls/ext/ext.h"

bool ext_versions_build_ch(builder *b, const tls_policy *ctx) {
  bld_open8(b);
  if (ctx_allows(ctx, MOAT_TLS1_3)) {
    bld_u16(b, 0x0304);
  }
  if (ctx_allows(ctx, MOAT_TLS1_2)) {
    bld_u16(b, 0x0303);
  }
  return bld_close(b);
}

moat_err ext_versions_parse_ch(moat_conn *conn, cursor data, bool *out_tls13,
                               bool *out_tls12) {
  cursor list;
  *out_tls13 = *out_tls12 = false;
  if (!cur_prefixed8(&data, &list) || !cur_done(&data) || cur_len(&list) < 2 ||
      cur_len(&list) % 2 != 0) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
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

moat_err ext_versions_parse_sh(moat_conn *conn, cursor data,
                               uint16_t *out_version) {
  if (!cur_u16(&data, out_version) || !cur_done(&data)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed supported_versions in ServerHello");
  }
  return MOAT_OK;
}
