/* A malloc interposer for the bench executable.
 *
 * Defining malloc & co. in the executable makes every shared library in the
 * process (libcrypto, libssl, GnuTLS, nettle, gmp, libc's own strdup ...)
 * call these instead of glibc's, so the counters see all allocations of all
 * callers.  Each call forwards to glibc's __libc_* entry point; sizes are
 * the usable size of the block, so live bytes include the allocator's
 * rounding (the memory really held) but not its chunk headers.
 *
 * The bench is single-threaded; the counters are plain integers. */
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"

#define INTERPOSE __attribute__((visibility("default")))

/* glibc's own allocator, exported for exactly this use. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);

static alloc_stats g_stats;

void alloc_snapshot(alloc_stats *out) {
  *out = g_stats;
}

/* moat's own allocations (moat_set_allocator), counted apart and then
 * passed on to the interposed malloc, so the totals still see them. */
static void *own_malloc(size_t n, void *arg) {
  (void)arg;
  g_stats.own_calls++;
  return malloc(n);
}
static void *own_realloc(void *p, size_t n, void *arg) {
  (void)arg;
  g_stats.own_calls++;
  return realloc(p, n);
}
static void own_free(void *p, void *arg) {
  (void)arg;
  free(p);
}
const bench_own_allocator bench_own_alloc = {own_malloc, own_realloc, own_free};

void alloc_reset_peak(void) {
  g_stats.peak = g_stats.live;
}

void *bench_calloc(size_t size) {
  return __libc_calloc(1, size);
}
void *bench_realloc(void *p, size_t size) {
  return __libc_realloc(p, size);
}
void bench_free(void *p) {
  __libc_free(p);
}

static void note_alloc(void *p) {
  if (p == NULL)
    return;
  g_stats.live += (int64_t)malloc_usable_size(p);
  g_stats.blocks++;
  if (g_stats.live > g_stats.peak)
    g_stats.peak = g_stats.live;
}

static void note_free(void *p) {
  if (p == NULL)
    return;
  g_stats.live -= (int64_t)malloc_usable_size(p);
  g_stats.blocks--;
  g_stats.frees++;
}

/* The prototypes come from <stdlib.h>/<malloc.h>; these definitions
 * replace glibc's for the whole process. */
INTERPOSE void *malloc(size_t n) {
  void *p = __libc_malloc(n);
  g_stats.calls++;
  note_alloc(p);
  return p;
}

INTERPOSE void free(void *p) {
  note_free(p);
  __libc_free(p);
}

INTERPOSE void *calloc(size_t count, size_t size) {
  void *p = __libc_calloc(count, size);
  g_stats.calls++;
  note_alloc(p);
  return p;
}

INTERPOSE void *realloc(void *p, size_t n) {
  int64_t old = p != NULL ? (int64_t)malloc_usable_size(p) : 0;
  void *q = __libc_realloc(p, n);
  g_stats.calls++;
  if (p == NULL) {
    note_alloc(q);
    return q;
  }
  if (q == NULL) {
    if (n == 0) { /* realloc(p, 0) freed p */
      g_stats.live -= old;
      g_stats.blocks--;
      g_stats.frees++;
    }
    return NULL;
  }
  g_stats.live += (int64_t)malloc_usable_size(q) - old;
  if (g_stats.live > g_stats.peak)
    g_stats.peak = g_stats.live;
  return q;
}

INTERPOSE void *reallocarray(void *p, size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(p, count * size);
}

INTERPOSE void *memalign(size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  g_stats.calls++;
  note_alloc(p);
  return p;
}

INTERPOSE void *aligned_alloc(size_t align, size_t n) {
  return memalign(align, n);
}

INTERPOSE int posix_memalign(void **out, size_t align, size_t n) {
  if (align < sizeof(void *) || (align & (align - 1)) != 0)
    return EINVAL;
  void *p = memalign(align, n);
  if (p == NULL)
    return ENOMEM;
  *out = p;
  return 0;
}

INTERPOSE void *valloc(size_t n) {
  return memalign(4096, n);
}

INTERPOSE void *pvalloc(size_t n) {
  return memalign(4096, (n + 4095) & ~(size_t)4095);
}
