/* TLS 1.2 handshakes that must fail, in the style of the TLS 1.3 ones:
 * messages out of order, a ServerKeyExchange with a bad signature or a
 * point off the curve, a bad Finished, a missing or wrong
 * renegotiation_info, EMS dropped on resumption, ChangeCipherSpec out of
 * place, truncated and oversized records.  The first flights of TLS 1.2
 * travel in the clear, so the tests take them apart message by message
 * and hand the other side an edited version.  Each failure must carry the
 * alert RFC 5246 names, an explained detail, and stay failed. */
#include <stdlib.h>
#include <string.h>

#include "pair.h"
#include "pki.h"
#include "t.h"
#include "tls/msg/msg.h"

#define MAX_MSGS 16

/* The handshake messages of a plaintext flight, in order. */
typedef struct flight {
  size_t num;
  uint8_t *msg[MAX_MSGS];
  size_t len[MAX_MSGS];
  uint8_t raw[65536]; /* the flight's records as sent */
  size_t raw_len;
} flight;

/* Takes all of conn's pending output and splits its handshake records
 * into messages (records of other types are kept in raw only). */
static void take_flight(moat_conn *conn, flight *f) {
  memset(f, 0, sizeof(*f));
  size_t n;
  moat_conn_take_output(conn, f->raw, sizeof(f->raw), &n);
  f->raw_len = n;
  uint8_t hs[65536];
  size_t hs_len = 0;
  cursor c = cur_make(f->raw, n), body;
  uint8_t type;
  uint16_t version;
  while (cur_u8(&c, &type) && cur_u16(&c, &version) &&
         cur_prefixed16(&c, &body)) {
    if (type == CT_HANDSHAKE) {
      memcpy(hs + hs_len, cur_data(&body), cur_len(&body));
      hs_len += cur_len(&body);
    }
  }
  cursor m = cur_make(hs, hs_len);
  uint8_t mt;
  uint32_t ml;
  while (f->num < MAX_MSGS && cur_u8(&m, &mt) && cur_u24(&m, &ml)) {
    const uint8_t *p;
    if (!cur_bytes(&m, ml, &p)) {
      break;
    }
    f->len[f->num] = 4 + ml;
    f->msg[f->num] = malloc(4 + ml);
    memcpy(f->msg[f->num], p - 4, 4 + ml);
    f->num++;
  }
}

static void flight_free(flight *f) {
  for (size_t i = 0; i < f->num; i++) {
    free(f->msg[i]);
  }
}

static uint8_t msg_type(const flight *f, size_t i) {
  return f->msg[i][0];
}

/* Feeds one record of the given type and body. */
static void give_record(moat_conn *conn, uint8_t type, const uint8_t *body,
                        size_t len) {
  uint8_t rec[5 + 70000];
  rec[0] = type;
  rec[1] = 3;
  rec[2] = 3;
  rec[3] = (uint8_t)(len >> 8);
  rec[4] = (uint8_t)len;
  memcpy(rec + 5, body, len);
  size_t off = 0, used;
  while (off < 5 + len &&
         moat_conn_feed(conn, rec + off, 5 + len - off, &used) == MOAT_OK &&
         used > 0) {
    off += used;
  }
}

/* Feeds the flight's messages, skipping index `skip` (or none: -1). */
static void give_msgs(moat_conn *conn, const flight *f, int skip) {
  for (size_t i = 0; i < f->num; i++) {
    if ((int)i != skip) {
      give_record(conn, CT_HANDSHAKE, f->msg[i], f->len[i]);
    }
  }
}

static moat_context *server_ctx(const char *leaf) {
  moat_context *ctx = pki_server_ctx(leaf);
  CHECK(ctx != NULL);
  return ctx;
}

static moat_context *client_ctx12(void) {
  moat_context *ctx = pki_client_ctx();
  CHECK(ctx != NULL &&
        moat_context_set_max_version(ctx, MOAT_TLS1_2) == MOAT_OK);
  return ctx;
}

/* conn failed with err and sent alert (still in its output, or already
 * taken), the detail names word, and it stays failed. */
