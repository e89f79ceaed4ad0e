/* ku_parse on arbitrary KeyUpdate bodies (RFC 8446 4.6.3), no connection
 * needed. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bool request = false;
  tls_cause why;
  (void)ku_parse(cur_make(data, size), &request, &why);
  return 0;
}
