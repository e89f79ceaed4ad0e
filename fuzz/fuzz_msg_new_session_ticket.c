/* nst_parse on arbitrary NewSessionTicket bodies (RFC 8446 4.6.1), on a
 * connection that negotiated TLS_AES_128_GCM_SHA256. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, false);
  cursor body = cur_make(data, size);
  /* A ticket is turned into a session with the negotiated suite. */
  conn->suite = suite_by_code(0x1301);
  (void)nst_parse(conn, body);
  moat_conn_free(conn);
  return 0;
}
