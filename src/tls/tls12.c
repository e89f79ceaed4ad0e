/* What the two TLS 1.2 flows share (RFC 5246, RFC 7627): the master
 * secret and key block, ChangeCipherSpec + Finished both ways, entering
 * traffic, and the refusal of renegotiation after the handshake
 * (RFC 5746). */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"

static const uint8_t k_ccs[1] = {1};

moat_err tls12_master_secret(moat_conn *conn, const uint8_t *pms,
                             size_t pms_len) {
  handshake *hs = conn->hs;
  const hash_alg *h = hash_get(conn->suite->hash);
  bool ok;
  if (hs->ems) {
    /* RFC 7627 4: the session hash is the transcript through
     * ClientKeyExchange. */
    uint8_t session_hash[HASH_MAX_LEN];
    ok = hs_transcript_hash(conn, session_hash) &&
         tls12_prf(h, hs->ks.hmac, pms, pms_len, "extended master secret",
                   session_hash, h->len, NULL, 0, hs->master, TLS12_MASTER_LEN);
  } else {
    ok = tls12_prf(h, hs->ks.hmac, pms, pms_len, "master secret",
                   hs->client_random, TLS_RANDOM_LEN, hs->server_random,
                   TLS_RANDOM_LEN, hs->master, TLS12_MASTER_LEN);
  }
  if (!ok) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "master secret derivation");
  }
  keylog(conn, "CLIENT_RANDOM", hs->master, TLS12_MASTER_LEN);
  return MOAT_OK;
}

/* RFC 5246 6.3 with AEAD suites (no MAC keys): client_write_key,
 * server_write_key, client_write_IV, server_write_IV; the IV is the
 * 4-byte GCM salt (RFC 5288 3) or the 12-byte ChaCha20 IV (RFC 7905 2). */
moat_err tls12_derive_keys(moat_conn *conn, rec_dir *our, rec_dir *peer) {
  handshake *hs = conn->hs;
  const tls_suite *suite = conn->suite;
  const hash_alg *h = hash_get(suite->hash);
  const aead_alg *alg = aead_get(suite->aead);
  size_t key_len = alg->key_len;
  size_t iv_len = suite->aead == AEAD_CHACHA20_POLY1305 ? AEAD_NONCE_LEN : 4;
  uint8_t block[2 * AEAD_MAX_KEY + 2 * AEAD_NONCE_LEN];
  if (!tls12_prf(h, hs->ks.hmac, hs->master, TLS12_MASTER_LEN, "key expansion",
                 hs->server_random, TLS_RANDOM_LEN, hs->client_random,
                 TLS_RANDOM_LEN, block, 2 * key_len + 2 * iv_len)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "key block derivation");
  }
  const uint8_t *c_key = block, *s_key = block + key_len;
  const uint8_t *c_iv = block + 2 * key_len, *s_iv = c_iv + iv_len;
  bool client = !conn->is_server;
  moat_err err = rec_set_key12(conn, our, suite, client ? c_key : s_key,
                               client ? c_iv : s_iv, true);
  if (err == MOAT_OK) {
    err = rec_set_key12(conn, peer, suite, client ? s_key : c_key,
                        client ? s_iv : c_iv, false);
  }
  moat_wipe(block, sizeof(block));
  return err;
}

moat_err tls12_send_ccs_finished(moat_conn *conn) {
  handshake *hs = conn->hs;
  TRY(rec_write(conn, CT_CHANGE_CIPHER_SPEC, k_ccs, 1));
  rec_dir_clear(&conn->wr);
  conn->wr = hs->pending_wr;
  memset(&hs->pending_wr, 0, sizeof(hs->pending_wr));
  uint8_t msg[4 + TLS12_FINISHED_LEN];
  builder b;
  bld_init_fixed(&b, msg, sizeof(msg));
  moat_err err = auth_fin12_build(conn, &b);
  err = err == MOAT_OK ? hs_send(conn, &b) : err;
  moat_wipe(msg, sizeof(msg));
  return err;
}

moat_err tls12_recv_certificate(moat_conn *conn, cursor body, bool *out_empty) {
  cert_list certs;
  tls_cause why;
  if (cert12_parse(body, &certs, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  *out_empty = certs.num == 0;
  return hs_take_peer_chain(conn, &certs);
}

moat_err tls12_recv_finished(moat_conn *conn, cursor body) {
  handshake *hs = conn->hs;
  /* RFC 5246 7.4.9: Finished comes right after ChangeCipherSpec. */
  if (!hs->ccs_seen) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "Finished arrived before ChangeCipherSpec");
  }
  return auth_fin12_check(conn, body);
}

/* The client's session for later resumption: the server's session ID
 * and/or ticket with the master secret (RFC 5246 7.4.1.2, RFC 5077). */
