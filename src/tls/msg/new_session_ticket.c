/* NewSessionTicket (RFC 8446 4.6.1): the client keeps the newest ticket
 * as its session.  (The server builds tickets in session.c.) */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"

moat_err nst_parse(moat_conn *conn, cursor body) {
  uint32_t lifetime, age_add;
  cursor nonce, ticket, exts;
  ext_set set;
  if (!cur_u32(&body, &lifetime) || !cur_u32(&body, &age_add) ||
      !cur_prefixed8(&body, &nonce) || !cur_prefixed16(&body, &ticket) ||
      !cur_prefixed16(&body, &exts) || !cur_done(&body) || cur_done(&ticket)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed NewSessionTicket");
  }
  /* RFC 8446 4.6.1: at most seven days. */
  if (lifetime > 604800) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "ticket lifetime %u exceeds seven days", lifetime);
  }
  tls_cause why;
  if (ext_parse_block(exts, M_NST, 0, &set, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  if (lifetime == 0) {
    return MOAT_OK; /* RFC 8446 4.6.1: do not use it */
  }
  const hash_alg *h = hash_get(conn->suite->hash);
  moat_session *s = session_new();
  uint8_t *ticket_copy = moat_memdup(cur_data(&ticket), cur_len(&ticket));
  if (s == NULL || ticket_copy == NULL) {
    moat_session_free(s);
    moat_free(ticket_copy);
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "session");
  }
  s->version = MOAT_TLS1_3;
  s->suite = conn->suite;
  s->created = ctx_now(conn->ctx);
  s->lifetime = lifetime;
  s->age_add = age_add;
  s->ticket = ticket_copy;
  s->ticket_len = cur_len(&ticket);
  s->psk_len = h->len;
  /* RFC 8446 4.6.1: PSK = HKDF-Expand-Label(resumption_master_secret,
   * "resumption", ticket_nonce, Hash.length) */
  hmac_ctx *hmac = conn_hmac(conn);
  if (hmac == NULL ||
      !hkdf_expand_label(hmac, conn->res_master, h->len, "resumption",
                         cur_data(&nonce), cur_len(&nonce), s->psk, h->len)) {
    moat_session_free(s);
    return conn_fail(conn, MOAT_ERR_CRYPTO, "ticket PSK");
  }
  if (!session_keep_peer(s, conn, conn->session)) {
    moat_session_free(s);
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "session chain");
  }
  moat_session_free(conn->session);
  conn->session = s;
  return MOAT_OK;
}

moat_err nst12_parse(moat_conn *conn, cursor body, nst12 *out) {
  if (!cur_u32(&body, &out->lifetime_hint) ||
      !cur_prefixed16(&body, &out->ticket) || !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed NewSessionTicket");
  }
  return MOAT_OK;
}

bool nst12_build(builder *b, uint32_t lifetime, const uint8_t *ticket,
                 size_t ticket_len) {
  msg_open(b, HT_NEW_SESSION_TICKET);
  bld_u32(b, lifetime);
  bld_open16(b);
  bld_bytes(b, ticket, ticket_len);
  bld_close(b);
  msg_close(b);
  return bld_finish(b);
}
