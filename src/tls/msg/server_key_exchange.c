/* ServerKeyExchange for ECDHE (RFC 8422 5.4, RFC 5246 7.4.3). */
#include <string.h>

#include "tls/msg/msg.h"

#define CURVE_TYPE_NAMED 3 /* RFC 8422 5.4: named_curve */

moat_err ske_parse(moat_conn *conn, cursor body, server_kex *out) {
  memset(out, 0, sizeof(*out));
  cursor start = body;
  uint8_t curve_type;
  if (!cur_u8(&body, &curve_type) || !cur_u16(&body, &out->group) ||
      !cur_prefixed8(&body, &out->point)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed ServerKeyExchange parameters");
  }
  if (curve_type != CURVE_TYPE_NAMED) {
    /* RFC 8422 5.4: explicit curves are deprecated and never offered. */
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "ServerKeyExchange curve type %u is not named_curve",
                     curve_type);
  }
  if (cur_done(&out->point)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "ServerKeyExchange with an empty point");
  }
  size_t params_len = cur_len(&start) - cur_len(&body);
  if (!cur_sub(&start, params_len, &out->params) ||
      !cur_u16(&body, &out->scheme) || !cur_prefixed16(&body, &out->sig) ||
      !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed ServerKeyExchange signature");
  }
  return MOAT_OK;
}

size_t ske_signed_content(const moat_conn *conn, cursor params, uint8_t *out,
                          size_t cap) {
  const handshake *hs = conn->hs;
  size_t n = cur_len(&params);
  if (cap < 2 * TLS_RANDOM_LEN + n) {
    return 0;
  }
  memcpy(out, hs->client_random, TLS_RANDOM_LEN);
  memcpy(out + TLS_RANDOM_LEN, hs->server_random, TLS_RANDOM_LEN);
  memcpy(out + 2 * TLS_RANDOM_LEN, cur_data(&params), n);
  return 2 * TLS_RANDOM_LEN + n;
}

moat_err ske_build(moat_conn *conn, builder *b, uint16_t group,
                   const uint8_t *share, size_t share_len,
                   const sig_scheme *scheme) {
  uint8_t params[4 + KEX_MAX_SHARE];
  builder pb;
  bld_init_fixed(&pb, params, sizeof(params));
  bld_u8(&pb, CURVE_TYPE_NAMED);
  bld_u16(&pb, group);
  bld_open8(&pb);
  bld_bytes(&pb, share, share_len);
  bld_close(&pb);
  if (!bld_finish(&pb)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "ServerKeyExchange parameters");
  }
  uint8_t content[2 * TLS_RANDOM_LEN + sizeof(params)];
  size_t n = ske_signed_content(conn, cur_make(params, bld_len(&pb)), content,
                                sizeof(content));
  const privkey *key = conn->ctx->key;
  size_t cap = privkey_max_sig_len(key);
  msg_open(b, HT_SERVER_KEY_EXCHANGE);
  bld_bytes(b, params, bld_len(&pb));
  bld_u16(b, scheme->code);
  bld_open16(b);
  uint8_t *sig;
  if (n == 0 || !bld_space(b, cap, &sig)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "signature buffer");
  }
  size_t sig_len = cap;
  if (!privkey_sign(key, scheme, content, n, sig, &sig_len)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "signing with %s failed",
                     scheme->name);
  }
  bld_unreserve(b, cap - sig_len);
  bld_close(b);
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building ServerKeyExchange");
  }
  return MOAT_OK;
}
