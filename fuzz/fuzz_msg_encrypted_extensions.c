/* ee_parse on arbitrary EncryptedExtensions bodies (RFC 8446 4.3.1),
 * with server_name, supported_groups and ALPN counted as offered. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, false);
  cursor body = cur_make(data, size);
  uint32_t offered =
      (1u << X_SUPPORTED_GROUPS) | (1u << X_SERVER_NAME) | (1u << X_ALPN);
  (void)ee_parse(conn, body, offered);
  moat_conn_free(conn);
  return 0;
}
