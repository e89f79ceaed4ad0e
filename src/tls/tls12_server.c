/* The server's TLS 1.2 flow (RFC 5246 7.3, RFC 8422, RFC 5077, RFC 7627):
 * one function per state.  The hello layer hands over the ClientHello. */
#include <stddef.h>
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"

static moat_err send_built(moat_conn *conn, builder *b, moat_err built) {
  moat_err err = built == MOAT_OK ? hs_send(conn, b) : built;
  return err;
}

static bool offers_code(cursor list, uint16_t want) {
  uint16_t code;
  while (cur_u16(&list, &code)) {
    if (code == want) {
      return true;
    }
  }
  return false;
}

/* In TLS 1.2 the client's supported_groups also names the curves it
 * takes for ECDSA certificates (RFC 8422 5.1): an ECDSA suite is chosen
 * only when our key's curve is among them (or the client sent no list;
 * secp256r1 is then assumed, RFC 8422 4).  EdDSA keys are named by
 * signature_algorithms alone. */
static bool client_takes_key_curve(const handshake *hs, key_type kt) {
  uint16_t curve = key_curve_group(kt);
  if (curve == 0) {
    return true;
  }
  if (hs->num_peer_groups == 0) {
    return curve == 0x0017;
  }
  for (size_t j = 0; j < hs->num_peer_groups; j++) {
    if (hs->peer_groups[j] == curve) {
      return true;
    }
  }
  return false;
}

/* Server preference: our first TLS 1.2 suite the client offers whose
 * authentication fits one of our keys, with a curve the client takes and
 * a signature scheme it accepts; that key's chain is the one we send
 * (conn->id) and *out_scheme signs the ServerKeyExchange. */
static moat_err choose_suite12(moat_conn *conn, const client_hello *ch,
                               const sig_scheme **out_scheme) {
  const tls_policy *ctx = conn->ctx;
  handshake *hs = conn->hs;
  bool curve_refused = false;
  bool scheme_refused = false;
  for (size_t i = 0; i < ctx->num_suites; i++) {
    const tls_suite *s = ctx->suites[i];
    if (s->version != MOAT_TLS1_2 || !offers_code(ch->suites, s->code)) {
      continue;
    }
    for (size_t k = 0; k < ctx->num_ids; k++) {
      key_type kt = privkey_type(ctx->ids[k].key);
      if (!suite_fits_key(s, kt)) {
        continue;
      }
      if (s->auth == AUTH_ECDSA && !client_takes_key_curve(hs, kt)) {
        curve_refused = true;
        continue;
      }
      const sig_scheme *scheme =
          sig12_choose(conn, &ctx->ids[k], 1, hs->peer_sigalgs,
                       hs->num_peer_sigalgs, &conn->id);
      if (scheme == NULL) {
        scheme_refused = true;
        continue;
      }
      conn->suite = s;
      *out_scheme = scheme;
      return MOAT_OK;
    }
  }
  cursor c = ch->suites;
  uint16_t code;
  const char *refused = NULL;
  while (refused == NULL && cur_u16(&c, &code)) {
    refused = suite_refused_name(code);
  }
  char keys[64];
  ctx_key_names(ctx, keys, sizeof(keys));
  if (scheme_refused) {
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "no signature scheme the client accepts fits our %s key",
                     keys);
  }
  if (curve_refused) {
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "the TLS 1.2 client's supported_groups do not include "
                     "the curve of our %s key (RFC 8422 5.1)",
                     keys);
  }
  return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                   "no TLS 1.2 cipher suite in common with the client for "
                   "our %s key%s%s%s",
                   keys, refused ? " (it offers " : "", refused ? refused : "",
                   refused ? " and the like, which moat refuses)" : "");
}

