/* renegotiation_info (RFC 5746) and the TLS 1.2 ClientHello extensions
 * that travel with it.  moat never renegotiates, so renegotiated_connection
 * is always empty: on the initial handshake both sides send it empty
 * (RFC 5746 3.4, 3.6). */
#include "tls/ext/ext.h"

#define SCSV_RENEGOTIATION 0x00ff /* RFC 5746 3.3 */

bool ext_tls12_build_ch(moat_conn *conn, builder *b) {
  handshake *hs = conn->hs;
  bld_u16(b, EXT_RENEGOTIATION_INFO);
  bld_open16(b);
  bld_u8(b, 0); /* renegotiated_connection: empty */
  bld_close(b);
  /* RFC 7627 5.1: always offered. */
  bld_u16(b, EXT_EXTENDED_MASTER_SECRET);
  bld_u16(b, 0);
  /* RFC 8422 5.1.2: uncompressed points only. */
  bld_u16(b, EXT_EC_POINT_FORMATS);
  bld_open16(b);
  bld_u8(b, 1);
  bld_u8(b, 0);
  bld_close(b);
  if (!conn->ctx->tickets) {
    return true;
  }
  /* RFC 5077 3.1: empty asks for a ticket; a ticket resumes. */
  bld_u16(b, EXT_SESSION_TICKET);
  bld_open16(b);
  moat_session *s = hs->offered12;
  if (s != NULL && s->ticket != NULL) {
    bld_bytes(b, s->ticket, s->ticket_len);
  }
  return bld_close(b);
}

/* RFC 8422 5.1.2: an ec_point_formats list must hold uncompressed (0). */
static moat_err check_point_formats(moat_conn *conn, cursor d,
                                    const char *who) {
  cursor list;
  bool uncompressed = false;
  uint8_t f;
  if (!cur_prefixed8(&d, &list) || !cur_done(&d) || cur_done(&list)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed ec_point_formats from the %s", who);
  }
  while (cur_u8(&list, &f)) {
    uncompressed |= f == 0;
  }
  if (!uncompressed) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the %s's ec_point_formats lacks uncompressed", who);
  }
  return MOAT_OK;
}

static bool renegotiation_info_empty(cursor data) {
  cursor rc;
  return cur_prefixed8(&data, &rc) && cur_done(&data) && cur_done(&rc);
}

moat_err ext_tls12_check_sh(moat_conn *conn, const ext_set *ext) {
  /* RFC 5746 3.4: a server without it may be open to the renegotiation
   * attack; one with a non-empty value is broken or attacked. */
  if (!ext_has(ext, X_RENEGOTIATION_INFO)) {
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "the TLS 1.2 server does not support secure "
                     "renegotiation (no renegotiation_info, RFC 5746)");
  }
  if (!renegotiation_info_empty(ext->data[X_RENEGOTIATION_INFO])) {
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "the server's renegotiation_info is not empty on the "
                     "initial handshake");
  }
  if (ext_has(ext, X_EC_POINT_FORMATS)) {
    TRY(check_point_formats(conn, ext->data[X_EC_POINT_FORMATS], "server"));
  }
  if (ext_has(ext, X_EXTENDED_MASTER_SECRET) &&
      cur_len(&ext->data[X_EXTENDED_MASTER_SECRET]) != 0) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "extended_master_secret in ServerHello is not empty");
  }
  if (ext_has(ext, X_SESSION_TICKET) &&
      cur_len(&ext->data[X_SESSION_TICKET]) != 0) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "session_ticket in ServerHello is not empty");
  }
  return MOAT_OK;
}

moat_err ext_tls12_check_ch(moat_conn *conn, const ext_set *ext,
                            cursor suites) {
  if (ext_has(ext, X_RENEGOTIATION_INFO) &&
      !renegotiation_info_empty(ext->data[X_RENEGOTIATION_INFO])) {
    /* RFC 5746 3.6: non-empty on an initial handshake. */
    return conn_fail(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                     "the client's renegotiation_info is not empty on the "
                     "initial handshake");
  }
  /* RFC 5746 3.6: the extension or the SCSV (SCSV_RENEGOTIATION) tells
   * the client is patched; neither (an old client) is accepted, since
   * moat never renegotiates. */
  (void)suites;
  if (ext_has(ext, X_EC_POINT_FORMATS)) {
    TRY(check_point_formats(conn, ext->data[X_EC_POINT_FORMATS], "client"));
  }
  if (ext_has(ext, X_EXTENDED_MASTER_SECRET) &&
      cur_len(&ext->data[X_EXTENDED_MASTER_SECRET]) != 0) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "extended_master_secret in ClientHello is not empty");
  }
  return MOAT_OK;
}
