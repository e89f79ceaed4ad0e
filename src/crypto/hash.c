/* Hashes: SHA-1 and SHA-2 over libcrypto's plain SHA contexts.
 *
 * libcrypto 3.0 marks SHA256_Init and friends deprecated in favour of
 * EVP_MD_CTX, but an EVP_MD_CTX frees and reallocates its provider state
 * on every init and every copy, and dispatches each update through the
 * provider.  The transcript hash is peeked at a dozen times per handshake
 * and HKDF restarts HMAC states dozens of times; with the plain contexts a
 * copy is a struct assignment and nothing allocates.  The contexts are
 * the same code libcrypto's default provider runs underneath.
 *
 * hash_final_with pads a short last block itself (FIPS 180-4 5.1) and
 * hands it to SHA256_Transform / SHA512_Transform, libcrypto's
 * compression function: every HMAC in the key schedule ends that way, and
 * it skips the update's buffer copy and the final's separate pass. */
#undef OPENSSL_NO_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

#include "base/mem.h"
#include "crypto/crypto.h"

static const hash_alg k_hashes[] = {
    {HASH_SHA1, "SHA1", 20, 64},
    {HASH_SHA256, "SHA256", 32, 64},
    {HASH_SHA384, "SHA384", 48, 128},
    {HASH_SHA512, "SHA512", 64, 128},
};

typedef union sha_state {
  SHA_CTX sha1;
  SHA256_CTX sha256;
  SHA512_CTX sha512; /* also SHA-384 */
} sha_state;

struct hash_ctx {
  const hash_alg *alg;
  sha_state st;
};

const hash_alg *hash_get(hash_id id) {
  for (size_t i = 0; i < sizeof(k_hashes) / sizeof(k_hashes[0]); i++) {
    if (k_hashes[i].id == id) {
      return &k_hashes[i];
    }
  }
  return NULL;
}

/* The bytes of the union this hash uses: copies and wipes touch only
 * those (a SHA-256 state is half the union). */
static size_t st_size(hash_id id) {
  switch (id) {
  case HASH_SHA1:
    return sizeof(SHA_CTX);
  case HASH_SHA256:
    return sizeof(SHA256_CTX);
  default:
    return sizeof(SHA512_CTX);
  }
}

static bool st_init(hash_id id, sha_state *st) {
  switch (id) {
  case HASH_SHA1:
    return SHA1_Init(&st->sha1) == 1;
  case HASH_SHA256:
    return SHA256_Init(&st->sha256) == 1;
  case HASH_SHA384:
    return SHA384_Init(&st->sha512) == 1;
  case HASH_SHA512:
    return SHA512_Init(&st->sha512) == 1;
  default:
    return false;
  }
}

static bool st_update(hash_id id, sha_state *st, const uint8_t *data,
                      size_t len) {
  switch (id) {
  case HASH_SHA1:
    return SHA1_Update(&st->sha1, data, len) == 1;
  case HASH_SHA256:
    return SHA256_Update(&st->sha256, data, len) == 1;
  case HASH_SHA384:
    return SHA384_Update(&st->sha512, data, len) == 1;
  case HASH_SHA512:
    return SHA512_Update(&st->sha512, data, len) == 1;
  default:
    return false;
  }
}

static bool st_final(hash_id id, sha_state *st, uint8_t *out) {
  switch (id) {
  case HASH_SHA1:
    return SHA1_Final(out, &st->sha1) == 1;
  case HASH_SHA256:
    return SHA256_Final(out, &st->sha256) == 1;
  case HASH_SHA384:
    return SHA384_Final(out, &st->sha512) == 1;
  case HASH_SHA512:
    return SHA512_Final(out, &st->sha512) == 1;
  default:
    return false;
  }
}

hash_ctx *hash_new(const hash_alg *alg) {
  if (alg == NULL) {
    return NULL;
  }
  hash_ctx *ctx = moat_calloc(1, sizeof(*ctx));
  if (ctx == NULL) {
    return NULL;
  }
  ctx->alg = alg;
  if (!hash_init(ctx)) {
    hash_free(ctx);
    return NULL;
  }
  return ctx;
}

size_t hash_ctx_size(void) {
  return sizeof(hash_ctx);
}

hash_ctx *hash_place(void *mem, const hash_alg *alg) {
  hash_ctx *ctx = mem;
  memset(ctx, 0, sizeof(*ctx));
  ctx->alg = alg;
  return alg != NULL && hash_init(ctx) ? ctx : NULL;
}

