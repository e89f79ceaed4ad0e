/* AEADs (AES-GCM, ChaCha20-Poly1305) over one kept EVP_CIPHER_CTX.
 *
 * The context is keyed once in aead_new (and again only on KeyUpdate); a
 * record sets just the nonce, so sealing and opening allocate nothing. */
#include <limits.h>
#include <openssl/err.h>
#include <string.h>

#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/ossl_common.h"

static const aead_alg k_aeads[] = {
    {AEAD_AES_128_GCM, "AES-128-GCM", 16, AEAD_NONCE_LEN, AEAD_TAG_LEN},
    {AEAD_AES_256_GCM, "AES-256-GCM", 32, AEAD_NONCE_LEN, AEAD_TAG_LEN},
    {AEAD_CHACHA20_POLY1305, "CHACHA20-POLY1305", 32, AEAD_NONCE_LEN,
     AEAD_TAG_LEN},
};

static EVP_CIPHER_CTX *evp(const aead_ctx *ctx) {
  return (EVP_CIPHER_CTX *)ctx->impl;
}

const aead_alg *aead_get(aead_id id) {
  for (size_t i = 0; i < sizeof(k_aeads) / sizeof(k_aeads[0]); i++) {
    if (k_aeads[i].id == id) {
      return ossl_cipher(id) != NULL ? &k_aeads[i] : NULL;
    }
  }
  return NULL;
}

bool aead_init(aead_ctx *ctx, const aead_alg *alg, const uint8_t *key,
               bool encrypt) {
  const EVP_CIPHER *cipher = alg != NULL ? ossl_cipher(alg->id) : NULL;
  memset(ctx, 0, sizeof(*ctx));
  if (cipher == NULL || key == NULL) {
    return false;
  }
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int enc = encrypt ? 1 : 0;
  /* All three take a 12-byte nonce by default; setting the length anyway
   * is a parameter round trip through the provider. */
  bool ok = c != NULL;
  if (ok && EVP_CIPHER_get_iv_length(cipher) == (int)alg->nonce_len) {
    ok = EVP_CipherInit_ex2(c, cipher, key, NULL, enc, NULL) == 1;
  } else if (ok) {
    ok = EVP_CipherInit_ex2(c, cipher, NULL, NULL, enc, NULL) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, (int)alg->nonce_len,
                             NULL) == 1 &&
         EVP_CipherInit_ex2(c, NULL, key, NULL, enc, NULL) == 1;
  }
  if (!ok) {
    ERR_clear_error();
    EVP_CIPHER_CTX_free(c); /* cleanses the key schedule */
    return false;
  }
  ctx->alg = alg;
  ctx->impl = c;
  ctx->enc = enc;
  return true;
}

void aead_clear(aead_ctx *ctx) {
  /* EVP_CIPHER_CTX_free cleanses the key schedule. */
  EVP_CIPHER_CTX_free(evp(ctx));
  memset(ctx, 0, sizeof(*ctx));
}

aead_ctx *aead_new(const aead_alg *alg, const uint8_t *key, bool encrypt) {
  aead_ctx *ctx = moat_calloc(1, sizeof(*ctx));
  if (ctx != NULL && !aead_init(ctx, alg, key, encrypt)) {
    moat_free(ctx);
    return NULL;
  }
  return ctx;
}

void aead_free(aead_ctx *ctx) {
  if (ctx == NULL) {
    return;
  }
  aead_clear(ctx);
  moat_free(ctx);
}

