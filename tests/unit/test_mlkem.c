/* ML-KEM-768 (src/crypto/mlkem.c) against Wycheproof's three ML-KEM-768
 * files in tests/vectors/wycheproof/ (KeyGen from seeds, Encaps with the
 * encapsulation-key checks of FIPS 203 7.2, Decaps with implicit
 * rejection), run through every implementation this CPU has; then the
 * decapsulation-key checks of 7.3 and the rejection secret. */
#include <stdlib.h>
#include <string.h>

#include "crypto/mlkem.h"
#include "crypto/sha3.h"
#include "json.h"
#include "t.h"

#define VEC_DIR MOAT_SOURCE_DIR "/tests/vectors/wycheproof/"

typedef struct hexbuf {
  uint8_t *b;
  size_t n;
} hexbuf;

static hexbuf hex(const jval *tc, const char *name) {
  const char *s = j_str(tc, name);
  hexbuf h = {malloc(strlen(s) / 2 + 1), 0};
  if (h.b == NULL) {
    abort();
  }
  h.n = t_unhex(s, h.b, strlen(s) / 2);
  return h;
}

typedef struct tally {
  int valid, valid_bad, invalid, invalid_bad;
} tally;

static void judge(tally *t, const char *file, const jval *tc, bool ok) {
  bool want = strcmp(j_str(tc, "result"), "valid") == 0;
  if (want) {
    t->valid++;
  } else {
    t->invalid++;
  }
  if (ok != want) {
    if (want) {
      t->valid_bad++;
    } else {
      t->invalid_bad++;
    }
    fprintf(stderr, "%s tcId %ld (%s): %s\n", file, j_int(tc, "tcId"),
            j_str(tc, "comment"),
            want ? "valid vector failed" : "invalid vector accepted");
  }
}

static void report(const tally *t, const char *file, const mlkem_ops *ops) {
  printf("  %-8s %-34s valid %3d/%-3d invalid %3d/%-3d\n", ops->name, file,
         t->valid - t->valid_bad, t->valid, t->invalid - t->invalid_bad,
         t->invalid);
  CHECK(t->valid + t->invalid > 0);
  CHECK_EQ_INT(t->valid_bad, 0);
  CHECK_EQ_INT(t->invalid_bad, 0);
}

#define FOR_EACH_TEST(doc, tc)                                                 \
  const jval *groups_ = j_get(&(doc), "testGroups");                           \
  for (size_t gi_ = 0; groups_ != NULL && gi_ < groups_->n; gi_++)             \
    for (const jval *tests_ = j_get(&groups_->items[gi_], "tests");            \
         tests_ != NULL; tests_ = NULL)                                        \
      for (size_t ti_ = 0; ti_ < tests_->n; ti_++)                             \
        for (const jval *tc = &tests_->items[ti_]; tc != NULL; tc = NULL)

static mlkem768_key g_key; /* 9 KiB: not on the stack */

/* KeyGen from a seed of exactly d || z; the vectors' wrong-length seeds
 * are refused here, as kex refuses them. */
static bool keygen_seed(const mlkem_ops *ops, hexbuf seed,
                        uint8_t ek[MLKEM768_EK_LEN]) {
  return seed.n == MLKEM_SEED_LEN && mlkem768_keygen(ops, seed.b, &g_key, ek);
}

static void run_keygen(const mlkem_ops *ops) {
  const char *file = "mlkem_768_keygen_seed_test.json";
  jval doc;
  tally t = {0};
  if (!j_load_file(VEC_DIR "mlkem_768_keygen_seed_test.json", &doc)) {
    CHECK(false);
    return;
  }
  FOR_EACH_TEST(doc, tc) {
    hexbuf seed = hex(tc, "seed"), ek = hex(tc, "ek"), dk = hex(tc, "dk");
    uint8_t our_ek[MLKEM768_EK_LEN], our_dk[MLKEM768_DK_LEN];
    bool ok = keygen_seed(ops, seed, our_ek);
    if (ok) {
      mlkem768_key_dk(&g_key, our_dk);
    }
    ok = ok && ek.n == sizeof(our_ek) && memcmp(ek.b, our_ek, ek.n) == 0 &&
         dk.n == sizeof(our_dk) && memcmp(dk.b, our_dk, dk.n) == 0;
    /* The key read back from its dk bytes writes the same bytes and
     * holds the same matrix. */
    if (ok) {
      static mlkem768_key again;
      uint8_t dk2[MLKEM768_DK_LEN];
      CHECK(mlkem768_key_from_dk(ops, dk.b, dk.n, &again));
      mlkem768_key_dk(&again, dk2);
      CHECK_MEM(dk2, our_dk, sizeof(dk2));
      CHECK_MEM(again.at_hat, g_key.at_hat, sizeof(again.at_hat));
    }
    judge(&t, file, tc, ok);
    free(seed.b);
    free(ek.b);
    free(dk.b);
  }
  report(&t, file, ops);
  j_free(&doc);
}

