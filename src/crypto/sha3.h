/* SHA-3 and SHAKE (FIPS 202) from libcrypto, for ML-KEM (FIPS 203 4.1).
 * Private to src/crypto/.  Each call takes its input in up to two parts
 * (FIPS 203 hashes concatenations such as m || H(ek)), so callers never
 * join buffers that hold secrets.  Nothing is allocated per call: every
 * thread keeps one libcrypto digest context, made on its first use and
 * freed when the thread ends. */
#ifndef MOAT_CRYPTO_SHA3_H
#define MOAT_CRYPTO_SHA3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sha3_kind {
  SHA3_256, /* out_len must be 32 */
  SHA3_512, /* out_len must be 64 */
  SHAKE128,
  SHAKE256,
} sha3_kind;

/* The digest (or the first out_len bytes of the XOF's output) of
 * a || b; b may be NULL with b_len 0. */
bool sha3_hash(sha3_kind kind, const uint8_t *a, size_t a_len, const uint8_t *b,
               size_t b_len, uint8_t *out, size_t out_len);

#endif
