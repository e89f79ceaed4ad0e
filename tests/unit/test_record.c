/* The record layer (RFC 8446 5) fed hostile bytes: over a connected
 * in-memory pair or a fresh server, raw records go in through
 * moat_conn_feed and each case checks the error, the alert we sent and
 * that the failure stays. */
#include "moat.h"
#include "pair.h"
#include "pki.h"
#include "t.h"
#include "tls/tls.h"

typedef struct pair {
  moat_context *cc, *sc;
  moat_conn *c, *s;
} pair;

static bool connect_pair_version(pair *p, int max_version) {
  char cert[256], key[256], ca[256];
  pki_path(cert, sizeof(cert), "p256.pem");
  pki_path(key, sizeof(key), "p256.key");
  pki_path(ca, sizeof(ca), "ca.pem");
  p->sc = moat_context_new(MOAT_ROLE_SERVER);
  p->cc = moat_context_new(MOAT_ROLE_CLIENT);
  if (moat_context_load_cert_chain(p->sc, cert, key, NULL) != MOAT_OK ||
      moat_context_load_verify_locations(p->cc, ca, NULL, NULL, 0) != MOAT_OK) {
    return false;
  }
  if (max_version != 0 &&
      moat_context_set_max_version(p->cc, max_version) != MOAT_OK) {
    return false;
  }
  p->c = moat_conn_new(p->cc);
  p->s = moat_conn_new(p->sc);
  moat_conn_set_hostname(p->c, "localhost");
  moat_err se, ce = handshake_both(p->c, p->s, &se);
  return ce == MOAT_OK && se == MOAT_OK &&
         (max_version == 0 || moat_conn_version(p->c) == max_version);
}

static bool connect_pair(pair *p) {
  return connect_pair_version(p, 0);
}

static void free_pair(pair *p) {
  moat_conn_free(p->c);
  moat_conn_free(p->s);
  moat_context_free(p->cc);
  moat_context_free(p->sc);
}

static moat_conn *fresh_server(moat_context **out_ctx) {
  char cert[256], key[256];
  pki_path(cert, sizeof(cert), "p256.pem");
  pki_path(key, sizeof(key), "p256.key");
  *out_ctx = moat_context_new(MOAT_ROLE_SERVER);
  CHECK(moat_context_load_cert_chain(*out_ctx, cert, key, NULL) == MOAT_OK);
  return moat_conn_new(*out_ctx);
}

static void feed_all(moat_conn *conn, const uint8_t *data, size_t len) {
  size_t used;
  CHECK(moat_conn_feed(conn, data, len, &used) == MOAT_OK);
  CHECK_EQ_INT(used, len);
}

/* The connection failed with err, sent alert `alert` (and it is waiting in
 * the output as an alert record), and its detail mentions `word`. */
static void check_failed(moat_conn *conn, moat_err err, int alert,
                         const char *word) {
  CHECK_EQ_INT(moat_conn_error(conn), err);
  int a = -1;
  bool ours = false;
  CHECK(moat_conn_alert(conn, &a, &ours));
  CHECK_EQ_INT(a, alert);
  CHECK(ours);
  CHECK(moat_conn_pending_output(conn) > 0);
  const char *d = moat_conn_error_detail(conn);
  CHECK(d != NULL && strstr(d, word) != NULL);
  if (d == NULL || strstr(d, word) == NULL) {
    fprintf(stderr, "  detail was: %s\n", d ? d : "(null)");
  }
  /* sticky (STYLE 5): every later call gives the same error */
  uint8_t buf[16];
  size_t n;
  CHECK_EQ_INT(moat_conn_handshake(conn), err);
  CHECK_EQ_INT(moat_conn_read(conn, buf, sizeof(buf), &n), err);
  CHECK_EQ_INT(moat_conn_write(conn, (const uint8_t *)"x", 1, &n), err);
  CHECK_EQ_INT(moat_conn_feed(conn, buf, 1, &n), err);
  CHECK_EQ_INT(moat_conn_error(conn), err);
}

