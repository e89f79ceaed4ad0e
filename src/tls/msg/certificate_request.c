/* CertificateRequest (RFC 8446 4.3.2). */
#include "tls/msg/msg.h"

moat_err cr_build(moat_conn *conn, builder *b) {
  msg_open(b, HT_CERTIFICATE_REQUEST);
  bld_u8(b, 0); /* empty certificate_request_context */
  bld_open16(b);
  bld_u16(b, EXT_SIGNATURE_ALGORITHMS);
  bld_open16(b);
  ext_sigalgs_build(b, conn->ctx, EXT_SIGNATURE_ALGORITHMS);
  bld_close(b);
  bld_close(b);
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building CertificateRequest");
  }
  return MOAT_OK;
}

moat_err cr_parse(moat_conn *conn, cursor body) {
  handshake *hs = conn->hs;
  cursor context, exts;
  ext_set set;
  if (!cur_prefixed8(&body, &context) || !cur_prefixed16(&body, &exts) ||
      !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed CertificateRequest");
  }
  /* RFC 8446 4.3.2: empty during the handshake. */
  if (!cur_done(&context)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "CertificateRequest context must be empty in the "
                     "handshake");
  }
  tls_cause why;
  if (ext_parse_block(exts, M_CR, 0, &set, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  if (!ext_has(&set, X_SIGNATURE_ALGORITHMS)) {
    return conn_fail(conn, MOAT_ERR_MISSING_EXTENSION,
                     "CertificateRequest without signature_algorithms");
  }
  TRY(ext_sigalgs_parse(conn, set.data[X_SIGNATURE_ALGORITHMS], hs->cr_sigalgs,
                        64, &hs->num_cr_sigalgs));
  hs->cert_requested = true;
  hs->cr_context_len = 0;
  return MOAT_OK;
}

/* RFC 5246 7.4.4: ClientCertificateType values. */
#define CERT_TYPE_RSA_SIGN 1
#define CERT_TYPE_ECDSA_SIGN 64

moat_err cr12_build(moat_conn *conn, builder *b) {
  msg_open(b, HT_CERTIFICATE_REQUEST);
  bld_open8(b);
  bld_u8(b, CERT_TYPE_RSA_SIGN);
  bld_u8(b, CERT_TYPE_ECDSA_SIGN);
  bld_close(b);
  ext_sigalgs_build(b, conn->ctx, EXT_SIGNATURE_ALGORITHMS);
  bld_u16(b, 0); /* no certificate_authorities */
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building CertificateRequest");
  }
  return MOAT_OK;
}

moat_err cr12_parse(moat_conn *conn, cursor body) {
  handshake *hs = conn->hs;
  cursor types, sigalgs, cas; /* certificate_authorities are not used */
  if (!cur_prefixed8(&body, &types) || cur_done(&types) ||
      !cur_prefixed16(&body, &sigalgs) || !cur_prefixed16(&body, &cas) ||
      !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed CertificateRequest");
  }
  cursor list = sigalgs;
  uint16_t code;
  hs->num_cr_sigalgs = 0;
  if (cur_done(&list) || cur_len(&list) % 2 != 0) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed signature list in CertificateRequest");
  }
  while (cur_u16(&list, &code)) {
    if (hs->num_cr_sigalgs < 64) {
      hs->cr_sigalgs[hs->num_cr_sigalgs++] = code;
    }
  }
  hs->cert_requested = true;
  return MOAT_OK;
}
