/* Our own private keys, decoded by libcrypto (PKCS#1, SEC1, PKCS#8,
 * encrypted PKCS#8, legacy encrypted PEM).  This runs once per context
 * load, so the decoder framework's cost is acceptable here. */
#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/ossl_common.h"
#include "crypto/ossl_der.h"
#include "crypto/ossl_keys.h"

#define PEM_BEGIN "-----BEGIN "
#define PEM_DASHES "-----"
#define PEM_LABEL_MAX 64

/* The PEM block chosen from the input, and what else was seen. */
typedef struct pem_pick {
  const uint8_t
      *block; /* from "-----BEGIN" to the end of "-----END ...-----" */
  size_t block_len;
  char label[PEM_LABEL_MAX];
  char other[PEM_LABEL_MAX]; /* first non-key label seen, for the detail */
} pem_pick;

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Find the first "-----BEGIN <label>-----" whose label ends in
 * "PRIVATE KEY", and its matching END line.  Returns false when the data
 * holds no PEM block at all. */
static bool pem_find_key(const uint8_t *data, size_t len, pem_pick *pick) {
  const size_t begin_len = strlen(PEM_BEGIN);
  bool any = false;
  size_t pos = 0;
  memset(pick, 0, sizeof(*pick));
  while (pos < len) {
    const uint8_t *b = memmem(data + pos, len - pos, PEM_BEGIN, begin_len);
    if (b == NULL) {
      break;
    }
    size_t start = (size_t)(b - data);
    size_t lpos = start + begin_len;
    const uint8_t *d = memmem(data + lpos, len - lpos, PEM_DASHES, 5);
    if (d == NULL || (size_t)(d - data) - lpos >= PEM_LABEL_MAX) {
      break;
    }
    size_t label_len = (size_t)(d - data) - lpos;
    char label[PEM_LABEL_MAX];
    memcpy(label, data + lpos, label_len);
    label[label_len] = '\0';
    any = true;
    /* "-----END <label>-----" */
    char end[PEM_LABEL_MAX + 16];
    int end_len = snprintf(end, sizeof(end), "-----END %s-----", label);
    size_t after = lpos + label_len + 5;
    const uint8_t *e = memmem(data + after, len - after, end, (size_t)end_len);
    if (e == NULL) {
      break;
    }
    size_t stop = (size_t)(e - data) + (size_t)end_len;
    if (ends_with(label, "PRIVATE KEY")) {
      pick->block = b;
      pick->block_len = stop - start;
      memcpy(pick->label, label, label_len + 1);
      return true;
    }
    if (pick->other[0] == '\0') {
      memcpy(pick->other, label, label_len + 1);
    }
    pos = stop;
  }
  return any;
}

typedef struct pw_state {
  const char *password;
  moat_password_fn cb;
  void *cb_arg;
  bool asked;
  bool given;
  bool aborted;
} pw_state;

/* libcrypto's pem_password_cb: supply the password, or fail so that no
 * terminal prompt is ever attempted. */
static int pw_cb(char *buf, int size, int rwflag, void *u) {
  pw_state *st = u;
  st->asked = true;
  if (size <= 0) {
    return -1;
  }
  if (st->password != NULL) {
    size_t n = strlen(st->password);
    if (n > (size_t)size) {
      return -1;
    }
    memcpy(buf, st->password, n);
    st->given = true;
    return (int)n;
  }
  if (st->cb != NULL) {
    int n = st->cb(st->cb_arg, buf, (size_t)size);
    if (n < 0 || n > size) {
      st->aborted = true;
      return -1;
    }
    st->given = true;
    return n;
  }
  return -1;
}

static EVP_PKEY *decode(const uint8_t *data, size_t len, const char *format,
                        pw_state *pw) {
  EVP_PKEY *pkey = NULL;
  OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
      &pkey, format, NULL, NULL, OSSL_KEYMGMT_SELECT_KEYPAIR, NULL, NULL);
  if (dctx == NULL) {
    return NULL;
  }
  const unsigned char *p = data;
  size_t n = len;
  if (OSSL_DECODER_CTX_set_pem_password_cb(dctx, pw_cb, pw) != 1 ||
      OSSL_DECODER_from_data(dctx, &p, &n) != 1) {
    EVP_PKEY_free(pkey);
    pkey = NULL;
  }
  OSSL_DECODER_CTX_free(dctx);
  return pkey;
}

/* True when the key has its private half (the decoder may also accept a
 * bare public key). */
static bool has_private(const EVP_PKEY *pkey, key_type t) {
  switch (t) {
  case KEY_RSA:
  case KEY_RSA_PSS: {
    BIGNUM *d = NULL;
    bool ok = EVP_PKEY_get_bn_param(pkey, "d", &d) == 1 && d != NULL;
    BN_clear_free(d);
    return ok;
  }
  case KEY_EC_P256:
  case KEY_EC_P384:
  case KEY_EC_P521: {
    BIGNUM *d = NULL;
    bool ok = EVP_PKEY_get_bn_param(pkey, "priv", &d) == 1 && d != NULL;
    BN_clear_free(d);
    return ok;
  }
  case KEY_ED25519:
  case KEY_ED448: {
    size_t n = 0;
    return EVP_PKEY_get_raw_private_key(pkey, NULL, &n) == 1 && n > 0;
  }
  case KEY_NONE:
  default:
    return false;
  }
}

