/* The TLS 1.3 key schedule (RFC 8446 7.1) and traffic keys (7.3). */
#include <pthread.h>
#include <string.h>

#include "base/mem.h"
#include "tls/tls.h"

/* RFC 8446 7.1: HkdfLabel = length(2) || "tls13 " + label (1-byte prefix)
 * || context (1-byte prefix). */
bool hkdf_expand_label(hmac_ctx *hmac, const uint8_t *secret, size_t secret_len,
                       const char *label, const uint8_t *context,
                       size_t context_len, uint8_t *out, size_t out_len) {
  uint8_t info[2 + 1 + 255 + 1 + 255];
  builder b;
  bld_init_fixed(&b, info, sizeof(info));
  static const uint8_t prefix[] = "tls13 ";
  bld_u16(&b, (uint16_t)out_len);
  bld_open8(&b);
  bld_bytes(&b, prefix, sizeof(prefix) - 1);
  bld_bytes(&b, (const uint8_t *)label, strlen(label));
  bld_close(&b);
  bld_open8(&b);
  bld_bytes(&b, context, context_len);
  bld_close(&b);
  if (!bld_finish(&b)) {
    return false;
  }
  return hkdf_expand(hmac, secret, secret_len, info, bld_len(&b), out, out_len);
}

/* RFC 8446 7.1: Derive-Secret(Secret, Label, Messages) =
 * HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length),
 * with the transcript hash computed by the caller. */
bool derive_secret(const hash_alg *hash, hmac_ctx *hmac, const uint8_t *secret,
                   const char *label, const uint8_t *transcript_hash,
                   uint8_t *out) {
  return hkdf_expand_label(hmac, secret, hash->len, label, transcript_hash,
                           hash->len, out, hash->len);
}

/* What every connection computes alike, per hash: Hash(""), and without a
 * PSK the Early Secret and the "derived" secret made from it (RFC 8446
 * 7.1).  Computed once for the process, never changed after. */
typedef struct ks_consts {
  bool ok;
  uint8_t empty_hash[HASH_MAX_LEN];
  uint8_t early[HASH_MAX_LEN];
  uint8_t derived[HASH_MAX_LEN];
  /* HMAC keyed with the two salts that are the same for everyone: HashLen
   * zeros (the Early Secret's, with a PSK) and `derived` (the Handshake
   * Secret's, without one).  Made once, then only read; never freed. */
  hmac_ctx *zero_salt;
  hmac_ctx *derived_salt;
} ks_consts;

static ks_consts g_consts[2]; /* SHA-256, SHA-384 */
static pthread_once_t g_consts_once = PTHREAD_ONCE_INIT;

static void consts_make(ks_consts *c, const hash_alg *hash) {
  static const uint8_t zeros[HASH_MAX_LEN];
  c->zero_salt = hmac_new(hash);
  c->derived_salt = hmac_new(hash);
  c->ok = c->zero_salt != NULL && c->derived_salt != NULL &&
          hash_oneshot(hash, NULL, 0, c->empty_hash) &&
          hkdf_extract(c->zero_salt, zeros, hash->len, zeros, hash->len,
                       c->early) &&
          derive_secret(hash, c->derived_salt, c->early, "derived",
                        c->empty_hash, c->derived) &&
          hmac_init(c->derived_salt, c->derived, hash->len);
  if (!c->ok) {
    hmac_free(c->zero_salt);
    hmac_free(c->derived_salt);
    c->zero_salt = c->derived_salt = NULL;
  }
}

static void consts_init(void) {
  consts_make(&g_consts[0], hash_get(HASH_SHA256));
  consts_make(&g_consts[1], hash_get(HASH_SHA384));
}

static const ks_consts *consts_for(const hash_alg *hash) {
  pthread_once(&g_consts_once, consts_init);
  const ks_consts *c = hash == NULL              ? NULL
                       : hash->id == HASH_SHA256 ? &g_consts[0]
                       : hash->id == HASH_SHA384 ? &g_consts[1]
                                                 : NULL;
  return c != NULL && c->ok ? c : NULL;
}

const uint8_t *ks_empty_hash(const hash_alg *hash) {
  const ks_consts *c = consts_for(hash);
  return c != NULL ? c->empty_hash : NULL;
}

/* ks->derived = Derive-Secret(ks->secret, "derived", ""), the salt of the
 * next stage, made while the HMAC is still keyed with this stage's
 * secret. */
static bool derive_next(key_schedule *ks) {
  const uint8_t *empty = ks_empty_hash(ks->hash);
  ks->derived_is_const = false;
  return empty != NULL && derive_secret(ks->hash, ks->hmac, ks->secret,
                                        "derived", empty, ks->derived);
}

