/* The hybrid groups of draft-ietf-tls-ecdhe-mlkem (TLS 1.3 only):
 * X25519MLKEM768 (0x11EC) and SecP256r1MLKEM768 (0x11EB), each ML-KEM-768
 * and an ECDH group combined.  The client's share is the ML-KEM
 * encapsulation key and its ECDH share, the server's the ciphertext and
 * its ECDH share, and the secret the two shared secrets, each
 * concatenation in the group's order: ML-KEM first for X25519MLKEM768,
 * the P-256 part first for SecP256r1MLKEM768.  Each half is checked on
 * its own (lengths, the point, the encapsulation key's modulus check);
 * any failure refuses the whole share. */
#include <string.h>

#include "base/mem.h"
#include "crypto/kex_impl.h"

enum {
  GROUP_SECP256R1MLKEM768 = 0x11eb,
  GROUP_X25519MLKEM768 = 0x11ec,
};

const kex_alg kex_x25519mlkem768 = {GROUP_X25519MLKEM768,
                                    "X25519MLKEM768",
                                    NULL,
                                    MLKEM768_EK_LEN + 32,
                                    MLKEM768_CT_LEN + 32,
                                    MLKEM_SS_LEN + 32,
                                    true,
                                    &kex_x25519,
                                    true,
                                    &kex_hybrid_ops};
const kex_alg kex_p256mlkem768 = {GROUP_SECP256R1MLKEM768,
                                  "SecP256r1MLKEM768",
                                  NULL,
                                  65 + MLKEM768_EK_LEN,
                                  65 + MLKEM768_CT_LEN,
                                  32 + MLKEM_SS_LEN,
                                  true,
                                  &kex_p256,
                                  false,
                                  &kex_hybrid_ops};

/* Where the ML-KEM part and the ECDH part sit in a share (or secret) of
 * total length len whose ML-KEM part is kem_len long. */
typedef struct split {
  size_t kem_off, ecdh_off, ecdh_len;
} split;

static split split_of(const kex_alg *alg, size_t len, size_t kem_len) {
  split s;
  s.ecdh_len = len - kem_len;
  s.kem_off = alg->kem_first ? 0 : s.ecdh_len;
  s.ecdh_off = alg->kem_first ? kem_len : 0;
  return s;
}

static kex_key *hybrid_key_new(const kex_alg *alg, kex_pool *pool) {
  kex_key *key = moat_calloc(1, sizeof(*key));
  if (key == NULL) {
    return NULL;
  }
  key->alg = alg;
  key->pool = pool;
  key->kem = moat_malloc(sizeof(*key->kem));
  if (key->kem == NULL) {
    moat_free(key);
    return NULL;
  }
  return key;
}

static void hybrid_key_free(kex_key *key) {
  kex_key_free(key->classical);
  if (key->kem != NULL) {
    mlkem768_key_wipe(key->kem);
    moat_free(key->kem);
  }
  moat_free(key);
}

/* The ML-KEM half from seed = d || z, and its encapsulation key written
 * into the share. */
static bool kem_keygen(kex_key *key, const uint8_t seed[MLKEM_SEED_LEN],
                       uint8_t *share) {
  split s = split_of(key->alg, key->alg->client_share_len, MLKEM768_EK_LEN);
  return mlkem768_keygen(NULL, seed, key->kem, share + s.kem_off);
}

static bool hybrid_generate(const kex_alg *alg, kex_pool *pool,
                            kex_key **out_key, uint8_t *out_share,
                            size_t *out_share_len) {
  split s = split_of(alg, alg->client_share_len, MLKEM768_EK_LEN);
  uint8_t seed[MLKEM_SEED_LEN];
  size_t ecdh_len = 0;
  kex_key *key = hybrid_key_new(alg, pool);
  bool ok = key != NULL && crypto_random(seed, sizeof(seed)) &&
            kem_keygen(key, seed, out_share) &&
            kex_generate(alg->classical, pool, &key->classical,
                         out_share + s.ecdh_off, &ecdh_len) &&
            ecdh_len == s.ecdh_len;
  moat_wipe(seed, sizeof(seed));
  if (!ok) {
    kex_key_free(key);
    return false;
  }
  *out_share_len = alg->client_share_len;
  *out_key = key;
  return true;
}

static bool hybrid_key_share(const kex_key *key, uint8_t *out_share,
                             size_t *out_share_len) {
  const kex_alg *alg = key->alg;
  split s = split_of(alg, alg->client_share_len, MLKEM768_EK_LEN);
  uint8_t dk[MLKEM768_DK_LEN];
  size_t ecdh_len = 0;
  /* ek sits inside dk (FIPS 203 Algorithm 16 line 3). */
  mlkem768_key_dk(key->kem, dk);
  memcpy(out_share + s.kem_off, dk + MLKEM768_K * 384, MLKEM768_EK_LEN);
  moat_wipe(dk, sizeof(dk));
  if (!kex_key_share(key->classical, out_share + s.ecdh_off, &ecdh_len) ||
      ecdh_len != s.ecdh_len) {
    return false;
  }
  *out_share_len = alg->client_share_len;
  return true;
}

