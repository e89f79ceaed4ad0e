/* signature_algorithms (RFC 8446 4.2.3). */
#include "tls/ext/ext.h"

bool ext_sigalgs_build(builder *b, const tls_policy *pol) {
  bld_open16(b);
  for (size_t i = 0; i < pol->num_verify_sigalgs; i++) {
    bld_u16(b, pol->verify_sigalgs[i]->code);
  }
  return bld_close(b);
}

moat_err ext_sigalgs_parse(cursor data, uint16_t *out, size_t cap,
                           size_t *out_num, tls_cause *why) {
  cursor list;
  *out_num = 0;
  if (!cur_prefixed16(&data, &list) || !cur_done(&data) ||
      cur_len(&list) == 0 || cur_len(&list) % 2 != 0) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed signature_algorithms");
  }
  /* RFC 8446 4.2.3: the whole list counts, however many schemes unknown
   * to moat come first; only known ones are kept (once each, in the
   * peer's order), so cap need only hold the schemes moat implements. */
  while (!cur_done(&list)) {
    uint16_t s;
    (void)cur_u16(&list, &s);
    if (sig_scheme_by_code(s) != NULL && !ext_code_listed(out, *out_num, s) &&
        *out_num < cap) {
      out[(*out_num)++] = s;
    }
  }
  return MOAT_OK;
}

/* The CertificateRequest's list is written by its own codec. */
bool ext_sigalgs_send(unsigned msg, const ext_params *p) {
  (void)p;
  return msg == M_CH;
}

bool ext_sigalgs_row_build(builder *b, unsigned msg, const ext_params *p) {
  (void)msg;
  return ext_sigalgs_build(b, p->policy);
}

moat_err ext_sigalgs_read(cursor data, unsigned msg, const ext_params *p,
                          ext_values *out, tls_cause *why) {
  (void)msg;
  (void)p;
  return ext_sigalgs_parse(data, out->sigalgs, 64, &out->num_sigalgs, why);
}
