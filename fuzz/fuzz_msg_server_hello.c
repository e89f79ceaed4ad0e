/* sh_parse on arbitrary ServerHello / HelloRetryRequest bodies
 * (RFC 8446 4.1.3, 4.1.4) and TLS 1.2 ServerHellos, as from a client
 * that offered everything it can, then the table's readers of the
 * extensions; no connection. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  const tls_policy *pol = fz_policy(&ctx, MOAT_ROLE_CLIENT);
  cursor body = cur_make(data, size);
  server_hello sh;
  tls_cause why;
  uint32_t offered13 = X_BIT(X_SUPPORTED_VERSIONS) | X_BIT(X_KEY_SHARE) |
                       X_BIT(X_COOKIE) | X_BIT(X_PRE_SHARED_KEY);
  uint32_t offered12 = X_BIT(X_RENEGOTIATION_INFO) | X_BIT(X_EC_POINT_FORMATS) |
                       X_BIT(X_EXTENDED_MASTER_SECRET) |
                       X_BIT(X_SESSION_TICKET) | X_BIT(X_SERVER_NAME) |
                       X_BIT(X_ALPN);
  if (sh_parse(body, offered13, offered12, &sh, &why) == MOAT_OK &&
      sh.has_extensions) {
    unsigned msg = !ext_has(&sh.ext, X_SUPPORTED_VERSIONS) ? M_SH12
                   : sh.is_hrr                             ? M_HRR
                                                           : M_SH;
    ext_params p = {.policy = pol, .peer = "server"};
    ext_values v;
    (void)ext_read_block(&sh.ext, msg, ~(uint32_t)0, &p, &v, &why);
  }
  return 0;
}
