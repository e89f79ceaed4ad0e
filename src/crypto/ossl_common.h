/* Private to src/crypto/: the process-wide table of libcrypto algorithms,
 * fetched once (pthread_once) and immutable afterwards, plus small helpers
 * shared by the adapter's files. */
#ifndef MOAT_CRYPTO_OSSL_COMMON_H
#define MOAT_CRYPTO_OSSL_COMMON_H

#include <openssl/evp.h>

#include "crypto/crypto.h"

/* The fetched digest for a hash id, or NULL (HASH_NONE, unknown, or not
 * available in this libcrypto). */
const EVP_MD *ossl_md(hash_id id);
/* The fetched cipher for an AEAD id, or NULL. */
const EVP_CIPHER *ossl_cipher(aead_id id);

/* Write a formatted reason into detail (if non-NULL) and return err.
 * Also clears libcrypto's error queue so nothing leaks into later calls. */
moat_err ossl_fail(moat_err err, char *detail, size_t detail_cap,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Discard whatever libcrypto left on this thread's error queue. */
void ossl_clear_errors(void);

#endif
