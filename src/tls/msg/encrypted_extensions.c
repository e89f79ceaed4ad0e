/* EncryptedExtensions (RFC 8446 4.3.1). */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"

moat_err ee_build(moat_conn *conn, builder *b, bool ack_sni) {
  msg_open(b, HT_ENCRYPTED_EXTENSIONS);
  bld_open16(b);
  if (ack_sni) {
    /* RFC 6066 3: an empty server_name acknowledges the client's. */
    bld_u16(b, EXT_SERVER_NAME);
    bld_u16(b, 0);
  }
  if (conn->alpn != NULL) {
    size_t n = strlen(conn->alpn);
    bld_u16(b, EXT_ALPN);
    bld_open16(b);
    bld_open16(b);
    bld_u8(b, (uint8_t)n);
    bld_bytes(b, (const uint8_t *)conn->alpn, n);
    bld_close(b);
    bld_close(b);
  }
  bld_close(b);
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building EncryptedExtensions");
  }
  return MOAT_OK;
}

moat_err ee_parse(moat_conn *conn, cursor body, uint32_t offered) {
  cursor exts;
  ext_set set;
  if (!cur_prefixed16(&body, &exts) || !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed EncryptedExtensions");
  }
  tls_cause why;
  if (ext_parse_block(exts, M_EE, offered, &set, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  if (ext_has(&set, X_SERVER_NAME) && !cur_done(&set.data[X_SERVER_NAME])) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "server_name in EncryptedExtensions must be empty");
  }
  if (ext_has(&set, X_ALPN)) {
    cursor chosen;
    TRY(ext_alpn_parse_ee(conn, set.data[X_ALPN], &chosen));
    char *p = moat_malloc(cur_len(&chosen) + 1);
    if (p == NULL) {
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "ALPN");
    }
    memcpy(p, cur_data(&chosen), cur_len(&chosen));
    p[cur_len(&chosen)] = '\0';
    moat_free(conn->alpn);
    conn->alpn = p;
  }
  if (ext_has(&set, X_SUPPORTED_GROUPS)) {
    uint16_t groups[32];
    size_t n;
    TRY(ext_groups_parse(conn, set.data[X_SUPPORTED_GROUPS], groups, 32, &n));
  }
  return MOAT_OK;
}
