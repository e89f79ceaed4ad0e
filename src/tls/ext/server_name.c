/* server_name (RFC 6066 3). */
#include <string.h>

#include "tls/ext/ext.h"

bool ext_sni_build(builder *b, const char *host) {
  size_t n = strlen(host);
  bld_open16(b); /* ServerNameList */
  bld_u8(b, 0);  /* host_name */
  bld_open16(b);
  bld_bytes(b, (const uint8_t *)host, n);
  bld_close(b);
  return bld_close(b);
}

moat_err ext_sni_parse(moat_conn *conn, cursor data, char *out, size_t cap) {
  cursor list, name;
  uint8_t type;
  out[0] = '\0';
  if (!cur_prefixed16(&data, &list) || !cur_done(&data) || cur_done(&list)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed server_name");
  }
  while (!cur_done(&list)) {
    if (!cur_u8(&list, &type) || !cur_prefixed16(&list, &name)) {
      return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed server_name");
    }
    if (type != 0) {
      continue;
    }
    /* RFC 6066 3: one host_name, no trailing dot, no NULs. */
    if (out[0] != '\0') {
      return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                       "server_name holds two host names");
    }
    size_t n = cur_len(&name);
    if (n == 0 || n >= cap || memchr(cur_data(&name), 0, n) != NULL) {
      return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                       "server_name host name is empty, too long or has NUL");
    }
    memcpy(out, cur_data(&name), n);
    out[n] = '\0';
  }
  return MOAT_OK;
}