moat_err privkey_load(const uint8_t *data, size_t len, const char *password,
                      moat_password_fn cb, void *cb_arg, privkey **out,
                      char *detail, size_t detail_cap) {
  pw_state pw = {password, cb, cb_arg, false, false, false};
  pem_pick pick;
  bool encrypted;
  const char *format;
  EVP_PKEY *pkey = NULL;
  moat_err err = MOAT_OK;

  *out = NULL;
  if (data == NULL || len == 0) {
    return ossl_fail(MOAT_ERR_BAD_KEY, detail, detail_cap,
                     "no private key data (empty input)");
  }
  ERR_clear_error();
  if (pem_find_key(data, len, &pick)) {
    if (pick.block == NULL) {
      if (pick.other[0] != '\0') {
        return ossl_fail(MOAT_ERR_BAD_KEY, detail, detail_cap,
                         "no private key found in the data (found a %s "
                         "block)",
                         pick.other);
      }
      return ossl_fail(MOAT_ERR_BAD_KEY, detail, detail_cap,
                       "no private key found in the data (a PEM block is "
                       "truncated or malformed)");
    }
    data = pick.block;
    len = pick.block_len;
    format = "PEM";
    encrypted = strcmp(pick.label, "ENCRYPTED PRIVATE KEY") == 0 ||
                memmem(data, len, "Proc-Type: 4,ENCRYPTED", 22) != NULL;
  } else {
    format = "DER";
    encrypted = der_is_encrypted_pkcs8(data, len);
  }

  pkey = decode(data, len, format, &pw);
  if (pkey == NULL) {
    if (encrypted && !pw.given) {
      return ossl_fail(MOAT_ERR_BAD_PASSWORD, detail, detail_cap,
                       pw.aborted ? "encrypted private key: the password "
                                    "callback gave no password"
                                  : "encrypted private key: no password "
                                    "given");
    }
    if (encrypted) {
      return ossl_fail(MOAT_ERR_BAD_PASSWORD, detail, detail_cap,
                       "encrypted private key: wrong password (or the "
                       "encrypted data is corrupt)");
    }
    if (format[0] == 'P') {
      return ossl_fail(MOAT_ERR_BAD_KEY, detail, detail_cap,
                       "the PEM block \"%s\" is not a private key moat can "
                       "decode",
                       pick.label);
    }
    return ossl_fail(MOAT_ERR_BAD_KEY, detail, detail_cap,
                     "the data is neither PEM nor a DER private key (PKCS#1, "
                     "SEC1, PKCS#8 or encrypted PKCS#8)");
  }

  key_type t = ossl_key_type(pkey);
  if (t == KEY_NONE) {
    err = ossl_fail(MOAT_ERR_UNSUPPORTED_CERTIFICATE, detail, detail_cap,
                    "private key type %s is not supported (RSA, RSA-PSS, EC "
                    "P-256/384/521, Ed25519, Ed448)",
                    EVP_PKEY_get0_type_name(pkey) != NULL
                        ? EVP_PKEY_get0_type_name(pkey)
                        : "(unknown)");
    goto cleanup;
  }
  if (!has_private(pkey, t)) {
    err = ossl_fail(MOAT_ERR_BAD_KEY, detail, detail_cap,
                    "the data holds a %s public key, not a private key",
                    key_type_name(t));
    goto cleanup;
  }
  int bits = EVP_PKEY_get_bits(pkey);
  if ((t == KEY_RSA || t == KEY_RSA_PSS) &&
      (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)) {
    err = ossl_fail(MOAT_ERR_UNSUPPORTED_CERTIFICATE, detail, detail_cap,
                    "RSA private key of %d bits is outside the accepted "
                    "range %d..%d",
                    bits, RSA_MIN_BITS, RSA_MAX_BITS);
    goto cleanup;
  }
  privkey *key = moat_calloc(1, sizeof(*key));
  if (key == NULL) {
    err = ossl_fail(MOAT_ERR_NO_MEMORY, detail, detail_cap,
                    "out of memory for a private key");
    goto cleanup;
  }
  atomic_init(&key->refs, 1);
  key->type = t;
  key->bits = bits;
  key->pkey = pkey;
  atomic_init(&key->spare, NULL);
  pkey = NULL;
  *out = key;

cleanup:
  EVP_PKEY_free(pkey);
  ERR_clear_error();
  return err;
}

privkey *privkey_ref(privkey *key) {
  atomic_fetch_add(&key->refs, 1);
  return key;
}

void privkey_free(privkey *key) {
  if (key == NULL || atomic_fetch_sub(&key->refs, 1) != 1) {
    return;
  }
  pkey_op_slot_clear(&key->spare);
  EVP_PKEY_free(key->pkey); /* libcrypto cleanses the private values */
  moat_free(key);
}

key_type privkey_type(const privkey *key) {
  return key->type;
}

int privkey_bits(const privkey *key) {
  return key->bits;
}

bool privkey_matches(const privkey *key, const pubkey *pub) {
  if (key == NULL || pub == NULL || key->type != pub->type) {
    return false;
  }
  bool ok = EVP_PKEY_eq(key->pkey, pub->pkey) == 1;
  ERR_clear_error();
  return ok;
}
