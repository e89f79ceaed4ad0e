/* Brotli (RFC 7932) for RFC 8879's algorithm 2, through the streaming
 * decoder with a bounded output buffer and an allocator on the shared
 * budget: a stream header may announce a 16 MiB window and metablocks of
 * that size, which the decoder would otherwise allocate on trust. */
#include <brotli/decode.h>
#include <brotli/encode.h>

#include "compress/compress.h"

static bool brotli_compress(const uint8_t *in, size_t in_len, builder *out) {
  /* The smallest window that holds the whole input (a window of 2^w
   * bytes holds 2^w - 16, RFC 7932 9.1), so that decoders allocate no
   * more than the data needs. */
  int lgwin = BROTLI_MIN_WINDOW_BITS;
  while (lgwin < BROTLI_MAX_WINDOW_BITS && ((size_t)1 << lgwin) - 16 < in_len) {
    lgwin++;
  }
  size_t bound = BrotliEncoderMaxCompressedSize(in_len);
  uint8_t *p;
  if (bound == 0 || !bld_space(out, bound, &p)) {
    return false;
  }
  size_t n = bound;
  if (!BrotliEncoderCompress(BROTLI_MAX_QUALITY, lgwin, BROTLI_MODE_GENERIC,
                             in_len, in, &n, p)) {
    (void)bld_unreserve(out, bound);
    return false;
  }
  return bld_unreserve(out, bound - n);
}

static compress_status brotli_expand(const uint8_t *in, size_t in_len,
                                     uint8_t *out, size_t out_len) {
  compress_budget budget = {0};
  BrotliDecoderState *st = BrotliDecoderCreateInstance(
      compress_budget_alloc, compress_budget_free, &budget);
  if (st == NULL) {
    return budget.refused ? COMPRESS_OVER_BUDGET : COMPRESS_INTERNAL;
  }
  size_t avail_in = in_len, avail_out = out_len;
  const uint8_t *next_in = in;
  uint8_t *next_out = out;
  /* One call with all input: the decoder returns at the end of the
   * stream, when the input runs out, when the output buffer is full and
   * more would follow, or on an error. */
  BrotliDecoderResult r = BrotliDecoderDecompressStream(
      st, &avail_in, &next_in, &avail_out, &next_out, NULL);
  compress_status s;
  switch (r) {
  case BROTLI_DECODER_RESULT_SUCCESS:
    s = avail_out != 0  ? COMPRESS_TOO_SHORT
        : avail_in != 0 ? COMPRESS_TRAILING
                        : COMPRESS_OK;
    break;
  case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
    s = COMPRESS_TOO_LONG;
    break;
  case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
    s = COMPRESS_TRUNCATED;
    break;
  case BROTLI_DECODER_RESULT_ERROR:
  default:
    if (budget.refused) {
      s = COMPRESS_OVER_BUDGET;
    } else if (BrotliDecoderGetErrorCode(st) <=
               BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES) {
      s = COMPRESS_INTERNAL; /* the ALLOC_* codes, -21 and below */
    } else {
      s = COMPRESS_CORRUPT;
    }
    break;
  }
  BrotliDecoderDestroyInstance(st);
  return s;
}

const compress_alg compress_alg_brotli = {
    .code = COMPRESS_BROTLI,
    .name = "brotli",
    .compress = brotli_compress,
    .expand = brotli_expand,
};
