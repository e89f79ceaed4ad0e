/* cookie (RFC 8446 4.2.2). */
#include "tls/ext/ext.h"

bool ext_cookie_build(builder *b, const uint8_t *cookie, size_t len) {
  bld_open16(b);
  bld_bytes(b, cookie, len);
  return bld_close(b);
}

moat_err ext_cookie_parse(moat_conn *conn, cursor data, cursor *out_cookie) {
  if (!cur_prefixed16(&data, out_cookie) || !cur_done(&data) ||
      cur_done(out_cookie)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed cookie");
  }
  return MOAT_OK;
}
