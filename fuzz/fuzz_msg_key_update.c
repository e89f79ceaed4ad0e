/* ku_parse on arbitrary KeyUpdate bodies (RFC 8446 4.6.3). */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_SERVER, false);
  cursor body = cur_make(data, size);
  bool request = false;
  (void)ku_parse(conn, body, &request);
  moat_conn_free(conn);
  return 0;
}
