/* cert_parse on arbitrary Certificate bodies (RFC 8446 4.4.2): the first
 * byte is the expected certificate_request_context length (0..3, the
 * context bytes are "ctx"), then the body; the leaf of an accepted chain
 * goes through cert_leaf_pubkey. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, false);
  cursor body = cur_make(data, size);
  uint8_t n = 0;
  bool empty = false;
  if (cur_u8(&body, &n) &&
      cert_parse(conn, body, (const uint8_t *)"ctx", n % 4, &empty) ==
          MOAT_OK &&
      !empty) {
    pubkey *key = NULL;
    const uint8_t *der;
    size_t len;
    if (moat_conn_peer_cert_der(conn, 0, &der, &len) == MOAT_OK &&
        cert_leaf_pubkey(conn, der, len, &key) == MOAT_OK) {
      pubkey_free(key);
    }
  }
  moat_conn_free(conn);
  return 0;
}
