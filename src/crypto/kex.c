/* Key exchange groups (RFC 8446 4.2.7): X25519, X448 (RFC 7748) and the
 * NIST curves with uncompressed X9.62 points (RFC 8446 4.2.8.2), their
 * descriptor table (with the hybrids of kex_hybrid.c), and the calls that
 * dispatch through each descriptor's operations. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <stdatomic.h>
#include <strings.h>

#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/kex_impl.h"
#include "crypto/ossl_common.h"

enum {
  GROUP_SECP256R1 = 0x0017,
  GROUP_SECP384R1 = 0x0018,
  GROUP_SECP521R1 = 0x0019,
  GROUP_X25519 = 0x001d,
  GROUP_X448 = 0x001e,
};

static const kex_ops k_ecdh_ops;

const kex_alg kex_x25519 = {GROUP_X25519, "X25519", NULL, 32,    32,
                            32,           false,    NULL, false, &k_ecdh_ops};
static const kex_alg k_x448 = {GROUP_X448, "X448", NULL, 56,    56,
                               56,         false,  NULL, false, &k_ecdh_ops};
const kex_alg kex_p256 = {
    GROUP_SECP256R1, "secp256r1", "P-256", 65,         65, 32,
    false,           NULL,        false,   &k_ecdh_ops};
static const kex_alg k_p384 = {
    GROUP_SECP384R1, "secp384r1", "P-384", 97,         97, 48,
    false,           NULL,        false,   &k_ecdh_ops};
static const kex_alg k_p521 = {
    GROUP_SECP521R1, "secp521r1", "P-521", 133,        133, 66,
    false,           NULL,        false,   &k_ecdh_ops};

/* moat's default preference order: the hybrid first (a client sends its
 * share and X25519's), then the classical groups as before, then the
 * P-256 hybrid. */
static const kex_alg *const k_all[] = {
    &kex_x25519mlkem768, &kex_x25519, &kex_p256, &k_p384, &k_x448, &k_p521,
    &kex_p256mlkem768};
#define NUM_KEX (sizeof(k_all) / sizeof(k_all[0]))

const kex_alg *kex_by_group(uint16_t group) {
  for (size_t i = 0; i < NUM_KEX; i++) {
    if (k_all[i]->group == group) {
      return k_all[i];
    }
  }
  return NULL;
}

const kex_alg *kex_by_name(const char *name) {
  if (name == NULL) {
    return NULL;
  }
  /* OpenSSL's name for P-256. */
  if (strcasecmp(name, "prime256v1") == 0) {
    return &kex_p256;
  }
  for (size_t i = 0; i < NUM_KEX; i++) {
    if (strcasecmp(name, k_all[i]->name) == 0 ||
        (k_all[i]->alt_name != NULL &&
         strcasecmp(name, k_all[i]->alt_name) == 0)) {
      return k_all[i];
    }
  }
  return NULL;
}

const kex_alg *const *kex_all(size_t *out_num) {
  *out_num = NUM_KEX;
  return k_all;
}

static bool is_ecx(const kex_alg *alg) {
  return alg->group == GROUP_X25519 || alg->group == GROUP_X448;
}

/* libcrypto's key type / group name for a group. */
static const char *ossl_name(const kex_alg *alg) {
  switch (alg->group) {
  case GROUP_X25519:
    return "X25519";
  case GROUP_X448:
    return "X448";
  case GROUP_SECP256R1:
    return "P-256";
  case GROUP_SECP384R1:
    return "P-384";
  case GROUP_SECP521R1:
    return "P-521";
  default:
    return NULL;
  }
}

/* One keygen context per group kept for the next key pair: building one
 * by name (EVP_PKEY_Q_keygen) sets the group up again each time, which
 * doubles the cost of a P-256 key pair.  And one key object per group for
 * the peer's share: setting a new public value into a kept object makes
 * no allocation, building the object makes seven.  Only public values go
 * into a kept object; our own keys are never kept (their private halves
 * would outlive the handshake).  Threads take a spare with an atomic
 * exchange and give it back with a compare-and-swap; a thread that finds
 * none builds its own. */
struct kex_pool {
  _Atomic(EVP_PKEY_CTX *) spare[NUM_KEX];
  _Atomic(EVP_PKEY *) peer[NUM_KEX];
};

