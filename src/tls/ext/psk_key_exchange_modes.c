/* psk_key_exchange_modes (RFC 8446 4.2.9). */
#include "tls/ext/ext.h"

bool ext_psk_modes_build(builder *b) {
  bld_open8(b);
  bld_u8(b, PSK_DHE_KE);
  return bld_close(b);
}

moat_err ext_psk_modes_parse(cursor data, bool *out_dhe, tls_cause *why) {
  cursor modes;
  *out_dhe = false;
  if (!cur_prefixed8(&data, &modes) || !cur_done(&data) || cur_done(&modes)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed psk_key_exchange_modes");
  }
  uint8_t m;
  while (cur_u8(&modes, &m)) {
    *out_dhe |= m == PSK_DHE_KE;
  }
  return MOAT_OK;
}

/* RFC 8446 4.2.9: in every TLS 1.3 ClientHello, not only a resuming one:
 * a server sends no tickets for modes the client did not list, so
 * without it a first connection could never get a session to resume. */
bool ext_psk_modes_send(unsigned msg, const ext_params *p) {
  (void)msg;
  return p->tls13;
}

bool ext_psk_modes_row_build(builder *b, unsigned msg, const ext_params *p) {
  (void)msg;
  (void)p;
  return ext_psk_modes_build(b);
}

moat_err ext_psk_modes_read(cursor data, unsigned msg, const ext_params *p,
                            ext_values *out, tls_cause *why) {
  (void)msg;
  (void)p;
  return ext_psk_modes_parse(data, &out->psk_dhe, why);
}
