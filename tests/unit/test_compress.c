/* The compression adapter (src/compress): round trips for every
 * algorithm built in, and decompression held to the announced length,
 * the cap and the decoder memory budget whatever the stream says. */
#include <stdlib.h>
#include <string.h>

#include "base/builder.h"
#include "compress/compress.h"
#include "moat.h"
#include "t.h"

#ifdef MOAT_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef MOAT_HAVE_BROTLI
#include <brotli/encode.h>
#endif
#ifdef MOAT_HAVE_ZSTD
#include <zstd.h>
#endif

/* ---- an allocator that knows how much moat holds at its peak ----------- */

typedef union hdr {
  size_t size;
  max_align_t align;
} hdr;
static size_t g_live, g_peak;

static void *t_malloc(size_t n, void *arg) {
  (void)arg;
  hdr *h = malloc(sizeof(*h) + n);
  if (h == NULL) {
    return NULL;
  }
  h->size = n;
  g_live += n;
  if (g_live > g_peak) {
    g_peak = g_live;
  }
  return h + 1;
}

static void t_free(void *p, void *arg) {
  (void)arg;
  if (p != NULL) {
    hdr *h = (hdr *)p - 1;
    g_live -= h->size;
    free(h);
  }
}

static void *t_realloc(void *p, size_t n, void *arg) {
  void *q = t_malloc(n, arg);
  if (q != NULL && p != NULL) {
    size_t old = ((hdr *)p - 1)->size;
    memcpy(q, p, old < n ? old : n);
    t_free(p, arg);
  }
  return q;
}

/* ---- inputs --------------------------------------------------------------*/

static uint8_t *read_file(const char *path, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  static uint8_t buf[200000];
  size_t n = fread(buf, 1, sizeof(buf), f);
  fclose(f);
  *out_len = n;
  return buf;
}

static void fill_random(uint8_t *p, size_t n, uint32_t seed) {
  uint32_t x = seed;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
}

/* Compresses in with alg into a fresh heap builder. */
static bool pack(const compress_alg *alg, const uint8_t *in, size_t n,
                 builder *b) {
  return bld_init_alloc(b, 64) && compress_data(alg, in, n, b) && bld_finish(b);
}

#define CANARY 0xa5

/* Expands into a buffer larger than expected, and checks nothing beyond
 * expected_len was written. */
static compress_status expand(const compress_alg *alg, const uint8_t *in,
                              size_t in_len, size_t expected, uint8_t *out,
                              size_t cap) {
  memset(out, CANARY, cap);
  compress_status s = compress_expand(alg, in, in_len, expected, out, cap);
  size_t past = expected < cap ? expected : cap;
  bool clean = true;
  for (size_t i = past; i < cap; i++) {
    clean = clean && out[i] == CANARY;
  }
  CHECK(clean);
  return s;
}

static uint8_t g_out[COMPRESS_MAX_OUTPUT + 64];

static void test_table(void) {
  static const struct {
    uint16_t code;
    const char *name;
    bool built;
  } want[] = {
#ifdef MOAT_HAVE_ZLIB
      {COMPRESS_ZLIB, "zlib", true},
#else
      {COMPRESS_ZLIB, "zlib", false},
#endif
#ifdef MOAT_HAVE_BROTLI
      {COMPRESS_BROTLI, "brotli", true},
#else
      {COMPRESS_BROTLI, "brotli", false},
#endif
#ifdef MOAT_HAVE_ZSTD
      {COMPRESS_ZSTD, "zstd", true},
#else
      {COMPRESS_ZSTD, "zstd", false},
#endif
  };
  size_t i = 0;
  for (size_t w = 0; w < 3; w++) {
    const compress_alg *a = compress_get(want[w].code);
    if (!want[w].built) {
      CHECK(a == NULL);
      printf("test_compress: %s not built in, its cases skipped\n",
             want[w].name);
      continue;
    }
    CHECK(a != NULL && a->code == want[w].code &&
          strcmp(a->name, want[w].name) == 0);
    /* the preference order: zlib, brotli, zstd */
    CHECK(compress_builtin(i) == a);
    i++;
  }
  CHECK(compress_builtin(i) == NULL);
  CHECK(compress_get(0) == NULL);
  CHECK(compress_get(4) == NULL);
  CHECK(compress_get(0xff01) == NULL);
  CHECK(!compress_data(NULL, (const uint8_t *)"x", 1, NULL));
}

