/* nst_parse on arbitrary NewSessionTicket bodies (RFC 8446 4.6.1). */
#include "common.h"

static moat_context *g_ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (g_ctx == NULL) {
    g_ctx = fz_context(MOAT_ROLE_CLIENT, false, NULL);
  }
  moat_conn *conn = fz_bare_conn(g_ctx, false);
  cursor body = cur_make(data, size);
  (void)nst_parse(conn, body);
  moat_conn_free(conn);
  return 0;
}
