/* TLS 1.2 (RFC 5246, RFC 8422, RFC 7627, RFC 5077, RFC 5746) between a
 * moat client and a moat server in memory: every suite with ECDSA and RSA
 * certificates, client certificates, resumption by ticket and by session
 * ID, version negotiation and the downgrade sentinel, renegotiation
 * refused, and the PRF against libcrypto's TLS1-PRF. */
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "pair.h"
#include "pki.h"
#include "t.h"
#include "tls/msg/msg.h"

static moat_context *server_ctx(const char *leaf) {
  moat_context *ctx = pki_server_ctx(leaf);
  CHECK(ctx != NULL);
  return ctx;
}

static moat_context *client_ctx(void) {
  moat_context *ctx = pki_client_ctx();
  CHECK(ctx != NULL);
  return ctx;
}

typedef struct conns {
  moat_conn *c, *s;
  moat_err ce, se;
} conns;

static conns run(moat_context *cc, moat_context *sc, moat_session *sess) {
  conns r;
  r.c = moat_conn_new(cc);
  r.s = moat_conn_new(sc);
  moat_conn_set_hostname(r.c, "localhost");
  if (sess != NULL) {
    CHECK(moat_conn_set_session(r.c, sess) == MOAT_OK);
  }
  r.ce = handshake_both(r.c, r.s, &r.se);
  return r;
}

static void done(conns *r) {
  moat_conn_free(r->c);
  moat_conn_free(r->s);
}

/* Data both ways after the handshake. */
static bool echo(moat_conn *a, moat_conn *b, size_t n) {
  uint8_t *msg = malloc(n), *got = malloc(n);
  for (size_t i = 0; i < n; i++) {
    msg[i] = (uint8_t)(i * 31 + 7);
  }
  size_t w, total = 0;
  bool ok = moat_conn_write(a, msg, n, &w) == MOAT_OK && w == n;
  while (ok && total < n) {
    shuttle(a, b); /* as much as b's input takes: a record or so */
    size_t r;
    moat_err e = moat_conn_read(b, got + total, n - total, &r);
    ok = e == MOAT_OK && r > 0;
    if (!ok) {
      fprintf(stderr, "  read: %s (%s)\n", moat_err_name(e),
              moat_conn_error_detail(b));
    }
    total += ok ? r : 0;
  }
  ok = ok && memcmp(msg, got, n) == 0;
  free(msg);
  free(got);
  return ok;
}

