/* ML-KEM-768 (FIPS 203): K-PKE and the KEM on top of it, the encodings,
 * the samplers and the input checks.  The arithmetic kernels come from an
 * mlkem_ops table (mlkem_poly.c, mlkem_avx2.c).
 *
 * Constant time: the secret values (s, m, r, the noise, the shared
 * secret and the re-encryption comparison) only meet arithmetic and
 * masks.  What may branch is public: the matrix sampling reads rho,
 * which is in the encapsulation key; the key checks read the key the
 * peer sent. */
#include "crypto/mlkem.h"

#include <string.h>

#include "base/mem.h"
#include "crypto/sha3.h"

/* Values that are public although computed from secrets (rho, ek, the
 * ciphertext) are declassified for valgrind's constant-time check
 * (tests/unit/test_mlkem_ct.c marks the secrets undefined; memcheck then
 * reports any branch or index on them).  Outside valgrind the client
 * request is a few instructions that do nothing. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef DECLASSIFY
#define DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#define K MLKEM768_K
#define N MLKEM_N
#define Q MLKEM_Q
#define POLY12_LEN 384 /* ByteEncode12 of one polynomial */
#define DU 10
#define DV 4
#define CT_U_LEN (K * N * DU / 8)

typedef int16_t poly[N];

/* Keeps the compiler from turning mask arithmetic on x back into a
 * branch. */
static inline uint32_t value_barrier(uint32_t x) {
  __asm__("" : "+r"(x));
  return x;
}

/* x mod q in [0, q) for |x| < 2^15 (Barrett, then one masked add). */
static inline uint16_t canon(int16_t x) {
  int16_t r = mlkem_barrett(x);
  r = (int16_t)(r + ((r >> 15) & Q));
  return (uint16_t)r;
}

/* floor(a / q) for a < 2^23 (checked for all of them) by multiplication:
 * 330282857 = ceil(2^40 / q) is close enough that the error never reaches a
 * step.  A division by a constant is a multiplication only when the compiler
 * optimises; this is one always. */
static inline uint32_t div_q(uint32_t a) {
  return (uint32_t)(((uint64_t)a * 330282857u) >> 40);
}

/* FIPS 203 4.2.1, Compress_d on x in [0, q): round(2^d x / q) mod 2^d. */
static inline uint32_t compress(uint16_t x, unsigned d) {
  return div_q(((uint32_t)x << d) + Q / 2) & ((1u << d) - 1);
}

/* Decompress_d: round(q y / 2^d). */
static inline int16_t decompress(uint32_t y, unsigned d) {
  return (int16_t)((y * Q + (1u << (d - 1))) >> d);
}

/* ---- encodings (FIPS 203 4.2.1, Algorithms 5 and 6) ------------------- */

static void encode12(const int16_t p[N], uint8_t out[POLY12_LEN]) {
  for (size_t i = 0; i < N / 2; i++) {
    uint16_t a = canon(p[2 * i]), b = canon(p[2 * i + 1]);
    out[3 * i] = (uint8_t)a;
    out[3 * i + 1] = (uint8_t)((a >> 8) | (b << 4));
    out[3 * i + 2] = (uint8_t)(b >> 4);
  }
}

/* Decodes 12-bit values as they are (up to 4095); the caller checks the
 * modulus where FIPS 203 asks for it. */
static void decode12(const uint8_t in[POLY12_LEN], int16_t p[N]) {
  for (size_t i = 0; i < N / 2; i++) {
    const uint8_t *b = in + 3 * i;
    p[2 * i] = (int16_t)(b[0] | ((b[1] & 0x0f) << 8));
    p[2 * i + 1] = (int16_t)((b[1] >> 4) | (b[2] << 4));
  }
}

/* FIPS 203 7.2 modulus check: every coefficient of ek's t below q (the
 * same as ByteEncode12(ByteDecode12(t)) == t).  ek is public. */
static bool ek_reduced(const uint8_t ek[MLKEM768_EK_LEN]) {
  for (size_t i = 0; i < K * N / 2; i++) {
    const uint8_t *b = ek + 3 * i;
    if ((b[0] | ((b[1] & 0x0f) << 8)) >= Q ||
        ((b[1] >> 4) | (b[2] << 4)) >= Q) {
      return false;
    }
  }
  return true;
}

