/* TLS 1.3 end to end in memory: moat client against moat server, every
 * suite, group and key type; HRR; ALPN; client certificates; KeyUpdate;
 * close_notify; and the failures a peer can cause. */
#include <stdlib.h>

#include "moat.h"
#include "pair.h"
#include "pki.h"
#include "t.h"
#include "tls/tls.h"

typedef struct pair {
  moat_conn *c;
  moat_conn *s;
} pair;

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

/* A new pair whose client offers session s; the handshake's results. */
static moat_err offer(pair *p, moat_context *cc, moat_context *sc,
                      moat_session *s, moat_err *out_server) {
  new_pair(p, cc, sc);
  CHECK(moat_conn_set_session(p->c, s) == MOAT_OK);
  return handshake_both(p->c, p->s, out_server);
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
  static const char *groups[] = {
      "X25519",           "P-256", "P-384", "P-521", "X448", "X25519MLKEM768",
      "SecP256r1MLKEM768"};
  static const char *leaves[] = {"p256", "p384", "rsa", "ed25519"};
  static const char *want_sig[] = {"ecdsa_secp256r1_sha256",
                                   "ecdsa_secp384r1_sha384",
                                   "rsa_pss_rsae_sha256", "ed25519"};
  for (size_t l = 0; l < 4; l++) {
    moat_context *sc = server_ctx(leaves[l]);
    for (size_t s = 0; s < 3; s++) {
      for (size_t g = 0; g < 7; g++) {
        moat_context *cc = client_ctx();
        CHECK(moat_context_set_ciphersuites(cc, suites[s]) == MOAT_OK);
        CHECK(moat_context_set_groups(cc, groups[g]) == MOAT_OK);
        pair p;
        new_pair(&p, cc, sc);
        moat_err se, ce = handshake_both(p.c, p.s, &se);
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
        CHECK(strcmp(moat_conn_verify_message(p.c), "ok") == 0);
        CHECK(moat_conn_verified_chain_len(p.c) == 2);
        CHECK(echo(&p, "hello moat"));
        free_pair(&p);
        moat_context_free(cc);
      }
    }
    moat_context_free(sc);
  }
}

/* The hybrid groups (draft-ietf-tls-ecdhe-mlkem) by default and by
 * policy: which group each side lands on, and whether it took a
 * HelloRetryRequest.  NULL lists keep the defaults. */
static void hybrid_case(const char *client_groups, const char *server_groups,
                        const char *want, bool want_hrr) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  if (client_groups != NULL) {
    CHECK(moat_context_set_groups(cc, client_groups) == MOAT_OK);
  }
  if (server_groups != NULL) {
    CHECK(moat_context_set_groups(sc, server_groups) == MOAT_OK);
  }
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  bool ok = ce == MOAT_OK && se == MOAT_OK &&
            moat_conn_group_name(p.c) != NULL &&
            strcmp(moat_conn_group_name(p.c), want) == 0 &&
            moat_conn_group_name(p.s) != NULL &&
            strcmp(moat_conn_group_name(p.s), want) == 0 &&
            moat_conn_hello_retry(p.c) == want_hrr &&
            moat_conn_hello_retry(p.s) == want_hrr && echo(&p, "pq");
  CHECK(ok);
  if (!ok) {
    fprintf(stderr,
            "groups %s / %s: client %s (%s) group %s retry %d, server %s "
            "(%s) group %s; want %s retry %d\n",
            client_groups ? client_groups : "default",
            server_groups ? server_groups : "default", moat_err_name(ce),
            moat_conn_error_detail(p.c),
            moat_conn_group_name(p.c) ? moat_conn_group_name(p.c) : "-",
            moat_conn_hello_retry(p.c), moat_err_name(se),
            moat_conn_error_detail(p.s),
            moat_conn_group_name(p.s) ? moat_conn_group_name(p.s) : "-", want,
            want_hrr);
  }
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* RFC 8446 5.1: the first ClientHello's record says 0x0301 (what old
 * servers accept), the ClientHello after a HelloRetryRequest and every
 * other record 0x0303. */
static uint16_t first_record_version(moat_conn *conn) {
  const uint8_t *data;
  size_t n;
  moat_conn_output_view(conn, &data, &n);
  return n >= 5 ? (uint16_t)(data[1] << 8 | data[2]) : 0;
}

static void test_record_versions(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  /* the client's key share (X25519) is not the server's group: HRR */
  CHECK(moat_context_set_groups(cc, "X25519:P-256") == MOAT_OK);
  CHECK(moat_context_set_groups(sc, "P-256") == MOAT_OK);
  pair p;
  new_pair(&p, cc, sc);
  CHECK(moat_conn_handshake(p.c) == MOAT_ERR_WANT_READ);
  CHECK_EQ_INT(first_record_version(p.c), 0x0301);
  shuttle(p.c, p.s);
  CHECK(moat_conn_handshake(p.s) == MOAT_ERR_WANT_READ);
  CHECK_EQ_INT(first_record_version(p.s), 0x0303);
  shuttle(p.s, p.c);
  CHECK(moat_conn_handshake(p.c) == MOAT_ERR_WANT_READ);
  CHECK(moat_conn_hello_retry(p.c));
  CHECK_EQ_INT(first_record_version(p.c), 0x0303);
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

static void test_hybrid_groups(void) {
  /* Defaults on both sides: the hybrid, in one round trip. */
  hybrid_case(NULL, NULL, "X25519MLKEM768", false);
  /* A server without the hybrid takes the client's X25519 share. */
  hybrid_case(NULL, "X25519:P-256", "X25519", false);
  hybrid_case(NULL, "P-256", "secp256r1", true);
  /* A client restricted to classical groups gets what it had before. */
  hybrid_case("X25519:P-256", NULL, "X25519", false);
  hybrid_case("P-256", NULL, "secp256r1", false);
  /* A client that supports the hybrid but sent only an X25519 share is
   * asked for the hybrid (the server prefers it). */
  hybrid_case("X25519:X25519MLKEM768", NULL, "X25519MLKEM768", true);
  hybrid_case("P-256:SecP256r1MLKEM768", NULL, "SecP256r1MLKEM768", true);
  /* The client is asked for the other hybrid, which it lists but did not
   * share. */
  hybrid_case(NULL, "SecP256r1MLKEM768:X25519", "SecP256r1MLKEM768", true);
  hybrid_case("SecP256r1MLKEM768", NULL, "SecP256r1MLKEM768", false);
  hybrid_case("SecP256r1MLKEM768:X25519MLKEM768", "X25519MLKEM768",
              "X25519MLKEM768", true);
}

/* Host names short enough for the connection's own room and longer
 * ones (on the heap), replaced in either direction: the server reads
 * each back from the ClientHello as sent. */
static void test_sni_lengths(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  char names[4][254];
  const size_t lens[4] = {23, 24, 200, 9};
  for (int i = 0; i < 4; i++) {
    memset(names[i], 'a' + i, lens[i]);
    names[i][lens[i]] = '\0';
    names[i][lens[i] / 2] = '.';
  }
  for (int i = 0; i < 4; i++) {
    moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
    /* first another name (long after short, short after long) */
    CHECK(moat_conn_set_hostname(c, names[(i + 1) % 4]) == MOAT_OK);
    CHECK(moat_conn_set_hostname(c, NULL) == MOAT_OK);
    CHECK(moat_conn_set_hostname(c, names[(i + 2) % 4]) == MOAT_OK);
    CHECK(moat_conn_set_hostname(c, names[i]) == MOAT_OK);
    CHECK_EQ_INT(moat_conn_handshake(c), MOAT_ERR_WANT_READ);
    shuttle(c, s);
    (void)moat_conn_handshake(s);
    const char *got = moat_conn_server_name(s);
    CHECK(got != NULL && strcmp(got, names[i]) == 0);
    moat_conn_free(c);
    moat_conn_free(s);
  }
  moat_context_free(cc);
  moat_context_free(sc);
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
  moat_err se, ce = handshake_both(p.c, p.s, &se);
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
  ce = handshake_both(p.c, p.s, &se);
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
  moat_err se, ce = handshake_both(p.c, p.s, &se);
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
  ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_peer_chain_len(p.s) == 1);
  CHECK(moat_conn_verified_chain_len(p.s) == 2);
  CHECK(echo(&p, "mutual"));
  moat_session *sess = moat_conn_get_session(p.c);
  free_pair(&p);
  /* the same after a HelloRetryRequest: the client's Certificate,
   * CertificateVerify and Finished follow message_hash and the retry */
  CHECK(moat_context_set_groups(sc, "P-256") == MOAT_OK);
  CHECK(moat_context_set_groups(cc, "X25519:P-256") == MOAT_OK);
  new_pair(&p, cc, sc);
  ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_hello_retry(p.c) && moat_conn_hello_retry(p.s));
  CHECK(moat_conn_peer_chain_len(p.s) == 1);
  CHECK(echo(&p, "mutual after retry"));
  free_pair(&p);
  /* resumed: the PSK authenticates the client, no CertificateRequest
   * (RFC 8446 4.3.2), and the Finished keys still check out */
  CHECK(sess != NULL);
  ce = offer(&p, cc, sc, sess, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_session_reused(p.c) && moat_conn_session_reused(p.s));
  CHECK(moat_conn_hello_retry(p.c));
  CHECK(echo(&p, "mutual, resumed"));
  free_pair(&p);
  moat_session_free(sess);
  /* optional: a client without a certificate gets through */
  moat_context_set_verify_mode(sc, MOAT_VERIFY_OPTIONAL);
  moat_context *cc2 = client_ctx();
  new_pair(&p, cc2, sc);
  ce = handshake_both(p.c, p.s, &se);
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
  moat_err se, ce = handshake_both(p.c, p.s, &se);
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
  ce = handshake_both(p.c, p.s, &se);
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

