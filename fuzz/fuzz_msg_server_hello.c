/* sh_parse on arbitrary ServerHello / HelloRetryRequest bodies
 * (RFC 8446 4.1.3, 4.1.4), then the extensions a client reads from it. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, true);
  cursor body = cur_make(data, size);
  server_hello sh;
  if (sh_parse(conn, body, &sh) == MOAT_OK && sh.has_extensions) {
    uint16_t version;
    cursor cookie;
    if (ext_has(&sh.ext, X_SUPPORTED_VERSIONS)) {
      (void)ext_versions_parse_sh(conn, sh.ext.data[X_SUPPORTED_VERSIONS],
                                  &version);
    }
    if (ext_has(&sh.ext, X_COOKIE)) {
      (void)ext_cookie_parse(conn, sh.ext.data[X_COOKIE], &cookie);
    }
  }
  moat_conn_free(conn);
  return 0;
}
