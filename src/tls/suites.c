#include <strings.h>

#include "tls/tls.h"

/* RFC 8446 B.4.  TLS 1.3 suites have the same OpenSSL spelling. */
static const tls_suite k_aes128 = {0x1301,
                                   "TLS_AES_128_GCM_SHA256",
                                   "TLS_AES_128_GCM_SHA256",
                                   AEAD_AES_128_GCM,
                                   HASH_SHA256,
                                   128};
static const tls_suite k_aes256 = {0x1302,
                                   "TLS_AES_256_GCM_SHA384",
                                   "TLS_AES_256_GCM_SHA384",
                                   AEAD_AES_256_GCM,
                                   HASH_SHA384,
                                   256};
static const tls_suite k_chacha = {0x1303,
                                   "TLS_CHACHA20_POLY1305_SHA256",
                                   "TLS_CHACHA20_POLY1305_SHA256",
                                   AEAD_CHACHA20_POLY1305,
                                   HASH_SHA256,
                                   256};

static const tls_suite *const k_suites[] = {&k_aes128, &k_aes256, &k_chacha};

const tls_suite *const *suite_all(size_t *out_num) {
  *out_num = sizeof(k_suites) / sizeof(k_suites[0]);
  return k_suites;
}

const tls_suite *suite_by_code(uint16_t code) {
  for (size_t i = 0; i < sizeof(k_suites) / sizeof(k_suites[0]); i++) {
    if (k_suites[i]->code == code) {
      return k_suites[i];
    }
  }
  return NULL;
}

const tls_suite *suite_by_name(const char *name) {
  for (size_t i = 0; i < sizeof(k_suites) / sizeof(k_suites[0]); i++) {
    if (strcasecmp(k_suites[i]->name, name) == 0 ||
        strcasecmp(k_suites[i]->openssl_name, name) == 0) {
      return k_suites[i];
    }
  }
  return NULL;
}
