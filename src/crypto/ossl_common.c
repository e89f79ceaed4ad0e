/* The process-wide algorithm table and shared helpers of the adapter. */
#include "crypto/ossl_common.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

typedef struct ossl_table {
  EVP_MD *md[HASH_SHA512 + 1];
  EVP_CIPHER *cipher[AEAD_CHACHA20_POLY1305 + 1];
} ossl_table;

/* Built once under pthread_once and never written again: every thread
 * reads it without locks.  The references are held for the life of the
 * process (libcrypto's own exit handler tears the providers down). */
static ossl_table g_table;
static pthread_once_t g_table_once = PTHREAD_ONCE_INIT;

static void table_build(void) {
  /* Fetch by the canonical provider names once; every later use reuses
   * these objects instead of an implicit fetch by name. */
  g_table.md[HASH_SHA1] = EVP_MD_fetch(NULL, "SHA1", NULL);
  g_table.md[HASH_SHA256] = EVP_MD_fetch(NULL, "SHA2-256", NULL);
  g_table.md[HASH_SHA384] = EVP_MD_fetch(NULL, "SHA2-384", NULL);
  g_table.md[HASH_SHA512] = EVP_MD_fetch(NULL, "SHA2-512", NULL);
  g_table.cipher[AEAD_AES_128_GCM] =
      EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  g_table.cipher[AEAD_AES_256_GCM] =
      EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  g_table.cipher[AEAD_CHACHA20_POLY1305] =
      EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
  ERR_clear_error();
}

const char *crypto_library_version(void) {
  return OpenSSL_version(OPENSSL_VERSION);
}

const char *crypto_library_built_version(void) {
  return OPENSSL_VERSION_TEXT;
}

static const ossl_table *table_get(void) {
  (void)pthread_once(&g_table_once, table_build);
  return &g_table;
}

const EVP_MD *ossl_md(hash_id id) {
  switch (id) {
  case HASH_SHA1:
  case HASH_SHA256:
  case HASH_SHA384:
  case HASH_SHA512:
    return table_get()->md[id];
  case HASH_NONE:
  default:
    return NULL;
  }
}

const EVP_CIPHER *ossl_cipher(aead_id id) {
  switch (id) {
  case AEAD_AES_128_GCM:
  case AEAD_AES_256_GCM:
  case AEAD_CHACHA20_POLY1305:
    return table_get()->cipher[id];
  default:
    return NULL;
  }
}

void ossl_clear_errors(void) {
  ERR_clear_error();
}

moat_err ossl_fail(moat_err err, char *detail, size_t detail_cap,
                   const char *fmt, ...) {
  ERR_clear_error();
  if (detail != NULL && detail_cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(detail, detail_cap, fmt, ap);
    va_end(ap);
  }
  return err;
}