/* Client: decapsulate the ciphertext and agree with the server's ECDH
 * share. */
static bool hybrid_finish(const kex_key *key, const uint8_t *peer_share,
                          size_t peer_share_len, uint8_t *out_secret,
                          size_t *out_secret_len, const char **out_why) {
  const kex_alg *alg = key->alg;
  const char *why = NULL;
  if (peer_share_len != alg->server_share_len) {
    why = "it has the wrong length for a ciphertext and an ECDH share";
  } else {
    split s = split_of(alg, alg->server_share_len, MLKEM768_CT_LEN);
    split o = split_of(alg, alg->secret_len, MLKEM_SS_LEN);
    size_t ecdh_len = 0;
    const char *ecdh_why = NULL;
    if (!kex_finish_why(key->classical, peer_share + s.ecdh_off, s.ecdh_len,
                        out_secret + o.ecdh_off, &ecdh_len, &ecdh_why)) {
      why = ecdh_why != NULL ? ecdh_why : "its ECDH part was refused";
    } else if (!mlkem768_decaps(NULL, key->kem, peer_share + s.kem_off,
                                MLKEM768_CT_LEN, out_secret + o.kem_off)) {
      why = "the ML-KEM-768 decapsulation failed";
    }
  }
  if (why != NULL) {
    moat_wipe(out_secret, alg->secret_len);
    if (out_why != NULL) {
      *out_why = why;
    }
    return false;
  }
  *out_secret_len = alg->secret_len;
  return true;
}

/* Server: encapsulate to the client's key (after its FIPS 203 7.2
 * checks), and answer its ECDH share. */
static bool hybrid_respond(const kex_alg *alg, kex_pool *pool,
                           const uint8_t *peer_share, size_t peer_share_len,
                           uint8_t *out_share, size_t *out_share_len,
                           uint8_t *out_secret, size_t *out_secret_len,
                           const char **out_why) {
  const char *why = NULL;
  if (peer_share_len != alg->client_share_len) {
    why = "it has the wrong length for an ML-KEM-768 key and an ECDH share";
  } else {
    split in = split_of(alg, alg->client_share_len, MLKEM768_EK_LEN);
    split out = split_of(alg, alg->server_share_len, MLKEM768_CT_LEN);
    split o = split_of(alg, alg->secret_len, MLKEM_SS_LEN);
    uint8_t m[MLKEM_MSG_LEN];
    size_t ecdh_len = 0, secret_len = 0;
    const char *ecdh_why = NULL;
    if (!crypto_random(m, sizeof(m))) {
      why = "no randomness";
    } else if (!mlkem768_encaps(NULL, peer_share + in.kem_off, MLKEM768_EK_LEN,
                                m, out_share + out.kem_off,
                                out_secret + o.kem_off)) {
      why = "its ML-KEM-768 encapsulation key has a coefficient not below "
            "q (FIPS 203 7.2)";
    } else if (!kex_respond_why(alg->classical, pool, peer_share + in.ecdh_off,
                                in.ecdh_len, out_share + out.ecdh_off,
                                &ecdh_len, out_secret + o.ecdh_off, &secret_len,
                                &ecdh_why)) {
      why = ecdh_why != NULL ? ecdh_why : "its ECDH part was refused";
    }
    moat_wipe(m, sizeof(m));
  }
  if (why != NULL) {
    moat_wipe(out_secret, alg->secret_len);
    if (out_why != NULL) {
      *out_why = why;
    }
    return false;
  }
  *out_share_len = alg->server_share_len;
  *out_secret_len = alg->secret_len;
  return true;
}

/* priv = d || z, then the ECDH half's private key. */
static bool hybrid_from_private(const kex_alg *alg, const uint8_t *priv,
                                size_t priv_len, kex_pool *pool,
                                kex_key **out_key) {
  uint8_t share[KEX_MAX_SHARE];
  if (priv_len <= MLKEM_SEED_LEN) {
    return false;
  }
  kex_key *key = hybrid_key_new(alg, pool);
  bool ok =
      key != NULL && kem_keygen(key, priv, share) &&
      kex_key_from_private(alg->classical, priv + MLKEM_SEED_LEN,
                           priv_len - MLKEM_SEED_LEN, pool, &key->classical);
  if (!ok) {
    kex_key_free(key);
    return false;
  }
  *out_key = key;
  return true;
}

const kex_ops kex_hybrid_ops = {hybrid_generate,     hybrid_finish,
                                hybrid_respond,      hybrid_key_share,
                                hybrid_from_private, hybrid_key_free};
