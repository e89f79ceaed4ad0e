/* Certificate (RFC 8446 4.4.2, RFC 5246 7.4.2). */
#include "tls/msg/msg.h"

bool cert_build(builder *b, const uint8_t *context, size_t context_len,
                uint8_t *const *chain, const size_t *chain_len,
                size_t chain_num) {
  msg_open(b, HT_CERTIFICATE);
  bld_open8(b);
  bld_bytes(b, context, context_len);
  bld_close(b);
  bld_open24(b);
  for (size_t i = 0; i < chain_num; i++) {
    bld_open24(b);
    bld_bytes(b, chain[i], chain_len[i]);
    bld_close(b);
    bld_u16(b, 0); /* no per-certificate extensions */
  }
  bld_close(b);
  msg_close(b);
  return bld_finish(b);
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
  cursor ctx_c, list;
  out->num = 0;
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
    /* Per-certificate extensions (status_request, SCT) answer requests we
     * never make: with nothing offered, any extension is refused. */
    ext_set set;
    TRY(ext_parse_block(exts, M_CT, 0, &set, why));
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
