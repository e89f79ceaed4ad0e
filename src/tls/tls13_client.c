/* The client's TLS 1.3 flow (RFC 8446 2, A.1): one function per state. */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"

static const uint8_t k_ccs[1] = {1};

static moat_err send_msg(moat_conn *conn, builder *b) {
  moat_err err = hs_send(conn, b);
  bld_cleanup(b);
  return err;
}

/* Our key shares for a ClientHello, written into bufs.  RFC 8446 4.1.2:
 * after a HelloRetryRequest that names no group (a cookie only), the
 * second ClientHello repeats the same shares; a retry that names one has
 * freed the old keys. */
static moat_err make_shares(moat_conn *conn, uint8_t (*bufs)[KEX_MAX_SHARE],
                            ext_share *out) {
  handshake *hs = conn->hs;
  for (size_t i = 0; i < hs->num_shares; i++) {
    out[i].group = hs->share_alg[i]->group;
    out[i].data = bufs[i];
    if (hs->share_key[i] != NULL) {
      if (!kex_key_share(hs->share_key[i], bufs[i], &out[i].len)) {
        return conn_fail(conn, MOAT_ERR_CRYPTO, "reading a %s share failed",
                         hs->share_alg[i]->name);
      }
    } else if (!hs_kex_generate(conn, hs->share_alg[i], &hs->share_key[i],
                                bufs[i], &out[i].len)) {
      return conn_fail(conn, MOAT_ERR_CRYPTO, "generating a %s key failed",
                       hs->share_alg[i]->name);
    }
  }
  return MOAT_OK;
}

/* Fills in the PSK binder of a built ClientHello (msg is the whole
 * message; RFC 8446 4.2.11.2). */
static moat_err patch_binder(moat_conn *conn, uint8_t *msg, size_t len) {
  handshake *hs = conn->hs;
  const hash_alg *h = hs->ks.hash;
  size_t tail = ext_psk_binders_len(h->len);
  uint8_t th[HASH_MAX_LEN];
  if (len < tail + 4) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "ClientHello too short");
  }
  /* ClientHello1 starts a transcript with the PSK's hash, which the
   * ServerHello usually confirms (start_transcript checks); a retry's
   * ClientHello goes through hs_send, which adds it whole. */
  bool in_place = hs->transcript == NULL;
  if (in_place) {
    TRY(hs_transcript_start(conn, h, NULL, 0, false));
  }
  if (!hs_truncated_hash(conn, h, msg, len - tail, th, in_place) ||
      !psk_binder(&hs->ks, th, msg + len - h->len) ||
      (in_place && !hash_update(hs->transcript, msg + len - tail, tail))) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "computing the PSK binder");
  }
  return MOAT_OK;
}

/* The ClientHello for the handshake state: the first one, or the second
 * after a HelloRetryRequest (new shares or the cookie). */
