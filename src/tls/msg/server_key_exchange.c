/* ServerKeyExchange for ECDHE (RFC 8422 5.4, RFC 5246 7.4.3).  The
 * signature is made and checked in auth.c. */
#include <string.h>

#include "tls/msg/msg.h"

#define CURVE_TYPE_NAMED 3 /* RFC 8422 5.4: named_curve */

moat_err ske_parse(cursor body, server_kex *out, tls_cause *why) {
  memset(out, 0, sizeof(*out));
  cursor start = body;
  uint8_t curve_type;
  if (!cur_u8(&body, &curve_type) || !cur_u16(&body, &out->group) ||
      !cur_prefixed8(&body, &out->point)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed ServerKeyExchange parameters");
  }
  if (curve_type != CURVE_TYPE_NAMED) {
    /* RFC 8422 5.4: explicit curves are deprecated and never offered. */
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "ServerKeyExchange curve type %u is not named_curve",
                     curve_type);
  }
  if (cur_done(&out->point)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "ServerKeyExchange with an empty point");
  }
  size_t params_len = cur_len(&start) - cur_len(&body);
  if (!cur_sub(&start, params_len, &out->params) ||
      !cur_u16(&body, &out->scheme) || !cur_prefixed16(&body, &out->sig) ||
      !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed ServerKeyExchange signature");
  }
  return MOAT_OK;
}

bool ske_params_build(builder *b, uint16_t group, const uint8_t *share,
                      size_t share_len) {
  bld_u8(b, CURVE_TYPE_NAMED);
  bld_u16(b, group);
  bld_open8(b);
  bld_bytes(b, share, share_len);
  bld_close(b);
  return bld_finish(b);
}

bool ske_build(builder *b, cursor params, uint16_t scheme, const uint8_t *sig,
               size_t sig_len) {
  msg_open(b, HT_SERVER_KEY_EXCHANGE);
  bld_bytes(b, cur_data(&params), cur_len(&params));
  bld_u16(b, scheme);
  bld_open16(b);
  bld_bytes(b, sig, sig_len);
  bld_close(b);
  msg_close(b);
  return bld_finish(b);
}
