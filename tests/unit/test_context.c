/* The context's policy snapshots: a connection keeps the policy it was
 * made with while setters change the context (suites, ALPN, chain, key
 * log, trust), one made later sees the change; and threads that handshake
 * (TLS 1.3, and TLS 1.2 resuming by ticket or session ID) on shared
 * contexts while another thread keeps calling the setters (the
 * ThreadSanitizer build, `make test-tsan`, runs this too). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "moat.h"
#include "pair.h"
#include "pki.h"
#include "t.h"

static char *pki_file(const char *name) {
  static char paths[8][256];
  static int next;
  char *p = paths[next++ % 8];
  pki_path(p, 256, name);
  return p;
}

static moat_context *server_ctx(const char *leaf) {
  char cert[64], key[64];
  snprintf(cert, sizeof(cert), "%s.pem", leaf);
  snprintf(key, sizeof(key), "%s.key", leaf);
  moat_context *ctx = moat_context_new(MOAT_ROLE_SERVER);
  CHECK(moat_context_load_cert_chain(ctx, pki_file(cert), pki_file(key),
                                     NULL) == MOAT_OK);
  return ctx;
}

static moat_context *client_ctx(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK(moat_context_load_verify_locations(ctx, pki_file("ca.pem"), NULL, NULL,
                                           0) == MOAT_OK);
  return ctx;
}

static moat_conn *client_conn(moat_context *cc) {
  moat_conn *c = moat_conn_new(cc);
  moat_conn_set_hostname(c, "localhost");
  return c;
}

/* Does the client's view of the server's leaf equal the file's? */
static bool peer_leaf_is(const moat_conn *c, const char *pem_name) {
  FILE *f = fopen(pki_file(pem_name), "rb");
  if (f == NULL) {
    return false;
  }
  static uint8_t pem[8192];
  size_t n = fread(pem, 1, sizeof(pem), f);
  fclose(f);
  moat_cert *cert = NULL;
  const uint8_t *want, *got;
  size_t want_len, got_len;
  bool same = false;
  if (moat_cert_from_pem(pem, n, &cert) == MOAT_OK &&
      moat_conn_peer_cert_der(c, 0, &got, &got_len) == MOAT_OK) {
    moat_cert_der(cert, &want, &want_len);
    same = want_len == got_len && memcmp(want, got, got_len) == 0;
  }
  moat_cert_free(cert);
  return same;
}

static size_t count_lines(const char *path, const char *label) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return 0;
  }
  char line[512];
  size_t n = 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    n += strncmp(line, label, strlen(label)) == 0;
  }
  fclose(f);
  return n;
}

static bool both_ok(moat_conn *c, moat_conn *s) {
  moat_err se, ce = handshake_both(c, s, &se);
  if (ce != MOAT_OK || se != MOAT_OK) {
    fprintf(stderr, "handshake: client %s (%s), server %s (%s)\n",
            moat_err_name(ce), moat_conn_error_detail(c), moat_err_name(se),
            moat_conn_error_detail(s));
  }
  return ce == MOAT_OK && se == MOAT_OK;
}

/* Connections made before the setters run keep the policy they were made
 * with; connections made after see the new one. */
