/* pubkey_from_spki on arbitrary DER (a SubjectPublicKeyInfo), then a
 * verification attempt with every signature scheme so the key built from
 * the parsed parameters is used. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pubkey *key = NULL;
  char detail[256];
  if (pubkey_from_spki(data, size, &key, detail, sizeof(detail)) != MOAT_OK) {
    return 0;
  }
  (void)pubkey_type(key);
  (void)pubkey_bits(key);
  size_t num = 0;
  const sig_scheme *const *all = sig_scheme_all(&num);
  static const uint8_t msg[] = "moat";
  uint8_t sig[64] = {0};
  for (size_t i = 0; i < num; i++) {
    (void)pubkey_verify(key, all[i], msg, sizeof(msg), sig, sizeof(sig));
  }
  pubkey_free(key);
  return 0;
}
