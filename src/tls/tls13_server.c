/* The server's TLS 1.3 flow (RFC 8446 2, A.2): one function per state. */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"

static const uint8_t k_ccs[1] = {1};

static moat_err send_built(moat_conn *conn, builder *b, moat_err built) {
  moat_err err = built == MOAT_OK ? hs_send(conn, b) : built;
  bld_cleanup(b);
  return err;
}

/* Server preference: our first TLS 1.3 suite the client offers. */
static const tls_suite *choose_suite(const tls_policy *ctx, cursor suites) {
  for (size_t i = 0; i < ctx->num_suites; i++) {
    if (ctx->suites[i]->version != MOAT_TLS1_3) {
      continue;
    }
    cursor c = suites;
    uint16_t code;
    while (cur_u16(&c, &code)) {
      if (code == ctx->suites[i]->code) {
        return ctx->suites[i];
      }
    }
  }
  return NULL;
}

static bool in_list(const uint16_t *list, size_t n, uint16_t v) {
  for (size_t i = 0; i < n; i++) {
    if (list[i] == v) {
      return true;
    }
  }
  return false;
}

/* Checks a TLS 1.3 ClientHello's mandatory extensions. */
static moat_err check_client_hello(moat_conn *conn, const client_hello *ch) {
  /* RFC 8446 4.1.2: exactly one compression method, null. */
  if (cur_len(&ch->compression) != 1 || cur_data(&ch->compression)[0] != 0) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "TLS 1.3 ClientHello must offer only null compression");
  }
  if (ext_has(&ch->ext, X_PRE_SHARED_KEY) && ch->ext.psk_not_last) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "pre_shared_key is not the last extension");
  }
  /* RFC 8446 9.2: certificate-based key exchange needs these. */
  if (!ext_has(&ch->ext, X_SIGNATURE_ALGORITHMS)) {
    return conn_fail(conn, MOAT_ERR_MISSING_EXTENSION,
                     "ClientHello without signature_algorithms");
  }
  if (!ext_has(&ch->ext, X_SUPPORTED_GROUPS) ||
      !ext_has(&ch->ext, X_KEY_SHARE)) {
    return conn_fail(conn, MOAT_ERR_MISSING_EXTENSION,
                     "ClientHello without supported_groups and key_share");
  }
  return MOAT_OK;
}

/* Picks the group among ours in two tiers, the hybrids first: within a
 * tier, the most preferred one the client sent a share for; failing
 * that, the most preferred one it supports, asking for a retry.  So a
 * client that supports X25519MLKEM768 but sent only an X25519 share is
 * asked for the hybrid; one without any of our hybrids gets what it
 * would have got before. */
static const kex_alg *pick_in_tier(const tls_policy *ctx, bool hybrid,
                                   const uint16_t *list, size_t num) {
  for (size_t i = 0; i < ctx->num_groups; i++) {
    if ((ctx->groups[i]->classical != NULL) == hybrid &&
        in_list(list, num, ctx->groups[i]->group)) {
      return ctx->groups[i];
    }
  }
  return NULL;
}

static moat_err choose_group(moat_conn *conn, const client_hello *ch,
                             const kex_alg **out, bool *out_have_share) {
  handshake *hs = conn->hs;
  const tls_policy *ctx = conn->ctx;
  uint16_t shared[16];
  size_t num_shared, num_sent;
  tls_cause why;
  if (ext_key_share_groups(ch->ext.data[X_KEY_SHARE], shared, 16, &num_shared,
                           &num_sent, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  for (size_t i = 0; i < num_shared; i++) {
    /* RFC 8446 4.2.8: every share must be for a group the client lists. */
    if (!in_list(hs->peer_groups, hs->num_peer_groups, shared[i])) {
      return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                       "key share for group 0x%04x not in supported_groups",
                       shared[i]);
    }
  }
  for (int tier = 0; tier < 2; tier++) {
    bool hybrid = tier == 0;
    *out = pick_in_tier(ctx, hybrid, shared, num_shared);
    *out_have_share = *out != NULL;
    if (*out == NULL) {
      *out = pick_in_tier(ctx, hybrid, hs->peer_groups, hs->num_peer_groups);
    }
    if (*out != NULL) {
      return MOAT_OK;
    }
  }
  return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                   "no key exchange group in common with the client");
}

