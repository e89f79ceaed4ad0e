/* Certificate compression (RFC 8879): the compress_certificate extension
 * codec and the CompressedCertificate message codec, with valid input
 * for every algorithm built in and the ways a peer can get it wrong
 * (truncated, wrong algorithm, length mismatch, bomb, empty), each
 * refusal with its error, the alert it maps to, and a detail; then
 * moat-to-moat handshakes with each algorithm in both directions, what
 * goes on the wire, the context setting, the per-snapshot cache, and the
 * alerts a peer reads when the other side's certificate is bad or
 * unsolicited. */
#include <stdlib.h>

#include "base/mem.h"
#include "compress/compress.h"
#include "hexvec.h"
#include "moat.h"
#include "pair.h"
#include "pki.h"
#include "t.h"
#include "tls/msg/msg.h"
#include "tls/tls.h"

#ifdef MOAT_HAVE_ZLIB
#include <zlib.h>
#endif

static tls_cause W;

/* got must be err; a refusal must name the alert and say why. */
#define EXPECT(expr, err, alert) expect_((expr), (err), (alert), __LINE__)
static void expect_(moat_err got, moat_err err, int alert, int line) {
  bool ok = got == err;
  if (ok && err != MOAT_OK) {
    ok = W.err == err && alert_for_error(err) == alert && W.detail[0] != '\0';
  }
  CHECK(ok);
  if (!ok) {
    fprintf(stderr, "  line %d: got %s (%s), want %s alert %d\n", line,
            moat_err_name(got), W.detail, moat_err_name(err), alert);
  }
  memset(&W, 0, sizeof(W));
}
#define OK_(expr) EXPECT(expr, MOAT_OK, -1)
#define DECODE(expr) EXPECT(expr, MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR)
#define ILLEGAL(expr)                                                          \
  EXPECT(expr, MOAT_ERR_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER)
#define BADCERT(expr)                                                          \
  EXPECT(expr, MOAT_ERR_BAD_CERTIFICATE, ALERT_BAD_CERTIFICATE)

static cursor CV(const vec *v) {
  return cur_make(v->b, v->n);
}

static const uint16_t k_all[3] = {COMPRESS_ZSTD, COMPRESS_BROTLI,
                                  COMPRESS_ZLIB};

/* ---- compress_certificate (RFC 8879 3) -----------------------------------*/

/* What a default policy accepts: the algorithms built in. */
static uint16_t g_known[3];
static size_t g_num_known;

static void test_ext(void) {
  uint16_t out[CERT_COMP_MAX];
  size_t num = 99;
  /* the peer's order, unknown ones skipped */
  vec ok = V("08 0003 1234 0002 0001");
  OK_(ext_cert_comp_parse(CV(&ok), g_known, g_num_known, out, CERT_COMP_MAX,
                          &num, &W));
  size_t want = 0;
  for (size_t i = 0; i < 3; i++) {
    if (compress_get(k_all[i]) != NULL) {
      CHECK(want < num && out[want] == k_all[i]);
      want++;
    }
  }
  CHECK_EQ_INT(num, want);
  /* nothing moat knows: accepted, nothing kept */
  vec unknown = V("04 ff01 ff02");
  OK_(ext_cert_comp_parse(CV(&unknown), g_known, g_num_known, out,
                          CERT_COMP_MAX, &num, &W));
  CHECK_EQ_INT(num, 0);
  /* the caller's capacity holds */
  vec three = V("06 0001 0002 0003");
  OK_(ext_cert_comp_parse(CV(&three), g_known, g_num_known, out, 1, &num, &W));
  CHECK(num <= 1);
  /* the longest list, 127 code points */
  vec longest;
  longest.b[0] = 254;
  for (size_t i = 0; i < 127; i++) {
    longest.b[1 + 2 * i] = 0x40;
    longest.b[2 + 2 * i] = (uint8_t)i;
  }
  longest.b[253] = 0;
  longest.b[254] = COMPRESS_ZLIB;
  longest.n = 255;
  OK_(ext_cert_comp_parse(CV(&longest), g_known, g_num_known, out,
                          CERT_COMP_MAX, &num, &W));
  CHECK_EQ_INT(num, compress_get(COMPRESS_ZLIB) != NULL ? 1 : 0);
  /* malformed: empty, odd, short, trailing, no list at all */
  static const char *const bad[] = {"00",      "01 00",      "03 0001 00",
                                    "04 0001", "02 0001 00", ""};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    vec v = V(bad[i]);
    DECODE(ext_cert_comp_parse(CV(&v), g_known, g_num_known, out, CERT_COMP_MAX,
                               &num, &W));
  }
  /* an algorithm twice, known or not, apart or adjacent (BoGo's
   * DuplicateCertCompressionExt sends zlib twice) */
  static const char *const dup[] = {"04 0001 0001", "06 0002 ff01 0002",
                                    "04 ff01 ff01"};
  for (size_t i = 0; i < 3; i++) {
    vec v = V(dup[i]);
    DECODE(ext_cert_comp_parse(CV(&v), g_known, g_num_known, out, CERT_COMP_MAX,
                               &num, &W));
  }
  /* what the builder writes, the parser reads back */
  uint8_t buf[64];
  builder b;
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(ext_cert_comp_build(&b, k_all, 3) && bld_finish(&b));
  vec built = V("06 0003 0002 0001");
  CHECK(bld_len(&b) == built.n && memcmp(buf, built.b, built.n) == 0);
}

