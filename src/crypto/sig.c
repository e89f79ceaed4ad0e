/* Signature schemes (RFC 8446 4.2.3): the table, verification with a
 * public key and signing with a private key. */
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/ossl_common.h"
#include "crypto/ossl_der.h"
#include "crypto/ossl_keys.h"

/* In moat's default preference order.  rsa_pkcs1_sha1 (0x0201) and
 * ecdsa_sha1 (0x0203) are deliberately absent: SHA-1 signatures are
 * refused. */
static const sig_scheme k_schemes[] = {
    {0x0403, "ecdsa_secp256r1_sha256", SIG_ECDSA, HASH_SHA256, KEY_EC_P256,
     true},
    {0x0503, "ecdsa_secp384r1_sha384", SIG_ECDSA, HASH_SHA384, KEY_EC_P384,
     true},
    {0x0603, "ecdsa_secp521r1_sha512", SIG_ECDSA, HASH_SHA512, KEY_EC_P521,
     true},
    {0x0807, "ed25519", SIG_EDDSA, HASH_NONE, KEY_ED25519, true},
    {0x0808, "ed448", SIG_EDDSA, HASH_NONE, KEY_ED448, true},
    {0x0804, "rsa_pss_rsae_sha256", SIG_RSA_PSS, HASH_SHA256, KEY_RSA, true},
    {0x0805, "rsa_pss_rsae_sha384", SIG_RSA_PSS, HASH_SHA384, KEY_RSA, true},
    {0x0806, "rsa_pss_rsae_sha512", SIG_RSA_PSS, HASH_SHA512, KEY_RSA, true},
    {0x0809, "rsa_pss_pss_sha256", SIG_RSA_PSS, HASH_SHA256, KEY_RSA_PSS, true},
    {0x080a, "rsa_pss_pss_sha384", SIG_RSA_PSS, HASH_SHA384, KEY_RSA_PSS, true},
    {0x080b, "rsa_pss_pss_sha512", SIG_RSA_PSS, HASH_SHA512, KEY_RSA_PSS, true},
    /* RFC 8446 4.2.3: PKCS#1 v1.5 only in certificates, not in
     * CertificateVerify. */
    {0x0401, "rsa_pkcs1_sha256", SIG_RSA_PKCS1, HASH_SHA256, KEY_RSA, false},
    {0x0501, "rsa_pkcs1_sha384", SIG_RSA_PKCS1, HASH_SHA384, KEY_RSA, false},
    {0x0601, "rsa_pkcs1_sha512", SIG_RSA_PKCS1, HASH_SHA512, KEY_RSA, false},
};
#define NUM_SCHEMES (sizeof(k_schemes) / sizeof(k_schemes[0]))

static const sig_scheme *const k_scheme_ptrs[NUM_SCHEMES] = {
    &k_schemes[0],  &k_schemes[1],  &k_schemes[2],  &k_schemes[3],
    &k_schemes[4],  &k_schemes[5],  &k_schemes[6],  &k_schemes[7],
    &k_schemes[8],  &k_schemes[9],  &k_schemes[10], &k_schemes[11],
    &k_schemes[12], &k_schemes[13],
};

const sig_scheme *sig_scheme_by_code(uint16_t code) {
  for (size_t i = 0; i < NUM_SCHEMES; i++) {
    if (k_schemes[i].code == code) {
      return &k_schemes[i];
    }
  }
  return NULL;
}

const sig_scheme *sig_scheme_by_name(const char *name) {
  if (name == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < NUM_SCHEMES; i++) {
    if (strcasecmp(k_schemes[i].name, name) == 0) {
      return &k_schemes[i];
    }
  }
  return NULL;
}

const sig_scheme *const *sig_scheme_all(size_t *out_num) {
  *out_num = NUM_SCHEMES;
  return k_scheme_ptrs;
}

const char *key_type_name(key_type t) {
  switch (t) {
  case KEY_RSA:
    return "RSA";
  case KEY_RSA_PSS:
    return "RSA-PSS";
  case KEY_EC_P256:
    return "EC P-256";
  case KEY_EC_P384:
    return "EC P-384";
  case KEY_EC_P521:
    return "EC P-521";
  case KEY_ED25519:
    return "Ed25519";
  case KEY_ED448:
    return "Ed448";
  case KEY_NONE:
  default:
    return "none";
  }
}

key_type ossl_key_type(const EVP_PKEY *pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    return KEY_RSA;
  }
  if (EVP_PKEY_is_a(pkey, "RSA-PSS")) {
    return KEY_RSA_PSS;
  }
  if (EVP_PKEY_is_a(pkey, "ED25519")) {
    return KEY_ED25519;
  }
  if (EVP_PKEY_is_a(pkey, "ED448")) {
    return KEY_ED448;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64];
    size_t n = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &n) != 1) {
      ERR_clear_error();
      return KEY_NONE;
    }
    if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
      return KEY_EC_P256;
    }
    if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
      return KEY_EC_P384;
    }
    if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0) {
      return KEY_EC_P521;
    }
  }
  return KEY_NONE;
}

