/* TLS 1.3 end to end in memory: moat client against moat server, every
 * suite, group and key type; HRR; ALPN; client certificates; KeyUpdate;
 * close_notify; and the failures a peer can cause. */
#include "moat.h"
#include "pki.h"
#include "t.h"
#include "tls/tls.h"

typedef struct pair {
  moat_conn *c;
  moat_conn *s;
} pair;

/* Moves bytes between the two until both finish the handshake or one
 * fails. */
static void shuttle(moat_conn *from, moat_conn *to) {
  uint8_t buf[4096];
  size_t n, used;
  while (moat_conn_pending_output(from) > 0) {
    moat_conn_take_output(from, buf, sizeof(buf), &n);
    size_t off = 0;
    while (off < n) {
      if (moat_conn_feed(to, buf + off, n - off, &used) != MOAT_OK ||
          used == 0) {
        return;
      }
      off += used;
    }
  }
}

static moat_err handshake_pair(pair *p, moat_err *out_server) {
  moat_err ce = MOAT_ERR_WANT_READ, se = MOAT_ERR_WANT_READ;
  for (int i = 0; i < 50; i++) {
    if (ce != MOAT_OK) {
      ce = moat_conn_handshake(p->c);
    }
    shuttle(p->c, p->s);
    if (se != MOAT_OK) {
      se = moat_conn_handshake(p->s);
    }
    shuttle(p->s, p->c);
    if ((ce == MOAT_OK && se == MOAT_OK) ||
        (ce != MOAT_ERR_WANT_READ && ce != MOAT_OK) ||
        (se != MOAT_ERR_WANT_READ && se != MOAT_OK)) {
      break;
    }
  }
  /* Let each side see what the other sent last (its Finished, or an
   * alert). */
  if (se == MOAT_ERR_WANT_READ) {
    shuttle(p->c, p->s);
    se = moat_conn_handshake(p->s);
  }
  if (ce == MOAT_ERR_WANT_READ) {
    shuttle(p->s, p->c);
    ce = moat_conn_handshake(p->c);
  }
  *out_server = se;
  return ce;
}

static moat_context *server_ctx(const char *leaf) {
  char cert[256], key[256];
  char f[64];
  snprintf(f, sizeof(f), "%s.pem", leaf);
  pki_path(cert, sizeof(cert), f);
  snprintf(f, sizeof(f), "%s.key", leaf);
  pki_path(key, sizeof(key), f);
  moat_context *ctx = moat_context_new(MOAT_ROLE_SERVER);
  if (moat_context_load_cert_chain(ctx, cert, key, NULL) != MOAT_OK) {
    fprintf(stderr, "load_cert_chain %s: %s\n", leaf,
            moat_context_error_detail(ctx));
  }
  return ctx;
}

static moat_context *client_ctx(void) {
  char ca[256];
  pki_path(ca, sizeof(ca), "ca.pem");
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  if (moat_context_load_verify_locations(ctx, ca, NULL, NULL, 0) != MOAT_OK) {
    fprintf(stderr, "load_verify_locations: %s\n",
            moat_context_error_detail(ctx));
  }
  return ctx;
}

static void new_pair(pair *p, moat_context *cc, moat_context *sc) {
  p->c = moat_conn_new(cc);
  p->s = moat_conn_new(sc);
  moat_conn_set_hostname(p->c, "localhost");
}

static void free_pair(pair *p) {
  moat_conn_free(p->c);
  moat_conn_free(p->s);
}

static bool echo(pair *p, const char *msg) {
  size_t n = strlen(msg), w;
  uint8_t buf[256];
  if (moat_conn_write(p->c, (const uint8_t *)msg, n, &w) != MOAT_OK) {
    return false;
  }
  shuttle(p->c, p->s);
  size_t got;
  if (moat_conn_read(p->s, buf, sizeof(buf), &got) != MOAT_OK || got != n ||
      memcmp(buf, msg, n) != 0) {
    return false;
  }
  if (moat_conn_write(p->s, buf, got, &w) != MOAT_OK) {
    return false;
  }
  shuttle(p->s, p->c);
  return moat_conn_read(p->c, buf, sizeof(buf), &got) == MOAT_OK && got == n &&
         memcmp(buf, msg, n) == 0;
}