static void test_snapshot_semantics(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  static const char *const h2[] = {"h2"};
  static const char *const both[] = {"h2", "http/1.1"};
  static const char *const http11[] = {"http/1.1"};
  char log_a[300], log_b[300];
  snprintf(log_a, sizeof(log_a), "%s/keylog-a", pki_dir);
  snprintf(log_b, sizeof(log_b), "%s/keylog-b", pki_dir);
  CHECK(moat_context_set_alpn_protocols(sc, h2, 1) == MOAT_OK);
  CHECK(moat_context_set_alpn_protocols(cc, both, 2) == MOAT_OK);
  CHECK(moat_context_set_keylog_file(sc, log_a) == MOAT_OK);

  moat_conn *c1 = client_conn(cc), *s1 = moat_conn_new(sc);

  /* The server now prefers ChaCha20 only, speaks http/1.1 only, has an RSA
   * certificate beside its P-256 one and logs elsewhere; the client
   * offers AES-256 only and takes RSA-PSS signatures only. */
  CHECK(moat_context_set_ciphersuites(sc, "TLS_CHACHA20_POLY1305_SHA256:"
                                          "TLS_AES_256_GCM_SHA384") == MOAT_OK);
  CHECK(moat_context_set_alpn_protocols(sc, http11, 1) == MOAT_OK);
  CHECK(moat_context_load_cert_chain(sc, pki_file("rsa.pem"),
                                     pki_file("rsa.key"), NULL) == MOAT_OK);
  CHECK(moat_context_set_keylog_file(sc, log_b) == MOAT_OK);
  CHECK(moat_context_set_ciphersuites(cc, "TLS_AES_256_GCM_SHA384") == MOAT_OK);
  CHECK(moat_context_set_sigalgs(cc, "rsa_pss_rsae_sha256") == MOAT_OK);
  /* A failed setter changes nothing, and says why. */
  CHECK(moat_context_load_cert_chain(sc, pki_file("missing.pem"), NULL, NULL) ==
        MOAT_ERR_FILE_ERROR);
  CHECK(strstr(moat_context_error_detail(sc), "missing.pem") != NULL);
  CHECK(moat_context_set_ciphersuites(sc, "TLS_NOPE") ==
        MOAT_ERR_INVALID_ARGUMENT);

  moat_conn *c2 = client_conn(cc), *s2 = moat_conn_new(sc);
  CHECK(moat_conn_context(s1) == sc && moat_conn_context(c1) == cc);

  /* The old policy outlives the handle's current one being replaced, and
   * the handle itself: both conns still hold theirs. */
  moat_context_free(sc);
  moat_context_free(cc);

  CHECK(both_ok(c1, s1));
  CHECK(moat_conn_cipher_name(s1) != NULL &&
        strcmp(moat_conn_cipher_name(s1), "TLS_AES_128_GCM_SHA256") == 0);
  CHECK(moat_conn_alpn(c1) != NULL && strcmp(moat_conn_alpn(c1), "h2") == 0);
  CHECK(peer_leaf_is(c1, "p256.pem"));
  CHECK(moat_conn_peer_sigalg_name(c1) != NULL &&
        strcmp(moat_conn_peer_sigalg_name(c1), "ecdsa_secp256r1_sha256") == 0);

  CHECK(both_ok(c2, s2));
  CHECK(moat_conn_cipher_name(s2) != NULL &&
        strcmp(moat_conn_cipher_name(s2), "TLS_AES_256_GCM_SHA384") == 0);
  CHECK(moat_conn_alpn(c2) != NULL &&
        strcmp(moat_conn_alpn(c2), "http/1.1") == 0);
  CHECK(peer_leaf_is(c2, "rsa.pem"));

  /* Each connection logged to the file set when it was made. */
  moat_conn_free(c1);
  moat_conn_free(s1);
  moat_conn_free(c2);
  moat_conn_free(s2);
  CHECK_EQ_INT(count_lines(log_a, "SERVER_TRAFFIC_SECRET_0"), 1);
  CHECK_EQ_INT(count_lines(log_b, "SERVER_TRAFFIC_SECRET_0"), 1);
}

/* moat_conn_set_context (as an SNI callback does) takes the new context's
 * current policy. */
static void test_set_context(void) {
  moat_context *a = server_ctx("p256");
  moat_context *b = server_ctx("rsa");
  moat_context *cc = client_ctx();
  moat_conn *c = client_conn(cc), *s = moat_conn_new(a);
  CHECK(moat_conn_set_context(s, b) == MOAT_OK);
  CHECK(moat_conn_context(s) == b);
  CHECK(moat_context_set_ciphersuites(a, "TLS_AES_256_GCM_SHA384") == MOAT_OK);
  moat_context_free(a);
  CHECK(both_ok(c, s));
  CHECK(peer_leaf_is(c, "rsa.pem"));
  CHECK(strcmp(moat_conn_cipher_name(s), "TLS_AES_128_GCM_SHA256") == 0);
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_free(b);
  moat_context_free(cc);
}

/* ---- threads ------------------------------------------------------------*/

#define WORKERS 3
#define HANDSHAKES 24

typedef struct shared_ctxs {
  moat_context *cc;
  moat_context *cc12; /* bounded to TLS 1.2 */
  moat_context *sc;
  atomic_int workers_left;
  char keylog[300];
} shared_ctxs;

typedef struct worker {
  shared_ctxs *sh;
  pthread_t thread;
  int ok;
  int failed;
  int resumed; /* TLS 1.2 handshakes that resumed (ticket or session ID) */
} worker;