/* A fresh server fed rec (before any handshake) fails its handshake with
 * err, sends alert and says word in its detail. */
static void server_refuses(const void *rec, size_t len, moat_err err, int alert,
                           const char *word) {
  moat_context *ctx;
  moat_conn *s = fresh_server(&ctx);
  feed_all(s, rec, len);
  CHECK_EQ_INT(moat_conn_handshake(s), err);
  check_failed(s, err, alert, word);
  moat_conn_free(s);
  moat_context_free(ctx);
}

/* Reads the application data the connected side has. */
static moat_err read_some(moat_conn *conn) {
  uint8_t buf[256];
  size_t n;
  return moat_conn_read(conn, buf, sizeof(buf), &n);
}

static void test_overflow(void) {
  pair p;
  CHECK(connect_pair(&p));
  /* RFC 8446 5.2: TLSCiphertext.length at most 2^14 + 256. */
  uint8_t hdr[5] = {CT_APPLICATION_DATA, 3, 3, 0x41, 0x01}; /* 16641 */
  feed_all(p.s, hdr, sizeof(hdr));
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_RECORD_OVERFLOW);
  check_failed(p.s, MOAT_ERR_RECORD_OVERFLOW, ALERT_RECORD_OVERFLOW, "16641");
  free_pair(&p);
  /* exactly 2^14 + 256 is allowed: it fails authentication instead */
  CHECK(connect_pair(&p));
  static uint8_t big[5 + 16640];
  memset(big, 0xab, sizeof(big));
  big[0] = CT_APPLICATION_DATA;
  big[1] = 3;
  big[2] = 3;
  big[3] = 0x41;
  big[4] = 0x00;
  feed_all(p.s, big, sizeof(big));
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_BAD_RECORD_MAC);
  free_pair(&p);
  /* RFC 8446 5.1: a plaintext record is at most 2^14 */
  uint8_t phdr[5] = {CT_HANDSHAKE, 3, 1, 0x40, 0x01};
  server_refuses(phdr, sizeof(phdr), MOAT_ERR_RECORD_OVERFLOW,
                 ALERT_RECORD_OVERFLOW, "16385");
}

static void test_unknown_type_and_garbage(void) {
  pair p;
  CHECK(connect_pair(&p));
  uint8_t rec[8] = {24, 3, 3, 0, 3, 1, 2, 3}; /* heartbeat: not TLS 1.3 */
  feed_all(p.s, rec, sizeof(rec));
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_UNEXPECTED_MESSAGE);
  check_failed(p.s, MOAT_ERR_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
               "content type 24");
  free_pair(&p);
  /* An HTTP request sent to a TLS server. */
  const char *http = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  server_refuses(http, strlen(http), MOAT_ERR_UNEXPECTED_MESSAGE,
                 ALERT_UNEXPECTED_MESSAGE,
                 "not speaking TLS: it sent text, \"GET / HTTP/1.1\"");
  /* A handshake record with a version that is not TLS's. */
  uint8_t badver[9] = {CT_HANDSHAKE, 0x47, 0x45, 0, 4, 1, 0, 0, 0};
  server_refuses(badver, sizeof(badver), MOAT_ERR_PROTOCOL_VERSION,
                 ALERT_PROTOCOL_VERSION, "0x4745");
}

