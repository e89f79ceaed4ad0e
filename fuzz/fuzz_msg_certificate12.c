/* cert12_parse on arbitrary TLS 1.2 Certificate bodies (RFC 5246 7.4.2).
 * data[0] & 1 picks the role that reads it (a server reads a client's,
 * which may be empty). */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx[2];
  if (size < 1) {
    return 0;
  }
  bool server = data[0] & 1;
  moat_conn *conn = fz_msg_conn(
      &ctx[server], server ? MOAT_ROLE_SERVER : MOAT_ROLE_CLIENT, true);
  bool empty;
  (void)cert12_parse(conn, cur_make(data + 1, size - 1), &empty);
  moat_conn_free(conn);
  return 0;
}
