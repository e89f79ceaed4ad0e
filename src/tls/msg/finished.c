/* Finished (RFC 8446 4.4.4, RFC 5246 7.4.9): verify_data alone.  It is
 * computed and compared in auth.c. */
#include "tls/msg/msg.h"

moat_err fin_parse(cursor body, size_t expected_len, cursor *out_verify_data,
                   tls_cause *why) {
  if (cur_len(&body) != expected_len) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "Finished has %zu bytes, expected %zu", cur_len(&body),
                     expected_len);
  }
  *out_verify_data = body;
  return MOAT_OK;
}

bool fin_build(builder *b, const uint8_t *verify_data, size_t len) {
  msg_open(b, HT_FINISHED);
  bld_bytes(b, verify_data, len);
  msg_close(b);
  return bld_finish(b);
}
