/* Certificate compression (RFC 8879): the compress_certificate extension
 * codec and the CompressedCertificate message codec, with valid input
 * for every algorithm built in and the ways a peer can get it wrong
 * (truncated, wrong algorithm, length mismatch, bomb, empty).  Each
 * refusal must carry its error, the alert it maps to, and a detail. */
#include <stdlib.h>

#include "base/mem.h"
#include "compress/compress.h"
#include "hexvec.h"
#include "moat.h"
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

static void test_ext(void) {
  uint16_t out[CERT_COMP_MAX];
  size_t num = 99;
  /* the peer's order, unknown ones skipped */
  vec ok = V("08 0003 1234 0002 0001");
  OK_(ext_cert_comp_parse(CV(&ok), out, CERT_COMP_MAX, &num, &W));
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
  OK_(ext_cert_comp_parse(CV(&unknown), out, CERT_COMP_MAX, &num, &W));
  CHECK_EQ_INT(num, 0);
  /* the caller's capacity holds */
  vec three = V("06 0001 0002 0003");
  OK_(ext_cert_comp_parse(CV(&three), out, 1, &num, &W));
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
  OK_(ext_cert_comp_parse(CV(&longest), out, CERT_COMP_MAX, &num, &W));
  CHECK_EQ_INT(num, compress_get(COMPRESS_ZLIB) != NULL ? 1 : 0);
  /* malformed: empty, odd, short, trailing, no list at all */
  static const char *const bad[] = {"00",      "01 00",      "03 0001 00",
                                    "04 0001", "02 0001 00", ""};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    vec v = V(bad[i]);
    DECODE(ext_cert_comp_parse(CV(&v), out, CERT_COMP_MAX, &num, &W));
  }
  /* an algorithm twice, known or not, apart or adjacent (BoGo's
   * DuplicateCertCompressionExt sends zlib twice) */
  static const char *const dup[] = {"04 0001 0001", "06 0002 ff01 0002",
                                    "04 ff01 ff01"};
  for (size_t i = 0; i < 3; i++) {
    vec v = V(dup[i]);
    DECODE(ext_cert_comp_parse(CV(&v), out, CERT_COMP_MAX, &num, &W));
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

int main(void) {
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
  return t_done("test_cert_compression");
}
