/* renegotiation_info (RFC 5746).  moat never renegotiates, so
 * renegotiated_connection is always empty: on the initial handshake both
 * sides send it empty (RFC 5746 3.4, 3.6).  The signalling cipher suite
 * (SCSV, 3.3) needs no reading: the extension or the SCSV tells the
 * client is patched, and an old client with neither is accepted (3.6),
 * since there is no renegotiation to attack. */
#include "tls/ext/ext.h"

bool ext_reneg_build(builder *b, const uint8_t *verify, size_t verify_len) {
  bld_open8(b); /* renegotiated_connection */
  bld_bytes(b, verify, verify_len);
  return bld_close(b);
}

moat_err ext_reneg_check(cursor data, const uint8_t *expect, size_t expect_len,
                         const char *who, tls_cause *why) {
  cursor rc;
  if (!cur_prefixed8(&data, &rc) || !cur_done(&data) ||
      !cur_equal(&rc, expect, expect_len)) {
    /* RFC 5746 3.4, 3.6: broken or attacked. */
    return cause_set(why, MOAT_ERR_HANDSHAKE_FAILURE,
                     expect_len == 0 ? "the %s's renegotiation_info is not "
                                       "empty on the initial handshake"
                                     : "the %s's renegotiation_info does not "
                                       "match the previous Finished",
                     who);
  }
  return MOAT_OK;
}

/* Both sides, every TLS 1.2 hello (RFC 5746 3.4, 3.6). */
bool ext_reneg_send(unsigned msg, const ext_params *p) {
  return msg != M_CH || p->tls12;
}

bool ext_reneg_row_build(builder *b, unsigned msg, const ext_params *p) {
  (void)msg;
  return ext_reneg_build(b, p->reneg, p->reneg_len);
}

moat_err ext_reneg_read(cursor data, unsigned msg, const ext_params *p,
                        ext_values *out, tls_cause *why) {
  (void)msg;
  (void)out;
  return ext_reneg_check(data, p->reneg, p->reneg_len, p->peer, why);
}
