/* ML-KEM's polynomial arithmetic with AVX2, chosen at run time when the
 * CPU has it (mlkem_ops_best).  The same arithmetic as mlkem_poly.c, lane
 * by lane: the Montgomery product as high and low 16-bit halves, the
 * Barrett reduction with the same rounding, so every value, and not only
 * every result mod q, matches the portable code.  Coefficients stay in
 * natural order: the last three NTT layers (and the first three of the
 * inverse), whose butterflies are 8, 4 and 2 apart, regroup two vectors
 * so that each butterfly's halves sit in different vectors.  Built
 * without -mavx2: each function carries the target itself. */
#include "crypto/mlkem.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

typedef __m256i v16;

AVX2 static inline v16 fqmul_v(v16 a, v16 b) {
  const v16 q = _mm256_set1_epi16(MLKEM_Q);
  const v16 qinv = _mm256_set1_epi16((int16_t)62209);
  v16 lo = _mm256_mullo_epi16(a, b);
  v16 hi = _mm256_mulhi_epi16(a, b);
  v16 t = _mm256_mulhi_epi16(_mm256_mullo_epi16(lo, qinv), q);
  return _mm256_sub_epi16(hi, t);
}

/* (20159 a + 2^25) >> 26 as floor((floor(20159 a / 2^16) + 512) / 2^10). */
AVX2 static inline v16 barrett_v(v16 a) {
  v16 t = _mm256_mulhi_epi16(a, _mm256_set1_epi16(20159));
  t = _mm256_srai_epi16(_mm256_add_epi16(t, _mm256_set1_epi16(512)), 10);
  return _mm256_sub_epi16(a, _mm256_mullo_epi16(t, _mm256_set1_epi16(MLKEM_Q)));
}

/* Cooley-Tukey: (lo, hi) = (lo + z hi, lo - z hi). */
AVX2 static inline void ct_bfly(v16 *lo, v16 *hi, v16 z) {
  v16 t = fqmul_v(z, *hi);
  *hi = _mm256_sub_epi16(*lo, t);
  *lo = _mm256_add_epi16(*lo, t);
}

/* Gentleman-Sande: (lo, hi) = (barrett(lo + hi), z (hi - lo)). */
AVX2 static inline void gs_bfly(v16 *lo, v16 *hi, v16 z) {
  v16 t = *lo;
  *lo = barrett_v(_mm256_add_epi16(t, *hi));
  *hi = fqmul_v(z, _mm256_sub_epi16(*hi, t));
}

AVX2 static inline v16 load(const int16_t *p) {
  return _mm256_loadu_si256((const __m256i *)p);
}
AVX2 static inline void store(int16_t *p, v16 v) {
  _mm256_storeu_si256((__m256i *)p, v);
}

/* Zeta vectors for the regrouped layers, block zetas z(b) taken as
 * zetas[base + dir * b] (dir = +1 forward, -1 inverse); i counts 32
 * coefficients.  len 8: lanes [A.lo | B.lo]; len 4: [A 0-3, B 0-3 |
 * A 8-11, B 8-11]; len 2: four pairs per 128-bit half, A then B. */
static inline int16_t zb(int base, int dir, int b) {
  return mlkem_zetas[base + dir * b];
}

AVX2 static inline v16 zeta8(int base, int dir, int i) {
  return _mm256_setr_m128i(_mm_set1_epi16(zb(base, dir, 2 * i)),
                           _mm_set1_epi16(zb(base, dir, 2 * i + 1)));
}

AVX2 static inline v16 zeta4(int base, int dir, int i) {
  int16_t a0 = zb(base, dir, 4 * i), a1 = zb(base, dir, 4 * i + 1);
  int16_t b0 = zb(base, dir, 4 * i + 2), b1 = zb(base, dir, 4 * i + 3);
  return _mm256_setr_epi16(a0, a0, a0, a0, b0, b0, b0, b0, a1, a1, a1, a1, b1,
                           b1, b1, b1);
}

AVX2 static inline v16 zeta2(int base, int dir, int i) {
  int16_t z[8];
  for (int b = 0; b < 8; b++) {
    z[b] = zb(base, dir, 8 * i + b);
  }
  /* lo words: A.w0 (block 0), A.w2 (1), B.w0 (4), B.w2 (5) | A.w4 (2),
   * A.w6 (3), B.w4 (6), B.w6 (7). */
  return _mm256_setr_epi16(z[0], z[0], z[1], z[1], z[4], z[4], z[5], z[5], z[2],
                           z[2], z[3], z[3], z[6], z[6], z[7], z[7]);
}

typedef void (*bfly_fn)(v16 *lo, v16 *hi, v16 z);

/* The three short layers on A = p[0..16), B = p[16..32). */
AVX2 static inline void layer8(int16_t *p, v16 z, bfly_fn f) {
  v16 a = load(p), b = load(p + 16);
  v16 lo = _mm256_permute2x128_si256(a, b, 0x20);
  v16 hi = _mm256_permute2x128_si256(a, b, 0x31);
  f(&lo, &hi, z);
  store(p, _mm256_permute2x128_si256(lo, hi, 0x20));
  store(p + 16, _mm256_permute2x128_si256(lo, hi, 0x31));
}

AVX2 static inline void layer4(int16_t *p, v16 z, bfly_fn f) {
  v16 a = load(p), b = load(p + 16);
  v16 lo = _mm256_unpacklo_epi64(a, b), hi = _mm256_unpackhi_epi64(a, b);
  f(&lo, &hi, z);
  store(p, _mm256_unpacklo_epi64(lo, hi));
  store(p + 16, _mm256_unpackhi_epi64(lo, hi));
}