/* moat_context_set_max_send_fragment: no record we send carries more
 * plaintext than asked, handshake flights and data alike. */
static void test_max_send_fragment(void) {
  moat_context *sc = server_ctx("rsa");
  moat_context *cc = client_ctx();
  CHECK(moat_context_set_max_send_fragment(sc, 511) ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_context_set_max_send_fragment(sc, 16385) ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_context_set_max_send_fragment(sc, 512) == MOAT_OK);
  pair p;
  new_pair(&p, cc, sc);
  CHECK(moat_conn_handshake(p.c) == MOAT_ERR_WANT_READ);
  shuttle(p.c, p.s);
  CHECK(moat_conn_handshake(p.s) == MOAT_ERR_WANT_READ);
  /* the flight (an RSA chain, over 512 bytes) in records of at most 512
   * bytes of plaintext: 512 + type byte + tag protected */
  const uint8_t *data;
  size_t n, records = 0, biggest = 0;
  moat_conn_output_view(p.s, &data, &n);
  cursor c = cur_make(data, n), body;
  uint8_t type;
  uint16_t version;
  while (cur_u8(&c, &type) && cur_u16(&c, &version) &&
         cur_prefixed16(&c, &body)) {
    records++;
    biggest = cur_len(&body) > biggest ? cur_len(&body) : biggest;
  }
  CHECK(records > 4 && biggest == 512 + 1 + 16);
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  /* 2000 bytes of data: 4 records */
  uint8_t msg[2000], got[2000];
  memset(msg, 'm', sizeof(msg));
  size_t w, r, total = 0;
  CHECK(moat_conn_write(p.s, msg, sizeof(msg), &w) == MOAT_OK && w == 2000);
  moat_conn_output_view(p.s, &data, &n);
  CHECK_EQ_INT(n, 2000 + 4 * (5 + 1 + 16));
  shuttle(p.s, p.c);
  while (total < sizeof(got) &&
         moat_conn_read(p.c, got + total, sizeof(got) - total, &r) == MOAT_OK) {
    total += r;
  }
  CHECK(total == 2000 && memcmp(got, msg, 2000) == 0);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* moat_context_set_signing_sigalgs / _set_verify_sigalgs: what a side
 * signs with and what it accepts (and advertises) are apart. */
static void test_split_sigalgs(void) {
  moat_context *sc = server_ctx("p256");
  /* the client accepts only RSA-PSS: a P-256 server cannot sign for it,
   * whatever the client itself would sign with */
  moat_context *cc = client_ctx();
  CHECK(moat_context_set_verify_sigalgs(cc, "rsa_pss_rsae_sha256") == MOAT_OK);
  CHECK(moat_context_set_signing_sigalgs(cc, "ecdsa_secp256r1_sha256") ==
        MOAT_OK);
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(se == MOAT_ERR_HANDSHAKE_FAILURE && ce == MOAT_ERR_ALERT_RECEIVED);
  free_pair(&p);
  moat_context_free(cc);
  /* the ClientHello advertises the verify list, not the signing list */
  cc = client_ctx();
  CHECK(moat_context_set_verify_sigalgs(
            cc, "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256") == MOAT_OK);
  CHECK(moat_context_set_signing_sigalgs(cc, "ed25519") == MOAT_OK);
  new_pair(&p, cc, sc);
  CHECK(moat_conn_handshake(p.c) == MOAT_ERR_WANT_READ);
  shuttle(p.c, p.s);
  CHECK(moat_conn_handshake(p.s) == MOAT_ERR_WANT_READ);
  CHECK(p.s->hs != NULL && p.s->hs->num_peer_sigalgs == 2 &&
        p.s->hs->peer_sigalgs[0] == 0x0403 &&
        p.s->hs->peer_sigalgs[1] == 0x0804);
  ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK && echo(&p, "split"));
  free_pair(&p);
  moat_context_free(cc);
  /* a server key check applies to the signing list only */
  CHECK(moat_context_set_signing_sigalgs(sc, "rsa_pss_rsae_sha256") ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_context_set_verify_sigalgs(sc, "rsa_pss_rsae_sha256") == MOAT_OK);
  moat_context_free(sc);
}

/* moat_context_set_verify_callback: what the callback saw and said. */
typedef struct verify_cb_state {
  int calls;
  long seen;
  long answer; /* -1: pass moat's code through */
} verify_cb_state;

static long verify_cb(void *arg, moat_conn *conn, long code) {
  verify_cb_state *st = arg;
  st->calls++;
  st->seen = code;
  CHECK(moat_conn_peer_chain_len(conn) >= 1);
  return st->answer < 0 ? code : st->answer;
}

static void test_verify_callback(void) {
  moat_context *sc = server_ctx("p256");
  for (int version = 0; version < 2; version++) {
    /* (a) it accepts a chain moat could not verify (no anchors) */
    verify_cb_state st = {0, -1, 0};
    moat_context *cc = moat_context_new(MOAT_ROLE_CLIENT);
    moat_context_set_check_hostname(cc, false);
    moat_context_set_verify_callback(cc, verify_cb, &st);
    if (version == 1) {
      CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
    }
    pair p;
    new_pair(&p, cc, sc);
    moat_err se, ce = handshake_both(p.c, p.s, &se);
    CHECK(ce == MOAT_OK && se == MOAT_OK && echo(&p, "vouched"));
    CHECK_EQ_INT(st.calls, 1);
    CHECK(st.seen != 0 && moat_conn_verify_code(p.c) == st.seen);
    free_pair(&p);
    /* (b) passing the code through keeps moat's verdict */
    st = (verify_cb_state){0, -1, -1};
    new_pair(&p, cc, sc);
    ce = handshake_both(p.c, p.s, &se);
    CHECK(ce == MOAT_ERR_CERT_VERIFY_FAILED && st.calls == 1);
    CHECK(se == MOAT_ERR_ALERT_RECEIVED);
    free_pair(&p);
    moat_context_free(cc);
    /* (c) it refuses a chain that verified: handshake_failure on the
     * wire */
    cc = client_ctx();
    st = (verify_cb_state){0, -1, MOAT_VERIFY_APPLICATION_REJECTED};
    moat_context_set_verify_callback(cc, verify_cb, &st);
    if (version == 1) {
      CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
    }
    new_pair(&p, cc, sc);
    ce = handshake_both(p.c, p.s, &se);
    CHECK(ce == MOAT_ERR_CERT_VERIFY_FAILED && st.calls == 1 && st.seen == 0);
    CHECK_EQ_INT(moat_conn_verify_code(p.c), 50);
    CHECK(strstr(moat_conn_error_detail(p.c), "verify callback") != NULL);
    int a = -1;
    bool ours = true;
    CHECK(se == MOAT_ERR_ALERT_RECEIVED && moat_conn_alert(p.s, &a, &ours) &&
          a == ALERT_HANDSHAKE_FAILURE && !ours);
    free_pair(&p);
    moat_context_free(cc);
  }
  /* (d) a server's callback on the client's chain */
  char ca[256], cert[256], key[256];
  pki_path(ca, sizeof(ca), "ca.pem");
  pki_path(cert, sizeof(cert), "client.pem");
  pki_path(key, sizeof(key), "client.key");
  verify_cb_state st = {0, -1, MOAT_VERIFY_APPLICATION_REJECTED};
  moat_context_set_verify_mode(sc, MOAT_VERIFY_REQUIRED);
  CHECK(moat_context_load_verify_locations(sc, ca, NULL, NULL, 0) == MOAT_OK);
  moat_context_set_verify_callback(sc, verify_cb, &st);
  moat_context *cc = client_ctx();
  CHECK(moat_context_load_cert_chain(cc, cert, key, NULL) == MOAT_OK);
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(se == MOAT_ERR_CERT_VERIFY_FAILED && st.calls == 1 && st.seen == 0);
  (void)ce;
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
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_ERR_HOSTNAME_MISMATCH || ce == MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK(moat_conn_verify_code(p.c) == 62);
  /* the message says what failed and where */
  CHECK(strstr(moat_conn_verify_message(p.c), "mismatch") != NULL &&
        strstr(moat_conn_verify_message(p.c), "at depth 0") != NULL);
  CHECK(se == MOAT_ERR_ALERT_RECEIVED);
  /* sticky */
  CHECK(moat_conn_handshake(p.c) == ce);
  free_pair(&p);
  /* untrusted: a client with no anchors */
  moat_context *empty = moat_context_new(MOAT_ROLE_CLIENT);
  new_pair(&p, empty, sc);
  ce = handshake_both(p.c, p.s, &se);
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
  ce = handshake_both(p.c, p.s, &se);
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
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(!moat_conn_session_reused(p.c));
  CHECK(moat_conn_get_session(p.c) == NULL); /* tickets not read yet */
  CHECK(echo(&p, "ticket please"));          /* the client reads the tickets */
  moat_session *s = moat_conn_get_session(p.c);
  free_pair(&p);
  return s;
}

