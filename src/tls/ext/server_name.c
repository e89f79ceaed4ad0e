/* server_name (RFC 6066 3). */
#include <string.h>

#include "tls/ext/ext.h"
#include "x509/x509.h"

bool ext_sni_build(builder *b, const char *host) {
  size_t n = strlen(host);
  bld_open16(b); /* ServerNameList */
  bld_u8(b, 0);  /* host_name */
  bld_open16(b);
  bld_bytes(b, (const uint8_t *)host, n);
  bld_close(b);
  return bld_close(b);
}

moat_err ext_sni_parse(cursor data, char *out, size_t cap, tls_cause *why) {
  cursor list, name;
  uint8_t type;
  out[0] = '\0';
  if (!cur_prefixed16(&data, &list) || !cur_done(&data) || cur_done(&list)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed server_name");
  }
  while (!cur_done(&list)) {
    if (!cur_u8(&list, &type) || !cur_prefixed16(&list, &name)) {
      return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed server_name");
    }
    if (type != 0) {
      continue;
    }
    /* RFC 6066 3: one host_name, no trailing dot, no NULs. */
    if (out[0] != '\0') {
      return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                       "server_name holds two host names");
    }
    size_t n = cur_len(&name);
    if (n == 0 || n >= cap || memchr(cur_data(&name), 0, n) != NULL) {
      return cause_set(why, MOAT_ERR_DECODE_ERROR,
                       "server_name host name is empty, too long or has NUL");
    }
    memcpy(out, cur_data(&name), n);
    out[n] = '\0';
  }
  return MOAT_OK;
}

moat_err ext_sni_parse_ack(cursor data, unsigned msg, tls_cause *why) {
  /* RFC 6066 3: the server's server_name is empty. */
  return ext_parse_empty(data, "server_name", msg, why);
}

/* SNI carries DNS names only (RFC 6066 3: no IP literals). */
bool ext_sni_send(unsigned msg, const ext_params *p) {
  if (msg != M_CH) {
    return p->ack_sni;
  }
  uint8_t ip[16];
  size_t ip_len;
  return p->host != NULL && !x509_parse_ip(p->host, ip, &ip_len);
}

bool ext_sni_row_build(builder *b, unsigned msg, const ext_params *p) {
  /* RFC 6066 3: an empty server_name acknowledges the client's. */
  return msg != M_CH || ext_sni_build(b, p->host);
}

moat_err ext_sni_read(cursor data, unsigned msg, const ext_params *p,
                      ext_values *out, tls_cause *why) {
  (void)p;
  if (msg != M_CH) {
    return ext_sni_parse_ack(data, msg, why);
  }
  return ext_sni_parse(data, out->host, sizeof(out->host), why);
}
