/* CertificateVerify (RFC 8446 4.4.3, RFC 5246 7.4.8): a scheme and a
 * signature, the same in both versions.  What is signed and the check
 * live in auth.c. */
#include "tls/msg/msg.h"

moat_err cv_parse(cursor body, cert_verify *out, tls_cause *why) {
  if (!cur_u16(&body, &out->scheme) || !cur_prefixed16(&body, &out->sig) ||
      !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed CertificateVerify");
  }
  return MOAT_OK;
}

bool cv_build(builder *b, uint16_t scheme, const uint8_t *sig, size_t sig_len) {
  msg_open(b, HT_CERTIFICATE_VERIFY);
  bld_u16(b, scheme);
  bld_open16(b);
  bld_bytes(b, sig, sig_len);
  bld_close(b);
  msg_close(b);
  return bld_finish(b);
}