AVX2 static inline void layer2(int16_t *p, v16 z, bfly_fn f) {
  v16 a = _mm256_shuffle_epi32(load(p), 0xd8);
  v16 b = _mm256_shuffle_epi32(load(p + 16), 0xd8);
  v16 lo = _mm256_unpacklo_epi64(a, b), hi = _mm256_unpackhi_epi64(a, b);
  f(&lo, &hi, z);
  store(p, _mm256_shuffle_epi32(_mm256_unpacklo_epi64(lo, hi), 0xd8));
  store(p + 16, _mm256_shuffle_epi32(_mm256_unpackhi_epi64(lo, hi), 0xd8));
}

AVX2 static void ntt_avx2(int16_t p[MLKEM_N]) {
  int k = 1;
  for (int len = 128; len >= 16; len >>= 1) {
    for (int start = 0; start < MLKEM_N; start += 2 * len) {
      v16 z = _mm256_set1_epi16(mlkem_zetas[k++]);
      for (int j = start; j < start + len; j += 16) {
        v16 lo = load(p + j), hi = load(p + j + len);
        ct_bfly(&lo, &hi, z);
        store(p + j, lo);
        store(p + j + len, hi);
      }
    }
  }
  /* k is 16 here: len 8 uses zetas 16..31, len 4 32..63, len 2 64..127. */
  for (int i = 0; i < 8; i++) {
    layer8(p + 32 * i, zeta8(16, 1, i), ct_bfly);
  }
  for (int i = 0; i < 8; i++) {
    layer4(p + 32 * i, zeta4(32, 1, i), ct_bfly);
  }
  for (int i = 0; i < 8; i++) {
    layer2(p + 32 * i, zeta2(64, 1, i), ct_bfly);
  }
  for (int j = 0; j < MLKEM_N; j += 16) {
    store(p + j, barrett_v(load(p + j)));
  }
}

AVX2 static void invntt_avx2(int16_t p[MLKEM_N]) {
  /* Block b of the len-2 layer takes zetas[127 - b], of len 4
   * zetas[63 - b], of len 8 zetas[31 - b]. */
  for (int i = 0; i < 8; i++) {
    layer2(p + 32 * i, zeta2(127, -1, i), gs_bfly);
  }
  for (int i = 0; i < 8; i++) {
    layer4(p + 32 * i, zeta4(63, -1, i), gs_bfly);
  }
  for (int i = 0; i < 8; i++) {
    layer8(p + 32 * i, zeta8(31, -1, i), gs_bfly);
  }
  int k = 15;
  for (int len = 16; len <= 128; len <<= 1) {
    for (int start = 0; start < MLKEM_N; start += 2 * len) {
      v16 z = _mm256_set1_epi16(mlkem_zetas[k--]);
      for (int j = start; j < start + len; j += 16) {
        v16 lo = load(p + j), hi = load(p + j + len);
        gs_bfly(&lo, &hi, z);
        store(p + j, lo);
        store(p + j + len, hi);
      }
    }
  }
  const v16 f = _mm256_set1_epi16(1441);
  for (int j = 0; j < MLKEM_N; j += 16) {
    store(p + j, fqmul_v(load(p + j), f));
  }
}

/* Swaps the two coefficients of every pair. */
AVX2 static inline v16 swap_pairs(v16 x) {
  return _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(x, 0xb1), 0xb1);
}

/* Pair i of a vector starting at coefficient 16 v is pair 8 v + i of the
 * polynomial; its gamma (mlkem_poly.c) goes in the odd lane. */
AVX2 static void basemul_acc_avx2(int16_t r[MLKEM_N], const int16_t *a,
                                  const int16_t *b, size_t k) {
  for (int v = 0; v < MLKEM_N / 16; v++) {
    int16_t g[16] = {0};
    for (int i = 0; i < 8; i++) {
      int pair = 8 * v + i;
      int16_t gamma = mlkem_zetas[64 + pair / 2];
      g[2 * i + 1] = (int16_t)(pair & 1 ? -gamma : gamma);
    }
    v16 gv = load(g);
    v16 s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    for (size_t j = 0; j < k; j++) {
      v16 x = load(a + j * MLKEM_N + 16 * v);
      v16 y = load(b + j * MLKEM_N + 16 * v);
      v16 prod = fqmul_v(x, y);              /* a0 b0, a1 b1 */
      v16 cross = fqmul_v(x, swap_pairs(y)); /* a0 b1, a1 b0 */
      v16 tw = fqmul_v(prod, gv);            /* odd: a1 b1 gamma */
      s0 = _mm256_add_epi16(s0, _mm256_add_epi16(prod, swap_pairs(tw)));
      s1 = _mm256_add_epi16(s1, _mm256_add_epi16(cross, swap_pairs(cross)));
    }
    store(r + 16 * v, barrett_v(_mm256_blend_epi16(s0, s1, 0xaa)));
  }
}

static const mlkem_ops k_avx2 = {"avx2", ntt_avx2, invntt_avx2,
                                 basemul_acc_avx2};

const mlkem_ops *mlkem_ops_avx2(void) {
  return __builtin_cpu_supports("avx2") ? &k_avx2 : NULL;
}

#else

const mlkem_ops *mlkem_ops_avx2(void) {
  return NULL;
}

#endif