static moat_err choose_group12(moat_conn *conn) {
  handshake *hs = conn->hs;
  const tls_policy *ctx = conn->ctx;
  for (size_t i = 0; i < ctx->num_groups; i++) {
    uint16_t g = ctx->groups[i]->group;
    if (ctx->groups[i]->tls13_only) {
      continue; /* the hybrids are TLS 1.3 key shares */
    }
    /* RFC 8422 4: without supported_groups, secp256r1 is assumed. */
    bool offered = hs->num_peer_groups == 0 && g == 0x0017;
    for (size_t j = 0; j < hs->num_peer_groups && !offered; j++) {
      offered = hs->peer_groups[j] == g;
    }
    if (offered) {
      hs->kex12 = ctx->groups[i];
      return MOAT_OK;
    }
  }
  return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                   "no key exchange group in common with the TLS 1.2 client");
}

/* A session the ClientHello asks to resume: a ticket (RFC 5077 3.1) or
 * else a cached session ID.  *out_found false means a full handshake. */
static moat_err find_session(moat_conn *conn, const client_hello *ch,
                             bool *out_found) {
  handshake *hs = conn->hs;
  const tls_policy *ctx = conn->ctx;
  moat_session *st = &hs->state12;
  *out_found = false;
  bool found = false;
  hs->session_asked12 = !cur_done(&ch->session_id) ||
                        (ext_has(&ch->ext, X_SESSION_TICKET) &&
                         !cur_done(&ch->ext.data[X_SESSION_TICKET]));
  if (ctx->tickets && ext_has(&ch->ext, X_SESSION_TICKET)) {
    cursor t = ch->ext.data[X_SESSION_TICKET];
    found = !cur_done(&t) && ticket_open(conn, cur_data(&t), cur_len(&t), st) &&
            st->version == MOAT_TLS1_2;
  }
  if (!found) {
    found = sess_cache_get(ctx->sess_cache, cur_data(&ch->session_id),
                           cur_len(&ch->session_id), ctx_now(ctx), st);
  }
  if (!found || st->version != MOAT_TLS1_2 || !st->ems ||
      !suite_offered(ctx, st->suite->code, MOAT_TLS1_2) ||
      !offers_code(ch->suites, st->suite->code)) {
    /* Not ours, expired, made without EMS (RFC 7627 5.3) or with a suite
     * no longer on offer: a full handshake. */
    moat_wipe(st, sizeof(*st));
    return MOAT_OK;
  }
  if (!hs->ems) {
    /* RFC 7627 5.3: the session had it and this ClientHello drops it. */
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "the client resumes an extended-master-secret session "
                     "without the extension");
  }
  *out_found = true;
  return MOAT_OK;
}

/* The ServerHello and, for a full handshake, Certificate,
 * ServerKeyExchange, [CertificateRequest] and ServerHelloDone. */
static moat_err send_full_flight(moat_conn *conn, builder *b,
                                 const sig_scheme *scheme) {
  handshake *hs = conn->hs;
  const tls_policy *ctx = conn->ctx;
  bld_reset(b);
  TRY(hs_send_codec(conn, b,
                    cert12_build(b, conn->id->chain_der, conn->id->chain_len,
                                 conn->id->chain_num),
                    "Certificate"));
  if (hs->staple12) {
    /* RFC 6066 8: CertificateStatus right after the Certificate. */
    bld_reset(b);
    TRY(hs_send_codec(
        conn, b, cert_status12_build(b, conn->id->ocsp_der, conn->id->ocsp_len),
        "CertificateStatus"));
  }
  uint8_t share[KEX_MAX_SHARE];
  size_t share_len;
  if (!hs_kex_generate(conn, hs->kex12, &hs->kex12_key, share, &share_len)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "generating a %s key failed",
                     hs->kex12->name);
  }
  conn->group = hs->kex12;
  bld_reset(b);
  TRY(send_built(
      conn, b,
      auth_ske_build(conn, b, hs->kex12->group, share, share_len, scheme)));
  conn->our_sig = scheme;
  if (ctx->verify_mode != MOAT_VERIFY_NONE) {
    bld_reset(b);
    TRY(hs_send_codec(conn, b, cr12_build(b, ctx), "CertificateRequest"));
    hs->cert_requested = true;
  }
  bld_reset(b);
  msg_open(b, HT_SERVER_HELLO_DONE);
  msg_close(b);
  TRY(hs_send(conn, b));
  if (!hs->cert_requested) {
    hs_waive_auth_proofs(conn, "no client certificate requested");
  }
  conn->state = hs->cert_requested ? ST_S12_WAIT_CERT : ST_S12_WAIT_CKE;
  return MOAT_OK;
}