/* d bits per coefficient, little-endian bit order (d = 10 or 4). */
static void encode_bits(const uint32_t *v, unsigned d, uint8_t *out) {
  uint32_t acc = 0;
  unsigned have = 0;
  size_t o = 0;
  for (size_t i = 0; i < N; i++) {
    acc |= v[i] << have;
    have += d;
    while (have >= 8) {
      out[o++] = (uint8_t)acc;
      acc >>= 8;
      have -= 8;
    }
  }
}

static void decode_bits(const uint8_t *in, unsigned d, uint32_t *v) {
  uint32_t acc = 0;
  unsigned have = 0;
  size_t o = 0;
  for (size_t i = 0; i < N; i++) {
    while (have < d) {
      acc |= (uint32_t)in[o++] << have;
      have += 8;
    }
    v[i] = acc & ((1u << d) - 1);
    acc >>= d;
    have -= d;
  }
}

static void compress_poly(const int16_t p[N], unsigned d, uint8_t *out) {
  uint32_t v[N];
  for (size_t i = 0; i < N; i++) {
    v[i] = compress(canon(p[i]), d);
  }
  encode_bits(v, d, out);
}

static void decompress_poly(const uint8_t *in, unsigned d, int16_t p[N]) {
  uint32_t v[N];
  decode_bits(in, d, v);
  for (size_t i = 0; i < N; i++) {
    p[i] = decompress(v[i], d);
  }
}

/* The message as a polynomial: Decompress_1(ByteDecode_1(m)). */
static void msg_to_poly(const uint8_t m[MLKEM_MSG_LEN], int16_t p[N]) {
  for (size_t i = 0; i < N; i++) {
    uint32_t bit = (m[i / 8] >> (i % 8)) & 1;
    p[i] = (int16_t)((0u - bit) & ((Q + 1) / 2));
  }
}

static void poly_to_msg(const int16_t p[N], uint8_t m[MLKEM_MSG_LEN]) {
  memset(m, 0, MLKEM_MSG_LEN);
  for (size_t i = 0; i < N; i++) {
    m[i / 8] |= (uint8_t)(compress(canon(p[i]), 1) << (i % 8));
  }
}

/* ---- sampling (FIPS 203 4.2.2) ------------------------------------------
 */

#define XOF_BLOCK 168 /* SHAKE128's rate */

/* Rejection sampling from bytes into t, which has room for N + 2
 * (both values of a triple are written and the count moves on by the
 * ones kept: no branch per value).  Returns how many are filled, at
 * most N + 1 (only the first N are used). */
static size_t rej_uniform(int16_t t[N + 2], const uint8_t *buf, size_t len) {
  size_t have = 0;
  for (size_t i = 0; i + 3 <= len && have < N; i += 3) {
    uint16_t d1 = (uint16_t)(buf[i] | ((buf[i + 1] & 0x0f) << 8));
    uint16_t d2 = (uint16_t)((buf[i + 1] >> 4) | (buf[i + 2] << 4));
    t[have] = (int16_t)d1;
    have += d1 < Q;
    t[have] = (int16_t)d2;
    have += d2 < Q;
  }
  return have;
}

/* SampleNTT (Algorithm 7) on XOF(rho || x || y).  Three blocks give 256
 * coefficients nearly always; otherwise the stream is drawn again,
 * longer (SHAKE's output is a prefix-stable stream), and read on from
 * where the first pass stopped.  Everything here is public. */
static bool sample_ntt(int16_t p[N], const uint8_t rho[32], uint8_t x,
                       uint8_t y) {
  uint8_t ij[2] = {x, y};
  uint8_t buf[XOF_BLOCK * 3];
  int16_t t[N + 2];
  if (!sha3_hash(SHAKE128, rho, 32, ij, 2, buf, sizeof(buf))) {
    return false;
  }
  size_t have = rej_uniform(t, buf, sizeof(buf));
  for (size_t blocks = 5; have < N && blocks <= 40; blocks *= 2) {
    uint8_t more[XOF_BLOCK * 40];
    size_t len = XOF_BLOCK * blocks;
    if (!sha3_hash(SHAKE128, rho, 32, ij, 2, more, len)) {
      return false;
    }
    have = rej_uniform(t, more, len);
  }
  memcpy(p, t, N * sizeof(t[0]));
  return have >= N;
}

/* m[i][j] = SampleNTT(rho || j || i) (Algorithm 13 line 6) or, with
 * transposed, its transpose. */
