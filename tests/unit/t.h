/* A tiny test harness: CHECK records a failure and goes on; each test
 * program ends with t_done(), which prints "N passed, N failed" and
 * returns the exit status. */
#ifndef MOAT_TEST_T_H
#define MOAT_TEST_T_H

#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      t_pass++;                                                                \
    } else {                                                                   \
      t_fail++;                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
  do {                                                                         \
    long long t_a_ = (long long)(a), t_b_ = (long long)(b);                    \
    if (t_a_ == t_b_) {                                                        \
      t_pass++;                                                                \
    } else {                                                                   \
      t_fail++;                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n",        \
              __FILE__, __LINE__, #a, #b, t_a_, t_b_);                         \
    }                                                                          \
  } while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

static inline int t_done(const char *name) {
  printf("%s: %d passed, %d failed\n", name, t_pass, t_fail);
  return t_fail == 0 && t_pass > 0 ? 0 : 1;
}

/* Hex string to bytes; returns the length. */
static inline size_t t_unhex(const char *hex, unsigned char *out, size_t cap) {
  size_t n = 0;
  while (hex[0] && hex[1] && n < cap) {
    unsigned v;
    if (hex[0] == ' ' || hex[0] == '\n') {
      hex++;
      continue;
    }
    if (sscanf(hex, "%2x", &v) != 1) {
      break;
    }
    out[n++] = (unsigned char)v;
    hex += 2;
  }
  return n;
}

#endif
