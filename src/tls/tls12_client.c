/* The client's TLS 1.2 flow (RFC 5246 7.3, RFC 8422, RFC 5077): one
 * function per state.  The hello layer hands over at the ServerHello. */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"

static moat_err send_built(moat_conn *conn, builder *b, moat_err built) {
  moat_err err = built == MOAT_OK ? hs_send(conn, b) : built;
  bld_cleanup(b);
  return err;
}

/* The suite the server picked: one we offered for TLS 1.2. */
static moat_err take_suite(moat_conn *conn, uint16_t code) {
  if (!suite_offered(conn->ctx, code, MOAT_TLS1_2)) {
    const char *refused = suite_refused_name(code);
    if (refused != NULL) {
      return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                       "the server chose %s, which moat does not support",
                       refused);
    }
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server selected cipher suite 0x%04x, which was not "
                     "offered for TLS 1.2",
                     code);
  }
  conn->suite = suite_by_code(code);
  return MOAT_OK;
}

/* The transcript starts once the suite names its hash: ClientHello, then
 * the ServerHello.  The messages themselves are kept too until we know
 * whether a CertificateVerify will sign them. */
static moat_err start_transcript12(moat_conn *conn, cursor whole) {
  handshake *hs = conn->hs;
  const hash_alg *h = hash_get(conn->suite->hash);
  hs->ks.hash = h;
  if (hs_prf_hmac(hs, h) == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "PRF");
  }
  hs->keep_raw = !hs->resumed12;
  TRY(hs_transcript_start(conn, h, hs->ch_copy, hs->ch_copy_len, false));
  hs_drop_ch_copy(hs);
  return hs_absorb(conn, whole);
}

/* The ServerHello's extensions (RFC 5746 3.4, RFC 7627, RFC 8422 5.1.2,
 * RFC 5077 3.2, RFC 7301): renegotiation_info must be there and empty,
 * the others well-formed; ALPN is kept. */
static moat_err take_extensions(moat_conn *conn, const ext_set *ext) {
  /* RFC 5746 3.4: a server without it may be open to the renegotiation
   * attack; one with a non-empty value is broken or attacked. */
  if (!ext_has(ext, X_RENEGOTIATION_INFO)) {
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "the TLS 1.2 server does not support secure "
                     "renegotiation (no renegotiation_info, RFC 5746)");
  }
  ext_params p = {.policy = conn->ctx, .peer = "server"};
  ext_values v;
  tls_cause why;
  if (ext_read_block(ext, M_SH12, ~X_BIT(X_SUPPORTED_GROUPS), &p, &v, &why) !=
      MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  if ((v.read & X_BIT(X_RECORD_SIZE_LIMIT)) != 0) {
    /* RFC 8449 4: both directions from each side's ChangeCipherSpec */
    hello_set_record_limits(conn, v.record_size_limit,
                            conn->ctx->record_size_limit);
  }
  /* RFC 6066 8: the server will staple (it may still not). */
  conn->hs->staple12 = (v.read & X_BIT(X_STATUS_REQUEST)) != 0;
  return (v.read & X_BIT(X_ALPN)) != 0 ? hello_set_alpn(conn, v.alpn) : MOAT_OK;
}

moat_err tls12_client_server_hello(moat_conn *conn, const server_hello *sh,
                                   cursor whole) {
  handshake *hs = conn->hs;
  TRY(take_suite(conn, sh->suite));
  if (sh->compression != 0) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server selected compression method %u, which moat "
                     "refuses",
                     sh->compression);
  }
  TRY(take_extensions(conn, &sh->ext));
  hs->ems = ext_has(&sh->ext, X_EXTENDED_MASTER_SECRET);
  if (!hs->ems && conn->ctx->require_ems) {
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "the server does not support the extended master secret "
                     "(RFC 7627), which this client requires");
  }
  hs->ticket_expected = ext_has(&sh->ext, X_SESSION_TICKET);
  memcpy(hs->server_random, sh->random, TLS_RANDOM_LEN);
  /* RFC 5246 7.4.1.3 / RFC 5077 3.4: an echo of the ID we offered with a
   * session means the server resumes it. */
  moat_session *s = hs->offered12;
  bool echoed = hs->session_id_len > 0 &&
                cur_equal(&sh->session_id, hs->session_id, hs->session_id_len);
  if (echoed && s == NULL) {
    /* The ID was the random one of TLS 1.3's compatibility mode (RFC
     * 8446 D.4): it names no session, so an echo is no resumption. */
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the TLS 1.2 server echoed a session ID that names no "
                     "session this client offered");
  }
  hs->resumed12 = echoed;
  memcpy(hs->session_id, cur_data(&sh->session_id), cur_len(&sh->session_id));
  hs->session_id_len = cur_len(&sh->session_id);
  TRY(start_transcript12(conn, whole));
  if (!hs->resumed12) {
    conn->state = ST_C12_WAIT_CERT;
    return MOAT_OK;
  }
  if (s->suite != conn->suite) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server resumed the session with suite %s, not its "
                     "own %s",
                     conn->suite->name, s->suite->name);
  }
  if (!hs->ems) {
    /* RFC 7627 5.3: the session had it; the resumption must too. */
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "the server resumed a session without the extended "
                     "master secret it was made with");
  }
  memcpy(hs->master, s->psk, TLS12_MASTER_LEN);
  conn->group = s->group; /* the original handshake's */
  keylog(conn, "CLIENT_RANDOM", hs->master, TLS12_MASTER_LEN);
  if (!session_restore_peer(conn, s)) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "session chain");
  }
  TRY(tls12_derive_keys(conn, &hs->pending_wr, &hs->pending_rd));
  hs_waive_auth_proofs(conn, "resumed session");
  conn->state = hs->ticket_expected ? ST_C12_WAIT_NST : ST_C12_WAIT_FINISHED;
  hs->ccs_allowed = !hs->ticket_expected;
  return MOAT_OK;
}