static moat_err send_hello_retry(moat_conn *conn, const kex_alg *group,
                                 cursor ch_whole) {
  handshake *hs = conn->hs;
  /* RFC 8446 4.4.1: ClientHello1 becomes message_hash. */
  TRY(hs_transcript_start(conn, hash_get(conn->suite->hash),
                          cur_data(&ch_whole), cur_len(&ch_whole), true));
  hs->hrr_sent_or_seen = true;
  hs->hrr_group = group->group;
  conn->hello_retry = true;
  hs->cookie_len = 32;
  hs->cookie = moat_malloc(hs->cookie_len);
  if (hs->cookie == NULL || !ctx_random(conn->ctx, hs->cookie, 32)) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "cookie");
  }
  builder b;
  hs_builder(conn->hs, &b);
  sh_params p = {.hrr = true,
                 .session_id = hs->session_id,
                 .session_id_len = hs->session_id_len,
                 .suite = conn->suite->code,
                 .ext = {.group = group->group,
                         .cookie = hs->cookie,
                         .cookie_len = hs->cookie_len}};
  tls_cause why;
  moat_err built = sh_build(&b, &p, &why);
  TRY(send_built(conn, &b,
                 built == MOAT_OK ? MOAT_OK : conn_fail_cause(conn, &why)));
  /* RFC 8446 D.4: a change_cipher_spec right after the server's first
   * handshake message, whether the client asked for compatibility mode
   * or not (as OpenSSL and BoringSSL: clients expect it either way). */
  TRY(rec_write(conn, CT_CHANGE_CIPHER_SPEC, k_ccs, 1));
  return MOAT_OK;
}

/* The second ClientHello must answer the retry (RFC 8446 4.1.2). */
/* Whether a ClientHello offers a ticket of ours for TLS 1.3 whose suite
 * has suite's hash. */
static bool offers_usable_psk(moat_conn *conn, const client_hello *ch,
                              const tls_suite *suite) {
  if (!ext_has(&ch->ext, X_PRE_SHARED_KEY) || !conn->ctx->tickets) {
    return false;
  }
  cursor psk = ch->ext.data[X_PRE_SHARED_KEY], ids, id;
  uint32_t age;
  bool usable = false;
  if (!cur_prefixed16(&psk, &ids)) {
    return false;
  }
  while (!usable && cur_prefixed16(&ids, &id) && cur_u32(&ids, &age)) {
    moat_session st;
    memset(&st, 0, sizeof(st));
    usable = ticket_open(conn, cur_data(&id), cur_len(&id), &st) &&
             st.version == MOAT_TLS1_3 && st.suite->hash == suite->hash;
    moat_wipe(&st, sizeof(st));
  }
  return usable;
}

static moat_err check_second_hello(moat_conn *conn, const client_hello *ch) {
  handshake *hs = conn->hs;
  if (!cur_equal(&ch->session_id, hs->session_id, hs->session_id_len)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the second ClientHello changed legacy_session_id");
  }
  cursor cookie;
  if (!ext_has(&ch->ext, X_COOKIE)) {
    return conn_fail(conn, MOAT_ERR_MISSING_EXTENSION,
                     "the second ClientHello lacks our cookie");
  }
  tls_cause why;
  if (ext_cookie_parse(ch->ext.data[X_COOKIE], &cookie, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  if (!cur_equal(&cookie, hs->cookie, hs->cookie_len)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the second ClientHello returned a different cookie");
  }
  if (ext_has(&ch->ext, X_EARLY_DATA)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "early_data in the second ClientHello");
  }
  /* RFC 8446 4.1.2: pre_shared_key may be updated, not dropped, while it
   * holds a ticket the retry's suite can use (4.2.11 lets the client drop
   * those of another hash). */
  if (hs->ch1_psk && !ext_has(&ch->ext, X_PRE_SHARED_KEY)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the second ClientHello dropped the first's "
                     "pre_shared_key");
  }
  uint16_t groups[16];
  size_t n, sent;
  if (ext_key_share_groups(ch->ext.data[X_KEY_SHARE], groups, 16, &n, &sent,
                           &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  if (sent != 1 || n != 1 || groups[0] != hs->hrr_group) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the second ClientHello must hold one key share, for "
                     "group 0x%04x",
                     hs->hrr_group);
  }
  return MOAT_OK;
}

