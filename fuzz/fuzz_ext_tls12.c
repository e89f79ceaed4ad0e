/* The TLS 1.2 extension checks: renegotiation_info (RFC 5746 3.4, 3.6),
 * extended_master_secret (RFC 7627), ec_point_formats (RFC 8422 5.2),
 * session_ticket (RFC 5077).  data[0] & 1: a ServerHello's block checked
 * by the client (ext_tls12_check_sh), else a ClientHello's checked by the
 * server (ext_tls12_check_ch); then data[1] is the cipher suites list's
 * length in suites, those suites, and the extensions block. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx[2];
  if (size < 2) {
    return 0;
  }
  bool sh = data[0] & 1;
  moat_conn *conn =
      fz_msg_conn(&ctx[sh], sh ? MOAT_ROLE_CLIENT : MOAT_ROLE_SERVER, false);
  cursor d = cur_make(data + 2, size - 2), suites;
  if (!cur_sub(&d, 2u * data[1], &suites)) {
    suites = cur_make(NULL, 0);
  }
  ext_set set;
  tls_cause why;
  if (ext_parse_block(d, sh ? M_SH12 : M_CH, sh ? 0xffffffffu : 0, &set,
                      &why) == MOAT_OK) {
    if (sh) {
      (void)ext_tls12_check_sh(conn, &set);
    } else {
      (void)ext_tls12_check_ch(conn, &set, suites);
    }
  }
  moat_conn_free(conn);
  return 0;
}
