/* cr12_parse on arbitrary TLS 1.2 CertificateRequest bodies (RFC 5246
 * 7.4.4). */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, true);
  (void)cr12_parse(conn, cur_make(data, size));
  moat_conn_free(conn);
  return 0;
}