static moat_err build_client_hello(moat_conn *conn, builder *b) {
  handshake *hs = conn->hs;
  const tls_policy *ctx = conn->ctx;
  ch_params p = {hs->client_random, hs->session_id, hs->session_id_len, {0}};
  ext_params *e = &p.ext;
  e->policy = ctx;
  e->tls13 = ctx_allows(ctx, MOAT_TLS1_3);
  e->tls12 = ctx_allows(ctx, MOAT_TLS1_2);
  e->host = conn->hostname;
  e->status_request = ctx->ocsp_stapling != MOAT_OCSP_STAPLING_OFF;
  uint8_t bufs[2][KEX_MAX_SHARE];
  ext_share shares[2];
  if (e->tls13) {
    TRY(make_shares(conn, bufs, shares));
    e->shares = shares;
    e->num_shares = hs->num_shares;
  }
  e->cookie = hs->cookie;
  e->cookie_len = hs->cookie_len;
  e->tickets12 = ctx->tickets;
  if (hs->offered12 != NULL) {
    e->ticket12 = hs->offered12->ticket;
    e->ticket12_len = hs->offered12->ticket_len;
  }
  const moat_session *s = conn->session;
  bool psk = hs->psk_offered && e->tls13 && s->ticket != NULL;
  if (psk) {
    /* RFC 8446 4.2.11.1: ticket age in milliseconds plus age_add. */
    int64_t age_s = ctx_now(ctx) - s->created;
    uint32_t age_ms = age_s > 0 ? (uint32_t)(age_s * 1000) : 0;
    e->ticket = s->ticket;
    e->ticket_len = s->ticket_len;
    e->obfuscated_age = age_ms + s->age_add;
    e->binder_len = hash_get(s->suite->hash)->len;
  }
  tls_cause why;
  if (ch_build(b, &p, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  /* RFC 8879 3: the ClientHello listed the policy's algorithms */
  hs->cert_comp_offered = ext_cert_comp_send(M_CH, e);
  return psk ? patch_binder(conn, bld_data(b), bld_len(b)) : MOAT_OK;
}

/* C_START: build and send the ClientHello. */
static moat_err c_start(moat_conn *conn) {
  const tls_policy *ctx = conn->ctx;
  if (ctx->num_groups == 0 || ctx->num_suites == 0) {
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "no groups or cipher suites configured");
  }
  handshake *hs = hs_new();
  if (hs == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "handshake state");
  }
  conn->hs = hs;
  /* RFC 8446 D.4: middlebox compatibility, when TLS 1.3 may be agreed;
   * a client limited to TLS 1.2 sends an ID only to resume (below). */
  hs->session_id_len = 32;
  /* One draw for the random and the legacy session id. */
  uint8_t rnd[TLS_RANDOM_LEN + sizeof(hs->session_id)];
  if (!ctx_random(ctx, rnd, TLS_RANDOM_LEN + hs->session_id_len)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "no randomness");
  }
  memcpy(hs->client_random, rnd, TLS_RANDOM_LEN);
  memcpy(hs->session_id, rnd + TLS_RANDOM_LEN, hs->session_id_len);
  bool tls13 = ctx_allows(ctx, MOAT_TLS1_3);
  hs->share_alg[0] = ctx->groups[0];
  hs->num_shares = 1;
  /* A hybrid first goes with a share for the first classical group too
   * (X25519MLKEM768 and X25519 by default), so a server without the
   * hybrid needs no HelloRetryRequest. */
  for (size_t i = 1; i < ctx->num_groups && ctx->groups[0]->classical; i++) {
    if (ctx->groups[i]->classical == NULL) {
      hs->share_alg[hs->num_shares++] = ctx->groups[i];
      break;
    }
  }
  moat_session *sess = conn->session;
  bool fresh =
      sess != NULL && ctx_now(ctx) - sess->created <= (int64_t)sess->lifetime;
  if (fresh && sess->version == MOAT_TLS1_2 && ctx_allows(ctx, MOAT_TLS1_2) &&
      suite_offered(ctx, sess->suite->code, MOAT_TLS1_2) && sess->ems) {
    /* RFC 5077 3.4 / RFC 5246 7.4.1.2: offer the TLS 1.2 session; never
     * one made without the extended master secret (RFC 7627 5.3). */
    hs->offered12 = sess;
    if (sess->ticket == NULL) {
      memcpy(hs->session_id, sess->session_id, sess->session_id_len);
      hs->session_id_len = sess->session_id_len;
    }
  }
  if (hs->offered12 == NULL && !tls13) {
    hs->session_id_len = 0;
  }
  if (fresh && sess->version == MOAT_TLS1_3 && tls13 &&
      suite_offered(ctx, sess->suite->code, MOAT_TLS1_3)) {
    /* RFC 8446 2.2: offer the ticket; the early secret comes from it. */
    if (!ks_init(&hs->ks, hash_get(sess->suite->hash), sess->psk,
                 sess->psk_len)) {
      return conn_fail(conn, MOAT_ERR_CRYPTO, "early secret");
    }
    hs->psk_offered = true;
  }
  /* Built in the handshake's scratch (or the heap buffer it outgrew
   * it into), which then keeps it as the copy: no second buffer. */
  builder b;
  hs_builder(hs, &b);
  moat_err err = build_client_hello(conn, &b);
  if (err == MOAT_OK && bld_finish(&b)) {
    hs->ch_copy = bld_data(&b);
    hs->ch_copy_len = bld_len(&b);
    err = rec_write(conn, CT_HANDSHAKE, bld_data(&b), bld_len(&b));
  } else {
    err = err != MOAT_OK ? err
                         : conn_fail(conn, MOAT_ERR_INTERNAL, "ClientHello");
    bld_cleanup(&b);
  }
  TRY(err);
  conn->state = ST_C_WAIT_SH;
  return MOAT_OK;
}

static bool offered_group(const tls_policy *ctx, uint16_t group) {
  for (size_t i = 0; i < ctx->num_groups; i++) {
    if (ctx->groups[i]->group == group) {
      return true;
    }
  }
  return false;
}