static bool sample_matrix(int16_t m[K][K][N], const uint8_t rho[32],
                          bool transposed) {
  for (uint8_t i = 0; i < K; i++) {
    for (uint8_t j = 0; j < K; j++) {
      if (!(transposed ? sample_ntt(m[i][j], rho, i, j)
                       : sample_ntt(m[i][j], rho, j, i))) {
        return false;
      }
    }
  }
  return true;
}

/* SamplePolyCBD_2 (Algorithm 8) on PRF_2(s, b) = SHAKE256(s || b, 128):
 * each coefficient is the bit count of two bits minus that of the next
 * two. */
static bool sample_cbd2(int16_t p[N], const uint8_t s[32], uint8_t b) {
  uint8_t buf[64 * 2];
  if (!sha3_hash(SHAKE256, s, 32, &b, 1, buf, sizeof(buf))) {
    return false;
  }
  for (size_t i = 0; i < N / 8; i++) {
    uint32_t t = (uint32_t)buf[4 * i] | ((uint32_t)buf[4 * i + 1] << 8) |
                 ((uint32_t)buf[4 * i + 2] << 16) |
                 ((uint32_t)buf[4 * i + 3] << 24);
    uint32_t d = (t & 0x55555555u) + ((t >> 1) & 0x55555555u);
    for (size_t j = 0; j < 8; j++) {
      int16_t a = (int16_t)((d >> (4 * j)) & 3);
      int16_t c = (int16_t)((d >> (4 * j + 2)) & 3);
      p[8 * i + j] = (int16_t)(a - c);
    }
  }
  moat_wipe(buf, sizeof(buf));
  return true;
}

/* ---- K-PKE (Algorithms 13-15) ------------------------------------------ */

/* K-PKE.Encrypt with the matrix already sampled (at[i][j] = A[j][i]) and
 * t_hat decoded: Algorithm 14 lines 9-23. */
static bool pke_encrypt(const mlkem_ops *ops, const int16_t t_hat[K][N],
                        const int16_t at_hat[K][K][N],
                        const uint8_t m[MLKEM_MSG_LEN], const uint8_t r[32],
                        uint8_t ct[MLKEM768_CT_LEN]) {
  poly y[K], e1, e2, u, v, mu;
  bool ok = true;
  for (uint8_t i = 0; i < K && ok; i++) {
    ok = sample_cbd2(y[i], r, i);
    ops->ntt(y[i]);
  }
  for (uint8_t i = 0; i < K && ok; i++) {
    ok = sample_cbd2(e1, r, (uint8_t)(K + i));
    ops->basemul_acc(u, &at_hat[i][0][0], &y[0][0], K);
    ops->invntt(u);
    for (size_t c = 0; c < N; c++) {
      u[c] = (int16_t)(u[c] + e1[c]);
    }
    compress_poly(u, DU, ct + (size_t)i * N * DU / 8);
  }
  ok = ok && sample_cbd2(e2, r, 2 * K);
  if (ok) {
    msg_to_poly(m, mu);
    ops->basemul_acc(v, &t_hat[0][0], &y[0][0], K);
    ops->invntt(v);
    for (size_t c = 0; c < N; c++) {
      v[c] = (int16_t)(v[c] + e2[c] + mu[c]);
    }
    compress_poly(v, DV, ct + CT_U_LEN);
  }
  moat_wipe(y, sizeof(y));
  moat_wipe(e1, sizeof(e1));
  moat_wipe(e2, sizeof(e2));
  moat_wipe(u, sizeof(u));
  moat_wipe(v, sizeof(v));
  moat_wipe(mu, sizeof(mu));
  return ok;
}

/* K-PKE.Decrypt (Algorithm 15). */
static void pke_decrypt(const mlkem_ops *ops, const int16_t s_hat[K][N],
                        const uint8_t ct[MLKEM768_CT_LEN],
                        uint8_t m[MLKEM_MSG_LEN]) {
  poly u[K], v, w;
  for (size_t i = 0; i < K; i++) {
    decompress_poly(ct + i * N * DU / 8, DU, u[i]);
    ops->ntt(u[i]);
  }
  decompress_poly(ct + CT_U_LEN, DV, v);
  ops->basemul_acc(w, &u[0][0], &s_hat[0][0], K);
  ops->invntt(w);
  for (size_t c = 0; c < N; c++) {
    w[c] = (int16_t)(v[c] - w[c]);
  }
  poly_to_msg(w, m);
  moat_wipe(w, sizeof(w));
}

