/* Private to src/crypto/: the key objects behind pubkey / privkey. */
#ifndef MOAT_CRYPTO_OSSL_KEYS_H
#define MOAT_CRYPTO_OSSL_KEYS_H

#include <openssl/evp.h>
#include <stdatomic.h>

#include "crypto/crypto.h"

/* An initialised signing or verifying context kept with its key for the
 * next operation with the same parameters (tag).  Keys are shared between
 * threads, so the one spare is taken with an atomic exchange and put back
 * with a compare-and-swap; a thread that finds none builds its own. */
typedef struct pkey_op {
  EVP_PKEY_CTX *ctx;
  uint64_t tag;
} pkey_op;

typedef _Atomic(pkey_op *) pkey_op_slot;

struct pubkey {
  atomic_int refs;
  key_type type;
  int bits;
  EVP_PKEY *pkey;
  pkey_op_slot spare;
};

struct privkey {
  atomic_int refs;
  key_type type;
  int bits;
  EVP_PKEY *pkey;
  pkey_op_slot spare;
};

/* Frees the spare context of a key being freed. */
void pkey_op_slot_clear(pkey_op_slot *slot);

/* The moat key type of a libcrypto key, KEY_NONE for one moat does not
 * use (DSA, DH, other curves, ...). */
key_type ossl_key_type(const EVP_PKEY *pkey);

#endif
