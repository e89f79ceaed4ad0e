/* ske_parse on arbitrary TLS 1.2 ServerKeyExchange bodies (RFC 8422 5.4),
 * then the signed content it would be checked over. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, true);
  server_kex kx;
  if (ske_parse(conn, cur_make(data, size), &kx) == MOAT_OK) {
    static uint8_t content[2 * TLS_RANDOM_LEN + 65536];
    (void)ske_signed_content(conn, kx.params, content, sizeof(content));
  }
  moat_conn_free(conn);
  return 0;
}
