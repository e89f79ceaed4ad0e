/* The compression adapter: the only interface moat has to zlib, brotli
 * and zstd, which it uses for certificate compression (RFC 8879) and
 * nothing else.
 *
 * Each algorithm is a descriptor (its RFC 8879 code point, a name and two
 * operations); only the files in src/compress/ include a compression
 * library's header.  An algorithm whose library was missing when moat was
 * built has no descriptor (compress_get returns NULL), and CMake says so
 * in its output.
 *
 * Decompression is bounded before it starts and while it runs: the output
 * is exactly the length the peer announced, that length is at most the
 * caller's buffer and COMPRESS_MAX_OUTPUT, a stream that would write one
 * byte more stops there, and each decoder's own working memory is bounded
 * whatever the stream's header claims (a window, a block size).  A
 * compression bomb costs at most COMPRESS_MAX_OUTPUT bytes of output and
 * COMPRESS_WORK_MAX bytes of decoder state, and time linear in what it
 * sent and what it is allowed to produce. */
#ifndef MOAT_COMPRESS_H
#define MOAT_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/builder.h"

/* RFC 8879 7.3: CertificateCompressionAlgorithm code points. */
#define COMPRESS_ZLIB 1
#define COMPRESS_BROTLI 2
#define COMPRESS_ZSTD 3

/* The most any decompression writes.  RFC 8879 4 allows announcing up to
 * 2^24-1 bytes; moat's bound is the largest handshake message its TLS
 * engine accepts (TLS_MAX_HANDSHAKE_MSG, which the certificate codec
 * checks is the same). */
#define COMPRESS_MAX_OUTPUT (256 * 1024)

/* The most memory a decoder may take for its own state (windows, ring
 * buffers, Huffman tables) during one decompression.  A legitimate stream
 * of COMPRESS_MAX_OUTPUT bytes needs far less; a hostile header that asks
 * for more makes the decompression fail as COMPRESS_OVER_BUDGET. */
#define COMPRESS_WORK_MAX (2 * 1024 * 1024)

typedef enum compress_status {
  COMPRESS_OK = 0,
  COMPRESS_CORRUPT,     /* not a valid stream of this algorithm */
  COMPRESS_TRUNCATED,   /* the input ends inside the stream */
  COMPRESS_TOO_LONG,    /* it would yield more than expected_len bytes */
  COMPRESS_TOO_SHORT,   /* it ends having yielded fewer bytes */
  COMPRESS_TRAILING,    /* bytes follow the end of the stream */
  COMPRESS_OVER_BUDGET, /* the decoder needs more than COMPRESS_WORK_MAX */
  COMPRESS_TOO_BIG,     /* expected_len exceeds the buffer or the cap */
  COMPRESS_INTERNAL,    /* out of memory or a library failure */
} compress_status;

typedef struct compress_alg {
  uint16_t code;    /* RFC 8879 7.3 */
  const char *name; /* "zstd" */
  /* Appends the compressed form of in to out. */
  bool (*compress)(const uint8_t *in, size_t in_len, builder *out);
  /* Writes exactly out_len bytes to out or fails; out_len is already
   * checked against COMPRESS_MAX_OUTPUT. */
  compress_status (*expand)(const uint8_t *in, size_t in_len, uint8_t *out,
                            size_t out_len);
} compress_alg;

/* The descriptor for an RFC 8879 code point; NULL when the algorithm is
 * unknown or was not built in. */
const compress_alg *compress_get(uint16_t code);

/* The algorithms built in, in moat's order of preference (zlib, brotli,
 * zstd): the i-th, or NULL past the last. */
const compress_alg *compress_builtin(size_t i);

/* Compresses in[0..in_len) and appends the result to out. */
bool compress_data(const compress_alg *alg, const uint8_t *in, size_t in_len,
                   builder *out);

/* Decompresses in[0..in_len) into out[0..expected_len): COMPRESS_OK only
 * when the stream is complete, nothing follows it and it yields exactly
 * expected_len bytes.  expected_len above cap or COMPRESS_MAX_OUTPUT is
 * COMPRESS_TOO_BIG before anything is decoded. */
compress_status compress_expand(const compress_alg *alg, const uint8_t *in,
                                size_t in_len, size_t expected_len,
                                uint8_t *out, size_t cap);

/* A phrase for error details ("the stream yields more bytes than
 * announced"). */
const char *compress_status_text(compress_status s);

/* ---- for the algorithm files --------------------------------------------*/

/* A working-memory budget for decoders that take allocator callbacks:
 * allocations beyond COMPRESS_WORK_MAX in total are refused, and
 * `refused` records that one was. */
typedef struct compress_budget {
  size_t used;
  bool refused;
} compress_budget;
void *compress_budget_alloc(void *budget, size_t size);
void compress_budget_free(void *budget, void *p);

#endif