/* RFC 5077 3.3: a ticket for the session this handshake made. */
static moat_err send_ticket12(moat_conn *conn, builder *b) {
  handshake *hs = conn->hs;
  moat_session st;
  memset(&st, 0, sizeof(st));
  st.version = MOAT_TLS1_2;
  st.suite = conn->suite;
  st.created = hs->resumed12 ? hs->state12.created : ctx_now(conn->ctx);
  st.lifetime = conn->ctx->ticket_lifetime;
  st.ems = hs->ems;
  st.group = conn->group;
  memcpy(st.psk, hs->master, TLS12_MASTER_LEN);
  st.psk_len = TLS12_MASTER_LEN;
  uint8_t nonce[AEAD_NONCE_LEN];
  uint8_t ticket[TICKET_MAX];
  size_t ticket_len = 0;
  moat_err err =
      ctx_random(conn->ctx, nonce, sizeof(nonce))
          ? ticket_seal(conn, &st, nonce, ticket, sizeof(ticket), &ticket_len)
          : conn_fail(conn, MOAT_ERR_CRYPTO, "no randomness");
  moat_wipe(&st, sizeof(st));
  TRY(err);
  bld_reset(b);
  return hs_send_codec(
      conn, b, nst12_build(b, conn->ctx->ticket_lifetime, ticket, ticket_len),
      "NewSessionTicket");
}

/* A new full-handshake session goes into the ID cache once the
 * handshake has proved the client (RFC 5246 7.4.1.2). */
static void cache_session(moat_conn *conn) {
  handshake *hs = conn->hs;
  if (hs->resumed12 || hs->session_id_len != 32 || !hs->ems) {
    return;
  }
  moat_session st;
  memset(&st, 0, sizeof(st));
  st.version = MOAT_TLS1_2;
  st.suite = conn->suite;
  st.created = ctx_now(conn->ctx);
  st.lifetime = conn->ctx->ticket_lifetime;
  st.ems = true;
  st.group = conn->group;
  memcpy(st.psk, hs->master, TLS12_MASTER_LEN);
  st.psk_len = TLS12_MASTER_LEN;
  memcpy(st.session_id, hs->session_id, 32);
  st.session_id_len = 32;
  (void)sess_cache_put(conn->ctx->sess_cache, &st);
  moat_wipe(&st, sizeof(st));
}

