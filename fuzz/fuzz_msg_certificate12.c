/* cert12_parse on arbitrary TLS 1.2 Certificate bodies (RFC 5246 7.4.2).
 * data[0] & 1 picks the role of the connection that keeps an accepted
 * chain (a server keeps a client's, which may be empty); the codec runs
 * without one. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx[2];
  if (size < 1) {
    return 0;
  }
  bool server = data[0] & 1;
  cert_list certs;
  tls_cause why;
  if (cert12_parse(cur_make(data + 1, size - 1), &certs, &why) != MOAT_OK) {
    return 0;
  }
  moat_conn *conn = fz_msg_conn(
      &ctx[server], server ? MOAT_ROLE_SERVER : MOAT_ROLE_CLIENT, false);
  (void)hs_take_peer_chain(conn, &certs);
  moat_conn_free(conn);
  return 0;
}