kex_pool *kex_pool_new(void) {
  kex_pool *pool = moat_calloc(1, sizeof(*pool));
  if (pool != NULL) {
    for (size_t i = 0; i < NUM_KEX; i++) {
      atomic_init(&pool->spare[i], NULL);
      atomic_init(&pool->peer[i], NULL);
    }
  }
  return pool;
}

void kex_pool_free(kex_pool *pool) {
  if (pool == NULL) {
    return;
  }
  for (size_t i = 0; i < NUM_KEX; i++) {
    EVP_PKEY_CTX_free(atomic_exchange(&pool->spare[i], NULL));
    EVP_PKEY_free(atomic_exchange(&pool->peer[i], NULL));
  }
  moat_free(pool);
}

static size_t kex_index(const kex_alg *alg) {
  for (size_t i = 0; i < NUM_KEX; i++) {
    if (k_all[i] == alg) {
      return i;
    }
  }
  return NUM_KEX;
}

static EVP_PKEY_CTX *keygen_ctx_new(const kex_alg *alg) {
  EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(
      NULL, is_ecx(alg) ? ossl_name(alg) : "EC", NULL);
  if (pctx == NULL || EVP_PKEY_keygen_init(pctx) != 1 ||
      (!is_ecx(alg) &&
       EVP_PKEY_CTX_set_group_name(pctx, ossl_name(alg)) != 1)) {
    EVP_PKEY_CTX_free(pctx);
    return NULL;
  }
  return pctx;
}

/* A fresh key pair for alg, or NULL. */
static EVP_PKEY *keygen(const kex_alg *alg, kex_pool *pool) {
  size_t i = kex_index(alg);
  if (i == NUM_KEX) {
    return NULL;
  }
  EVP_PKEY_CTX *pctx =
      pool != NULL ? atomic_exchange(&pool->spare[i], NULL) : NULL;
  if (pctx == NULL) {
    pctx = keygen_ctx_new(alg);
    if (pctx == NULL) {
      return NULL;
    }
  }
  EVP_PKEY *pkey = NULL;
  bool ok = EVP_PKEY_keygen(pctx, &pkey) == 1;
  EVP_PKEY_CTX *empty = NULL;
  if (!ok || pool == NULL ||
      !atomic_compare_exchange_strong(&pool->spare[i], &empty, pctx)) {
    EVP_PKEY_CTX_free(pctx);
  }
  if (!ok) {
    EVP_PKEY_free(pkey);
    return NULL;
  }
  return pkey;
}

/* Our public share. */
static bool write_share(const kex_alg *alg, EVP_PKEY *pkey, uint8_t *out,
                        size_t *out_len) {
  size_t n = alg->client_share_len;
  if (is_ecx(alg)) {
    if (EVP_PKEY_get_raw_public_key(pkey, out, &n) != 1) {
      return false;
    }
  } else if (EVP_PKEY_get_octet_string_param(
                 pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out,
                 alg->client_share_len, &n) != 1) {
    return false;
  }
  if (n != alg->client_share_len) {
    return false;
  }
  *out_len = n;
  return true;
}

/* The peer's public key from its share, or NULL when the share is
 * malformed or not a valid point.  like, when given, is our own key of
 * the same group: copying its group is much cheaper than building the
 * group again from its name.  pool, when given, may lend a kept object
 * that takes the new public value in place (give it back with
 * peer_key_done). */
