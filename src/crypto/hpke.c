/* HPKE (RFC 9180) base mode over the adapter's primitives: the DHKEM of
 * 4.1 on X25519, the key schedule of 5.1, Seal/Open with the sequence
 * nonce of 5.2 and Export of 5.3. */
#include <stdio.h>
#include <string.h>

#include "base/builder.h"
#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/hpke.h"

#define HPKE_MODE_BASE 0x00
#define HPKE_NH 32 /* HKDF-SHA256 */

/* "KEM" || kem_id (4.1) or "HPKE" || kem_id || kdf_id || aead_id (5.1). */
typedef struct suite_id {
  uint8_t b[10];
  size_t n;
} suite_id;

struct hpke_ctx {
  hpke_suite suite;
  suite_id sid;
  const aead_alg *aead;
  aead_ctx *aead_ctx;
  hmac_ctx *hmac;
  bool sender;
  uint64_t seq;
  uint8_t base_nonce[AEAD_NONCE_LEN];
  uint8_t exporter_secret[HPKE_NH];
};

static moat_err fail(char *detail, size_t cap, moat_err err, const char *msg) {
  if (detail != NULL && cap > 0) {
    snprintf(detail, cap, "HPKE: %s", msg);
  }
  return err;
}

const char *hpke_kem_name(uint16_t kem_id) {
  return kem_id == HPKE_KEM_X25519_SHA256 ? "DHKEM(X25519, HKDF-SHA256)" : NULL;
}

const char *hpke_kdf_name(uint16_t kdf_id) {
  return kdf_id == HPKE_KDF_HKDF_SHA256 ? "HKDF-SHA256" : NULL;
}

static const aead_alg *aead_for(uint16_t id) {
  switch (id) {
  case HPKE_AEAD_AES_128_GCM:
    return aead_get(AEAD_AES_128_GCM);
  case HPKE_AEAD_AES_256_GCM:
    return aead_get(AEAD_AES_256_GCM);
  case HPKE_AEAD_CHACHA20_POLY1305:
    return aead_get(AEAD_CHACHA20_POLY1305);
  default:
    return NULL;
  }
}

const char *hpke_aead_name(uint16_t id) {
  const aead_alg *alg = aead_for(id);
  return alg != NULL ? alg->name : NULL;
}

bool hpke_suite_supported(hpke_suite suite) {
  return hpke_kem_name(suite.kem_id) != NULL &&
         hpke_kdf_name(suite.kdf_id) != NULL && aead_for(suite.aead_id) != NULL;
}

static suite_id kem_suite_id(uint16_t kem_id) {
  suite_id s = {{'K', 'E', 'M', (uint8_t)(kem_id >> 8), (uint8_t)kem_id}, 5};
  return s;
}

static suite_id hpke_suite_id(hpke_suite suite) {
  suite_id s = {{'H', 'P', 'K', 'E', (uint8_t)(suite.kem_id >> 8),
                 (uint8_t)suite.kem_id, (uint8_t)(suite.kdf_id >> 8),
                 (uint8_t)suite.kdf_id, (uint8_t)(suite.aead_id >> 8),
                 (uint8_t)suite.aead_id},
                10};
  return s;
}

/* RFC 9180 4: "HPKE-v1" || suite_id || label, the prefix shared by
 * LabeledExtract's ikm and LabeledExpand's info. */
static void put_label(builder *b, const suite_id *sid, const char *label) {
  bld_bytes(b, (const uint8_t *)"HPKE-v1", 7);
  bld_bytes(b, sid->b, sid->n);
  bld_bytes(b, (const uint8_t *)label, strlen(label));
}

/* LabeledExtract(salt, label, ikm) into out[0..Nh). */
static bool labeled_extract(hmac_ctx *hmac, const suite_id *sid,
                            const uint8_t *salt, size_t salt_len,
                            const char *label, const uint8_t *ikm,
                            size_t ikm_len, uint8_t *out) {
  builder b;
  if (!bld_init_alloc(&b, 64 + ikm_len)) {
    return false;
  }
  put_label(&b, sid, label);
  bld_bytes(&b, ikm, ikm_len);
  bool ok = bld_finish(&b) &&
            hkdf_extract(hmac, salt, salt_len, bld_data(&b), bld_len(&b), out);
  bld_cleanup(&b); /* wipes: the ikm may be a DH result */
  return ok;
}

