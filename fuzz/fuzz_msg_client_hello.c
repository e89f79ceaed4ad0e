/* ch_parse on arbitrary ClientHello bodies (RFC 8446 4.1.2), then the
 * codecs of the extensions a server reads from it; no connection. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  const tls_policy *pol = fz_policy(&ctx, MOAT_ROLE_SERVER);
  cursor body = cur_make(data, size);
  client_hello ch;
  tls_cause why;
  if (ch_parse(body, &ch, &why) == MOAT_OK && ch.has_extensions) {
    fz_parse_ch_extensions(pol, &ch.ext);
    if (ext_has(&ch.ext, X_PRE_SHARED_KEY)) {
      fz_psk_offer(ch.ext.data[X_PRE_SHARED_KEY], body);
    }
  }
  return 0;
}
