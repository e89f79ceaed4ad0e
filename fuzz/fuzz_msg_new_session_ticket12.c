/* nst12_parse on arbitrary TLS 1.2 NewSessionTicket bodies (RFC 5077
 * 3.3), on a connection that negotiated
 * TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, true);
  conn->suite = suite_by_code(0xc02b);
  nst12 nst;
  (void)nst12_parse(conn, cur_make(data, size), &nst);
  moat_conn_free(conn);
  return 0;
}