static bool offered_group12(const tls_policy *ctx, uint16_t group) {
  for (size_t i = 0; i < ctx->num_groups; i++) {
    if (ctx->groups[i]->group == group && !ctx->groups[i]->tls13_only) {
      return true;
    }
  }
  return false;
}

/* C12_WAIT_CERT */
static moat_err c12_wait_cert(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  bool empty;
  TRY(tls12_recv_certificate(conn, body, &empty));
  if (empty) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "the server sent an empty Certificate");
  }
  TRY(cert_leaf_pubkey(conn, conn->peer->e[0].der, conn->peer->e[0].len,
                       &hs->peer_key));
  key_type kt = pubkey_type(hs->peer_key);
  if (!suite_fits_key(conn->suite, kt)) {
    return conn_fail(conn, MOAT_ERR_UNSUPPORTED_CERTIFICATE,
                     "the server's %s certificate cannot serve %s",
                     key_type_name(kt), conn->suite->name);
  }
  /* RFC 8422 5.1: an ECDSA certificate's curve must be one we listed. */
  uint16_t curve = key_curve_group(kt);
  if (curve != 0 && !offered_group12(conn->ctx, curve)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server's certificate is on curve 0x%04x, which "
                     "this client did not list",
                     curve);
  }
  TRY(conn_verify_peer(conn));
  TRY(hs_absorb(conn, whole));
  if (hs->staple12) {
    conn->state = ST_C12_WAIT_STATUS;
    return MOAT_OK;
  }
  TRY(conn_check_staple(conn)); /* none can come */
  conn->state = ST_C12_WAIT_SKE;
  return MOAT_OK;
}

static moat_err on_ske(moat_conn *conn, cursor body, cursor whole);

/* C12_WAIT_STATUS: the CertificateStatus (RFC 6066 8), or the
 * ServerKeyExchange of a server that staples nothing after all. */
