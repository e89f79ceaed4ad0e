/* NewSessionTicket (RFC 8446 4.6.1).  The client checks the message; this
 * version of moat does not resume sessions, so the ticket is dropped. */
#include "tls/msg/msg.h"

moat_err nst_parse(moat_conn *conn, cursor body) {
  uint32_t lifetime, age_add;
  cursor nonce, ticket, exts;
  ext_set set;
  if (!cur_u32(&body, &lifetime) || !cur_u32(&body, &age_add) ||
      !cur_prefixed8(&body, &nonce) || !cur_prefixed16(&body, &ticket) ||
      !cur_prefixed16(&body, &exts) || !cur_done(&body) ||
      cur_done(&ticket)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed NewSessionTicket");
  }
  /* RFC 8446 4.6.1: at most seven days. */
  if (lifetime > 604800) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "ticket lifetime %u exceeds seven days", lifetime);
  }
  return ext_parse_block(conn, exts, M_NST, 0, &set);
}
