/* nst12_parse on arbitrary TLS 1.2 NewSessionTicket bodies (RFC 5077
 * 3.3), no connection needed. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nst12 nst;
  tls_cause why;
  (void)nst12_parse(cur_make(data, size), &nst, &why);
  return 0;
}
