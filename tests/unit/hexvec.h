/* Known-answer inputs written in hex: a fixed buffer and its length. */
#ifndef MOAT_TEST_HEXVEC_H
#define MOAT_TEST_HEXVEC_H

#include <stddef.h>
#include <stdint.h>

#include "t.h"

typedef struct vec {
  uint8_t b[1024];
  size_t n; /* bytes read from the hex (it stops at the buffer's end) */
} vec;

static inline vec V(const char *hex) {
  vec v;
  v.n = t_unhex(hex, v.b, sizeof(v.b));
  return v;
}

#endif