moat_err tls12_server_client_hello(moat_conn *conn, const client_hello *ch,
                                   cursor whole) {
  handshake *hs = conn->hs;
  const tls_policy *ctx = conn->ctx;
  memcpy(hs->client_random, ch->random, TLS_RANDOM_LEN);
  /* RFC 5246 7.4.1.2: null compression must be offered; moat uses no
   * other. */
  cursor comp = ch->compression;
  uint8_t m;
  bool null_offered = false;
  while (cur_u8(&comp, &m)) {
    null_offered |= m == 0;
  }
  if (!null_offered) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the client offers only compressed records, which moat "
                     "refuses");
  }
  /* RFC 5746 3.6: renegotiation_info, if sent, is empty (the SCSV needs
   * no reading: moat never renegotiates); ec_point_formats and
   * extended_master_secret well-formed. */
  ext_params ep = {.peer = "client"};
  ext_values v;
  tls_cause why;
  if (ext_read_block(&ch->ext, M_CH,
                     X_BIT(X_RENEGOTIATION_INFO) | X_BIT(X_EC_POINT_FORMATS) |
                         X_BIT(X_EXTENDED_MASTER_SECRET),
                     &ep, &v, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  TRY(hello_take_offers(conn, ch));
  if (!ext_has(&ch->ext, X_SIGNATURE_ALGORITHMS)) {
    /* RFC 5246 7.4.1.4.1 would default to SHA-1, which moat refuses. */
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "the TLS 1.2 client sends no signature_algorithms; its "
                     "SHA-1 default is refused");
  }
  hs->ems = ext_has(&ch->ext, X_EXTENDED_MASTER_SECRET);
  if (!hs->ems && ctx->require_ems) {
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "the client does not support the extended master secret "
                     "(RFC 7627), which this server requires");
  }
  bool resume;
  TRY(find_session(conn, ch, &resume));
  hs->resumed12 = resume;
  hs->send_ticket = ctx->tickets && ctx->num_tickets > 0 &&
                    ext_has(&ch->ext, X_SESSION_TICKET);
  const sig_scheme *scheme = NULL;
  if (resume) {
    conn->suite = hs->state12.suite;
    conn->group = hs->state12.group; /* the original handshake's */
    /* RFC 5077 3.4: echo the client's session ID to say "resumed". */
    memcpy(hs->session_id, cur_data(&ch->session_id), cur_len(&ch->session_id));
    hs->session_id_len = cur_len(&ch->session_id);
  } else {
    if (ctx->num_ids == 0) {
      return conn_fail_alert(conn, MOAT_ERR_NO_CERTIFICATE,
                             ALERT_HANDSHAKE_FAILURE,
                             "the server has no certificate and key loaded");
    }
    TRY(choose_suite12(conn, ch, &scheme));
    TRY(choose_group12(conn));
    hs->session_id_len = 0;
    /* A session ID only when the cache will keep the session. */
    if (sess_cache_enabled(ctx->sess_cache) && hs->ems) {
      hs->session_id_len = 32;
      if (!ctx_random(ctx, hs->session_id, 32)) {
        return conn_fail(conn, MOAT_ERR_CRYPTO, "no randomness");
      }
    }
  }
  const hash_alg *h = hash_get(conn->suite->hash);
  hs->ks.hash = h;
  if (hs_prf_hmac(hs, h) == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "PRF");
  }
  hs->keep_raw = !resume && ctx->verify_mode != MOAT_VERIFY_NONE;
  TRY(hs_transcript_start(conn, h, NULL, 0, false));
  TRY(hs_absorb(conn, whole));
  TRY(hs_key_change_boundary(conn));
  if (!ctx_random(ctx, hs->server_random, TLS_RANDOM_LEN)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "no randomness");
  }
  hello_mark_downgrade(conn, hs->server_random);
  builder b;
  hs_builder(conn->hs, &b);
  /* RFC 6066 8: a full handshake answers an OCSP status_request when
   * there is a response to staple. */
  hs->staple12 = !resume && hs->peer_wants_ocsp && conn->id != NULL &&
                 conn->id->ocsp_der != NULL;
  sh_params p = {.random = hs->server_random,
                 .session_id = hs->session_id,
                 .session_id_len = hs->session_id_len,
                 .suite = conn->suite->code,
                 .ext = {.ack_sni = conn->hostname != NULL,
                         .alpn = conn->alpn,
                         .ems = hs->ems,
                         .point_formats = ext_has(&ch->ext, X_EC_POINT_FORMATS),
                         .tickets12 = hs->send_ticket,
                         .record_size_limit = conn->rsl_ours,
                         .status_request = hs->staple12}};
  moat_err err = sh_build12(&b, &p, &why);
  err = err == MOAT_OK ? hs_send(conn, &b) : conn_fail_cause(conn, &why);
  if (err == MOAT_OK && !resume) {
    err = send_full_flight(conn, &b, scheme);
  } else if (err == MOAT_OK) {
    memcpy(hs->master, hs->state12.psk, TLS12_MASTER_LEN);
    moat_wipe(&hs->state12, sizeof(hs->state12));
    keylog(conn, "CLIENT_RANDOM", hs->master, TLS12_MASTER_LEN);
    hs_waive_auth_proofs(conn, "resumed session");
    if (hs->send_ticket) {
      err = send_ticket12(conn, &b);
    }
    err = err == MOAT_OK
              ? tls12_derive_keys(conn, &hs->pending_wr, &hs->pending_rd)
              : err;
    err = err == MOAT_OK ? tls12_send_ccs_finished(conn) : err;
    hs->ccs_allowed = true;
    conn->state = ST_S12_WAIT_FINISHED;
  }
  bld_cleanup(&b);
  return err;
}