static void test_suites(void) {
  static const struct {
    const char *leaf;
    const char *suite;
  } cases[] = {
      {"p256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
      {"p256", "ECDHE-ECDSA-AES256-GCM-SHA384"},
      {"p256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
      {"p384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
      {"rsa", "ECDHE-RSA-AES128-GCM-SHA256"},
      {"rsa", "ECDHE-RSA-AES256-GCM-SHA384"},
      {"rsa", "ECDHE-RSA-CHACHA20-POLY1305"},
  };
  static const char *groups[] = {"X25519", "P-256", "P-384"};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    for (size_t g = 0; g < 3; g++) {
      moat_context *sc = server_ctx(cases[i].leaf);
      moat_context *cc = client_ctx();
      CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
      CHECK(moat_context_set_ciphersuites(cc, cases[i].suite) == MOAT_OK);
      /* In 1.2 the client's groups also name the curves it takes for
       * ECDSA certificates (RFC 8422 5.1); the server's own list decides
       * the key exchange group. */
      const char *curve = strcmp(cases[i].leaf, "p256") == 0   ? "P-256"
                          : strcmp(cases[i].leaf, "p384") == 0 ? "P-384"
                                                               : NULL;
      bool add = curve != NULL && strcmp(curve, groups[g]) != 0;
      char list[32];
      snprintf(list, sizeof(list), "%s%s%s", groups[g], add ? ":" : "",
               add ? curve : "");
      CHECK(moat_context_set_groups(cc, list) == MOAT_OK);
      CHECK(moat_context_set_groups(sc, groups[g]) == MOAT_OK);
      conns r = run(cc, sc, NULL);
      bool ok = r.ce == MOAT_OK && r.se == MOAT_OK;
      CHECK(ok);
      if (!ok) {
        fprintf(stderr, "  %s %s: client %s (%s), server %s (%s)\n",
                cases[i].suite, groups[g], moat_err_name(r.ce),
                moat_conn_error_detail(r.c), moat_err_name(r.se),
                moat_conn_error_detail(r.s));
      } else {
        CHECK_EQ_INT(moat_conn_version(r.c), MOAT_TLS1_2);
        CHECK_EQ_INT(moat_conn_version(r.s), MOAT_TLS1_2);
        CHECK(strcmp(moat_conn_version_name(r.s), "TLSv1.2") == 0);
        CHECK(strcmp(moat_conn_cipher_openssl_name(r.c), cases[i].suite) == 0);
        CHECK(strcmp(moat_conn_group_name(r.c), moat_conn_group_name(r.s)) ==
              0);
        CHECK(echo(r.c, r.s, 100) && echo(r.s, r.c, 40000));
        CHECK(!moat_conn_session_reused(r.c));
      }
      done(&r);
      moat_context_free(cc);
      moat_context_free(sc);
    }
  }
}

/* RFC 8422 5.1: an ECDSA suite is chosen only when the client's
 * supported_groups include the curve of the server's key; otherwise the
 * server refuses with handshake_failure and says why (OpenSSL's client
 * refuses such a server with "wrong curve"). */
static void test_ecdsa_curve_in_groups(void) {
  static const struct {
    const char *leaf, *client_groups;
    bool ok;
  } cases[] = {
      {"p256", "X25519", false},       {"p256", "X25519:P-256", true},
      {"p384", "X25519:P-256", false}, {"p384", "P-384:X25519", true},
      {"rsa", "X25519", true},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    moat_context *sc = server_ctx(cases[i].leaf);
    moat_context *cc = client_ctx();
    CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
    CHECK(moat_context_set_groups(cc, cases[i].client_groups) == MOAT_OK);
    CHECK(moat_context_set_groups(sc, "X25519:P-256:P-384") == MOAT_OK);
    conns r = run(cc, sc, NULL);
    if (cases[i].ok) {
      CHECK(r.ce == MOAT_OK && r.se == MOAT_OK);
      /* the key exchange still follows the server's order */
      CHECK(r.ce == MOAT_OK &&
            strcmp(moat_conn_group_name(r.c), "X25519") == 0);
    } else {
      CHECK_EQ_INT(r.se, MOAT_ERR_HANDSHAKE_FAILURE);
      CHECK(strstr(moat_conn_error_detail(r.s), "RFC 8422 5.1") != NULL);
      CHECK_EQ_INT(r.ce, MOAT_ERR_ALERT_RECEIVED);
      CHECK(strstr(moat_conn_error_detail(r.c), "handshake_failure") != NULL);
    }
    done(&r);
    moat_context_free(cc);
    moat_context_free(sc);
  }
}

/* A 1.2 + 1.3 client lands on 1.3 with a 1.3 server, on 1.2 with a
 * 1.2-only server; a 1.2-only client and a 1.3-only server agree on
 * nothing and say so. */
static void test_versions(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  conns r = run(cc, sc, NULL);
  CHECK(r.ce == MOAT_OK && moat_conn_version(r.c) == MOAT_TLS1_3);
  done(&r);
  CHECK(moat_context_set_max_version(sc, MOAT_TLS1_2) == MOAT_OK);
  r = run(cc, sc, NULL);
  CHECK(r.ce == MOAT_OK && moat_conn_version(r.c) == MOAT_TLS1_2);
  done(&r);
  CHECK(moat_context_set_max_version(sc, MOAT_TLS1_3) == MOAT_OK);
  CHECK(moat_context_set_min_version(sc, MOAT_TLS1_3) == MOAT_OK);
  CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
  r = run(cc, sc, NULL);
  CHECK(r.se == MOAT_ERR_PROTOCOL_VERSION);
  CHECK(r.ce == MOAT_ERR_ALERT_RECEIVED);
  int alert = -1;
  CHECK(moat_conn_alert(r.c, &alert, NULL) && alert == ALERT_PROTOCOL_VERSION);
  CHECK(strstr(moat_conn_error_detail(r.s), "TLS 1.2 at most") != NULL);
  done(&r);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* RFC 8446 4.1.3: a 1.3-capable server that picks 1.2 marks its random;
 * a 1.3-capable client that sees the mark refuses. */
static void test_downgrade_sentinel(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  /* The client offers only 1.2 suites, so this server (1.2 and 1.3)
   * speaks 1.2 and marks the random; a 1.2-only client accepts it. */
  CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
  conns r = run(cc, sc, NULL);
  CHECK(r.ce == MOAT_OK);
  done(&r);
  /* The same ServerHello reaching a client that offered 1.3 too. */
  moat_context *cc13 = client_ctx();
  moat_conn *c = moat_conn_new(cc13);
  moat_conn_set_hostname(c, "localhost");
  moat_conn *c12 = moat_conn_new(cc);
  moat_conn_set_hostname(c12, "localhost");
  moat_conn *s = moat_conn_new(sc);
  CHECK(moat_conn_handshake(c12) == MOAT_ERR_WANT_READ);
  shuttle(c12, s);
  CHECK(moat_conn_handshake(s) == MOAT_ERR_WANT_READ);
  CHECK(moat_conn_handshake(c) == MOAT_ERR_WANT_READ);
  /* feed the server's flight to the 1.3-capable client */
  uint8_t buf[16384];
  size_t n;
  moat_conn_take_output(c, buf, sizeof(buf), &n); /* its own hello: drop */
  moat_conn_take_output(s, buf, sizeof(buf), &n);
  size_t used;
  moat_conn_feed(c, buf, n, &used);
  moat_err e = moat_conn_handshake(c);
  CHECK(e == MOAT_ERR_ILLEGAL_PARAMETER);
  CHECK(strstr(moat_conn_error_detail(c), "downgrade sentinel") != NULL);
  moat_conn_free(c);
  moat_conn_free(c12);
  moat_conn_free(s);
  moat_context_free(cc13);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* blob (a format-3 serialised session) rewritten in format 2, which had
 * no group: it still resumes; the client knows no group then, the server
 * still the one its ticket or cache kept.  Formats 1 and 4 are refused. */
static bool old_format_session(moat_context *cc, moat_context *sc,
                               const uint8_t *blob, size_t len,
                               const char *group) {
  uint8_t v2[1024];
  /* format(1) version(2) ems(1) id<1> suite(2) group(2) ... */
  size_t at = 1 + 2 + 1 + 1 + blob[4] + 2;
  CHECK(blob[0] == 3 && len > at + 2 && len <= sizeof(v2));
  if (blob[0] != 3 || len <= at + 2 || len > sizeof(v2)) {
    return false;
  }
  memcpy(v2, blob, at);
  memcpy(v2 + at, blob + at + 2, len - at - 2);
  v2[0] = 2;
  moat_session *s = NULL;
  CHECK(moat_session_from_bytes(v2, len - 2, &s) == MOAT_OK);
  if (s == NULL) {
    return false;
  }
  conns r = run(cc, sc, s);
  bool ok =
      r.ce == MOAT_OK && r.se == MOAT_OK && moat_conn_session_reused(r.c) &&
      moat_conn_group_name(r.c) == NULL && moat_conn_group_name(r.s) != NULL &&
      group != NULL && strcmp(moat_conn_group_name(r.s), group) == 0;
  done(&r);
  moat_session_free(s);
  for (uint8_t f = 1; f < 5; f += 3) {
    moat_session *bad = NULL;
    memcpy(v2, blob, len);
    v2[0] = f;
    ok &= moat_session_from_bytes(v2, len, &bad) == MOAT_ERR_INVALID_ARGUMENT &&
          bad == NULL;
  }
  return ok;
}

/* Whether b (one reference, dropped here) has a's moat_session_id. */
static bool same_session_id(const moat_session *a, moat_session *b) {
  uint8_t ia[32], ib[32];
  size_t na = 0, nb = 0;
  bool same = a != NULL && b != NULL &&
              moat_session_id(a, ia, &na) == MOAT_OK &&
              moat_session_id(b, ib, &nb) == MOAT_OK && na == nb && na > 0 &&
              memcmp(ia, ib, na) == 0;
  moat_session_free(b);
  return same;
}

static void test_resumption(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
  for (int by_id = 0; by_id < 2; by_id++) {
    moat_context_set_session_tickets(cc, !by_id);
    conns r = run(cc, sc, NULL);
    CHECK(r.ce == MOAT_OK && r.se == MOAT_OK);
    moat_session *sess = moat_conn_get_session(r.c);
    CHECK(sess != NULL);
    /* the group of the full handshake (a static name, kept past free) */
    const char *group = moat_conn_group_name(r.c);
    CHECK(group != NULL && moat_conn_group_name(r.s) != NULL &&
          strcmp(group, moat_conn_group_name(r.s)) == 0);
    done(&r);
    if (sess == NULL) {
      continue;
    }
    /* through the serialised form, as an application would keep it */
    uint8_t blob[1024];
    size_t blob_len;
    moat_session *back = NULL;
    CHECK(moat_session_to_bytes(sess, blob, sizeof(blob), &blob_len) ==
          MOAT_OK);
    CHECK(moat_session_from_bytes(blob, blob_len, &back) == MOAT_OK);
    r = run(cc, sc, back);
    bool ok = r.ce == MOAT_OK && r.se == MOAT_OK;
    CHECK(ok);
    CHECK(moat_conn_session_reused(r.c) && moat_conn_session_reused(r.s));
    /* and reports the group the session was made with, both sides */
    CHECK(moat_conn_group_name(r.c) != NULL && group != NULL &&
          strcmp(moat_conn_group_name(r.c), group) == 0);
    CHECK(moat_conn_group_name(r.s) != NULL && group != NULL &&
          strcmp(moat_conn_group_name(r.s), group) == 0);
    /* the resumed connection still shows the server's certificate */
    CHECK_EQ_INT(moat_conn_peer_chain_len(r.c), 1);
    CHECK_EQ_INT(moat_conn_verify_code(r.c), 0);
    if (!ok || !moat_conn_session_reused(r.c)) {
      fprintf(stderr, "  resume by %s: client %s (%s) server %s (%s)\n",
              by_id ? "id" : "ticket", moat_err_name(r.ce),
              moat_conn_error_detail(r.c), moat_err_name(r.se),
              moat_conn_error_detail(r.s));
    }
    CHECK(echo(r.c, r.s, 1000) && echo(r.s, r.c, 1000));
    /* The resumed session keeps its name, though the client sent a new
     * random ID beside the ticket and the server a new ticket. */
    CHECK(same_session_id(sess, moat_conn_get_session(r.c)));
    done(&r);
    /* format 2 (before the group was kept) is still read, as a session
     * without a group; an unknown format is refused */
    CHECK(old_format_session(cc, sc, blob, blob_len, group));
    /* a server context that did not issue it makes a full handshake */
    moat_context *other = server_ctx("p256");
    r = run(cc, other, back);
    CHECK(r.ce == MOAT_OK && !moat_conn_session_reused(r.c));
    done(&r);
    moat_context_free(other);
    moat_session_free(back);
    moat_session_free(sess);
  }
  moat_session_stats st;
  moat_context_session_stats(sc, &st);
  CHECK(st.hits >= 2 && st.accept >= 4 && st.number >= 1);
  /* A ticket alone (no cache, so no server session ID) names the session
   * by the ticket; a resumption with a new ticket keeps the first name,
   * and a full handshake gets another. */
  moat_context_set_session_cache_size(sc, 0);
  moat_context_set_session_tickets(cc, true);
  conns t1 = run(cc, sc, NULL);
  moat_session *first = moat_conn_get_session(t1.c);
  done(&t1);
  CHECK(first != NULL);
  conns t2 = run(cc, sc, first);
  CHECK(moat_conn_session_reused(t2.c));
  CHECK(same_session_id(first, moat_conn_get_session(t2.c)));
  done(&t2);
  conns t3 = run(cc, sc, NULL);
  CHECK(!same_session_id(first, moat_conn_get_session(t3.c)));
  done(&t3);
  moat_session_free(first);
  /* no cache and no tickets: nothing to resume with, so no session */
  moat_context_set_session_cache_size(sc, 0);
  moat_context_set_session_tickets(cc, false);
  conns r0 = run(cc, sc, NULL);
  CHECK(r0.ce == MOAT_OK && moat_conn_get_session(r0.c) == NULL);
  done(&r0);
  moat_context_free(cc);
  moat_context_free(sc);
}

static void test_client_cert(void) {
  char cert[256], key[256], ca[256];
  pki_path(cert, sizeof(cert), "client.pem");
  pki_path(key, sizeof(key), "client.key");
  pki_path(ca, sizeof(ca), "ca.pem");
  for (int mode = 0; mode < 3; mode++) {
    moat_context *sc = server_ctx("rsa");
    CHECK(moat_context_load_verify_locations(sc, ca, NULL, NULL, 0) == MOAT_OK);
    moat_context_set_verify_mode(sc, MOAT_VERIFY_REQUIRED);
    moat_context *cc = client_ctx();
    CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
    if (mode == 0) {
      CHECK(moat_context_load_cert_chain(cc, cert, key, NULL) == MOAT_OK);
    }
    if (mode == 2) {
      moat_context_set_verify_mode(sc, MOAT_VERIFY_OPTIONAL);
    }
    conns r = run(cc, sc, NULL);
    if (mode == 1) {
      /* required and none sent: handshake_failure (RFC 5246 7.4.6) */
      CHECK(r.se == MOAT_ERR_CERTIFICATE_REQUIRED);
      int a = -1;
      CHECK(moat_conn_alert(r.c, &a, NULL) && a == ALERT_HANDSHAKE_FAILURE);
    } else {
      CHECK(r.ce == MOAT_OK && r.se == MOAT_OK);
      CHECK_EQ_INT(moat_conn_peer_chain_len(r.s), mode == 0 ? 1 : 0);
      if (mode == 0) {
        CHECK(moat_conn_peer_sigalg_name(r.s) != NULL);
      }
      CHECK(echo(r.c, r.s, 10));
    }
    done(&r);
    moat_context_free(cc);
    moat_context_free(sc);
  }
}

/* RFC 5746: a ClientHello after the handshake gets a no_renegotiation
 * warning and the connection goes on. */
static void test_renegotiation(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
  conns r = run(cc, sc, NULL);
  CHECK(r.ce == MOAT_OK);
  /* a HelloRequest from the server, written with its keys */
  static const uint8_t hello_request[4] = {HT_HELLO_REQUEST, 0, 0, 0};
  CHECK(rec_write(r.s, CT_HANDSHAKE, hello_request, 4) == MOAT_OK);
  shuttle(r.s, r.c);
  uint8_t buf[16];
  size_t n;
  CHECK(moat_conn_read(r.c, buf, sizeof(buf), &n) == MOAT_ERR_WANT_READ);
  CHECK(r.c->renegotiations_refused == 1);
  /* the warning reaches the server, which keeps going */
  shuttle(r.c, r.s);
  CHECK(moat_conn_read(r.s, buf, sizeof(buf), &n) == MOAT_ERR_WANT_READ);
  CHECK(echo(r.c, r.s, 100) && echo(r.s, r.c, 100));
  /* ... but not for ever: the 17th request in a row ends the connection */
  for (int i = 0; i < 16; i++) {
    CHECK(rec_write(r.s, CT_HANDSHAKE, hello_request, 4) == MOAT_OK);
  }
  shuttle(r.s, r.c);
  CHECK(moat_conn_read(r.c, buf, sizeof(buf), &n) ==
        MOAT_ERR_UNEXPECTED_MESSAGE);
  CHECK(strstr(moat_conn_error_detail(r.c), "never renegotiates") != NULL);
  done(&r);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* The PRF against libcrypto's TLS1-PRF KDF (a second implementation). */
static void test_prf(void) {
  uint8_t secret[48], seed_a[32], seed_b[32];
  for (int i = 0; i < 48; i++) {
    secret[i] = (uint8_t)(i * 3 + 1);
  }
  for (int i = 0; i < 32; i++) {
    seed_a[i] = (uint8_t)(0xa0 + i);
    seed_b[i] = (uint8_t)(0x50 ^ i);
  }
  hash_id ids[2] = {HASH_SHA256, HASH_SHA384};
  const char *names[2] = {"SHA256", "SHA384"};
  size_t lens[3] = {12, 48, 104};
  for (int h = 0; h < 2; h++) {
    for (int l = 0; l < 3; l++) {
      const hash_alg *alg = hash_get(ids[h]);
      hmac_ctx *hm = hmac_new(alg);
      uint8_t ours[128], theirs[128];
      CHECK(tls12_prf(alg, hm, secret, sizeof(secret), "key expansion", seed_a,
                      32, seed_b, 32, ours, lens[l]));
      hmac_free(hm);
      uint8_t seed[13 + 64];
      memcpy(seed, "key expansion", 13);
      memcpy(seed + 13, seed_a, 32);
      memcpy(seed + 45, seed_b, 32);
      EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
      EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
      OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
                                 OSSL_KDF_PARAM_DIGEST, (char *)names[h], 0),
                             OSSL_PARAM_construct_octet_string(
                                 OSSL_KDF_PARAM_SECRET, secret, sizeof(secret)),
                             OSSL_PARAM_construct_octet_string(
                                 OSSL_KDF_PARAM_SEED, seed, sizeof(seed)),
                             OSSL_PARAM_construct_end()};
      CHECK(EVP_KDF_derive(kctx, theirs, lens[l], params) == 1);
      CHECK_MEM(ours, theirs, lens[l]);
      EVP_KDF_CTX_free(kctx);
      EVP_KDF_free(kdf);
    }
  }
}

/* Nonces per mode: RFC 5288 3 (salt || explicit seq) and RFC 7905 2
 * (IV XOR seq), seen in the records a connection writes. */
static void test_record_nonces(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
  CHECK(moat_context_set_ciphersuites(cc, "ECDHE-ECDSA-AES128-GCM-SHA256") ==
        MOAT_OK);
  conns r = run(cc, sc, NULL);
  CHECK(r.ce == MOAT_OK);
  uint64_t seq = r.c->wr.seq;
  size_t w;
  CHECK(moat_conn_write(r.c, (const uint8_t *)"abc", 3, &w) == MOAT_OK);
  uint8_t rec[64];
  size_t n;
  moat_conn_take_output(r.c, rec, sizeof(rec), &n);
  /* header, 8-byte explicit nonce = the sequence number, 3 bytes, tag */
  CHECK_EQ_INT(n, 5 + 8 + 3 + 16);
  CHECK(rec[0] == CT_APPLICATION_DATA);
  uint64_t explicit_nonce = 0;
  for (int i = 0; i < 8; i++) {
    explicit_nonce = explicit_nonce << 8 | rec[5 + i];
  }
  CHECK_EQ_INT(explicit_nonce, seq);
  done(&r);
  CHECK(moat_context_set_ciphersuites(cc, "ECDHE-ECDSA-CHACHA20-POLY1305") ==
        MOAT_OK);
  r = run(cc, sc, NULL);
  CHECK(r.ce == MOAT_OK);
  CHECK(moat_conn_write(r.c, (const uint8_t *)"abc", 3, &w) == MOAT_OK);
  moat_conn_take_output(r.c, rec, sizeof(rec), &n);
  CHECK_EQ_INT(n, 5 + 3 + 16); /* no explicit nonce */
  done(&r);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* Exporters (RFC 5705 for 1.2, RFC 8446 7.5 for 1.3) agree on both
 * sides and change with label and context; the 1.2 one is the PRF
 * computed by libcrypto over the master secret; tls-unique (RFC 5929) is
 * the client's Finished of a full handshake, the server's when resumed. */
static void test_exporters(void) {
  for (int v = 0; v < 2; v++) {
    moat_context *sc = server_ctx("p256");
    moat_context *cc = client_ctx();
    if (v == 0) {
      CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
    }
    conns r = run(cc, sc, NULL);
    CHECK(r.ce == MOAT_OK && r.se == MOAT_OK);
    uint8_t a[48], b[48], c2[48], d[48];
    const uint8_t ctxv[3] = {1, 2, 3};
    CHECK(moat_conn_export_keying_material(r.c, "EXPERIMENTAL-moat", ctxv, 3,
                                           true, a, sizeof(a)) == MOAT_OK);
    CHECK(moat_conn_export_keying_material(r.s, "EXPERIMENTAL-moat", ctxv, 3,
                                           true, b, sizeof(b)) == MOAT_OK);
    CHECK_MEM(a, b, sizeof(a));
    CHECK(moat_conn_export_keying_material(r.c, "EXPERIMENTAL-other", ctxv, 3,
                                           true, c2, sizeof(c2)) == MOAT_OK);
    CHECK(memcmp(a, c2, sizeof(a)) != 0);
    CHECK(moat_conn_export_keying_material(r.c, "EXPERIMENTAL-moat", NULL, 0,
                                           false, d, sizeof(d)) == MOAT_OK);
    CHECK(memcmp(a, d, sizeof(a)) != 0);
    uint8_t u1[16], u2[16];
    size_t n1 = 0, n2 = 0;
    if (v == 0) {
      CHECK(moat_conn_export_keying_material(r.c, "key expansion", NULL, 0,
                                             false, d,
                                             16) == MOAT_ERR_INVALID_ARGUMENT);
      /* RFC 5705 4 with libcrypto's TLS1-PRF over the master secret */
      uint8_t seed[17 + 64 + 5];
      memcpy(seed, "EXPERIMENTAL-moat", 17);
      memcpy(seed + 17, r.c->randoms, 64);
      seed[81] = 0;
      seed[82] = 3;
      memcpy(seed + 83, ctxv, 3);
      uint8_t want[48];
      EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
      EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
      OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
                                 OSSL_KDF_PARAM_DIGEST,
                                 (char *)hash_get(r.c->suite->hash)->name, 0),
                             OSSL_PARAM_construct_octet_string(
                                 OSSL_KDF_PARAM_SECRET, r.c->master, 48),
                             OSSL_PARAM_construct_octet_string(
                                 OSSL_KDF_PARAM_SEED, seed, sizeof(seed)),
                             OSSL_PARAM_construct_end()};
      CHECK(EVP_KDF_derive(kctx, want, sizeof(want), params) == 1);
      CHECK_MEM(a, want, sizeof(want));
      EVP_KDF_CTX_free(kctx);
      EVP_KDF_free(kdf);
      CHECK(moat_conn_tls_unique(r.c, u1, sizeof(u1), &n1) == MOAT_OK);
      CHECK(moat_conn_tls_unique(r.s, u2, sizeof(u2), &n2) == MOAT_OK);
      CHECK(n1 == 12 && n2 == 12 && memcmp(u1, u2, 12) == 0);
    }
    done(&r);
    moat_context_free(cc);
    moat_context_free(sc);
  }
}

/* A scheme the key is too small for (RSA-PSS with SHA-512 needs more than
 * 1024 bits) is passed over for the next one the client offers, in
 * ServerKeyExchange as in TLS 1.3's CertificateVerify. */
static void test_scheme_fits_key_size(void) {
  moat_context *sc = server_ctx("rsa1024");
  moat_context *cc = client_ctx();
  CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
  CHECK(moat_context_set_sigalgs(cc, "rsa_pss_rsae_sha512:rsa_pkcs1_sha256") ==
        MOAT_OK);
  conns r = run(cc, sc, NULL);
  CHECK(r.ce == MOAT_OK && r.se == MOAT_OK);
  CHECK(r.se != MOAT_OK ||
        strcmp(moat_conn_sigalg_name(r.s), "rsa_pkcs1_sha256") == 0);
  done(&r);
  moat_context_free(cc);
  moat_context_free(sc);
}

int main(void) {
  if (pki_init() != 0 || pki_leaf("p256", "p256", "30", "serverAuth") ||
      pki_leaf("p384", "p384", "30", "serverAuth") ||
      pki_leaf("rsa", "rsa", "30", "serverAuth") ||
      pki_leaf("rsa1024", "rsa1024", "30", "serverAuth") ||
      pki_leaf("client", "p256", "30", "clientAuth")) {
    fprintf(stderr, "could not make the test PKI with openssl\n");
    return 1;
  }
  test_prf();
  test_suites();
  test_ecdsa_curve_in_groups();
  test_versions();
  test_downgrade_sentinel();
  test_resumption();
  test_client_cert();
  test_renegotiation();
  test_record_nonces();
  test_exporters();
  test_scheme_fits_key_size();
  pki_cleanup();
  return t_done("tls12");
}
