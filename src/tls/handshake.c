/* What the two TLS 1.3 flows share: the legal-message table (STYLE 4),
 * the proof check before traffic (STYLE 8), post-handshake messages
 * (the session a ticket makes) and KeyUpdate.  The proofs themselves are
 * in auth.c. */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"
#include "x509/x509.h"

#define BIT(t) (1ull << (t))

/* Which handshake messages each state accepts; the dispatcher enforces
 * it and tests/unit/test_tls13.c walks it. */
static const uint64_t k_legal[ST__COUNT] = {
    [ST_C_WAIT_SH] = BIT(HT_SERVER_HELLO),
    [ST_C_WAIT_EE] = BIT(HT_ENCRYPTED_EXTENSIONS),
    /* RFC 8879 4: CompressedCertificate in place of Certificate (the
     * flows refuse it when it was not offered) */
    [ST_C_WAIT_CERT_CR] = BIT(HT_CERTIFICATE) | BIT(HT_CERTIFICATE_REQUEST) |
                          BIT(HT_COMPRESSED_CERTIFICATE),
    [ST_C_WAIT_CERT] = BIT(HT_CERTIFICATE) | BIT(HT_COMPRESSED_CERTIFICATE),
    [ST_C_WAIT_CV] = BIT(HT_CERTIFICATE_VERIFY),
    [ST_C_WAIT_FINISHED] = BIT(HT_FINISHED),
    [ST_S_WAIT_CH] = BIT(HT_CLIENT_HELLO),
    [ST_S_WAIT_CERT] = BIT(HT_CERTIFICATE) | BIT(HT_COMPRESSED_CERTIFICATE),
    [ST_S_WAIT_CV] = BIT(HT_CERTIFICATE_VERIFY),
    [ST_S_WAIT_FINISHED] = BIT(HT_FINISHED),
    [ST_CONNECTED] = BIT(HT_NEW_SESSION_TICKET) | BIT(HT_KEY_UPDATE),
    /* TLS 1.2 (RFC 5246 7.3) */
    [ST_C12_WAIT_CERT] = BIT(HT_CERTIFICATE),
    /* RFC 6066 8: a server that answered status_request may still send
     * no CertificateStatus. */
    [ST_C12_WAIT_STATUS] =
        BIT(HT_CERTIFICATE_STATUS) | BIT(HT_SERVER_KEY_EXCHANGE),
    [ST_C12_WAIT_SKE] = BIT(HT_SERVER_KEY_EXCHANGE),
    [ST_C12_WAIT_CR_DONE] =
        BIT(HT_CERTIFICATE_REQUEST) | BIT(HT_SERVER_HELLO_DONE),
    [ST_C12_WAIT_DONE] = BIT(HT_SERVER_HELLO_DONE),
    [ST_C12_WAIT_NST] = BIT(HT_NEW_SESSION_TICKET),
    [ST_C12_WAIT_FINISHED] = BIT(HT_FINISHED),
    [ST_S12_WAIT_CERT] = BIT(HT_CERTIFICATE),
    [ST_S12_WAIT_CKE] = BIT(HT_CLIENT_KEY_EXCHANGE),
    [ST_S12_WAIT_CV] = BIT(HT_CERTIFICATE_VERIFY),
    [ST_S12_WAIT_FINISHED] = BIT(HT_FINISHED),
};

bool hs_message_legal(hs_state state, uint8_t type) {
  if ((unsigned)state >= ST__COUNT || type >= 64) {
    return false;
  }
  return (k_legal[state] & BIT(type)) != 0;
}

