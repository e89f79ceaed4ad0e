/* supported_groups (RFC 8446 4.2.7). */
#include "tls/ext/ext.h"

bool ext_groups_build(builder *b, const tls_policy *pol, bool tls13) {
  /* A client that cannot speak TLS 1.3 lists no group only 1.3 uses. */
  bld_open16(b);
  for (size_t i = 0; i < pol->num_groups; i++) {
    if (tls13 || !pol->groups[i]->tls13_only) {
      bld_u16(b, pol->groups[i]->group);
    }
  }
  return bld_close(b);
}

moat_err ext_groups_parse(cursor data, uint16_t *out, size_t cap,
                          size_t *out_num, tls_cause *why) {
  cursor list;
  *out_num = 0;
  if (!cur_prefixed16(&data, &list) || !cur_done(&data) ||
      cur_len(&list) == 0 || cur_len(&list) % 2 != 0) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed supported_groups");
  }
  /* RFC 8446 4.2.7: the whole list counts, however many groups unknown
   * to moat come first; only known ones are kept (once each), so cap
   * need only hold the groups moat implements. */
  while (!cur_done(&list)) {
    uint16_t g;
    (void)cur_u16(&list, &g);
    if (kex_by_group(g) != NULL && !ext_code_listed(out, *out_num, g) &&
        *out_num < cap) {
      out[(*out_num)++] = g;
    }
  }
  return MOAT_OK;
}

/* Only the client sends it; a server's (RFC 8446 4.2.7: in
 * EncryptedExtensions) is checked for its form and otherwise unused. */
bool ext_groups_send(unsigned msg, const ext_params *p) {
  (void)p;
  return msg == M_CH;
}

bool ext_groups_row_build(builder *b, unsigned msg, const ext_params *p) {
  (void)msg;
  return ext_groups_build(b, p->policy, p->tls13);
}

moat_err ext_groups_read(cursor data, unsigned msg, const ext_params *p,
                         ext_values *out, tls_cause *why) {
  (void)msg;
  (void)p;
  return ext_groups_parse(data, out->groups, 32, &out->num_groups, why);
}