/* Whether one offered identity resumes: its ticket opens to a TLS 1.3
 * session with the suite's hash.  Then its binder must verify (RFC 8446
 * 4.2.11: a wrong one is fatal), which proves the PSK for this hello;
 * the early secret stays in hs->ks. */
static moat_err try_identity(moat_conn *conn, cursor id, cursor binder,
                             uint16_t index, cursor whole, size_t tail,
                             const hash_alg *h) {
  handshake *hs = conn->hs;
  moat_session st;
  memset(&st, 0, sizeof(st));
  if (!ticket_open(conn, cur_data(&id), cur_len(&id), &st) ||
      st.version != MOAT_TLS1_3 || hash_get(st.suite->hash) != h) {
    moat_wipe(&st, sizeof(st));
    return MOAT_OK;
  }
  uint8_t th[HASH_MAX_LEN], want[HASH_MAX_LEN];
  if (!ks_init(&hs->ks, h, st.psk, st.psk_len) ||
      !hs_truncated_hash(conn, h, cur_data(&whole), cur_len(&whole) - tail, th,
                         hs->ch_prefix_len == 0) ||
      !psk_binder(&hs->ks, th, want)) {
    moat_wipe(want, sizeof(want));
    moat_wipe(&st, sizeof(st));
    return conn_fail(conn, MOAT_ERR_CRYPTO, "checking a PSK binder");
  }
  bool ok =
      cur_len(&binder) == h->len && ct_eq(want, cur_data(&binder), h->len);
  moat_wipe(want, sizeof(want));
  if (!ok) {
    moat_wipe(&st, sizeof(st));
    return conn_fail(conn, MOAT_ERR_DECRYPT_ERROR,
                     "the PSK binder for identity %u is wrong", index);
  }
  hs->ch_prefix_len = cur_len(&whole) - tail;
  hs->psk_accepted = true;
  hs->psk_index = index;
  hs->psk_state = st;
  moat_wipe(&st, sizeof(st));
  return MOAT_OK;
}

/* RFC 8446 4.2.11: accepts the first identity that resumes, if any, with
 * psk_dhe_ke (the one mode moat uses); the rest are read for their form
 * only. */
