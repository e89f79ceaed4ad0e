/* The builder: the only way moat writes wire bytes.
 *
 * A builder writes into a fixed caller buffer or a growing heap buffer.
 * Length prefixes are opened with bld_open8/16/24 and filled in by
 * bld_close.  Failure (overflow, too-long child) is sticky: later calls do
 * nothing and bld_finish reports it. */
#ifndef MOAT_BASE_BUILDER_H
#define MOAT_BASE_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLD_MAX_DEPTH 8

typedef struct builder {
  uint8_t *buf;
  size_t len;
  size_t cap;
  bool growable;
  bool borrowed; /* buf is the caller's (bld_init_buffer), not the heap's */
  bool failed;
  int depth;
  size_t open_pos[BLD_MAX_DEPTH];
  uint8_t open_width[BLD_MAX_DEPTH];
} builder;

/* Write into out[0..cap). */
void bld_init_fixed(builder *b, uint8_t *out, size_t cap);
/* Heap buffer; free with bld_cleanup (or take it with bld_take). */
bool bld_init_alloc(builder *b, size_t initial_cap);
void bld_cleanup(builder *b);
/* Growable, starting in the caller's buf[0..cap): only a message that
 * outgrows it moves to the heap.  bld_cleanup wipes what was written in
 * buf and frees only a heap buffer. */
void bld_init_buffer(builder *b, uint8_t *buf, size_t cap);
/* Empty again (bytes wiped, failure cleared), keeping the buffer: one
 * heap builder can write several messages in turn. */
void bld_reset(builder *b);

bool bld_u8(builder *b, uint8_t v);
bool bld_u16(builder *b, uint16_t v);
bool bld_u24(builder *b, uint32_t v);
bool bld_u32(builder *b, uint32_t v);
bool bld_u64(builder *b, uint64_t v);
bool bld_bytes(builder *b, const uint8_t *data, size_t len);
bool bld_zeros(builder *b, size_t len);
/* Reserve len bytes and return where to write them. */
bool bld_space(builder *b, size_t len, uint8_t **out);

/* Give back the last n bytes of a bld_space reservation that were not
 * used (inside the innermost open prefix). */
bool bld_unreserve(builder *b, size_t n);

bool bld_open8(builder *b);
bool bld_open16(builder *b);
bool bld_open24(builder *b);
bool bld_close(builder *b);

/* DER: open an element with a tag; bld_close_asn1 writes its length. */
bool bld_open_asn1(builder *b, uint8_t tag);
bool bld_close_asn1(builder *b);

static inline size_t bld_len(const builder *b) {
  return b->len;
}
static inline uint8_t *bld_data(const builder *b) {
  return b->buf;
}
/* True when nothing failed and every opened prefix was closed. */
bool bld_finish(const builder *b);

#endif
