/* ec_point_formats (RFC 8422 5.1.2): moat sends and takes uncompressed
 * points only. */
#include "tls/ext/ext.h"

bool ext_point_formats_build(builder *b) {
  bld_open8(b);
  bld_u8(b, 0); /* uncompressed */
  return bld_close(b);
}

/* RFC 8422 5.1.2: a list must hold uncompressed (0). */
moat_err ext_point_formats_parse(cursor data, const char *who, tls_cause *why) {
  cursor list;
  bool uncompressed = false;
  uint8_t f;
  if (!cur_prefixed8(&data, &list) || !cur_done(&data) || cur_done(&list)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed ec_point_formats from the %s", who);
  }
  while (cur_u8(&list, &f)) {
    uncompressed |= f == 0;
  }
  if (!uncompressed) {
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the %s's ec_point_formats lacks uncompressed", who);
  }
  return MOAT_OK;
}

/* A TLS 1.2 client sends it; a server answers a client that did. */
bool ext_point_formats_send(unsigned msg, const ext_params *p) {
  return msg == M_CH ? p->tls12 : p->point_formats;
}

bool ext_point_formats_row_build(builder *b, unsigned msg,
                                 const ext_params *p) {
  (void)msg;
  (void)p;
  return ext_point_formats_build(b);
}

moat_err ext_point_formats_read(cursor data, unsigned msg, const ext_params *p,
                                ext_values *out, tls_cause *why) {
  (void)msg;
  (void)out;
  return ext_point_formats_parse(data, p->peer, why);
}
