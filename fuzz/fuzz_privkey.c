/* privkey_load on arbitrary bytes (PEM or DER: PKCS#1, SEC1, PKCS#8,
 * encrypted PKCS#8, legacy encrypted PEM), with the password "moat" when
 * data[0] is odd; an accepted key signs once. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) {
    return 0;
  }
  privkey *key = NULL;
  char detail[256];
  const char *password = (data[0] & 1) ? "moat" : NULL;
  if (privkey_load(data + 1, size - 1, password, NULL, NULL, &key, detail,
                   sizeof(detail)) != MOAT_OK) {
    return 0;
  }
  (void)privkey_type(key);
  (void)privkey_bits(key);
  size_t num = 0;
  const sig_scheme *const *all = sig_scheme_all(&num);
  static const uint8_t msg[] = "moat";
  uint8_t sig[1024];
  for (size_t i = 0; i < num; i++) {
    size_t len = sizeof(sig);
    if (privkey_max_sig_len(key) <= sizeof(sig) &&
        privkey_sign(key, all[i], msg, sizeof(msg), sig, &len)) {
      break;
    }
  }
  privkey_free(key);
  return 0;
}