/* S12_WAIT_CERT: the client's Certificate, which may be empty. */
static moat_err s12_wait_cert(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  bool empty;
  TRY(tls12_recv_certificate(conn, body, &empty));
  if (empty) {
    if (conn->ctx->verify_mode == MOAT_VERIFY_REQUIRED) {
      return conn_fail(conn, MOAT_ERR_CERTIFICATE_REQUIRED,
                       "the client sent no certificate and one is required");
    }
    hs->peer_sent_empty_cert = true;
    hs_waive_auth_proofs(conn, "the client sent no certificate (optional)");
    hs->keep_raw = false;
  } else {
    TRY(cert_leaf_pubkey(conn, conn->peer->e[0].der, conn->peer->e[0].len,
                         &hs->peer_key));
    TRY(conn_verify_peer(conn));
  }
  TRY(hs_absorb(conn, whole));
  conn->state = ST_S12_WAIT_CKE;
  return MOAT_OK;
}

/* S12_WAIT_CKE: the client's share; the master secret and keys follow. */
static moat_err s12_wait_cke(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  cursor point;
  tls_cause why;
  if (cke_parse(body, &point, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  uint8_t pms[KEX_MAX_SECRET];
  size_t pms_len;
  if (!kex_finish(hs->kex12_key, cur_data(&point), cur_len(&point), pms,
                  &pms_len)) {
    moat_wipe(pms, sizeof(pms));
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the client's %s key share is invalid", hs->kex12->name);
  }
  moat_err err = hs_absorb(conn, whole);
  err = err == MOAT_OK ? tls12_master_secret(conn, pms, pms_len) : err;
  moat_wipe(pms, sizeof(pms));
  TRY(err);
  TRY(tls12_derive_keys(conn, &hs->pending_wr, &hs->pending_rd));
  if (hs->peer_key != NULL) {
    conn->state = ST_S12_WAIT_CV;
    return MOAT_OK;
  }
  hs->ccs_allowed = true;
  conn->state = ST_S12_WAIT_FINISHED;
  return MOAT_OK;
}

/* S12_WAIT_CV: the client's signature over the handshake so far. */
static moat_err s12_wait_cv(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  TRY(auth_cv12_check(conn, body));
  hs->keep_raw = false;
  moat_free_wipe(hs->raw, hs->raw_cap);
  hs->raw = NULL;
  hs->raw_len = hs->raw_cap = 0;
  TRY(hs_absorb(conn, whole));
  hs->ccs_allowed = true;
  conn->state = ST_S12_WAIT_FINISHED;
  return MOAT_OK;
}

/* S12_WAIT_FINISHED: after the client's ChangeCipherSpec. */
static moat_err s12_wait_finished(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  TRY(tls12_recv_finished(conn, body));
  TRY(hs_absorb(conn, whole));
  if (!hs->resumed12) {
    if (hs->send_ticket) {
      builder b;
      hs_builder(conn->hs, &b);
      moat_err err = send_ticket12(conn, &b);
      bld_cleanup(&b);
      TRY(err);
    }
    TRY(tls12_send_ccs_finished(conn));
    cache_session(conn);
  }
  return tls12_enter_traffic(conn);
}

moat_err tls12_server_step(moat_conn *conn) {
  switch (conn->state) {
  case ST_S12_WAIT_CERT:
    return s12_wait_cert(conn);
  case ST_S12_WAIT_CKE:
    return s12_wait_cke(conn);
  case ST_S12_WAIT_CV:
    return s12_wait_cv(conn);
  case ST_S12_WAIT_FINISHED:
    return s12_wait_finished(conn);
  default:
    return conn_fail(conn, MOAT_ERR_INTERNAL, "TLS 1.2 server in state %s",
                     hs_state_name(conn->state));
  }
}