static void test_round_trip(const compress_alg *a, const uint8_t *in, size_t n,
                            bool compressible) {
  builder b;
  CHECK(pack(a, in, n, &b));
  if (compressible) {
    CHECK(bld_len(&b) < n / 2);
  }
  CHECK_EQ_INT(expand(a, bld_data(&b), bld_len(&b), n, g_out, n + 64),
               COMPRESS_OK);
  CHECK_MEM(g_out, in, n);
  bld_cleanup(&b);
}

/* A stream of tls.h (about 40 KB of C) and the ways it can be wrong. */
static void test_lengths(const compress_alg *a, const uint8_t *in, size_t n) {
  builder b;
  CHECK(pack(a, in, n, &b));
  const uint8_t *z = bld_data(&b);
  size_t zn = bld_len(&b);
  /* announced one byte short or long */
  CHECK_EQ_INT(expand(a, z, zn, n - 1, g_out, n + 64), COMPRESS_TOO_LONG);
  CHECK_EQ_INT(expand(a, z, zn, n + 1, g_out, n + 64), COMPRESS_TOO_SHORT);
  CHECK_EQ_INT(expand(a, z, zn, 1, g_out, n + 64), COMPRESS_TOO_LONG);
  /* over the caller's buffer, or over the hard cap whatever the buffer */
  CHECK_EQ_INT(expand(a, z, zn, n, g_out, n - 1), COMPRESS_TOO_BIG);
  CHECK_EQ_INT(
      compress_expand(a, z, zn, COMPRESS_MAX_OUTPUT + 1, g_out, SIZE_MAX),
      COMPRESS_TOO_BIG);
  CHECK_EQ_INT(compress_expand(a, z, zn, (1u << 24) - 1, g_out, SIZE_MAX),
               COMPRESS_TOO_BIG);
  /* cuts of the stream (the last 64 and some before) all fail, the one
   * just short of the end as truncated */
  bool all_fail = true;
  for (size_t cut = 0; cut < zn; cut += cut + 64 < zn ? 1 + zn / 300 : 1) {
    compress_status s = expand(a, z, cut, n, g_out, n + 64);
    all_fail = all_fail && s != COMPRESS_OK;
  }
  CHECK(all_fail);
  CHECK_EQ_INT(expand(a, z, zn - 1, n, g_out, n + 64), COMPRESS_TRUNCATED);
  CHECK_EQ_INT(expand(a, z, 0, n, g_out, n + 64), COMPRESS_TRUNCATED);
  /* one byte after the stream */
  uint8_t *plus = malloc(zn + 1);
  memcpy(plus, z, zn);
  plus[zn] = 0;
  CHECK_EQ_INT(expand(a, plus, zn + 1, n, g_out, n + 64), COMPRESS_TRAILING);
  /* the same stream twice (zstd could read two frames) */
  uint8_t *twice = malloc(2 * zn);
  memcpy(twice, z, zn);
  memcpy(twice + zn, z, zn);
  CHECK_EQ_INT(expand(a, twice, 2 * zn, n, g_out, 2 * n + 64),
               COMPRESS_TRAILING);
  CHECK(expand(a, twice, 2 * zn, 2 * n, g_out, 2 * n + 64) != COMPRESS_OK);
  /* flipped bytes: zlib's checksum refuses them all; brotli and zstd
   * (no checksum in RFC 8879's use) may yield other bytes of the same
   * length, which certificate validation then judges.  Either way the
   * decoder stays inside the buffer (expand checks the canary). */
  size_t refused = 0, tried = 0;
  for (size_t i = 0; i < zn; i += 1 + zn / 97) {
    plus[i] ^= 0x41;
    refused += expand(a, plus, zn, n, g_out, n + 64) != COMPRESS_OK;
    tried++;
    plus[i] ^= 0x41;
  }
  if (a->code == COMPRESS_ZLIB) {
    CHECK_EQ_INT(refused, tried);
  }
  /* a failed expansion leaves nothing of the input in the buffer */
  CHECK_EQ_INT(expand(a, z, zn, n + 1, g_out, n + 64), COMPRESS_TOO_SHORT);
  CHECK(g_out[0] == 0 && g_out[n / 2] == 0);
  free(plus);
  free(twice);
  bld_cleanup(&b);
}

static void test_garbage(const compress_alg *a) {
  uint8_t junk[256];
  for (uint32_t seed = 1; seed < 64; seed++) {
    fill_random(junk, sizeof(junk), seed);
    compress_status s = expand(a, junk, sizeof(junk), 1000, g_out, 2000);
    CHECK(s != COMPRESS_OK);
  }
}

