/* KeyUpdate (RFC 8446 4.6.3). */
#include "tls/msg/msg.h"

bool ku_build(builder *b, bool request_update) {
  msg_open(b, HT_KEY_UPDATE);
  bld_u8(b, request_update ? 1 : 0);
  msg_close(b);
  return bld_finish(b);
}

moat_err ku_parse(cursor body, bool *out_request, tls_cause *why) {
  uint8_t v;
  if (!cur_u8(&body, &v) || !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed KeyUpdate");
  }
  if (v > 1) {
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "KeyUpdate request_update must be 0 or 1, not %u", v);
  }
  *out_request = v == 1;
  return MOAT_OK;
}
