/* Randomness from libcrypto's CSPRNG. */
#include <limits.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/mem.h"
#include "crypto/crypto.h"

bool crypto_random(uint8_t *out, size_t len) {
  while (len > 0) {
    int chunk = len > INT_MAX ? INT_MAX : (int)len;
    if (RAND_bytes(out, chunk) != 1) {
      ERR_clear_error();
      return false;
    }
    out += chunk;
    len -= (size_t)chunk;
  }
  return true;
}

/* Public values come from a small per-thread pool: each RAND_bytes call
 * costs about 0.6 us whatever its length (locking and the DRBG's own
 * update), and a handshake draws several short values.  A byte leaves the
 * pool once and is wiped there when it does.  After fork() the child must
 * not hand out what its parent does: a fork handler moves a generation
 * counter on, and a pool of an older generation is dropped unread. */
#define PUBLIC_POOL 256

typedef struct public_pool {
  uint8_t buf[PUBLIC_POOL];
  size_t left; /* unread bytes at the end of buf */
  unsigned gen;
} public_pool;

static _Thread_local public_pool t_pool;
static atomic_uint g_fork_gen = 1; /* a zeroed pool is never current */
static pthread_once_t g_fork_once = PTHREAD_ONCE_INIT;

static void after_fork_in_child(void) {
  atomic_fetch_add(&g_fork_gen, 1);
}

static void watch_forks(void) {
  (void)pthread_atfork(NULL, NULL, after_fork_in_child);
}

bool crypto_random_public(uint8_t *out, size_t len) {
  if (len > PUBLIC_POOL / 4) {
    return crypto_random(out, len);
  }
  pthread_once(&g_fork_once, watch_forks);
  public_pool *p = &t_pool;
  unsigned gen = atomic_load(&g_fork_gen);
  if (p->gen != gen) {
    moat_wipe(p, sizeof(*p));
    p->gen = gen;
  }
  if (p->left < len) {
    if (!crypto_random(p->buf, PUBLIC_POOL)) {
      moat_wipe(p->buf, PUBLIC_POOL);
      p->left = 0;
      return false;
    }
    p->left = PUBLIC_POOL;
  }
  uint8_t *from = p->buf + PUBLIC_POOL - p->left;
  memcpy(out, from, len);
  moat_wipe(from, len);
  p->left -= len;
  return true;
}
