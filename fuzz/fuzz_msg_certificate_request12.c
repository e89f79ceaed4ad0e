/* cr12_parse on arbitrary TLS 1.2 CertificateRequest bodies (RFC 5246
 * 7.4.4), no connection needed. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cert_request cr;
  tls_cause why;
  (void)cr12_parse(cur_make(data, size), &cr, &why);
  return 0;
}
