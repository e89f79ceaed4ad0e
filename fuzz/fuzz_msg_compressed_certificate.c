/* ccert_parse and ccert_expand on arbitrary CompressedCertificate bodies
 * (RFC 8879 4), with zlib, brotli and zstd offered; what decompresses is
 * read as the Certificate body it claims to be. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint16_t offered[3] = {1, 2, 3};
  static moat_context *ctx;
  compressed_cert m;
  tls_cause why;
  uint8_t *body = NULL;
  if (ccert_parse(cur_make(data, size), offered, 3, &m, &why) != MOAT_OK ||
      ccert_expand(&m, &body, &why) != MOAT_OK) {
    return 0;
  }
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, false);
  bool empty = false;
  (void)cert_parse(conn, cur_make(body, m.uncompressed_len), NULL, 0, &empty);
  moat_conn_free(conn);
  moat_free(body);
  return 0;
}