/* Starts the transcript: the hash is known once the server picked the
 * suite.  After a HelloRetryRequest ClientHello1 is replaced by
 * message_hash (RFC 8446 4.4.1). */
static moat_err start_transcript(moat_conn *conn, bool hrr) {
  handshake *hs = conn->hs;
  const hash_alg *h = hash_get(conn->suite->hash);
  /* With a PSK offered, ClientHello1 was hashed with the binder
   * (patch_binder); that serves when the hash is the same. */
  if (!hrr && hs->transcript != NULL && hash_ctx_alg(hs->transcript) == h) {
    return MOAT_OK;
  }
  return hs_transcript_start(conn, h, hs->ch_copy, hs->ch_copy_len, hrr);
}

static moat_err check_server_hello(moat_conn *conn, const server_hello *sh) {
  handshake *hs = conn->hs;
  if (!cur_equal(&sh->session_id, hs->session_id, hs->session_id_len)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server did not echo our legacy_session_id");
  }
  if (!suite_offered(conn->ctx, sh->suite, MOAT_TLS1_3)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server selected cipher suite 0x%04x, which was not "
                     "offered",
                     sh->suite);
  }
  if (sh->compression != 0) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server selected compression method %u",
                     sh->compression);
  }
  if (hs->hrr_sent_or_seen && conn->suite->code != sh->suite) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the ServerHello suite differs from the "
                     "HelloRetryRequest's");
  }
  conn->suite = suite_by_code(sh->suite);
  return MOAT_OK;
}

static moat_err on_hello_retry(moat_conn *conn, const server_hello *sh,
                               cursor whole) {
  handshake *hs = conn->hs;
  if (hs->hrr_sent_or_seen) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "a second HelloRetryRequest");
  }
  hs->hrr_sent_or_seen = true;
  conn->hello_retry = true;
  bool changed = false;
  ext_params p = {.policy = conn->ctx, .peer = "server"};
  ext_values v;
  tls_cause why;
  if (ext_read_block(&sh->ext, M_HRR, X_BIT(X_KEY_SHARE) | X_BIT(X_COOKIE), &p,
                     &v, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  if (ext_has(&sh->ext, X_KEY_SHARE)) {
    uint16_t group = v.group;
    /* RFC 8446 4.2.8: a group we support and did not already share. */
    const kex_alg *alg = kex_by_group(group);
    bool shared = false;
    for (size_t i = 0; i < hs->num_shares; i++) {
      shared = shared || group == hs->share_alg[i]->group;
    }
    if (alg == NULL || !offered_group(conn->ctx, group) || shared) {
      return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                       "HelloRetryRequest asks for group 0x%04x, which is "
                       "unsupported or already offered",
                       group);
    }
    /* RFC 8446 4.1.2: the second ClientHello holds one share, for it. */
    for (size_t i = 0; i < hs->num_shares; i++) {
      kex_key_free(hs->share_key[i]);
      hs->share_key[i] = NULL;
    }
    hs->share_alg[0] = alg;
    hs->num_shares = 1;
    changed = true;
  }
  if (ext_has(&sh->ext, X_COOKIE)) {
    hs->cookie = moat_memdup(cur_data(&v.cookie), cur_len(&v.cookie));
    hs->cookie_len = cur_len(&v.cookie);
    if (hs->cookie == NULL) {
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "cookie");
    }
    changed = true;
  }
  if (hs->psk_offered &&
      hash_get(conn->session->suite->hash) != hash_get(conn->suite->hash)) {
    hs->psk_offered = false; /* RFC 8446 4.1.4: the PSK no longer fits */
  }
  if (!changed) {
    /* RFC 8446 4.1.4: a retry that would change nothing. */
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "HelloRetryRequest changes nothing in the ClientHello");
  }
  TRY(start_transcript(conn, true));
  TRY(hs_absorb(conn, whole));
  TRY(hs_key_change_boundary(conn));
  /* RFC 8446 D.4: change_cipher_spec before the second flight. */
  TRY(rec_write(conn, CT_CHANGE_CIPHER_SPEC, k_ccs, 1));
  builder b;
  hs_builder(conn->hs, &b);
  moat_err err = build_client_hello(conn, &b);
  if (err == MOAT_OK) {
    err = send_msg(conn, &b);
  } else {
    bld_cleanup(&b);
  }
  return err;
}