static bool pctx_params(EVP_PKEY_CTX *pctx, sig_kind kind, hash_id mgf1,
                        size_t salt_len);

/* Initialise a DigestSign/DigestVerify context for the parameters.
 * salt_len and mgf1 apply to PSS only. */
static bool md_ctx_setup(EVP_MD_CTX *m, EVP_PKEY *pkey, sig_kind kind,
                         hash_id hash, hash_id mgf1, size_t salt_len,
                         bool sign) {
  const EVP_MD *md = NULL;
  EVP_PKEY_CTX *pctx = NULL;
  if (kind != SIG_EDDSA) {
    md = ossl_md(hash);
    if (md == NULL) {
      return false;
    }
  }
  int r = sign ? EVP_DigestSignInit(m, &pctx, md, NULL, pkey)
               : EVP_DigestVerifyInit(m, &pctx, md, NULL, pkey);
  if (r != 1) {
    return false;
  }
  return pctx_params(pctx, kind, mgf1, salt_len);
}

/* Padding parameters of an initialised signing or verifying context. */
static bool pctx_params(EVP_PKEY_CTX *pctx, sig_kind kind, hash_id mgf1,
                        size_t salt_len) {
  switch (kind) {
  case SIG_RSA_PKCS1:
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  case SIG_RSA_PSS: {
    const EVP_MD *mgf = ossl_md(mgf1);
    return mgf != NULL && salt_len <= INT_MAX &&
           EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, mgf) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)salt_len) == 1;
  }
  case SIG_ECDSA:
  case SIG_EDDSA:
    return true;
  default:
    return false;
  }
}

void pkey_op_slot_clear(pkey_op_slot *slot) {
  pkey_op *op = atomic_exchange(slot, NULL);
  if (op != NULL) {
    EVP_PKEY_CTX_free(op->ctx);
    moat_free(op);
  }
}

/* What a kept context was set up for: the operation and its parameters. */
static uint64_t op_tag(bool sign, sig_kind kind, hash_id hash, hash_id mgf1,
                       size_t salt_len) {
  return (uint64_t)sign | (uint64_t)kind << 1 | (uint64_t)hash << 8 |
         (uint64_t)mgf1 << 16 | (uint64_t)salt_len << 24;
}

/* A context for the operation: the key's spare when it was set up for
 * the same parameters, else the spare (or a new one) set up again. */
static pkey_op *op_take(EVP_PKEY *pkey, pkey_op_slot *slot, uint64_t tag,
                        bool sign, sig_kind kind, hash_id hash, hash_id mgf1,
                        size_t salt_len) {
  pkey_op *op = atomic_exchange(slot, NULL);
  if (op != NULL && op->tag == tag) {
    return op;
  }
  if (op == NULL) {
    op = moat_calloc(1, sizeof(*op));
    if (op == NULL) {
      return NULL;
    }
    op->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
  }
  const EVP_MD *md = ossl_md(hash);
  op->tag = tag;
  if (op->ctx == NULL || md == NULL ||
      (sign ? EVP_PKEY_sign_init(op->ctx) : EVP_PKEY_verify_init(op->ctx)) !=
          1 ||
      (kind != SIG_ECDSA && EVP_PKEY_CTX_set_signature_md(op->ctx, md) != 1) ||
      !pctx_params(op->ctx, kind, mgf1, salt_len)) {
    EVP_PKEY_CTX_free(op->ctx);
    moat_free(op);
    return NULL;
  }
  return op;
}

/* Back as the key's spare, unless another thread put one back first or
 * the operation failed (a context in an unknown state is not kept). */
static void op_give_back(pkey_op_slot *slot, pkey_op *op, bool ok) {
  pkey_op *empty = NULL;
  if (ok && atomic_compare_exchange_strong(slot, &empty, op)) {
    return;
  }
  EVP_PKEY_CTX_free(op->ctx);
  moat_free(op);
}

/* RSA and ECDSA sign and verify a digest: the message is hashed with
 * moat's allocation-free hash and only the public-key operation goes
 * through an EVP_PKEY_CTX, the one kept with the key (EVP_DigestSign/Verify
 * would add a digest context, a fetch and their allocations, and a new
 * EVP_PKEY_CTX per operation costs a provider context and a fetch).  The
 * slot is in the key, which callers share as const; it is the one field
 * written through it, atomically.  EdDSA signs the message. */
