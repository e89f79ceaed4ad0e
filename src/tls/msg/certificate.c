/* Certificate (RFC 8446 4.4.2). */
#include "base/mem.h"
#include "tls/msg/msg.h"

moat_err cert_build(moat_conn *conn, builder *b, const uint8_t *context,
                    size_t context_len, uint8_t *const *chain,
                    const size_t *chain_len, size_t chain_num) {
  msg_open(b, HT_CERTIFICATE);
  bld_open8(b);
  bld_bytes(b, context, context_len);
  bld_close(b);
  bld_open24(b);
  for (size_t i = 0; i < chain_num; i++) {
    bld_open24(b);
    bld_bytes(b, chain[i], chain_len[i]);
    bld_close(b);
    bld_u16(b, 0); /* no per-certificate extensions */
  }
  bld_close(b);
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building Certificate");
  }
  return MOAT_OK;
}

static void clear_peer_chain(moat_conn *conn) {
  for (size_t i = 0; i < conn->peer_chain_num; i++) {
    moat_free(conn->peer_chain[i]);
    conn->peer_chain[i] = NULL;
  }
  conn->peer_chain_num = 0;
}

moat_err cert_parse(moat_conn *conn, cursor body, const uint8_t *context,
                    size_t context_len, bool *out_empty) {
  cursor ctx_c, list;
  *out_empty = false;
  if (!cur_prefixed8(&body, &ctx_c) || !cur_prefixed24(&body, &list) ||
      !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed Certificate");
  }
  if (!cur_equal(&ctx_c, context, context_len)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "Certificate has the wrong certificate_request_context");
  }
  clear_peer_chain(conn);
  while (!cur_done(&list)) {
    cursor data, exts;
    if (!cur_prefixed24(&list, &data) || !cur_prefixed16(&list, &exts) ||
        cur_done(&data)) {
      clear_peer_chain(conn);
      return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                       "malformed CertificateEntry %zu", conn->peer_chain_num);
    }
    /* Per-certificate extensions (status_request, SCT) answer requests we
     * never make; their framing is still checked. */
    ext_set set;
    TRY(ext_parse_block(conn, exts, M_CT, 0, &set));
    if (set.present != 0) {
      clear_peer_chain(conn);
      return conn_fail(conn, MOAT_ERR_UNSUPPORTED_EXTENSION,
                       "CertificateEntry carries an extension we did not "
                       "request");
    }
    if (conn->peer_chain_num == TLS_MAX_CHAIN) {
      clear_peer_chain(conn);
      return conn_fail(conn, MOAT_ERR_BAD_CERTIFICATE,
                       "the peer sent more than %d certificates",
                       TLS_MAX_CHAIN);
    }
    uint8_t *copy = moat_memdup(cur_data(&data), cur_len(&data));
    if (copy == NULL) {
      clear_peer_chain(conn);
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "certificate copy");
    }
    conn->peer_chain[conn->peer_chain_num] = copy;
    conn->peer_chain_len[conn->peer_chain_num] = cur_len(&data);
    conn->peer_chain_num++;
  }
  *out_empty = conn->peer_chain_num == 0;
  return MOAT_OK;
}
