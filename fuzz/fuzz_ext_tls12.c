/* The TLS 1.2 extension codecs through the table, with no connection:
 * renegotiation_info (RFC 5746 3.4, 3.6), extended_master_secret
 * (RFC 7627), ec_point_formats (RFC 8422 5.1.2), session_ticket
 * (RFC 5077), and (in a ServerHello) server_name and ALPN.  data[0] & 1:
 * a ServerHello's block read by the client, else a ClientHello's read by
 * the TLS 1.2 server; then data[1] is the cipher suites list's length in
 * suites, those suites (skipped: the SCSV needs no reading), and the
 * extensions block. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  const tls_policy *pol = fz_policy(&ctx, MOAT_ROLE_CLIENT);
  if (size < 2) {
    return 0;
  }
  bool sh = data[0] & 1;
  cursor d = cur_make(data + 2, size - 2), suites;
  if (!cur_sub(&d, 2u * data[1], &suites)) {
    suites = cur_make(NULL, 0);
  }
  ext_set set;
  ext_values v;
  tls_cause why;
  ext_params p = {.policy = pol, .peer = sh ? "server" : "client"};
  uint32_t want = sh ? ~(uint32_t)0
                     : X_BIT(X_RENEGOTIATION_INFO) | X_BIT(X_EC_POINT_FORMATS) |
                           X_BIT(X_EXTENDED_MASTER_SECRET) |
                           X_BIT(X_SESSION_TICKET);
  if (ext_parse_block(d, sh ? M_SH12 : M_CH, sh ? 0xffffffffu : 0, &set,
                      &why) == MOAT_OK) {
    (void)ext_read_block(&set, sh ? M_SH12 : M_CH, want, &p, &v, &why);
  }
  return 0;
}