static void check_failed(const char *name, moat_conn *conn, moat_err got,
                         moat_err err, int alert, const char *word) {
  int a = -1;
  bool ours = false;
  const char *d = moat_conn_error_detail(conn);
  bool have = moat_conn_alert(conn, &a, &ours);
  bool ok = got == err && moat_conn_error(conn) == err && have && a == alert &&
            ours && strstr(d, word) != NULL;
  CHECK(ok);
  if (!ok) {
    fprintf(stderr,
            "  %s: got %s, alert %d (ours %d), detail \"%s\"; want %s, alert "
            "%d, \"%s\"\n",
            name, moat_err_name(got), a, ours, d, moat_err_name(err), alert,
            word);
  }
  CHECK_EQ_INT(moat_conn_handshake(conn), err);
}

typedef struct setup {
  moat_context *cc, *sc;
  moat_conn *c, *s;
  flight ch, sf; /* the ClientHello and the server's first flight */
} setup;

/* Client and server up to the server's first flight, taken apart. */
static void start(setup *t, const char *leaf, const char *groups) {
  memset(t, 0, sizeof(*t));
  t->sc = server_ctx(leaf);
  t->cc = client_ctx12();
  if (groups != NULL) {
    CHECK(moat_context_set_groups(t->cc, groups) == MOAT_OK);
  }
  t->c = moat_conn_new(t->cc);
  t->s = moat_conn_new(t->sc);
  moat_conn_set_hostname(t->c, "localhost");
  CHECK(moat_conn_handshake(t->c) == MOAT_ERR_WANT_READ);
  take_flight(t->c, &t->ch);
  give_msgs(t->s, &t->ch, -1);
  CHECK(moat_conn_handshake(t->s) == MOAT_ERR_WANT_READ);
  take_flight(t->s, &t->sf);
}

static void finish(setup *t) {
  flight_free(&t->ch);
  flight_free(&t->sf);
  moat_conn_free(t->c);
  moat_conn_free(t->s);
  moat_context_free(t->cc);
  moat_context_free(t->sc);
}

/* Index of the first message of a type in a flight, or -1. */
static int find(const flight *f, uint8_t type) {
  for (size_t i = 0; i < f->num; i++) {
    if (msg_type(f, i) == type) {
      return (int)i;
    }
  }
  return -1;
}

