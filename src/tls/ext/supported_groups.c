/* supported_groups (RFC 8446 4.2.7). */
#include "tls/ext/ext.h"

bool ext_groups_build(builder *b, const tls_policy *ctx) {
  /* A client that cannot speak TLS 1.3 lists no group only 1.3 uses. */
  bool tls13 = ctx_allows(ctx, MOAT_TLS1_3);
  bld_open16(b);
  for (size_t i = 0; i < ctx->num_groups; i++) {
    if (tls13 || !ctx->groups[i]->tls13_only) {
      bld_u16(b, ctx->groups[i]->group);
    }
  }
  return bld_close(b);
}

moat_err ext_groups_parse(moat_conn *conn, cursor data, uint16_t *out,
                          size_t cap, size_t *out_num) {
  cursor list;
  *out_num = 0;
  if (!cur_prefixed16(&data, &list) || !cur_done(&data) ||
      cur_len(&list) == 0 || cur_len(&list) % 2 != 0) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed supported_groups");
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
