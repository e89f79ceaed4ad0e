/* ch_parse on arbitrary ClientHello bodies (RFC 8446 4.1.2), then the
 * parsers of the extensions a server reads from it. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_SERVER, false);
  cursor body = cur_make(data, size);
  client_hello ch;
  if (ch_parse(conn, body, &ch) == MOAT_OK && ch.has_extensions) {
    fz_parse_ch_extensions(conn, &ch.ext);
  }
  moat_conn_free(conn);
  return 0;
}
