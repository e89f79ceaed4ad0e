/* HMAC (RFC 2104) and HKDF (RFC 5869), generic over hash_ctx.
 *
 * No libcrypto here: EVP_MAC and EVP_KDF fetch and allocate on every call.
 * An hmac_ctx instead keeps the two keyed states (hash of K ^ ipad and of
 * K ^ opad) computed once per key; each MAC with that key starts from
 * copies of them, so HKDF-Expand hashes the key blocks only once.  The
 * context also remembers its key: the TLS 1.3 key schedule expands the
 * same secret several times in a row (a traffic key and IV, the client
 * and server secrets from one stage), and keying again with the same
 * bytes reuses the keyed states. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/mem.h"
#include "crypto/crypto.h"

struct hmac_ctx {
  const hash_alg *alg;
  hash_ctx *inner_keyed; /* state after K ^ ipad */
  hash_ctx *outer_keyed; /* state after K ^ opad */
  hash_ctx *inner;       /* running MAC */
  hash_ctx *outer;
  bool keyed;
  bool running;   /* between hmac_init/hmac_reset and hmac_final */
  size_t key_len; /* of key, when keyed by one no longer than a block */
  uint8_t key[HASH_MAX_BLOCK];
};

/* The context and its four hash states are one allocation. */
static size_t hmac_head_size(void) {
  const size_t align = _Alignof(max_align_t);
  return (sizeof(hmac_ctx) + align - 1) / align * align;
}

static size_t hmac_state_size(void) {
  const size_t align = _Alignof(max_align_t);
  return (hash_ctx_size() + align - 1) / align * align;
}

size_t hmac_ctx_size(void) {
  return hmac_head_size() + 4 * hmac_state_size();
}

hmac_ctx *hmac_place(void *mem, const hash_alg *alg) {
  if (alg == NULL || alg->len > HASH_MAX_LEN ||
      alg->block_len > HASH_MAX_BLOCK) {
    return NULL;
  }
  memset(mem, 0, hmac_ctx_size());
  hmac_ctx *ctx = mem;
  uint8_t *st = (uint8_t *)mem + hmac_head_size();
  ctx->alg = alg;
  ctx->inner_keyed = hash_place(st, alg);
  ctx->outer_keyed = hash_place(st + hmac_state_size(), alg);
  ctx->inner = hash_place(st + 2 * hmac_state_size(), alg);
  ctx->outer = hash_place(st + 3 * hmac_state_size(), alg);
  if (ctx->inner_keyed == NULL || ctx->outer_keyed == NULL ||
      ctx->inner == NULL || ctx->outer == NULL) {
    moat_wipe(mem, hmac_ctx_size());
    return NULL;
  }
  return ctx;
}

hmac_ctx *hmac_new(const hash_alg *alg) {
  if (alg == NULL) {
    return NULL;
  }
  uint8_t *mem = moat_malloc(hmac_ctx_size());
  hmac_ctx *ctx = mem != NULL ? hmac_place(mem, alg) : NULL;
  if (ctx == NULL) {
    moat_free(mem);
  }
  return ctx;
}

void hmac_free(hmac_ctx *ctx) {
  if (ctx == NULL) {
    return;
  }
  /* The keyed states and the remembered key are secret. */
  moat_free_wipe(ctx, hmac_ctx_size());
}

const hash_alg *hmac_ctx_alg(const hmac_ctx *ctx) {
  return ctx->alg;
}

/* dst = src ^ (the byte b repeated), over n bytes, n a multiple of 8, a
 * word at a time (the loop runs on every new key). */
static void xor_pad(uint8_t *dst, const uint8_t *src, size_t n, uint8_t b) {
  const uint64_t mask = 0x0101010101010101u * b;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w;
    memcpy(&w, src + i, 8);
    w ^= mask;
    memcpy(dst + i, &w, 8);
  }
}

bool hmac_init(hmac_ctx *ctx, const uint8_t *key, size_t key_len) {
  const hash_alg *alg = ctx->alg;
  const size_t block = alg->block_len;
  uint8_t k[HASH_MAX_BLOCK];
  uint8_t pad[HASH_MAX_BLOCK];
  bool ok = false;

  if (ctx->keyed && key_len <= block && key_len == ctx->key_len &&
      ct_eq(key, ctx->key, key_len)) {
    return hmac_reset(ctx);
  }
  ctx->keyed = false;
  ctx->running = false;
  if (ctx->key_len <= block) {
    moat_wipe(ctx->key, ctx->key_len);
  }
  ctx->key_len = SIZE_MAX;
  /* RFC 2104 2: a key longer than the block is hashed first; a shorter
   * one is padded with zeros to the block length. */
  size_t used = key_len;
  if (key_len > block) {
    if (!hash_oneshot(alg, key, key_len, k)) {
      goto cleanup;
    }
    used = alg->len;
  } else if (key_len > 0) {
    memcpy(k, key, key_len);
  }
  memset(k + used, 0, block - used);
  xor_pad(pad, k, block, 0x36);
  if (!hash_init(ctx->inner_keyed) ||
      !hash_update(ctx->inner_keyed, pad, block)) {
    goto cleanup;
  }
  xor_pad(pad, k, block, 0x5c);
  if (!hash_init(ctx->outer_keyed) ||
      !hash_update(ctx->outer_keyed, pad, block)) {
    goto cleanup;
  }
  ctx->keyed = true;
  if (key_len <= block) {
    if (key_len > 0) {
      memcpy(ctx->key, key, key_len);
    }
    ctx->key_len = key_len;
  }
  ok = hmac_reset(ctx);

cleanup:
  moat_wipe(k, block);
  moat_wipe(pad, block);
  return ok;
}

