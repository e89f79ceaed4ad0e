#include <strings.h>

#include "tls/tls.h"

/* RFC 8446 B.4.  TLS 1.3 suites have the same OpenSSL spelling. */
static const tls_suite k_aes128 = {0x1301,
                                   "TLS_AES_128_GCM_SHA256",
                                   "TLS_AES_128_GCM_SHA256",
                                   AEAD_AES_128_GCM,
                                   HASH_SHA256,
                                   128,
                                   MOAT_TLS1_3,
                                   AUTH_ANY};
static const tls_suite k_aes256 = {0x1302,
                                   "TLS_AES_256_GCM_SHA384",
                                   "TLS_AES_256_GCM_SHA384",
                                   AEAD_AES_256_GCM,
                                   HASH_SHA384,
                                   256,
                                   MOAT_TLS1_3,
                                   AUTH_ANY};
static const tls_suite k_chacha = {0x1303,
                                   "TLS_CHACHA20_POLY1305_SHA256",
                                   "TLS_CHACHA20_POLY1305_SHA256",
                                   AEAD_CHACHA20_POLY1305,
                                   HASH_SHA256,
                                   256,
                                   MOAT_TLS1_3,
                                   AUTH_ANY};

/* TLS 1.2: ECDHE with an AEAD only (RFC 5289, RFC 7905; RFC 9325 4.2). */
static const tls_suite k_ecdsa_aes128 = {
    0xc02b,
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    AEAD_AES_128_GCM,
    HASH_SHA256,
    128,
    MOAT_TLS1_2,
    AUTH_ECDSA};
static const tls_suite k_ecdsa_aes256 = {
    0xc02c,
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    AEAD_AES_256_GCM,
    HASH_SHA384,
    256,
    MOAT_TLS1_2,
    AUTH_ECDSA};
static const tls_suite k_ecdsa_chacha = {
    0xcca9,
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    AEAD_CHACHA20_POLY1305,
    HASH_SHA256,
    256,
    MOAT_TLS1_2,
    AUTH_ECDSA};
static const tls_suite k_rsa_aes128 = {0xc02f,
                                       "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                       "ECDHE-RSA-AES128-GCM-SHA256",
                                       AEAD_AES_128_GCM,
                                       HASH_SHA256,
                                       128,
                                       MOAT_TLS1_2,
                                       AUTH_RSA};
static const tls_suite k_rsa_aes256 = {0xc030,
                                       "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                       "ECDHE-RSA-AES256-GCM-SHA384",
                                       AEAD_AES_256_GCM,
                                       HASH_SHA384,
                                       256,
                                       MOAT_TLS1_2,
                                       AUTH_RSA};
static const tls_suite k_rsa_chacha = {
    0xcca8,
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "ECDHE-RSA-CHACHA20-POLY1305",
    AEAD_CHACHA20_POLY1305,
    HASH_SHA256,
    256,
    MOAT_TLS1_2,
    AUTH_RSA};

static const tls_suite *const k_suites[] = {
    &k_aes128,       &k_aes256,       &k_chacha,
    &k_ecdsa_aes128, &k_ecdsa_aes256, &k_ecdsa_chacha,
    &k_rsa_aes128,   &k_rsa_aes256,   &k_rsa_chacha};
#define NUM_SUITES (sizeof(k_suites) / sizeof(k_suites[0]))

const tls_suite *const *suite_all(size_t *out_num) {
  *out_num = NUM_SUITES;
  return k_suites;
}

const tls_suite *suite_by_code(uint16_t code) {
  for (size_t i = 0; i < NUM_SUITES; i++) {
    if (k_suites[i]->code == code) {
      return k_suites[i];
    }
  }
  return NULL;
}

const tls_suite *suite_by_name(const char *name) {
  for (size_t i = 0; i < NUM_SUITES; i++) {
    if (strcasecmp(k_suites[i]->name, name) == 0 ||
        strcasecmp(k_suites[i]->openssl_name, name) == 0) {
      return k_suites[i];
    }
  }
  return NULL;
}

bool suite_fits_key(const tls_suite *suite, key_type key) {
  switch (suite->auth) {
  case AUTH_ANY:
    return true;
  case AUTH_ECDSA:
    return key == KEY_EC_P256 || key == KEY_EC_P384 || key == KEY_EC_P521 ||
           key == KEY_ED25519 || key == KEY_ED448;
  case AUTH_RSA:
    return key == KEY_RSA || key == KEY_RSA_PSS;
  default:
    return false;
  }
}

/* Suites a peer may pick that moat refuses on purpose (DESIGN.md: CBC,
 * static RSA key exchange, RC4, 3DES, NULL), named so the error says what
 * was refused. */
typedef struct refused_suite {
  uint16_t code;
  const char *name;
} refused_suite;

static const refused_suite k_refused[] = {
    {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
    {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
    {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
    {0x0001, "TLS_RSA_WITH_NULL_MD5"},
    {0x0002, "TLS_RSA_WITH_NULL_SHA"},
    {0x003b, "TLS_RSA_WITH_NULL_SHA256"},
    {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
    {0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
    {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
    {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
};

const char *suite_refused_name(uint16_t code) {
  for (size_t i = 0; i < sizeof(k_refused) / sizeof(k_refused[0]); i++) {
    if (k_refused[i].code == code) {
      return k_refused[i].name;
    }
  }
  return NULL;
}