/* LabeledExpand(prk, label, info, L). */
static bool labeled_expand(hmac_ctx *hmac, const suite_id *sid,
                           const uint8_t *prk, const char *label,
                           const uint8_t *info, size_t info_len, uint8_t *out,
                           size_t out_len) {
  builder b;
  if (out_len > 0xffff || !bld_init_alloc(&b, 64 + info_len)) {
    return false;
  }
  bld_u16(&b, (uint16_t)out_len);
  put_label(&b, sid, label);
  bld_bytes(&b, info, info_len);
  bool ok = bld_finish(&b) && hkdf_expand(hmac, prk, HPKE_NH, bld_data(&b),
                                          bld_len(&b), out, out_len);
  bld_cleanup(&b);
  return ok;
}

static hmac_ctx *sha256_hmac(void) {
  return hmac_new(hash_get(HASH_SHA256));
}

/* ---- DHKEM(X25519, HKDF-SHA256) (RFC 9180 4.1, 7.1) -------------------- */

static const kex_alg *x25519(void) {
  return kex_by_group(0x001d);
}

static moat_err check_kem(uint16_t kem_id) {
  if (hpke_kem_name(kem_id) == NULL || x25519() == NULL) {
    return MOAT_ERR_UNSUPPORTED;
  }
  return MOAT_OK;
}

moat_err hpke_public_key(uint16_t kem_id, const uint8_t *sk, size_t sk_len,
                         uint8_t *out_pk, size_t *out_pk_len) {
  moat_err err = check_kem(kem_id);
  if (err != MOAT_OK) {
    return err;
  }
  if (sk_len != HPKE_X25519_LEN) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  kex_key *key = NULL;
  if (!kex_key_from_private(x25519(), sk, sk_len, NULL, &key)) {
    return MOAT_ERR_CRYPTO;
  }
  bool ok = kex_key_share(key, out_pk, out_pk_len);
  kex_key_free(key);
  return ok ? MOAT_OK : MOAT_ERR_CRYPTO;
}

moat_err hpke_generate_key_pair(uint16_t kem_id, uint8_t *out_sk,
                                size_t *out_sk_len, uint8_t *out_pk,
                                size_t *out_pk_len) {
  /* RFC 9180 4: GenerateKeyPair() as DeriveKeyPair(random(Nsk)). */
  uint8_t ikm[HPKE_X25519_LEN];
  moat_err err = check_kem(kem_id);
  if (err != MOAT_OK) {
    return err;
  }
  if (!crypto_random(ikm, sizeof(ikm))) {
    return MOAT_ERR_CRYPTO;
  }
  err = hpke_derive_key_pair(kem_id, ikm, sizeof(ikm), out_sk, out_sk_len,
                             out_pk, out_pk_len);
  moat_wipe(ikm, sizeof(ikm));
  return err;
}

moat_err hpke_derive_key_pair(uint16_t kem_id, const uint8_t *ikm,
                              size_t ikm_len, uint8_t *out_sk,
                              size_t *out_sk_len, uint8_t *out_pk,
                              size_t *out_pk_len) {
  moat_err err = check_kem(kem_id);
  if (err != MOAT_OK) {
    return err;
  }
  /* RFC 9180 7.1.3: ikm SHOULD carry Nsk bytes of entropy; shorter input
   * is refused rather than stretched. */
  if (ikm_len < HPKE_X25519_LEN) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  suite_id sid = kem_suite_id(kem_id);
  uint8_t prk[HPKE_NH];
  hmac_ctx *hmac = sha256_hmac();
  bool ok =
      hmac != NULL &&
      labeled_extract(hmac, &sid, NULL, 0, "dkp_prk", ikm, ikm_len, prk) &&
      labeled_expand(hmac, &sid, prk, "sk", NULL, 0, out_sk, HPKE_X25519_LEN);
  hmac_free(hmac);
  moat_wipe(prk, sizeof(prk));
  if (!ok) {
    moat_wipe(out_sk, HPKE_X25519_LEN);
    return MOAT_ERR_CRYPTO;
  }
  *out_sk_len = HPKE_X25519_LEN;
  err = hpke_public_key(kem_id, out_sk, HPKE_X25519_LEN, out_pk, out_pk_len);
  if (err != MOAT_OK) {
    moat_wipe(out_sk, HPKE_X25519_LEN);
  }
  return err;
}