static void test_truncated(void) {
  pair p;
  CHECK(connect_pair(&p));
  size_t w;
  CHECK(moat_conn_write(p.c, (const uint8_t *)"ping", 4, &w) == MOAT_OK);
  uint8_t rec[128];
  size_t n;
  moat_conn_take_output(p.c, rec, sizeof(rec), &n);
  CHECK_EQ_INT(n, 5 + 4 + 1 + 16);
  /* partial header, then partial body: want-read, no failure */
  feed_all(p.s, rec, 3);
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_WANT_READ);
  feed_all(p.s, rec + 3, 7);
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_WANT_READ);
  CHECK_EQ_INT(moat_conn_error(p.s), MOAT_OK);
  CHECK(!moat_conn_alert(p.s, NULL, NULL));
  feed_all(p.s, rec + 10, n - 10);
  uint8_t buf[16];
  size_t got = 0;
  CHECK(moat_conn_read(p.s, buf, sizeof(buf), &got) == MOAT_OK && got == 4 &&
        memcmp(buf, "ping", 4) == 0);
  /* one byte at a time works too */
  CHECK(moat_conn_write(p.c, (const uint8_t *)"pong", 4, &w) == MOAT_OK);
  moat_conn_take_output(p.c, rec, sizeof(rec), &n);
  for (size_t i = 0; i + 1 < n; i++) {
    feed_all(p.s, rec + i, 1);
    CHECK_EQ_INT(read_some(p.s), MOAT_ERR_WANT_READ);
  }
  feed_all(p.s, rec + n - 1, 1);
  CHECK(moat_conn_read(p.s, buf, sizeof(buf), &got) == MOAT_OK && got == 4 &&
        memcmp(buf, "pong", 4) == 0);
  free_pair(&p);
}

