/* ccert_parse and ccert_expand on arbitrary CompressedCertificate bodies
 * (RFC 8879 4), with zlib, brotli and zstd offered; what decompresses is
 * read as the Certificate body it claims to be. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint16_t offered[3] = {1, 2, 3};
  compressed_cert m;
  tls_cause why;
  uint8_t *body = NULL;
  if (ccert_parse(cur_make(data, size), offered, 3, &m, &why) != MOAT_OK ||
      ccert_expand(&m, &body, &why) != MOAT_OK) {
    return 0;
  }
  cert_list certs;
  (void)cert_parse(cur_make(body, m.uncompressed_len), NULL, 0, &certs, &why);
  moat_free(body);
  return 0;
}