static void *handshaker(void *arg) {
  worker *w = arg;
  moat_session *session = NULL; /* the last TLS 1.2 session */
  for (int i = 0; i < HANDSHAKES; i++) {
    /* Every other handshake is TLS 1.2, offering the last 1.2 session:
     * the ticket key and the session-ID cache are shared too. */
    bool tls12 = i % 2 == 1;
    moat_conn *c = client_conn(tls12 ? w->sh->cc12 : w->sh->cc);
    moat_conn *s = moat_conn_new(w->sh->sc);
    if (tls12 && session != NULL) {
      (void)moat_conn_set_session(c, session);
    }
    bool ok = c != NULL && s != NULL && both_ok(c, s);
    ok = ok && moat_conn_version(c) == (tls12 ? MOAT_TLS1_2 : MOAT_TLS1_3);
    if (ok && tls12) {
      w->resumed += moat_conn_session_reused(c);
      moat_session *got = moat_conn_get_session(c);
      if (got != NULL) {
        moat_session_free(session);
        session = got;
      }
    }
    /* Whatever snapshot each side took, ALPN overlaps. */
    const char *alpn = ok ? moat_conn_alpn(c) : NULL;
    ok = ok && alpn != NULL &&
         (strcmp(alpn, "h2") == 0 || strcmp(alpn, "http/1.1") == 0);
    /* Data flows both ways over the keys just made. */
    uint8_t buf[16];
    size_t n = 0;
    ok = ok && moat_conn_write(c, (const uint8_t *)"ping", 4, &n) == MOAT_OK;
    shuttle(c, s);
    ok = ok && moat_conn_read(s, buf, sizeof(buf), &n) == MOAT_OK && n == 4 &&
         memcmp(buf, "ping", 4) == 0;
    if (ok) {
      w->ok++;
    } else {
      w->failed++;
    }
    moat_conn_free(c);
    moat_conn_free(s);
  }
  moat_session_free(session);
  atomic_fetch_sub(&w->sh->workers_left, 1);
  return NULL;
}

static void *reconfigurer(void *arg) {
  shared_ctxs *sh = arg;
  static const char *const alpn[2][2] = {{"h2", "http/1.1"},
                                         {"http/1.1", "h2"}};
  /* The server's list holds TLS 1.2 suites too (moat_context_set_
   * ciphersuites sets the one list a server chooses from). */
  static const char *const suites[2] = {
      "TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:"
      "ECDHE-RSA-AES128-GCM-SHA256",
      "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"};
  /* the client's lists always meet the server's */
  static const char *const client_suites[2] = {
      "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
      "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"};
  static const char *const groups[2] = {"X25519:P-256", "P-256:X25519"};
  /* The TLS 1.2 client's: both of the server's key types, both AEADs. */
  static const char *const tls12_suites[2] = {
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305",
      "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-CHACHA20-POLY1305:"
      "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"};
  static const char *const leaf[2][2] = {{"p256.pem", "p256.key"},
                                         {"rsa.pem", "rsa.key"}};
  long *errors = calloc(1, sizeof(long));
  for (unsigned i = 0; atomic_load(&sh->workers_left) > 0; i++) {
    unsigned k = i & 1;
    *errors += moat_context_set_ciphersuites(sh->sc, suites[k]) != MOAT_OK;
    *errors += moat_context_set_alpn_protocols(sh->sc, alpn[k], 2) != MOAT_OK;
    *errors += moat_context_set_groups(sh->sc, groups[k]) != MOAT_OK;
    *errors +=
        moat_context_load_cert_chain(sh->sc, pki_file(leaf[k][0]),
                                     pki_file(leaf[k][1]), NULL) != MOAT_OK;
    *errors +=
        moat_context_set_keylog_file(sh->sc, k ? sh->keylog : NULL) != MOAT_OK;
    *errors +=
        moat_context_set_ciphersuites(sh->cc, client_suites[k]) != MOAT_OK;
    *errors += moat_context_set_alpn_protocols(sh->cc, alpn[!k], 2) != MOAT_OK;
    *errors += moat_context_set_groups(sh->cc, groups[!k]) != MOAT_OK;
    *errors +=
        moat_context_set_keylog_file(sh->cc, k ? NULL : sh->keylog) != MOAT_OK;
    *errors +=
        moat_context_set_ciphersuites(sh->cc12, tls12_suites[k]) != MOAT_OK;
    *errors +=
        moat_context_set_cipher_list(sh->cc12, "ECDHE+AESGCM:ECDHE") != MOAT_OK;
    *errors += moat_context_set_alpn_protocols(sh->cc12, alpn[k], 2) != MOAT_OK;
    moat_context_set_session_tickets(sh->sc, k);
    moat_context_set_session_tickets(sh->cc12, !k);
    *errors += moat_context_load_verify_locations(sh->cc, pki_file("ca.pem"),
                                                  NULL, NULL, 0) != MOAT_OK;
    moat_context_set_verify_flags(sh->cc, moat_context_verify_flags(sh->cc));
    *errors += moat_context_num_trusted(sh->cc) == 0;
  }
  return errors;
}

