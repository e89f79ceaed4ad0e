/* moat_session_from_bytes on arbitrary bytes (the session state a ticket
 * also carries, then the ticket); an accepted session is written back and
 * must come out byte for byte the same (in the current format), and what
 * is written reads back to the same bytes. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  moat_session *s = NULL;
  if (moat_session_from_bytes(data, size, &s) != MOAT_OK) {
    return 0;
  }
  (void)moat_session_time(s);
  (void)moat_session_lifetime(s);
  (void)moat_session_cipher_name(s);
  static uint8_t out[70000], again[70000];
  size_t n = 0, m = 0;
  if (moat_session_to_bytes(s, out, sizeof(out), &n) != MOAT_OK) {
    abort();
  }
  moat_session_free(s);
  /* The current format (3) comes back byte for byte; an older one (2,
   * without the group) is written in the current format, which must read
   * back and write the same bytes again. */
  if (data[0] == 3 && (n != size || memcmp(out, data, size) != 0)) {
    abort();
  }
  s = NULL;
  if (moat_session_from_bytes(out, n, &s) != MOAT_OK ||
      moat_session_to_bytes(s, again, sizeof(again), &m) != MOAT_OK || m != n ||
      memcmp(again, out, n) != 0) {
    abort();
  }
  moat_session_free(s);
  return 0;
}
