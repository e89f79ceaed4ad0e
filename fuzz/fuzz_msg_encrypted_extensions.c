/* ee_parse on arbitrary EncryptedExtensions bodies (RFC 8446 4.3.1),
 * with server_name, supported_groups and ALPN counted as offered; no
 * connection. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  const tls_policy *pol = fz_policy(&ctx, MOAT_ROLE_CLIENT);
  cursor body = cur_make(data, size);
  uint32_t offered =
      X_BIT(X_SUPPORTED_GROUPS) | X_BIT(X_SERVER_NAME) | X_BIT(X_ALPN);
  ext_params p = {.policy = pol, .peer = "server"};
  ext_values v;
  tls_cause why;
  (void)ee_parse(body, offered, &p, &v, &why);
  return 0;
}