static void test_plaintext_cases(void) {
  moat_context *ctx;
  moat_conn *s;
  /* zero-length handshake record (RFC 8446 5.1) */
  uint8_t empty_hs[5] = {CT_HANDSHAKE, 3, 1, 0, 0};
  server_refuses(empty_hs, sizeof(empty_hs), MOAT_ERR_UNEXPECTED_MESSAGE,
                 ALERT_UNEXPECTED_MESSAGE, "empty handshake record");
  /* change_cipher_spec with a value other than 1 (RFC 8446 5) */
  uint8_t ccs2[6] = {CT_CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 2};
  server_refuses(ccs2, sizeof(ccs2), MOAT_ERR_UNEXPECTED_MESSAGE,
                 ALERT_UNEXPECTED_MESSAGE, "change_cipher_spec");
  /* close_notify before the handshake ends: nothing can finish it, so the
   * handshake fails (it must not wait for more input for ever) */
  s = fresh_server(&ctx);
  uint8_t close_alert[7] = {CT_ALERT, 3, 3, 0, 2, 1, ALERT_CLOSE_NOTIFY};
  feed_all(s, close_alert, sizeof(close_alert));
  CHECK_EQ_INT(moat_conn_handshake(s), MOAT_ERR_CLOSED);
  CHECK_EQ_INT(moat_conn_error(s), MOAT_ERR_CLOSED);
  CHECK(strstr(moat_conn_error_detail(s), "during the handshake") != NULL);
  CHECK(!moat_conn_alert(s, NULL, NULL));
  CHECK_EQ_INT(moat_conn_handshake(s), MOAT_ERR_CLOSED); /* sticky */
  moat_conn_free(s);
  moat_context_free(ctx);
  /* a well-formed CCS is ignored while the handshake runs */
  s = fresh_server(&ctx);
  uint8_t ccs1[6] = {CT_CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1};
  feed_all(s, ccs1, sizeof(ccs1));
  CHECK_EQ_INT(moat_conn_handshake(s), MOAT_ERR_WANT_READ);
  CHECK_EQ_INT(moat_conn_error(s), MOAT_OK);
  moat_conn_free(s);
  moat_context_free(ctx);
  /* application data before the handshake */
  uint8_t app[10] = {CT_APPLICATION_DATA, 3, 3, 0, 5, 'h', 'e', 'l', 'l', 'o'};
  server_refuses(app, sizeof(app), MOAT_ERR_UNEXPECTED_MESSAGE,
                 ALERT_UNEXPECTED_MESSAGE,
                 "application data before the handshake");
  /* an alert record of three bytes (RFC 8446 6: exactly two) */
  uint8_t alert3[8] = {CT_ALERT, 3, 3, 0, 3, 2, 40, 0};
  server_refuses(alert3, sizeof(alert3), MOAT_ERR_DECODE_ERROR,
                 ALERT_DECODE_ERROR, "exactly two bytes");
  /* a fatal alert from the peer: alert received, nothing sent back */
  s = fresh_server(&ctx);
  uint8_t fatal[7] = {CT_ALERT, 3, 3, 0, 2, 2, ALERT_HANDSHAKE_FAILURE};
  feed_all(s, fatal, sizeof(fatal));
  CHECK_EQ_INT(moat_conn_handshake(s), MOAT_ERR_ALERT_RECEIVED);
  int a = -1;
  bool ours = true;
  CHECK(moat_conn_alert(s, &a, &ours) && a == ALERT_HANDSHAKE_FAILURE && !ours);
  CHECK(strstr(moat_conn_error_detail(s), "handshake_failure") != NULL);
  CHECK_EQ_INT(moat_conn_pending_output(s), 0);
  CHECK_EQ_INT(moat_conn_handshake(s), MOAT_ERR_ALERT_RECEIVED);
  moat_conn_free(s);
  moat_context_free(ctx);
  /* RFC 8446 6.2: a "warning" level does not make an error alert
   * harmless in TLS 1.3 */
  s = fresh_server(&ctx);
  CHECK(moat_context_set_min_version(ctx, MOAT_TLS1_3) == MOAT_OK);
  moat_conn_free(s);
  s = moat_conn_new(ctx);
  uint8_t warn[7] = {CT_ALERT, 3, 3, 0, 2, 1, ALERT_DECODE_ERROR};
  feed_all(s, warn, sizeof(warn));
  CHECK_EQ_INT(moat_conn_handshake(s), MOAT_ERR_ALERT_RECEIVED);
  CHECK(moat_conn_alert(s, &a, &ours) && a == ALERT_DECODE_ERROR && !ours);
  moat_conn_free(s);
  moat_context_free(ctx);
  /* RFC 5246 7.2: before the version is known, a server that may agree
   * to TLS 1.2 takes a warning that may be one (unrecognized_name) and
   * goes on; the 5th in a row is refused */
  s = fresh_server(&ctx);
  uint8_t name_warn[7] = {CT_ALERT, 3, 3, 0, 2, 1, ALERT_UNRECOGNIZED_NAME};
  for (int i = 0; i < 4; i++) {
    feed_all(s, name_warn, sizeof(name_warn));
    CHECK_EQ_INT(moat_conn_handshake(s), MOAT_ERR_WANT_READ);
  }
  feed_all(s, name_warn, sizeof(name_warn));
  CHECK_EQ_INT(moat_conn_handshake(s), MOAT_ERR_UNEXPECTED_MESSAGE);
  CHECK(moat_conn_alert(s, &a, &ours) && a == ALERT_UNEXPECTED_MESSAGE && ours);
  moat_conn_free(s);
  moat_context_free(ctx);
  /* RFC 8446 6: a level that is neither warning nor fatal */
  s = fresh_server(&ctx);
  uint8_t bogus[7] = {CT_ALERT, 3, 3, 0, 2, 0x42, ALERT_UNEXPECTED_MESSAGE};
  feed_all(s, bogus, sizeof(bogus));
  CHECK_EQ_INT(moat_conn_handshake(s), MOAT_ERR_ILLEGAL_PARAMETER);
  CHECK(moat_conn_alert(s, &a, &ours) && a == ALERT_ILLEGAL_PARAMETER && ours);
  moat_conn_free(s);
  moat_context_free(ctx);
}