/* ExtractAndExpand(dh, enc || pkRm) (RFC 9180 4.1). */
static bool extract_and_expand(hmac_ctx *hmac, uint16_t kem_id,
                               const uint8_t *dh, size_t dh_len,
                               const uint8_t *enc, const uint8_t *pk_r,
                               uint8_t *out_shared) {
  suite_id sid = kem_suite_id(kem_id);
  uint8_t kem_context[2 * HPKE_X25519_LEN];
  uint8_t prk[HPKE_NH];
  memcpy(kem_context, enc, HPKE_X25519_LEN);
  memcpy(kem_context + HPKE_X25519_LEN, pk_r, HPKE_X25519_LEN);
  bool ok = labeled_extract(hmac, &sid, NULL, 0, "eae_prk", dh, dh_len, prk) &&
            labeled_expand(hmac, &sid, prk, "shared_secret", kem_context,
                           sizeof(kem_context), out_shared, HPKE_NH);
  moat_wipe(prk, sizeof(prk));
  return ok;
}

/* ---- the key schedule (RFC 9180 5.1) ------------------------------------ */

static void ctx_wipe_free(hpke_ctx *ctx) {
  aead_free(ctx->aead_ctx);
  hmac_free(ctx->hmac);
  moat_free_wipe(ctx, sizeof(*ctx));
}

void hpke_free(hpke_ctx *ctx) {
  if (ctx != NULL) {
    ctx_wipe_free(ctx);
  }
}

