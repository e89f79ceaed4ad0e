/* The libcrypto moat runs on, for moat.h's moat_crypto_version(). */
#include <openssl/crypto.h>

#include "moat.h"

const char *moat_crypto_version(void) {
  return OpenSSL_version(OPENSSL_VERSION);
}

unsigned long moat_crypto_version_number(void) {
  return OpenSSL_version_num();
}
