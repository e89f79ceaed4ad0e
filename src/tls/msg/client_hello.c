/* ClientHello (RFC 8446 4.1.2). */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"
#include "x509/x509.h"

bool msg_open(builder *b, uint8_t type) {
  bld_u8(b, type);
  return bld_open24(b);
}

bool msg_close(builder *b) {
  return bld_close(b);
}

/* SNI carries DNS names only (RFC 6066 3: no IP literals). */
static bool sni_allowed(const char *host) {
  uint8_t ip[16];
  size_t ip_len;
  return host != NULL && !x509_parse_ip(host, ip, &ip_len);
}

moat_err ch_build(moat_conn *conn, builder *b) {
  const tls_policy *ctx = conn->ctx;
  handshake *hs = conn->hs;
  msg_open(b, HT_CLIENT_HELLO);
  bld_u16(b, 0x0303); /* legacy_version */
  bld_bytes(b, hs->client_random, TLS_RANDOM_LEN);
  bld_open8(b);
  bld_bytes(b, hs->session_id, hs->session_id_len);
  bld_close(b);
  /* The suites of each version we offer, TLS 1.3's first.  RFC 8446
   * 4.1.2: a second ClientHello (after a HelloRetryRequest) is the first
   * one with only key_share, cookie, early_data and pre_shared_key
   * changed, so it keeps the TLS 1.2 suites and extensions too. */
  bool tls13 = ctx_allows(ctx, MOAT_TLS1_3);
  bool tls12 = ctx_allows(ctx, MOAT_TLS1_2);
  bld_open16(b);
  for (size_t i = 0; i < ctx->num_suites; i++) {
    uint16_t v = ctx->suites[i]->version;
    if ((v == MOAT_TLS1_3 && tls13) || (v == MOAT_TLS1_2 && tls12)) {
      bld_u16(b, ctx->suites[i]->code);
    }
  }
  bld_close(b);
  bld_u8(b, 1); /* legacy_compression_methods: null only */
  bld_u8(b, 0);
  bld_open16(b); /* extensions */
  if (sni_allowed(conn->hostname)) {
    bld_u16(b, EXT_SERVER_NAME);
    bld_open16(b);
    ext_sni_build(b, conn->hostname);
    bld_close(b);
  }
  if (tls13) {
    bld_u16(b, EXT_SUPPORTED_VERSIONS);
    bld_open16(b);
    ext_versions_build_ch(b, ctx);
    bld_close(b);
  }
  if (tls12) {
    ext_tls12_build_ch(conn, b);
  }
  bld_u16(b, EXT_SUPPORTED_GROUPS);
  bld_open16(b);
  ext_groups_build(b, ctx);
  bld_close(b);
  bld_u16(b, EXT_SIGNATURE_ALGORITHMS);
  bld_open16(b);
  ext_sigalgs_build(b, ctx, EXT_SIGNATURE_ALGORITHMS);
  bld_close(b);
  if (tls13) {
    bld_u16(b, EXT_KEY_SHARE);
    bld_open16(b);
    TRY(ext_key_share_build_ch(conn, b));
    bld_close(b);
  }
  if (ctx->alpn_wire_len > 0) {
    bld_u16(b, EXT_ALPN);
    bld_open16(b);
    ext_alpn_build(b, ctx->alpn_wire, ctx->alpn_wire_len);
    bld_close(b);
  }
  if (hs->cookie != NULL) {
    bld_u16(b, EXT_COOKIE);
    bld_open16(b);
    ext_cookie_build(b, hs->cookie, hs->cookie_len);
    bld_close(b);
  }
  /* RFC 8446 4.2.9: in every ClientHello, not only a resuming one: a
   * server sends no tickets for modes the client did not list, so without
   * it a first connection could never get a session to resume. */
  if (tls13) {
    bld_u16(b, EXT_PSK_KEY_EXCHANGE_MODES);
    bld_open16(b);
    bld_open8(b);
    bld_u8(b, PSK_DHE_KE);
    bld_close(b);
    bld_close(b);
  }
  if (hs->psk_offered && tls13) {
    ext_psk_build_ch(conn, b); /* last (RFC 8446 4.2.11) */
  }
  bld_close(b);
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building the ClientHello");
  }
  if (hs->psk_offered && tls13) {
    return ext_psk_patch_binder(conn, bld_data(b), bld_len(b));
  }
  return MOAT_OK;
}

moat_err ch_parse(moat_conn *conn, cursor body, client_hello *out) {
  memset(out, 0, sizeof(*out));
  if (!cur_u16(&body, &out->legacy_version) ||
      !cur_bytes(&body, TLS_RANDOM_LEN, &out->random) ||
      !cur_prefixed8(&body, &out->session_id) ||
      !cur_prefixed16(&body, &out->suites) ||
      !cur_prefixed8(&body, &out->compression)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed ClientHello");
  }
  if (cur_len(&out->session_id) > 32 || cur_len(&out->suites) < 2 ||
      cur_len(&out->suites) % 2 != 0 || cur_len(&out->compression) < 1) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed ClientHello (session id, suites or "
                     "compression methods)");
  }
  if (cur_done(&body)) {
    return MOAT_OK; /* no extensions: an old client */
  }
  cursor exts;
  if (!cur_prefixed16(&body, &exts) || !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed ClientHello extensions");
  }
  out->has_extensions = true;
  tls_cause why;
  if (ext_parse_block(exts, M_CH, 0, &out->ext, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  return MOAT_OK;
}