static void test_matrix(void) {
  static const char *suites[] = {"TLS_AES_128_GCM_SHA256",
                                 "TLS_AES_256_GCM_SHA384",
                                 "TLS_CHACHA20_POLY1305_SHA256"};
  static const char *groups[] = {"X25519", "P-256", "P-384", "P-521", "X448"};
  static const char *leaves[] = {"p256", "p384", "rsa", "ed25519"};
  static const char *want_sig[] = {"ecdsa_secp256r1_sha256",
                                   "ecdsa_secp384r1_sha384",
                                   "rsa_pss_rsae_sha256", "ed25519"};
  for (size_t l = 0; l < 4; l++) {
    moat_context *sc = server_ctx(leaves[l]);
    for (size_t s = 0; s < 3; s++) {
      for (size_t g = 0; g < 5; g++) {
        moat_context *cc = client_ctx();
        CHECK(moat_context_set_ciphersuites(cc, suites[s]) == MOAT_OK);
        CHECK(moat_context_set_groups(cc, groups[g]) == MOAT_OK);
        pair p;
        new_pair(&p, cc, sc);
        moat_err se, ce = handshake_pair(&p, &se);
        if (ce != MOAT_OK || se != MOAT_OK) {
          fprintf(stderr, "%s %s %s: client %s (%s) server %s (%s)\n",
                  leaves[l], suites[s], groups[g], moat_err_name(ce),
                  moat_conn_error_detail(p.c), moat_err_name(se),
                  moat_conn_error_detail(p.s));
        }
        CHECK(ce == MOAT_OK && se == MOAT_OK);
        CHECK(moat_conn_cipher_name(p.c) != NULL &&
              strcmp(moat_conn_cipher_name(p.c), suites[s]) == 0);
        const kex_alg *want = kex_by_name(groups[g]);
        CHECK(moat_conn_group_name(p.c) != NULL && want != NULL &&
              strcmp(moat_conn_group_name(p.c), want->name) == 0);
        CHECK(moat_conn_peer_sigalg_name(p.c) != NULL &&
              strcmp(moat_conn_peer_sigalg_name(p.c), want_sig[l]) == 0);
        CHECK(moat_conn_version(p.c) == MOAT_TLS1_3);
        CHECK(moat_conn_verify_code(p.c) == 0);
        CHECK(moat_conn_verified_chain_len(p.c) == 2);
        CHECK(echo(&p, "hello moat"));
        free_pair(&p);
        moat_context_free(cc);
      }
    }
    moat_context_free(sc);
  }
}

static void test_hrr_alpn_sni(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  CHECK(moat_context_set_groups(sc, "P-256") == MOAT_OK);
  CHECK(moat_context_set_groups(cc, "X25519:P-256") == MOAT_OK);
  const char *sp[] = {"h2", "http/1.1"};
  const char *cp[] = {"http/1.1", "h2"};
  CHECK(moat_context_set_alpn_protocols(sc, sp, 2) == MOAT_OK);
  CHECK(moat_context_set_alpn_protocols(cc, cp, 2) == MOAT_OK);
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_hello_retry(p.c) && moat_conn_hello_retry(p.s));
  CHECK(moat_conn_group_name(p.c) &&
        strcmp(moat_conn_group_name(p.c), "secp256r1") == 0);
  CHECK(moat_conn_alpn(p.c) && strcmp(moat_conn_alpn(p.c), "h2") == 0);
  CHECK(moat_conn_alpn(p.s) && strcmp(moat_conn_alpn(p.s), "h2") == 0);
  CHECK(moat_conn_server_name(p.s) &&
        strcmp(moat_conn_server_name(p.s), "localhost") == 0);
  CHECK(echo(&p, "after retry"));
  free_pair(&p);
  /* no ALPN in common: no_application_protocol */
  const char *other[] = {"spdy/3"};
  CHECK(moat_context_set_alpn_protocols(cc, other, 1) == MOAT_OK);
  new_pair(&p, cc, sc);
  ce = handshake_pair(&p, &se);
  CHECK(se == MOAT_ERR_NO_APPLICATION_PROTOCOL);
  CHECK(ce == MOAT_ERR_ALERT_RECEIVED);
  int alert = -1;
  bool ours = true;
  CHECK(moat_conn_alert(p.c, &alert, &ours) && alert == 120 && !ours);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

