/* Private to src/crypto/: the DER parsing the adapter does itself with the
 * cursor.  Kept apart from libcrypto's headers, whose ASN1_* names clash
 * with the cursor's tag constants. */
#ifndef MOAT_CRYPTO_OSSL_DER_H
#define MOAT_CRYPTO_OSSL_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

/* The raw parameters of a SubjectPublicKeyInfo (slices of the input). */
typedef struct spki_info {
  key_type type;
  /* RSA: modulus and exponent, big-endian without leading zeros. */
  const uint8_t *rsa_n;
  size_t rsa_n_len;
  const uint8_t *rsa_e;
  size_t rsa_e_len;
  int rsa_bits;
  /* EC: the X9.62 point; Ed25519/Ed448: the raw public key. */
  const uint8_t *key;
  size_t key_len;
} spki_info;

#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 16384

/* RFC 5280 4.1.2.7 with the algorithm profiles of RFC 3279, RFC 4055,
 * RFC 5480 and RFC 8410.  Errors: MOAT_ERR_BAD_CERTIFICATE for malformed
 * DER or bad parameters, MOAT_ERR_UNSUPPORTED_CERTIFICATE for an algorithm
 * or curve moat does not use; detail says what and where. */
moat_err spki_parse(const uint8_t *spki, size_t spki_len, spki_info *out,
                    char *detail, size_t detail_cap);

/* Field size in bytes of an EC key type's curve, 0 for other types. */
size_t ec_field_len(key_type t);

/* An ECDSA-Sig-Value in strict DER (SEQUENCE of two minimal positive
 * INTEGERs no longer than the field, nothing trailing). */
bool ecdsa_sig_der_ok(const uint8_t *sig, size_t sig_len, size_t field_len);

/* True when der has the shape of an EncryptedPrivateKeyInfo (RFC 5958 3):
 * SEQUENCE { AlgorithmIdentifier, OCTET STRING }. */
bool der_is_encrypted_pkcs8(const uint8_t *der, size_t len);

#endif
