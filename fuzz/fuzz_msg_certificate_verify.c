/* CertificateVerify bodies (RFC 8446 4.4.3): the codec (cv_parse) alone,
 * then the proof check (auth_cv_check, auth_cv12_check by data[0] & 1)
 * against the embedded server key, an empty SHA-256 transcript and no
 * TLS 1.2 handshake messages. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  cursor body = cur_make(data, size);
  cert_verify cv;
  tls_cause why;
  if (cv_parse(body, &cv, &why) != MOAT_OK) {
    return 0;
  }
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, true);
  if (size > 0 && (data[0] & 1)) {
    (void)auth_cv12_check(conn, body);
  } else {
    (void)auth_cv_check(conn, body);
  }
  moat_conn_free(conn);
  return 0;
}