bool ks_init(key_schedule *ks, const hash_alg *hash, const uint8_t *psk,
             size_t psk_len) {
  if (ks->hmac == NULL || ks->hash != hash) {
    hmac_free(ks->hmac);
    ks->hmac = hmac_new(hash);
    if (ks->hmac == NULL) {
      return false;
    }
  }
  ks->hash = hash;
  const ks_consts *c = consts_for(hash);
  if (c == NULL) {
    return false;
  }
  ks->derived_is_const = psk == NULL;
  if (psk == NULL) {
    memcpy(ks->secret, c->early, hash->len);
    memcpy(ks->derived, c->derived, hash->len);
    return true;
  }
  /* RFC 8446 7.1: Early Secret = HKDF-Extract(0, PSK), from the kept
   * zero-keyed states. */
  return hmac_init_as(ks->hmac, c->zero_salt) &&
         hmac_final_with(ks->hmac, psk, psk_len, ks->secret) && derive_next(ks);
}

/* HKDF-Extract(ks->derived, ikm) into ks->secret; the salt's keyed states
 * come ready-made when it is the PSK-less constant. */
static bool extract_next(key_schedule *ks, const uint8_t *ikm, size_t ikm_len) {
  const ks_consts *c = ks->derived_is_const ? consts_for(ks->hash) : NULL;
  ks->derived_is_const = false;
  if (c != NULL) {
    return hmac_init_as(ks->hmac, c->derived_salt) &&
           hmac_final_with(ks->hmac, ikm, ikm_len, ks->secret);
  }
  return hkdf_extract(ks->hmac, ks->derived, ks->hash->len, ikm, ikm_len,
                      ks->secret);
}

bool ks_handshake(key_schedule *ks, const uint8_t *shared, size_t shared_len,
                  const uint8_t *transcript_hash) {
  return extract_next(ks, shared, shared_len) &&
         derive_secret(ks->hash, ks->hmac, ks->secret, "c hs traffic",
                       transcript_hash, ks->c_hs) &&
         derive_secret(ks->hash, ks->hmac, ks->secret, "s hs traffic",
                       transcript_hash, ks->s_hs) &&
         derive_next(ks);
}

bool ks_master(key_schedule *ks, const uint8_t *transcript_hash) {
  static const uint8_t zeros[HASH_MAX_LEN];
  return extract_next(ks, zeros, ks->hash->len) &&
         derive_secret(ks->hash, ks->hmac, ks->secret, "c ap traffic",
                       transcript_hash, ks->c_ap) &&
         derive_secret(ks->hash, ks->hmac, ks->secret, "s ap traffic",
                       transcript_hash, ks->s_ap) &&
         derive_secret(ks->hash, ks->hmac, ks->secret, "exp master",
                       transcript_hash, ks->exporter);
}

bool ks_resumption(key_schedule *ks, const uint8_t *transcript_hash) {
  return derive_secret(ks->hash, ks->hmac, ks->secret, "res master",
                       transcript_hash, ks->resumption);
}

/* RFC 8446 4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "",
 * Hash.length); verify_data = HMAC(finished_key, Transcript-Hash). */
static bool finished_key(hmac_ctx *hmac, const hash_alg *hash,
                         const uint8_t *base_key, uint8_t *out) {
  return hkdf_expand_label(hmac, base_key, hash->len, "finished", NULL, 0, out,
                           hash->len);
}

bool ks_finished(key_schedule *ks, const uint8_t *base_key,
                 const uint8_t *transcript_hash, uint8_t *out) {
  uint8_t fkey[HASH_MAX_LEN];
  bool ok = finished_key(ks->hmac, ks->hash, base_key, fkey) &&
            ks_verify_data(ks, fkey, transcript_hash, out);
  moat_wipe(fkey, sizeof(fkey));
  return ok;
}

bool ks_verify_data(key_schedule *ks, const uint8_t *fin_key,
                    const uint8_t *transcript_hash, uint8_t *out) {
  return hmac_oneshot(ks->hmac, fin_key, ks->hash->len, transcript_hash,
                      ks->hash->len, out);
}

void ks_clear(key_schedule *ks) {
  hmac_free(ks->hmac);
  moat_wipe(ks, sizeof(*ks));
}

/* RFC 8446 7.3 (and 4.4.4 for fin_key) */
bool traffic_key_iv(hmac_ctx *hmac, const hash_alg *hash, const uint8_t *secret,
                    size_t key_len, uint8_t *key, uint8_t *iv,
                    uint8_t *fin_key) {
  return hkdf_expand_label(hmac, secret, hash->len, "key", NULL, 0, key,
                           key_len) &&
         hkdf_expand_label(hmac, secret, hash->len, "iv", NULL, 0, iv,
                           AEAD_NONCE_LEN) &&
         (fin_key == NULL || finished_key(hmac, hash, secret, fin_key));
}
