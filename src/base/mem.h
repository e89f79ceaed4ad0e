/* Allocation (through the process allocator hooks), wiping, and
 * constant-time helpers. */
#ifndef MOAT_BASE_MEM_H
#define MOAT_BASE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *moat_malloc(size_t n);
void *moat_calloc(size_t count, size_t size);
void *moat_realloc(void *p, size_t n);
void moat_free(void *p);
/* Wipe n bytes then free (for anything that held secrets). */
void moat_free_wipe(void *p, size_t n);
char *moat_strdup(const char *s);
void *moat_memdup(const void *p, size_t n);

/* Zero memory in a way the compiler may not remove. */
void moat_wipe(void *p, size_t n);

/* Constant-time equality of two n-byte strings: true when equal. */
bool ct_eq(const uint8_t *a, const uint8_t *b, size_t n);
/* 0xff.. when x == 0 else 0, without branches. */
static inline uint32_t ct_is_zero_u32(uint32_t x) {
  return (uint32_t)0 - (((~x & (x - 1)) >> 31) & 1);
}

#endif
