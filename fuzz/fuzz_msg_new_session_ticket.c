/* nst_parse on arbitrary NewSessionTicket bodies (RFC 8446 4.6.1); an
 * accepted ticket then becomes a session (tls13_take_ticket) on a
 * connection that negotiated TLS_AES_128_GCM_SHA256. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  nst13 t;
  tls_cause why;
  if (nst_parse(cur_make(data, size), &t, &why) != MOAT_OK) {
    return 0;
  }
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, false);
  conn->suite = suite_by_code(0x1301);
  (void)tls13_take_ticket(conn, &t);
  moat_conn_free(conn);
  return 0;
}