static void test_protected_cases(void) {
  pair p;
  size_t w, n;
  uint8_t rec[128];
  /* a flipped bit in the ciphertext: bad_record_mac */
  CHECK(connect_pair(&p));
  CHECK(moat_conn_write(p.c, (const uint8_t *)"secret", 6, &w) == MOAT_OK);
  moat_conn_take_output(p.c, rec, sizeof(rec), &n);
  rec[7] ^= 0x04;
  feed_all(p.s, rec, n);
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_BAD_RECORD_MAC);
  check_failed(p.s, MOAT_ERR_BAD_RECORD_MAC, ALERT_BAD_RECORD_MAC,
               "authentication failed");
  /* the alert goes out protected; the client reads it as bad_record_mac */
  shuttle(p.s, p.c);
  CHECK_EQ_INT(read_some(p.c), MOAT_ERR_ALERT_RECEIVED);
  int a = -1;
  bool ours = true;
  CHECK(moat_conn_alert(p.c, &a, &ours) && a == ALERT_BAD_RECORD_MAC && !ours);
  CHECK(strstr(moat_conn_error_detail(p.c), "bad_record_mac") != NULL);
  free_pair(&p);
  /* a flipped bit in the header (authenticated data) */
  CHECK(connect_pair(&p));
  CHECK(moat_conn_write(p.c, (const uint8_t *)"secret", 6, &w) == MOAT_OK);
  moat_conn_take_output(p.c, rec, sizeof(rec), &n);
  rec[2] ^= 0x01; /* 0x0303 -> 0x0302 */
  feed_all(p.s, rec, n);
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_BAD_RECORD_MAC);
  free_pair(&p);
  /* a replayed record: the sequence number moved on */
  CHECK(connect_pair(&p));
  CHECK(moat_conn_write(p.c, (const uint8_t *)"once", 4, &w) == MOAT_OK);
  moat_conn_take_output(p.c, rec, sizeof(rec), &n);
  feed_all(p.s, rec, n);
  CHECK_EQ_INT(read_some(p.s), MOAT_OK);
  feed_all(p.s, rec, n);
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_BAD_RECORD_MAC);
  check_failed(p.s, MOAT_ERR_BAD_RECORD_MAC, ALERT_BAD_RECORD_MAC,
               "sequence 1");
  free_pair(&p);
  /* a protected record too short to hold a tag */
  CHECK(connect_pair(&p));
  uint8_t shortrec[10] = {CT_APPLICATION_DATA, 3, 3, 0, 5, 1, 2, 3, 4, 5};
  feed_all(p.s, shortrec, sizeof(shortrec));
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_BAD_RECORD_MAC);
  check_failed(p.s, MOAT_ERR_BAD_RECORD_MAC, ALERT_BAD_RECORD_MAC, "too short");
  free_pair(&p);
  /* a plaintext handshake record after the keys were set */
  CHECK(connect_pair(&p));
  uint8_t hs[9] = {CT_HANDSHAKE, 3, 3, 0, 4, HT_KEY_UPDATE, 0, 0, 1};
  feed_all(p.s, hs, sizeof(hs));
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_UNEXPECTED_MESSAGE);
  check_failed(p.s, MOAT_ERR_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
               "unprotected record");
  free_pair(&p);
  /* change_cipher_spec after the handshake */
  CHECK(connect_pair(&p));
  uint8_t ccs[6] = {CT_CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1};
  feed_all(p.s, ccs, sizeof(ccs));
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_UNEXPECTED_MESSAGE);
  check_failed(p.s, MOAT_ERR_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
               "change_cipher_spec");
  free_pair(&p);
}

/* Records of many sizes, sent back to back, reach the reader intact
 * whatever the pieces the wire delivers them in: one byte at a time, odd
 * sizes that split headers and bodies, or as much as the input buffer
 * takes (where leftover bytes move within the buffer). */
