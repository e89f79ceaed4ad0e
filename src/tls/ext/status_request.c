/* status_request (RFC 6066 8). */
#include "tls/ext/ext.h"

bool ext_status_request_build_ch(builder *b) {
  bld_u8(b, STATUS_TYPE_OCSP);
  bld_u16(b, 0);        /* responder_id_list: the responders the server knows */
  return bld_u16(b, 0); /* request_extensions: none (no nonce) */
}

moat_err ext_status_request_parse_ch(cursor data, bool *out_ocsp,
                                     tls_cause *why) {
  uint8_t type;
  cursor ids, exts;
  *out_ocsp = false;
  if (!cur_u8(&data, &type)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed status_request extension");
  }
  if (type != STATUS_TYPE_OCSP) {
    /* RFC 6066 8: the request is for a status type moat does not know;
     * its body is not ours to judge. */
    return MOAT_OK;
  }
  /* OCSPStatusRequest: ResponderID responder_id_list<0..2^16-1>,
   * Extensions request_extensions<0..2^16-1>.  Their contents are what a
   * server would forward to its responder; moat staples what it was
   * given, so only the framing is checked. */
  if (!cur_prefixed16(&data, &ids) || !cur_prefixed16(&data, &exts) ||
      !cur_done(&data)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed status_request extension");
  }
  while (!cur_done(&ids)) {
    cursor id;
    if (!cur_prefixed16(&ids, &id) || cur_done(&id)) {
      return cause_set(why, MOAT_ERR_DECODE_ERROR,
                       "malformed responder_id_list in status_request");
    }
  }
  *out_ocsp = true;
  return MOAT_OK;
}

moat_err ext_status_request_parse_sh12(cursor data, tls_cause *why) {
  return ext_parse_empty(data, "status_request", M_SH12, why);
}

/* A client asks when its policy says so; a TLS 1.2 server answers when
 * it will staple. */
bool ext_status_request_send(unsigned msg, const ext_params *p) {
  return (msg == M_CH || msg == M_SH12) && p->status_request;
}

bool ext_status_request_row_build(builder *b, unsigned msg,
                                  const ext_params *p) {
  (void)p;
  return msg == M_CH ? ext_status_request_build_ch(b) : true;
}

moat_err ext_status_request_read(cursor data, unsigned msg, const ext_params *p,
                                 ext_values *out, tls_cause *why) {
  (void)p;
  switch (msg) {
  case M_CH:
    return ext_status_request_parse_ch(data, &out->status_ocsp, why);
  case M_SH12:
    return ext_status_request_parse_sh12(data, why);
  default:
    /* A CertificateRequest's (moat staples nothing for a client) and a
     * CertificateEntry's (cert_parse) are not read here. */
    return MOAT_OK;
  }
}