/* (a) the server's flight with a message missing, each in turn. */
static void test_server_flight_order(void) {
  static const struct {
    uint8_t drop;
    const char *word;
  } cases[] = {
      {HT_CERTIFICATE, "ServerKeyExchange (type 12) while waiting for "
                       "Certificate"},
      {HT_SERVER_KEY_EXCHANGE, "ServerHelloDone (type 14) while waiting for "
                               "ServerKeyExchange"},
      {HT_SERVER_HELLO, "Certificate (type 11) while waiting for "
                        "ServerHello"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    setup t;
    start(&t, "p256", NULL);
    int at = find(&t.sf, cases[i].drop);
    CHECK(at >= 0);
    give_msgs(t.c, &t.sf, at);
    moat_err e = moat_conn_handshake(t.c);
    check_failed("dropped message", t.c, e, MOAT_ERR_UNEXPECTED_MESSAGE,
                 ALERT_UNEXPECTED_MESSAGE, cases[i].word);
    finish(&t);
  }
}

/* (b) ServerKeyExchange: a wrong signature, a point off the curve, a
 * group that was not offered. */
static void test_server_key_exchange(void) {
  for (int kind = 0; kind < 3; kind++) {
    setup t;
    start(&t, kind == 0 ? "rsa" : "p256", "P-256");
    int at = find(&t.sf, HT_SERVER_KEY_EXCHANGE);
    CHECK(at >= 0);
    uint8_t *m = t.sf.msg[at];
    size_t n = t.sf.len[at];
    /* 4 header, curve_type 1, group 2, point<1>: 65 bytes for P-256 */
    const char *word;
    moat_err want;
    int alert;
    if (kind == 0) {
      m[n - 1] ^= 0x01; /* the signature's last byte */
      want = MOAT_ERR_DECRYPT_ERROR;
      alert = ALERT_DECRYPT_ERROR;
      word = "ServerKeyExchange signature";
    } else if (kind == 1) {
      m[4 + 3 + 1 + 40] ^= 0x55;     /* a coordinate: off the curve */
      want = MOAT_ERR_DECRYPT_ERROR; /* the signature no longer covers it */
      alert = ALERT_DECRYPT_ERROR;
      word = "signature";
    } else {
      m[4 + 2] = 0x99; /* group 0x0099 */
      want = MOAT_ERR_ILLEGAL_PARAMETER;
      alert = ALERT_ILLEGAL_PARAMETER;
      word = "not offered";
    }
    give_msgs(t.c, &t.sf, -1);
    moat_err e = moat_conn_handshake(t.c);
    check_failed("ServerKeyExchange", t.c, e, want, alert, word);
    finish(&t);
  }
}

/* (b') a point off the curve that is correctly signed: the server's own
 * key share replaced before signing (internal access), so only the
 * point check can catch it. */
static void test_point_off_curve(void) {
  setup t;
  memset(&t, 0, sizeof(t));
  t.sc = server_ctx("p256");
  t.cc = client_ctx12();
  CHECK(moat_context_set_groups(t.cc, "P-256") == MOAT_OK);
  t.c = moat_conn_new(t.cc);
  moat_conn_set_hostname(t.c, "localhost");
  CHECK(moat_conn_handshake(t.c) == MOAT_ERR_WANT_READ);
  take_flight(t.c, &t.ch);
  /* a fake server state that signs a bad point with the real key */
  t.s = moat_conn_new(t.sc);
  give_msgs(t.s, &t.ch, -1);
  CHECK(moat_conn_handshake(t.s) == MOAT_ERR_WANT_READ);
  take_flight(t.s, &t.sf);
  int at = find(&t.sf, HT_SERVER_KEY_EXCHANGE);
  CHECK(at >= 0);
  uint8_t bad[65];
  memset(bad, 0x11, sizeof(bad));
  bad[0] = 4; /* uncompressed, but (0x11.., 0x11..) is not on P-256 */
  builder b;
  CHECK(bld_init_alloc(&b, 1024));
  CHECK(auth_ske_build(t.s, &b, 0x0017, bad, sizeof(bad),
                       sig_scheme_by_name("ecdsa_secp256r1_sha256")) ==
        MOAT_OK);
  free(t.sf.msg[at]);
  t.sf.msg[at] = malloc(bld_len(&b));
  memcpy(t.sf.msg[at], bld_data(&b), bld_len(&b));
  t.sf.len[at] = bld_len(&b);
  bld_cleanup(&b);
  give_msgs(t.c, &t.sf, -1);
  moat_err e = moat_conn_handshake(t.c);
  check_failed("point off the curve", t.c, e, MOAT_ERR_ILLEGAL_PARAMETER,
               ALERT_ILLEGAL_PARAMETER, "key share is invalid");
  finish(&t);
}

/* Rebuilds a TLS 1.2 ServerHello without extension `drop`, or with its
 * renegotiation_info made non-empty. */
static size_t edit_server_hello(const uint8_t *sh, size_t len, uint16_t drop,
                                bool fill_ri, uint8_t *out) {
  cursor c = cur_make(sh + 4, len - 4), sid, exts, data;
  const uint8_t *rnd;
  uint16_t v, suite, type;
  uint8_t comp;
  builder b;
  bld_init_fixed(&b, out, 1024);
  (void)(cur_u16(&c, &v) && cur_bytes(&c, 32, &rnd) &&
         cur_prefixed8(&c, &sid) && cur_u16(&c, &suite) && cur_u8(&c, &comp) &&
         cur_prefixed16(&c, &exts));
  msg_open(&b, HT_SERVER_HELLO);
  bld_u16(&b, v);
  bld_bytes(&b, rnd, 32);
  bld_open8(&b);
  bld_bytes(&b, cur_data(&sid), cur_len(&sid));
  bld_close(&b);
  bld_u16(&b, suite);
  bld_u8(&b, comp);
  bld_open16(&b);
  while (cur_u16(&exts, &type) && cur_prefixed16(&exts, &data)) {
    if (type == drop) {
      continue;
    }
    bld_u16(&b, type);
    bld_open16(&b);
    if (type == EXT_RENEGOTIATION_INFO && fill_ri) {
      bld_u8(&b, 12);
      bld_zeros(&b, 12);
    } else {
      bld_bytes(&b, cur_data(&data), cur_len(&data));
    }
    bld_close(&b);
  }
  bld_close(&b);
  msg_close(&b);
  CHECK(bld_finish(&b));
  return bld_len(&b);
}

/* (c) renegotiation_info missing or not empty in the ServerHello
 * (RFC 5746 3.4): handshake_failure. */
static void test_renegotiation_info(void) {
  for (int fill = 0; fill < 2; fill++) {
    setup t;
    start(&t, "p256", NULL);
    int at = find(&t.sf, HT_SERVER_HELLO);
    uint8_t sh[1024];
    size_t n = edit_server_hello(t.sf.msg[at], t.sf.len[at],
                                 fill ? 0 : EXT_RENEGOTIATION_INFO, fill, sh);
    free(t.sf.msg[at]);
    t.sf.msg[at] = malloc(n);
    memcpy(t.sf.msg[at], sh, n);
    t.sf.len[at] = n;
    give_msgs(t.c, &t.sf, -1);
    moat_err e = moat_conn_handshake(t.c);
    check_failed("renegotiation_info", t.c, e, MOAT_ERR_HANDSHAKE_FAILURE,
                 ALERT_HANDSHAKE_FAILURE,
                 fill ? "not empty" : "secure renegotiation");
    finish(&t);
  }
}

/* Some TLS 1.2 servers echo supported_groups in their ServerHello: the
 * client offered it, so it is not unsolicited (RFC 5246 7.4.1.4), and it
 * is ignored. */
static void test_server_hello_groups(void) {
  setup t;
  start(&t, "p256", NULL);
  int at = find(&t.sf, HT_SERVER_HELLO);
  uint8_t *m = t.sf.msg[at];
  size_t n = t.sf.len[at];
  size_t ext = 4 + 2 + 32 + 1 + m[4 + 2 + 32] + 2 + 1;
  static const uint8_t groups[8] = {0x00, 0x0a, 0x00, 0x04,
                                    0x00, 0x02, 0x00, 0x1d};
  uint8_t *e = malloc(n + sizeof(groups));
  memcpy(e, m, n);
  memcpy(e + n, groups, sizeof(groups));
  size_t body = n + sizeof(groups) - 4;
  size_t block = ((size_t)e[ext] << 8 | e[ext + 1]) + sizeof(groups);
  e[1] = (uint8_t)(body >> 16);
  e[2] = (uint8_t)(body >> 8);
  e[3] = (uint8_t)body;
  e[ext] = (uint8_t)(block >> 8);
  e[ext + 1] = (uint8_t)block;
  free(t.sf.msg[at]);
  t.sf.msg[at] = e;
  t.sf.len[at] = n + sizeof(groups);
  give_msgs(t.c, &t.sf, -1);
  /* on to its own flight; the Finished that follows no longer matches
   * (the edit is in the transcript), which is not what this checks */
  CHECK_EQ_INT(moat_conn_handshake(t.c), MOAT_ERR_WANT_READ);
  CHECK(moat_conn_error(t.c) == MOAT_OK);
  finish(&t);
}

/* (d) the client's flight: ChangeCipherSpec before ClientKeyExchange, a
 * Finished in the clear without ChangeCipherSpec, and a Finished that
 * does not match. */
static void test_client_flight(void) {
  for (int kind = 0; kind < 3; kind++) {
    setup t;
    start(&t, "p256", NULL);
    give_msgs(t.c, &t.sf, -1);
    CHECK(moat_conn_handshake(t.c) == MOAT_ERR_WANT_READ);
    flight cf; /* ClientKeyExchange (CCS and Finished stay in raw) */
    take_flight(t.c, &cf);
    int cke = find(&cf, HT_CLIENT_KEY_EXCHANGE);
    CHECK(cke >= 0);
    static const uint8_t ccs[1] = {1};
    moat_err e;
    if (kind == 0) {
      give_record(t.s, CT_CHANGE_CIPHER_SPEC, ccs, 1);
      e = moat_conn_handshake(t.s);
      check_failed("early CCS", t.s, e, MOAT_ERR_UNEXPECTED_MESSAGE,
                   ALERT_UNEXPECTED_MESSAGE,
                   "change_cipher_spec while waiting for ClientKeyExchange");
    } else if (kind == 1) {
      give_record(t.s, CT_HANDSHAKE, cf.msg[cke], cf.len[cke]);
      CHECK(moat_conn_handshake(t.s) == MOAT_ERR_WANT_READ);
      uint8_t fin[16] = {HT_FINISHED, 0, 0, 12};
      give_record(t.s, CT_HANDSHAKE, fin, sizeof(fin));
      e = moat_conn_handshake(t.s);
      check_failed("Finished without CCS", t.s, e, MOAT_ERR_UNEXPECTED_MESSAGE,
                   ALERT_UNEXPECTED_MESSAGE, "before ChangeCipherSpec");
    } else {
      /* The server's transcript gains a byte the client never sent: the
       * client's Finished (correctly encrypted) no longer matches. */
      give_record(t.s, CT_HANDSHAKE, cf.msg[cke], cf.len[cke]);
      CHECK(moat_conn_handshake(t.s) == MOAT_ERR_WANT_READ);
      CHECK(hs_transcript_add(t.s, (const uint8_t *)"x", 1) == MOAT_OK);
      /* the CCS and Finished records follow the CKE record in raw */
      size_t cke_rec = 5 + cf.len[cke];
      size_t used;
      CHECK(moat_conn_feed(t.s, cf.raw + cke_rec, cf.raw_len - cke_rec,
                           &used) == MOAT_OK);
      e = moat_conn_handshake(t.s);
      check_failed("bad Finished", t.s, e, MOAT_ERR_DECRYPT_ERROR,
                   ALERT_DECRYPT_ERROR, "Finished does not match");
    }
    flight_free(&cf);
    finish(&t);
  }
}

/* (e) a resumption whose ClientHello drops extended_master_secret
 * (RFC 7627 5.3): the server aborts. */
static void test_ems_dropped(void) {
  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx12();
  moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
  moat_conn_set_hostname(c, "localhost");
  CHECK(!moat_conn_extended_master_secret(c));
  moat_err se, ce = handshake_both(c, s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(moat_conn_extended_master_secret(c) &&
        moat_conn_extended_master_secret(s));
  moat_session *sess = moat_conn_get_session(c);
  CHECK(sess != NULL);
  moat_conn_free(c);
  moat_conn_free(s);
  c = moat_conn_new(cc);
  s = moat_conn_new(sc);
  moat_conn_set_hostname(c, "localhost");
  CHECK(moat_conn_set_session(c, sess) == MOAT_OK);
  CHECK(moat_conn_handshake(c) == MOAT_ERR_WANT_READ);
  flight ch;
  take_flight(c, &ch);
  /* remove extended_master_secret (type 23, empty) from the hello */
  uint8_t *m = ch.msg[0];
  size_t n = ch.len[0];
  uint8_t out[4096];
  size_t o = 0;
  cursor cur = cur_make(m + 4, n - 4), sid, suites, comp, exts, data;
  const uint8_t *rnd;
  uint16_t v, type;
  CHECK(cur_u16(&cur, &v) && cur_bytes(&cur, 32, &rnd) &&
        cur_prefixed8(&cur, &sid) && cur_prefixed16(&cur, &suites) &&
        cur_prefixed8(&cur, &comp) && cur_prefixed16(&cur, &exts));
  builder b;
  bld_init_fixed(&b, out, sizeof(out));
  msg_open(&b, HT_CLIENT_HELLO);
  bld_u16(&b, v);
  bld_bytes(&b, rnd, 32);
  bld_open8(&b);
  bld_bytes(&b, cur_data(&sid), cur_len(&sid));
  bld_close(&b);
  bld_open16(&b);
  bld_bytes(&b, cur_data(&suites), cur_len(&suites));
  bld_close(&b);
  bld_open8(&b);
  bld_bytes(&b, cur_data(&comp), cur_len(&comp));
  bld_close(&b);
  bld_open16(&b);
  bool dropped = false;
  while (cur_u16(&exts, &type) && cur_prefixed16(&exts, &data)) {
    if (type == EXT_EXTENDED_MASTER_SECRET) {
      dropped = true;
      continue;
    }
    bld_u16(&b, type);
    bld_open16(&b);
    bld_bytes(&b, cur_data(&data), cur_len(&data));
    bld_close(&b);
  }
  bld_close(&b);
  msg_close(&b);
  CHECK(bld_finish(&b) && dropped);
  o = bld_len(&b);
  give_record(s, CT_HANDSHAKE, out, o);
  moat_err e = moat_conn_handshake(s);
  check_failed("EMS dropped", s, e, MOAT_ERR_HANDSHAKE_FAILURE,
               ALERT_HANDSHAKE_FAILURE, "without the extension");
  flight_free(&ch);
  moat_session_free(sess);
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* (f) records after the handshake: too long, too short to hold the
 * explicit nonce and tag, and one whose tag is wrong. */
static void test_records(void) {
  for (int kind = 0; kind < 3; kind++) {
    moat_context *sc = server_ctx("p256");
    moat_context *cc = client_ctx12();
    CHECK(moat_context_set_ciphersuites(cc, "ECDHE-ECDSA-AES128-GCM-SHA256") ==
          MOAT_OK);
    moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
    moat_conn_set_hostname(c, "localhost");
    moat_err se, ce = handshake_both(c, s, &se);
    CHECK(ce == MOAT_OK && se == MOAT_OK);
    uint8_t hdr[5] = {CT_APPLICATION_DATA, 3, 3, 0, 0};
    moat_err want;
    int alert;
    const char *word;
    size_t used;
    if (kind == 0) {
      size_t len = TLS12_MAX_CIPHERTEXT + 1; /* RFC 5246 6.2.3 */
      hdr[3] = (uint8_t)(len >> 8);
      hdr[4] = (uint8_t)len;
      moat_conn_feed(c, hdr, 5, &used);
      want = MOAT_ERR_RECORD_OVERFLOW;
      alert = ALERT_RECORD_OVERFLOW;
      word = "exceeds the limit";
    } else if (kind == 1) {
      uint8_t rec[5 + 10] = {CT_APPLICATION_DATA, 3, 3, 0, 10};
      moat_conn_feed(c, rec, sizeof(rec), &used);
      want = MOAT_ERR_BAD_RECORD_MAC;
      alert = ALERT_BAD_RECORD_MAC;
      word = "too short";
    } else {
      size_t w;
      CHECK(moat_conn_write(s, (const uint8_t *)"hello", 5, &w) == MOAT_OK);
      uint8_t rec[64];
      size_t n;
      moat_conn_take_output(s, rec, sizeof(rec), &n);
      rec[n - 1] ^= 0x80; /* the tag */
      moat_conn_feed(c, rec, n, &used);
      want = MOAT_ERR_BAD_RECORD_MAC;
      alert = ALERT_BAD_RECORD_MAC;
      word = "authentication failed";
    }
    uint8_t buf[64];
    size_t got;
    moat_err e = moat_conn_read(c, buf, sizeof(buf), &got);
    int a = -1;
    bool ours = false;
    CHECK(e == want && moat_conn_alert(c, &a, &ours) && a == alert && ours &&
          strstr(moat_conn_error_detail(c), word) != NULL);
    /* the alert is on the wire, protected with the client's keys */
    CHECK(moat_conn_pending_output(c) == 5 + 8 + 2 + 16);
    CHECK(moat_conn_read(c, buf, sizeof(buf), &got) == want);
    moat_conn_free(c);
    moat_conn_free(s);
    moat_context_free(cc);
    moat_context_free(sc);
  }
}

/* (g) RFC 8422 5.1: a certificate on a curve the client did not list,
 * and an ec_point_formats list without uncompressed. */
static void test_curves_and_points(void) {
  /* The server answers a client that lists P-256; its flight goes to
   * one that lists only X25519 and P-384 (the moat server would not pick
   * a P-256 certificate for it). */
  setup t;
  start(&t, "p256", NULL);
  moat_context *narrow = client_ctx12();
  CHECK(moat_context_set_groups(narrow, "X25519:P-384") == MOAT_OK);
  moat_conn *c2 = moat_conn_new(narrow);
  moat_conn_set_hostname(c2, "localhost");
  CHECK(moat_conn_handshake(c2) == MOAT_ERR_WANT_READ);
  flight own;
  take_flight(c2, &own); /* its own ClientHello: dropped */
  give_msgs(c2, &t.sf, -1);
  moat_err e = moat_conn_handshake(c2);
  check_failed("leaf curve", c2, e, MOAT_ERR_ILLEGAL_PARAMETER,
               ALERT_ILLEGAL_PARAMETER, "did not list");
  flight_free(&own);
  moat_conn_free(c2);
  moat_context_free(narrow);
  finish(&t);

  moat_context *sc = server_ctx("p256");
  moat_context *cc = client_ctx12();
  moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
  moat_conn_set_hostname(c, "localhost");
  CHECK(moat_conn_handshake(c) == MOAT_ERR_WANT_READ);
  flight ch;
  take_flight(c, &ch);
  static const uint8_t formats[6] = {0x00, 0x0b, 0x00, 0x02, 0x01, 0x00};
  uint8_t *at = memmem(ch.msg[0], ch.len[0], formats, sizeof(formats));
  CHECK(at != NULL);
  if (at != NULL) {
    at[5] = 0x01; /* ansiX962_compressed_prime only */
    give_msgs(s, &ch, -1);
    e = moat_conn_handshake(s);
    check_failed("point formats", s, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "lacks uncompressed");
  }
  flight_free(&ch);
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* (h) RFC 5246 6.2.1: after the hellos every record says 0x0303. */
static void test_record_version(void) {
  setup t;
  start(&t, "p256", NULL);
  /* the server's flight re-framed with record version 0x0301 */
  for (size_t i = 0; i < t.sf.num; i++) {
    uint8_t rec[5 + 4096] = {CT_HANDSHAKE, 3, 1};
    rec[3] = (uint8_t)(t.sf.len[i] >> 8);
    rec[4] = (uint8_t)t.sf.len[i];
    memcpy(rec + 5, t.sf.msg[i], t.sf.len[i]);
    size_t used;
    moat_conn_feed(t.c, rec, 5 + t.sf.len[i], &used);
  }
  moat_err e = moat_conn_handshake(t.c);
  /* the ServerHello's record may say 0x0301; the next one may not */
  check_failed("record version", t.c, e, MOAT_ERR_PROTOCOL_VERSION,
               ALERT_PROTOCOL_VERSION, "TLS 1.2 record with version 0x0301");
  finish(&t);
}

/* (i) RFC 5246 7.4.1.2 / RFC 8446 D.4: the legacy session ID. */
static void test_session_id_echo(void) {
  /* A client limited to TLS 1.2 with no session sends none. */
  setup t;
  start(&t, "p256", NULL);
  CHECK_EQ_INT(t.ch.msg[0][4 + 2 + 32], 0);
  finish(&t);
  /* A client that may agree to TLS 1.3 sends 32 random bytes for
   * compatibility mode; a TLS 1.2 server that echoes them is not
   * resuming anything: illegal_parameter. */
  moat_context *sc = server_ctx("p256");
  CHECK(moat_context_set_max_version(sc, MOAT_TLS1_2) == MOAT_OK);
  moat_context *cc = pki_client_ctx();
  moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
  moat_conn_set_hostname(c, "localhost");
  CHECK(moat_conn_handshake(c) == MOAT_ERR_WANT_READ);
  flight ch, sf;
  take_flight(c, &ch);
  give_msgs(s, &ch, -1);
  CHECK(moat_conn_handshake(s) == MOAT_ERR_WANT_READ);
  take_flight(s, &sf);
  CHECK_EQ_INT(ch.msg[0][4 + 2 + 32], 32);
  CHECK_EQ_INT(sf.msg[0][4 + 2 + 32], 32);
  memcpy(sf.msg[0] + 4 + 2 + 32 + 1, ch.msg[0] + 4 + 2 + 32 + 1, 32);
  give_msgs(c, &sf, -1);
  moat_err e = moat_conn_handshake(c);
  check_failed("echoed compatibility ID", c, e, MOAT_ERR_ILLEGAL_PARAMETER,
               ALERT_ILLEGAL_PARAMETER, "names no session");
  flight_free(&ch);
  flight_free(&sf);
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_free(cc);
  moat_context_free(sc);
}

int main(void) {
  if (pki_init() != 0 || pki_leaf("p256", "p256", "30", "serverAuth") ||
      pki_leaf("rsa", "rsa", "30", "serverAuth")) {
    fprintf(stderr, "could not make the test PKI with openssl\n");
    return 1;
  }
  test_server_flight_order();
  test_session_id_echo();
  test_server_hello_groups();
  test_server_key_exchange();
  test_point_off_curve();
  test_renegotiation_info();
  test_client_flight();
  test_ems_dropped();
  test_records();
  test_curves_and_points();
  test_record_version();
  pki_cleanup();
  return t_done("tls12_negative");
}