/* ---- CompressedCertificate (RFC 8879 4) ----------------------------------*/

/* A Certificate body (RFC 8446 4.4.2) with one 3000-byte entry of
 * repetitive DER-like bytes and empty extensions. */
static uint8_t g_body[3000 + 10];
static size_t g_body_len;

static void make_body(void) {
  size_t n = 0;
  g_body[n++] = 0;                                         /* context */
  g_body[n++] = 0, g_body[n++] = 0x0b, g_body[n++] = 0xbd; /* list 3005 */
  g_body[n++] = 0, g_body[n++] = 0x0b, g_body[n++] = 0xb8; /* cert 3000 */
  static const char pattern[] = "0\x82\x01\x0a"
                                "CN=moat test ";
  for (size_t i = 0; i < 3000; i++) {
    g_body[n++] = (uint8_t)(pattern[i % (sizeof(pattern) - 1)] + i / 700);
  }
  g_body[n++] = 0, g_body[n++] = 0; /* extensions */
  g_body_len = n;
}

/* Builds the message for alg into b (heap) and returns its body cursor. */
static cursor built(builder *b, uint16_t alg) {
  CHECK(bld_init_alloc(b, 256));
  OK_(ccert_build(b, alg, g_body, g_body_len, &W));
  CHECK(bld_len(b) > 9 && bld_data(b)[0] == HT_COMPRESSED_CERTIFICATE);
  return cur_make(bld_data(b) + 4, bld_len(b) - 4);
}

