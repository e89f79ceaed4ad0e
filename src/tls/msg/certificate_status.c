/* CertificateStatus (RFC 6066 8): the TLS 1.2 message, and in TLS 1.3
 * the data of the leaf CertificateEntry's status_request extension
 * (RFC 8446 4.4.2.1). */
#include "tls/msg/msg.h"

bool cert_status_build(builder *b, const uint8_t *response, size_t len) {
  bld_u8(b, STATUS_TYPE_OCSP);
  bld_open24(b);
  bld_bytes(b, response, len);
  return bld_close(b);
}

moat_err cert_status_parse(cursor data, cursor *out_response, tls_cause *why) {
  uint8_t type;
  if (!cur_u8(&data, &type) || !cur_prefixed24(&data, out_response) ||
      !cur_done(&data) || cur_done(out_response)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed CertificateStatus");
  }
  /* RFC 6066 8: the only status_type a client asks for is ocsp. */
  if (type != STATUS_TYPE_OCSP) {
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "CertificateStatus of status_type %u, not ocsp", type);
  }
  return MOAT_OK;
}

bool cert_status12_build(builder *b, const uint8_t *response, size_t len) {
  msg_open(b, HT_CERTIFICATE_STATUS);
  cert_status_build(b, response, len);
  msg_close(b);
  return bld_finish(b);
}