static void test_threads(void) {
  shared_ctxs sh = {
      .cc = client_ctx(), .cc12 = client_ctx(), .sc = server_ctx("p256")};
  CHECK(moat_context_set_max_version(sh.cc12, MOAT_TLS1_2) == MOAT_OK);
  static const char *const alpn[] = {"h2", "http/1.1"};
  CHECK(moat_context_set_alpn_protocols(sh.cc, alpn, 2) == MOAT_OK);
  CHECK(moat_context_set_alpn_protocols(sh.sc, alpn, 2) == MOAT_OK);
  CHECK(moat_context_set_alpn_protocols(sh.cc12, alpn, 2) == MOAT_OK);
  atomic_init(&sh.workers_left, WORKERS);
  snprintf(sh.keylog, sizeof(sh.keylog), "%s/keylog-threads", pki_dir);
  worker w[WORKERS];
  pthread_t setter;
  CHECK(pthread_create(&setter, NULL, reconfigurer, &sh) == 0);
  for (int i = 0; i < WORKERS; i++) {
    w[i] = (worker){.sh = &sh};
    CHECK(pthread_create(&w[i].thread, NULL, handshaker, &w[i]) == 0);
  }
  int ok = 0, failed = 0, resumed = 0;
  for (int i = 0; i < WORKERS; i++) {
    pthread_join(w[i].thread, NULL);
    ok += w[i].ok;
    failed += w[i].failed;
    resumed += w[i].resumed;
  }
  void *errors = NULL;
  pthread_join(setter, &errors);
  CHECK_EQ_INT(ok, WORKERS * HANDSHAKES);
  CHECK_EQ_INT(failed, 0);
  CHECK(resumed > 0);
  CHECK(errors != NULL && *(long *)errors == 0);
  free(errors);
  /* Some handshakes ran while a key log was set. */
  CHECK(count_lines(sh.keylog, "CLIENT_HANDSHAKE_TRAFFIC_SECRET") > 0);
  moat_context_free(sh.cc);
  moat_context_free(sh.cc12);
  moat_context_free(sh.sc);
}

/* The detail belongs to the last failed call: a failure that has nothing
 * to say shows no detail from an earlier one, and a success clears it. */
static void test_error_detail_not_stale(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_SERVER);
  CHECK(moat_context_load_cert_chain(ctx, pki_file("missing.pem"), NULL,
                                     NULL) == MOAT_ERR_FILE_ERROR);
  CHECK(strstr(moat_context_error_detail(ctx), "missing.pem") != NULL);
  CHECK(moat_context_load_cert_chain(ctx, NULL, NULL, NULL) ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(moat_context_error_detail(ctx), "missing.pem") == NULL);
  CHECK(moat_context_set_sigalgs(ctx, "nope") == MOAT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(moat_context_error_detail(ctx), "nope") != NULL);
  CHECK(moat_context_set_groups(ctx, "X25519") == MOAT_OK);
  CHECK_EQ_INT(strlen(moat_context_error_detail(ctx)), 0);
  CHECK(moat_context_set_keylog_file(ctx, "/nonexistent-dir/keylog") ==
        MOAT_ERR_FILE_ERROR);
  CHECK(moat_context_load_default_verify_paths(ctx) == MOAT_OK ||
        strstr(moat_context_error_detail(ctx), "keylog") == NULL);
  CHECK(strstr(moat_context_error_detail(ctx), "keylog") == NULL);
  moat_context_free(ctx);
}

/* Which leaf a client with these TLS 1.3 signature schemes (or, with
 * cipher_list, TLS 1.2 suites) gets from server context sc; NULL when the
 * handshake fails, and then the client read alert *out_alert. */
static const char *served_leaf(moat_context *sc, const char *sigalgs,
                               const char *cipher_list, int *out_alert) {
  static const char *const leaves[] = {"p256.pem", "p384.pem", "rsa.pem",
                                       "ed25519.pem"};
  moat_context *cc = client_ctx();
  if (sigalgs != NULL) {
    CHECK(moat_context_set_sigalgs(cc, sigalgs) == MOAT_OK);
  }
  if (cipher_list != NULL) {
    CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
    CHECK(moat_context_set_cipher_list(cc, cipher_list) == MOAT_OK);
  }
  moat_conn *c = client_conn(cc), *s = moat_conn_new(sc);
  moat_err se, ce = handshake_both(c, s, &se);
  const char *got = NULL;
  *out_alert = -1;
  if (ce == MOAT_OK && se == MOAT_OK) {
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
      if (peer_leaf_is(c, leaves[i])) {
        got = leaves[i];
      }
    }
  } else {
    bool by_us = true;
    CHECK(moat_conn_alert(c, out_alert, &by_us) && !by_us);
  }
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_free(cc);
  return got;
}

