/* Private to src/crypto/: the key objects behind pubkey / privkey. */
#ifndef MOAT_CRYPTO_OSSL_KEYS_H
#define MOAT_CRYPTO_OSSL_KEYS_H

#include <openssl/evp.h>
#include <stdatomic.h>

#include "crypto/crypto.h"

struct pubkey {
  atomic_int refs;
  key_type type;
  int bits;
  EVP_PKEY *pkey;
};

struct privkey {
  key_type type;
  int bits;
  EVP_PKEY *pkey;
};

/* The moat key type of a libcrypto key, KEY_NONE for one moat does not
 * use (DSA, DH, other curves, ...). */
key_type ossl_key_type(const EVP_PKEY *pkey);

#endif
