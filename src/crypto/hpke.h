/* Hybrid Public Key Encryption (RFC 9180), base mode, as Encrypted Client
 * Hello needs it (RFC 9849 6, 7): DHKEM(X25519, HKDF-SHA256) with
 * HKDF-SHA256 and AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305.
 *
 * Built only on the adapter's primitives (crypto.h: X25519 through the
 * key exchange descriptors, HMAC/HKDF, the AEADs), so it works over any
 * backend.  A context holds its AEAD key, base nonce, exporter secret and
 * sequence number; hpke_free wipes them. */
#ifndef MOAT_CRYPTO_HPKE_H
#define MOAT_CRYPTO_HPKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moat.h"

/* RFC 9180 7.1, 7.2, 7.3: the identifiers moat implements. */
#define HPKE_KEM_X25519_SHA256 0x0020
#define HPKE_KDF_HKDF_SHA256 0x0001
#define HPKE_AEAD_AES_128_GCM 0x0001
#define HPKE_AEAD_AES_256_GCM 0x0002
#define HPKE_AEAD_CHACHA20_POLY1305 0x0003

/* DHKEM(X25519): Npk = Nenc = Nsk = 32 (RFC 9180 7.1). */
#define HPKE_X25519_LEN 32
#define HPKE_MAX_ENC 32
#define HPKE_MAX_PUBLIC_KEY 32
#define HPKE_MAX_PRIVATE_KEY 32
#define HPKE_TAG_LEN 16

typedef struct hpke_suite {
  uint16_t kem_id;
  uint16_t kdf_id;
  uint16_t aead_id;
} hpke_suite;

/* True when moat implements the whole triple. */
bool hpke_suite_supported(hpke_suite suite);
/* "DHKEM(X25519, HKDF-SHA256)", "HKDF-SHA256", "AES-128-GCM", or NULL for
 * an identifier moat does not know. */
const char *hpke_kem_name(uint16_t kem_id);
const char *hpke_kdf_name(uint16_t kdf_id);
const char *hpke_aead_name(uint16_t id);

/* ---- KEM key pairs (RFC 9180 7.1) --------------------------------------- */

/* A fresh key pair for kem_id: the private key into out_sk (Nsk bytes),
 * the public key into out_pk (Npk bytes); lengths through out_*_len. */
moat_err hpke_generate_key_pair(uint16_t kem_id, uint8_t *out_sk,
                                size_t *out_sk_len, uint8_t *out_pk,
                                size_t *out_pk_len);
/* RFC 9180 7.1.3 DeriveKeyPair(ikm) (ikm of at least Nsk bytes). */
moat_err hpke_derive_key_pair(uint16_t kem_id, const uint8_t *ikm,
                              size_t ikm_len, uint8_t *out_sk,
                              size_t *out_sk_len, uint8_t *out_pk,
                              size_t *out_pk_len);
/* The public key of a private key (pk(skX)). */
moat_err hpke_public_key(uint16_t kem_id, const uint8_t *sk, size_t sk_len,
                         uint8_t *out_pk, size_t *out_pk_len);

/* ---- contexts (RFC 9180 5.1.1, 5.2, 5.3) -------------------------------- */

typedef struct hpke_ctx hpke_ctx;

/* The sender's side, SetupBaseS(pkR, info): encapsulates to pk_r and
 * writes enc (Nenc bytes) to out_enc.  sk_e is the ephemeral private key
 * for known-answer tests; NULL draws a fresh one (always, outside tests).
 * Errors: MOAT_ERR_UNSUPPORTED (a suite moat does not implement),
 * MOAT_ERR_ILLEGAL_PARAMETER (pk_r is not a valid public key, or the
 * X25519 result is all zeros, RFC 9180 7.1.4), MOAT_ERR_INVALID_ARGUMENT
 * (a wrong length), MOAT_ERR_CRYPTO / NO_MEMORY; detail says which. */
moat_err hpke_setup_base_s(hpke_suite suite, const uint8_t *pk_r,
                           size_t pk_r_len, const uint8_t *info,
                           size_t info_len, const uint8_t *sk_e,
                           size_t sk_e_len, uint8_t *out_enc,
                           size_t *out_enc_len, hpke_ctx **out, char *detail,
                           size_t detail_cap);
/* The recipient's side, SetupBaseR(enc, skR, info); the same errors, enc
 * in place of pk_r. */
moat_err hpke_setup_base_r(hpke_suite suite, const uint8_t *enc, size_t enc_len,
                           const uint8_t *sk_r, size_t sk_r_len,
                           const uint8_t *info, size_t info_len, hpke_ctx **out,
                           char *detail, size_t detail_cap);
void hpke_free(hpke_ctx *ctx); /* wipes the keys; NULL is fine */

/* Seal (sender contexts only): out_ct receives pt_len + HPKE_TAG_LEN
 * bytes, made with the nonce of the current sequence number, which then
 * moves on (RFC 9180 5.2).  out_ct may equal pt.  Errors:
 * MOAT_ERR_BAD_STATE (a recipient context), MOAT_ERR_SEQUENCE_LIMIT (the
 * sequence number would wrap), MOAT_ERR_CRYPTO. */
moat_err hpke_seal(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                   const uint8_t *pt, size_t pt_len, uint8_t *out_ct);
/* Open (recipient contexts only): ct is ciphertext || tag; out_pt
 * receives ct_len - HPKE_TAG_LEN bytes (may equal ct).  A ciphertext that
 * does not authenticate (wrong key, tampered bytes or aad, another
 * sequence number) is MOAT_ERR_DECRYPT_ERROR, out_pt is wiped and the
 * sequence number stays where it was; a ct shorter than the tag is
 * MOAT_ERR_DECODE_ERROR; otherwise as hpke_seal. */
moat_err hpke_open(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                   const uint8_t *ct, size_t ct_len, uint8_t *out_pt);
/* RFC 9180 5.3 Export(exporter_context, L): L <= 255 * Nh. */
moat_err hpke_export(hpke_ctx *ctx, const uint8_t *exporter_context,
                     size_t exporter_context_len, uint8_t *out, size_t out_len);
/* The sequence number of the next Seal / Open. */
uint64_t hpke_seq(const hpke_ctx *ctx);

#endif