static void test_client_cert(void) {
  char ca[256];
  pki_path(ca, sizeof(ca), "ca.pem");
  moat_context *sc = server_ctx("p256");
  moat_context_set_verify_mode(sc, MOAT_VERIFY_REQUIRED);
  CHECK(moat_context_load_verify_locations(sc, ca, NULL, NULL, 0) == MOAT_OK);
  /* without a client certificate: certificate_required */
  moat_context *cc = client_ctx();
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_pair(&p, &se);
  CHECK(se == MOAT_ERR_CERTIFICATE_REQUIRED);
  CHECK(moat_conn_error(p.s) == MOAT_ERR_CERTIFICATE_REQUIRED);
  (void)ce;
  free_pair(&p);
  /* with one */
  char cert[256], key[256];
  pki_path(cert, sizeof(cert), "client.pem");
  pki_path(key, sizeof(key), "client.key");
  CHECK(moat_context_load_cert_chain(cc, cert, key, NULL) == MOAT_OK);
  new_pair(&p, cc, sc);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_peer_chain_len(p.s) == 1);
  CHECK(moat_conn_verified_chain_len(p.s) == 2);
  CHECK(echo(&p, "mutual"));
  free_pair(&p);
  /* optional: a client without a certificate gets through */
  moat_context_set_verify_mode(sc, MOAT_VERIFY_OPTIONAL);
  moat_context *cc2 = client_ctx();
  new_pair(&p, cc2, sc);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_peer_chain_len(p.s) == 0);
  free_pair(&p);
  moat_context_free(cc2);
  moat_context_free(cc);
  moat_context_free(sc);
}

static void test_key_update_close(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_key_update(p.c, true) == MOAT_OK);
  CHECK(echo(&p, "after update 1"));
  CHECK(moat_conn_key_update(p.s, false) == MOAT_OK);
  CHECK(echo(&p, "after update 2"));
  for (int i = 0; i < 3; i++) {
    CHECK(moat_conn_key_update(p.c, true) == MOAT_OK);
  }
  /* three requests while the server is silent: one answer (a KeyUpdate
   * record is 5 + 5 + 1 + 16 bytes) */
  shuttle(p.c, p.s);
  {
    uint8_t b[8];
    size_t got;
    CHECK(moat_conn_read(p.s, b, sizeof(b), &got) == MOAT_ERR_WANT_READ);
    CHECK_EQ_INT(moat_conn_pending_output(p.s), 27);
  }
  shuttle(p.s, p.c);
  CHECK(echo(&p, "after three"));
  /* data still arriving after our close_notify stays readable */
  CHECK(moat_conn_shutdown(p.c) == MOAT_ERR_WANT_READ);
  shuttle(p.c, p.s);
  uint8_t late[32];
  size_t late_n, wl;
  CHECK(moat_conn_write(p.s, (const uint8_t *)"late reply", 10, &wl) ==
        MOAT_OK);
  shuttle(p.s, p.c);
  CHECK(moat_conn_shutdown(p.c) == MOAT_ERR_WANT_READ);
  CHECK(moat_conn_read(p.c, late, sizeof(late), &late_n) == MOAT_OK &&
        late_n == 10 && memcmp(late, "late reply", 10) == 0);
  free_pair(&p);
  new_pair(&p, cc, sc);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  /* close_notify both ways */
  CHECK(moat_conn_shutdown(p.c) == MOAT_ERR_WANT_READ);
  shuttle(p.c, p.s);
  uint8_t buf[16];
  size_t n;
  CHECK(moat_conn_read(p.s, buf, sizeof(buf), &n) == MOAT_ERR_CLOSED);
  CHECK(moat_conn_shutdown(p.s) == MOAT_OK);
  shuttle(p.s, p.c);
  CHECK(moat_conn_shutdown(p.c) == MOAT_OK);
  size_t w;
  CHECK(moat_conn_write(p.c, (const uint8_t *)"x", 1, &w) ==
        MOAT_ERR_BAD_STATE);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

