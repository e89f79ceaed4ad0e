/* Randomness from libcrypto's CSPRNG. */
#include <limits.h>
#include <openssl/err.h>
#include <openssl/rand.h>

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