static void run_encaps(const mlkem_ops *ops) {
  const char *file = "mlkem_768_encaps_test.json";
  jval doc;
  tally t = {0};
  if (!j_load_file(VEC_DIR "mlkem_768_encaps_test.json", &doc)) {
    CHECK(false);
    return;
  }
  FOR_EACH_TEST(doc, tc) {
    hexbuf ek = hex(tc, "ek"), m = hex(tc, "m"), c = hex(tc, "c"),
           k = hex(tc, "K");
    uint8_t ct[MLKEM768_CT_LEN], ss[MLKEM_SS_LEN];
    CHECK(m.n == MLKEM_MSG_LEN);
    bool ok = m.n == MLKEM_MSG_LEN &&
              mlkem768_encaps(ops, ek.b, ek.n, m.b, ct, ss) &&
              c.n == sizeof(ct) && memcmp(c.b, ct, c.n) == 0 &&
              k.n == sizeof(ss) && memcmp(k.b, ss, k.n) == 0;
    judge(&t, file, tc, ok);
    free(ek.b);
    free(m.b);
    free(c.b);
    free(k.b);
  }
  report(&t, file, ops);
  j_free(&doc);
}

static void run_decaps(const mlkem_ops *ops) {
  const char *file = "mlkem_768_test.json";
  jval doc;
  tally t = {0};
  int rejections = 0;
  if (!j_load_file(VEC_DIR "mlkem_768_test.json", &doc)) {
    CHECK(false);
    return;
  }
  FOR_EACH_TEST(doc, tc) {
    hexbuf seed = hex(tc, "seed"), ek = hex(tc, "ek"), c = hex(tc, "c"),
           k = hex(tc, "K");
    uint8_t our_ek[MLKEM768_EK_LEN], ss[MLKEM_SS_LEN];
    bool ok = keygen_seed(ops, seed, our_ek) &&
              (ek.n == 0 ||
               (ek.n == sizeof(our_ek) && memcmp(ek.b, our_ek, ek.n) == 0)) &&
              mlkem768_decaps(ops, &g_key, c.b, c.n, ss) && k.n == sizeof(ss) &&
              memcmp(k.b, ss, k.n) == 0;
    if (ok) {
      /* Did this vector take the rejection path?  Then its K is
       * J(z || c) (FIPS 203 Algorithm 18 line 7). */
      uint8_t j[32];
      CHECK(sha3_hash(SHAKE256, seed.b + 32, 32, c.b, c.n, j, 32));
      rejections += memcmp(j, ss, 32) == 0;
    }
    judge(&t, file, tc, ok);
    free(seed.b);
    free(ek.b);
    free(c.b);
    free(k.b);
  }
  report(&t, file, ops);
  printf("  %-8s %d of the valid decapsulations took implicit rejection\n",
         ops->name, rejections);
  CHECK(rejections > 0);
  j_free(&doc);
}

/* FIPS 203 7.3: a dk whose H(ek) does not match, or of the wrong
 * length, is refused; and a changed ciphertext decapsulates to
 * J(z || c'), never to the sender's secret. */