static void test_verify_failures(void) {
  /* the trust store can be listed */
  moat_context *listed = client_ctx();
  CHECK(moat_context_num_trusted(listed) == 1);
  const uint8_t *der;
  size_t der_len;
  CHECK(moat_context_trusted_cert_der(listed, 0, &der, &der_len) == MOAT_OK &&
        der_len > 100 && der[0] == 0x30);
  CHECK(moat_context_trusted_cert_der(listed, 1, &der, &der_len) ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_context_num_crls(listed) == 0);
  moat_context_free(listed);
  moat_context *sc = server_ctx("p256");
  /* wrong host name */
  moat_context *cc = client_ctx();
  pair p;
  p.c = moat_conn_new(cc);
  p.s = moat_conn_new(sc);
  moat_conn_set_hostname(p.c, "example.com");
  moat_err se, ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_ERR_HOSTNAME_MISMATCH || ce == MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK(moat_conn_verify_code(p.c) == 62);
  CHECK(se == MOAT_ERR_ALERT_RECEIVED);
  /* sticky */
  CHECK(moat_conn_handshake(p.c) == ce);
  free_pair(&p);
  /* untrusted: a client with no anchors */
  moat_context *empty = moat_context_new(MOAT_ROLE_CLIENT);
  new_pair(&p, empty, sc);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK(moat_conn_verify_code(p.c) == 20);
  int alert;
  bool ours;
  CHECK(moat_conn_alert(p.c, &alert, &ours) && alert == 48 && ours);
  free_pair(&p);
  /* CERT_NONE accepts it */
  moat_context_set_verify_mode(empty, MOAT_VERIFY_NONE);
  moat_context_set_check_hostname(empty, false);
  new_pair(&p, empty, sc);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  free_pair(&p);
  moat_context_free(empty);
  moat_context_free(cc);
  moat_context_free(sc);
}

static int64_t g_fake_now;
static int64_t fake_clock(void *arg) {
  (void)arg;
  return g_fake_now;
}

/* Runs a full handshake and returns the client's session. */
static moat_session *first_session(moat_context *cc, moat_context *sc) {
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(!moat_conn_session_reused(p.c));
  CHECK(moat_conn_get_session(p.c) == NULL); /* tickets not read yet */
  CHECK(echo(&p, "ticket please"));          /* the client reads the tickets */
  moat_session *s = moat_conn_get_session(p.c);
  free_pair(&p);
  return s;
}

static void test_resumption(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  moat_session *s = first_session(cc, sc);
  CHECK(s != NULL);
  if (s == NULL) {
    return;
  }
  CHECK(strcmp(moat_session_cipher_name(s), "TLS_AES_128_GCM_SHA256") == 0);
  CHECK(moat_session_lifetime(s) == 7200);
  pair p;
  new_pair(&p, cc, sc);
  CHECK(moat_conn_set_session(p.c, s) == MOAT_OK);
  moat_err se, ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_session_reused(p.c) && moat_conn_session_reused(p.s));
  CHECK(moat_conn_peer_chain_len(p.c) == 0); /* no Certificate sent */
  CHECK(echo(&p, "resumed"));
  free_pair(&p);

  /* serialised and restored */
  uint8_t bytes[1024];
  size_t n;
  moat_session *s2 = NULL;
  CHECK(moat_session_to_bytes(s, bytes, sizeof(bytes), &n) == MOAT_OK);
  CHECK(moat_session_from_bytes(bytes, n, &s2) == MOAT_OK);
  /* truncated or padded bytes are refused */
  moat_session *bad = NULL;
  CHECK(moat_session_from_bytes(bytes, n - 1, &bad) ==
            MOAT_ERR_INVALID_ARGUMENT &&
        bad == NULL);
  bytes[n] = 0;
  CHECK(moat_session_from_bytes(bytes, n + 1, &bad) ==
            MOAT_ERR_INVALID_ARGUMENT &&
        bad == NULL);
  new_pair(&p, cc, sc);
  CHECK(moat_conn_set_session(p.c, s2) == MOAT_OK);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK && moat_conn_session_reused(p.s));
  free_pair(&p);
  moat_session_free(s2);

  /* a damaged ticket: the server falls back to a full handshake */
  bytes[n - 5] ^= 1; /* inside the ticket */
  CHECK(moat_session_from_bytes(bytes, n, &s2) == MOAT_OK);
  new_pair(&p, cc, sc);
  CHECK(moat_conn_set_session(p.c, s2) == MOAT_OK);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(!moat_conn_session_reused(p.c) && !moat_conn_session_reused(p.s));
  CHECK(moat_conn_peer_chain_len(p.c) == 2 ||
        moat_conn_peer_chain_len(p.c) == 1);
  free_pair(&p);
  moat_session_free(s2);

  /* a ticket from another server context is not accepted */
  moat_context *sc2 = server_ctx("p256");
  new_pair(&p, cc, sc2);
  CHECK(moat_conn_set_session(p.c, s) == MOAT_OK);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK && !moat_conn_session_reused(p.s));
  free_pair(&p);
  moat_context_free(sc2);

  /* expired: the server refuses it (clock moved past the lifetime) */
  g_fake_now = moat_session_time(s) + 7201;
  moat_context_set_clock(sc, fake_clock, NULL);
  new_pair(&p, cc, sc);
  CHECK(moat_conn_set_session(p.c, s) == MOAT_OK);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK && !moat_conn_session_reused(p.s));
  free_pair(&p);
  moat_context_set_clock(sc, NULL, NULL);

  /* resumption after a HelloRetryRequest */
  CHECK(moat_context_set_groups(sc, "P-256") == MOAT_OK);
  CHECK(moat_context_set_groups(cc, "X25519:P-256") == MOAT_OK);
  new_pair(&p, cc, sc);
  CHECK(moat_conn_set_session(p.c, s) == MOAT_OK);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_hello_retry(p.c) && moat_conn_session_reused(p.s) &&
        moat_conn_session_reused(p.c));
  CHECK(echo(&p, "retry and resume"));
  free_pair(&p);

  /* a session for a suite the client no longer offers is not sent */
  CHECK(moat_context_set_ciphersuites(cc, "TLS_AES_256_GCM_SHA384") == MOAT_OK);
  new_pair(&p, cc, sc);
  CHECK(moat_conn_set_session(p.c, s) == MOAT_OK);
  ce = handshake_pair(&p, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK && !moat_conn_session_reused(p.c));
  free_pair(&p);
  moat_session_free(s);
  moat_context_free(cc);
  moat_context_free(sc);
}