const char *hs_state_name(hs_state state) {
  switch (state) {
  case ST_C_START:
    return "client start";
  case ST_C_WAIT_SH:
    return "waiting for ServerHello";
  case ST_C_WAIT_EE:
    return "waiting for EncryptedExtensions";
  case ST_C_WAIT_CERT_CR:
    return "waiting for Certificate or CertificateRequest";
  case ST_C_WAIT_CERT:
  case ST_S_WAIT_CERT:
  case ST_C12_WAIT_CERT:
  case ST_S12_WAIT_CERT:
    return "waiting for Certificate";
  case ST_C_WAIT_CV:
  case ST_S_WAIT_CV:
  case ST_S12_WAIT_CV:
    return "waiting for CertificateVerify";
  case ST_C_WAIT_FINISHED:
  case ST_S_WAIT_FINISHED:
  case ST_C12_WAIT_FINISHED:
  case ST_S12_WAIT_FINISHED:
    return "waiting for Finished";
  case ST_C12_WAIT_STATUS:
    return "waiting for CertificateStatus or ServerKeyExchange";
  case ST_C12_WAIT_SKE:
    return "waiting for ServerKeyExchange";
  case ST_C12_WAIT_CR_DONE:
    return "waiting for CertificateRequest or ServerHelloDone";
  case ST_C12_WAIT_DONE:
    return "waiting for ServerHelloDone";
  case ST_C12_WAIT_NST:
    return "waiting for NewSessionTicket";
  case ST_S12_WAIT_CKE:
    return "waiting for ClientKeyExchange";
  case ST_C_SEND_FLIGHT:
  case ST_S_SEND_FLIGHT:
  case ST_C12_SEND_FLIGHT:
    return "sending a flight";
  case ST_S_WAIT_CH:
    return "waiting for ClientHello";
  case ST_S_SEND_TICKETS:
    return "sending tickets";
  case ST_CONNECTED:
    return "connected";
  default:
    return "unknown state";
  }
}

const char *hs_type_name(uint8_t type) {
  switch (type) {
  case HT_HELLO_REQUEST:
    return "HelloRequest";
  case HT_SERVER_KEY_EXCHANGE:
    return "ServerKeyExchange";
  case HT_CERTIFICATE_STATUS:
    return "CertificateStatus";
  case HT_SERVER_HELLO_DONE:
    return "ServerHelloDone";
  case HT_CLIENT_KEY_EXCHANGE:
    return "ClientKeyExchange";
  case HT_CLIENT_HELLO:
    return "ClientHello";
  case HT_SERVER_HELLO:
    return "ServerHello";
  case HT_NEW_SESSION_TICKET:
    return "NewSessionTicket";
  case HT_END_OF_EARLY_DATA:
    return "EndOfEarlyData";
  case HT_ENCRYPTED_EXTENSIONS:
    return "EncryptedExtensions";
  case HT_CERTIFICATE:
    return "Certificate";
  case HT_CERTIFICATE_REQUEST:
    return "CertificateRequest";
  case HT_CERTIFICATE_VERIFY:
    return "CertificateVerify";
  case HT_FINISHED:
    return "Finished";
  case HT_KEY_UPDATE:
    return "KeyUpdate";
  case HT_COMPRESSED_CERTIFICATE:
    return "CompressedCertificate";
  default:
    return "an unknown handshake message";
  }
}

void hs_waive_auth_proofs(moat_conn *conn, const char *why) {
  conn->hs->proof_peer_cert = true;
  conn->hs->proof_cert_verify = true;
  conn->proof_waiver = why;
}

/* The next message for this state, or WANT_READ. */
moat_err hs_expect(moat_conn *conn, uint8_t *out_type, cursor *out_body,
                   cursor *out_whole) {
  bool ok;
  TRY(hs_next_message(conn, out_type, out_body, out_whole, &ok));
  if (!ok) {
    return MOAT_ERR_WANT_READ;
  }
  if (!hs_message_legal(conn->state, *out_type)) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "received %s (type %u) while %s", hs_type_name(*out_type),
                     *out_type, hs_state_name(conn->state));
  }
  return MOAT_OK;
}

/* WAIT_CV, either side: check the signature over the transcript so far,
 * then absorb the message. */
moat_err hs_recv_cert_verify(moat_conn *conn, hs_state next) {
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  TRY(auth_cv_check(conn, body));
  TRY(hs_absorb(conn, whole));
  conn->state = next;
  return MOAT_OK;
}

