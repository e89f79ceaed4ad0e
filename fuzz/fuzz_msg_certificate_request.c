/* cr_parse on arbitrary CertificateRequest bodies (RFC 8446 4.3.2). */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, true);
  cert_request cr;
  (void)cr_parse(conn, cur_make(data, size), &cr);
  moat_conn_free(conn);
  return 0;
}