static moat_err accept_psk(moat_conn *conn, const ext_set *ext, cursor whole,
                           const tls_suite *suite) {
  handshake *hs = conn->hs;
  if (!ext_has(ext, X_PRE_SHARED_KEY)) {
    return MOAT_OK;
  }
  /* RFC 8446 4.2.9: pre_shared_key needs psk_key_exchange_modes. */
  if (!ext_has(ext, X_PSK_KEY_EXCHANGE_MODES)) {
    return conn_fail(conn, MOAT_ERR_MISSING_EXTENSION,
                     "pre_shared_key without psk_key_exchange_modes");
  }
  bool dhe;
  ext_psk_offer offer;
  tls_cause why;
  if (ext_psk_modes_parse(ext->data[X_PSK_KEY_EXCHANGE_MODES], &dhe, &why) !=
          MOAT_OK ||
      ext_psk_parse_ch(ext->data[X_PRE_SHARED_KEY], whole, &offer, &why) !=
          MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  const hash_alg *h = hash_get(suite->hash);
  for (uint16_t index = 0;; index++) {
    cursor id, binder;
    uint32_t age;
    bool end;
    if (ext_psk_next(&offer, index, &id, &age, &binder, &end, &why) !=
        MOAT_OK) {
      return conn_fail_cause(conn, &why);
    }
    if (end) {
      return MOAT_OK;
    }
    if (dhe && !hs->psk_accepted) {
      TRY(try_identity(conn, id, binder, index, whole, offer.binders_len, h));
    }
  }
}

/* S_WAIT_CH: the first or (after a retry) the second ClientHello. */
static moat_err s_wait_ch(moat_conn *conn) {
  if (conn->hs == NULL) {
    conn->hs = hs_new();
    if (conn->hs == NULL) {
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "handshake state");
    }
  }
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  client_hello ch;
  tls_cause cause;
  if (ch_parse(body, &ch, &cause) != MOAT_OK) {
    return conn_fail_cause(conn, &cause);
  }
  bool second = hs->hrr_sent_or_seen;
  uint16_t version;
  TRY(hello_server_version(conn, &ch, &version));
  if (second && version != MOAT_TLS1_3) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the second ClientHello no longer offers TLS 1.3");
  }
  if (version == MOAT_TLS1_2) {
    conn->version = MOAT_TLS1_2;
    return tls12_server_client_hello(conn, &ch, whole);
  }
  conn->version = MOAT_TLS1_3;
  TRY(check_client_hello(conn, &ch));
  if (second) {
    TRY(check_second_hello(conn, &ch));
    /* RFC 8446 4.2.10: the second ClientHello carries no early data, so
     * from here a record that does not decrypt is bad_record_mac, not
     * 0-RTT to skip. */
    hs->client_sent_early_data = false;
  } else {
    memcpy(hs->session_id, cur_data(&ch.session_id), cur_len(&ch.session_id));
    hs->session_id_len = cur_len(&ch.session_id);
    memcpy(hs->client_random, ch.random, TLS_RANDOM_LEN);
    TRY(hello_take_offers(conn, &ch));
  }
  const tls_suite *suite = choose_suite(conn->ctx, ch.suites);
  if (suite == NULL) {
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "no TLS 1.3 cipher suite in common with the client");
  }
  if (second && suite != conn->suite) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the second ClientHello changed the cipher suites");
  }
  conn->suite = suite;
  const kex_alg *group = NULL;
  bool have_share = false;
  TRY(choose_group(conn, &ch, &group, &have_share));
  if (!have_share) {
    if (second) {
      return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                       "no usable key share after HelloRetryRequest");
    }
    hs->ch1_psk = offers_usable_psk(conn, &ch, suite);
    TRY(send_hello_retry(conn, group, whole));
    hs_consume_message(conn, cur_len(&whole));
    return hs_key_change_boundary(conn);
  }
  const hash_alg *h = hash_get(suite->hash);
  if (hs->transcript == NULL) {
    TRY(hs_transcript_start(conn, h, NULL, 0, false));
  }
  hs->ch_prefix_len = 0;
  /* A server with tickets off neither issues nor accepts them (as
   * OpenSSL's and BoringSSL's OP_NO_TICKET): the offer is ignored and the
   * handshake is a full one. */
  if (conn->ctx->tickets) {
    TRY(accept_psk(conn, &ch.ext, whole, suite));
  }
  if (!hs->psk_accepted && conn->ctx->num_ids == 0) {
    return conn_fail_alert(conn, MOAT_ERR_NO_CERTIFICATE,
                           ALERT_HANDSHAKE_FAILURE,
                           "the server has no certificate and key loaded");
  }
  conn->our_sig = hs->psk_accepted
                      ? NULL
                      : cv_choose_scheme(conn, hs->peer_sigalgs,
                                         hs->num_peer_sigalgs, &conn->id);
  if (!hs->psk_accepted && conn->our_sig == NULL) {
    char keys[64];
    ctx_key_names(conn->ctx, keys, sizeof(keys));
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "no signature scheme the client accepts fits our %s key",
                     keys);
  }
  cursor share;
  bool found;
  if (ext_key_share_find(ch.ext.data[X_KEY_SHARE], group->group, &share, &found,
                         &cause) != MOAT_OK) {
    return conn_fail_cause(conn, &cause);
  }
  uint8_t our_share[KEX_MAX_SHARE];
  size_t our_share_len;
  uint8_t shared[KEX_MAX_SECRET];
  size_t shared_len;
  const char *why = "it was refused";
  if (!hs_kex_respond(conn, group, cur_data(&share), cur_len(&share), our_share,
                      &our_share_len, shared, &shared_len, &why)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the client's %s key share is invalid: %s", group->name,
                     why);
  }
  conn->group = group;
  /* The binder check may have hashed the start of the message already. */
  size_t pre = hs->ch_prefix_len;
  hs->ch_prefix_len = 0;
  moat_err err = pre <= cur_len(&whole)
                     ? hs_transcript_add(conn, cur_data(&whole) + pre,
                                         cur_len(&whole) - pre)
                     : conn_fail(conn, MOAT_ERR_INTERNAL, "transcript prefix");
  hs_consume_message(conn, cur_len(&whole));
  if (err == MOAT_OK && hs->msg_len != 0) {
    err = hs_key_change_boundary(conn);
  }
  if (err == MOAT_OK &&
      !ctx_random(conn->ctx, hs->server_random, TLS_RANDOM_LEN)) {
    err = conn_fail(conn, MOAT_ERR_CRYPTO, "no randomness");
  }
  builder b;
  hs_builder(conn->hs, &b);
  if (err == MOAT_OK) {
    sh_params p = {.random = hs->server_random,
                   .session_id = hs->session_id,
                   .session_id_len = hs->session_id_len,
                   .suite = suite->code,
                   .ext = {.group = group->group,
                           .share = our_share,
                           .share_len = our_share_len,
                           .psk_accepted = hs->psk_accepted,
                           .psk_index = hs->psk_index}};
    err = sh_build(&b, &p, &cause);
    err = send_built(conn, &b,
                     err == MOAT_OK ? MOAT_OK : conn_fail_cause(conn, &cause));
  }
  uint8_t th[HASH_MAX_LEN];
  if (err == MOAT_OK && !(hs_transcript_hash(conn, th) &&
                          (hs->psk_accepted || ks_init(&hs->ks, h, NULL, 0)) &&
                          ks_handshake(&hs->ks, shared, shared_len, th))) {
    err = conn_fail(conn, MOAT_ERR_CRYPTO, "handshake key derivation");
  }
  moat_wipe(shared, sizeof(shared));
  TRY(err);
  keylog(conn, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", hs->ks.c_hs, h->len);
  keylog(conn, "SERVER_HANDSHAKE_TRAFFIC_SECRET", hs->ks.s_hs, h->len);
  /* RFC 8446 D.4: the change_cipher_spec after the first handshake
   * message (a HelloRetryRequest already had it). */
  if (!second) {
    TRY(rec_write(conn, CT_CHANGE_CIPHER_SPEC, k_ccs, 1));
  }
  TRY(rec_set_key(conn, &conn->wr, suite, h, hs->ks.hmac, hs->ks.s_hs, true,
                  hs->ks.s_fin));
  TRY(rec_set_key(conn, &conn->rd, suite, h, hs->ks.hmac, hs->ks.c_hs, false,
                  hs->ks.c_fin));
  conn->state = ST_S_SEND_FLIGHT;
  return MOAT_OK;
}