moat_err hs_recv_certificate(moat_conn *conn, cursor body,
                             const uint8_t *context, size_t context_len,
                             bool *out_empty) {
  cert_list certs;
  tls_cause why;
  /* A client that asked for OCSP stapling takes the leaf's status. */
  bool asked =
      !conn->is_server && conn->ctx->ocsp_stapling != MOAT_OCSP_STAPLING_OFF;
  if (cert_parse_status(body, context, context_len, asked, &certs, &why) !=
      MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  *out_empty = certs.num == 0;
  if (!cur_done(&certs.status)) {
    TRY(conn_keep_staple(conn, certs.status));
  }
  return hs_take_peer_chain(conn, &certs);
}

void hs_take_cert_request(handshake *hs, const cert_request *cr) {
  memcpy(hs->cr_sigalgs, cr->sigalgs, cr->num_sigalgs * sizeof(uint16_t));
  hs->num_cr_sigalgs = cr->num_sigalgs;
  hs->cert_requested = true;
  hs->cr_context_len = 0; /* in a handshake (RFC 8446 4.3.2) */
}

moat_err hs_derive_app_secrets(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t th[HASH_MAX_LEN];
  if (!hs_transcript_hash(conn, th) || !ks_master(&hs->ks, th)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "traffic key derivation");
  }
  const hash_alg *h = hs->ks.hash;
  keylog(conn, "CLIENT_TRAFFIC_SECRET_0", hs->ks.c_ap, h->len);
  keylog(conn, "SERVER_TRAFFIC_SECRET_0", hs->ks.s_ap, h->len);
  keylog(conn, "EXPORTER_SECRET", hs->ks.exporter, h->len);
  return MOAT_OK;
}

moat_err hs_send_cert_and_cv(moat_conn *conn, builder *b,
                             const uint8_t *context, size_t context_len,
                             const sig_scheme *scheme) {
  const tls_identity *id = conn->id;
  bld_reset(b);
  /* RFC 8446 4.4.2.1: a server staples when the client asked for OCSP. */
  bool staple = conn->is_server && conn->hs->peer_wants_ocsp && id != NULL &&
                id->ocsp_der != NULL;
  bool built = scheme != NULL
                   ? cert_build_status(b, context, context_len, id->chain_der,
                                       id->chain_len, id->chain_num,
                                       staple ? id->ocsp_der : NULL,
                                       staple ? id->ocsp_len : 0)
                   : cert_build(b, context, context_len, NULL, NULL, 0);
  if (!built) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building Certificate");
  }
  /* RFC 8879 4: compressed when the peer offered an algorithm of ours
   * (an empty Certificate goes as it is). */
  if (scheme != NULL) {
    handshake *hs = conn->hs;
    uint16_t alg = conn->is_server
                       ? cert_comp_choose(conn->ctx, hs->peer_cert_comp,
                                          hs->num_peer_cert_comp)
                       : hs->cert_comp_send;
    TRY(cert_comp_apply(conn, b, alg, context_len == 0));
  }
  TRY(hs_send(conn, b));
  if (scheme == NULL) {
    return MOAT_OK;
  }
  bld_reset(b);
  TRY(auth_cv_build(conn, b, scheme));
  return hs_send(conn, b);
}

/* RFC 8446 5.1: handshake messages must not span a key change. */
bool hs_truncated_hash(moat_conn *conn, const hash_alg *h, const uint8_t *msg,
                       size_t trunc_len, uint8_t *out, bool in_place) {
  handshake *hs = conn->hs;
  if (in_place) {
    return hs->transcript != NULL && hash_ctx_alg(hs->transcript) == h &&
           hash_update(hs->transcript, msg, trunc_len) &&
           hash_peek(hs->transcript, out);
  }
  if (hs->transcript == NULL) {
    return hash_oneshot(h, msg, trunc_len, out);
  }
  hash_ctx *copy = hash_new(h);
  bool ok = copy != NULL && hash_copy(copy, hs->transcript) &&
            hash_update(copy, msg, trunc_len) && hash_final(copy, out);
  hash_free(copy);
  return ok;
}

/* A fuzzing build (MOAT_FUZZ=ON) takes the private key of a
 * Diffie-Hellman group from the context's random source, which the fuzz
 * targets fix, so that a recorded handshake replays to its end; any
 * other build, and the hybrids, ask libcrypto for a fresh key. */
#ifdef MOAT_FUZZING
static bool fuzz_key(const moat_conn *conn, const kex_alg *alg,
                     kex_key **out_key) {
  uint8_t priv[66];
  /* X25519 / X448: the raw key; a NIST curve: a scalar as long as a
   * coordinate, made smaller than the order by its first byte. */
  size_t len = alg->client_share_len % 2 == 1 ? (alg->client_share_len - 1) / 2
                                              : alg->client_share_len;
  if (alg->classical != NULL || len > sizeof(priv) ||
      !ctx_random(conn->ctx, priv, len)) {
    return false;
  }
  if (alg->client_share_len % 2 == 1) {
    priv[0] = 1;
  }
  bool ok = kex_key_from_private(alg, priv, len, conn->ctx->kex_pool, out_key);
  moat_wipe(priv, sizeof(priv));
  return ok;
}
#endif

