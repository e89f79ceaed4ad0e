/* ServerHello and HelloRetryRequest (RFC 8446 4.1.3, 4.1.4). */
#include <string.h>

#include "tls/msg/msg.h"

/* RFC 8446 4.1.3: SHA-256("HelloRetryRequest") */
const uint8_t k_hrr_random[TLS_RANDOM_LEN] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
    0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

moat_err sh_parse(moat_conn *conn, cursor body, server_hello *out) {
  memset(out, 0, sizeof(*out));
  if (!cur_u16(&body, &out->legacy_version) ||
      !cur_bytes(&body, TLS_RANDOM_LEN, &out->random) ||
      !cur_prefixed8(&body, &out->session_id) || !cur_u16(&body, &out->suite) ||
      !cur_u8(&body, &out->compression)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed ServerHello");
  }
  if (cur_len(&out->session_id) > 32) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "ServerHello session ID of %zu bytes (at most 32)",
                     cur_len(&out->session_id));
  }
  out->is_hrr = memcmp(out->random, k_hrr_random, TLS_RANDOM_LEN) == 0;
  if (cur_done(&body)) {
    return MOAT_OK;
  }
  cursor exts;
  if (!cur_prefixed16(&body, &exts) || !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed ServerHello extensions");
  }
  out->has_extensions = true;
  /* RFC 8446 4.1.3: supported_versions marks a TLS 1.3 ServerHello; the
   * block is read by the rules of the version it belongs to. */
  if (!ext_block_has(exts, EXT_SUPPORTED_VERSIONS)) {
    const tls_policy *ctx = conn->ctx;
    uint32_t offered12 =
        (1u << X_RENEGOTIATION_INFO) | (1u << X_EC_POINT_FORMATS) |
        (1u << X_EXTENDED_MASTER_SECRET) | (1u << X_SESSION_TICKET) |
        (conn->hostname != NULL ? 1u << X_SERVER_NAME : 0) |
        (ctx->alpn_wire_len > 0 ? 1u << X_ALPN : 0);
    tls_cause why;
    if (ext_parse_block(exts, M_SH12, offered12, &out->ext, &why) != MOAT_OK) {
      return conn_fail_cause(conn, &why);
    }
    return MOAT_OK;
  }
  /* What the client offered in every ClientHello. */
  uint32_t offered = (1u << X_SUPPORTED_VERSIONS) | (1u << X_KEY_SHARE) |
                     (1u << X_COOKIE) |
                     (conn->hs->psk_offered ? 1u << X_PRE_SHARED_KEY : 0);
  tls_cause why;
  if (ext_parse_block(exts, out->is_hrr ? M_HRR : M_SH, offered, &out->ext,
                      &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  return MOAT_OK;
}

moat_err sh_build12(moat_conn *conn, builder *b, const sh12_params *p) {
  handshake *hs = conn->hs;
  msg_open(b, HT_SERVER_HELLO);
  bld_u16(b, 0x0303);
  bld_bytes(b, hs->server_random, TLS_RANDOM_LEN);
  bld_open8(b);
  bld_bytes(b, p->session_id, p->session_id_len);
  bld_close(b);
  bld_u16(b, conn->suite->code);
  bld_u8(b, 0);
  bld_open16(b);
  bld_u16(b, EXT_RENEGOTIATION_INFO);
  bld_open16(b);
  bld_u8(b, 0);
  bld_close(b);
  if (p->ems) {
    bld_u16(b, EXT_EXTENDED_MASTER_SECRET);
    bld_u16(b, 0);
  }
  if (p->ec_point_formats) {
    bld_u16(b, EXT_EC_POINT_FORMATS);
    bld_open16(b);
    bld_u8(b, 1);
    bld_u8(b, 0);
    bld_close(b);
  }
  if (p->ticket) {
    bld_u16(b, EXT_SESSION_TICKET);
    bld_u16(b, 0);
  }
  if (p->ack_sni) {
    bld_u16(b, EXT_SERVER_NAME);
    bld_u16(b, 0);
  }
  if (conn->alpn != NULL) {
    bld_u16(b, EXT_ALPN);
    bld_open16(b);
    bld_open16(b);
    bld_open8(b);
    bld_bytes(b, (const uint8_t *)conn->alpn, strlen(conn->alpn));
    bld_close(b);
    bld_close(b);
    bld_close(b);
  }
  bld_close(b);
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building the ServerHello");
  }
  return MOAT_OK;
}

moat_err sh_build(moat_conn *conn, builder *b, bool hrr, uint16_t group,
                  const uint8_t *share, size_t share_len, const uint8_t *cookie,
                  size_t cookie_len) {
  handshake *hs = conn->hs;
  msg_open(b, HT_SERVER_HELLO);
  bld_u16(b, 0x0303);
  bld_bytes(b, hrr ? k_hrr_random : hs->server_random, TLS_RANDOM_LEN);
  bld_open8(b);
  bld_bytes(b, hs->session_id, hs->session_id_len);
  bld_close(b);
  bld_u16(b, conn->suite->code);
  bld_u8(b, 0);
  bld_open16(b);
  bld_u16(b, EXT_SUPPORTED_VERSIONS);
  bld_open16(b);
  bld_u16(b, 0x0304);
  bld_close(b);
  bld_u16(b, EXT_KEY_SHARE);
  bld_open16(b);
  bld_u16(b, group);
  if (!hrr) {
    bld_open16(b);
    bld_bytes(b, share, share_len);
    bld_close(b);
  }
  bld_close(b);
  if (!hrr && hs->psk_accepted) {
    bld_u16(b, EXT_PRE_SHARED_KEY);
    bld_open16(b);
    bld_u16(b, hs->psk_index);
    bld_close(b);
  }
  if (hrr && cookie != NULL) {
    bld_u16(b, EXT_COOKIE);
    bld_open16(b);
    ext_cookie_build(b, cookie, cookie_len);
    bld_close(b);
  }
  bld_close(b);
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building the ServerHello");
  }
  return MOAT_OK;
}