static void test_context_lists(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK(moat_context_set_groups(ctx, "P-256,X25519:P-256") == MOAT_OK);
  CHECK(ctx->num_groups == 2 && ctx->groups[0] == kex_by_name("P-256"));
  /* a bad name changes nothing and says which name */
  CHECK(moat_context_set_groups(ctx, "X25519:nope") ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(moat_context_error_detail(ctx), "\"nope\"") != NULL);
  CHECK(ctx->num_groups == 2 && ctx->groups[0] == kex_by_name("P-256"));
  CHECK(moat_context_set_ciphersuites(ctx, "") == MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_context_set_ciphersuites(ctx, "TLS_AES_256_GCM_SHA384::x") ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(ctx->num_suites == 3);
  CHECK(moat_context_set_sigalgs(ctx, "ed25519") == MOAT_OK &&
        ctx->num_sigalgs == 1);
  CHECK(moat_context_set_sigalgs(ctx, "rsa_pkcs1_sha1") ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_context_set_min_version(ctx, 0x0301) == MOAT_ERR_REFUSED_PROTOCOL);
  moat_context_free(ctx);
}

static void test_legal_table(void) {
  /* Each waiting state accepts exactly the messages RFC 8446 A allows. */
  CHECK(hs_message_legal(ST_C_WAIT_SH, HT_SERVER_HELLO));
  CHECK(!hs_message_legal(ST_C_WAIT_SH, HT_ENCRYPTED_EXTENSIONS));
  CHECK(hs_message_legal(ST_C_WAIT_CERT_CR, HT_CERTIFICATE_REQUEST));
  CHECK(hs_message_legal(ST_C_WAIT_CERT_CR, HT_CERTIFICATE));
  CHECK(!hs_message_legal(ST_C_WAIT_CERT, HT_CERTIFICATE_REQUEST));
  CHECK(!hs_message_legal(ST_C_WAIT_CV, HT_FINISHED));
  CHECK(!hs_message_legal(ST_S_WAIT_CH, HT_FINISHED));
  CHECK(!hs_message_legal(ST_S_WAIT_FINISHED, HT_CLIENT_HELLO));
  CHECK(!hs_message_legal(ST_CONNECTED, HT_CLIENT_HELLO));
  CHECK(hs_message_legal(ST_CONNECTED, HT_KEY_UPDATE));
  for (int st = 0; st < ST__COUNT; st++) {
    CHECK(!hs_message_legal((hs_state)st, 0) &&
          !hs_message_legal((hs_state)st, 200));
  }
}

int main(void) {
  if (pki_init() != 0 || pki_leaf("p256", "p256", "30", "serverAuth") ||
      pki_leaf("p384", "p384", "30", "serverAuth") ||
      pki_leaf("rsa", "rsa", "30", "serverAuth") ||
      pki_leaf("ed25519", "ed25519", "30", "serverAuth") ||
      pki_leaf("client", "p256", "30", "clientAuth")) {
    fprintf(stderr, "could not make the test PKI with openssl\n");
    return 1;
  }
  test_legal_table();
  test_context_lists();
  test_matrix();
  test_hrr_alpn_sni();
  test_client_cert();
  test_key_update_close();
  test_verify_failures();
  test_resumption();
  pki_cleanup();
  return t_done("tls13");
}