static moat_err s_send_finished(moat_conn *conn);

/* S_SEND_FLIGHT: EncryptedExtensions [CertificateRequest] Certificate
 * CertificateVerify Finished. */
static moat_err s_send_flight(moat_conn *conn) {
  handshake *hs = conn->hs;
  const tls_policy *ctx = conn->ctx;
  /* One builder writes each message in turn. */
  builder b;
  hs_builder(conn->hs, &b);
  ext_params p = {.ack_sni = conn->hostname != NULL,
                  .alpn = conn->alpn,
                  .record_size_limit = conn->rsl_ours}; /* RFC 8449 4 */
  tls_cause why;
  moat_err err = ee_build(&b, &p, &why);
  err = err == MOAT_OK ? hs_send(conn, &b) : conn_fail_cause(conn, &why);
  if (err != MOAT_OK || hs->psk_accepted) {
    goto cleanup;
  }
  if (ctx->verify_mode != MOAT_VERIFY_NONE) {
    bld_reset(&b);
    err = hs_send_codec(conn, &b, cr_build(&b, ctx), "CertificateRequest");
    /* RFC 8879 3: cr_build listed the policy's algorithms */
    hs->cert_comp_offered = ctx->num_cert_comp > 0;
    if (err != MOAT_OK) {
      goto cleanup;
    }
    hs->cert_requested = true;
  }
  err = hs_send_cert_and_cv(conn, &b, NULL, 0, conn->our_sig);

cleanup:
  bld_cleanup(&b);
  if (err != MOAT_OK) {
    return err;
  }
  if (hs->psk_accepted) {
    /* RFC 8446 2.2: the resumption PSK authenticates both sides. */
    hs_waive_auth_proofs(conn, "resumed session");
  } else if (!hs->cert_requested) {
    /* No client authentication by policy (CERT_NONE). */
    hs_waive_auth_proofs(conn, "no client certificate requested");
  }
  return s_send_finished(conn);
}

