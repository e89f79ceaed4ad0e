/* cv_check on arbitrary CertificateVerify bodies (RFC 8446 4.4.3) against
 * the embedded server key and an empty SHA-256 transcript. */
#include "common.h"

static moat_context *g_ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (g_ctx == NULL) {
    g_ctx = fz_context(MOAT_ROLE_CLIENT, false, NULL);
  }
  moat_conn *conn = fz_bare_conn(g_ctx, true);
  cursor body = cur_make(data, size);
  (void)cv_check(conn, body);
  moat_conn_free(conn);
  return 0;
}
