/* cr_parse on arbitrary CertificateRequest bodies (RFC 8446 4.3.2), no
 * connection needed. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cert_request cr;
  tls_cause why;
  (void)cr_parse(cur_make(data, size), &cr, &why);
  return 0;
}