static void ek_write(const mlkem768_key *key, uint8_t ek[MLKEM768_EK_LEN]) {
  for (size_t i = 0; i < K; i++) {
    encode12(key->t_hat[i], ek + i * POLY12_LEN);
  }
  memcpy(ek + K * POLY12_LEN, key->rho, 32);
}

static const mlkem_ops *pick(const mlkem_ops *ops) {
  return ops != NULL ? ops : mlkem_ops_best();
}

/* ---- ML-KEM (Algorithms 16-18) ------------------------------------------
 */

bool mlkem768_keygen(const mlkem_ops *ops, const uint8_t seed[MLKEM_SEED_LEN],
                     mlkem768_key *key, uint8_t ek[MLKEM768_EK_LEN]) {
  ops = pick(ops);
  uint8_t rho_sigma[64];
  const uint8_t k_byte = K;
  poly e;
  /* Algorithm 13 line 1: (rho, sigma) = G(d || k). */
  bool ok = sha3_hash(SHA3_512, seed, 32, &k_byte, 1, rho_sigma, 64);
  if (ok) {
    DECLASSIFY(rho_sigma, 32); /* rho is published in ek */
    memcpy(key->rho, rho_sigma, 32);
    memcpy(key->z, seed + 32, 32);
    /* A[i][j] in at_hat for now; transposed below. */
    ok = sample_matrix(key->at_hat, key->rho, false);
  }
  for (uint8_t i = 0; i < K && ok; i++) {
    ok = sample_cbd2(key->s_hat[i], rho_sigma + 32, i);
    ops->ntt(key->s_hat[i]);
  }
  for (uint8_t i = 0; i < K && ok; i++) {
    ok = sample_cbd2(e, rho_sigma + 32, (uint8_t)(K + i));
    ops->ntt(e);
    /* t = A s + e; the products carry R^-1, which the factor R^2 mod q
     * = 1353 turns into R before Montgomery's R^-1 takes it away. */
    ops->basemul_acc(key->t_hat[i], &key->at_hat[i][0][0], &key->s_hat[0][0],
                     K);
    for (size_t c = 0; c < N; c++) {
      int16_t t = mlkem_fqmul(key->t_hat[i][c], 1353);
      key->t_hat[i][c] = (int16_t)canon((int16_t)(t + e[c]));
    }
  }
  if (ok) {
    for (size_t i = 0; i < K; i++) {
      for (size_t j = i + 1; j < K; j++) {
        poly tmp;
        memcpy(tmp, key->at_hat[i][j], sizeof(tmp));
        memcpy(key->at_hat[i][j], key->at_hat[j][i], sizeof(tmp));
        memcpy(key->at_hat[j][i], tmp, sizeof(tmp));
      }
    }
    ek_write(key, ek);
    DECLASSIFY(ek, MLKEM768_EK_LEN);
    ok = sha3_hash(SHA3_256, ek, MLKEM768_EK_LEN, NULL, 0, key->h_ek, 32);
  }
  moat_wipe(rho_sigma, sizeof(rho_sigma));
  moat_wipe(e, sizeof(e));
  if (!ok) {
    mlkem768_key_wipe(key);
  }
  return ok;
}

void mlkem768_key_dk(const mlkem768_key *key, uint8_t dk[MLKEM768_DK_LEN]) {
  for (size_t i = 0; i < K; i++) {
    encode12(key->s_hat[i], dk + i * POLY12_LEN);
  }
  ek_write(key, dk + K * POLY12_LEN);
  memcpy(dk + K * POLY12_LEN + MLKEM768_EK_LEN, key->h_ek, 32);
  memcpy(dk + K * POLY12_LEN + MLKEM768_EK_LEN + 32, key->z, 32);
}

bool mlkem768_key_from_dk(const mlkem_ops *ops, const uint8_t *dk,
                          size_t dk_len, mlkem768_key *key) {
  (void)pick(ops);
  if (dk == NULL || dk_len != MLKEM768_DK_LEN) {
    return false;
  }
  const uint8_t *ek = dk + K * POLY12_LEN;
  uint8_t h[32];
  /* FIPS 203 7.3: the stored H(ek) must be the hash of the stored ek. */
  if (!sha3_hash(SHA3_256, ek, MLKEM768_EK_LEN, NULL, 0, h, 32) ||
      memcmp(h, ek + MLKEM768_EK_LEN, 32) != 0 || !ek_reduced(ek)) {
    return false;
  }
  for (size_t i = 0; i < K; i++) {
    decode12(dk + i * POLY12_LEN, key->s_hat[i]);
    decode12(ek + i * POLY12_LEN, key->t_hat[i]);
  }
  memcpy(key->rho, ek + K * POLY12_LEN, 32);
  memcpy(key->h_ek, h, 32);
  memcpy(key->z, ek + MLKEM768_EK_LEN + 32, 32);
  if (!sample_matrix(key->at_hat, key->rho, true)) {
    mlkem768_key_wipe(key);
    return false;
  }
  return true;
}

