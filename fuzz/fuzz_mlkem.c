/* The two ML-KEM-768 implementations (portable, AVX2) against each other
 * on inputs the fuzzer picks: the kernels on coefficients anywhere in
 * their documented ranges (extremes included), and KeyGen, Encaps (to an
 * encapsulation key that may fail the modulus check) and Decaps (of any
 * ciphertext) end to end.  Any difference aborts.  On a CPU without AVX2
 * only the portable code runs. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mlkem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next n bytes of the input, cycling; zeros when it is empty. */
typedef struct src {
  const uint8_t *d;
  size_t n, at;
} src;

static uint8_t next(src *s) {
  if (s->n == 0) {
    return 0;
  }
  uint8_t b = s->d[s->at % s->n];
  s->at++;
  return b;
}

static void fill(src *s, uint8_t *out, size_t len) {
  for (size_t i = 0; i < len; i++) {
    out[i] = next(s);
  }
}

/* A coefficient in [-bound, bound]. */
static int16_t coef(src *s, int bound) {
  unsigned v = (unsigned)next(s) | ((unsigned)next(s) << 8);
  return (int16_t)((int)(v % (unsigned)(2 * bound + 1)) - bound);
}

static void same(const void *a, const void *b, size_t n) {
  if (memcmp(a, b, n) != 0) {
    abort();
  }
}

static mlkem768_key k1, k2;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const mlkem_ops *p = mlkem_ops_portable(), *v = mlkem_ops_avx2();
  src s = {data, size, 0};
  int16_t a[MLKEM768_K][MLKEM_N], b[MLKEM768_K][MLKEM_N];
  int16_t x[MLKEM_N], y[MLKEM_N];
  /* ntt on |x| <= 2q, invntt on |x| < q, basemul on a < q, b < 4096. */
  for (size_t i = 0; i < MLKEM_N; i++) {
    x[i] = y[i] = coef(&s, 2 * MLKEM_Q);
  }
  p->ntt(x);
  if (v != NULL) {
    v->ntt(y);
    same(x, y, sizeof(x));
  }
  for (size_t i = 0; i < MLKEM_N; i++) {
    x[i] = y[i] = coef(&s, MLKEM_Q - 1);
  }
  p->invntt(x);
  if (v != NULL) {
    v->invntt(y);
    same(x, y, sizeof(x));
  }
  for (size_t j = 0; j < MLKEM768_K; j++) {
    for (size_t i = 0; i < MLKEM_N; i++) {
      a[j][i] = coef(&s, MLKEM_Q - 1);
      b[j][i] = coef(&s, 4095);
    }
  }
  p->basemul_acc(x, &a[0][0], &b[0][0], MLKEM768_K);
  if (v != NULL) {
    v->basemul_acc(y, &a[0][0], &b[0][0], MLKEM768_K);
    same(x, y, sizeof(x));
  }

  uint8_t seed[MLKEM_SEED_LEN], m[MLKEM_MSG_LEN];
  static uint8_t ek1[MLKEM768_EK_LEN], ek2[MLKEM768_EK_LEN],
      ek[MLKEM768_EK_LEN], ct[MLKEM768_CT_LEN], c1[MLKEM768_CT_LEN],
      c2[MLKEM768_CT_LEN];
  uint8_t ss1[32], ss2[32];
  fill(&s, seed, sizeof(seed));
  fill(&s, m, sizeof(m));
  fill(&s, ek, sizeof(ek));
  fill(&s, ct, sizeof(ct));
  if (!mlkem768_keygen(p, seed, &k1, ek1)) {
    abort();
  }
  bool ok1 = mlkem768_encaps(p, ek, sizeof(ek), m, c1, ss1);
  bool ok1b = mlkem768_decaps(p, &k1, ct, sizeof(ct), ss2);
  if (!ok1b) {
    abort(); /* any ciphertext of the right length decapsulates */
  }
  if (v != NULL) {
    uint8_t v1[32], v2[32];
    if (!mlkem768_keygen(v, seed, &k2, ek2)) {
      abort();
    }
    same(ek1, ek2, sizeof(ek1));
    bool ok2 = mlkem768_encaps(v, ek, sizeof(ek), m, c2, v1);
    if (ok1 != ok2 || !mlkem768_decaps(v, &k2, ct, sizeof(ct), v2)) {
      abort();
    }
    if (ok1) {
      same(c1, c2, sizeof(c1));
      same(ss1, v1, sizeof(ss1));
    }
    same(ss2, v2, sizeof(ss2));
  }
  /* Round trip through our own key. */
  if (!mlkem768_encaps(p, ek1, sizeof(ek1), m, c1, ss1) ||
      !mlkem768_decaps(p, &k1, c1, sizeof(c1), ss2)) {
    abort();
  }
  same(ss1, ss2, sizeof(ss1));
  return 0;
}