static void test_msg_alg(uint16_t alg) {
  builder b;
  cursor body = built(&b, alg);
  /* the handshake header's length is the body's */
  const uint8_t *h = bld_data(&b);
  CHECK_EQ_INT(((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3],
               cur_len(&body));
  /* smaller than the Certificate it carries */
  CHECK(cur_len(&body) < g_body_len / 2);
  compressed_cert m;
  OK_(ccert_parse(body, k_all, 3, &m, &W));
  CHECK_EQ_INT(m.algorithm, alg);
  CHECK_EQ_INT(m.uncompressed_len, g_body_len);
  uint8_t *out = NULL;
  OK_(ccert_expand(&m, &out, &W));
  CHECK(out != NULL && memcmp(out, g_body, g_body_len) == 0);
  moat_free(out);

  /* the algorithm must be one we offered */
  uint16_t others[2];
  size_t no = 0;
  for (size_t i = 0; i < 3; i++) {
    if (k_all[i] != alg) {
      others[no++] = k_all[i];
    }
  }
  ILLEGAL(ccert_parse(body, others, no, &m, &W));
  ILLEGAL(ccert_parse(body, NULL, 0, &m, &W));

  /* every cut of the message is malformed */
  bool cuts = true;
  for (size_t cut = 0; cut < cur_len(&body); cut++) {
    cursor c = cur_make(cur_data(&body), cut);
    cuts = cuts && ccert_parse(c, k_all, 3, &m, &W) == MOAT_ERR_DECODE_ERROR &&
           W.err == MOAT_ERR_DECODE_ERROR;
  }
  CHECK(cuts);
  memset(&W, 0, sizeof(W));

  /* announced length one short, one long, far short: bad_certificate
   * (RFC 8879 4), the detail saying which */
  uint8_t *copy = malloc(cur_len(&body) + 1);
  memcpy(copy, cur_data(&body), cur_len(&body));
  static const int deltas[] = {-1, 1, -2000};
  for (size_t i = 0; i < 3; i++) {
    uint32_t len = (uint32_t)((int)g_body_len + deltas[i]);
    copy[2] = (uint8_t)(len >> 16), copy[3] = (uint8_t)(len >> 8);
    copy[4] = (uint8_t)len;
    OK_(ccert_parse(cur_make(copy, cur_len(&body)), k_all, 3, &m, &W));
    BADCERT(ccert_expand(&m, &out, &W));
    CHECK(out == NULL);
    (void)ccert_expand(&m, &out, &W);
    CHECK(strstr(W.detail, deltas[i] > 0 ? "fewer" : "more") != NULL);
    memset(&W, 0, sizeof(W));
  }
  /* the stream cut short inside a well-framed message */
  uint32_t len = (uint32_t)g_body_len;
  copy[2] = (uint8_t)(len >> 16), copy[3] = (uint8_t)(len >> 8);
  copy[4] = (uint8_t)len;
  size_t zn = cur_len(&body) - 8;
  copy[5] = (uint8_t)((zn - 1) >> 16), copy[6] = (uint8_t)((zn - 1) >> 8);
  copy[7] = (uint8_t)(zn - 1);
  OK_(ccert_parse(cur_make(copy, cur_len(&body) - 1), k_all, 3, &m, &W));
  BADCERT(ccert_expand(&m, &out, &W));
  /* a byte after the message */
  copy[5] = (uint8_t)(zn >> 16), copy[6] = (uint8_t)(zn >> 8);
  copy[7] = (uint8_t)zn;
  copy[cur_len(&body)] = 0;
  DECODE(ccert_parse(cur_make(copy, cur_len(&body) + 1), k_all, 3, &m, &W));
  /* the stream with a byte after it, inside the message */
  copy[5] = (uint8_t)((zn + 1) >> 16), copy[6] = (uint8_t)((zn + 1) >> 8);
  copy[7] = (uint8_t)(zn + 1);
  OK_(ccert_parse(cur_make(copy, cur_len(&body) + 1), k_all, 3, &m, &W));
  BADCERT(ccert_expand(&m, &out, &W));
  free(copy);
  bld_cleanup(&b);
}

static void test_msg_fields(void) {
  compressed_cert m;
  /* empty compressed_certificate_message (RFC 8879 4: <1..2^24-1>) */
  vec empty = V("0001 000100 000000");
  DECODE(ccert_parse(CV(&empty), k_all, 3, &m, &W));
  vec none = V("");
  DECODE(ccert_parse(CV(&none), k_all, 3, &m, &W));
  /* lengths that cannot be a Certificate message or exceed the cap are
   * refused before anything is allocated or decoded */
  uint16_t any[1] = {0x0001};
  vec zero = V("0001 000000 000001 78");
  BADCERT(ccert_parse(CV(&zero), any, 1, &m, &W));
  vec three = V("0001 000003 000001 78");
  BADCERT(ccert_parse(CV(&three), any, 1, &m, &W));
  vec over = V("0001 040001 000001 78"); /* 256 KiB + 1 */
  BADCERT(ccert_parse(CV(&over), any, 1, &m, &W));
  vec max = V("0001 ffffff 000001 78"); /* RFC 8879's 2^24-1 */
  BADCERT(ccert_parse(CV(&max), any, 1, &m, &W));
  vec cap = V("0001 040000 000001 78"); /* exactly 256 KiB: parsed */
  OK_(ccert_parse(CV(&cap), any, 1, &m, &W));
  /* an algorithm we offered but did not build: never expanded */
  uint16_t odd[1] = {0xff01};
  vec custom = V("ff01 000010 000001 78");
  OK_(ccert_parse(CV(&custom), odd, 1, &m, &W));
  uint8_t *out = NULL;
  EXPECT(ccert_expand(&m, &out, &W), MOAT_ERR_INTERNAL, ALERT_INTERNAL_ERROR);
  /* the builder refuses what it cannot send */
  builder b;
  CHECK(bld_init_alloc(&b, 64));
  EXPECT(ccert_build(&b, 0xff01, g_body, g_body_len, &W), MOAT_ERR_INTERNAL,
         ALERT_INTERNAL_ERROR);
  EXPECT(ccert_build(&b, COMPRESS_ZLIB, g_body, 3, &W), MOAT_ERR_INTERNAL,
         ALERT_INTERNAL_ERROR);
  bld_cleanup(&b);
}

/* 8 MiB of zeros in a few KiB of zlib, announced as the cap: refused as
 * bad_certificate having written no more than the cap. */
static void test_bomb(void) {
#ifdef MOAT_HAVE_ZLIB
  size_t big = 8u << 20;
  uint8_t *zeros = calloc(1, big);
  uLongf zn = big / 64;
  uint8_t *msg = malloc(8 + zn);
  CHECK(compress2(msg + 8, &zn, zeros, big, 9) == Z_OK);
  msg[0] = 0, msg[1] = COMPRESS_ZLIB;
  msg[2] = 0x04, msg[3] = 0, msg[4] = 0; /* 256 KiB */
  msg[5] = (uint8_t)(zn >> 16), msg[6] = (uint8_t)(zn >> 8);
  msg[7] = (uint8_t)zn;
  uint16_t offered[1] = {COMPRESS_ZLIB};
  compressed_cert m;
  OK_(ccert_parse(cur_make(msg, 8 + zn), offered, 1, &m, &W));
  uint8_t *out = NULL;
  BADCERT(ccert_expand(&m, &out, &W));
  CHECK(out == NULL);
  /* and as RFC 8879's maximum, refused at the length */
  msg[2] = 0xff, msg[3] = 0xff, msg[4] = 0xff;
  BADCERT(ccert_parse(cur_make(msg, 8 + zn), offered, 1, &m, &W));
  free(zeros);
  free(msg);
#else
  printf("test_cert_compression: zlib not built in, bomb case skipped\n");
#endif
}

/* ---- handshakes --------------------------------------------------------- */

static moat_context *g_rsa_srv, *g_ec_srv, *g_cli, *g_cli_auth, *g_srv_auth;

/* One handshake with every byte counted: client to server in *out_up,
 * server to client in *out_down. */
static moat_err run(moat_conn *c, moat_conn *s, moat_err *out_server,
                    size_t *out_up, size_t *out_down) {
  moat_err ce = MOAT_ERR_WANT_READ, se = MOAT_ERR_WANT_READ;
  size_t up = 0, down = 0;
  for (int i = 0; i < 60; i++) {
    if (ce == MOAT_ERR_WANT_READ) {
      ce = moat_conn_handshake(c);
    }
    up += moat_conn_pending_output(c);
    shuttle(c, s);
    if (se == MOAT_ERR_WANT_READ) {
      se = moat_conn_handshake(s);
    }
    down += moat_conn_pending_output(s);
    shuttle(s, c);
    if (ce != MOAT_ERR_WANT_READ && se != MOAT_ERR_WANT_READ) {
      break;
    }
  }
  *out_server = se;
  if (out_up != NULL) {
    *out_up = up;
    *out_down = down;
  }
  return ce;
}

typedef struct hs_result {
  moat_err c, s;
  uint16_t c_got, s_got, c_sent, s_sent; /* peer_cert_compression, ... */
  size_t up, down;
  int c_alert, s_alert; /* alerts each side read from the other, or -1 */
} hs_result;

/* cc / sc get the algorithm lists calg / salg (NULL: as they are). */
static hs_result pair_run(moat_context *cc, moat_context *sc, const char *calg,
                          const char *salg) {
  if (calg != NULL) {
    CHECK(moat_context_set_cert_compression(cc, calg) == MOAT_OK);
  }
  if (salg != NULL) {
    CHECK(moat_context_set_cert_compression(sc, salg) == MOAT_OK);
  }
  moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
  moat_conn_set_hostname(c, "localhost");
  hs_result r;
  r.c = run(c, s, &r.s, &r.up, &r.down);
  r.c_got = moat_conn_peer_cert_compression(c);
  r.s_got = moat_conn_peer_cert_compression(s);
  r.c_sent = moat_conn_cert_compression(c);
  r.s_sent = moat_conn_cert_compression(s);
  bool ours;
  r.c_alert = r.s_alert = -1;
  int a;
  if (moat_conn_alert(c, &a, &ours) && !ours) {
    r.c_alert = a;
  }
  if (moat_conn_alert(s, &a, &ours) && !ours) {
    r.s_alert = a;
  }
  if (r.c == MOAT_OK) {
    const uint8_t *der;
    size_t len;
    CHECK(moat_conn_peer_cert_der(c, 0, &der, &len) == MOAT_OK && len > 100);
  }
  moat_conn_free(c);
  moat_conn_free(s);
  return r;
}

static void test_handshakes(void) {
  char all[64];
  snprintf(all, sizeof(all), "%s", moat_cert_compression_available());
  hs_result off = pair_run(g_cli, g_rsa_srv, "", all);
  CHECK(off.c == MOAT_OK && off.s == MOAT_OK);
  CHECK(off.c_got == 0 && off.s_sent == 0);
  hs_result off_ec = pair_run(g_cli, g_ec_srv, "", all);
  CHECK(off_ec.c == MOAT_OK && off_ec.c_got == 0);
  for (size_t i = 0; i < 3; i++) {
    uint16_t alg = k_all[i];
    const char *name = moat_cert_compression_name(alg);
    if (compress_get(alg) == NULL) {
      continue;
    }
    hs_result r = pair_run(g_cli, g_rsa_srv, name, all);
    CHECK(r.c == MOAT_OK && r.s == MOAT_OK);
    CHECK_EQ_INT(r.c_got, alg);
    CHECK_EQ_INT(r.s_sent, alg);
    CHECK(r.c_sent == 0 && r.s_got == 0);
    /* the RSA-2048 chain (leaf and CA) goes in fewer bytes */
    CHECK(r.down + 100 < off.down);
    printf("test_cert_compression: RSA-2048 chain, server flight %zu bytes "
           "plain, %zu with %s\n",
           off.down, r.down, name);
    hs_result e = pair_run(g_cli, g_ec_srv, name, all);
    CHECK(e.c == MOAT_OK && e.c_got == alg && e.down < off_ec.down);
    /* the client's certificate, compressed for the server */
    hs_result ca = pair_run(g_cli_auth, g_srv_auth, name, name);
    CHECK(ca.c == MOAT_OK && ca.s == MOAT_OK);
    CHECK_EQ_INT(ca.s_got, alg);
    CHECK_EQ_INT(ca.c_sent, alg);
    CHECK_EQ_INT(ca.c_got, alg);
  }
  /* the server's preference decides among what the client offers */
  if (compress_get(COMPRESS_ZLIB) != NULL &&
      compress_get(COMPRESS_ZSTD) != NULL) {
    hs_result r = pair_run(g_cli, g_rsa_srv, "zstd:zlib", "zlib:zstd");
    CHECK(r.c == MOAT_OK && r.c_got == COMPRESS_ZLIB);
    r = pair_run(g_cli, g_rsa_srv, "zstd", "zlib");
    CHECK(r.c == MOAT_OK && r.c_got == 0); /* nothing in common */
    r = pair_run(g_cli_auth, g_srv_auth, "zlib:zstd", "zstd:zlib");
    CHECK(r.c == MOAT_OK && r.c_sent == COMPRESS_ZLIB &&
          r.s_sent == COMPRESS_ZSTD);
  }
  /* a server with it off, a client with it on: plain */
  hs_result r = pair_run(g_cli, g_rsa_srv, all, "");
  CHECK(r.c == MOAT_OK && r.c_got == 0 && r.s_sent == 0);
  /* TLS 1.2: never (RFC 8879 applies to TLS 1.3) */
  moat_context_set_max_version(g_rsa_srv, MOAT_TLS1_2);
  r = pair_run(g_cli, g_rsa_srv, all, all);
  CHECK(r.c == MOAT_OK && r.c_got == 0 && r.s_sent == 0);
  moat_context_set_max_version(g_rsa_srv, MOAT_TLS1_3);
  /* the defaults: on, every algorithm built in, zlib first */
  moat_context *fresh_c = pki_client_ctx();
  r = pair_run(fresh_c, g_ec_srv, NULL, all);
  CHECK(r.c == MOAT_OK && r.c_got == compress_builtin(0)->code);
  moat_context_free(fresh_c);
}

static void test_setting(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK(strcmp(moat_cert_compression_available(),
               compress_get(COMPRESS_ZSTD) && compress_get(COMPRESS_BROTLI) &&
                       compress_get(COMPRESS_ZLIB)
                   ? "zlib:brotli:zstd"
                   : moat_cert_compression_available()) == 0);
  CHECK(moat_context_set_cert_compression(ctx, "lzma") == MOAT_ERR_UNSUPPORTED);
  CHECK(strstr(moat_context_error_detail(ctx), "lzma") != NULL);
  CHECK(moat_context_set_cert_compression(ctx, "zlib:") ==
        MOAT_ERR_UNSUPPORTED); /* an empty name */
  CHECK(moat_context_set_cert_compression(ctx, "zlib:zlib") == MOAT_OK);
  CHECK(moat_context_set_cert_compression(ctx, NULL) == MOAT_OK);
  CHECK(moat_cert_compression_name(1) != NULL &&
        strcmp(moat_cert_compression_name(3), "zstd") == 0 &&
        moat_cert_compression_name(0) == NULL &&
        moat_cert_compression_name(0xff01) == NULL);
  moat_context_free(ctx);
}

/* The server compresses its chain once per snapshot and algorithm. */
static void test_cache(void) {
  const char *name = moat_cert_compression_name(compress_builtin(0)->code);
  CHECK(moat_context_set_cert_compression(g_ec_srv, name) == MOAT_OK);
  const tls_policy *p = context_policy(g_ec_srv);
  CHECK_EQ_INT(cert_comp_made(p), 0);
  for (int i = 0; i < 3; i++) {
    hs_result r = pair_run(g_cli, g_ec_srv, name, NULL);
    CHECK(r.c == MOAT_OK && r.c_got == compress_builtin(0)->code);
  }
  CHECK_EQ_INT(cert_comp_made(p), 1);
  policy_free(p);
  /* a new snapshot starts its own */
  moat_context_set_verify_flags(g_ec_srv, 0);
  p = context_policy(g_ec_srv);
  CHECK_EQ_INT(cert_comp_made(p), 0);
  hs_result r = pair_run(g_cli, g_ec_srv, name, NULL);
  CHECK(r.c == MOAT_OK);
  CHECK_EQ_INT(cert_comp_made(p), 1);
  policy_free(p);
}

/* A server whose cached message is replaced sends what the test wants,
 * and the client must refuse it with an alert the server reads. */
static void test_bad_peer(void) {
  uint16_t alg = compress_builtin(0)->code;
  const char *name = moat_cert_compression_name(alg);
  CHECK(moat_context_set_cert_compression(g_ec_srv, name) == MOAT_OK);
  hs_result r = pair_run(g_cli, g_ec_srv, name, NULL);
  CHECK(r.c == MOAT_OK);
  const tls_policy *p = context_policy(g_ec_srv);
  static uint8_t good[8192], bad[8192];
  size_t n = 0;
  CHECK(cert_comp_cached(p, alg, good, sizeof(good), &n) && n > 12);
  /* announced one byte long: bad_certificate (RFC 8879 4) */
  memcpy(bad, good, n);
  bad[8] = (uint8_t)(bad[8] + 1);
  CHECK(cert_comp_cache_swap(p, alg, bad, n));
  r = pair_run(g_cli, g_ec_srv, name, NULL);
  CHECK(r.c == MOAT_ERR_BAD_CERTIFICATE);
  CHECK_EQ_INT(r.s_alert, ALERT_BAD_CERTIFICATE);
  /* a flipped byte inside the stream: refused, or (no checksum in brotli
   * and zstd) certificate bytes that no longer verify */
  memcpy(bad, good, n);
  bad[n / 2] ^= 0x20;
  CHECK(cert_comp_cache_swap(p, alg, bad, n));
  r = pair_run(g_cli, g_ec_srv, name, NULL);
  CHECK(r.c != MOAT_OK && r.s_alert > 0);
  /* an algorithm the client did not list: illegal_parameter */
  memcpy(bad, good, n);
  bad[5] = alg == COMPRESS_ZLIB ? COMPRESS_ZSTD : COMPRESS_ZLIB;
  CHECK(cert_comp_cache_swap(p, alg, bad, n));
  r = pair_run(g_cli, g_ec_srv, name, NULL);
  CHECK(r.c == MOAT_ERR_ILLEGAL_PARAMETER);
  CHECK_EQ_INT(r.s_alert, ALERT_ILLEGAL_PARAMETER);
#ifdef MOAT_HAVE_ZLIB
  /* a bomb: 8 MiB of zeros announced as the real Certificate's length */
  if (alg == COMPRESS_ZLIB ||
      moat_context_set_cert_compression(g_ec_srv, "zlib") == MOAT_OK) {
    policy_free(p);
    r = pair_run(g_cli, g_ec_srv, "zlib", "zlib");
    CHECK(r.c == MOAT_OK && r.c_got == COMPRESS_ZLIB);
    p = context_policy(g_ec_srv);
    CHECK(cert_comp_cached(p, COMPRESS_ZLIB, good, sizeof(good), &n));
    size_t big = 8u << 20;
    uint8_t *zeros = calloc(1, big);
    uLongf zn = sizeof(bad) - 12;
    CHECK(compress2(bad + 12, &zn, zeros, big, 9) == Z_OK);
    memcpy(bad, good, 9); /* type, length, algorithm, uncompressed_length */
    size_t body = 8 + zn;
    bad[1] = (uint8_t)(body >> 16), bad[2] = (uint8_t)(body >> 8);
    bad[3] = (uint8_t)body;
    bad[9] = (uint8_t)(zn >> 16), bad[10] = (uint8_t)(zn >> 8);
    bad[11] = (uint8_t)zn;
    CHECK(cert_comp_cache_swap(p, COMPRESS_ZLIB, bad, 12 + zn));
    r = pair_run(g_cli, g_ec_srv, "zlib", NULL);
    CHECK(r.c == MOAT_ERR_BAD_CERTIFICATE);
    CHECK_EQ_INT(r.s_alert, ALERT_BAD_CERTIFICATE);
    free(zeros);
  }
#endif
  policy_free(p);
  /* fresh snapshots for what follows */
  CHECK(moat_context_set_cert_compression(
            g_ec_srv, moat_cert_compression_available()) == MOAT_OK);
}

/* A CompressedCertificate where none was offered: unexpected_message,
 * read by the peer, in both directions. */
static void test_unsolicited(void) {
  const char *all = moat_cert_compression_available();
  moat_conn *c = moat_conn_new(g_cli), *s = moat_conn_new(g_ec_srv);
  CHECK(moat_context_set_cert_compression(g_cli, all) == MOAT_OK);
  moat_conn_free(c);
  c = moat_conn_new(g_cli);
  moat_conn_set_hostname(c, "localhost");
  CHECK(moat_conn_handshake(c) == MOAT_ERR_WANT_READ);
  /* the ClientHello offered it; the client now forgets it did */
  c->hs->cert_comp_offered = false;
  moat_err se;
  moat_err ce = run(c, s, &se, NULL, NULL);
  CHECK(ce == MOAT_ERR_UNEXPECTED_MESSAGE);
  if (ce != MOAT_ERR_UNEXPECTED_MESSAGE) {
    fprintf(stderr, "  client: %s: %s\n", moat_err_name(ce),
            moat_conn_error_detail(c));
  }
  int a = -1;
  bool ours = true;
  CHECK(moat_conn_alert(s, &a, &ours) && !ours &&
        a == ALERT_UNEXPECTED_MESSAGE);
  CHECK(strstr(moat_conn_error_detail(c), "CompressedCertificate") != NULL);
  moat_conn_free(c);
  moat_conn_free(s);
  /* the server's side: its CertificateRequest offered it, then it
   * forgets */
  c = moat_conn_new(g_cli_auth);
  s = moat_conn_new(g_srv_auth);
  moat_conn_set_hostname(c, "localhost");
  CHECK(moat_context_set_cert_compression(g_cli_auth, all) == MOAT_OK);
  moat_conn_free(c);
  c = moat_conn_new(g_cli_auth);
  moat_conn_set_hostname(c, "localhost");
  CHECK(moat_conn_handshake(c) == MOAT_ERR_WANT_READ);
  shuttle(c, s);
  CHECK(moat_conn_handshake(s) == MOAT_ERR_WANT_READ);
  CHECK(s->hs != NULL && s->hs->cert_comp_offered);
  s->hs->cert_comp_offered = false;
  shuttle(s, c);
  ce = run(c, s, &se, NULL, NULL);
  CHECK(se == MOAT_ERR_UNEXPECTED_MESSAGE);
  /* the client finished first; it reads the alert next */
  uint8_t buf[16];
  size_t got;
  shuttle(s, c);
  CHECK(moat_conn_read(c, buf, sizeof(buf), &got) == MOAT_ERR_ALERT_RECEIVED);
  a = -1;
  CHECK(moat_conn_alert(c, &a, &ours) && !ours &&
        a == ALERT_UNEXPECTED_MESSAGE);
  moat_conn_free(c);
  moat_conn_free(s);
}

/* ---- an application's own algorithm ------------------------------------ */

/* XOR with 0x5a behind a one-byte tag: not compression, but the
 * receiver can tell it was applied.  g_decline makes compress decline,
 * g_refuse makes decompress refuse; g_calls counts compressions. */
static bool g_decline, g_refuse;
static int g_calls;

static size_t app_compress(void *arg, const uint8_t *in, size_t in_len,
                           uint8_t *out, size_t cap) {
  CHECK(arg == &g_calls && cap >= in_len + 1);
  g_calls++;
  if (g_decline) {
    return 0;
  }
  out[0] = 0xa5;
  for (size_t i = 0; i < in_len; i++) {
    out[1 + i] = in[i] ^ 0x5a;
  }
  return in_len + 1;
}

static bool app_decompress(void *arg, const uint8_t *in, size_t in_len,
                           uint8_t *out, size_t out_len) {
  (void)arg;
  if (g_refuse || in_len != out_len + 1 || in[0] != 0xa5) {
    return false;
  }
  for (size_t i = 0; i < out_len; i++) {
    out[i] = in[1 + i] ^ 0x5a;
  }
  return true;
}

static void test_app_algorithm(void) {
  moat_cert_compressor app = {0xfe77, app_compress, app_decompress, &g_calls};
  moat_context *sc = g_ec_srv, *cc = g_cli;
  CHECK(moat_context_set_cert_compression(sc, "") == MOAT_OK);
  CHECK(moat_context_set_cert_compression(cc, "") == MOAT_OK);
  CHECK(moat_context_add_cert_compressor(sc, &app) == MOAT_OK);
  CHECK(moat_context_add_cert_compressor(cc, &app) == MOAT_OK);
  /* a code point twice, a built-in one, a missing callback */
  CHECK(moat_context_add_cert_compressor(sc, &app) ==
        MOAT_ERR_INVALID_ARGUMENT);
  moat_cert_compressor zlib = app;
  zlib.alg = COMPRESS_ZLIB;
  CHECK(moat_context_add_cert_compressor(sc, &zlib) ==
        MOAT_ERR_INVALID_ARGUMENT);
  moat_cert_compressor none = app;
  none.decompress = NULL;
  none.alg = 0xfe78;
  CHECK(moat_context_add_cert_compressor(sc, &none) ==
        MOAT_ERR_INVALID_ARGUMENT);
  g_calls = 0;
  hs_result r = pair_run(cc, sc, NULL, NULL);
  CHECK(r.c == MOAT_OK && r.c_got == 0xfe77 && r.s_sent == 0xfe77);
  r = pair_run(cc, sc, NULL, NULL);
  CHECK(r.c == MOAT_OK && r.c_got == 0xfe77);
  CHECK_EQ_INT(g_calls, 1); /* kept for the second handshake */
  /* the receiver's decompressor refuses: bad_certificate, read by the
   * server */
  g_refuse = true;
  r = pair_run(cc, sc, NULL, NULL);
  CHECK(r.c == MOAT_ERR_BAD_CERTIFICATE);
  CHECK_EQ_INT(r.s_alert, ALERT_BAD_CERTIFICATE);
  g_refuse = false;
  /* the compressor declines (on a fresh snapshot): plain Certificate */
  moat_context_set_verify_flags(sc, 0);
  g_decline = true;
  r = pair_run(cc, sc, NULL, NULL);
  CHECK(r.c == MOAT_OK && r.c_got == 0 && r.s_sent == 0);
  g_decline = false;
  /* the setter drops the added algorithm */
  const char *all = moat_cert_compression_available();
  CHECK(moat_context_set_cert_compression(sc, all) == MOAT_OK);
  CHECK(moat_context_set_cert_compression(cc, all) == MOAT_OK);
  r = pair_run(cc, sc, NULL, NULL);
  CHECK(r.c == MOAT_OK && r.c_got == compress_builtin(0)->code);
}

static bool setup_pki(void) {
  if (pki_init() != 0 || pki_leaf("ec", "p256", "30", "serverAuth") ||
      pki_leaf("client", "p256", "30", "clientAuth") ||
      pki_run("cat ec.pem ca.pem > ecchain.pem && "
              "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
              "-out rca.key && openssl req -x509 -new -key rca.key -days 30 "
              "-subj '/CN=moat test RSA CA' -addext "
              "basicConstraints=critical,CA:TRUE -addext "
              "keyUsage=critical,keyCertSign,cRLSign -out rca.pem && "
              "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
              "-out rsa.key && openssl req -new -key rsa.key -subj "
              "/CN=localhost -out rsa.csr && printf "
              "'subjectAltName=DNS:localhost\\nbasicConstraints=CA:FALSE\\n"
              "keyUsage=digitalSignature\\nextendedKeyUsage=serverAuth\\n' > "
              "rsa.ext && openssl x509 -req -in rsa.csr -CA rca.pem -CAkey "
              "rca.key -CAcreateserial -days 30 -extfile rsa.ext -out "
              "rsa.pem && cat rsa.pem rca.pem > rsachain.pem") != 0) {
    return false;
  }
  char chain[256], key[256], rca[256], ca[256];
  pki_path(chain, sizeof(chain), "rsachain.pem");
  pki_path(key, sizeof(key), "rsa.key");
  pki_path(rca, sizeof(rca), "rca.pem");
  pki_path(ca, sizeof(ca), "ca.pem");
  g_rsa_srv = moat_context_new(MOAT_ROLE_SERVER);
  if (moat_context_load_cert_chain(g_rsa_srv, chain, key, NULL) != MOAT_OK) {
    return false;
  }
  pki_path(chain, sizeof(chain), "ecchain.pem");
  pki_path(key, sizeof(key), "ec.key");
  g_ec_srv = moat_context_new(MOAT_ROLE_SERVER);
  g_srv_auth = moat_context_new(MOAT_ROLE_SERVER);
  if (moat_context_load_cert_chain(g_ec_srv, chain, key, NULL) != MOAT_OK ||
      moat_context_load_cert_chain(g_srv_auth, chain, key, NULL) != MOAT_OK ||
      moat_context_load_verify_locations(g_srv_auth, ca, NULL, NULL, 0) !=
          MOAT_OK) {
    return false;
  }
  moat_context_set_verify_mode(g_srv_auth, MOAT_VERIFY_REQUIRED);
  g_cli = pki_client_ctx();
  g_cli_auth = pki_client_ctx();
  pki_path(chain, sizeof(chain), "client.pem");
  pki_path(key, sizeof(key), "client.key");
  return g_cli != NULL && g_cli_auth != NULL &&
         moat_context_load_verify_locations(g_cli, rca, NULL, NULL, 0) ==
             MOAT_OK &&
         moat_context_load_cert_chain(g_cli_auth, chain, key, NULL) == MOAT_OK;
}

int main(void) {
  for (size_t i = 0; compress_builtin(i) != NULL; i++) {
    g_known[g_num_known++] = compress_builtin(i)->code;
  }
  make_body();
  test_ext();
  for (size_t i = 0; i < 3; i++) {
    if (compress_get(k_all[i]) != NULL) {
      test_msg_alg(k_all[i]);
    } else {
      printf("test_cert_compression: algorithm %u not built in, skipped\n",
             k_all[i]);
    }
  }
  test_msg_fields();
  test_bomb();
  test_setting();
  bool pki = setup_pki();
  CHECK(pki);
  if (pki && compress_builtin(0) != NULL) {
    test_handshakes();
    test_cache();
    test_bad_peer();
    test_unsolicited();
    test_app_algorithm();
  }
  moat_context_free(g_rsa_srv);
  moat_context_free(g_ec_srv);
  moat_context_free(g_cli);
  moat_context_free(g_cli_auth);
  moat_context_free(g_srv_auth);
  pki_cleanup();
  return t_done("test_cert_compression");
}
