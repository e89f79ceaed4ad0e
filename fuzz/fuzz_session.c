/* moat_session_from_bytes on arbitrary bytes (the session state a ticket
 * also carries, then the ticket); an accepted session is written back and
 * must come out byte for byte the same. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  moat_session *s = NULL;
  if (moat_session_from_bytes(data, size, &s) != MOAT_OK) {
    return 0;
  }
  (void)moat_session_time(s);
  (void)moat_session_lifetime(s);
  (void)moat_session_cipher_name(s);
  uint8_t out[70000];
  size_t n = 0;
  if (moat_session_to_bytes(s, out, sizeof(out), &n) != MOAT_OK || n != size ||
      memcmp(out, data, size) != 0) {
    abort();
  }
  moat_session_free(s);
  return 0;
}