static void stream_in_pieces(int version, size_t piece) {
  static const size_t sizes[] = {1,     5,    300, 16384, 16383, 7,
                                 16384, 1000, 64,  16320, 2,     16384};
  enum {
    TOTAL =
        1 + 5 + 300 + 16384 + 16383 + 7 + 16384 + 1000 + 64 + 16320 + 2 + 16384
  };
  static uint8_t sent[TOTAL], got[TOTAL], wire[TOTAL + 12 * 64];
  pair p;
  CHECK(connect_pair_version(&p, version));
  for (size_t i = 0; i < TOTAL; i++) {
    sent[i] = (uint8_t)(i * 131 + i / 251);
  }
  size_t off = 0, wire_len = 0, w, n;
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    CHECK(moat_conn_write(p.c, sent + off, sizes[i], &w) == MOAT_OK &&
          w == sizes[i]);
    off += sizes[i];
    CHECK(moat_conn_take_output(p.c, wire + wire_len, sizeof(wire) - wire_len,
                                &n) == MOAT_OK);
    wire_len += n;
  }
  size_t fed = 0, read = 0;
  for (int guard = 0; read < TOTAL && guard < 1000000; guard++) {
    size_t want = piece < wire_len - fed ? piece : wire_len - fed;
    size_t used = 0;
    if (want > 0) {
      CHECK_EQ_INT(moat_conn_feed(p.s, wire + fed, want, &used), MOAT_OK);
      fed += used;
    }
    moat_err e;
    do {
      size_t cap = TOTAL - read < 5000 ? TOTAL - read : 5000;
      n = 0;
      e = moat_conn_read(p.s, got + read, cap, &n);
      read += n;
    } while (e == MOAT_OK && n > 0 && read < TOTAL);
    if (e != MOAT_OK && e != MOAT_ERR_WANT_READ) {
      CHECK_EQ_INT(e, MOAT_OK);
      break;
    }
    if (used == 0 && want > 0 && e == MOAT_ERR_WANT_READ) {
      CHECK(!"the server neither took bytes nor gave data");
      break;
    }
  }
  CHECK_EQ_INT(read, TOTAL);
  CHECK_EQ_INT(fed, wire_len);
  CHECK(memcmp(sent, got, TOTAL) == 0);
  free_pair(&p);
}

static void test_stream_pieces(void) {
  static const size_t pieces[] = {1, 13, 4099, 16389, 1 << 20};
  for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
    stream_in_pieces(MOAT_TLS1_2, pieces[i]);
    stream_in_pieces(MOAT_TLS1_3, pieces[i]);
  }
}

static void test_after_close(void) {
  pair p;
  CHECK(connect_pair(&p));
  size_t w, n;
  uint8_t rec[128];
  CHECK_EQ_INT(moat_conn_shutdown(p.c), MOAT_ERR_WANT_READ);
  shuttle(p.c, p.s);
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_CLOSED);
  /* Records after close_notify are not read: the stream ended. */
  CHECK(moat_conn_write(p.s, (const uint8_t *)"late", 4, &w) == MOAT_OK);
  moat_conn_take_output(p.s, rec, sizeof(rec), &n);
  uint8_t junk[32];
  memset(junk, 0x17, sizeof(junk));
  feed_all(p.s, junk, sizeof(junk));
  CHECK_EQ_INT(read_some(p.s), MOAT_ERR_CLOSED);
  CHECK_EQ_INT(moat_conn_error(p.s), MOAT_OK);
  /* The client closed its side: it refuses to write. */
  CHECK_EQ_INT(moat_conn_write(p.c, (const uint8_t *)"x", 1, &w),
               MOAT_ERR_BAD_STATE);
  free_pair(&p);
}

int main(void) {
  if (pki_init() != 0 || pki_leaf("p256", "p256", "30", "serverAuth")) {
    fprintf(stderr, "could not make the test PKI with openssl\n");
    return 1;
  }
  test_overflow();
  test_unknown_type_and_garbage();
  test_truncated();
  test_plaintext_cases();
  test_protected_cases();
  test_after_close();
  test_stream_pieces();
  pki_cleanup();
  return t_done("record");
}
