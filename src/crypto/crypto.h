/* The libcrypto adapter: the only interface moat has to cryptography.
 *
 * Everything here is a descriptor (a constant struct naming an algorithm
 * and its sizes) plus a few operations on opaque objects.  Only the files
 * in src/crypto/ include <openssl/...>; a second backend plugs in by
 * providing this header's functions and nothing else.
 *
 * Every EVP algorithm is fetched once per process (an immutable table built
 * on first use under pthread_once) and contexts are kept and reused: no
 * fetch by name and no context allocation per operation on the hot paths
 * (hashing, HMAC/HKDF, AEAD records). */
#ifndef MOAT_CRYPTO_H
#define MOAT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moat.h"

/* ---- the library under the adapter -------------------------------------- */

/* The libcrypto loaded at run time as it names itself ("OpenSSL 3.5.7 9 Jun
 * 2026"), and the one moat was compiled against. */
const char *crypto_library_version(void);
const char *crypto_library_built_version(void);

/* ---- randomness ---------------------------------------------------------- */

/* libcrypto's CSPRNG.  (Contexts may inject another source for tests.) */
bool crypto_random(uint8_t *out, size_t len);
/* For values sent in the clear (hello randoms, session ids, cookies,
 * ticket nonces): the same CSPRNG, drawn in blocks through a per-thread
 * pool.  Never for keys or other secrets. */
bool crypto_random_public(uint8_t *out, size_t len);

/* ---- hashes ---------------------------------------------------------------
 */

typedef enum hash_id {
  HASH_NONE = 0,
  HASH_SHA1, /* only to recognise and refuse it, and for fingerprints */
  HASH_SHA256,
  HASH_SHA384,
  HASH_SHA512,
} hash_id;

#define HASH_MAX_LEN 64
#define HASH_MAX_BLOCK 128

typedef struct hash_alg {
  hash_id id;
  const char *name; /* "SHA256" */
  size_t len;       /* digest length */
  size_t block_len;
} hash_alg;

/* NULL for HASH_NONE or an unknown id. */
const hash_alg *hash_get(hash_id id);

typedef struct hash_ctx hash_ctx;

hash_ctx *hash_new(const hash_alg *alg);
void hash_free(hash_ctx *ctx);
/* A hash context inside memory the caller owns and wipes: hash_ctx_size()
 * bytes aligned for any type (as malloc's).  Never passed to hash_free. */
size_t hash_ctx_size(void);
hash_ctx *hash_place(void *mem, const hash_alg *alg);
const hash_alg *hash_ctx_alg(const hash_ctx *ctx);
/* (Re)start: the context may be reused any number of times. */
bool hash_init(hash_ctx *ctx);
bool hash_update(hash_ctx *ctx, const uint8_t *data, size_t len);
/* Finish into out[0..alg->len); hash_init before reusing. */
bool hash_final(hash_ctx *ctx, uint8_t *out);
/* hash_update(data) then hash_final, in one step: when the state is at a
 * block boundary and data fits in one padded block (HMAC's inner and
 * outer hashes in HKDF), that block is built here and compressed once. */
bool hash_final_with(hash_ctx *ctx, const uint8_t *data, size_t len,
                     uint8_t *out);
/* The digest of everything so far, leaving the context running
 * (transcript hashes). */
bool hash_peek(hash_ctx *ctx, uint8_t *out);
/* dst continues from src's state; both must use the same algorithm. */
bool hash_copy(hash_ctx *dst, const hash_ctx *src);
bool hash_oneshot(const hash_alg *alg, const uint8_t *data, size_t len,
                  uint8_t *out);

/* ---- HMAC and HKDF (RFC 2104, RFC 5869), generic over hash_ctx ---------- */

typedef struct hmac_ctx hmac_ctx;

hmac_ctx *hmac_new(const hash_alg *alg);
void hmac_free(hmac_ctx *ctx);
/* An HMAC context inside memory the caller owns and wipes (as
 * hash_place): hmac_ctx_size() bytes aligned for any type.  Never passed
 * to hmac_free. */