/* moat_context_set_session_tickets(false) on a server: no tickets
 * issued and none accepted, in either version (OP_NO_TICKET). */
static void test_tickets_off(void) {
  for (int v12 = 0; v12 <= 1; v12++) {
    moat_context *sc = server_ctx("p256");
    moat_context *cc = client_ctx();
    if (v12) {
      CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
      moat_context_set_session_cache_size(sc, 0); /* tickets only */
    }
    moat_session *s = NULL;
    if (v12) {
      pair p0;
      new_pair(&p0, cc, sc);
      moat_err se0, ce0 = handshake_both(p0.c, p0.s, &se0);
      CHECK(ce0 == MOAT_OK && se0 == MOAT_OK);
      s = moat_conn_get_session(p0.c);
      free_pair(&p0);
    } else {
      s = first_session(cc, sc);
    }
    CHECK(s != NULL);
    if (s == NULL) {
      moat_context_free(cc);
      moat_context_free(sc);
      continue;
    }
    moat_context_set_session_tickets(sc, false);
    pair p;
    moat_err se, ce = offer(&p, cc, sc, s, &se);
    CHECK(ce == MOAT_OK && se == MOAT_OK);
    CHECK(!moat_conn_session_reused(p.c) && !moat_conn_session_reused(p.s));
    CHECK(echo(&p, "no ticket"));
    /* and no new ticket came: the client still holds the one it offered */
    moat_session *s2 = moat_conn_get_session(p.c);
    CHECK(s2 == NULL || s2 == s);
    moat_session_free(s2);
    free_pair(&p);
    moat_session_free(s);
    moat_context_free(cc);
    moat_context_free(sc);
  }
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
  /* RFC 8446 4.6.1: the NewSessionTicket carries the age mask sealed in
   * the ticket (a random one), so the client's ticket age is hidden. */
  moat_conn *sconn = moat_conn_new(sc);
  moat_session st;
  memset(&st, 0, sizeof(st));
  CHECK(ticket_open(sconn, s->ticket, s->ticket_len, &st));
  CHECK(st.age_add == s->age_add && st.age_add != 0);
  moat_conn_free(sconn);
  pair p;
  moat_err se;
  moat_err ce = offer(&p, cc, sc, s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_session_reused(p.c) && moat_conn_session_reused(p.s));
  /* no Certificate was sent: the session's chain stands in for it */
  CHECK(moat_conn_peer_chain_len(p.c) >= 1);
  CHECK_EQ_INT(moat_conn_verify_code(p.c), 0);
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
  ce = offer(&p, cc, sc, s2, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK && moat_conn_session_reused(p.s));
  free_pair(&p);
  moat_session_free(s2);

  /* a damaged ticket: the server falls back to a full handshake */
  uint8_t *tk = memmem(bytes, n, s->ticket, s->ticket_len);
  CHECK(tk != NULL);
  tk[s->ticket_len - 5] ^= 1; /* inside the ticket */
  CHECK(moat_session_from_bytes(bytes, n, &s2) == MOAT_OK);
  ce = offer(&p, cc, sc, s2, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(!moat_conn_session_reused(p.c) && !moat_conn_session_reused(p.s));
  CHECK(moat_conn_peer_chain_len(p.c) == 2 ||
        moat_conn_peer_chain_len(p.c) == 1);
  free_pair(&p);
  moat_session_free(s2);

  /* a ticket from another server context is not accepted */
  moat_context *sc2 = server_ctx("p256");
  ce = offer(&p, cc, sc2, s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK && !moat_conn_session_reused(p.s));
  free_pair(&p);
  moat_context_free(sc2);

  /* expired: the server refuses it (clock moved past the lifetime) */
  g_fake_now = moat_session_time(s) + 7201;
  moat_context_set_clock(sc, fake_clock, NULL);
  ce = offer(&p, cc, sc, s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK && !moat_conn_session_reused(p.s));
  free_pair(&p);
  moat_context_set_clock(sc, NULL, NULL);

  /* resumption after a HelloRetryRequest */
  CHECK(moat_context_set_groups(sc, "P-256") == MOAT_OK);
  CHECK(moat_context_set_groups(cc, "X25519:P-256") == MOAT_OK);
  ce = offer(&p, cc, sc, s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_hello_retry(p.c) && moat_conn_session_reused(p.s) &&
        moat_conn_session_reused(p.c));
  CHECK(echo(&p, "retry and resume"));
  free_pair(&p);

  /* a retry, then a server that cannot open the ticket: the second
   * ClientHello's binder covers message_hash and the retry, and both
   * transcripts take that ClientHello whole (RFC 8446 4.4.1) */
  sc2 = server_ctx("p256");
  CHECK(moat_context_set_groups(sc2, "P-256") == MOAT_OK);
  ce = offer(&p, cc, sc2, s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_hello_retry(p.c) && moat_conn_hello_retry(p.s));
  CHECK(!moat_conn_session_reused(p.c) && !moat_conn_session_reused(p.s));
  CHECK(echo(&p, "retry, ticket refused"));
  free_pair(&p);
  moat_context_free(sc2);

  /* a ticket whose hash the server's choice of suite does not fit: the
   * client hashed ClientHello1 with the ticket's hash for the binder and
   * must start the transcript again with the server's (RFC 8446 4.2.11) */
  {
    moat_context *sc384 = server_ctx("p256");
    moat_context *cc384 = client_ctx();
    CHECK(moat_context_set_ciphersuites(sc384, "TLS_AES_256_GCM_SHA384") ==
          MOAT_OK);
    moat_session *s384 = first_session(cc384, sc384);
    CHECK(s384 != NULL && strcmp(moat_session_cipher_name(s384),
                                 "TLS_AES_256_GCM_SHA384") == 0);
    CHECK(moat_context_set_ciphersuites(
              sc384, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384") ==
          MOAT_OK);
    ce = offer(&p, cc384, sc384, s384, &se);
    CHECK(ce == MOAT_OK && se == MOAT_OK);
    CHECK(!moat_conn_session_reused(p.c) && !moat_conn_session_reused(p.s));
    CHECK(strcmp(moat_conn_cipher_name(p.c), "TLS_AES_128_GCM_SHA256") == 0);
    CHECK(echo(&p, "new hash, full handshake"));
    free_pair(&p);
    /* and with the ticket's suite, resumed */
    CHECK(moat_context_set_ciphersuites(sc384, "TLS_AES_256_GCM_SHA384") ==
          MOAT_OK);
    ce = offer(&p, cc384, sc384, s384, &se);
    CHECK(ce == MOAT_OK && se == MOAT_OK && moat_conn_session_reused(p.c) &&
          moat_conn_session_reused(p.s));
    CHECK(echo(&p, "SHA-384 resumed"));
    free_pair(&p);
    /* a retry whose suite has another hash than the ticket's: the second
     * ClientHello no longer offers the ticket (RFC 8446 4.1.4), and the
     * transcript starts again with the retry's hash */
    CHECK(moat_context_set_ciphersuites(
              sc384, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384") ==
          MOAT_OK);
    CHECK(moat_context_set_groups(sc384, "P-256") == MOAT_OK);
    CHECK(moat_context_set_groups(cc384, "X25519:P-256") == MOAT_OK);
    ce = offer(&p, cc384, sc384, s384, &se);
    CHECK(ce == MOAT_OK && se == MOAT_OK);
    CHECK(moat_conn_hello_retry(p.c) && moat_conn_hello_retry(p.s));
    CHECK(!moat_conn_session_reused(p.c) && !moat_conn_session_reused(p.s));
    CHECK(strcmp(moat_conn_cipher_name(p.c), "TLS_AES_128_GCM_SHA256") == 0);
    CHECK(echo(&p, "retry to another hash"));
    free_pair(&p);
    /* and a retry in the ticket's suite: resumed with SHA-384 */
    CHECK(moat_context_set_ciphersuites(sc384, "TLS_AES_256_GCM_SHA384") ==
          MOAT_OK);
    ce = offer(&p, cc384, sc384, s384, &se);
    CHECK(ce == MOAT_OK && se == MOAT_OK);
    CHECK(moat_conn_hello_retry(p.c) && moat_conn_session_reused(p.c) &&
          moat_conn_session_reused(p.s));
    CHECK(echo(&p, "retry and SHA-384 resumed"));
    free_pair(&p);
    moat_session_free(s384);
    moat_context_free(cc384);
    moat_context_free(sc384);
  }

  /* a session for a suite the client no longer offers is not sent */
  CHECK(moat_context_set_ciphersuites(cc, "TLS_AES_256_GCM_SHA384") == MOAT_OK);
  ce = offer(&p, cc, sc, s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK && !moat_conn_session_reused(p.c));
  free_pair(&p);
  moat_session_free(s);
  moat_context_free(cc);
  moat_context_free(sc);
}

static void test_context_lists(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK(moat_context_set_groups(ctx, "P-256,X25519:P-256") == MOAT_OK);
  CHECK(ctx->pol->num_groups == 2 &&
        ctx->pol->groups[0] == kex_by_name("P-256"));
  /* a bad name changes nothing and says which name */
  CHECK(moat_context_set_groups(ctx, "X25519:nope") ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(moat_context_error_detail(ctx), "\"nope\"") != NULL);
  CHECK(ctx->pol->num_groups == 2 &&
        ctx->pol->groups[0] == kex_by_name("P-256"));
  CHECK(moat_context_set_ciphersuites(ctx, "") == MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_context_set_ciphersuites(ctx, "TLS_AES_256_GCM_SHA384::x") ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(ctx->pol->num_suites == 9); /* the defaults: 3 TLS 1.3, 6 TLS 1.2 */
  CHECK(moat_context_set_sigalgs(ctx, "ed25519") == MOAT_OK &&
        ctx->pol->num_sigalgs == 1);
  CHECK(moat_context_set_sigalgs(ctx, "rsa_pkcs1_sha1") ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_context_set_min_version(ctx, 0x0301) == MOAT_ERR_REFUSED_PROTOCOL);
  /* RFC 8446 4.6.1: a connection's tickets need distinct nonces, and ours
   * are one byte long. */
  moat_context_set_num_tickets(ctx, 1000);
  CHECK_EQ_INT(ctx->pol->num_tickets, 256);
  moat_context_set_num_tickets(ctx, 0);
  CHECK_EQ_INT(ctx->pol->num_tickets, 0);
  moat_context_set_num_tickets(ctx, 5);
  CHECK_EQ_INT(ctx->pol->num_tickets, 5);
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

/* ---- reading application data straight into the caller's buffer -------- */

static pair connected_pair(moat_context *cc, moat_context *sc) {
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  /* Let the client take the server's tickets so later reads see only what
   * a test sends. */
  CHECK(echo(&p, "ready"));
  return p;
}

/* Seals one record from `from` by hand into rec, with `pad` zero bytes of
 * padding after the content type (moat itself never pads); returns its
 * length.  Uses and advances from's write sequence so its own records
 * stay valid. */
static size_t seal_padded(moat_conn *from, uint8_t type, const uint8_t *data,
                          size_t n, size_t pad, uint8_t *rec) {
  rec_dir *wr = &from->wr;
  size_t body = n + 1 + pad + wr->alg->tag_len;
  CHECK(body <= TLS_MAX_CIPHERTEXT);
  if (body > TLS_MAX_CIPHERTEXT) {
    return 0;
  }
  uint8_t h[5] = {CT_APPLICATION_DATA, 3, 3, (uint8_t)(body >> 8),
                  (uint8_t)body};
  memcpy(rec, h, 5);
  if (n > 0) {
    memcpy(rec + 5, data, n);
  }
  rec[5 + n] = type;
  memset(rec + 5 + n + 1, 0, pad);
  uint8_t nonce[AEAD_NONCE_LEN];
  memcpy(nonce, wr->iv, AEAD_NONCE_LEN);
  for (int i = 0; i < 8; i++) {
    nonce[AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(wr->seq >> (8 * i));
  }
  CHECK(aead_seal(&wr->aead, nonce, h, 5, rec + 5, n + 1 + pad, rec + 5));
  wr->seq++;
  return 5 + body;
}

/* The same, fed to `to`. */
static void send_padded(moat_conn *from, moat_conn *to, uint8_t type,
                        const uint8_t *data, size_t n, size_t pad) {
  static uint8_t rec[TLS_MAX_RECORD];
  size_t len = seal_padded(from, type, data, n, pad, rec);
  size_t used;
  CHECK(len > 0 && moat_conn_feed(to, rec, len, &used) == MOAT_OK &&
        used == len);
}

static bool all_byte(const uint8_t *p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != v) {
      return false;
    }
  }
  return true;
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; i++) {
    p[i] = (uint8_t)(seed + i * 31 + (i >> 8));
  }
}

/* Read caps below, at and above a record's content. */
static void test_read_caps(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  pair p = connected_pair(cc, sc);
  static uint8_t msg[16384], rb[20000];
  fill_pattern(msg, sizeof(msg), 7);
  size_t w, n;

  /* smaller: the rest stays buffered and comes with the next reads */
  CHECK(moat_conn_write(p.c, msg, 1000, &w) == MOAT_OK && w == 1000);
  shuttle(p.c, p.s);
  memset(rb, 0xaa, sizeof(rb));
  CHECK(moat_conn_read(p.s, rb, 300, &n) == MOAT_OK);
  CHECK_EQ_INT(n, 300);
  CHECK_MEM(rb, msg, 300);
  CHECK(all_byte(rb + 300, 100, 0xaa)); /* nothing past cap */
  CHECK_EQ_INT(moat_conn_pending(p.s), 700);
  CHECK(moat_conn_read(p.s, rb, 300, &n) == MOAT_OK);
  CHECK_EQ_INT(n, 300);
  CHECK_MEM(rb, msg + 300, 300);
  CHECK(moat_conn_read(p.s, rb, 1000, &n) == MOAT_OK);
  CHECK_EQ_INT(n, 400);
  CHECK_MEM(rb, msg + 600, 400);
  CHECK_EQ_INT(moat_conn_pending(p.s), 0);
  CHECK(moat_conn_read(p.s, rb, 1000, &n) == MOAT_ERR_WANT_READ);
  CHECK_EQ_INT(n, 0);

  /* one byte at a time */
  CHECK(moat_conn_write(p.c, msg, 3, &w) == MOAT_OK);
  shuttle(p.c, p.s);
  for (size_t i = 0; i < 3; i++) {
    CHECK(moat_conn_read(p.s, rb, 1, &n) == MOAT_OK && n == 1 &&
          rb[0] == msg[i]);
  }

  /* equal */
  CHECK(moat_conn_write(p.c, msg + 5, 1000, &w) == MOAT_OK);
  shuttle(p.c, p.s);
  memset(rb, 0xaa, sizeof(rb));
  CHECK(moat_conn_read(p.s, rb, 1000, &n) == MOAT_OK);
  CHECK_EQ_INT(n, 1000);
  CHECK_MEM(rb, msg + 5, 1000);
  CHECK(all_byte(rb + 1000, 100, 0xaa));
  CHECK_EQ_INT(moat_conn_pending(p.s), 0);

  /* larger: the content-type byte is not left behind in the buffer, and
   * nothing is written past the record's plaintext */
  CHECK(moat_conn_write(p.c, msg + 9, 1000, &w) == MOAT_OK);
  shuttle(p.c, p.s);
  memset(rb, 0xaa, sizeof(rb));
  CHECK(moat_conn_read(p.s, rb, sizeof(rb), &n) == MOAT_OK);
  CHECK_EQ_INT(n, 1000);
  CHECK_MEM(rb, msg + 9, 1000);
  CHECK(rb[1000] == 0);
  CHECK(all_byte(rb + 1001, sizeof(rb) - 1001, 0xaa));
  CHECK_EQ_INT(moat_conn_pending(p.s), 0);

  /* two records waiting: one read returns one record */
  CHECK(moat_conn_write(p.c, msg, 100, &w) == MOAT_OK);
  CHECK(moat_conn_write(p.c, msg + 100, 200, &w) == MOAT_OK);
  shuttle(p.c, p.s);
  CHECK(moat_conn_read(p.s, rb, sizeof(rb), &n) == MOAT_OK && n == 100);
  CHECK_MEM(rb, msg, 100);
  CHECK(moat_conn_read(p.s, rb, sizeof(rb), &n) == MOAT_OK && n == 200);
  CHECK_MEM(rb, msg + 100, 200);

  /* a full record into a buffer of exactly 2^14 (the bulk case) */
  CHECK(moat_conn_write(p.c, msg, 16384, &w) == MOAT_OK && w == 16384);
  shuttle(p.c, p.s);
  memset(rb, 0, sizeof(rb));
  CHECK(moat_conn_read(p.s, rb, 16384, &n) == MOAT_OK);
  CHECK_EQ_INT(n, 16384);
  CHECK_MEM(rb, msg, 16384);
  CHECK_EQ_INT(moat_conn_pending(p.s), 0);
  /* and one byte short of it */
  CHECK(moat_conn_write(p.c, msg, 16384, &w) == MOAT_OK);
  shuttle(p.c, p.s);
  CHECK(moat_conn_read(p.s, rb, 16383, &n) == MOAT_OK && n == 16383);
  CHECK_MEM(rb, msg, 16383);
  CHECK(moat_conn_read(p.s, rb, 16383, &n) == MOAT_OK && n == 1);
  CHECK(rb[0] == msg[16383]);

  /* cap 0 reads nothing and loses nothing */
  CHECK(moat_conn_write(p.c, msg, 10, &w) == MOAT_OK);
  shuttle(p.c, p.s);
  CHECK(moat_conn_read(p.s, rb, 0, &n) == MOAT_OK && n == 0);
  CHECK(moat_conn_read(p.s, rb, 100, &n) == MOAT_OK && n == 10);
  CHECK_MEM(rb, msg, 10);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* RFC 8446 5.4: padded records, through both parts of a direct read. */
static void test_read_padding(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  pair p = connected_pair(cc, sc);
  static const uint8_t hello[] = "hello, padded";
  const size_t hl = sizeof(hello) - 1;
  uint8_t rb[4096];
  size_t n;

  /* padding wholly in the tail (cap covers the content only) */
  send_padded(p.c, p.s, CT_APPLICATION_DATA, hello, hl, 300);
  memset(rb, 0xaa, sizeof(rb));
  CHECK(moat_conn_read(p.s, rb, hl, &n) == MOAT_OK && n == hl);
  CHECK_MEM(rb, hello, hl);
  CHECK_EQ_INT(moat_conn_pending(p.s), 0);

  /* type and part of the padding in the head, the rest in the tail */
  send_padded(p.c, p.s, CT_APPLICATION_DATA, hello, hl, 300);
  memset(rb, 0xaa, sizeof(rb));
  CHECK(moat_conn_read(p.s, rb, 100, &n) == MOAT_OK && n == hl);
  CHECK_MEM(rb, hello, hl);
  CHECK(all_byte(rb + hl, 100 - hl, 0)); /* no type byte left */
  CHECK(all_byte(rb + 100, sizeof(rb) - 100, 0xaa));
  CHECK_EQ_INT(moat_conn_pending(p.s), 0);

  /* everything in the head */
  send_padded(p.c, p.s, CT_APPLICATION_DATA, hello, hl, 300);
  CHECK(moat_conn_read(p.s, rb, sizeof(rb), &n) == MOAT_OK && n == hl);
  CHECK_MEM(rb, hello, hl);

  /* content split across the head and the buffer */
  send_padded(p.c, p.s, CT_APPLICATION_DATA, hello, hl, 40);
  CHECK(moat_conn_read(p.s, rb, 5, &n) == MOAT_OK && n == 5);
  CHECK_MEM(rb, hello, 5);
  CHECK_EQ_INT(moat_conn_pending(p.s), hl - 5);
  CHECK(moat_conn_read(p.s, rb, sizeof(rb), &n) == MOAT_OK && n == hl - 5);
  CHECK_MEM(rb, hello + 5, hl - 5);

  /* an empty, padded application record delivers nothing: the read goes
   * on to the next record */
  send_padded(p.c, p.s, CT_APPLICATION_DATA, NULL, 0, 64);
  send_padded(p.c, p.s, CT_APPLICATION_DATA, NULL, 0, 0);
  send_padded(p.c, p.s, CT_APPLICATION_DATA, (const uint8_t *)"next", 4, 7);
  memset(rb, 0xaa, sizeof(rb));
  CHECK(moat_conn_read(p.s, rb, sizeof(rb), &n) == MOAT_OK && n == 4);
  CHECK_MEM(rb, "next", 4);

  /* the largest inner plaintext (RFC 8446 5.4: 2^14 + 1 bytes of
   * content, type and padding): 2^14 - 200 bytes of content padded by 200
   * bytes, then 2^14 bytes with no padding */
  static uint8_t big[16384];
  fill_pattern(big, sizeof(big), 3);
  send_padded(p.c, p.s, CT_APPLICATION_DATA, big, sizeof(big) - 200, 200);
  static uint8_t rbig[20000];
  CHECK(moat_conn_read(p.s, rbig, sizeof(rbig), &n) == MOAT_OK &&
        n == sizeof(big) - 200);
  CHECK_MEM(rbig, big, sizeof(big) - 200);
  send_padded(p.c, p.s, CT_APPLICATION_DATA, big, sizeof(big), 0);
  CHECK(moat_conn_read(p.s, rbig, sizeof(rbig), &n) == MOAT_OK &&
        n == sizeof(big));
  CHECK_MEM(rbig, big, sizeof(big));

  /* a padded close_notify read with a one-byte buffer: the alert's level
   * byte lands in the head and goes back; the buffer keeps nothing */
  static const uint8_t cn[2] = {1, ALERT_CLOSE_NOTIFY};
  send_padded(p.c, p.s, CT_ALERT, cn, 2, 50);
  rb[0] = 0xaa;
  CHECK(moat_conn_read(p.s, rb, 1, &n) == MOAT_ERR_CLOSED);
  CHECK_EQ_INT(n, 0);
  CHECK(rb[0] == 0);
  free_pair(&p);

  /* content beyond 2^14 after padding removal: record_overflow */
  p = connected_pair(cc, sc);
  static uint8_t over[16385];
  fill_pattern(over, sizeof(over), 1);
  send_padded(p.c, p.s, CT_APPLICATION_DATA, over, sizeof(over), 0);
  memset(rbig, 0xaa, sizeof(rbig));
  CHECK(moat_conn_read(p.s, rbig, sizeof(rbig), &n) ==
        MOAT_ERR_RECORD_OVERFLOW);
  CHECK_EQ_INT(n, 0);
  CHECK(all_byte(rbig, sizeof(over) + 1, 0));
  int alert = -1;
  bool sent = false;
  CHECK(moat_conn_alert(p.s, &alert, &sent) && sent &&
        alert == ALERT_RECORD_OVERFLOW);
  free_pair(&p);

  /* padding that takes the inner plaintext one byte past 2^14 + 1, with
   * content within 2^14, into the ciphertext limit's room: record_overflow,
   * and nothing reaches the caller */
  size_t pads[2] = {1, 255 - 16};
  for (size_t i = 0; i < 2; i++) {
    p = connected_pair(cc, sc);
    send_padded(p.c, p.s, CT_APPLICATION_DATA, big, sizeof(big), pads[i]);
    memset(rbig, 0xaa, sizeof(rbig));
    CHECK(moat_conn_read(p.s, rbig, sizeof(rbig), &n) ==
          MOAT_ERR_RECORD_OVERFLOW);
    CHECK_EQ_INT(n, 0);
    CHECK(all_byte(rbig, sizeof(big) + 1 + pads[i], 0));
    CHECK(moat_conn_alert(p.s, &alert, &sent) && sent &&
          alert == ALERT_RECORD_OVERFLOW);
    CHECK(strstr(moat_conn_error_detail(p.s), "2^14 + 1") != NULL);
    free_pair(&p);
  }

  /* a record of zeros only has no content type */
  p = connected_pair(cc, sc);
  send_padded(p.c, p.s, 0, NULL, 0, 20);
  memset(rb, 0xaa, sizeof(rb));
  CHECK(moat_conn_read(p.s, rb, sizeof(rb), &n) == MOAT_ERR_UNEXPECTED_MESSAGE);
  CHECK(moat_conn_alert(p.s, &alert, &sent) && sent &&
        alert == ALERT_UNEXPECTED_MESSAGE);
  CHECK(all_byte(rb, 21, 0));
  free_pair(&p);

  /* an empty handshake record, and application data inside a fragmented
   * handshake message: refused, and the application bytes do not reach
   * the caller */
  p = connected_pair(cc, sc);
  send_padded(p.c, p.s, CT_HANDSHAKE, NULL, 0, 3);
  CHECK(moat_conn_read(p.s, rb, sizeof(rb), &n) == MOAT_ERR_UNEXPECTED_MESSAGE);
  free_pair(&p);
  p = connected_pair(cc, sc);
  static const uint8_t frag[3] = {HT_KEY_UPDATE, 0, 0};
  send_padded(p.c, p.s, CT_HANDSHAKE, frag, sizeof(frag), 0);
  send_padded(p.c, p.s, CT_APPLICATION_DATA, (const uint8_t *)"do-not-leak", 11,
              0);
  memset(rb, 0xaa, sizeof(rb));
  CHECK(moat_conn_read(p.s, rb, sizeof(rb), &n) == MOAT_ERR_UNEXPECTED_MESSAGE);
  CHECK_EQ_INT(n, 0);
  CHECK(all_byte(rb, 12, 0));
  CHECK(all_byte(rb + 12, sizeof(rb) - 12, 0xaa));
  free_pair(&p);

  /* RFC 8446 5.1: a KeyUpdate ends its record; one followed by another
   * message in the same record is refused */
  p = connected_pair(cc, sc);
  static const uint8_t two_ku[10] = {HT_KEY_UPDATE, 0, 0, 1, 0,
                                     HT_KEY_UPDATE, 0, 0, 1, 0};
  send_padded(p.c, p.s, CT_HANDSHAKE, two_ku, sizeof(two_ku), 0);
  CHECK(moat_conn_read(p.s, rb, sizeof(rb), &n) == MOAT_ERR_UNEXPECTED_MESSAGE);
  CHECK(moat_conn_alert(p.s, &alert, &sent) && sent &&
        alert == ALERT_UNEXPECTED_MESSAGE);
  CHECK(strstr(moat_conn_error_detail(p.s), "follows a KeyUpdate") != NULL);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* A NewSessionTicket and a KeyUpdate between two application records,
 * read with a large buffer. */
static void test_read_post_handshake_between(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  for (int request = 0; request < 2; request++) {
    pair p = connected_pair(cc, sc);
    CHECK(p.c->session != NULL && p.c->session->ticket != NULL);
    uint8_t old_ticket[TICKET_MAX];
    size_t old_len = 0;
    if (p.c->session != NULL && p.c->session->ticket_len <= TICKET_MAX) {
      old_len = p.c->session->ticket_len;
      memcpy(old_ticket, p.c->session->ticket, old_len);
    }
    uint8_t old_s_ap[HASH_MAX_LEN];
    memcpy(old_s_ap, p.c->s_ap, sizeof(old_s_ap));
    size_t w, n;
    CHECK(moat_conn_write(p.s, (const uint8_t *)"first", 5, &w) == MOAT_OK);
    CHECK(tls13_send_tickets(p.s) == MOAT_OK);
    CHECK(moat_conn_key_update(p.s, request != 0) == MOAT_OK);
    CHECK(moat_conn_write(p.s, (const uint8_t *)"second!", 7, &w) == MOAT_OK);
    shuttle(p.s, p.c);
    static uint8_t rb[16384];
    memset(rb, 0xaa, sizeof(rb));
    CHECK(moat_conn_read(p.c, rb, sizeof(rb), &n) == MOAT_OK && n == 5);
    CHECK_MEM(rb, "first", 5);
    memset(rb, 0xaa, sizeof(rb));
    CHECK(moat_conn_read(p.c, rb, sizeof(rb), &n) == MOAT_OK && n == 7);
    CHECK_MEM(rb, "second!", 7);
    /* the ticket and KeyUpdate records were opened into rb too, then
     * moved back: what is left past the data is wiped or untouched */
    bool clean = true;
    for (size_t i = 7; i < sizeof(rb); i++) {
      clean = clean && (rb[i] == 0 || rb[i] == 0xaa);
    }
    CHECK(clean);
    CHECK(rb[7] == 0);
    /* the key update was applied: a new read secret, and "second!" was
     * the first record under it */
    CHECK(memcmp(old_s_ap, p.c->s_ap, sizeof(old_s_ap)) != 0);
    CHECK_EQ_INT(p.c->rd.seq, 1);
    /* the new ticket replaced the old one */
    CHECK(p.c->session != NULL && p.c->session->ticket != NULL &&
          (p.c->session->ticket_len != old_len ||
           memcmp(p.c->session->ticket, old_ticket, old_len) != 0));
    CHECK_EQ_INT(p.c->post_len, 0);
    /* when asked, the client answers with its own KeyUpdate (one record
     * of 5 + 4 + 1 + 1 + 16 bytes); both directions still work */
    CHECK_EQ_INT(moat_conn_pending_output(p.c), request ? 27 : 0);
    CHECK(echo(&p, "after the update"));
    free_pair(&p);
  }
  moat_context_free(cc);
  moat_context_free(sc);
}

/* moat's reallocations, counted by the allocator main() installs. */
static size_t g_reallocs;
static void *count_malloc(size_t n, void *arg) {
  (void)arg;
  return malloc(n);
}
static void *count_realloc(void *p, size_t n, void *arg) {
  (void)arg;
  g_reallocs++;
  return realloc(p, n);
}
static void count_free(void *p, void *arg) {
  (void)arg;
  free(p);
}

/* A post-handshake message sent one byte per record: reassembly grows its
 * buffer geometrically, not by one reallocation (and copy) per record. */
static void test_post_handshake_fragments(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  pair p = connected_pair(cc, sc);
  /* NewSessionTicket: lifetime, age_add, nonce, a 4000-byte ticket */
  static uint8_t nst[4 + 4 + 4 + 2 + 2 + 4000 + 2];
  size_t body = sizeof(nst) - 4;
  uint8_t head[] = {HT_NEW_SESSION_TICKET,
                    0,
                    (uint8_t)(body >> 8),
                    (uint8_t)body,
                    0,
                    0,
                    0x1c,
                    0x20,
                    1,
                    2,
                    3,
                    4,
                    1,
                    0,
                    4000 >> 8,
                    4000 & 0xff};
  memset(nst, 0x5a, sizeof(nst));
  memcpy(nst, head, sizeof(head));
  nst[sizeof(nst) - 2] = nst[sizeof(nst) - 1] = 0; /* no extensions */
  size_t before = g_reallocs;
  for (size_t i = 0; i < sizeof(nst); i++) {
    send_padded(p.s, p.c, CT_HANDSHAKE, nst + i, 1, 0);
    uint8_t rb[16];
    size_t n;
    CHECK_EQ_INT(moat_conn_read(p.c, rb, sizeof(rb), &n), MOAT_ERR_WANT_READ);
  }
  CHECK(g_reallocs - before < 32);
  CHECK(p.c->session != NULL && p.c->session->ticket_len == 4000);
  CHECK_EQ_INT(p.c->post_len, 0);
  CHECK(echo(&p, "after a fragmented ticket"));
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* A damaged record read through the direct path. */
static void test_read_bad_tag(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  static const char secret[] = "secret payload, never shown";
  const size_t sl = sizeof(secret) - 1;
  /* flip the last tag byte, then a ciphertext byte; read with a large and
   * a small buffer */
  for (int k = 0; k < 4; k++) {
    pair p = connected_pair(cc, sc);
    size_t w, n;
    CHECK(moat_conn_write(p.c, (const uint8_t *)secret, sl, &w) == MOAT_OK);
    uint8_t rec[256];
    CHECK(moat_conn_take_output(p.c, rec, sizeof(rec), &n) == MOAT_OK);
    CHECK_EQ_INT(n, 5 + sl + 1 + 16);
    rec[(k & 1) ? 5 + 3 : n - 1] ^= 0x01;
    size_t used;
    CHECK(moat_conn_feed(p.s, rec, n, &used) == MOAT_OK && used == n);
    uint8_t rb[512];
    size_t cap = (k & 2) ? 4 : sizeof(rb);
    memset(rb, 0xaa, sizeof(rb));
    size_t got = 99;
    CHECK(moat_conn_read(p.s, rb, cap, &got) == MOAT_ERR_BAD_RECORD_MAC);
    CHECK_EQ_INT(got, 0);
    size_t head = cap < sl + 1 ? cap : sl + 1;
    CHECK(all_byte(rb, head, 0));
    CHECK(all_byte(rb + head, sizeof(rb) - head, 0xaa));
    int alert = -1;
    bool sent = false;
    CHECK(moat_conn_alert(p.s, &alert, &sent) && sent &&
          alert == ALERT_BAD_RECORD_MAC);
    CHECK(moat_conn_pending_output(p.s) > 0);
    /* sticky */
    CHECK(moat_conn_read(p.s, rb, cap, &got) == MOAT_ERR_BAD_RECORD_MAC);
    CHECK_EQ_INT(moat_conn_pending(p.s), 0);
    free_pair(&p);
  }
  moat_context_free(cc);
  moat_context_free(sc);
}

/* ---- many records, random sizes and read caps ---------------------------*/

typedef struct byteq {
  uint8_t *d;
  size_t len, off, cap;
} byteq;

static void byteq_put(byteq *q, const uint8_t *p, size_t n) {
  if (q->len + n > q->cap) {
    size_t ncap = q->cap ? q->cap : 65536;
    while (ncap < q->len + n) {
      ncap *= 2;
    }
    q->d = realloc(q->d, ncap);
    q->cap = ncap;
  }
  memcpy(q->d + q->len, p, n);
  q->len += n;
}

static void byteq_take_all(moat_conn *from, byteq *q) {
  uint8_t buf[8192];
  size_t n;
  while (moat_conn_pending_output(from) > 0) {
    moat_conn_take_output(from, buf, sizeof(buf), &n);
    byteq_put(q, buf, n);
  }
}

static uint32_t g_rng = 0x2545f491;
static uint32_t rnd(uint32_t below) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 17;
  g_rng ^= g_rng << 5;
  return g_rng % below;
}

/* A transport over a byte queue that hands out a random number of bytes
 * per receive, and would block when empty. */
typedef struct qpair {
  byteq in;  /* what the server receives */
  byteq out; /* what it sends */
} qpair;

static long q_recv(void *arg, uint8_t *out, size_t cap, bool *out_wb) {
  byteq *q = &((qpair *)arg)->in;
  if (q->off == q->len) {
    *out_wb = true;
    return -1;
  }
  size_t n = q->len - q->off;
  size_t chunk = 1 + rnd(3) * (1 + rnd(20000));
  n = n < cap ? n : cap;
  n = n < chunk ? n : chunk;
  memcpy(out, q->d + q->off, n);
  q->off += n;
  return (long)n;
}
static long q_send(void *arg, const uint8_t *data, size_t len, bool *out_wb) {
  (void)out_wb;
  byteq_put(&((qpair *)arg)->out, data, len);
  return (long)len;
}
static const moat_transport k_qt = {q_send, q_recv};

static void read_random(moat_context *cc, moat_context *sc, bool transport) {
  pair p = connected_pair(cc, sc);
  const size_t total = 700000;
  uint8_t *src = malloc(total), *dst = malloc(total);
  static uint8_t rb[20000];
  for (size_t i = 0; i < total; i++) {
    src[i] = (uint8_t)rnd(256);
  }
  qpair qp;
  memset(&qp, 0, sizeof(qp));
  byteq *q = &qp.in;
  static uint8_t rec[TLS_MAX_RECORD];
  if (transport) {
    CHECK(moat_conn_set_transport(p.s, &k_qt, &qp) == MOAT_OK);
  }
  size_t sent = 0, got = 0, reads = 0, key_updates = 0;
  bool ok = true;
  while (got < total && ok) {
    for (uint32_t k = rnd(4); k > 0 && sent < total; k--) {
      size_t n = 1 + rnd(rnd(2) ? 20000 : 300);
      n = n < total - sent ? n : total - sent;
      if (rnd(8) == 0 && n <= 16000) {
        /* now and then a padded record, queued after what the client
         * wrote before it */
        byteq_take_all(p.c, q);
        byteq_put(q, rec,
                  seal_padded(p.c, CT_APPLICATION_DATA, src + sent, n, rnd(200),
                              rec));
      } else {
        size_t w;
        CHECK(moat_conn_write(p.c, src + sent, n, &w) == MOAT_OK && w == n);
      }
      sent += n;
      if (rnd(16) == 0) {
        CHECK(moat_conn_key_update(p.c, false) == MOAT_OK);
        key_updates++;
      }
    }
    byteq_take_all(p.c, q);
    for (int guard = 0; guard < 100000; guard++) {
      if (!transport && q->off < q->len) {
        size_t used;
        CHECK(moat_conn_feed(p.s, q->d + q->off, q->len - q->off, &used) ==
              MOAT_OK);
        q->off += used;
      }
      size_t cap = rnd(4) == 0 ? 16384 : 1 + rnd(sizeof(rb));
      size_t n = 0;
      moat_err e = moat_conn_read(p.s, rb, cap, &n);
      if (e == MOAT_ERR_WANT_READ) {
        CHECK_EQ_INT(n, 0);
        if (q->off == q->len || transport) {
          break;
        }
        continue;
      }
      reads++;
      if (e != MOAT_OK || n == 0 || n > cap || got + n > total) {
        fprintf(stderr, "random read: %s (%s), n %zu cap %zu got %zu\n",
                moat_err_name(e), moat_conn_error_detail(p.s), n, cap, got);
        ok = false;
        break;
      }
      memcpy(dst + got, rb, n);
      got += n;
    }
  }
  CHECK(ok);
  CHECK_EQ_INT(got, total);
  CHECK(memcmp(dst, src, total) == 0);
  CHECK(reads > 100 && key_updates > 0);
  CHECK_EQ_INT(moat_conn_pending(p.s), 0);
  CHECK_EQ_INT(qp.out.len, 0); /* the server had nothing to say */
  free(qp.in.d);
  free(qp.out.d);
  free(src);
  free(dst);
  free_pair(&p);
}

static void test_read_random(void) {
  moat_context *sc = server_ctx("p256");
  static const char *suites[] = {"TLS_AES_128_GCM_SHA256",
                                 "TLS_AES_256_GCM_SHA384",
                                 "TLS_CHACHA20_POLY1305_SHA256"};
  for (size_t s = 0; s < 3; s++) {
    moat_context *cc = client_ctx();
    CHECK(moat_context_set_ciphersuites(cc, suites[s]) == MOAT_OK);
    read_random(cc, sc, false);
    read_random(cc, sc, true);
    moat_context_free(cc);
  }
  moat_context_free(sc);
}

/* Bytes from one side's output view straight into the other's input
 * space, chunk at most bytes at a time (partial commits and consumes). */
static bool shuttle_zero_copy(moat_conn *from, moat_conn *to, size_t chunk) {
  for (;;) {
    const uint8_t *data;
    size_t len;
    if (moat_conn_output_view(from, &data, &len) != MOAT_OK) {
      return false;
    }
    if (len == 0) {
      return true;
    }
    if (len != moat_conn_pending_output(from) || data == NULL) {
      return false;
    }
    uint8_t *at;
    size_t room;
    if (moat_conn_input_space(to, &at, &room) != MOAT_OK || room == 0) {
      return false;
    }
    size_t n = len < room ? len : room;
    n = n < chunk ? n : chunk;
    memcpy(at, data, n);
    if (moat_conn_input_commit(to, n) != MOAT_OK ||
        moat_conn_output_consume(from, n) != MOAT_OK) {
      return false;
    }
  }
}

/* The zero-copy ports carry a whole connection: handshake, data both
 * ways, close; over-committing and over-consuming are refused and change
 * nothing. */
static void test_zero_copy_ports(void) {
  moat_context *cc = client_ctx();
  moat_context *sc = server_ctx("p256");
  static const size_t chunks[] = {1, 7, 100000};
  for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
    pair p;
    new_pair(&p, cc, sc);
    moat_err ce = MOAT_ERR_WANT_READ, se = MOAT_ERR_WANT_READ;
    bool moved = true;
    for (int i = 0; i < 50 && moved && (ce != MOAT_OK || se != MOAT_OK); i++) {
      if (ce != MOAT_OK) {
        ce = moat_conn_handshake(p.c);
      }
      moved = shuttle_zero_copy(p.c, p.s, chunks[k]);
      if (se != MOAT_OK) {
        se = moat_conn_handshake(p.s);
      }
      moved = moved && shuttle_zero_copy(p.s, p.c, chunks[k]);
    }
    CHECK(moved);
    CHECK_EQ_INT(ce, MOAT_OK);
    CHECK_EQ_INT(se, MOAT_OK);

    /* Over-consuming: refused, the pending bytes stay. */
    static const uint8_t msg[] = "through the ports";
    size_t w;
    CHECK(moat_conn_write(p.c, msg, sizeof(msg), &w) == MOAT_OK);
    size_t pending = moat_conn_pending_output(p.c);
    CHECK(pending > sizeof(msg));
    CHECK_EQ_INT(moat_conn_output_consume(p.c, pending + 1),
                 MOAT_ERR_INVALID_ARGUMENT);
    CHECK(moat_conn_pending_output(p.c) == pending);
    /* Over-committing: refused, nothing counted as received. */
    uint8_t *at;
    size_t room;
    CHECK(moat_conn_input_space(p.s, &at, &room) == MOAT_OK && room > 0);
    CHECK_EQ_INT(moat_conn_input_commit(p.s, room + 1),
                 MOAT_ERR_INVALID_ARGUMENT);
    /* A commit without a fresh offer is refused too. */
    CHECK_EQ_INT(moat_conn_input_commit(p.s, 1), MOAT_ERR_INVALID_ARGUMENT);
    CHECK(shuttle_zero_copy(p.c, p.s, chunks[k]));
    uint8_t buf[64];
    size_t got = 0;
    CHECK(moat_conn_read(p.s, buf, sizeof(buf), &got) == MOAT_OK);
    CHECK(got == sizeof(msg) && memcmp(buf, msg, sizeof(msg)) == 0);
    CHECK(moat_conn_write(p.s, buf, got, &w) == MOAT_OK);
    CHECK(shuttle_zero_copy(p.s, p.c, chunks[k]));
    got = 0;
    CHECK(moat_conn_read(p.c, buf, sizeof(buf), &got) == MOAT_OK);
    CHECK(got == sizeof(msg) && memcmp(buf, msg, sizeof(msg)) == 0);
    /* Nothing pending: an empty view. */
    const uint8_t *data = buf;
    size_t len = 1;
    CHECK(moat_conn_output_view(p.c, &data, &len) == MOAT_OK && len == 0 &&
          data == NULL);
    free_pair(&p);
  }
  moat_context_free(cc);
  moat_context_free(sc);
}

/* The record types of conn's pending output, in order (at most cap). */
static size_t record_types(moat_conn *conn, uint8_t *types, size_t cap) {
  const uint8_t *data;
  size_t n, num = 0;
  moat_conn_output_view(conn, &data, &n);
  cursor c = cur_make(data, n), body;
  uint8_t type;
  uint16_t version;
  while (num < cap && cur_u8(&c, &type) && cur_u16(&c, &version) &&
         cur_prefixed16(&c, &body)) {
    types[num++] = type;
  }
  return num;
}

/* RFC 8446 5.1: handshake messages share records.  The server's flight
 * is ServerHello, change_cipher_spec, then EncryptedExtensions,
 * CertificateRequest, Certificate, CertificateVerify and Finished in one
 * protected record; the client's answer (Certificate, CertificateVerify,
 * Finished) one record after its change_cipher_spec; TLS 1.2's server
 * flight (ServerHello to ServerHelloDone) one record too. */
static void test_packed_flights(void) {
  char ca[256], cert[256], key[256];
  pki_path(ca, sizeof(ca), "ca.pem");
  pki_path(cert, sizeof(cert), "client.pem");
  pki_path(key, sizeof(key), "client.key");
  for (int v12 = 0; v12 <= 1; v12++) {
    moat_context *sc = server_ctx("p256");
    moat_context_set_verify_mode(sc, MOAT_VERIFY_REQUIRED);
    CHECK(moat_context_load_verify_locations(sc, ca, NULL, NULL, 0) == MOAT_OK);
    moat_context *cc = client_ctx();
    CHECK(moat_context_load_cert_chain(cc, cert, key, NULL) == MOAT_OK);
    if (v12) {
      CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
    }
    pair p;
    new_pair(&p, cc, sc);
    CHECK(moat_conn_handshake(p.c) == MOAT_ERR_WANT_READ);
    shuttle(p.c, p.s);
    CHECK(moat_conn_handshake(p.s) == MOAT_ERR_WANT_READ);
    uint8_t t[8];
    size_t num = record_types(p.s, t, 8);
    if (v12) {
      CHECK_EQ_INT(num, 1);
      CHECK_EQ_INT(t[0], CT_HANDSHAKE);
    } else {
      CHECK_EQ_INT(num, 3);
      CHECK(t[0] == CT_HANDSHAKE && t[1] == CT_CHANGE_CIPHER_SPEC &&
            t[2] == CT_APPLICATION_DATA);
    }
    shuttle(p.s, p.c);
    CHECK(moat_conn_handshake(p.c) == (v12 ? MOAT_ERR_WANT_READ : MOAT_OK));
    num = record_types(p.c, t, 8);
    if (v12) {
      /* Certificate, ClientKeyExchange, CertificateVerify; then
       * change_cipher_spec and Finished under the new key */
      CHECK_EQ_INT(num, 3);
      CHECK(t[0] == CT_HANDSHAKE && t[1] == CT_CHANGE_CIPHER_SPEC &&
            t[2] == CT_HANDSHAKE);
    } else {
      CHECK_EQ_INT(num, 2);
      CHECK(t[0] == CT_CHANGE_CIPHER_SPEC && t[1] == CT_APPLICATION_DATA);
    }
    moat_err se, ce = handshake_both(p.c, p.s, &se);
    CHECK(ce == MOAT_OK && se == MOAT_OK && echo(&p, "packed"));
    free_pair(&p);
    moat_context_free(cc);
    moat_context_free(sc);
  }
}

/* The verified chain's anchor is the trust store's own buffer, not a copy,
 * and the chain keeps the store alive: here the client switches contexts
 * after verifying the server (allowed until the handshake ends), and the
 * context it verified with, the only other holder of that store, goes.
 * TLS 1.2, so that the test can stop the client between the server's
 * Certificate and the rest of its flight: the flight is in the clear,
 * and each of its messages is fed in a record of its own. */
static void test_verified_anchor_borrowed(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx();
  moat_context *cc2 = client_ctx();
  CHECK(moat_context_set_max_version(cc, MOAT_TLS1_2) == MOAT_OK);
  CHECK(moat_context_set_max_version(cc2, MOAT_TLS1_2) == MOAT_OK);
  pair p;
  new_pair(&p, cc, sc);
  moat_context_free(cc); /* the connection holds the last reference */
  CHECK(moat_conn_handshake(p.c) == MOAT_ERR_WANT_READ);
  shuttle(p.c, p.s);
  CHECK(moat_conn_handshake(p.s) == MOAT_ERR_WANT_READ);
  uint8_t flight[8192], msgs[8192];
  size_t n = 0, m = 0, used;
  CHECK(moat_conn_take_output(p.s, flight, sizeof(flight), &n) == MOAT_OK);
  cursor c = cur_make(flight, n), body;
  uint8_t type;
  uint16_t version;
  while (cur_u8(&c, &type) && cur_u16(&c, &version) &&
         cur_prefixed16(&c, &body)) {
    CHECK(type == CT_HANDSHAKE && m + cur_len(&body) <= sizeof(msgs));
    memcpy(msgs + m, cur_data(&body), cur_len(&body));
    m += cur_len(&body);
  }
  /* the server's messages one record each, until the client has
   * verified its chain */
  uint8_t flight2[8192];
  size_t n2 = 0, off = 0;
  while (off + 4 <= m) {
    size_t len =
        4 + ((size_t)msgs[off + 1] << 16 | msgs[off + 2] << 8 | msgs[off + 3]);
    uint8_t hdr[5] = {CT_HANDSHAKE, 3, 3, (uint8_t)(len >> 8), (uint8_t)len};
    memcpy(flight2 + n2, hdr, 5);
    memcpy(flight2 + n2 + 5, msgs + off, len);
    n2 += 5 + len;
    off += len;
  }
  n = n2;
  memcpy(flight, flight2, n);
  off = 0;
  while (off < n && moat_conn_verified_chain_len(p.c) == 0) {
    size_t len = 5 + ((size_t)flight[off + 3] << 8 | flight[off + 4]);
    CHECK(moat_conn_feed(p.c, flight + off, len, &used) == MOAT_OK &&
          used == len);
    off += len;
    moat_err e = moat_conn_handshake(p.c);
    CHECK(e == MOAT_ERR_WANT_READ);
    if (e != MOAT_ERR_WANT_READ) {
      break;
    }
  }
  CHECK(moat_conn_verified_chain_len(p.c) == 2 && off < n);
  CHECK(p.c->verified != NULL && p.c->verified->store != NULL &&
        !p.c->verified->e[1].owned);
  CHECK(moat_conn_set_context(p.c, cc2) == MOAT_OK); /* cc is freed here */
  CHECK(moat_conn_feed(p.c, flight + off, n - off, &used) == MOAT_OK &&
        used == n - off);
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  /* The anchor's bytes are still there, and they are the CA's. */
  const uint8_t *der = NULL, *want = NULL;
  size_t len = 0, want_len = 0;
  CHECK(moat_conn_verified_cert_der(p.c, 1, &der, &len) == MOAT_OK);
  CHECK(moat_context_trusted_cert_der(cc2, 0, &want, &want_len) == MOAT_OK);
  CHECK(der != NULL && want != NULL && len == want_len &&
        memcmp(der, want, len) == 0);
  CHECK(echo(&p, "anchor kept"));
  free_pair(&p);
  moat_context_free(cc2);
  moat_context_free(sc);
}

int main(void) {
  static const moat_allocator counting = {count_malloc, count_realloc,
                                          count_free, NULL};
  if (moat_set_allocator(&counting) != MOAT_OK) {
    fprintf(stderr, "could not install the counting allocator\n");
    return 1;
  }
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
  test_sni_lengths();
  test_client_cert();
  test_key_update_close();
  test_verify_failures();
  test_verify_callback();
  test_split_sigalgs();
  test_max_send_fragment();
  test_resumption();
  test_tickets_off();
  test_read_caps();
  test_read_padding();
  test_read_post_handshake_between();
  test_post_handshake_fragments();
  test_hybrid_groups();
  test_record_versions();
  test_read_bad_tag();
  test_read_random();
  test_zero_copy_ports();
  test_verified_anchor_borrowed();
  test_packed_flights();
  pki_cleanup();
  return t_done("tls13");
}