static void test_dk_checks(const mlkem_ops *ops) {
  uint8_t seed[MLKEM_SEED_LEN], ek[MLKEM768_EK_LEN], dk[MLKEM768_DK_LEN];
  uint8_t m[32], ct[MLKEM768_CT_LEN], ss1[32], ss2[32], j[32];
  static mlkem768_key key;
  for (size_t i = 0; i < sizeof(seed); i++) {
    seed[i] = (uint8_t)(7 * i + 1);
  }
  memset(m, 0x5a, sizeof(m));
  CHECK(mlkem768_keygen(ops, seed, &key, ek));
  mlkem768_key_dk(&key, dk);
  CHECK(mlkem768_key_from_dk(ops, dk, sizeof(dk), &key));
  CHECK(!mlkem768_key_from_dk(ops, dk, sizeof(dk) - 1, &key));
  dk[MLKEM768_DK_LEN - 64] ^= 1; /* H(ek) */
  CHECK(!mlkem768_key_from_dk(ops, dk, sizeof(dk), &key));
  dk[MLKEM768_DK_LEN - 64] ^= 1;
  dk[1152 + 5] ^= 0x10; /* the embedded ek, so H(ek) no longer fits */
  CHECK(!mlkem768_key_from_dk(ops, dk, sizeof(dk), &key));
  dk[1152 + 5] ^= 0x10;
  CHECK(mlkem768_key_from_dk(ops, dk, sizeof(dk), &key));

  CHECK(mlkem768_encaps(ops, ek, sizeof(ek), m, ct, ss1));
  CHECK(mlkem768_decaps(ops, &key, ct, sizeof(ct), ss2));
  CHECK_MEM(ss1, ss2, 32);
  CHECK(!mlkem768_decaps(ops, &key, ct, sizeof(ct) - 1, ss2));
  for (size_t pos = 0; pos < sizeof(ct); pos += 271) {
    ct[pos] ^= 0x01;
    CHECK(mlkem768_decaps(ops, &key, ct, sizeof(ct), ss2));
    CHECK(memcmp(ss1, ss2, 32) != 0);
    CHECK(sha3_hash(SHAKE256, seed + 32, 32, ct, sizeof(ct), j, 32));
    CHECK_MEM(ss2, j, 32);
    ct[pos] ^= 0x01;
  }
  /* 7.2: one coefficient of t set to q is refused; q - 1 is fine. */
  ek[0] = (uint8_t)(MLKEM_Q & 0xff);
  ek[1] = (uint8_t)((ek[1] & 0xf0) | (MLKEM_Q >> 8));
  CHECK(!mlkem768_encaps(ops, ek, sizeof(ek), m, ct, ss1));
  ek[0] = (uint8_t)((MLKEM_Q - 1) & 0xff);
  CHECK(mlkem768_encaps(ops, ek, sizeof(ek), m, ct, ss1));
  CHECK(!mlkem768_encaps(ops, ek, sizeof(ek) - 1, m, ct, ss1));
  mlkem768_key_wipe(&key);
}

/* The AVX2 kernels give the portable kernels' values exactly, on random
 * coefficients across each kernel's input range and on its extremes. */
static uint32_t g_rng = 12345;
static int16_t rnd_coef(int bound, int round) {
  g_rng = g_rng * 1103515245u + 12345u;
  if (round % 4 == 1) {
    return (int16_t)bound;
  }
  if (round % 4 == 2) {
    return (int16_t)-bound;
  }
  return (int16_t)((int)((g_rng >> 8) % (unsigned)(2 * bound + 1)) - bound);
}

static void test_kernels_agree(const mlkem_ops *v) {
  const mlkem_ops *p = mlkem_ops_portable();
  static int16_t a[3][256], b[3][256], x[256], y[256];
  int bad = 0;
  for (int round = 0; round < 200; round++) {
    for (int i = 0; i < 256; i++) {
      x[i] = y[i] = rnd_coef(2 * MLKEM_Q, round);
    }
    p->ntt(x);
    v->ntt(y);
    bad += memcmp(x, y, sizeof(x)) != 0;
    for (int i = 0; i < 256; i++) {
      x[i] = y[i] = rnd_coef(MLKEM_Q - 1, round);
    }
    p->invntt(x);
    v->invntt(y);
    bad += memcmp(x, y, sizeof(x)) != 0;
    for (int j = 0; j < 3; j++) {
      for (int i = 0; i < 256; i++) {
        a[j][i] = rnd_coef(MLKEM_Q - 1, round);
        b[j][i] = rnd_coef(4095, round);
      }
    }
    p->basemul_acc(x, &a[0][0], &b[0][0], 3);
    v->basemul_acc(y, &a[0][0], &b[0][0], 3);
    bad += memcmp(x, y, sizeof(x)) != 0;
    for (int i = 0; i < 256; i++) {
      CHECK(x[i] <= MLKEM_Q / 2 && x[i] >= -MLKEM_Q / 2);
    }
  }
  CHECK_EQ_INT(bad, 0);
}

int main(void) {
  const mlkem_ops *impls[] = {mlkem_ops_portable(), mlkem_ops_avx2()};
  printf("ML-KEM-768 (passed/total per expected result):\n");
  for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
    if (impls[i] == NULL) {
      printf("  (this CPU has no AVX2: the portable code only)\n");
      continue;
    }
    run_keygen(impls[i]);
    run_encaps(impls[i]);
    run_decaps(impls[i]);
    test_dk_checks(impls[i]);
  }
  if (mlkem_ops_avx2() != NULL) {
    test_kernels_agree(mlkem_ops_avx2());
    CHECK(mlkem_ops_best() == mlkem_ops_avx2());
  }
  CHECK(mlkem_ops_best() != NULL);
  return t_done("test_mlkem");
}
