/* key_share (RFC 8446 4.2.8). */
#include "tls/ext/ext.h"

bool ext_key_share_build_ch(builder *b, const ext_share *shares, size_t num) {
  bld_open16(b);
  for (size_t i = 0; i < num; i++) {
    bld_u16(b, shares[i].group);
    bld_open16(b);
    bld_bytes(b, shares[i].data, shares[i].len);
    bld_close(b);
  }
  return bld_close(b);
}

bool ext_key_share_build_sh(builder *b, uint16_t group, const uint8_t *share,
                            size_t share_len) {
  bld_u16(b, group);
  if (share == NULL) {
    return true; /* RFC 8446 4.2.8: a HelloRetryRequest names the group */
  }
  bld_open16(b);
  bld_bytes(b, share, share_len);
  return bld_close(b);
}

/* Walks the client's KeyShareClientHello, checking its framing. */
static moat_err shares_walk(cursor data, cursor *out_list, tls_cause *why) {
  if (!cur_prefixed16(&data, out_list) || !cur_done(&data)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed key_share");
  }
  cursor c = *out_list, share;
  uint16_t group;
  while (!cur_done(&c)) {
    if (!cur_u16(&c, &group) || !cur_prefixed16(&c, &share) ||
        cur_done(&share)) {
      return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed key_share entry");
    }
  }
  return MOAT_OK;
}

moat_err ext_key_share_groups(cursor data, uint16_t *out, size_t cap,
                              size_t *out_num, size_t *out_total,
                              tls_cause *why) {
  cursor list, share;
  *out_num = 0;
  *out_total = 0;
  TRY(shares_walk(data, &list, why));
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
      return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                       "two key shares for group 0x%04x", group);
    }
    if (*out_num == cap) {
      return cause_set(why, MOAT_ERR_INTERNAL, "key share list too small");
    }
    out[(*out_num)++] = group;
  }
  return MOAT_OK;
}

moat_err ext_key_share_find(cursor data, uint16_t group, cursor *out_share,
                            bool *out_found, tls_cause *why) {
  cursor list, share;
  uint16_t g;
  *out_found = false;
  TRY(shares_walk(data, &list, why));
  while (cur_u16(&list, &g) && cur_prefixed16(&list, &share)) {
    if (g == group) {
      *out_share = share;
      *out_found = true;
      return MOAT_OK;
    }
  }
  return MOAT_OK;
}

moat_err ext_key_share_parse_sh(cursor data, bool hrr, uint16_t *out_group,
                                cursor *out_share, tls_cause *why) {
  *out_share = cur_make(NULL, 0);
  if (hrr) {
    if (!cur_u16(&data, out_group) || !cur_done(&data)) {
      return cause_set(why, MOAT_ERR_DECODE_ERROR,
                       "malformed key_share in HelloRetryRequest");
    }
    return MOAT_OK;
  }
  if (!cur_u16(&data, out_group) || !cur_prefixed16(&data, out_share) ||
      !cur_done(&data)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed key_share in ServerHello");
  }
  return MOAT_OK;
}

/* A TLS 1.3 ClientHello, ServerHello and HelloRetryRequest carry it. */
bool ext_key_share_send(unsigned msg, const ext_params *p) {
  return msg != M_CH || p->tls13;
}

bool ext_key_share_row_build(builder *b, unsigned msg, const ext_params *p) {
  switch (msg) {
  case M_CH:
    return ext_key_share_build_ch(b, p->shares, p->num_shares);
  case M_HRR:
    return ext_key_share_build_sh(b, p->group, NULL, 0);
  default:
    return ext_key_share_build_sh(b, p->group, p->share, p->share_len);
  }
}

/* The server reads the client's list where it picks the group (the flow
 * calls ext_key_share_groups / _find); the client reads the answer. */
moat_err ext_key_share_read(cursor data, unsigned msg, const ext_params *p,
                            ext_values *out, tls_cause *why) {
  (void)p;
  if (msg == M_CH) {
    cursor list;
    return shares_walk(data, &list, why);
  }
  return ext_key_share_parse_sh(data, msg == M_HRR, &out->group, &out->share,
                                why);
}
