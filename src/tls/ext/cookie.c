/* cookie (RFC 8446 4.2.2). */
#include "tls/ext/ext.h"

bool ext_cookie_build(builder *b, const uint8_t *cookie, size_t len) {
  bld_open16(b);
  bld_bytes(b, cookie, len);
  return bld_close(b);
}

moat_err ext_cookie_parse(cursor data, cursor *out_cookie, tls_cause *why) {
  if (!cur_prefixed16(&data, out_cookie) || !cur_done(&data) ||
      cur_done(out_cookie)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed cookie");
  }
  return MOAT_OK;
}

/* The server's HelloRetryRequest carries one; the client echoes it. */
bool ext_cookie_send(unsigned msg, const ext_params *p) {
  (void)msg;
  return p->cookie != NULL;
}

bool ext_cookie_row_build(builder *b, unsigned msg, const ext_params *p) {
  (void)msg;
  return ext_cookie_build(b, p->cookie, p->cookie_len);
}

moat_err ext_cookie_read(cursor data, unsigned msg, const ext_params *p,
                         ext_values *out, tls_cause *why) {
  (void)msg;
  (void)p;
  return ext_cookie_parse(data, &out->cookie, why);
}