bool hmac_init_as(hmac_ctx *ctx, const hmac_ctx *from) {
  if (ctx == from) {
    return hmac_reset(ctx);
  }
  if (!from->keyed || from->alg != ctx->alg ||
      !hash_copy(ctx->inner_keyed, from->inner_keyed) ||
      !hash_copy(ctx->outer_keyed, from->outer_keyed)) {
    ctx->keyed = false;
    ctx->running = false;
    return false;
  }
  if (ctx->key_len <= sizeof(ctx->key)) {
    moat_wipe(ctx->key, ctx->key_len);
  }
  ctx->key_len = from->key_len;
  if (from->key_len <= sizeof(from->key)) {
    memcpy(ctx->key, from->key, from->key_len);
  }
  ctx->keyed = true;
  return hmac_reset(ctx);
}

bool hmac_reset(hmac_ctx *ctx) {
  ctx->running = ctx->keyed && hash_copy(ctx->inner, ctx->inner_keyed);
  return ctx->running;
}

bool hmac_update(hmac_ctx *ctx, const uint8_t *data, size_t len) {
  if (!ctx->running) {
    return false;
  }
  return hash_update(ctx->inner, data, len);
}

bool hmac_final_with(hmac_ctx *ctx, const uint8_t *data, size_t len,
                     uint8_t *out) {
  uint8_t ih[HASH_MAX_LEN];
  bool ok = ctx->running && hash_final_with(ctx->inner, data, len, ih) &&
            hash_copy(ctx->outer, ctx->outer_keyed) &&
            hash_final_with(ctx->outer, ih, ctx->alg->len, out);
  ctx->running = false;
  moat_wipe(ih, sizeof(ih));
  return ok;
}

bool hmac_final(hmac_ctx *ctx, uint8_t *out) {
  return hmac_final_with(ctx, NULL, 0, out);
}

bool hmac_oneshot(hmac_ctx *ctx, const uint8_t *key, size_t key_len,
                  const uint8_t *data, size_t len, uint8_t *out) {
  return hmac_init(ctx, key, key_len) && hmac_final_with(ctx, data, len, out);
}

bool hkdf_extract(hmac_ctx *ctx, const uint8_t *salt, size_t salt_len,
                  const uint8_t *ikm, size_t ikm_len, uint8_t *out) {
  static const uint8_t zeros[HASH_MAX_LEN];
  /* RFC 5869 2.2: salt defaults to HashLen zero octets. */
  if (salt == NULL || salt_len == 0) {
    salt = zeros;
    salt_len = ctx->alg->len;
  }
  return hmac_oneshot(ctx, salt, salt_len, ikm, ikm_len, out);
}

bool hkdf_expand(hmac_ctx *ctx, const uint8_t *prk, size_t prk_len,
                 const uint8_t *info, size_t info_len, uint8_t *out,
                 size_t out_len) {
  const size_t hlen = ctx->alg->len;
  uint8_t t[HASH_MAX_LEN];
  size_t done = 0;
  bool ok = false;

  /* RFC 5869 2.3: L <= 255 * HashLen. */
  if (out_len > 255 * hlen) {
    return false;
  }
  /* The key is absorbed here, so out may overlap prk. */
  if (!hmac_init(ctx, prk, prk_len)) {
    return false;
  }
  /* T(i) = HMAC(PRK, T(i-1) | info | i), T(0) empty.  A short message
   * is put together here and given to the MAC in one piece, so its hash
   * steps can fuse (TLS 1.3 labels always are short). */
  uint8_t msg[128];
  for (unsigned i = 1; done < out_len; i++) {
    uint8_t counter = (uint8_t)i;
    size_t prev = i > 1 ? hlen : 0;
    if (i > 1 && !hmac_reset(ctx)) {
      goto cleanup;
    }
    if (info_len < sizeof(msg) - prev) { /* prev + info + counter fit */
      memcpy(msg, t, prev);
      if (info_len > 0) {
        memcpy(msg + prev, info, info_len);
      }
      msg[prev + info_len] = counter;
      if (!hmac_final_with(ctx, msg, prev + info_len + 1, t)) {
        goto cleanup;
      }
    } else if (!hmac_update(ctx, t, prev) ||
               !hmac_update(ctx, info, info_len) ||
               !hmac_update(ctx, &counter, 1) || !hmac_final(ctx, t)) {
      goto cleanup;
    }
    size_t n = out_len - done < hlen ? out_len - done : hlen;
    memcpy(out + done, t, n);
    done += n;
  }
  ok = true;

cleanup:
  moat_wipe(t, sizeof(t));
  moat_wipe(msg, sizeof(msg));
  return ok;
}
