/* Peer public keys: parsed from the SubjectPublicKeyInfo with the cursor
 * (der.c) and built from their raw parameters.  libcrypto's decoder
 * framework (d2i_PUBKEY, OSSL_DECODER) is never used for peer keys: it
 * costs about as much as the signature check itself. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "base/err.h"
#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/ossl_common.h"
#include "crypto/ossl_der.h"
#include "crypto/ossl_keys.h"

static EVP_PKEY *fromdata(const char *type, const OSSL_PARAM *params) {
  EVP_PKEY *pkey = NULL;
  EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
  if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
      EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY,
                        (OSSL_PARAM *)params) != 1) {
    EVP_PKEY_free(pkey);
    pkey = NULL;
  }
  EVP_PKEY_CTX_free(pctx);
  return pkey;
}

static EVP_PKEY *build_rsa(const spki_info *info) {
  EVP_PKEY *pkey = NULL;
  OSSL_PARAM *params = NULL;
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  BIGNUM *n = BN_bin2bn(info->rsa_n, (int)info->rsa_n_len, NULL);
  BIGNUM *e = BN_bin2bn(info->rsa_e, (int)info->rsa_e_len, NULL);
  if (bld == NULL || n == NULL || e == NULL ||
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1) {
    goto cleanup;
  }
  params = OSSL_PARAM_BLD_to_param(bld);
  if (params == NULL) {
    goto cleanup;
  }
  pkey = fromdata(info->type == KEY_RSA_PSS ? "RSA-PSS" : "RSA", params);

cleanup:
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(n);
  BN_free(e);
  return pkey;
}

static EVP_PKEY *build_ec(const spki_info *info) {
  const char *group = info->type == KEY_EC_P256   ? "P-256"
                      : info->type == KEY_EC_P384 ? "P-384"
                                                  : "P-521";
  OSSL_PARAM params[3];
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                               (char *)group, 0);
  params[1] = OSSL_PARAM_construct_octet_string(
      OSSL_PKEY_PARAM_PUB_KEY, (void *)info->key, info->key_len);
  params[2] = OSSL_PARAM_construct_end();
  /* The import decodes the point and refuses it when it is not on the
   * curve; the curves have cofactor 1, so that is the whole check. */
  return fromdata("EC", params);
}

moat_err pubkey_from_spki(const uint8_t *spki, size_t spki_len, pubkey **out,
                          char *detail, size_t detail_cap) {
  spki_info info;
  EVP_PKEY *pkey = NULL;
  *out = NULL;
  if (spki == NULL) {
    return ossl_fail(MOAT_ERR_INVALID_ARGUMENT, detail, detail_cap,
                     "SubjectPublicKeyInfo: no data");
  }
  TRY(spki_parse(spki, spki_len, &info, detail, detail_cap));
  switch (info.type) {
  case KEY_RSA:
  case KEY_RSA_PSS:
    pkey = build_rsa(&info);
    break;
  case KEY_EC_P256:
  case KEY_EC_P384:
  case KEY_EC_P521:
    pkey = build_ec(&info);
    break;
  case KEY_ED25519:
  case KEY_ED448:
    pkey = EVP_PKEY_new_raw_public_key_ex(
        NULL, info.type == KEY_ED25519 ? "ED25519" : "ED448", NULL, info.key,
        info.key_len);
    break;
  case KEY_NONE:
  default:
    break;
  }
  if (pkey == NULL) {
    return ossl_fail(MOAT_ERR_BAD_CERTIFICATE, detail, detail_cap,
                     "%s public key: the key's values are invalid (for EC: "
                     "the point is not on the curve)",
                     key_type_name(info.type));
  }
  pubkey *key = moat_calloc(1, sizeof(*key));
  if (key == NULL) {
    EVP_PKEY_free(pkey);
    return ossl_fail(MOAT_ERR_NO_MEMORY, detail, detail_cap,
                     "out of memory for a public key");
  }
  atomic_init(&key->refs, 1);
  atomic_init(&key->spare, NULL);
  key->type = info.type;
  key->pkey = pkey;
  key->bits = info.type == KEY_RSA || info.type == KEY_RSA_PSS
                  ? info.rsa_bits
                  : EVP_PKEY_get_bits(pkey);
  *out = key;
  return MOAT_OK;
}

pubkey *pubkey_ref(pubkey *key) {
  atomic_fetch_add(&key->refs, 1);
  return key;
}

void pubkey_free(pubkey *key) {
  if (key == NULL || atomic_fetch_sub(&key->refs, 1) != 1) {
    return;
  }
  pkey_op_slot_clear(&key->spare);
  EVP_PKEY_free(key->pkey);
  moat_free(key);
}

key_type pubkey_type(const pubkey *key) {
  return key->type;
}

int pubkey_bits(const pubkey *key) {
  return key->bits;
}