static moat_err keep_client_session(moat_conn *conn) {
  handshake *hs = conn->hs;
  const moat_session *old = hs->resumed12 ? hs->offered12 : NULL;
  /* The new ticket, or the one the resumed session had. */
  const moat_session *with_ticket = hs->nst_session != NULL ? hs->nst_session
                                    : old != NULL && old->ticket != NULL ? old
                                                                         : NULL;
  /* RFC 7627 5.3: a session without the extended master secret is
   * never resumed; nothing to keep either without an ID or a ticket. */
  if (!hs->ems || (with_ticket == NULL && hs->session_id_len == 0)) {
    return MOAT_OK;
  }
  moat_session *s = hs->nst_session;
  hs->nst_session = NULL;
  if (s == NULL) {
    s = with_ticket != NULL
            ? session_new_ticket(with_ticket->ticket, with_ticket->ticket_len)
            : session_new();
  }
  if (s == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "session");
  }
  s->version = MOAT_TLS1_2;
  s->suite = conn->suite;
  s->created = old != NULL ? old->created : ctx_now(conn->ctx);
  s->lifetime = hs->nst_lifetime != 0 ? hs->nst_lifetime
                : old != NULL         ? old->lifetime
                                      : 7200;
  memcpy(s->psk, hs->master, TLS12_MASTER_LEN);
  s->psk_len = TLS12_MASTER_LEN;
  s->ems = true;
  if (old != NULL) {
    /* The resumed session goes on under its own name (moat_session_id),
     * whatever ID the ClientHello carried beside the ticket (RFC 5077
     * 3.4) and whichever ticket the server sent now, as OpenSSL keeps
     * it. */
    moat_err e = moat_session_id(old, s->session_id, &s->session_id_len);
    if (e != MOAT_OK) {
      moat_session_free(s);
      return conn_fail(conn, e, "the resumed session has no identity");
    }
  } else {
    memcpy(s->session_id, hs->session_id, hs->session_id_len);
    s->session_id_len = hs->session_id_len;
  }
  if (!session_keep_peer(s, conn, old)) {
    moat_session_free(s);
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "session chain");
  }
  moat_session_free(conn->session);
  conn->session = s;
  return MOAT_OK;
}

moat_err tls12_enter_traffic(moat_conn *conn) {
  handshake *hs = conn->hs;
  if (!hs->proof_peer_cert || !hs->proof_cert_verify || !hs->proof_finished) {
    return conn_fail(conn, MOAT_ERR_INTERNAL,
                     "refusing traffic without proof (certificate %d, "
                     "signature %d, Finished %d)",
                     hs->proof_peer_cert, hs->proof_cert_verify,
                     hs->proof_finished);
  }
  if (hs->msg_len > 0) {
    /* RFC 5246 7.4: nothing follows Finished but renegotiation, which
     * moat refuses; bytes in the same record are a protocol error. */
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "handshake data follows Finished");
  }
  if (!conn->is_server) {
    TRY(keep_client_session(conn));
  }
  memcpy(conn->master, hs->master, TLS12_MASTER_LEN);
  memcpy(conn->randoms, hs->client_random, TLS_RANDOM_LEN);
  memcpy(conn->randoms + TLS_RANDOM_LEN, hs->server_random, TLS_RANDOM_LEN);
  conn->ems = hs->ems;
  conn->resumed = hs->resumed12;
  ctx_count_done(conn, hs->offered12 != NULL || hs->session_asked12);
  hs_free(hs);
  conn->hs = NULL;
  conn->state = ST_CONNECTED;
  conn->handshake_done = true;
  conn->release_when_idle = true;
  return MOAT_OK;
}

/* After the handshake only a renegotiation can start a handshake
 * message: a server's HelloRequest or a client's ClientHello.  Both get
 * a no_renegotiation warning and the connection goes on (RFC 5746 4.5,
 * RFC 5246 7.4.1.1). */
moat_err tls12_post_handshake(moat_conn *conn, uint8_t type, cursor *body) {
  bool refusable =
      (type == HT_HELLO_REQUEST && !conn->is_server && cur_done(body)) ||
      (type == HT_CLIENT_HELLO && conn->is_server);
  if (!refusable) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "received %s (type %u) after the TLS 1.2 handshake",
                     hs_type_name(type), type);
  }
  /* Each refusal queues a warning: a peer that keeps asking without
   * reading them is cut off rather than let grow our output. */
  if (++conn->renegotiations_refused > 16) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "the peer asked to renegotiate %u times; moat never "
                     "renegotiates",
                     conn->renegotiations_refused);
  }
  if (conn->close_sent) {
    return MOAT_OK;
  }
  return rec_send_warning(conn, ALERT_NO_RENEGOTIATION);
}

/* RFC 5705 4: PRF(master_secret, label, client_random || server_random
 * [|| context_length || context]). */
moat_err tls12_export(moat_conn *conn, const char *label,
                      const uint8_t *context, size_t context_len,
                      bool use_context, uint8_t *out, size_t out_len) {
  const hash_alg *h = hash_get(conn->suite->hash);
  uint8_t seed[2 * TLS_RANDOM_LEN + 2 + 256];
  if (use_context && context_len > 256) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  memcpy(seed, conn->randoms, sizeof(conn->randoms));
  size_t n = sizeof(conn->randoms);
  if (use_context) {
    seed[n++] = (uint8_t)(context_len >> 8);
    seed[n++] = (uint8_t)context_len;
    if (context_len > 0) {
      memcpy(seed + n, context, context_len);
    }
    n += context_len;
  }
  hmac_ctx *hmac = hmac_new(h);
  bool ok = hmac != NULL && tls12_prf(h, hmac, conn->master, TLS12_MASTER_LEN,
                                      label, seed, n, NULL, 0, out, out_len);
  hmac_free(hmac);
  return ok ? MOAT_OK : MOAT_ERR_CRYPTO;
}