static EVP_PKEY *peer_key(const kex_alg *alg, const uint8_t *share,
                          size_t share_len, EVP_PKEY *like, kex_pool *pool) {
  if (share_len != alg->client_share_len) {
    return NULL;
  }
  /* RFC 8446 4.2.8.2: only the uncompressed form (0x04 || X || Y); this
   * also refuses the one-byte point at infinity and compressed points. */
  if (!is_ecx(alg) && share[0] != 0x04) {
    return NULL;
  }
  size_t i = kex_index(alg);
  EVP_PKEY *kept = pool != NULL && i < NUM_KEX
                       ? atomic_exchange(&pool->peer[i], NULL)
                       : NULL;
  if (kept != NULL) {
    /* The same decoding and on-curve check as for a new object; if it
     * fails, the kept object is dropped and a new one decides. */
    if (EVP_PKEY_set1_encoded_public_key(kept, share, share_len) == 1) {
      return kept;
    }
    EVP_PKEY_free(kept);
    ERR_clear_error();
  }
  if (is_ecx(alg) && like == NULL) {
    return EVP_PKEY_new_raw_public_key_ex(NULL, ossl_name(alg), NULL, share,
                                          share_len);
  }
  /* Setting the encoded point decodes it and, for the NIST curves, refuses
   * one that is not on the curve (all three have cofactor 1, so on-curve
   * is the whole check; RFC 7748 keys are any 32 or 56 bytes).  Going
   * through our own key's type costs about half of building the key by
   * name. */
  if (like != NULL) {
    EVP_PKEY *pkey = EVP_PKEY_new();
    if (pkey == NULL || EVP_PKEY_copy_parameters(pkey, like) != 1 ||
        EVP_PKEY_set1_encoded_public_key(pkey, share, share_len) != 1) {
      EVP_PKEY_free(pkey);
      return NULL;
    }
    return pkey;
  }
  EVP_PKEY *pkey = NULL;
  EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  OSSL_PARAM params[3];
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                               (char *)ossl_name(alg), 0);
  params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                (void *)share, share_len);
  params[2] = OSSL_PARAM_construct_end();
  if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
      EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    EVP_PKEY_free(pkey);
    pkey = NULL;
  }
  EVP_PKEY_CTX_free(pctx);
  return pkey;
}

/* Gives the peer's key object to pool for the next share, or frees it. */
static void peer_key_done(const kex_alg *alg, kex_pool *pool, EVP_PKEY *peer) {
  size_t i = kex_index(alg);
  EVP_PKEY *empty = NULL;
  if (peer == NULL) {
    return;
  }
  if (pool == NULL || i == NUM_KEX ||
      !atomic_compare_exchange_strong(&pool->peer[i], &empty, peer)) {
    EVP_PKEY_free(peer);
  }
}

static bool derive(const kex_alg *alg, EVP_PKEY *ours, EVP_PKEY *peer,
                   uint8_t *out, size_t *out_len) {
  EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, ours, NULL);
  size_t n = alg->secret_len;
  bool ok = false;
  if (pctx == NULL || EVP_PKEY_derive_init(pctx) != 1 ||
      EVP_PKEY_derive_set_peer_ex(pctx, peer, 0) != 1 ||
      EVP_PKEY_derive(pctx, out, &n) != 1 || n != alg->secret_len) {
    goto cleanup;
  }
  if (alg->group == GROUP_X25519 || alg->group == GROUP_X448) {
    /* RFC 8446 7.4.2 / RFC 7748 6: refuse an all-zero shared secret
     * (a small-order peer point); checked without branching on the
     * secret's bytes. */
    static const uint8_t zeros[56];
    if (ct_eq(out, zeros, n)) {
      goto cleanup;
    }
  }
  /* For the NIST curves the result is the x-coordinate, left-padded to
   * the field size (RFC 8446 7.4.2). */
  *out_len = n;
  ok = true;

cleanup:
  if (!ok) {
    moat_wipe(out, alg->secret_len);
  }
  EVP_PKEY_CTX_free(pctx);
  return ok;
}

static bool ecdh_generate(const kex_alg *alg, kex_pool *pool, kex_key **out_key,
                          uint8_t *out_share, size_t *out_share_len) {
  kex_key *key = NULL;
  *out_key = NULL;
  if (ossl_name(alg) == NULL) {
    return false;
  }
  key = moat_calloc(1, sizeof(*key));
  if (key == NULL) {
    return false;
  }
  key->alg = alg;
  key->pool = pool;
  key->pkey = keygen(alg, pool);
  if (key->pkey == NULL ||
      !write_share(alg, key->pkey, out_share, out_share_len)) {
    ERR_clear_error();
    kex_key_free(key);
    return false;
  }
  *out_key = key;
  return true;
}

/* What was wrong with a refused share: its length, the point, or (X25519,
 * X448) the all-zero result of a small-order point. */
static const char *ecdh_why(const kex_alg *alg, size_t share_len,
                            bool have_point) {
  if (share_len != alg->client_share_len) {
    return "it has the wrong length";
  }
  if (!have_point) {
    return "it is not a valid point";
  }
  return is_ecx(alg) ? "it gives an all-zero shared secret"
                     : "the agreement failed";
}

