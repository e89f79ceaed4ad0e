/* zlib (RFC 1950) for RFC 8879's algorithm 1, through zlib's inflate
 * with a bounded output buffer and an allocator on the shared budget. */
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "compress/compress.h"

static voidpf zlib_alloc(voidpf opaque, uInt items, uInt size) {
  if (size != 0 && items > SIZE_MAX / size) {
    return Z_NULL;
  }
  return compress_budget_alloc(opaque, (size_t)items * size);
}

static void zlib_free(voidpf opaque, voidpf p) {
  compress_budget_free(opaque, p);
}

static bool zlib_compress(const uint8_t *in, size_t in_len, builder *out) {
  uLong bound = compressBound((uLong)in_len);
  uint8_t *p;
  if (!bld_space(out, bound, &p)) {
    return false;
  }
  uLongf n = bound;
  if (compress2(p, &n, in, (uLong)in_len, Z_BEST_COMPRESSION) != Z_OK) {
    (void)bld_unreserve(out, bound);
    return false;
  }
  return bld_unreserve(out, bound - n);
}

static compress_status zlib_expand(const uint8_t *in, size_t in_len,
                                   uint8_t *out, size_t out_len) {
  if (in_len > UINT_MAX || out_len > UINT_MAX) {
    return COMPRESS_TOO_BIG;
  }
  compress_budget budget = {0};
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  zs.zalloc = zlib_alloc;
  zs.zfree = zlib_free;
  zs.opaque = &budget;
  /* The zlib format's window is at most 32 KiB (RFC 1950 2.2): inflate's
   * state and window are all it allocates. */
  if (inflateInit(&zs) != Z_OK) {
    return budget.refused ? COMPRESS_OVER_BUDGET : COMPRESS_INTERNAL;
  }
  zs.next_in = (Bytef *)in; /* zlib's API is not const; it only reads */
  zs.avail_in = (uInt)in_len;
  zs.next_out = out;
  zs.avail_out = (uInt)out_len;
  /* One call: with all input and an output buffer of exactly the
   * announced length, inflate stops at the end of the stream, when the
   * input runs out, or when the buffer is full and more would follow
   * (the end-of-block code and the checksum need no output space). */
  int r = inflate(&zs, Z_FINISH);
  compress_status s;
  if (r == Z_STREAM_END) {
    s = zs.avail_out != 0  ? COMPRESS_TOO_SHORT
        : zs.avail_in != 0 ? COMPRESS_TRAILING
                           : COMPRESS_OK;
  } else if ((r == Z_OK || r == Z_BUF_ERROR) && zs.avail_out != 0) {
    s = COMPRESS_TRUNCATED;
  } else if (r == Z_OK || r == Z_BUF_ERROR) {
    /* The buffer is full: one byte more of room tells a stream that has
     * more to write from one cut short after its last byte of data. */
    uint8_t extra;
    zs.next_out = &extra;
    zs.avail_out = 1;
    r = inflate(&zs, Z_FINISH);
    s = zs.avail_out == 0                    ? COMPRESS_TOO_LONG
        : r == Z_STREAM_END                  ? COMPRESS_OK
        : r == Z_OK || r == Z_BUF_ERROR      ? COMPRESS_TRUNCATED
        : r == Z_MEM_ERROR && budget.refused ? COMPRESS_OVER_BUDGET
                                             : COMPRESS_CORRUPT;
    if (s == COMPRESS_OK && zs.avail_in != 0) {
      s = COMPRESS_TRAILING;
    }
  } else if (r == Z_MEM_ERROR) {
    s = budget.refused ? COMPRESS_OVER_BUDGET : COMPRESS_INTERNAL;
  } else {
    s = COMPRESS_CORRUPT; /* Z_DATA_ERROR, Z_NEED_DICT */
  }
  (void)inflateEnd(&zs);
  return s;
}

const compress_alg compress_alg_zlib = {
    .code = COMPRESS_ZLIB,
    .name = "zlib",
    .compress = zlib_compress,
    .expand = zlib_expand,
};