size_t hmac_ctx_size(void);
hmac_ctx *hmac_place(void *mem, const hash_alg *alg);
bool hmac_init(hmac_ctx *ctx, const uint8_t *key, size_t key_len);
bool hmac_update(hmac_ctx *ctx, const uint8_t *data, size_t len);
/* Writes alg->len bytes. */
bool hmac_final(hmac_ctx *ctx, uint8_t *out);
/* hmac_update(data) then hmac_final, with the fused hash steps. */
bool hmac_final_with(hmac_ctx *ctx, const uint8_t *data, size_t len,
                     uint8_t *out);
bool hmac_oneshot(hmac_ctx *ctx, const uint8_t *key, size_t key_len,
                  const uint8_t *data, size_t len, uint8_t *out);
/* Start a new MAC with the key last given to hmac_init (no re-keying
 * cost: the keyed inner/outer states are kept).  After hmac_final,
 * hmac_update/hmac_final fail until hmac_init or hmac_reset. */
bool hmac_reset(hmac_ctx *ctx);
/* Key ctx as from's key (same hash), copying from's keyed states instead
 * of hashing the key again; then as hmac_reset.  from is only read, so
 * one keyed context can serve many threads. */
bool hmac_init_as(hmac_ctx *ctx, const hmac_ctx *from);
const hash_alg *hmac_ctx_alg(const hmac_ctx *ctx);

/* RFC 5869 2.2: out has alg->len bytes.  A NULL/empty salt means
 * alg->len zero bytes. */
bool hkdf_extract(hmac_ctx *ctx, const uint8_t *salt, size_t salt_len,
                  const uint8_t *ikm, size_t ikm_len, uint8_t *out);
/* RFC 5869 2.3: out_len <= 255 * alg->len. */
bool hkdf_expand(hmac_ctx *ctx, const uint8_t *prk, size_t prk_len,
                 const uint8_t *info, size_t info_len, uint8_t *out,
                 size_t out_len);

/* ---- AEADs -----------------------------------------------------------------
 */

typedef enum aead_id {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
} aead_id;

#define AEAD_MAX_KEY 32
#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN 16

typedef struct aead_alg {
  aead_id id;
  const char *name; /* "AES-128-GCM" */
  size_t key_len;
  size_t nonce_len; /* 12 for all of them */
  size_t tag_len;   /* 16 for all of them */
} aead_alg;

const aead_alg *aead_get(aead_id id);

/* A keyed context for one direction.  Its fields belong to aead.c; the
 * struct is visible so that the record layer can hold one by value (no
 * allocation per key).  All zero: not keyed. */
typedef struct aead_ctx {
  const aead_alg *alg;
  void *impl; /* the library's cipher context */
  int enc;
} aead_ctx;

/* Keys ctx, which must be all zero or cleared.  The key is copied into
 * libcrypto's state; the caller wipes its own copy.  On failure ctx stays
 * unkeyed. */
bool aead_init(aead_ctx *ctx, const aead_alg *alg, const uint8_t *key,
               bool encrypt);
/* Releases what aead_init made (the key schedule cleansed); ctx is all
 * zero again.  Harmless on an unkeyed ctx. */
void aead_clear(aead_ctx *ctx);
static inline bool aead_ready(const aead_ctx *ctx) {
  return ctx->impl != NULL;
}
/* The same in an allocation of its own (ticket keys, HPKE). */
aead_ctx *aead_new(const aead_alg *alg, const uint8_t *key, bool encrypt);
void aead_free(aead_ctx *ctx);
/* Replace the key (KeyUpdate) without reallocating. */
bool aead_rekey(aead_ctx *ctx, const uint8_t *key);
/* out receives in_len bytes of ciphertext then the tag; out may equal in. */
bool aead_seal(aead_ctx *ctx, const uint8_t nonce[AEAD_NONCE_LEN],
               const uint8_t *aad, size_t aad_len, const uint8_t *in,
               size_t in_len, uint8_t *out);