void hash_free(hash_ctx *ctx) {
  if (ctx == NULL) {
    return;
  }
  moat_free_wipe(ctx, sizeof(*ctx));
}

const hash_alg *hash_ctx_alg(const hash_ctx *ctx) {
  return ctx->alg;
}

bool hash_init(hash_ctx *ctx) {
  return st_init(ctx->alg->id, &ctx->st);
}

bool hash_update(hash_ctx *ctx, const uint8_t *data, size_t len) {
  if (len == 0) {
    return true;
  }
  return st_update(ctx->alg->id, &ctx->st, data, len);
}

bool hash_final(hash_ctx *ctx, uint8_t *out) {
  return st_final(ctx->alg->id, &ctx->st, out);
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v) {
  put_be32(p, (uint32_t)(v >> 32));
  put_be32(p + 4, (uint32_t)v);
}

/* The last block of a SHA-256 message whose earlier blocks the state has
 * absorbed (FIPS 180-4 5.1.1): data, 0x80, zeros, the length in bits. */
static void sha256_last(SHA256_CTX *st, const uint8_t *data, size_t len,
                        uint8_t *out) {
  uint8_t block[64];
  uint64_t bits = (((uint64_t)st->Nh << 32) | st->Nl) + (uint64_t)len * 8;
  if (len > 0) {
    memcpy(block, data, len);
  }
  block[len] = 0x80;
  memset(block + len + 1, 0, 56 - len - 1);
  put_be64(block + 56, bits);
  SHA256_Transform(st, block);
  for (size_t i = 0; i < 8; i++) {
    put_be32(out + 4 * i, st->h[i]);
  }
  moat_wipe(block, sizeof(block));
}

/* The same for SHA-384 and SHA-512 (FIPS 180-4 5.1.2): 128-byte blocks,
 * a 128-bit length; out_len 48 or 64. */
static void sha512_last(SHA512_CTX *st, const uint8_t *data, size_t len,
                        uint8_t *out, size_t out_len) {
  uint8_t block[128];
  uint64_t low = st->Nl + (uint64_t)len * 8;
  uint64_t high = st->Nh + (low < st->Nl ? 1 : 0);
  if (len > 0) {
    memcpy(block, data, len);
  }
  block[len] = 0x80;
  memset(block + len + 1, 0, 112 - len - 1);
  put_be64(block + 112, high);
  put_be64(block + 120, low);
  SHA512_Transform(st, block);
  for (size_t i = 0; i < out_len / 8; i++) {
    put_be64(out + 8 * i, st->h[i]);
  }
  moat_wipe(block, sizeof(block));
}

bool hash_final_with(hash_ctx *ctx, const uint8_t *data, size_t len,
                     uint8_t *out) {
  switch (ctx->alg->id) {
  case HASH_SHA256:
    if (ctx->st.sha256.num == 0 && len < 56) {
      sha256_last(&ctx->st.sha256, data, len, out);
      return true;
    }
    break;
  case HASH_SHA384:
  case HASH_SHA512:
    if (ctx->st.sha512.num == 0 && len < 112) {
      sha512_last(&ctx->st.sha512, data, len, out, ctx->alg->len);
      return true;
    }
    break;
  default:
    break;
  }
  return hash_update(ctx, data, len) && hash_final(ctx, out);
}

bool hash_peek(hash_ctx *ctx, uint8_t *out) {
  const size_t n = st_size(ctx->alg->id);
  sha_state copy;
  memcpy(&copy, &ctx->st, n);
  bool ok = st_final(ctx->alg->id, &copy, out);
  moat_wipe(&copy, n);
  return ok;
}

bool hash_copy(hash_ctx *dst, const hash_ctx *src) {
  if (dst->alg != src->alg) {
    return false;
  }
  memcpy(&dst->st, &src->st, st_size(src->alg->id));
  return true;
}

bool hash_oneshot(const hash_alg *alg, const uint8_t *data, size_t len,
                  uint8_t *out) {
  sha_state st;
  if (alg == NULL) {
    return false;
  }
  bool ok = st_init(alg->id, &st) &&
            (len == 0 || st_update(alg->id, &st, data, len)) &&
            st_final(alg->id, &st, out);
  moat_wipe(&st, st_size(alg->id));
  return ok;
}
