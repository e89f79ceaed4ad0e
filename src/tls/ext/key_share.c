/* key_share (RFC 8446 4.2.8). */
#include "tls/ext/ext.h"

/* The client sends a share for its first group (and keeps the key). */
moat_err ext_key_share_build_ch(moat_conn *conn, builder *b) {
  handshake *hs = conn->hs;
  bld_open16(b);
  for (size_t i = 0; i < hs->num_shares; i++) {
    uint8_t share[KEX_MAX_SHARE];
    size_t share_len;
    /* RFC 8446 4.1.2: after a HelloRetryRequest that names no group (a
     * cookie only), the second ClientHello repeats the same shares; a
     * retry that names one has freed the old keys. */
    if (hs->share_key[i] != NULL) {
      if (!kex_key_share(hs->share_key[i], share, &share_len)) {
        return conn_fail(conn, MOAT_ERR_CRYPTO, "reading a %s share failed",
                         hs->share_alg[i]->name);
      }
    } else if (!kex_generate(hs->share_alg[i], conn->ctx->kex_pool,
                             &hs->share_key[i], share, &share_len)) {
      return conn_fail(conn, MOAT_ERR_CRYPTO, "generating a %s key failed",
                       hs->share_alg[i]->name);
    }
    bld_u16(b, hs->share_alg[i]->group);
    bld_open16(b);
    bld_bytes(b, share, share_len);
    bld_close(b);
  }
  bld_close(b);
  return MOAT_OK;
}

/* Walks the client's KeyShareClientHello, checking its framing. */
static moat_err shares_walk(moat_conn *conn, cursor data, cursor *out_list) {
  if (!cur_prefixed16(&data, out_list) || !cur_done(&data)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed key_share");
  }
  cursor c = *out_list, share;
  uint16_t group;
  while (!cur_done(&c)) {
    if (!cur_u16(&c, &group) || !cur_prefixed16(&c, &share) ||
        cur_done(&share)) {
      return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                       "malformed key_share entry");
    }
  }
  return MOAT_OK;
}

moat_err ext_key_share_groups(moat_conn *conn, cursor data, uint16_t *out,
                              size_t cap, size_t *out_num, size_t *out_total) {
  cursor list, share;
  *out_num = 0;
  *out_total = 0;
  TRY(shares_walk(conn, data, &list));
  uint16_t group;
  while (cur_u16(&list, &group) && cur_prefixed16(&list, &share)) {
    (*out_total)++;
    /* RFC 8446 4.2.8: shares for groups the server does not know are
     * skipped, however many there are (the ClientHello's size bounds
     * them); only known ones are kept, so cap need only hold those. */
    if (kex_by_group(group) == NULL) {
      continue;
    }
    /* RFC 8446 4.2.8: no two shares for one group. */
    if (ext_code_listed(out, *out_num, group)) {
      return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                       "two key shares for group 0x%04x", group);
    }
    if (*out_num == cap) {
      return conn_fail(conn, MOAT_ERR_INTERNAL, "key share list too small");
    }
    out[(*out_num)++] = group;
  }
  return MOAT_OK;
}

moat_err ext_key_share_find(moat_conn *conn, cursor data, uint16_t group,
                            cursor *out_share, bool *out_found) {
  cursor list, share;
  uint16_t g;
  *out_found = false;
  TRY(shares_walk(conn, data, &list));
  while (cur_u16(&list, &g) && cur_prefixed16(&list, &share)) {
    if (g == group) {
      *out_share = share;
      *out_found = true;
      return MOAT_OK;
    }
  }
  return MOAT_OK;
}
