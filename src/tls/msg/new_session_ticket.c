/* NewSessionTicket (RFC 8446 4.6.1, RFC 5077 3.3).  The client makes its
 * session from the fields in the flow (tls13_take_ticket, the TLS 1.2
 * client's WAIT_NST); the server seals tickets in session.c. */
#include "tls/msg/msg.h"

moat_err nst_parse(cursor body, nst13 *out, tls_cause *why) {
  cursor exts;
  if (!cur_u32(&body, &out->lifetime) || !cur_u32(&body, &out->age_add) ||
      !cur_prefixed8(&body, &out->nonce) ||
      !cur_prefixed16(&body, &out->ticket) || !cur_prefixed16(&body, &exts) ||
      !cur_done(&body) || cur_done(&out->ticket)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed NewSessionTicket");
  }
  /* RFC 8446 4.6.1: at most seven days. */
  if (out->lifetime > 604800) {
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "ticket lifetime %u exceeds seven days", out->lifetime);
  }
  return ext_parse_block(exts, M_NST, 0, &out->ext, why);
}

moat_err nst12_parse(cursor body, nst12 *out, tls_cause *why) {
  if (!cur_u32(&body, &out->lifetime_hint) ||
      !cur_prefixed16(&body, &out->ticket) || !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed NewSessionTicket");
  }
  return MOAT_OK;
}

bool nst12_build(builder *b, uint32_t lifetime, const uint8_t *ticket,
                 size_t ticket_len) {
  msg_open(b, HT_NEW_SESSION_TICKET);
  bld_u32(b, lifetime);
  bld_open16(b);
  bld_bytes(b, ticket, ticket_len);
  bld_close(b);
  msg_close(b);
  return bld_finish(b);
}