static bool ecdh_finish(const kex_key *key, const uint8_t *peer_share,
                        size_t peer_share_len, uint8_t *out_secret,
                        size_t *out_secret_len, const char **out_why) {
  EVP_PKEY *peer =
      peer_key(key->alg, peer_share, peer_share_len, key->pkey, key->pool);
  bool ok = peer != NULL &&
            derive(key->alg, key->pkey, peer, out_secret, out_secret_len);
  if (!ok && out_why != NULL) {
    *out_why = ecdh_why(key->alg, peer_share_len, peer != NULL);
  }
  /* A key that failed to derive is not kept: the next share gets a fresh
   * object. */
  if (ok) {
    peer_key_done(key->alg, key->pool, peer);
  } else {
    EVP_PKEY_free(peer);
  }
  if (!ok) {
    ERR_clear_error();
  }
  return ok;
}

static bool ecdh_respond(const kex_alg *alg, kex_pool *pool,
                         const uint8_t *peer_share, size_t peer_share_len,
                         uint8_t *out_share, size_t *out_share_len,
                         uint8_t *out_secret, size_t *out_secret_len,
                         const char **out_why) {
  kex_key *key = NULL;
  EVP_PKEY *peer = NULL;
  bool ok = false;
  if (ossl_name(alg) == NULL || peer_share_len != alg->client_share_len) {
    if (out_why != NULL) {
      *out_why = ecdh_why(alg, peer_share_len, false);
    }
    return false;
  }
  /* Our key first: the peer's point then borrows its group. */
  if (!ecdh_generate(alg, pool, &key, out_share, out_share_len)) {
    if (out_why != NULL) {
      *out_why = "our key generation failed";
    }
    goto cleanup;
  }
  peer = peer_key(alg, peer_share, peer_share_len, key->pkey, pool);
  if (peer == NULL ||
      !derive(alg, key->pkey, peer, out_secret, out_secret_len)) {
    if (out_why != NULL) {
      *out_why = ecdh_why(alg, peer_share_len, peer != NULL);
    }
    goto cleanup;
  }
  ok = true;
  peer_key_done(alg, pool, peer);
  peer = NULL;

cleanup:
  EVP_PKEY_free(peer);
  kex_key_free(key);
  if (!ok) {
    ERR_clear_error();
  }
  return ok;
}

static void ecdh_key_free(kex_key *key) {
  EVP_PKEY_free(key->pkey); /* libcrypto cleanses the private scalar */
  moat_free(key);
}

/* An EC key pair from a big-endian private scalar: the public point is
 * computed here so the key can also produce its share. */
static EVP_PKEY *ec_from_private(const kex_alg *alg, const uint8_t *priv,
                                 size_t priv_len) {
  EVP_PKEY *pkey = NULL;
  EC_GROUP *group = NULL;
  EC_POINT *point = NULL;
  BIGNUM *d = NULL;
  OSSL_PARAM_BLD *bld = NULL;
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *pctx = NULL;
  uint8_t pub[KEX_MAX_SHARE];
  size_t pub_len;
  int nid = alg->group == GROUP_SECP256R1   ? NID_X9_62_prime256v1
            : alg->group == GROUP_SECP384R1 ? NID_secp384r1
                                            : NID_secp521r1;

  group = EC_GROUP_new_by_curve_name(nid);
  d = BN_bin2bn(priv, (int)priv_len, NULL);
  if (group == NULL || d == NULL || BN_is_zero(d) ||
      BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
    goto cleanup;
  }
  point = EC_POINT_new(group);
  if (point == NULL || EC_POINT_mul(group, point, d, NULL, NULL, NULL) != 1) {
    goto cleanup;
  }
  pub_len = EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, pub,
                               sizeof(pub), NULL);
  if (pub_len != alg->client_share_len) {
    goto cleanup;
  }
  bld = OSSL_PARAM_BLD_new();
  if (bld == NULL ||
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                      ossl_name(alg), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                       pub_len) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1) {
    goto cleanup;
  }
  params = OSSL_PARAM_BLD_to_param(bld);
  pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
      EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1) {
    EVP_PKEY_free(pkey);
    pkey = NULL;
  }

