/* Certificate (RFC 8446 4.4.2, RFC 5246 7.4.2). */
#include "tls/msg/msg.h"

bool cert_build_status(builder *b, const uint8_t *context, size_t context_len,
                       uint8_t *const *chain, const size_t *chain_len,
                       size_t chain_num, const uint8_t *status,
                       size_t status_len) {
  msg_open(b, HT_CERTIFICATE);
  bld_open8(b);
  bld_bytes(b, context, context_len);
  bld_close(b);
  bld_open24(b);
  for (size_t i = 0; i < chain_num; i++) {
    bld_open24(b);
    bld_bytes(b, chain[i], chain_len[i]);
    bld_close(b);
    bld_open16(b);
    if (i == 0 && status != NULL) {
      /* RFC 8446 4.4.2.1: the OCSP response about the end-entity
       * certificate, in its entry's status_request. */
      bld_u16(b, EXT_STATUS_REQUEST);
      bld_open16(b);
      cert_status_build(b, status, status_len);
      bld_close(b);
    }
    bld_close(b);
  }
  bld_close(b);
  msg_close(b);
  return bld_finish(b);
}

bool cert_build(builder *b, const uint8_t *context, size_t context_len,
                uint8_t *const *chain, const size_t *chain_len,
                size_t chain_num) {
  return cert_build_status(b, context, context_len, chain, chain_len, chain_num,
                           NULL, 0);
}

/* Adds one certificate to out, refusing an empty one and more than
 * TLS_MAX_CHAIN. */
static moat_err add_cert(cert_list *out, cursor der, tls_cause *why) {
  if (out->num == TLS_MAX_CHAIN) {
    return cause_set(why, MOAT_ERR_BAD_CERTIFICATE,
                     "the peer sent more than %d certificates", TLS_MAX_CHAIN);
  }
  out->der[out->num++] = der;
  return MOAT_OK;
}

moat_err cert_parse(cursor body, const uint8_t *context, size_t context_len,
                    cert_list *out, tls_cause *why) {
  return cert_parse_status(body, context, context_len, false, out, why);
}

moat_err cert_parse_status(cursor body, const uint8_t *context,
                           size_t context_len, bool status_offered,
                           cert_list *out, tls_cause *why) {
  cursor ctx_c, list;
  out->num = 0;
  out->status = cur_make(NULL, 0);
  if (!cur_prefixed8(&body, &ctx_c) || !cur_prefixed24(&body, &list) ||
      !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed Certificate");
  }
  if (!cur_equal(&ctx_c, context, context_len)) {
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "Certificate has the wrong certificate_request_context");
  }
  while (!cur_done(&list)) {
    cursor data, exts;
    if (!cur_prefixed24(&list, &data) || !cur_prefixed16(&list, &exts) ||
        cur_done(&data)) {
      return cause_set(why, MOAT_ERR_DECODE_ERROR,
                       "malformed CertificateEntry %zu", out->num);
    }
    /* Per-certificate extensions answer the client's requests: the only
     * one moat makes is status_request (RFC 8446 4.4.2.1); anything else,
     * or a status not asked for, is refused. */
    ext_set set;
    TRY(ext_parse_block(
        exts, M_CT, status_offered ? X_BIT(X_STATUS_REQUEST) : 0, &set, why));
    if (ext_has(&set, X_STATUS_REQUEST)) {
      cursor response;
      TRY(cert_status_parse(set.data[X_STATUS_REQUEST], &response, why));
      if (out->num == 0) {
        out->status = response; /* others' statuses are not used */
      }
    }
    TRY(add_cert(out, data, why));
  }
  return MOAT_OK;
}

bool cert12_build(builder *b, uint8_t *const *chain, const size_t *chain_len,
                  size_t chain_num) {
  msg_open(b, HT_CERTIFICATE);
  bld_open24(b);
  for (size_t i = 0; i < chain_num; i++) {
    bld_open24(b);
    bld_bytes(b, chain[i], chain_len[i]);
    bld_close(b);
  }
  bld_close(b);
  msg_close(b);
  return bld_finish(b);
}

moat_err cert12_parse(cursor body, cert_list *out, tls_cause *why) {
  cursor list;
  out->num = 0;
  out->status = cur_make(NULL, 0);
  if (!cur_prefixed24(&body, &list) || !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed Certificate");
  }
  while (!cur_done(&list)) {
    cursor data;
    if (!cur_prefixed24(&list, &data) || cur_done(&data)) {
      return cause_set(why, MOAT_ERR_DECODE_ERROR,
                       "malformed certificate %zu in Certificate", out->num);
    }
    TRY(add_cert(out, data, why));
  }
  return MOAT_OK;
}