/* The same over in || trailer without joining them first (a TLS record's
 * data and its content-type byte): out receives in_len + trailer_len bytes
 * of ciphertext then the tag; out may equal in. */
bool aead_seal_parts(aead_ctx *ctx, const uint8_t nonce[AEAD_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *in,
                     size_t in_len, const uint8_t *trailer, size_t trailer_len,
                     uint8_t *out);
/* in is ciphertext || tag (in_len >= tag_len); out receives
 * in_len - tag_len bytes; out may equal in.  false when authentication
 * fails (out is then wiped).  The same as aead_open_split with all of the
 * plaintext as its head. */
bool aead_open(aead_ctx *ctx, const uint8_t nonce[AEAD_NONCE_LEN],
               const uint8_t *aad, size_t aad_len, const uint8_t *in,
               size_t in_len, uint8_t *out);
/* Opens ct || tag (ct_len counts the tag) into two places: the first
 * head_len bytes of plaintext go to head, the rest stays in place at
 * ct + head_len.  head_len <= ct_len - tag_len; 0 makes it aead_open in
 * place.  When authentication fails head[0..head_len) and the in-place
 * part are wiped; bad arguments (head_len too large, ct_len shorter than
 * the tag) fail before anything is written. */
bool aead_open_split(aead_ctx *ctx, const uint8_t nonce[AEAD_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, uint8_t *ct,
                     size_t ct_len, uint8_t *head, size_t head_len);

/* ---- key exchange groups (RFC 8446 4.2.7) ------------------------------- */

#define KEX_MAX_SHARE 1300 /* room for a hybrid ML-KEM share */
#define KEX_MAX_SECRET 96

typedef struct kex_alg kex_alg;
typedef struct kex_key kex_key;

/* Key-generation contexts kept for reuse, one per group, for a context
 * (moat_context) to own: setting a group up costs as much as a P-256 key
 * pair; and one key object per group for the peer's public share.  Safe
 * to share between threads.  Functions taking a pool accept NULL (then
 * they build what they need each time). */
typedef struct kex_pool kex_pool;

/* A group's operations.  For a Diffie-Hellman group, respond is "fresh
 * key pair + agree" and finish is "agree"; for a KEM (the hybrids),
 * generate makes the decapsulation key, respond encapsulates to the
 * initiator's key and finish decapsulates.  On a refused peer share,
 * *out_why (when out_why is not NULL) says what was wrong with it. */
typedef struct kex_ops {
  bool (*generate)(const kex_alg *alg, kex_pool *pool, kex_key **out_key,
                   uint8_t *out_share, size_t *out_share_len);
  bool (*finish)(const kex_key *key, const uint8_t *peer_share,
                 size_t peer_share_len, uint8_t *out_secret,
                 size_t *out_secret_len, const char **out_why);
  bool (*respond)(const kex_alg *alg, kex_pool *pool, const uint8_t *peer_share,
                  size_t peer_share_len, uint8_t *out_share,
                  size_t *out_share_len, uint8_t *out_secret,
                  size_t *out_secret_len, const char **out_why);
  bool (*key_share)(const kex_key *key, uint8_t *out_share,
                    size_t *out_share_len);
  bool (*from_private)(const kex_alg *alg, const uint8_t *priv, size_t priv_len,
                       kex_pool *pool, kex_key **out_key);
  void (*key_free)(kex_key *key);
} kex_ops;

struct kex_alg {
  uint16_t group;       /* IANA NamedGroup */
  const char *name;     /* "X25519", "secp256r1", "X25519MLKEM768" */
  const char *alt_name; /* "P-256" or NULL */
  size_t client_share_len;
  size_t server_share_len;
  size_t secret_len;
  /* Only in a TLS 1.3 key_share (the hybrids): a TLS 1.2 flow skips
   * these groups (they have no ECDHE ServerKeyExchange form). */
  bool tls13_only;
  /* Hybrids (draft-ietf-tls-ecdhe-mlkem): the ECDH half, and whether the
   * ML-KEM part comes first in shares and secret; NULL / false for the
   * plain groups. */
  const kex_alg *classical;
  bool kem_first;
  const kex_ops *ops;
};

/* NULL when the group is unknown or unavailable in this libcrypto. */
const kex_alg *kex_by_group(uint16_t group);
/* Case-insensitive, accepts name or alt_name. */
const kex_alg *kex_by_name(const char *name);
/* All supported groups, in moat's default preference order (the hybrid
 * X25519MLKEM768 first). */
const kex_alg *const *kex_all(size_t *out_num);

kex_pool *kex_pool_new(void);
void kex_pool_free(kex_pool *pool);

/* The calls below go through alg->ops. */

/* Initiator (client): a fresh key pair; writes its share. */
bool kex_generate(const kex_alg *alg, kex_pool *pool, kex_key **out_key,
                  uint8_t *out_share, size_t *out_share_len);
/* Initiator: the shared secret from the responder's share.  Fails on an
 * invalid point / all-zero X25519 result / malformed ciphertext. */
bool kex_finish(const kex_key *key, const uint8_t *peer_share,
                size_t peer_share_len, uint8_t *out_secret,
                size_t *out_secret_len);
/* Responder (server): from the initiator's share, make our share and the
 * secret in one step (DH: fresh key pair + derive; KEM: encapsulate). */
bool kex_respond(const kex_alg *alg, kex_pool *pool, const uint8_t *peer_share,
                 size_t peer_share_len, uint8_t *out_share,
                 size_t *out_share_len, uint8_t *out_secret,
                 size_t *out_secret_len);
/* The same two, saying on failure what was wrong with the peer's share
 * ("the ML-KEM-768 encapsulation key has a coefficient not below q"). */
bool kex_finish_why(const kex_key *key, const uint8_t *peer_share,
                    size_t peer_share_len, uint8_t *out_secret,
                    size_t *out_secret_len, const char **out_why);
bool kex_respond_why(const kex_alg *alg, kex_pool *pool,
                     const uint8_t *peer_share, size_t peer_share_len,
                     uint8_t *out_share, size_t *out_share_len,
                     uint8_t *out_secret, size_t *out_secret_len,
                     const char **out_why);
void kex_key_free(kex_key *key);
/* A key pair from a known private key (known-answer tests, RFC 8448
 * traces): X25519/X448 take the raw 32/56 bytes (RFC 7748 5), the NIST
 * curves a big-endian scalar in [1, n-1], a hybrid the ML-KEM seed d || z
 * (64 bytes) then its ECDH half's private key.  Not for production keys.
 * pool (or NULL) serves kex_finish with this key as kex_generate's
 * does. */
bool kex_key_from_private(const kex_alg *alg, const uint8_t *priv,
                          size_t priv_len, kex_pool *pool, kex_key **out_key);
/* The key's public share (the same bytes kex_generate wrote). */
bool kex_key_share(const kex_key *key, uint8_t *out_share,
                   size_t *out_share_len);

/* ---- signatures ------------------------------------------------------------
 */

typedef enum key_type {
  KEY_NONE = 0,
  KEY_RSA,     /* rsaEncryption */
  KEY_RSA_PSS, /* id-RSASSA-PSS */
  KEY_EC_P256,
  KEY_EC_P384,
  KEY_EC_P521,
  KEY_ED25519,
  KEY_ED448,
} key_type;

const char *key_type_name(key_type t); /* "RSA", "EC", "Ed25519", ... */

typedef enum sig_kind {
  SIG_RSA_PKCS1,
  SIG_RSA_PSS,
  SIG_ECDSA,
  SIG_EDDSA,
} sig_kind;

typedef struct sig_scheme {
  uint16_t code;    /* IANA SignatureScheme */
  const char *name; /* "ecdsa_secp256r1_sha256" */
  sig_kind kind;
  hash_id hash; /* HASH_NONE for EdDSA */
  key_type key; /* the key type that signs with it */
  bool tls13;   /* allowed in TLS 1.3 CertificateVerify */
} sig_scheme;

const sig_scheme *sig_scheme_by_code(uint16_t code);
const sig_scheme *sig_scheme_by_name(const char *name);
/* All schemes, in moat's default preference order. */
const sig_scheme *const *sig_scheme_all(size_t *out_num);

typedef struct pubkey pubkey;

/* Parse a DER SubjectPublicKeyInfo with the cursor and build the key from
 * its raw parameters (never through libcrypto's decoder framework).
 * detail (may be NULL) receives a reason on failure. */
moat_err pubkey_from_spki(const uint8_t *spki, size_t spki_len, pubkey **out,
                          char *detail, size_t detail_cap);
/* Keys are reference counted: pubkey_free drops one reference. */
pubkey *pubkey_ref(pubkey *key);
void pubkey_free(pubkey *key);

/* A bounded cache of parsed keys by SubjectPublicKeyInfo bytes, safe to
 * share between threads: building an EVP_PKEY costs about as much as a
 * signature check, and a client meets the same CA and server keys over and
 * over.  The caller frees the returned key with pubkey_free. */
typedef struct pubkey_cache pubkey_cache;
pubkey_cache *pubkey_cache_new(void);
void pubkey_cache_free(pubkey_cache *cache);
/* cache may be NULL (then this is pubkey_from_spki). */
moat_err pubkey_from_spki_cached(pubkey_cache *cache, const uint8_t *spki,
                                 size_t spki_len, pubkey **out, char *detail,
                                 size_t detail_cap);
key_type pubkey_type(const pubkey *key);
int pubkey_bits(const pubkey *key);
/* Verify sig over msg.  The scheme's key type must fit the key (an
 * rsaEncryption key verifies rsa_pkcs1_* and rsa_pss_rsae_*, an
 * id-RSASSA-PSS key only rsa_pss_pss_*).  PSS uses salt = hash length. */
bool pubkey_verify(const pubkey *key, const sig_scheme *scheme,
                   const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                   size_t sig_len);
/* RSA-PSS with explicit parameters (X.509 RSASSA-PSS-params). */
bool pubkey_verify_pss(const pubkey *key, hash_id hash, hash_id mgf1_hash,
                       size_t salt_len, const uint8_t *msg, size_t msg_len,
                       const uint8_t *sig, size_t sig_len);

typedef struct privkey privkey;

/* Decode a private key from PEM or DER (PKCS#1, SEC1, PKCS#8, encrypted
 * PKCS#8, legacy encrypted PEM).  password, or else cb, supplies the
 * passphrase for encrypted keys.  Errors: MOAT_ERR_BAD_KEY (not a key we
 * can read), MOAT_ERR_BAD_PASSWORD (encrypted and the password is missing
 * or wrong), MOAT_ERR_UNSUPPORTED_CERTIFICATE (a key type moat does not
 * sign with); detail says which. */
moat_err privkey_load(const uint8_t *data, size_t len, const char *password,
                      moat_password_fn cb, void *cb_arg, privkey **out,
                      char *detail, size_t detail_cap);
/* One more reference (a key is shared by the context's policy snapshots;
 * signing with it is safe from many threads). */
privkey *privkey_ref(privkey *key);
void privkey_free(privkey *key); /* drops one reference */
key_type privkey_type(const privkey *key);
int privkey_bits(const privkey *key);
/* True when key is the private half of pub. */
bool privkey_matches(const privkey *key, const pubkey *pub);
/* Upper bound of a signature's length. */
size_t privkey_max_sig_len(const privkey *key);
/* Sign msg; *io_sig_len is the capacity in and the length out. */
bool privkey_sign(const privkey *key, const sig_scheme *scheme,
                  const uint8_t *msg, size_t msg_len, uint8_t *out_sig,
                  size_t *io_sig_len);

#endif
