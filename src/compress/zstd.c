/* Zstandard (RFC 8878) for RFC 8879's algorithm 3.  Decompression is
 * zstd's one-shot call into the caller's buffer: it allocates no window
 * (the output is the window), its context has a fixed size, and it stops
 * with dstSize_tooSmall when a frame would write past the buffer. */
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "compress/compress.h"

/* Near the top of zstd's range: a chain is compressed once per context
 * and algorithm, and kept. */
#define ZSTD_LEVEL 19

static bool zstd_compress(const uint8_t *in, size_t in_len, builder *out) {
  size_t bound = ZSTD_compressBound(in_len);
  uint8_t *p;
  if (ZSTD_isError(bound) || !bld_space(out, bound, &p)) {
    return false;
  }
  /* The one-shot call records the content size in the frame header and
   * sizes the window to the input. */
  size_t n = ZSTD_compress(p, bound, in, in_len, ZSTD_LEVEL);
  if (ZSTD_isError(n)) {
    (void)bld_unreserve(out, bound);
    return false;
  }
  return bld_unreserve(out, bound - n);
}

static compress_status zstd_error(size_t r) {
  switch (ZSTD_getErrorCode(r)) {
  case ZSTD_error_dstSize_tooSmall:
    return COMPRESS_TOO_LONG;
  case ZSTD_error_srcSize_wrong:
    return COMPRESS_TRUNCATED;
  case ZSTD_error_memory_allocation:
    return COMPRESS_INTERNAL;
  default:
    return COMPRESS_CORRUPT;
  }
}

static compress_status zstd_expand(const uint8_t *in, size_t in_len,
                                   uint8_t *out, size_t out_len) {
  /* RFC 8878 3.1.1: a Zstandard frame begins with 0xFD2FB528 (little
   * endian).  Skippable frames and the pre-RFC formats a libzstd may
   * still decode are refused here. */
  static const uint8_t k_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
  if (in_len < sizeof(k_magic)) {
    return COMPRESS_TRUNCATED;
  }
  if (memcmp(in, k_magic, sizeof(k_magic)) != 0) {
    return COMPRESS_CORRUPT;
  }
  /* Exactly one frame, nothing after it (RFC 8878 3 allows several
   * frames in a row; a CompressedCertificate is one compression of one
   * message). */
  size_t frame = ZSTD_findFrameCompressedSize(in, in_len);
  if (ZSTD_isError(frame)) {
    return zstd_error(frame);
  }
  if (frame != in_len) {
    return COMPRESS_TRAILING;
  }
  /* A frame that records its content size is judged by it before any
   * decoding. */
  unsigned long long size = ZSTD_getFrameContentSize(in, in_len);
  if (size == ZSTD_CONTENTSIZE_ERROR) {
    return COMPRESS_CORRUPT;
  }
  if (size != ZSTD_CONTENTSIZE_UNKNOWN && size != out_len) {
    return size > out_len ? COMPRESS_TOO_LONG : COMPRESS_TOO_SHORT;
  }
  ZSTD_DCtx *d = ZSTD_createDCtx();
  if (d == NULL) {
    return COMPRESS_INTERNAL;
  }
  size_t r = ZSTD_decompressDCtx(d, out, out_len, in, in_len);
  ZSTD_freeDCtx(d);
  if (ZSTD_isError(r)) {
    return zstd_error(r);
  }
  return r == out_len ? COMPRESS_OK : COMPRESS_TOO_SHORT;
}

const compress_alg compress_alg_zstd = {
    .code = COMPRESS_ZSTD,
    .name = "zstd",
    .compress = zstd_compress,
    .expand = zstd_expand,
};
