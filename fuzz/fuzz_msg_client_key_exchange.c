/* cke_parse on arbitrary TLS 1.2 ClientKeyExchange bodies (RFC 8422
 * 5.7), no connection needed. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cursor point;
  tls_cause why;
  (void)cke_parse(cur_make(data, size), &point, &why);
  return 0;
}
