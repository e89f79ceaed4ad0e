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

/* Copies the num certificates of a walked list into conn->peer; entries
 * carry extensions in TLS 1.3 (RFC 8446 4.4.2) and not in TLS 1.2. */
static moat_err store_chain(moat_conn *conn, cursor list, size_t num,
                            bool with_exts, bool *out_empty) {
  chain_free(conn->peer);
  conn->peer = NULL;
  *out_empty = num == 0;
  if (num == 0) {
    return MOAT_OK;
  }
  der_chain *chain = chain_new(num);
  if (chain == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "certificate chain");
  }
  for (size_t i = 0; i < num; i++) {
    cursor data, exts;
    (void)cur_prefixed24(&list, &data);
    if (with_exts) {
      (void)cur_prefixed16(&list, &exts);
    }
    chain->e[i].der = moat_memdup(cur_data(&data), cur_len(&data));
    chain->e[i].len = cur_len(&data);
    chain->e[i].owned = true;
    if (chain->e[i].der == NULL) {
      chain_free(chain);
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "certificate copy");
    }
  }
  conn->peer = chain;
  return MOAT_OK;
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
  /* First pass: framing, extensions and the count. */
  size_t num = 0;
  cursor walk = list;
  while (!cur_done(&walk)) {
    cursor data, exts;
    if (!cur_prefixed24(&walk, &data) || !cur_prefixed16(&walk, &exts) ||
        cur_done(&data)) {
      return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                       "malformed CertificateEntry %zu", num);
    }
    /* Per-certificate extensions (status_request, SCT) answer requests we
     * never make: with nothing offered, any extension is refused. */
    ext_set set;
    tls_cause why;
    if (ext_parse_block(exts, M_CT, 0, &set, &why) != MOAT_OK) {
      return conn_fail_cause(conn, &why);
    }
    if (++num > TLS_MAX_CHAIN) {
      return conn_fail(conn, MOAT_ERR_BAD_CERTIFICATE,
                       "the peer sent more than %d certificates",
                       TLS_MAX_CHAIN);
    }
  }
  return store_chain(conn, list, num, true, out_empty);
}

moat_err cert12_build(moat_conn *conn, builder *b, uint8_t *const *chain,
                      const size_t *chain_len, size_t chain_num) {
  msg_open(b, HT_CERTIFICATE);
  bld_open24(b);
  for (size_t i = 0; i < chain_num; i++) {
    bld_open24(b);
    bld_bytes(b, chain[i], chain_len[i]);
    bld_close(b);
  }
  bld_close(b);
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building Certificate");
  }
  return MOAT_OK;
}

moat_err cert12_parse(moat_conn *conn, cursor body, bool *out_empty) {
  cursor list;
  *out_empty = false;
  if (!cur_prefixed24(&body, &list) || !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed Certificate");
  }
  size_t num = 0;
  cursor walk = list;
  while (!cur_done(&walk)) {
    cursor data;
    if (!cur_prefixed24(&walk, &data) || cur_done(&data)) {
      return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                       "malformed certificate %zu in Certificate", num);
    }
    if (++num > TLS_MAX_CHAIN) {
      return conn_fail(conn, MOAT_ERR_BAD_CERTIFICATE,
                       "the peer sent more than %d certificates",
                       TLS_MAX_CHAIN);
    }
  }
  return store_chain(conn, list, num, false, out_empty);
}