/* 8 MiB of zeros compress to a few KiB: announced as the cap, or as
 * RFC 8879's 2^24-1, the expansion stops at the cap and the decoder never
 * holds more than its budget. */
static void check_bomb(const compress_alg *a, const uint8_t *z, size_t zn,
                       const char *what) {
  size_t before = g_live;
  g_peak = g_live;
  compress_status s =
      expand(a, z, zn, COMPRESS_MAX_OUTPUT, g_out, sizeof(g_out));
  if (s != COMPRESS_TOO_LONG && s != COMPRESS_OVER_BUDGET) {
    fprintf(stderr, "%s bomb (%s): %s\n", a->name, what,
            compress_status_text(s));
  }
  CHECK(s == COMPRESS_TOO_LONG || s == COMPRESS_OVER_BUDGET);
  CHECK(g_peak - before <= COMPRESS_WORK_MAX);
  CHECK_EQ_INT(g_live, before);
  CHECK_EQ_INT(compress_expand(a, z, zn, (1u << 24) - 1, g_out, SIZE_MAX),
               COMPRESS_TOO_BIG);
}

#define BOMB (8u << 20)

static void test_bombs(const compress_alg *a) {
  uint8_t *zeros = calloc(1, BOMB);
  size_t cap = BOMB / 64;
  uint8_t *z = malloc(cap);
  size_t zn = 0;
  switch (a->code) {
#ifdef MOAT_HAVE_ZLIB
  case COMPRESS_ZLIB: {
    uLongf n = cap;
    CHECK(compress2(z, &n, zeros, BOMB, 9) == Z_OK);
    zn = n;
    check_bomb(a, z, zn, "deflate");
    break;
  }
#endif
#ifdef MOAT_HAVE_BROTLI
  case COMPRESS_BROTLI: {
    size_t n = cap;
    CHECK(
        BrotliEncoderCompress(5, 24, BROTLI_MODE_GENERIC, BOMB, zeros, &n, z));
    zn = n;
    check_bomb(a, z, zn, "24-bit window");
    /* A hand-made header: a 16 MiB window (WBITS 24, RFC 7932 9.1) and a
     * first, uncompressed metablock announcing 2^24 bytes, which a
     * decoder on trust would allocate a 16 MiB ring buffer for. */
    static uint8_t raw[4 + 300000] = {0xcf, 0xff, 0xff, 0xff};
    check_bomb(a, raw, sizeof(raw), "16 MiB metablock");
    break;
  }
#endif
#ifdef MOAT_HAVE_ZSTD
  case COMPRESS_ZSTD: {
    /* one frame with the content size in its header, one without (a
     * streamed frame, whose window is the level's, 8 MiB at level 19) */
    zn = ZSTD_compress(z, cap, zeros, BOMB, 3);
    CHECK(!ZSTD_isError(zn));
    check_bomb(a, z, zn, "content size");
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_outBuffer o = {z, cap, 0};
    ZSTD_inBuffer in = {zeros, BOMB, 0};
    CHECK(!ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0)));
    CHECK(!ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 23)));
    size_t left = ZSTD_compressStream2(c, &o, &in, ZSTD_e_end);
    CHECK(left == 0);
    ZSTD_freeCCtx(c);
    CHECK(ZSTD_getFrameContentSize(z, o.pos) == ZSTD_CONTENTSIZE_UNKNOWN);
    check_bomb(a, z, o.pos, "no content size");
    break;
  }
#endif
  default:
    CHECK(false);
    break;
  }
  free(zeros);
  free(z);
}

int main(void) {
  moat_allocator counting = {t_malloc, t_realloc, t_free, NULL};
  CHECK(moat_set_allocator(&counting) == MOAT_OK);
  size_t text_len = 0;
  const uint8_t *text = read_file(MOAT_SOURCE_DIR "/src/tls/tls.h", &text_len);
  CHECK(text != NULL && text_len > 20000);
  if (text == NULL) {
    return t_done("test_compress");
  }
  static uint8_t noise[65536];
  fill_random(noise, sizeof(noise), 7);
  test_table();
  for (size_t i = 0; compress_builtin(i) != NULL; i++) {
    const compress_alg *a = compress_builtin(i);
    test_round_trip(a, text, text_len, true);
    test_round_trip(a, noise, sizeof(noise), false);
    test_round_trip(a, (const uint8_t *)"x", 1, false);
    test_round_trip(a, text, 0, false);
    test_lengths(a, text, text_len);
    test_garbage(a);
    test_bombs(a);
  }
  return t_done("test_compress");
}
