/* The compression adapter's table and the checks every algorithm shares. */
#include "compress/compress.h"

#include <stdalign.h>
#include <string.h>

#include "base/mem.h"

extern const compress_alg compress_alg_zlib;
extern const compress_alg compress_alg_brotli;
extern const compress_alg compress_alg_zstd;

/* In order of preference, by what a TLS 1.3 handshake costs (make bench,
 * hs.tls13.x25519.ecdsa with one algorithm at a time): zlib keeps the
 * handshake rate and peak memory of no compression (77.6 KB against
 * 77.1 KB) and saves 12% of an RSA-2048 chain's bytes, 22% of an ECDSA
 * one's; brotli saves a little more (13%, 23%) for 18 KB more peak and 12
 * more allocations; zstd as much, but its decoder doubles the peak (161
 * KB) and costs 6% of the handshake rate.  RFC 8879 leaves the choice to
 * the implementation. */
static const compress_alg *const k_builtin[] = {
#ifdef MOAT_HAVE_ZLIB
    &compress_alg_zlib,
#endif
#ifdef MOAT_HAVE_BROTLI
    &compress_alg_brotli,
#endif
#ifdef MOAT_HAVE_ZSTD
    &compress_alg_zstd,
#endif
    NULL,
};

const compress_alg *compress_builtin(size_t i) {
  size_t num = sizeof(k_builtin) / sizeof(k_builtin[0]) - 1;
  return i < num ? k_builtin[i] : NULL;
}

const compress_alg *compress_get(uint16_t code) {
  for (size_t i = 0; k_builtin[i] != NULL; i++) {
    if (k_builtin[i]->code == code) {
      return k_builtin[i];
    }
  }
  return NULL;
}

bool compress_data(const compress_alg *alg, const uint8_t *in, size_t in_len,
                   builder *out) {
  if (alg == NULL || in_len > COMPRESS_MAX_OUTPUT) {
    return false;
  }
  return alg->compress(in, in_len, out);
}

compress_status compress_expand(const compress_alg *alg, const uint8_t *in,
                                size_t in_len, size_t expected_len,
                                uint8_t *out, size_t cap) {
  if (alg == NULL) {
    return COMPRESS_INTERNAL;
  }
  if (expected_len > cap || expected_len > COMPRESS_MAX_OUTPUT) {
    return COMPRESS_TOO_BIG;
  }
  if (in_len == 0) {
    return COMPRESS_TRUNCATED;
  }
  compress_status s = alg->expand(in, in_len, out, expected_len);
  if (s != COMPRESS_OK) {
    /* Nothing half-decoded reaches the caller. */
    memset(out, 0, expected_len);
  }
  return s;
}

const char *compress_status_text(compress_status s) {
  switch (s) {
  case COMPRESS_OK:
    return "ok";
  case COMPRESS_CORRUPT:
    return "the compressed data is not a valid stream";
  case COMPRESS_TRUNCATED:
    return "the compressed data ends inside the stream";
  case COMPRESS_TOO_LONG:
    return "the data decompresses to more bytes than announced";
  case COMPRESS_TOO_SHORT:
    return "the data decompresses to fewer bytes than announced";
  case COMPRESS_TRAILING:
    return "bytes follow the end of the compressed stream";
  case COMPRESS_OVER_BUDGET:
    return "the stream asks the decoder for more memory than moat allows";
  case COMPRESS_TOO_BIG:
    return "the announced length exceeds what moat accepts";
  case COMPRESS_INTERNAL:
  default:
    return "the decompressor failed";
  }
}

/* Each block starts with its size, so that a free can give it back to
 * the budget; the header keeps the block aligned for any type. */
typedef union budget_hdr {
  size_t size;
  max_align_t align;
} budget_hdr;

void *compress_budget_alloc(void *budget, size_t size) {
  compress_budget *b = budget;
  if (size > COMPRESS_WORK_MAX - b->used) {
    b->refused = true;
    return NULL;
  }
  budget_hdr *h = moat_malloc(sizeof(*h) + size);
  if (h == NULL) {
    return NULL;
  }
  h->size = size;
  b->used += size;
  return h + 1;
}

void compress_budget_free(void *budget, void *p) {
  if (p == NULL) {
    return;
  }
  compress_budget *b = budget;
  budget_hdr *h = (budget_hdr *)p - 1;
  b->used -= h->size;
  moat_free(h);
}