bool hs_kex_generate(const moat_conn *conn, const kex_alg *alg,
                     kex_key **out_key, uint8_t *out_share,
                     size_t *out_share_len) {
#ifdef MOAT_FUZZING
  if (fuzz_key(conn, alg, out_key)) {
    return kex_key_share(*out_key, out_share, out_share_len);
  }
#endif
  return kex_generate(alg, conn->ctx->kex_pool, out_key, out_share,
                      out_share_len);
}

bool hs_kex_respond(const moat_conn *conn, const kex_alg *alg,
                    const uint8_t *peer, size_t peer_len, uint8_t *out_share,
                    size_t *out_share_len, uint8_t *out_secret,
                    size_t *out_secret_len, const char **out_why) {
#ifdef MOAT_FUZZING
  kex_key *key = NULL;
  if (fuzz_key(conn, alg, &key)) {
    bool ok = kex_key_share(key, out_share, out_share_len) &&
              kex_finish_why(key, peer, peer_len, out_secret, out_secret_len,
                             out_why);
    kex_key_free(key);
    return ok;
  }
#endif
  return kex_respond_why(alg, conn->ctx->kex_pool, peer, peer_len, out_share,
                         out_share_len, out_secret, out_secret_len, out_why);
}

moat_err hs_key_change_boundary(moat_conn *conn) {
  if (conn->hs->msg_len != 0) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "handshake data continues across a key change");
  }
  return MOAT_OK;
}

moat_err cert_leaf_pubkey(moat_conn *conn, const uint8_t *der, size_t len,
                          pubkey **out) {
  cursor spki;
  char detail[128] = "";
  if (!x509_cert_spki(der, len, &spki)) {
    return conn_fail(conn, MOAT_ERR_BAD_CERTIFICATE,
                     "the peer's certificate could not be parsed");
  }
  moat_err err =
      pubkey_from_spki_cached(conn->ctx->key_cache, cur_data(&spki),
                              cur_len(&spki), out, detail, sizeof(detail));
  if (err != MOAT_OK) {
    return conn_fail(conn,
                     err == MOAT_ERR_UNSUPPORTED_CERTIFICATE
                         ? MOAT_ERR_UNSUPPORTED_CERTIFICATE
                         : MOAT_ERR_BAD_CERTIFICATE,
                     "the peer's certificate key cannot be used: %s", detail);
  }
  return MOAT_OK;
}

/* Enter the traffic state: only with all three proofs (STYLE 8).  Both
 * flows call it once the client's Finished is in the transcript, which
 * is what the resumption secret covers (RFC 8446 7.1). */
moat_err tls13_enter_traffic(moat_conn *conn) {
  handshake *hs = conn->hs;
  if (!hs->proof_peer_cert || !hs->proof_cert_verify || !hs->proof_finished) {
    return conn_fail(conn, MOAT_ERR_INTERNAL,
                     "refusing traffic without proof (certificate %d, "
                     "CertificateVerify %d, Finished %d)",
                     hs->proof_peer_cert, hs->proof_cert_verify,
                     hs->proof_finished);
  }
  uint8_t th[HASH_MAX_LEN];
  if (!hs_transcript_hash(conn, th) || !ks_resumption(&hs->ks, th)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "resumption secret");
  }
  memcpy(conn->c_ap, hs->ks.c_ap, sizeof(conn->c_ap));
  memcpy(conn->s_ap, hs->ks.s_ap, sizeof(conn->s_ap));
  memcpy(conn->res_master, hs->ks.resumption, sizeof(conn->res_master));
  memcpy(conn->exporter_secret, hs->ks.exporter, sizeof(conn->exporter_secret));
  conn->resumed = hs->psk_accepted;
  ctx_count_done(conn, hs->psk_offered);
  conn->hmac = hs->ks.hmac;
  hs->ks.hmac = NULL;
  /* Handshake bytes that arrived after the last message (tickets,
   * KeyUpdate) move to the post-handshake buffer. */
  if (hs->msg_len > 0) {
    conn->post_msg = moat_memdup(hs->msg, hs->msg_len);
    if (conn->post_msg == NULL) {
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "post-handshake buffer");
    }
    conn->post_len = conn->post_cap = hs->msg_len;
  }
  hs_free(hs);
  conn->hs = NULL;
  conn->state = ST_CONNECTED;
  /* RFC 8446 4.2.9: no tickets for a client that cannot use them (it
   * listed no psk_dhe_ke, the one mode moat resumes with). */
  if (conn->is_server && conn->ctx->tickets && conn->ctx->num_tickets > 0 &&
      conn->peer_psk_dhe) {
    TRY(tls13_send_tickets(conn));
  }
  conn->handshake_done = true;
  conn->release_when_idle = true;
  return MOAT_OK;
}

