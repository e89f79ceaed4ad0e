/* The message callback (moat_conn_set_msg_cb): what the record and
 * handshake layers report of the messages they move, for tracing. */
#include "tls/tls.h"

void moat_conn_set_msg_cb(moat_conn *conn, moat_msg_fn cb, void *arg) {
  if (conn == NULL) {
    return;
  }
  conn->msg_cb = cb;
  conn->msg_arg = arg;
}

static void report(moat_conn *conn, bool sent, int version, int content_type,
                   int msg_type, const uint8_t *data, size_t len) {
  moat_msg m = {
      .sent = sent,
      .version = version,
      .content_type = content_type,
      .msg_type = msg_type,
      .data = data,
      .len = len,
  };
  conn->msg_cb(conn->msg_arg, conn, &m);
}

/* Before a version is agreed, the legacy one every record and hello
 * carries (RFC 8446 4.1.2, 5.1). */
static int conn_msg_version(const moat_conn *conn) {
  return conn->version != 0 ? conn->version : MOAT_TLS1_2;
}

void msgcb_header(moat_conn *conn, bool sent, const uint8_t *hdr) {
  if (conn->msg_cb == NULL) {
    return;
  }
  report(conn, sent, (hdr[1] << 8) | hdr[2], MOAT_MSG_RECORD_HEADER, hdr[0],
         hdr, TLS_RECORD_HEADER);
}

void msgcb_inner_type(moat_conn *conn, bool sent, uint8_t type) {
  if (conn->msg_cb == NULL) {
    return;
  }
  report(conn, sent, conn_msg_version(conn), MOAT_MSG_INNER_TYPE, type, &type,
         1);
}

/* Each whole handshake message at the start of c, reported; returns the
 * bytes they take (a partial message at the end is left). */
static size_t report_messages(moat_conn *conn, bool sent, cursor c) {
  size_t done = 0;
  for (;;) {
    const uint8_t *start = cur_data(&c);
    uint8_t type;
    uint32_t len;
    cursor body;
    if (!cur_u8(&c, &type) || !cur_u24(&c, &len) || !cur_sub(&c, len, &body)) {
      return done;
    }
    report(conn, sent, conn_msg_version(conn), CT_HANDSHAKE, type, start,
           4 + (size_t)len);
    done += 4 + (size_t)len;
  }
}

void msgcb_content(moat_conn *conn, bool sent, uint8_t type,
                   const uint8_t *data, size_t len) {
  if (conn->msg_cb == NULL || len == 0) {
    return;
  }
  switch (type) {
  case CT_HANDSHAKE:
    (void)report_messages(conn, sent, cur_make(data, len));
    return;
  case CT_ALERT:
    /* the description (RFC 8446 6); a malformed alert shows as -1 */
    report(conn, sent, conn_msg_version(conn), CT_ALERT,
           len == 2 ? data[1] : -1, data, len);
    return;
  case CT_CHANGE_CIPHER_SPEC:
    report(conn, sent, conn_msg_version(conn), CT_CHANGE_CIPHER_SPEC, data[0],
           data, len);
    return;
  default:
    return; /* application data is never reported */
  }
}

void msgcb_handshake_received(moat_conn *conn) {
  if (conn->msg_cb == NULL) {
    return;
  }
  const uint8_t *buf = conn->hs ? conn->hs->msg : conn->post_msg;
  size_t len = conn->hs ? conn->hs->msg_len : conn->post_len;
  if (conn->msg_reported >= len) {
    return;
  }
  conn->msg_reported += report_messages(
      conn, false,
      cur_make(buf + conn->msg_reported, len - conn->msg_reported));
}

void msgcb_consumed(moat_conn *conn, size_t len) {
  conn->msg_reported = conn->msg_reported > len ? conn->msg_reported - len : 0;
}
