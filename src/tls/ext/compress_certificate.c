/* compress_certificate (RFC 8879 3). */
#include "tls/ext/ext.h"

bool ext_cert_comp_build(builder *b, const uint16_t *algs, size_t num) {
  bld_open8(b);
  for (size_t i = 0; i < num; i++) {
    bld_u16(b, algs[i]);
  }
  return bld_close(b);
}

moat_err ext_cert_comp_parse(cursor data, const uint16_t *known,
                             size_t num_known, uint16_t *out, size_t cap,
                             size_t *out_num, tls_cause *why) {
  cursor list;
  *out_num = 0;
  /* RFC 8879 3: algorithms<2..2^8-2>, two bytes each. */
  if (!cur_prefixed8(&data, &list) || !cur_done(&data) || cur_len(&list) < 2 ||
      cur_len(&list) % 2 != 0) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed compress_certificate extension");
  }
  /* The list is at most 127 code points: the duplicate check compares
   * each with those before it (127^2/2 comparisons at worst). */
  cursor seen = list;
  size_t index = 0;
  while (!cur_done(&list)) {
    uint16_t alg;
    (void)cur_u16(&list, &alg);
    cursor before = cur_make(cur_data(&seen), 2 * index);
    while (!cur_done(&before)) {
      uint16_t prev;
      (void)cur_u16(&before, &prev);
      if (prev == alg) {
        return cause_set(why, MOAT_ERR_DECODE_ERROR,
                         "compress_certificate lists algorithm %u twice", alg);
      }
    }
    index++;
    /* Algorithms the policy does not have are skipped. */
    if (ext_code_listed(known, num_known, alg) && *out_num < cap) {
      out[(*out_num)++] = alg;
    }
  }
  return MOAT_OK;
}

/* RFC 8879 3: TLS 1.3's.  (A CertificateRequest writes its own.) */
bool ext_cert_comp_send(unsigned msg, const ext_params *p) {
  return msg == M_CH && p->tls13 && p->policy->num_cert_comp > 0;
}

bool ext_cert_comp_row_build(builder *b, unsigned msg, const ext_params *p) {
  (void)msg;
  return ext_cert_comp_build(b, p->policy->cert_comp, p->policy->num_cert_comp);
}

moat_err ext_cert_comp_read(cursor data, unsigned msg, const ext_params *p,
                            ext_values *out, tls_cause *why) {
  (void)msg;
  return ext_cert_comp_parse(data, p->policy->cert_comp,
                             p->policy->num_cert_comp, out->cert_comp,
                             TLS_MAX_CERT_COMP, &out->num_cert_comp, why);
}