/* RFC 8446 7.2: application_traffic_secret_N+1. */
static moat_err next_secret(moat_conn *conn, uint8_t *secret) {
  const hash_alg *h = hash_get(conn->suite->hash);
  uint8_t next[HASH_MAX_LEN];
  hmac_ctx *hmac = conn_hmac(conn);
  if (hmac == NULL || !hkdf_expand_label(hmac, secret, h->len, "traffic upd",
                                         NULL, 0, next, h->len)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "KeyUpdate derivation failed");
  }
  memcpy(secret, next, h->len);
  moat_wipe(next, sizeof(next));
  return MOAT_OK;
}

moat_err tls13_send_key_update(moat_conn *conn, bool request_peer) {
  uint8_t msg[8];
  builder b;
  bld_init_fixed(&b, msg, sizeof(msg));
  if (!ku_build(&b, request_peer)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building KeyUpdate");
  }
  TRY(rec_write(conn, CT_HANDSHAKE, msg, bld_len(&b)));
  uint8_t *secret = conn->is_server ? conn->s_ap : conn->c_ap;
  TRY(next_secret(conn, secret));
  const hash_alg *h = hash_get(conn->suite->hash);
  return rec_set_key(conn, &conn->wr, conn->suite, h, conn_hmac(conn), secret,
                     true, NULL);
}

moat_err tls13_take_ticket(moat_conn *conn, const nst13 *t) {
  if (t->lifetime == 0) {
    return MOAT_OK; /* RFC 8446 4.6.1: do not use it */
  }
  const hash_alg *h = hash_get(conn->suite->hash);
  moat_session *s =
      session_new_ticket(cur_data(&t->ticket), cur_len(&t->ticket));
  if (s == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "session");
  }
  s->version = MOAT_TLS1_3;
  s->suite = conn->suite;
  s->created = ctx_now(conn->ctx);
  s->lifetime = t->lifetime;
  s->age_add = t->age_add;
  s->psk_len = h->len;
  /* RFC 8446 4.6.1: PSK = HKDF-Expand-Label(resumption_master_secret,
   * "resumption", ticket_nonce, Hash.length) */
  hmac_ctx *hmac = conn_hmac(conn);
  if (hmac == NULL || !hkdf_expand_label(hmac, conn->res_master, h->len,
                                         "resumption", cur_data(&t->nonce),
                                         cur_len(&t->nonce), s->psk, h->len)) {
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

moat_err tls13_post_handshake(moat_conn *conn, uint8_t type, cursor *body) {
  if (!hs_message_legal(ST_CONNECTED, type) ||
      (type == HT_NEW_SESSION_TICKET && conn->is_server)) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "received %s (type %u) after the handshake",
                     hs_type_name(type), type);
  }
  tls_cause why;
  if (type == HT_NEW_SESSION_TICKET) {
    nst13 t;
    if (nst_parse(*body, &t, &why) != MOAT_OK) {
      return conn_fail_cause(conn, &why);
    }
    return tls13_take_ticket(conn, &t);
  }
  bool request;
  if (ku_parse(*body, &request, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  TRY(rec_count_idle(conn, "KeyUpdate"));
  /* RFC 8446 5.1: KeyUpdate ends its record. */
  if (conn->post_len != 4 + 1) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "handshake data follows a KeyUpdate in its record");
  }
  uint8_t *secret = conn->is_server ? conn->c_ap : conn->s_ap;
  TRY(next_secret(conn, secret));
  const hash_alg *h = hash_get(conn->suite->hash);
  TRY(rec_set_key(conn, &conn->rd, conn->suite, h, conn_hmac(conn), secret,
                  false, NULL));
  if (request && !conn->close_sent && !conn->key_update_answered) {
    /* RFC 8446 4.6.3: answer with update_not_requested before sending
     * more data; requests that arrive while we are silent share one
     * answer, so a peer cannot make us queue output without bound. */
    TRY(tls13_send_key_update(conn, false));
    conn->key_update_answered = true;
  }
  return MOAT_OK;
}