static bool pkey_op_digest(EVP_PKEY *pkey, pkey_op_slot *slot, sig_kind kind,
                           hash_id hash, hash_id mgf1, size_t salt_len,
                           const uint8_t *msg, size_t msg_len, uint8_t *sig,
                           size_t *io_sig_len, bool sign) {
  const hash_alg *h = hash_get(hash);
  uint8_t dgst[HASH_MAX_LEN];
  /* The tag holds the salt length whole only below 2^40; libcrypto takes
   * an int anyway. */
  if (h == NULL || salt_len > INT_MAX || !hash_oneshot(h, msg, msg_len, dgst)) {
    return false;
  }
  uint64_t tag = op_tag(sign, kind, hash, mgf1, salt_len);
  pkey_op *op = op_take(pkey, slot, tag, sign, kind, hash, mgf1, salt_len);
  if (op == NULL) {
    return false;
  }
  bool ok =
      (sign ? EVP_PKEY_sign(op->ctx, sig, io_sig_len, dgst, h->len)
            : EVP_PKEY_verify(op->ctx, sig, *io_sig_len, dgst, h->len)) == 1;
  /* A signature that does not verify leaves the context as usable as one
   * that does; only signing errors are unexpected. */
  op_give_back(slot, op, ok || !sign);
  return ok;
}

static bool verify_with(const pubkey *key, sig_kind kind, hash_id hash,
                        hash_id mgf1, size_t salt_len, const uint8_t *msg,
                        size_t msg_len, const uint8_t *sig, size_t sig_len) {
  EVP_PKEY *pkey = key->pkey;
  if (kind != SIG_EDDSA) {
    size_t n = sig_len;
    bool ok =
        pkey_op_digest(pkey, (pkey_op_slot *)&key->spare, kind, hash, mgf1,
                       salt_len, msg, msg_len, (uint8_t *)sig, &n, false);
    if (!ok) {
      ERR_clear_error();
    }
    return ok;
  }
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  bool ok = m != NULL &&
            md_ctx_setup(m, pkey, kind, hash, mgf1, salt_len, false) &&
            EVP_DigestVerify(m, sig, sig_len, msg, msg_len) == 1;
  EVP_MD_CTX_free(m);
  if (!ok) {
    ERR_clear_error();
  }
  return ok;
}

/* The PSS salt length of a TLS scheme (0 for the others): RFC 8446
 * 4.2.3, the salt is as long as the digest. */
static bool scheme_salt(const sig_scheme *scheme, size_t *out) {
  *out = 0;
  if (scheme->kind == SIG_RSA_PSS) {
    const hash_alg *h = hash_get(scheme->hash);
    if (h == NULL) {
      return false;
    }
    *out = h->len;
  }
  return true;
}

bool pubkey_verify(const pubkey *key, const sig_scheme *scheme,
                   const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                   size_t sig_len) {
  if (key == NULL || scheme == NULL || sig == NULL) {
    return false;
  }
  /* RFC 8446 4.2.3: the scheme names the key type, and for ECDSA the
   * curve; an rsaEncryption key verifies rsa_pkcs1_* and rsa_pss_rsae_*,
   * an id-RSASSA-PSS key only rsa_pss_pss_*. */
  if (key->type != scheme->key) {
    return false;
  }
  if (scheme->kind == SIG_ECDSA &&
      !ecdsa_sig_der_ok(sig, sig_len, ec_field_len(key->type))) {
    return false;
  }
  size_t salt;
  if (!scheme_salt(scheme, &salt)) {
    return false;
  }
  return verify_with(key, scheme->kind, scheme->hash, scheme->hash, salt, msg,
                     msg_len, sig, sig_len);
}

bool pubkey_verify_pss(const pubkey *key, hash_id hash, hash_id mgf1_hash,
                       size_t salt_len, const uint8_t *msg, size_t msg_len,
                       const uint8_t *sig, size_t sig_len) {
  if (key == NULL || sig == NULL ||
      (key->type != KEY_RSA && key->type != KEY_RSA_PSS)) {
    return false;
  }
  return verify_with(key, SIG_RSA_PSS, hash, mgf1_hash, salt_len, msg, msg_len,
                     sig, sig_len);
}

size_t privkey_max_sig_len(const privkey *key) {
  int n = EVP_PKEY_get_size(key->pkey);
  return n > 0 ? (size_t)n : 0;
}

bool privkey_sign(const privkey *key, const sig_scheme *scheme,
                  const uint8_t *msg, size_t msg_len, uint8_t *out_sig,
                  size_t *io_sig_len) {
  if (key == NULL || scheme == NULL || key->type != scheme->key ||
      *io_sig_len < privkey_max_sig_len(key)) {
    return false;
  }
  size_t salt;
  if (!scheme_salt(scheme, &salt)) {
    return false;
  }
  size_t n = *io_sig_len;
  if (scheme->kind != SIG_EDDSA) {
    bool ok = pkey_op_digest(key->pkey, (pkey_op_slot *)&key->spare,
                             scheme->kind, scheme->hash, scheme->hash, salt,
                             msg, msg_len, out_sig, &n, true);
    if (!ok) {
      ERR_clear_error();
      return false;
    }
    *io_sig_len = n;
    return true;
  }
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  bool ok = m != NULL &&
            md_ctx_setup(m, key->pkey, scheme->kind, scheme->hash, scheme->hash,
                         salt, true) &&
            EVP_DigestSign(m, out_sig, &n, msg, msg_len) == 1;
  EVP_MD_CTX_free(m);
  if (!ok) {
    ERR_clear_error();
    return false;
  }
  *io_sig_len = n;
  return true;
}
