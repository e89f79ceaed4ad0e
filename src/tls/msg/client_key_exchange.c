/* ClientKeyExchange for ECDHE (RFC 8422 5.7): the client's point. */
#include "tls/msg/msg.h"

moat_err cke_parse(cursor body, cursor *out_point, tls_cause *why) {
  if (!cur_prefixed8(&body, out_point) || !cur_done(&body) ||
      cur_done(out_point)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed ClientKeyExchange");
  }
  return MOAT_OK;
}

bool cke_build(builder *b, const uint8_t *share, size_t share_len) {
  msg_open(b, HT_CLIENT_KEY_EXCHANGE);
  bld_open8(b);
  bld_bytes(b, share, share_len);
  bld_close(b);
  msg_close(b);
  return bld_finish(b);
}
