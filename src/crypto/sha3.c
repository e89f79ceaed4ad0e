/* SHA-3 / SHAKE through libcrypto (see sha3.h). */
#include "crypto/sha3.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>

/* The four digests, fetched once; and the key under which each thread
 * keeps its context (the destructor frees it when the thread exits).
 * Both are written once under pthread_once and only read afterwards. */
typedef struct sha3_table {
  EVP_MD *md[SHAKE256 + 1];
  pthread_key_t key;
  bool have_key;
} sha3_table;

static sha3_table g_sha3;
static pthread_once_t g_sha3_once = PTHREAD_ONCE_INIT;

static void ctx_destroy(void *ctx) {
  EVP_MD_CTX_free(ctx);
}

static void sha3_table_build(void) {
  static const char *const names[] = {"SHA3-256", "SHA3-512", "SHAKE-128",
                                      "SHAKE-256"};
  for (size_t i = 0; i <= SHAKE256; i++) {
    g_sha3.md[i] = EVP_MD_fetch(NULL, names[i], NULL);
  }
  g_sha3.have_key = pthread_key_create(&g_sha3.key, ctx_destroy) == 0;
  ERR_clear_error();
}

static EVP_MD_CTX *thread_ctx(void) {
  (void)pthread_once(&g_sha3_once, sha3_table_build);
  if (!g_sha3.have_key) {
    return NULL;
  }
  EVP_MD_CTX *ctx = pthread_getspecific(g_sha3.key);
  if (ctx == NULL) {
    ctx = EVP_MD_CTX_new();
    if (ctx != NULL && pthread_setspecific(g_sha3.key, ctx) != 0) {
      EVP_MD_CTX_free(ctx);
      ctx = NULL;
    }
  }
  return ctx;
}

bool sha3_hash(sha3_kind kind, const uint8_t *a, size_t a_len, const uint8_t *b,
               size_t b_len, uint8_t *out, size_t out_len) {
  EVP_MD_CTX *ctx = thread_ctx();
  if (ctx == NULL || kind < SHA3_256 || kind > SHAKE256 ||
      g_sha3.md[kind] == NULL) {
    return false;
  }
  bool xof = kind == SHAKE128 || kind == SHAKE256;
  if (!xof && out_len != (size_t)EVP_MD_get_size(g_sha3.md[kind])) {
    return false;
  }
  bool ok = EVP_DigestInit_ex2(ctx, g_sha3.md[kind], NULL) == 1 &&
            EVP_DigestUpdate(ctx, a, a_len) == 1 &&
            (b_len == 0 || EVP_DigestUpdate(ctx, b, b_len) == 1) &&
            (xof ? EVP_DigestFinalXOF(ctx, out, out_len) == 1
                 : EVP_DigestFinal_ex(ctx, out, NULL) == 1);
  /* The sponge held secrets (seeds, m, z): release the state now, which
   * wipes it, rather than leaving it in the thread's context until the
   * next call.  (libcrypto 3.0 makes a fresh state on every init anyway.) */
  (void)EVP_MD_CTX_reset(ctx);
  if (!ok) {
    ERR_clear_error();
  }
  return ok;
}
