#include "base/builder.h"

#include <string.h>

#include "base/mem.h"

void bld_init_fixed(builder *b, uint8_t *out, size_t cap) {
  memset(b, 0, sizeof(*b));
  b->buf = out;
  b->cap = cap;
}

bool bld_init_alloc(builder *b, size_t initial_cap) {
  memset(b, 0, sizeof(*b));
  if (initial_cap == 0) {
    initial_cap = 64;
  }
  b->buf = moat_malloc(initial_cap);
  if (b->buf == NULL) {
    b->failed = true;
    return false;
  }
  b->cap = initial_cap;
  b->growable = true;
  return true;
}

void bld_init_buffer(builder *b, uint8_t *buf, size_t cap) {
  memset(b, 0, sizeof(*b));
  b->buf = buf;
  b->cap = cap;
  b->growable = true;
  b->borrowed = buf != NULL; /* no buf: the heap from the first byte */
}

void bld_cleanup(builder *b) {
  if (b->borrowed && b->buf != NULL) {
    moat_wipe(b->buf, b->len);
  } else if (b->growable && b->buf != NULL) {
    moat_free_wipe(b->buf, b->cap);
  }
  b->borrowed = false;
  b->buf = NULL;
  b->cap = b->len = 0;
}

void bld_reset(builder *b) {
  if (b->buf != NULL) {
    moat_wipe(b->buf, b->len);
  }
  b->len = 0;
  b->failed = false;
  b->depth = 0;
}

bool bld_space(builder *b, size_t len, uint8_t **out) {
  if (b->failed) {
    return false;
  }
  if (len > b->cap - b->len) {
    if (!b->growable || len > SIZE_MAX / 2 - b->len) {
      b->failed = true;
      return false;
    }
    size_t ncap = b->cap > 0 ? b->cap * 2 : 64;
    while (ncap - b->len < len) {
      ncap *= 2;
    }
    uint8_t *nbuf = moat_malloc(ncap);
    if (nbuf == NULL) {
      b->failed = true;
      return false;
    }
    if (b->len > 0) {
      memcpy(nbuf, b->buf, b->len);
    }
    if (b->borrowed) {
      moat_wipe(b->buf, b->len); /* the caller's memory: wiped, kept */
      b->borrowed = false;
    } else {
      moat_free_wipe(b->buf, b->cap);
    }
    b->buf = nbuf;
    b->cap = ncap;
  }
  *out = b->buf + b->len;
  b->len += len;
  return true;
}

bool bld_unreserve(builder *b, size_t n) {
  size_t floor = b->depth > 0
                     ? b->open_pos[b->depth - 1] + b->open_width[b->depth - 1]
                     : 0;
  if (b->failed || n > b->len - floor) {
    b->failed = true;
    return false;
  }
  b->len -= n;
  return true;
}

static bool bld_uint(builder *b, uint64_t v, size_t width) {
  uint8_t *p;
  if (!bld_space(b, width, &p)) {
    return false;
  }
  for (size_t i = 0; i < width; i++) {
    p[width - 1 - i] = (uint8_t)(v >> (8 * i));
  }
  return true;
}

bool bld_u8(builder *b, uint8_t v) {
  return bld_uint(b, v, 1);
}
bool bld_u16(builder *b, uint16_t v) {
  return bld_uint(b, v, 2);
}
bool bld_u24(builder *b, uint32_t v) {
  if (v > 0xffffff) {
    b->failed = true;
    return false;
  }
  return bld_uint(b, v, 3);
}
bool bld_u32(builder *b, uint32_t v) {
  return bld_uint(b, v, 4);
}
bool bld_u64(builder *b, uint64_t v) {
  return bld_uint(b, v, 8);
}

bool bld_bytes(builder *b, const uint8_t *data, size_t len) {
  uint8_t *p;
  if (!bld_space(b, len, &p)) {
    return false;
  }
  if (len > 0) {
    memcpy(p, data, len);
  }
  return true;
}

bool bld_zeros(builder *b, size_t len) {
  uint8_t *p;
  if (!bld_space(b, len, &p)) {
    return false;
  }
  memset(p, 0, len);
  return true;
}

static bool bld_open(builder *b, uint8_t width) {
  if (b->failed) {
    return false;
  }
  if (b->depth >= BLD_MAX_DEPTH) {
    b->failed = true;
    return false;
  }
  size_t pos = b->len;
  if (!bld_zeros(b, width)) {
    return false;
  }
  b->open_pos[b->depth] = pos;
  b->open_width[b->depth] = width;
  b->depth++;
  return true;
}

bool bld_open8(builder *b) {
  return bld_open(b, 1);
}
bool bld_open16(builder *b) {
  return bld_open(b, 2);
}
bool bld_open24(builder *b) {
  return bld_open(b, 3);
}

bool bld_close(builder *b) {
  if (b->failed || b->depth == 0) {
    b->failed = true;
    return false;
  }
  b->depth--;
  size_t pos = b->open_pos[b->depth];
  size_t width = b->open_width[b->depth];
  size_t len = b->len - pos - width;
  if (width < 8 && (len >> (8 * width)) != 0) {
    b->failed = true;
    return false;
  }
  for (size_t i = 0; i < width; i++) {
    b->buf[pos + width - 1 - i] = (uint8_t)(len >> (8 * i));
  }
  return true;
}

/* DER elements: the tag is written at once, and one byte is reserved for
 * the length; bld_close_asn1 widens it in place if the content is long. */
bool bld_open_asn1(builder *b, uint8_t tag) {
  if (!bld_u8(b, tag)) {
    return false;
  }
  return bld_open(b, 1);
}

bool bld_close_asn1(builder *b) {
  if (b->failed || b->depth == 0 || b->open_width[b->depth - 1] != 1) {
    b->failed = true;
    return false;
  }
  b->depth--;
  size_t pos = b->open_pos[b->depth];
  size_t len = b->len - pos - 1;
  if (len < 0x80) {
    b->buf[pos] = (uint8_t)len;
    return true;
  }
  size_t extra = len <= 0xff ? 1 : len <= 0xffff ? 2 : len <= 0xffffff ? 3 : 4;
  uint8_t *p;
  if (!bld_space(b, extra, &p)) {
    return false;
  }
  memmove(b->buf + pos + 1 + extra, b->buf + pos + 1, len);
  b->buf[pos] = (uint8_t)(0x80 | extra);
  for (size_t i = 0; i < extra; i++) {
    b->buf[pos + extra - i] = (uint8_t)(len >> (8 * i));
  }
  return true;
}

bool bld_finish(const builder *b) {
  return !b->failed && b->depth == 0;
}
