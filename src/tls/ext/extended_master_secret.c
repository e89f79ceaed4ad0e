/* extended_master_secret (RFC 7627): an empty extension in both hellos;
 * the flows use the session hash when both sent it. */
#include "tls/ext/ext.h"

moat_err ext_ems_parse(cursor data, unsigned msg, tls_cause *why) {
  return ext_parse_empty(data, "extended_master_secret", msg, why);
}

/* RFC 7627 5.1: a client always offers it; a server answers it. */
bool ext_ems_send(unsigned msg, const ext_params *p) {
  return msg == M_CH ? p->tls12 : p->ems;
}

bool ext_ems_row_build(builder *b, unsigned msg, const ext_params *p) {
  (void)b;
  (void)msg;
  (void)p;
  return true; /* empty */
}

moat_err ext_ems_read(cursor data, unsigned msg, const ext_params *p,
                      ext_values *out, tls_cause *why) {
  (void)p;
  (void)out;
  return ext_ems_parse(data, msg, why);
}