static moat_err c12_wait_status(moat_conn *conn) {
  uint8_t type;
  cursor body, whole, response;
  tls_cause why;
  TRY(hs_expect(conn, &type, &body, &whole));
  if (type == HT_SERVER_KEY_EXCHANGE) {
    TRY(conn_check_staple(conn));
    return on_ske(conn, body, whole);
  }
  if (cert_status_parse(body, &response, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  TRY(conn_keep_staple(conn, response));
  TRY(conn_check_staple(conn));
  TRY(hs_absorb(conn, whole));
  conn->state = ST_C12_WAIT_SKE;
  return MOAT_OK;
}

/* C12_WAIT_SKE: the server's signed ECDHE share; ours and the premaster
 * secret follow from it at once. */
static moat_err c12_wait_ske(moat_conn *conn) {
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  return on_ske(conn, body, whole);
}

static moat_err on_ske(moat_conn *conn, cursor body, cursor whole) {
  handshake *hs = conn->hs;
  server_kex ske;
  tls_cause why;
  if (ske_parse(body, &ske, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  const kex_alg *alg = kex_by_group(ske.group);
  if (alg == NULL || !offered_group12(conn->ctx, ske.group)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server chose group 0x%04x, which was not offered",
                     ske.group);
  }
  TRY(auth_ske_check(conn, &ske, alg));
  if (!hs_kex_respond(conn, alg, cur_data(&ske.point), cur_len(&ske.point),
                      hs->cke_share, &hs->cke_share_len, hs->pms, &hs->pms_len,
                      NULL)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server's %s key share is invalid", alg->name);
  }
  conn->group = alg;
  TRY(hs_absorb(conn, whole));
  conn->state = ST_C12_WAIT_CR_DONE;
  return MOAT_OK;
}

/* C12_WAIT_CR_DONE and C12_WAIT_DONE */
static moat_err c12_wait_cr_done(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  if (type == HT_CERTIFICATE_REQUEST) {
    cert_request cr;
    tls_cause why;
    if (cr12_parse(body, &cr, &why) != MOAT_OK) {
      return conn_fail_cause(conn, &why);
    }
    hs_take_cert_request(hs, &cr);
    TRY(hs_absorb(conn, whole));
    conn->state = ST_C12_WAIT_DONE;
    return MOAT_OK;
  }
  if (!cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "ServerHelloDone is not empty");
  }
  TRY(hs_absorb(conn, whole));
  if (!hs->cert_requested) {
    hs->keep_raw = false; /* no CertificateVerify to sign */
  }
  TRY(hs_key_change_boundary(conn));
  conn->state = ST_C12_SEND_FLIGHT;
  return MOAT_OK;
}

/* C12_SEND_FLIGHT: [Certificate] ClientKeyExchange [CertificateVerify]
 * ChangeCipherSpec Finished. */
static moat_err c12_send_flight(moat_conn *conn) {
  handshake *hs = conn->hs;
  const tls_policy *ctx = conn->ctx;
  builder b;
  const sig_scheme *scheme = NULL;
  if (hs->cert_requested) {
    scheme = sig12_choose(conn, ctx->ids, ctx->num_ids, hs->cr_sigalgs,
                          hs->num_cr_sigalgs, &conn->id);
    hs_builder(conn->hs, &b);
    /* RFC 5246 7.4.6: an empty list when we have nothing that fits. */
    bool built = scheme != NULL
                     ? cert12_build(&b, conn->id->chain_der,
                                    conn->id->chain_len, conn->id->chain_num)
                     : cert12_build(&b, NULL, NULL, 0);
    moat_err err = hs_send_codec(conn, &b, built, "Certificate");
    bld_cleanup(&b);
    TRY(err);
  }
  uint8_t cke[8 + KEX_MAX_SHARE];
  bld_init_fixed(&b, cke, sizeof(cke));
  if (!cke_build(&b, hs->cke_share, hs->cke_share_len)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building ClientKeyExchange");
  }
  TRY(hs_send(conn, &b));
  moat_err err = tls12_master_secret(conn, hs->pms, hs->pms_len);
  moat_wipe(hs->pms, sizeof(hs->pms));
  TRY(err);
  if (scheme != NULL) {
    hs_builder(conn->hs, &b);
    TRY(send_built(conn, &b, auth_cv12_build(conn, &b, scheme)));
  }
  hs->keep_raw = false;
  moat_free_wipe(hs->raw, hs->raw_cap);
  hs->raw = NULL;
  hs->raw_len = hs->raw_cap = 0;
  TRY(tls12_derive_keys(conn, &hs->pending_wr, &hs->pending_rd));
  TRY(tls12_send_ccs_finished(conn));
  conn->state = hs->ticket_expected ? ST_C12_WAIT_NST : ST_C12_WAIT_FINISHED;
  hs->ccs_allowed = !hs->ticket_expected;
  return MOAT_OK;
}

/* C12_WAIT_NST: the ticket announced in the ServerHello (RFC 5077 3.3). */
static moat_err c12_wait_nst(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  nst12 nst;
  tls_cause why;
  if (nst12_parse(body, &nst, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  if (!cur_done(&nst.ticket)) {
    moat_session_free(hs->nst_session);
    hs->nst_session =
        session_new_ticket(cur_data(&nst.ticket), cur_len(&nst.ticket));
    if (hs->nst_session == NULL) {
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "ticket");
    }
    /* RFC 8446 4.6.1's week bounds a hint of 0 ("unspecified") too. */
    hs->nst_lifetime = nst.lifetime_hint == 0 || nst.lifetime_hint > 604800
                           ? 7200
                           : nst.lifetime_hint;
  }
  TRY(hs_absorb(conn, whole));
  TRY(hs_key_change_boundary(conn));
  hs->ccs_allowed = true;
  conn->state = ST_C12_WAIT_FINISHED;
  return MOAT_OK;
}

/* C12_WAIT_FINISHED: after the server's ChangeCipherSpec. */
static moat_err c12_wait_finished(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  TRY(tls12_recv_finished(conn, body));
  TRY(hs_absorb(conn, whole));
  if (hs->resumed12) {
    TRY(tls12_send_ccs_finished(conn));
  }
  return tls12_enter_traffic(conn);
}

moat_err tls12_client_step(moat_conn *conn) {
  switch (conn->state) {
  case ST_C12_WAIT_CERT:
    return c12_wait_cert(conn);
  case ST_C12_WAIT_STATUS:
    return c12_wait_status(conn);
  case ST_C12_WAIT_SKE:
    return c12_wait_ske(conn);
  case ST_C12_WAIT_CR_DONE:
  case ST_C12_WAIT_DONE:
    return c12_wait_cr_done(conn);
  case ST_C12_SEND_FLIGHT:
    return c12_send_flight(conn);
  case ST_C12_WAIT_NST:
    return c12_wait_nst(conn);
  case ST_C12_WAIT_FINISHED:
    return c12_wait_finished(conn);
  default:
    return conn_fail(conn, MOAT_ERR_INTERNAL, "TLS 1.2 client in state %s",
                     hs_state_name(conn->state));
  }
}