/* Encaps' shared core: (K, r) = G(m || h), then c = Encrypt(m, r). */
static bool encaps_core(const mlkem_ops *ops, const int16_t t_hat[K][N],
                        const int16_t at_hat[K][K][N], const uint8_t h[32],
                        const uint8_t m[MLKEM_MSG_LEN],
                        uint8_t ct[MLKEM768_CT_LEN], uint8_t kr[64]) {
  bool ok = sha3_hash(SHA3_512, m, MLKEM_MSG_LEN, h, 32, kr, 64) &&
            pke_encrypt(ops, t_hat, at_hat, m, kr + 32, ct);
  return ok;
}

bool mlkem768_encaps(const mlkem_ops *ops, const uint8_t *ek, size_t ek_len,
                     const uint8_t m[MLKEM_MSG_LEN],
                     uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM_SS_LEN]) {
  ops = pick(ops);
  /* FIPS 203 7.2: the type check (length) and the modulus check. */
  if (ek == NULL || ek_len != MLKEM768_EK_LEN || !ek_reduced(ek)) {
    return false;
  }
  int16_t t_hat[K][N];
  int16_t at_hat[K][K][N];
  uint8_t h[32], kr[64];
  for (size_t i = 0; i < K; i++) {
    decode12(ek + i * POLY12_LEN, t_hat[i]);
  }
  bool ok = sha3_hash(SHA3_256, ek, MLKEM768_EK_LEN, NULL, 0, h, 32) &&
            sample_matrix(at_hat, ek + K * POLY12_LEN, true) &&
            encaps_core(ops, t_hat, at_hat, h, m, ct, kr);
  if (ok) {
    DECLASSIFY(ct, MLKEM768_CT_LEN); /* sent to the peer */
    memcpy(ss, kr, MLKEM_SS_LEN);
  }
  moat_wipe(kr, sizeof(kr));
  return ok;
}

bool mlkem768_decaps(const mlkem_ops *ops, const mlkem768_key *key,
                     const uint8_t *ct, size_t ct_len,
                     uint8_t ss[MLKEM_SS_LEN]) {
  ops = pick(ops);
  /* FIPS 203 7.3: the ciphertext type check. */
  if (ct == NULL || ct_len != MLKEM768_CT_LEN) {
    return false;
  }
  uint8_t m[MLKEM_MSG_LEN], kr[64], reject[MLKEM_SS_LEN];
  uint8_t again[MLKEM768_CT_LEN];
  pke_decrypt(ops, key->s_hat, ct, m);
  /* Algorithm 18 line 7: the implicit-rejection secret J(z || c). */
  bool ok = sha3_hash(SHAKE256, key->z, 32, ct, ct_len, reject, 32) &&
            encaps_core(ops, key->t_hat, key->at_hat, key->h_ek, m, again, kr);
  if (ok) {
    /* Lines 9-11 without a branch: keep K' when c' == c, else J(z || c). */
    uint32_t diff = 0;
    for (size_t i = 0; i < MLKEM768_CT_LEN; i++) {
      diff |= (uint32_t)(ct[i] ^ again[i]);
    }
    uint8_t keep = (uint8_t)value_barrier(ct_is_zero_u32(diff));
    for (size_t i = 0; i < MLKEM_SS_LEN; i++) {
      ss[i] = (uint8_t)((kr[i] & keep) | (reject[i] & (uint8_t)~keep));
    }
  }
  moat_wipe(m, sizeof(m));
  moat_wipe(kr, sizeof(kr));
  moat_wipe(reject, sizeof(reject));
  moat_wipe(again, sizeof(again));
  return ok;
}

const mlkem_ops *mlkem_ops_best(void) {
  const mlkem_ops *avx2 = mlkem_ops_avx2();
  return avx2 != NULL ? avx2 : mlkem_ops_portable();
}

void mlkem768_key_wipe(mlkem768_key *key) {
  moat_wipe(key, sizeof(*key));
}
