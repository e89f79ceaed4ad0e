/* cert_parse on arbitrary Certificate bodies (RFC 8446 4.4.2): the first
 * byte is the expected certificate_request_context length (0..3, the
 * context bytes are "ctx"; bit 2: status_request was offered, so an
 * entry may carry a CertificateStatus, RFC 8446 4.4.2.1), then the body.  The
 * codec runs alone; an accepted non-empty chain is then kept by a connection as
 * the flows do and its leaf goes through cert_leaf_pubkey. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  cursor body = cur_make(data, size);
  uint8_t n = 0;
  cert_list certs;
  tls_cause why;
  if (!cur_u8(&body, &n) ||
      cert_parse_status(body, (const uint8_t *)"ctx", n % 4, (n & 4) != 0,
                        &certs, &why) != MOAT_OK ||
      certs.num == 0) {
    return 0;
  }
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, false);
  pubkey *key = NULL;
  const uint8_t *der;
  size_t len;
  if (hs_take_peer_chain(conn, &certs) == MOAT_OK &&
      moat_conn_peer_cert_der(conn, 0, &der, &len) == MOAT_OK &&
      cert_leaf_pubkey(conn, der, len, &key) == MOAT_OK) {
    pubkey_free(key);
  }
  moat_conn_free(conn);
  return 0;
}
