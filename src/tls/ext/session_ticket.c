/* session_ticket (RFC 5077): TLS 1.2 resumption with tickets.  The
 * client's is empty (asking for one) or holds a ticket, which the server
 * flow opens; the server's is empty and promises a NewSessionTicket. */
#include "tls/ext/ext.h"

bool ext_ticket12_build(builder *b, const uint8_t *ticket, size_t len) {
  return bld_bytes(b, ticket, len);
}

moat_err ext_ticket12_parse_sh(cursor data, tls_cause *why) {
  return ext_parse_empty(data, "session_ticket", M_SH12, why);
}

/* RFC 5077 3.1, 3.2: the client when tickets are on; the server when it
 * will send one. */
bool ext_ticket12_send(unsigned msg, const ext_params *p) {
  return msg == M_CH ? p->tls12 && p->tickets12 : p->tickets12;
}

bool ext_ticket12_row_build(builder *b, unsigned msg, const ext_params *p) {
  if (msg != M_CH || p->ticket12 == NULL) {
    return true; /* empty */
  }
  return ext_ticket12_build(b, p->ticket12, p->ticket12_len);
}

/* The client's ticket is the server flow's to open (any bytes). */
moat_err ext_ticket12_read(cursor data, unsigned msg, const ext_params *p,
                           ext_values *out, tls_cause *why) {
  (void)p;
  (void)out;
  if (msg == M_CH) {
    return MOAT_OK;
  }
  return ext_ticket12_parse_sh(data, why);
}
