/* record_size_limit (RFC 8449 4): the largest protected record, in bytes
 * of plaintext (TLS 1.3: TLSInnerPlaintext, the type byte and padding
 * included), that the sender is willing to receive.  The flows apply
 * it (record.c); here it is only read and written. */
#include "tls/ext/ext.h"

bool ext_rsl_build(builder *b, uint16_t limit) {
  return bld_u16(b, limit);
}

moat_err ext_rsl_parse(cursor data, unsigned msg, uint16_t *out,
                       tls_cause *why) {
  const char *where = msg == M_CH   ? "ClientHello"
                      : msg == M_EE ? "EncryptedExtensions"
                                    : "ServerHello";
  if (!cur_u16(&data, out) || !cur_done(&data)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed record_size_limit in %s (two bytes expected)",
                     where);
  }
  /* RFC 8449 4: below 64 bytes the handshake could not complete. */
  if (*out < RSL_MIN) {
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "record_size_limit of %u in %s is below the minimum "
                     "of %d",
                     *out, where, RSL_MIN);
  }
  return MOAT_OK;
}

/* A client offers the policy's limit; a server answers one it received
 * (the flow sets record_size_limit then). */
bool ext_rsl_send(unsigned msg, const ext_params *p) {
  return msg == M_CH ? p->policy->record_size_limit != 0
                     : p->record_size_limit != 0;
}

bool ext_rsl_row_build(builder *b, unsigned msg, const ext_params *p) {
  if (msg != M_CH) {
    return ext_rsl_build(b, p->record_size_limit);
  }
  /* RFC 8449 4: never above the largest record the versions offered
   * allow (2^14 + 1 in TLS 1.3, 2^14 in TLS 1.2). */
  uint16_t limit = p->policy->record_size_limit;
  if (!p->tls13 && limit > RSL_MAX12) {
    limit = RSL_MAX12;
  }
  return ext_rsl_build(b, limit);
}

moat_err ext_rsl_read(cursor data, unsigned msg, const ext_params *p,
                      ext_values *out, tls_cause *why) {
  (void)p;
  return ext_rsl_parse(data, msg, &out->record_size_limit, why);
}
