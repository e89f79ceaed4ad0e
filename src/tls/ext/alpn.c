/* application_layer_protocol_negotiation (RFC 7301). */
#include <string.h>

#include "tls/ext/ext.h"

bool ext_alpn_build(builder *b, const uint8_t *wire, size_t wire_len) {
  bld_open16(b);
  bld_bytes(b, wire, wire_len);
  return bld_close(b);
}

bool ext_alpn_build_one(builder *b, const char *name) {
  bld_open16(b);
  bld_open8(b);
  bld_bytes(b, (const uint8_t *)name, strlen(name));
  bld_close(b);
  return bld_close(b);
}

moat_err ext_alpn_parse_list(cursor data, cursor *out_list, tls_cause *why) {
  if (!cur_prefixed16(&data, out_list) || !cur_done(&data) ||
      cur_done(out_list)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed ALPN extension");
  }
  cursor check = *out_list, name;
  while (!cur_done(&check)) {
    if (!cur_prefixed8(&check, &name) || cur_done(&name)) {
      return cause_set(why, MOAT_ERR_DECODE_ERROR,
                       "malformed ALPN protocol name");
    }
  }
  return MOAT_OK;
}

moat_err ext_alpn_select(cursor list, const tls_policy *pol, cursor *out_chosen,
                         tls_cause *why) {
  *out_chosen = cur_make(NULL, 0);
  if (pol->alpn_wire_len == 0) {
    return MOAT_OK; /* we do not use ALPN: ignore it */
  }
  /* The server's preference order decides. */
  cursor ours = cur_make(pol->alpn_wire, pol->alpn_wire_len), mine;
  while (cur_prefixed8(&ours, &mine)) {
    cursor theirs = list, name;
    while (cur_prefixed8(&theirs, &name)) {
      if (cur_equal(&name, cur_data(&mine), cur_len(&mine))) {
        *out_chosen = mine;
        return MOAT_OK;
      }
    }
  }
  if (pol->alpn_mismatch_ok) {
    return MOAT_OK; /* moat_context_set_alpn_required(ctx, false) */
  }
  return cause_set(why, MOAT_ERR_NO_APPLICATION_PROTOCOL,
                   "no application protocol offered by the client is "
                   "configured here");
}

moat_err ext_alpn_parse_ee(cursor data, const tls_policy *pol,
                           cursor *out_chosen, tls_cause *why) {
  cursor list, name;
  TRY(ext_alpn_parse_list(data, &list, why));
  if (!cur_prefixed8(&list, &name) || !cur_done(&list)) {
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server must select exactly one ALPN protocol");
  }
  cursor ours = cur_make(pol->alpn_wire, pol->alpn_wire_len), mine;
  while (cur_prefixed8(&ours, &mine)) {
    if (cur_equal(&name, cur_data(&mine), cur_len(&mine))) {
      *out_chosen = name;
      return MOAT_OK;
    }
  }
  return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                   "the server selected an ALPN protocol we did not offer");
}

/* The client offers the policy's list; the server answers with the one
 * it chose (the selection is the hello layer's, ext_alpn_select). */
bool ext_alpn_send(unsigned msg, const ext_params *p) {
  return msg == M_CH ? p->policy->alpn_wire_len > 0 : p->alpn != NULL;
}

bool ext_alpn_row_build(builder *b, unsigned msg, const ext_params *p) {
  if (msg == M_CH) {
    return ext_alpn_build(b, p->policy->alpn_wire, p->policy->alpn_wire_len);
  }
  return ext_alpn_build_one(b, p->alpn);
}

/* ClientHello: the list, checked; a server's answer: the name, checked
 * against what the policy offered. */
moat_err ext_alpn_read(cursor data, unsigned msg, const ext_params *p,
                       ext_values *out, tls_cause *why) {
  if (msg == M_CH) {
    return ext_alpn_parse_list(data, &out->alpn, why);
  }
  return ext_alpn_parse_ee(data, p->policy, &out->alpn, why);
}
