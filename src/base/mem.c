#include "base/mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "moat.h"

static moat_allocator g_alloc;
/* Set once, before first use; read-only afterwards. */
static atomic_bool g_alloc_set;
static atomic_bool g_alloc_used;

moat_err moat_set_allocator(const moat_allocator *alloc) {
  if (alloc == NULL || alloc->malloc_fn == NULL || alloc->free_fn == NULL ||
      alloc->realloc_fn == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  if (atomic_load(&g_alloc_used) || atomic_load(&g_alloc_set)) {
    return MOAT_ERR_BAD_STATE;
  }
  g_alloc = *alloc;
  atomic_store(&g_alloc_set, true);
  return MOAT_OK;
}

/* After the first allocation the allocator is fixed: blocks must be freed
 * by the functions that made them. */
static void note_alloc_used(void) {
  if (!atomic_load_explicit(&g_alloc_used, memory_order_relaxed)) {
    atomic_store(&g_alloc_used, true);
  }
}

void *moat_malloc(size_t n) {
  if (n == 0) {
    n = 1;
  }
  note_alloc_used();
  if (atomic_load_explicit(&g_alloc_set, memory_order_acquire)) {
    return g_alloc.malloc_fn(n, g_alloc.arg);
  }
  return malloc(n);
}

void *moat_calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) {
    return NULL;
  }
  void *p = moat_malloc(count * size);
  if (p != NULL) {
    memset(p, 0, count * size);
  }
  return p;
}

void *moat_realloc(void *p, size_t n) {
  if (n == 0) {
    n = 1;
  }
  note_alloc_used(); /* realloc(NULL, n) allocates too */
  if (atomic_load_explicit(&g_alloc_set, memory_order_acquire)) {
    return g_alloc.realloc_fn(p, n, g_alloc.arg);
  }
  return realloc(p, n);
}

void moat_free(void *p) {
  if (p == NULL) {
    return;
  }
  if (atomic_load_explicit(&g_alloc_set, memory_order_acquire)) {
    g_alloc.free_fn(p, g_alloc.arg);
    return;
  }
  free(p);
}

void moat_wipe(void *p, size_t n) {
  if (p == NULL || n == 0) {
    return;
  }
  /* A volatile function pointer keeps the compiler from proving the
   * memset dead. */
  static void *(*const volatile do_memset)(void *, int, size_t) = memset;
  do_memset(p, 0, n);
}

void moat_free_wipe(void *p, size_t n) {
  moat_wipe(p, n);
  moat_free(p);
}

char *moat_strdup(const char *s) {
  if (s == NULL) {
    return NULL;
  }
  return moat_memdup(s, strlen(s) + 1);
}

void *moat_memdup(const void *p, size_t n) {
  void *q = moat_malloc(n);
  if (q != NULL && n > 0) {
    memcpy(q, p, n);
  }
  return q;
}

bool ct_eq(const uint8_t *a, const uint8_t *b, size_t n) {
  /* A word at a time, then the tail; no branch on the bytes. */
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    uint64_t y;
    memcpy(&x, a + i, 8);
    memcpy(&y, b + i, 8);
    acc |= x ^ y;
  }
  for (; i < n; i++) {
    acc |= (uint8_t)(a[i] ^ b[i]);
  }
  return ct_is_zero_u32((uint32_t)(acc | (acc >> 32))) != 0;
}