/* What every ClientHello of ours offered a TLS 1.3 server, and a TLS
 * 1.2 one (a ServerHello may answer only these, RFC 8446 4.2). */
static uint32_t offered13(const moat_conn *conn) {
  return X_BIT(X_SUPPORTED_VERSIONS) | X_BIT(X_KEY_SHARE) | X_BIT(X_COOKIE) |
         (conn->hs->psk_offered ? X_BIT(X_PRE_SHARED_KEY) : 0);
}

static uint32_t offered12(const moat_conn *conn) {
  return X_BIT(X_RENEGOTIATION_INFO) | X_BIT(X_EC_POINT_FORMATS) |
         X_BIT(X_EXTENDED_MASTER_SECRET) | X_BIT(X_SESSION_TICKET) |
         X_BIT(X_SUPPORTED_GROUPS) |
         (conn->hostname != NULL ? X_BIT(X_SERVER_NAME) : 0) |
         (conn->ctx->alpn_wire_len > 0 ? X_BIT(X_ALPN) : 0) |
         (conn->ctx->record_size_limit != 0 ? X_BIT(X_RECORD_SIZE_LIMIT) : 0) |
         (conn->ctx->ocsp_stapling != MOAT_OCSP_STAPLING_OFF
              ? X_BIT(X_STATUS_REQUEST)
              : 0);
}

/* C_WAIT_SH: ServerHello or HelloRetryRequest. */
static moat_err c_wait_sh(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  server_hello sh;
  tls_cause cause;
  if (sh_parse(body, offered13(conn), offered12(conn), &sh, &cause) !=
      MOAT_OK) {
    return conn_fail_cause(conn, &cause);
  }
  uint16_t version;
  TRY(hello_client_version(conn, &sh, &version));
  if (version == MOAT_TLS1_2) {
    if (hs->hrr_sent_or_seen) {
      return conn_fail(conn, MOAT_ERR_PROTOCOL_VERSION,
                       "the server chose TLS 1.2 after a TLS 1.3 "
                       "HelloRetryRequest");
    }
    conn->version = MOAT_TLS1_2;
    return tls12_client_server_hello(conn, &sh, whole);
  }
  conn->version = MOAT_TLS1_3;
  TRY(check_server_hello(conn, &sh));
  if (sh.is_hrr) {
    return on_hello_retry(conn, &sh, whole);
  }
  if (!ext_has(&sh.ext, X_KEY_SHARE)) {
    return conn_fail(conn, MOAT_ERR_MISSING_EXTENSION,
                     "ServerHello without key_share (PSK-only is not "
                     "offered)");
  }
  ext_params p = {.policy = conn->ctx, .peer = "server"};
  ext_values v;
  if (ext_read_block(&sh.ext, M_SH,
                     X_BIT(X_KEY_SHARE) | X_BIT(X_PRE_SHARED_KEY), &p, &v,
                     &cause) != MOAT_OK) {
    return conn_fail_cause(conn, &cause);
  }
  uint16_t group = v.group;
  cursor share = v.share;
  size_t idx = hs->num_shares;
  for (size_t i = 0; i < hs->num_shares; i++) {
    if (hs->share_alg[i]->group == group) {
      idx = i;
    }
  }
  if (idx == hs->num_shares) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server's key share is for group 0x%04x, which we "
                     "did not send",
                     group);
  }
  memcpy(hs->server_random, sh.random, TLS_RANDOM_LEN);
  /* The message is consumed below; keep the share. */
  uint8_t peer_share[KEX_MAX_SHARE];
  size_t peer_share_len = cur_len(&share);
  if (peer_share_len > sizeof(peer_share)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server's key share is %zu bytes long",
                     peer_share_len);
  }
  memcpy(peer_share, cur_data(&share), peer_share_len);
  if (ext_has(&sh.ext, X_PRE_SHARED_KEY)) {
    uint16_t selected = v.psk_selected;
    /* RFC 8446 4.2.11: an identity we sent, with the PSK's hash. */
    if (selected != 0 ||
        hash_get(conn->session->suite->hash) != hash_get(conn->suite->hash)) {
      return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                       "the server selected PSK %u with suite %s, which does "
                       "not fit the offered ticket",
                       selected, conn->suite->name);
    }
    hs->psk_accepted = true;
    if (!session_restore_peer(conn, conn->session)) {
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "session chain");
    }
  }
  if (!hs->hrr_sent_or_seen) {
    TRY(start_transcript(conn, false));
  }
  TRY(hs_absorb(conn, whole));
  /* Everything that can fail on the ServerHello is checked: only now
   * make the shared secret, so no early return leaves it on the stack. */
  hs_drop_ch_copy(hs);

  uint8_t shared[KEX_MAX_SECRET];
  size_t shared_len;
  const char *why = "it was refused";
  if (!kex_finish_why(hs->share_key[idx], peer_share, peer_share_len, shared,
                      &shared_len, &why)) {
    moat_wipe(shared, sizeof(shared));
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server's %s key share is invalid: %s",
                     hs->share_alg[idx]->name, why);
  }
  conn->group = hs->share_alg[idx];

  const hash_alg *h = hash_get(conn->suite->hash);
  uint8_t th[HASH_MAX_LEN];
  bool ok = hs_transcript_hash(conn, th) &&
            (hs->psk_accepted || ks_init(&hs->ks, h, NULL, 0)) &&
            ks_handshake(&hs->ks, shared, shared_len, th);
  moat_wipe(shared, sizeof(shared));
  if (!ok) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "handshake key derivation");
  }
  keylog(conn, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", hs->ks.c_hs, h->len);
  keylog(conn, "SERVER_HANDSHAKE_TRAFFIC_SECRET", hs->ks.s_hs, h->len);
  TRY(hs_key_change_boundary(conn));
  TRY(rec_set_key(conn, &conn->rd, conn->suite, h, hs->ks.hmac, hs->ks.s_hs,
                  false, hs->ks.s_fin));
  /* From here on our records (an alert included) use the handshake key,
   * which the server expects; RFC 8446 D.4 puts change_cipher_spec before
   * the first of them. */
  if (!hs->hrr_sent_or_seen) {
    TRY(rec_write(conn, CT_CHANGE_CIPHER_SPEC, k_ccs, 1));
  }
  TRY(rec_set_key(conn, &conn->wr, conn->suite, h, hs->ks.hmac, hs->ks.c_hs,
                  true, hs->ks.c_fin));
  conn->state = ST_C_WAIT_EE;
  return MOAT_OK;
}

