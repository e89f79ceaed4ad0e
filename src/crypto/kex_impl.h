/* Private to src/crypto/: the key object behind every kex_alg's
 * operations (kex.c for the ECDH groups, kex_hybrid.c for the hybrids). */
#ifndef MOAT_CRYPTO_KEX_IMPL_H
#define MOAT_CRYPTO_KEX_IMPL_H

#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "crypto/mlkem.h"

struct kex_key {
  const kex_alg *alg;
  kex_pool *pool;     /* where the peer's key object comes from, or NULL */
  EVP_PKEY *pkey;     /* ECDH groups */
  kex_key *classical; /* hybrids: the ECDH half */
  mlkem768_key *kem;  /* hybrids: the expanded decapsulation key */
};

/* The hybrid groups' operations and descriptors (kex_hybrid.c). */
extern const kex_ops kex_hybrid_ops;
extern const kex_alg kex_x25519mlkem768;
extern const kex_alg kex_p256mlkem768;
/* The ECDH halves they use (kex.c). */
extern const kex_alg kex_x25519;
extern const kex_alg kex_p256;

#endif
