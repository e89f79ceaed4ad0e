/* cv_check on arbitrary CertificateVerify bodies (RFC 8446 4.4.3) against
 * the embedded server key and an empty SHA-256 transcript. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, true);
  cursor body = cur_make(data, size);
  (void)cv_check(conn, body);
  moat_conn_free(conn);
  return 0;
}
