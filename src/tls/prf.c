/* The TLS 1.2 PRF (RFC 5246 5): P_hash over HMAC with the suite's hash,
 * on HMAC contexts moat keeps (no KDF fetch per call). */
#include <string.h>

#include "base/mem.h"
#include "tls/tls.h"

bool tls12_prf(const hash_alg *hash, hmac_ctx *hmac, const uint8_t *secret,
               size_t secret_len, const char *label, const uint8_t *seed_a,
               size_t seed_a_len, const uint8_t *seed_b, size_t seed_b_len,
               uint8_t *out, size_t out_len) {
  if (hmac == NULL || hmac_ctx_alg(hmac) != hash) {
    return false;
  }
  size_t label_len = strlen(label);
  uint8_t a[HASH_MAX_LEN], block[HASH_MAX_LEN];
  /* A(1) = HMAC(secret, label || seed) */
  bool ok = hmac_init(hmac, secret, secret_len) &&
            hmac_update(hmac, (const uint8_t *)label, label_len) &&
            hmac_update(hmac, seed_a, seed_a_len) &&
            hmac_update(hmac, seed_b, seed_b_len) && hmac_final(hmac, a);
  size_t done = 0;
  while (ok && done < out_len) {
    /* P_hash block i = HMAC(secret, A(i) || label || seed) */
    ok = hmac_reset(hmac) && hmac_update(hmac, a, hash->len) &&
         hmac_update(hmac, (const uint8_t *)label, label_len) &&
         hmac_update(hmac, seed_a, seed_a_len) &&
         hmac_update(hmac, seed_b, seed_b_len) && hmac_final(hmac, block);
    size_t n = out_len - done < hash->len ? out_len - done : hash->len;
    if (ok) {
      memcpy(out + done, block, n);
      done += n;
    }
    /* A(i+1) = HMAC(secret, A(i)) */
    if (ok && done < out_len) {
      ok = hmac_reset(hmac) && hmac_final_with(hmac, a, hash->len, a);
    }
  }
  moat_wipe(a, sizeof(a));
  moat_wipe(block, sizeof(block));
  if (!ok) {
    moat_wipe(out, out_len);
  }
  return ok;
}
