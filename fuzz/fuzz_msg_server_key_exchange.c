/* ske_parse on arbitrary TLS 1.2 ServerKeyExchange bodies (RFC 8422 5.4)
 * alone; accepted ones for a group moat knows then go through the
 * signature check (auth_ske_check) against the embedded server key. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  server_kex kx;
  tls_cause why;
  if (ske_parse(cur_make(data, size), &kx, &why) != MOAT_OK) {
    return 0;
  }
  const kex_alg *alg = kex_by_group(kx.group);
  if (alg == NULL) {
    return 0;
  }
  moat_conn *conn = fz_msg_conn(&ctx, MOAT_ROLE_CLIENT, true);
  (void)auth_ske_check(conn, &kx, alg);
  moat_conn_free(conn);
  return 0;
}
