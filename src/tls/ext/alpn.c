/* application_layer_protocol_negotiation (RFC 7301). */
#include <string.h>

#include "tls/ext/ext.h"

bool ext_alpn_build(builder *b, const uint8_t *wire, size_t wire_len) {
  bld_open16(b);
  bld_bytes(b, wire, wire_len);
  return bld_close(b);
}

/* RFC 7301 3.1: a non-empty list of non-empty names. */
static moat_err alpn_list(moat_conn *conn, cursor data, cursor *out_list) {
  if (!cur_prefixed16(&data, out_list) || !cur_done(&data) ||
      cur_done(out_list)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed ALPN extension");
  }
  cursor check = *out_list, name;
  while (!cur_done(&check)) {
    if (!cur_prefixed8(&check, &name) || cur_done(&name)) {
      return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                       "malformed ALPN protocol name");
    }
  }
  return MOAT_OK;
}

moat_err ext_alpn_select(moat_conn *conn, cursor data, cursor *out_chosen) {
  cursor list;
  *out_chosen = cur_make(NULL, 0);
  TRY(alpn_list(conn, data, &list));
  const tls_policy *ctx = conn->ctx;
  if (ctx->alpn_wire_len == 0) {
    return MOAT_OK; /* we do not use ALPN: ignore it */
  }
  /* The server's preference order decides. */
  cursor ours = cur_make(ctx->alpn_wire, ctx->alpn_wire_len), mine;
  while (cur_prefixed8(&ours, &mine)) {
    cursor theirs = list, name;
    while (cur_prefixed8(&theirs, &name)) {
      if (cur_equal(&name, cur_data(&mine), cur_len(&mine))) {
        *out_chosen = mine;
        return MOAT_OK;
      }
    }
  }
  if (ctx->alpn_mismatch_ok) {
    return MOAT_OK; /* moat_context_set_alpn_required(ctx, false) */
  }
  return conn_fail(conn, MOAT_ERR_NO_APPLICATION_PROTOCOL,
                   "no application protocol offered by the client is "
                   "configured here");
}

moat_err ext_alpn_parse_ee(moat_conn *conn, cursor data, cursor *out_chosen) {
  cursor list, name;
  TRY(alpn_list(conn, data, &list));
  if (!cur_prefixed8(&list, &name) || !cur_done(&list)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server must select exactly one ALPN protocol");
  }
  cursor ours = cur_make(conn->ctx->alpn_wire, conn->ctx->alpn_wire_len), mine;
  while (cur_prefixed8(&ours, &mine)) {
    if (cur_equal(&name, cur_data(&mine), cur_len(&mine))) {
      *out_chosen = name;
      return MOAT_OK;
    }
  }
  return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                   "the server selected an ALPN protocol we did not offer");
}
