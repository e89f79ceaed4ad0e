/* cke_parse on arbitrary TLS 1.2 ClientKeyExchange bodies (RFC 8422
 * 5.7). */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_SERVER, true);
  cursor point;
  (void)cke_parse(conn, cur_make(data, size), &point);
  moat_conn_free(conn);
  return 0;
}