/* Finished, then the traffic keys for writing. */
static moat_err s_send_finished(moat_conn *conn) {
  handshake *hs = conn->hs;
  builder b;
  uint8_t fin[4 + HASH_MAX_LEN];
  bld_init_fixed(&b, fin, sizeof(fin));
  TRY(auth_fin_build(conn, &b, hs->ks.s_fin));
  TRY(hs_send(conn, &b));
  TRY(hs_derive_app_secrets(conn));
  TRY(rec_set_key(conn, &conn->wr, conn->suite, hs->ks.hash, hs->ks.hmac,
                  hs->ks.s_ap, true, NULL));
  conn->state = hs->cert_requested ? ST_S_WAIT_CERT : ST_S_WAIT_FINISHED;
  return MOAT_OK;
}

/* S_WAIT_CERT */
static moat_err s_wait_cert(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  bool empty;
  uint8_t *plain;
  moat_err err = cert_comp_body(conn, type, &body, &plain);
  err = err == MOAT_OK ? hs_recv_certificate(conn, body, hs->cr_context,
                                             hs->cr_context_len, &empty)
                       : err;
  moat_free(plain);
  TRY(err);
  if (empty) {
    if (conn->ctx->verify_mode == MOAT_VERIFY_REQUIRED) {
      return conn_fail(conn, MOAT_ERR_CERTIFICATE_REQUIRED,
                       "the client sent no certificate and one is required");
    }
    /* CERT_OPTIONAL: no certificate, nothing to prove. */
    hs->peer_sent_empty_cert = true;
    hs_waive_auth_proofs(conn, "the client sent no certificate (optional)");
    conn->state = ST_S_WAIT_FINISHED;
  } else {
    TRY(cert_leaf_pubkey(conn, conn->peer->e[0].der, conn->peer->e[0].len,
                         &hs->peer_key));
    TRY(conn_verify_peer(conn));
    conn->state = ST_S_WAIT_CV;
  }
  TRY(hs_absorb(conn, whole));
  return MOAT_OK;
}

/* S_WAIT_CV */
static moat_err s_wait_cv(moat_conn *conn) {
  return hs_recv_cert_verify(conn, ST_S_WAIT_FINISHED);
}

/* S_WAIT_FINISHED */
static moat_err s_wait_finished(moat_conn *conn) {
  handshake *hs = conn->hs;
  uint8_t type;
  cursor body, whole;
  TRY(hs_expect(conn, &type, &body, &whole));
  TRY(auth_fin_check(conn, body, hs->ks.c_fin));
  TRY(hs_absorb(conn, whole));
  TRY(hs_key_change_boundary(conn));
  TRY(rec_set_key(conn, &conn->rd, conn->suite, hs->ks.hash, hs->ks.hmac,
                  hs->ks.c_ap, false, NULL));
  return tls13_enter_traffic(conn);
}

moat_err tls13_server_step(moat_conn *conn) {
  switch (conn->state) {
  case ST_S_WAIT_CH:
    return s_wait_ch(conn);
  case ST_S_SEND_FLIGHT:
    return s_send_flight(conn);
  case ST_S_WAIT_CERT:
    return s_wait_cert(conn);
  case ST_S_WAIT_CV:
    return s_wait_cv(conn);
  case ST_S_WAIT_FINISHED:
    return s_wait_finished(conn);
  default:
    return conn_fail(conn, MOAT_ERR_INTERNAL, "server in state %s",
                     hs_state_name(conn->state));
  }
}
