/* CertificateRequest (RFC 8446 4.3.2, RFC 5246 7.4.4). */
#include "tls/msg/msg.h"

bool cr_build(builder *b, const tls_policy *policy) {
  msg_open(b, HT_CERTIFICATE_REQUEST);
  bld_u8(b, 0); /* empty certificate_request_context */
  bld_open16(b);
  bld_u16(b, EXT_SIGNATURE_ALGORITHMS);
  bld_open16(b);
  ext_sigalgs_build(b, policy);
  bld_close(b);
  /* RFC 8879 3: the client may compress its certificate. */
  if (policy->num_cert_comp > 0) {
    bld_u16(b, EXT_COMPRESS_CERTIFICATE);
    bld_open16(b);
    ext_cert_comp_build(b, policy->cert_comp, policy->num_cert_comp);
    bld_close(b);
  }
  bld_close(b);
  msg_close(b);
  return bld_finish(b);
}

moat_err cr_parse(cursor body, cert_request *out, tls_cause *why) {
  cursor context, exts;
  ext_set set;
  out->num_sigalgs = 0;
  out->cert_comp = cur_make(NULL, 0);
  if (!cur_prefixed8(&body, &context) || !cur_prefixed16(&body, &exts) ||
      !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed CertificateRequest");
  }
  /* RFC 8446 4.3.2: empty during the handshake. */
  if (!cur_done(&context)) {
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "CertificateRequest context must be empty in the "
                     "handshake");
  }
  TRY(ext_parse_block(exts, M_CR, 0, &set, why));
  if (!ext_has(&set, X_SIGNATURE_ALGORITHMS)) {
    return cause_set(why, MOAT_ERR_MISSING_EXTENSION,
                     "CertificateRequest without signature_algorithms");
  }
  TRY(ext_sigalgs_parse(set.data[X_SIGNATURE_ALGORITHMS], out->sigalgs, 64,
                        &out->num_sigalgs, why));
  if (ext_has(&set, X_COMPRESS_CERTIFICATE)) {
    /* Checked here; the flow keeps the algorithms its policy has. */
    size_t num;
    TRY(ext_cert_comp_parse(set.data[X_COMPRESS_CERTIFICATE], NULL, 0, NULL, 0,
                            &num, why));
    out->cert_comp = set.data[X_COMPRESS_CERTIFICATE];
  }
  return MOAT_OK;
}

/* RFC 5246 7.4.4: ClientCertificateType values. */
#define CERT_TYPE_RSA_SIGN 1
#define CERT_TYPE_ECDSA_SIGN 64

bool cr12_build(builder *b, const tls_policy *policy) {
  msg_open(b, HT_CERTIFICATE_REQUEST);
  bld_open8(b);
  bld_u8(b, CERT_TYPE_RSA_SIGN);
  bld_u8(b, CERT_TYPE_ECDSA_SIGN);
  bld_close(b);
  ext_sigalgs_build(b, policy);
  bld_u16(b, 0); /* no certificate_authorities */
  msg_close(b);
  return bld_finish(b);
}

moat_err cr12_parse(cursor body, cert_request *out, tls_cause *why) {
  cursor types, sigalgs, cas; /* certificate_authorities are not used */
  out->num_sigalgs = 0;
  out->cert_comp = cur_make(NULL, 0);
  if (!cur_prefixed8(&body, &types) || cur_done(&types) ||
      !cur_prefixed16(&body, &sigalgs) || !cur_prefixed16(&body, &cas) ||
      !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed CertificateRequest");
  }
  if (cur_done(&sigalgs) || cur_len(&sigalgs) % 2 != 0) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed signature list in CertificateRequest");
  }
  uint16_t code;
  while (cur_u16(&sigalgs, &code)) {
    if (out->num_sigalgs < 64) {
      out->sigalgs[out->num_sigalgs++] = code;
    }
  }
  return MOAT_OK;
}
