/* Hashes over libcrypto's EVP_MD, fetched once per process.
 *
 * A hash_ctx keeps two EVP_MD_CTX: the running state and a scratch one
 * that hash_peek copies into and finishes, so a transcript hash can be
 * read at any point without disturbing it. */
#include <openssl/err.h>

#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/ossl_common.h"

static const hash_alg k_hashes[] = {
    {HASH_SHA1, "SHA1", 20, 64},
    {HASH_SHA256, "SHA256", 32, 64},
    {HASH_SHA384, "SHA384", 48, 128},
    {HASH_SHA512, "SHA512", 64, 128},
};

struct hash_ctx {
  const hash_alg *alg;
  const EVP_MD *md;
  EVP_MD_CTX *run;
  EVP_MD_CTX *scratch;
};

const hash_alg *hash_get(hash_id id) {
  for (size_t i = 0; i < sizeof(k_hashes) / sizeof(k_hashes[0]); i++) {
    if (k_hashes[i].id == id) {
      return ossl_md(id) != NULL ? &k_hashes[i] : NULL;
    }
  }
  return NULL;
}

hash_ctx *hash_new(const hash_alg *alg) {
  if (alg == NULL || ossl_md(alg->id) == NULL) {
    return NULL;
  }
  hash_ctx *ctx = moat_calloc(1, sizeof(*ctx));
  if (ctx == NULL) {
    return NULL;
  }
  ctx->alg = alg;
  ctx->md = ossl_md(alg->id);
  ctx->run = EVP_MD_CTX_new();
  ctx->scratch = EVP_MD_CTX_new();
  if (ctx->run == NULL || ctx->scratch == NULL || !hash_init(ctx)) {
    hash_free(ctx);
    return NULL;
  }
  return ctx;
}

void hash_free(hash_ctx *ctx) {
  if (ctx == NULL) {
    return;
  }
  /* EVP_MD_CTX_free cleanses the provider state. */
  EVP_MD_CTX_free(ctx->run);
  EVP_MD_CTX_free(ctx->scratch);
  moat_free(ctx);
}

const hash_alg *hash_ctx_alg(const hash_ctx *ctx) {
  return ctx->alg;
}

bool hash_init(hash_ctx *ctx) {
  if (EVP_DigestInit_ex2(ctx->run, ctx->md, NULL) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

bool hash_update(hash_ctx *ctx, const uint8_t *data, size_t len) {
  if (len == 0) {
    return true;
  }
  if (EVP_DigestUpdate(ctx->run, data, len) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

bool hash_final(hash_ctx *ctx, uint8_t *out) {
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx->run, out, &n) != 1 || n != ctx->alg->len) {
    ERR_clear_error();
    return false;
  }
  return true;
}

bool hash_peek(hash_ctx *ctx, uint8_t *out) {
  unsigned int n = 0;
  if (EVP_MD_CTX_copy_ex(ctx->scratch, ctx->run) != 1 ||
      EVP_DigestFinal_ex(ctx->scratch, out, &n) != 1 || n != ctx->alg->len) {
    ERR_clear_error();
    return false;
  }
  return true;
}

bool hash_copy(hash_ctx *dst, const hash_ctx *src) {
  if (dst->alg != src->alg) {
    return false;
  }
  if (EVP_MD_CTX_copy_ex(dst->run, src->run) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

bool hash_oneshot(const hash_alg *alg, const uint8_t *data, size_t len,
                  uint8_t *out) {
  const EVP_MD *md = alg != NULL ? ossl_md(alg->id) : NULL;
  unsigned int n = 0;
  if (md == NULL || EVP_Digest(data, len, out, &n, md, NULL) != 1 ||
      n != alg->len) {
    ERR_clear_error();
    return false;
  }
  return true;
}
