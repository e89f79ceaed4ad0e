/* ML-KEM-768 (FIPS 203), moat's own, for the hybrid TLS 1.3 groups.
 * Private to src/crypto/ (and the tests).  libcrypto 3.0 has no ML-KEM;
 * SHA-3 and SHAKE come from it (crypto/sha3.h), everything else is here.
 *
 * Nothing here allocates and nothing branches on or indexes memory by a
 * secret (the decapsulation key, m, the shared secret, the rejection
 * decision): tests/unit/test_mlkem_ct.c checks that under valgrind.
 *
 * The polynomial arithmetic comes from an mlkem_ops table: a portable one
 * and, where the CPU has it, an AVX2 one; both give the same bytes.  The
 * functions taking ops accept NULL for the best one this CPU runs. */
#ifndef MOAT_CRYPTO_MLKEM_H
#define MOAT_CRYPTO_MLKEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MLKEM_N 256
#define MLKEM_Q 3329
#define MLKEM768_K 3
#define MLKEM768_EK_LEN 1184 /* ByteEncode12(t) || rho */
#define MLKEM768_DK_LEN 2400 /* ByteEncode12(s) || ek || H(ek) || z */
#define MLKEM768_CT_LEN 1088 /* 3 x ByteEncode10(u) || ByteEncode4(v) */
#define MLKEM_SS_LEN 32
#define MLKEM_SEED_LEN 64 /* d || z (FIPS 203 7.1) */
#define MLKEM_MSG_LEN 32

/* The arithmetic kernels.  Coefficients are int16_t; "R" is the
 * Montgomery factor 2^16 mod q. */
typedef struct mlkem_ops {
  const char *name; /* "portable", "avx2" */
  /* Forward NTT (FIPS 203 Algorithm 9) in place, natural order in and
   * out; input |x| <= 2q, output |x| <= q/2. */
  void (*ntt)(int16_t p[MLKEM_N]);
  /* Inverse NTT (Algorithm 10) of a sum of products (which carry a
   * factor R^-1), input |x| < q: the result is the plain polynomial,
   * |x| < q. */
  void (*invntt)(int16_t p[MLKEM_N]);
  /* r = sum over i < k of a[i] x b[i] in the NTT domain (Algorithm 11),
   * times R^-1; inputs |x| < q (a) and |x| < 4096 (b, which may be a
   * decoded key), output |x| <= q/2. */
  void (*basemul_acc)(int16_t r[MLKEM_N], const int16_t *a, const int16_t *b,
                      size_t k);
} mlkem_ops;

const mlkem_ops *mlkem_ops_portable(void);
/* NULL when this CPU has no AVX2 (or this is not x86-64). */
const mlkem_ops *mlkem_ops_avx2(void);
/* The fastest of the two this CPU runs. */
const mlkem_ops *mlkem_ops_best(void);

/* An expanded decapsulation key: what Decaps needs, decoded once (the
 * matrix is kept, transposed, for the re-encryption).  About 9 KiB;
 * wipe with mlkem768_key_wipe. */
typedef struct mlkem768_key {
  int16_t s_hat[MLKEM768_K][MLKEM_N];
  int16_t t_hat[MLKEM768_K][MLKEM_N];
  int16_t at_hat[MLKEM768_K][MLKEM768_K][MLKEM_N]; /* at[i][j] = A[j][i] */
  uint8_t rho[32];
  uint8_t h_ek[32];
  uint8_t z[32];
} mlkem768_key;

/* ML-KEM.KeyGen_internal (Algorithm 16) from seed = d || z: the key and
 * the encapsulation key's bytes.  False only if libcrypto's SHA-3 fails. */
bool mlkem768_keygen(const mlkem_ops *ops, const uint8_t seed[MLKEM_SEED_LEN],
                     mlkem768_key *key, uint8_t ek[MLKEM768_EK_LEN]);
/* The decapsulation key's bytes (FIPS 203 Algorithm 16 line 3). */
void mlkem768_key_dk(const mlkem768_key *key, uint8_t dk[MLKEM768_DK_LEN]);
/* The key from dk's bytes, after the checks of FIPS 203 7.3 (length,
 * and H(ek) as stored; the embedded ek's modulus check as 7.2). */
bool mlkem768_key_from_dk(const mlkem_ops *ops, const uint8_t *dk,
                          size_t dk_len, mlkem768_key *key);
/* ML-KEM.Encaps_internal (Algorithm 17) with the randomness m, after the
 * encapsulation-key checks of FIPS 203 7.2 (length, every coefficient
 * below q); false when ek fails them. */
bool mlkem768_encaps(const mlkem_ops *ops, const uint8_t *ek, size_t ek_len,
                     const uint8_t m[MLKEM_MSG_LEN],
                     uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM_SS_LEN]);
/* ML-KEM.Decaps_internal (Algorithm 18) with implicit rejection: a
 * ciphertext of the right length always gives a secret (the pseudorandom
 * one when it does not re-encrypt to itself).  False only for a
 * ciphertext of the wrong length or a SHA-3 failure. */
bool mlkem768_decaps(const mlkem_ops *ops, const mlkem768_key *key,
                     const uint8_t *ct, size_t ct_len,
                     uint8_t ss[MLKEM_SS_LEN]);
void mlkem768_key_wipe(mlkem768_key *key);

/* Shared by the kernels (src/crypto/mlkem_*.c). */
extern const int16_t mlkem_zetas[128]; /* 17^bitrev7(i) * R mod q */
static inline int16_t mlkem_mont_reduce(int32_t a) {
  /* a * R^-1 mod q, |result| < q for |a| < q * 2^15.  62209 = q^-1 mod
   * 2^16. */
  int16_t t = (int16_t)(uint16_t)((uint32_t)a * 62209u);
  return (int16_t)((a - (int32_t)t * MLKEM_Q) >> 16);
}
static inline int16_t mlkem_fqmul(int16_t a, int16_t b) {
  return mlkem_mont_reduce((int32_t)a * b);
}
static inline int16_t mlkem_barrett(int16_t a) {
  /* a mod q, centred (|result| <= q/2); 20159 = round(2^26 / q). */
  int16_t t = (int16_t)(((int32_t)20159 * a + (1 << 25)) >> 26);
  return (int16_t)(a - t * MLKEM_Q);
}

#endif