/* C_WAIT_EE */
static moat_err c_wait_ee(moat_conn *conn) {
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  uint32_t offered =
      X_BIT(X_SUPPORTED_GROUPS) | (conn->hostname ? X_BIT(X_SERVER_NAME) : 0) |
      (conn->ctx->alpn_wire_len ? X_BIT(X_ALPN) : 0) |
      (conn->ctx->record_size_limit != 0 ? X_BIT(X_RECORD_SIZE_LIMIT) : 0);
  ext_params p = {.policy = conn->ctx, .peer = "server"};
  ext_values v;
  tls_cause why;
  if (ee_parse(body, offered, &p, &v, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  if ((v.read & X_BIT(X_ALPN)) != 0) {
    TRY(hello_set_alpn(conn, v.alpn));
  }
  if ((v.read & X_BIT(X_RECORD_SIZE_LIMIT)) != 0) {
    /* RFC 8449 4: our limit held from the server's first protected
     * record, which this message came in. */
    hello_set_record_limits(conn, v.record_size_limit,
                            conn->ctx->record_size_limit);
    if (conn->rd_max_plain > conn->rsl_ours) {
      return conn_fail(
          conn, MOAT_ERR_RECORD_OVERFLOW,
          "the server sent a protected record of %zu bytes "
          "(content and type), over the record_size_limit of %u this "
          "client advertised",
          conn->rd_max_plain, conn->rsl_ours);
    }
  }
  TRY(hs_absorb(conn, whole));
  if (conn->hs->psk_accepted) {
    /* RFC 8446 2.2: the server is authenticated by the resumption PSK
     * (its certificate was checked when the ticket was issued); its
     * Finished proves it holds the PSK. */
    hs_waive_auth_proofs(conn, "resumed session");
    conn->state = ST_C_WAIT_FINISHED;
    return MOAT_OK;
  }
  conn->state = ST_C_WAIT_CERT_CR;
  return MOAT_OK;
}

static moat_err on_server_cert(moat_conn *conn, cursor body) {
  handshake *hs = conn->hs;
  bool empty;
  TRY(hs_recv_certificate(conn, body, NULL, 0, &empty));
  if (empty) {
    /* RFC 8446 4.4.2.4 */
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "the server sent an empty Certificate");
  }
  TRY(cert_leaf_pubkey(conn, conn->peer->e[0].der, conn->peer->e[0].len,
                       &hs->peer_key));
  TRY(conn_verify_peer(conn));
  /* RFC 8446 4.4.2.1: the stapled status came in the leaf's entry. */
  return conn_check_staple(conn);
}

/* C_WAIT_CERT_CR and C_WAIT_CERT */
static moat_err c_wait_cert(moat_conn *conn) {
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  if (type == HT_CERTIFICATE_REQUEST) {
    cert_request cr;
    tls_cause why;
    if (cr_parse(body, &cr, &why) != MOAT_OK) {
      return conn_fail_cause(conn, &why);
    }
    hs_take_cert_request(conn->hs, &cr);
    /* RFC 8879 3: ours of the server's list, for our certificate */
    uint16_t algs[TLS_MAX_CERT_COMP];
    size_t num = 0;
    const tls_policy *ctx = conn->ctx;
    if (!cur_done(&cr.cert_comp) &&
        ext_cert_comp_parse(cr.cert_comp, ctx->cert_comp, ctx->num_cert_comp,
                            algs, TLS_MAX_CERT_COMP, &num, &why) != MOAT_OK) {
      return conn_fail_cause(conn, &why);
    }
    conn->hs->cert_comp_send = cert_comp_choose(ctx, algs, num);
    conn->state = ST_C_WAIT_CERT;
  } else {
    uint8_t *plain;
    moat_err err = cert_comp_body(conn, type, &body, &plain);
    err = err == MOAT_OK ? on_server_cert(conn, body) : err;
    moat_free(plain);
    TRY(err);
    conn->state = ST_C_WAIT_CV;
  }
  TRY(hs_absorb(conn, whole));
  return MOAT_OK;
}

/* C_WAIT_CV */
static moat_err c_wait_cv(moat_conn *conn) {
  return hs_recv_cert_verify(conn, ST_C_WAIT_FINISHED);
}

/* C_WAIT_FINISHED */
static moat_err c_wait_finished(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  TRY(auth_fin_check(conn, body, hs->ks.s_fin));
  TRY(hs_absorb(conn, whole));
  TRY(hs_derive_app_secrets(conn));
  TRY(hs_key_change_boundary(conn));
  TRY(rec_set_key(conn, &conn->rd, conn->suite, hs->ks.hash, hs->ks.hmac,
                  hs->ks.s_ap, false, NULL));
  conn->state = ST_C_SEND_FLIGHT;
  return MOAT_OK;
}

/* C_SEND_FLIGHT: [CCS] [Certificate CertificateVerify] Finished */
static moat_err c_send_flight(moat_conn *conn) {
  handshake *hs = conn->hs;
  const hash_alg *h = hs->ks.hash;
  builder b;
  if (hs->cert_requested) {
    const sig_scheme *scheme =
        cv_choose_scheme(conn, hs->cr_sigalgs, hs->num_cr_sigalgs, &conn->id);
    hs_builder(conn->hs, &b);
    /* RFC 8446 4.4.2: an empty Certificate when we have none to offer. */
    moat_err err = hs_send_cert_and_cv(conn, &b, hs->cr_context,
                                       hs->cr_context_len, scheme);
    bld_cleanup(&b);
    TRY(err);
  }
  uint8_t fin[4 + HASH_MAX_LEN];
  bld_init_fixed(&b, fin, sizeof(fin));
  TRY(auth_fin_build(conn, &b, hs->ks.c_fin));
  TRY(hs_send(conn, &b));
  moat_wipe(fin, sizeof(fin));
  TRY(rec_set_key(conn, &conn->wr, conn->suite, h, hs->ks.hmac, hs->ks.c_ap,
                  true, NULL));
  return tls13_enter_traffic(conn);
}

moat_err tls13_client_step(moat_conn *conn) {
  switch (conn->state) {
  case ST_C_START:
    return c_start(conn);
  case ST_C_WAIT_SH:
    return c_wait_sh(conn);
  case ST_C_WAIT_EE:
    return c_wait_ee(conn);
  case ST_C_WAIT_CERT_CR:
  case ST_C_WAIT_CERT:
    return c_wait_cert(conn);
  case ST_C_WAIT_CV:
    return c_wait_cv(conn);
  case ST_C_WAIT_FINISHED:
    return c_wait_finished(conn);
  case ST_C_SEND_FLIGHT:
    return c_send_flight(conn);
  default:
    return conn_fail(conn, MOAT_ERR_INTERNAL, "client in state %s",
                     hs_state_name(conn->state));
  }
}