bool aead_rekey(aead_ctx *ctx, const uint8_t *key) {
  if (EVP_CipherInit_ex2(evp(ctx), NULL, key, NULL, ctx->enc, NULL) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

/* Set the nonce and feed the additional data. */
static bool aead_start(aead_ctx *ctx, const uint8_t *nonce, const uint8_t *aad,
                       size_t aad_len) {
  int n = 0;
  if (aad_len > INT_MAX ||
      EVP_CipherInit_ex2(evp(ctx), NULL, NULL, nonce, ctx->enc, NULL) != 1) {
    return false;
  }
  if (aad_len > 0 &&
      EVP_CipherUpdate(evp(ctx), NULL, &n, aad, (int)aad_len) != 1) {
    return false;
  }
  return true;
}

bool aead_seal_parts(aead_ctx *ctx, const uint8_t nonce[AEAD_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *in,
                     size_t in_len, const uint8_t *trailer, size_t trailer_len,
                     uint8_t *out) {
  int n = 0, m = 0, fin = 0;
  size_t total = in_len + trailer_len;
  if (!ctx->enc || in_len > INT_MAX - AEAD_TAG_LEN ||
      trailer_len > INT_MAX - AEAD_TAG_LEN - in_len ||
      !aead_start(ctx, nonce, aad, aad_len)) {
    goto fail;
  }
  if (in_len > 0 &&
      (EVP_CipherUpdate(evp(ctx), out, &n, in, (int)in_len) != 1 ||
       (size_t)n != in_len)) {
    goto fail;
  }
  if (trailer_len > 0 && (EVP_CipherUpdate(evp(ctx), out + n, &m, trailer,
                                           (int)trailer_len) != 1 ||
                          (size_t)m != trailer_len)) {
    goto fail;
  }
  if (EVP_CipherFinal_ex(evp(ctx), out + total, &fin) != 1 || fin != 0 ||
      EVP_CIPHER_CTX_ctrl(evp(ctx), EVP_CTRL_AEAD_GET_TAG,
                          (int)ctx->alg->tag_len, out + total) != 1) {
    goto fail;
  }
  return true;

fail:
  ERR_clear_error();
  return false;
}

bool aead_seal(aead_ctx *ctx, const uint8_t nonce[AEAD_NONCE_LEN],
               const uint8_t *aad, size_t aad_len, const uint8_t *in,
               size_t in_len, uint8_t *out) {
  return aead_seal_parts(ctx, nonce, aad, aad_len, in, in_len, NULL, 0, out);
}

bool aead_open(aead_ctx *ctx, const uint8_t nonce[AEAD_NONCE_LEN],
               const uint8_t *aad, size_t aad_len, const uint8_t *in,
               size_t in_len, uint8_t *out) {
  if (in_len < ctx->alg->tag_len) {
    return false;
  }
  /* All of the plaintext is the "head", written to out: nothing is
   * written into in (the in-place part is empty), so in may be const. */
  return aead_open_split(ctx, nonce, aad, aad_len, (uint8_t *)in, in_len, out,
                         in_len - ctx->alg->tag_len);
}

bool aead_open_split(aead_ctx *ctx, const uint8_t nonce[AEAD_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, uint8_t *ct,
                     size_t ct_len, uint8_t *head, size_t head_len) {
  const size_t tag_len = ctx->alg->tag_len;
  uint8_t tag[AEAD_TAG_LEN];
  int n = 0, m = 0, fin = 0;
  bool ok = false;

  if (ctx->enc || ct_len < tag_len || ct_len > INT_MAX ||
      head_len > ct_len - tag_len) {
    return false; /* nothing decrypted, and head_len is not to be trusted */
  }
  const size_t body_len = ct_len - tag_len; /* head part + in-place part */
  const size_t rest = body_len - head_len;
  memcpy(tag, ct + body_len, tag_len);
  if (!aead_start(ctx, nonce, aad, aad_len) ||
      EVP_CIPHER_CTX_ctrl(evp(ctx), EVP_CTRL_AEAD_SET_TAG, (int)tag_len, tag) !=
          1) {
    goto cleanup;
  }
  /* Both ciphers are stream modes: each update returns exactly its input,
   * so the split point needs no block alignment. */
  if (head_len > 0 &&
      (EVP_CipherUpdate(evp(ctx), head, &n, ct, (int)head_len) != 1 ||
       (size_t)n != head_len)) {
    goto cleanup;
  }
  if (rest > 0 && (EVP_CipherUpdate(evp(ctx), ct + head_len, &m, ct + head_len,
                                    (int)rest) != 1 ||
                   (size_t)m != rest)) {
    goto cleanup;
  }
  /* The tag is checked here (in constant time, inside libcrypto). */
  if (EVP_CipherFinal_ex(evp(ctx), ct + body_len, &fin) != 1 || fin != 0) {
    goto cleanup;
  }
  ok = true;

cleanup:
  if (!ok) {
    ERR_clear_error();
    /* GCM and Poly1305 release plaintext before the tag is checked: leave
     * nothing of it behind. */
    if (head_len > 0) {
      moat_wipe(head, head_len);
    }
    if (body_len > head_len) {
      moat_wipe(ct + head_len, body_len - head_len);
    }
  }
  return ok;
}