static bool str_is(const char *got, const char *want) {
  if (got == NULL || strcmp(got, want) != 0) {
    fprintf(stderr, "  got %s, wanted %s\n", got ? got : "(none)", want);
    return false;
  }
  return true;
}

/* A context holds one chain per key family (as OpenSSL's SSL_CTX): a
 * second load_cert_chain of another key type adds to the first, one of
 * the same family replaces it; the server sends the chain whose key can
 * make a signature the client accepts (TLS 1.3: signature_algorithms;
 * TLS 1.2: also the suite's ECDHE_ECDSA / ECDHE_RSA). */
static void test_chain_per_key_type(void) {
  moat_context *sc = server_ctx("p256");
  CHECK(moat_context_load_cert_chain(sc, pki_file("rsa.pem"),
                                     pki_file("rsa.key"), NULL) == MOAT_OK);
  int alert;
  CHECK(
      str_is(served_leaf(sc, "rsa_pss_rsae_sha256", NULL, &alert), "rsa.pem"));
  CHECK(str_is(served_leaf(sc, "ecdsa_secp256r1_sha256", NULL, &alert),
               "p256.pem"));
  CHECK(str_is(served_leaf(sc, "rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256",
                           NULL, &alert),
               "p256.pem")); /* the server's order: ECDSA first */
  CHECK(str_is(served_leaf(sc, NULL, "ECDHE-RSA-AES128-GCM-SHA256", &alert),
               "rsa.pem"));
  CHECK(str_is(served_leaf(sc, NULL, "ECDHE-ECDSA-AES128-GCM-SHA256", &alert),
               "p256.pem"));
  /* No chain fits: the client reads handshake_failure. */
  CHECK(served_leaf(sc, "ed25519", NULL, &alert) == NULL);
  CHECK_EQ_INT(alert, 40);
  /* TLS 1.2 ECDHE_RSA with only ECDSA schemes accepted. */
  CHECK(served_leaf(sc, "ecdsa_secp256r1_sha256", "ECDHE-RSA-AES128-GCM-SHA256",
                    &alert) == NULL);
  CHECK_EQ_INT(alert, 40);

  /* A P-384 chain takes the EC slot: the P-256 one is gone. */
  CHECK(moat_context_load_cert_chain(sc, pki_file("p384.pem"),
                                     pki_file("p384.key"), NULL) == MOAT_OK);
  CHECK(str_is(served_leaf(sc, "ecdsa_secp384r1_sha384:rsa_pss_rsae_sha256",
                           NULL, &alert),
               "p384.pem"));
  CHECK(served_leaf(sc, "ecdsa_secp256r1_sha256", NULL, &alert) == NULL);
  CHECK(str_is(served_leaf(sc, "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256",
                           NULL, &alert),
               "rsa.pem"));
  /* A third family beside them. */
  CHECK(moat_context_load_cert_chain(sc, pki_file("ed25519.pem"),
                                     pki_file("ed25519.key"), NULL) == MOAT_OK);
  CHECK(str_is(served_leaf(sc, "ed25519", NULL, &alert), "ed25519.pem"));
  CHECK(
      str_is(served_leaf(sc, "rsa_pss_rsae_sha256", NULL, &alert), "rsa.pem"));
  /* A server's scheme list that none of its keys can make is refused;
   * one that only some of them can make is taken. */
  CHECK(moat_context_set_sigalgs(sc, "ecdsa_secp521r1_sha512") ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(moat_context_error_detail(sc), "EC P-384, RSA and Ed25519") !=
        NULL);
  CHECK(moat_context_set_sigalgs(sc, "ed25519") == MOAT_OK);
  CHECK(str_is(served_leaf(sc, "ed25519:rsa_pss_rsae_sha256", NULL, &alert),
               "ed25519.pem"));
  moat_context_free(sc);
}

int main(void) {
  if (pki_init() != 0 || pki_leaf("p256", "p256", "30", "serverAuth") ||
      pki_leaf("rsa", "rsa", "30", "serverAuth") ||
      pki_leaf("p384", "p384", "30", "serverAuth") ||
      pki_leaf("ed25519", "ed25519", "30", "serverAuth")) {
    fprintf(stderr, "could not make the test PKI with openssl\n");
    return 1;
  }
  test_snapshot_semantics();
  test_set_context();
  test_threads();
  test_error_detail_not_stale();
  test_chain_per_key_type();
  pki_cleanup();
  return t_done("context");
}
