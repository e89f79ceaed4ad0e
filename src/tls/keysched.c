/* The TLS 1.3 key schedule (RFC 8446 7.1) and traffic keys (7.3). */
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

/* Derive-Secret(secret, "derived", "") */
static bool derive_empty(key_schedule *ks, uint8_t *out) {
  uint8_t empty_hash[HASH_MAX_LEN];
  if (!hash_oneshot(ks->hash, NULL, 0, empty_hash)) {
    return false;
  }
  return derive_secret(ks->hash, ks->hmac, ks->secret, "derived", empty_hash,
                       out);
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
  uint8_t zeros[HASH_MAX_LEN] = {0};
  if (psk == NULL) {
    psk = zeros;
    psk_len = hash->len;
  }
  /* RFC 8446 7.1: Early Secret = HKDF-Extract(0, PSK) */
  return hkdf_extract(ks->hmac, zeros, hash->len, psk, psk_len, ks->secret);
}

bool ks_handshake(key_schedule *ks, const uint8_t *shared, size_t shared_len,
                  const uint8_t *transcript_hash) {
  uint8_t derived[HASH_MAX_LEN];
  bool ok = derive_empty(ks, derived) &&
            hkdf_extract(ks->hmac, derived, ks->hash->len, shared, shared_len,
                         ks->secret) &&
            derive_secret(ks->hash, ks->hmac, ks->secret, "c hs traffic",
                          transcript_hash, ks->c_hs) &&
            derive_secret(ks->hash, ks->hmac, ks->secret, "s hs traffic",
                          transcript_hash, ks->s_hs);
  moat_wipe(derived, sizeof(derived));
  return ok;
}

bool ks_master(key_schedule *ks, const uint8_t *transcript_hash) {
  uint8_t derived[HASH_MAX_LEN];
  uint8_t zeros[HASH_MAX_LEN] = {0};
  bool ok = derive_empty(ks, derived) &&
            hkdf_extract(ks->hmac, derived, ks->hash->len, zeros, ks->hash->len,
                         ks->secret) &&
            derive_secret(ks->hash, ks->hmac, ks->secret, "c ap traffic",
                          transcript_hash, ks->c_ap) &&
            derive_secret(ks->hash, ks->hmac, ks->secret, "s ap traffic",
                          transcript_hash, ks->s_ap) &&
            derive_secret(ks->hash, ks->hmac, ks->secret, "exp master",
                          transcript_hash, ks->exporter);
  moat_wipe(derived, sizeof(derived));
  return ok;
}

bool ks_resumption(key_schedule *ks, const uint8_t *transcript_hash) {
  return derive_secret(ks->hash, ks->hmac, ks->secret, "res master",
                       transcript_hash, ks->resumption);
}

/* RFC 8446 4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "",
 * Hash.length); verify_data = HMAC(finished_key, Transcript-Hash). */
bool ks_finished(key_schedule *ks, const uint8_t *base_key,
                 const uint8_t *transcript_hash, uint8_t *out) {
  uint8_t fkey[HASH_MAX_LEN];
  bool ok = hkdf_expand_label(ks->hmac, base_key, ks->hash->len, "finished",
                              NULL, 0, fkey, ks->hash->len) &&
            hmac_oneshot(ks->hmac, fkey, ks->hash->len, transcript_hash,
                         ks->hash->len, out);
  moat_wipe(fkey, sizeof(fkey));
  return ok;
}

void ks_clear(key_schedule *ks) {
  hmac_free(ks->hmac);
  moat_wipe(ks, sizeof(*ks));
}

/* RFC 8446 7.3 */
bool traffic_key_iv(hmac_ctx *hmac, const hash_alg *hash, const uint8_t *secret,
                    size_t key_len, uint8_t *key, uint8_t *iv) {
  return hkdf_expand_label(hmac, secret, hash->len, "key", NULL, 0, key,
                           key_len) &&
         hkdf_expand_label(hmac, secret, hash->len, "iv", NULL, 0, iv,
                           AEAD_NONCE_LEN);
}