cleanup:
  EVP_PKEY_CTX_free(pctx);
  OSSL_PARAM_free(params); /* OSSL_PARAM_clear_free is 3.1+ */
  OSSL_PARAM_BLD_free(bld);
  EC_POINT_free(point);
  BN_clear_free(d);
  EC_GROUP_free(group);
  return pkey;
}

static bool ecdh_from_private(const kex_alg *alg, const uint8_t *priv,
                              size_t priv_len, kex_pool *pool,
                              kex_key **out_key) {
  if (ossl_name(alg) == NULL) {
    return false;
  }
  EVP_PKEY *pkey = NULL;
  if (is_ecx(alg)) {
    if (priv_len == alg->secret_len) {
      pkey = EVP_PKEY_new_raw_private_key_ex(NULL, ossl_name(alg), NULL, priv,
                                             priv_len);
    }
  } else if (priv_len > 0 && priv_len <= alg->secret_len + 1) {
    pkey = ec_from_private(alg, priv, priv_len);
  }
  kex_key *key = pkey != NULL ? moat_calloc(1, sizeof(*key)) : NULL;
  if (key == NULL) {
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return false;
  }
  key->alg = alg;
  key->pkey = pkey;
  key->pool = pool;
  *out_key = key;
  return true;
}

static bool ecdh_key_share(const kex_key *key, uint8_t *out_share,
                           size_t *out_share_len) {
  if (!write_share(key->alg, key->pkey, out_share, out_share_len)) {
    ERR_clear_error();
    return false;
  }
  return true;
}

static const kex_ops k_ecdh_ops = {ecdh_generate,     ecdh_finish,
                                   ecdh_respond,      ecdh_key_share,
                                   ecdh_from_private, ecdh_key_free};

/* ---- the calls, through the descriptor's operations ---------------------
 */

bool kex_generate(const kex_alg *alg, kex_pool *pool, kex_key **out_key,
                  uint8_t *out_share, size_t *out_share_len) {
  *out_key = NULL;
  return alg != NULL &&
         alg->ops->generate(alg, pool, out_key, out_share, out_share_len);
}

bool kex_finish_why(const kex_key *key, const uint8_t *peer_share,
                    size_t peer_share_len, uint8_t *out_secret,
                    size_t *out_secret_len, const char **out_why) {
  return key != NULL &&
         key->alg->ops->finish(key, peer_share, peer_share_len, out_secret,
                               out_secret_len, out_why);
}

bool kex_finish(const kex_key *key, const uint8_t *peer_share,
                size_t peer_share_len, uint8_t *out_secret,
                size_t *out_secret_len) {
  return kex_finish_why(key, peer_share, peer_share_len, out_secret,
                        out_secret_len, NULL);
}

bool kex_respond_why(const kex_alg *alg, kex_pool *pool,
                     const uint8_t *peer_share, size_t peer_share_len,
                     uint8_t *out_share, size_t *out_share_len,
                     uint8_t *out_secret, size_t *out_secret_len,
                     const char **out_why) {
  return alg != NULL &&
         alg->ops->respond(alg, pool, peer_share, peer_share_len, out_share,
                           out_share_len, out_secret, out_secret_len, out_why);
}

bool kex_respond(const kex_alg *alg, kex_pool *pool, const uint8_t *peer_share,
                 size_t peer_share_len, uint8_t *out_share,
                 size_t *out_share_len, uint8_t *out_secret,
                 size_t *out_secret_len) {
  return kex_respond_why(alg, pool, peer_share, peer_share_len, out_share,
                         out_share_len, out_secret, out_secret_len, NULL);
}

void kex_key_free(kex_key *key) {
  if (key != NULL) {
    key->alg->ops->key_free(key);
  }
}

bool kex_key_from_private(const kex_alg *alg, const uint8_t *priv,
                          size_t priv_len, kex_pool *pool, kex_key **out_key) {
  *out_key = NULL;
  return alg != NULL && priv != NULL &&
         alg->ops->from_private(alg, priv, priv_len, pool, out_key);
}

bool kex_key_share(const kex_key *key, uint8_t *out_share,
                   size_t *out_share_len) {
  return key->alg->ops->key_share(key, out_share, out_share_len);
}