/* A context with its HMAC, ready for the schedule. */
static moat_err ctx_new(hpke_suite suite, bool sender, hpke_ctx **out,
                        char *detail, size_t cap) {
  *out = NULL;
  if (!hpke_suite_supported(suite) || x25519() == NULL) {
    char msg[96];
    snprintf(msg, sizeof(msg),
             "cipher suite (KEM 0x%04x, KDF 0x%04x, AEAD 0x%04x) is not "
             "supported",
             suite.kem_id, suite.kdf_id, suite.aead_id);
    return fail(detail, cap, MOAT_ERR_UNSUPPORTED, msg);
  }
  hpke_ctx *ctx = moat_calloc(1, sizeof(*ctx));
  if (ctx == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  ctx->suite = suite;
  ctx->sid = hpke_suite_id(suite);
  ctx->aead = aead_for(suite.aead_id);
  ctx->sender = sender;
  ctx->hmac = sha256_hmac();
  if (ctx->hmac == NULL) {
    ctx_wipe_free(ctx);
    return MOAT_ERR_NO_MEMORY;
  }
  *out = ctx;
  return MOAT_OK;
}

/* KeySchedule(mode_base, shared_secret, info, "", ""). */
static bool key_schedule(hpke_ctx *ctx, const uint8_t *shared,
                         const uint8_t *info, size_t info_len) {
  uint8_t ks_context[1 + 2 * HPKE_NH];
  uint8_t secret[HPKE_NH];
  uint8_t key[AEAD_MAX_KEY];
  ks_context[0] = HPKE_MODE_BASE;
  bool ok =
      labeled_extract(ctx->hmac, &ctx->sid, NULL, 0, "psk_id_hash", NULL, 0,
                      ks_context + 1) &&
      labeled_extract(ctx->hmac, &ctx->sid, NULL, 0, "info_hash", info,
                      info_len, ks_context + 1 + HPKE_NH) &&
      labeled_extract(ctx->hmac, &ctx->sid, shared, HPKE_NH, "secret", NULL, 0,
                      secret) &&
      labeled_expand(ctx->hmac, &ctx->sid, secret, "key", ks_context,
                     sizeof(ks_context), key, ctx->aead->key_len) &&
      labeled_expand(ctx->hmac, &ctx->sid, secret, "base_nonce", ks_context,
                     sizeof(ks_context), ctx->base_nonce, AEAD_NONCE_LEN) &&
      labeled_expand(ctx->hmac, &ctx->sid, secret, "exp", ks_context,
                     sizeof(ks_context), ctx->exporter_secret, HPKE_NH);
  if (ok) {
    ctx->aead_ctx = aead_new(ctx->aead, key, ctx->sender);
    ok = ctx->aead_ctx != NULL;
  }
  moat_wipe(secret, sizeof(secret));
  moat_wipe(key, sizeof(key));
  return ok;
}

/* The part of Encap and Decap after the keys (RFC 9180 4.1): DH(ours,
 * peer), which must refuse an invalid point or a zero result (7.1.4), then
 * ExtractAndExpand over enc || pkRm and the key schedule into ctx.  what
 * names the peer's key in the detail. */
static moat_err dh_and_schedule(hpke_ctx *ctx, const kex_key *ours,
                                const uint8_t *peer, size_t peer_len,
                                const uint8_t *enc, const uint8_t *pk_r,
                                const uint8_t *info, size_t info_len,
                                const char *what, char *detail, size_t cap) {
  uint8_t dh[KEX_MAX_SECRET];
  uint8_t shared[HPKE_NH];
  size_t dh_len = 0;
  const char *why = NULL;
  moat_err err = MOAT_OK;
  if (!kex_finish_why(ours, peer, peer_len, dh, &dh_len, &why)) {
    char msg[128];
    snprintf(msg, sizeof(msg), "%s is refused: %s", what,
             why != NULL ? why : "the agreement failed");
    err = fail(detail, cap, MOAT_ERR_ILLEGAL_PARAMETER, msg);
  } else if (!extract_and_expand(ctx->hmac, ctx->suite.kem_id, dh, dh_len, enc,
                                 pk_r, shared) ||
             !key_schedule(ctx, shared, info, info_len)) {
    err = fail(detail, cap, MOAT_ERR_CRYPTO, "the key schedule failed");
  }
  moat_wipe(dh, sizeof(dh));
  moat_wipe(shared, sizeof(shared));
  return err;
}

moat_err hpke_setup_base_s(hpke_suite suite, const uint8_t *pk_r,
                           size_t pk_r_len, const uint8_t *info,
                           size_t info_len, const uint8_t *sk_e,
                           size_t sk_e_len, uint8_t *out_enc,
                           size_t *out_enc_len, hpke_ctx **out, char *detail,
                           size_t detail_cap) {
  hpke_ctx *ctx = NULL;
  kex_key *eph = NULL;
  size_t enc_len = 0;
  moat_err err = ctx_new(suite, true, &ctx, detail, detail_cap);
  if (err != MOAT_OK) {
    return err;
  }
  if (pk_r_len != HPKE_X25519_LEN ||
      (sk_e != NULL && sk_e_len != HPKE_X25519_LEN)) {
    err = fail(detail, detail_cap, MOAT_ERR_INVALID_ARGUMENT,
               "an X25519 key must be 32 bytes");
    goto cleanup;
  }
  /* Encap(pkR) (RFC 9180 4.1): the ephemeral key, given or fresh. */
  bool have_eph =
      sk_e != NULL ? kex_key_from_private(x25519(), sk_e, sk_e_len, NULL, &eph)
                   : kex_generate(x25519(), NULL, &eph, out_enc, &enc_len);
  if (!have_eph || !kex_key_share(eph, out_enc, &enc_len) ||
      enc_len != HPKE_X25519_LEN) {
    err = fail(detail, detail_cap, MOAT_ERR_CRYPTO,
               "the ephemeral X25519 key could not be made");
    goto cleanup;
  }
  err = dh_and_schedule(ctx, eph, pk_r, pk_r_len, out_enc, pk_r, info, info_len,
                        "the recipient's public key", detail, detail_cap);
  if (err != MOAT_OK) {
    goto cleanup;
  }
  *out_enc_len = enc_len;
  *out = ctx;
  ctx = NULL;

cleanup:
  kex_key_free(eph);
  hpke_free(ctx);
  return err;
}

moat_err hpke_setup_base_r(hpke_suite suite, const uint8_t *enc, size_t enc_len,
                           const uint8_t *sk_r, size_t sk_r_len,
                           const uint8_t *info, size_t info_len, hpke_ctx **out,
                           char *detail, size_t detail_cap) {
  hpke_ctx *ctx = NULL;
  kex_key *key = NULL;
  uint8_t pk_r[HPKE_MAX_PUBLIC_KEY];
  size_t pk_len = 0;
  moat_err err = ctx_new(suite, false, &ctx, detail, detail_cap);
  if (err != MOAT_OK) {
    return err;
  }
  if (sk_r_len != HPKE_X25519_LEN) {
    err = fail(detail, detail_cap, MOAT_ERR_INVALID_ARGUMENT,
               "an X25519 private key must be 32 bytes");
    goto cleanup;
  }
  if (enc_len != HPKE_X25519_LEN) {
    err = fail(detail, detail_cap, MOAT_ERR_ILLEGAL_PARAMETER,
               "the encapsulated key (enc) is not 32 bytes");
    goto cleanup;
  }
  /* Decap(enc, skR) (RFC 9180 4.1). */
  if (!kex_key_from_private(x25519(), sk_r, sk_r_len, NULL, &key) ||
      !kex_key_share(key, pk_r, &pk_len)) {
    err = fail(detail, detail_cap, MOAT_ERR_CRYPTO,
               "the recipient's X25519 key could not be loaded");
    goto cleanup;
  }
  err = dh_and_schedule(ctx, key, enc, enc_len, enc, pk_r, info, info_len,
                        "the encapsulated key (enc)", detail, detail_cap);
  if (err != MOAT_OK) {
    goto cleanup;
  }
  *out = ctx;
  ctx = NULL;

cleanup:
  kex_key_free(key);
  hpke_free(ctx);
  return err;
}

/* ---- encryption and export (RFC 9180 5.2, 5.3) -------------------------- */

/* ComputeNonce(seq): base_nonce xor I2OSP(seq, Nn). */
static void compute_nonce(const hpke_ctx *ctx, uint8_t nonce[AEAD_NONCE_LEN]) {
  memcpy(nonce, ctx->base_nonce, AEAD_NONCE_LEN);
  for (size_t i = 0; i < 8; i++) {
    nonce[AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
  }
}

/* RFC 9180 5.2 IncrementSeq: the counter never wraps (Nn is 12 bytes, so
 * a 64-bit counter reaching its top is the limit here). */
static moat_err check_seq(const hpke_ctx *ctx) {
  return ctx->seq == UINT64_MAX ? MOAT_ERR_SEQUENCE_LIMIT : MOAT_OK;
}

moat_err hpke_seal(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                   const uint8_t *pt, size_t pt_len, uint8_t *out_ct) {
  uint8_t nonce[AEAD_NONCE_LEN];
  if (!ctx->sender) {
    return MOAT_ERR_BAD_STATE;
  }
  moat_err err = check_seq(ctx);
  if (err != MOAT_OK) {
    return err;
  }
  compute_nonce(ctx, nonce);
  if (!aead_seal(ctx->aead_ctx, nonce, aad, aad_len, pt, pt_len, out_ct)) {
    return MOAT_ERR_CRYPTO;
  }
  ctx->seq++;
  return MOAT_OK;
}

moat_err hpke_open(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                   const uint8_t *ct, size_t ct_len, uint8_t *out_pt) {
  uint8_t nonce[AEAD_NONCE_LEN];
  if (ctx->sender) {
    return MOAT_ERR_BAD_STATE;
  }
  if (ct_len < HPKE_TAG_LEN) {
    return MOAT_ERR_DECODE_ERROR;
  }
  moat_err err = check_seq(ctx);
  if (err != MOAT_OK) {
    return err;
  }
  compute_nonce(ctx, nonce);
  if (!aead_open(ctx->aead_ctx, nonce, aad, aad_len, ct, ct_len, out_pt)) {
    return MOAT_ERR_DECRYPT_ERROR;
  }
  ctx->seq++;
  return MOAT_OK;
}

moat_err hpke_export(hpke_ctx *ctx, const uint8_t *exporter_context,
                     size_t exporter_context_len, uint8_t *out,
                     size_t out_len) {
  if (out_len > 255 * HPKE_NH) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  if (!labeled_expand(ctx->hmac, &ctx->sid, ctx->exporter_secret, "sec",
                      exporter_context, exporter_context_len, out, out_len)) {
    return MOAT_ERR_CRYPTO;
  }
  return MOAT_OK;
}

uint64_t hpke_seq(const hpke_ctx *ctx) {
  return ctx->seq;
}
