/* moat server: the HTML page that answers an HTTP GET, describing the
 * connection it came over. */
#include <stdio.h>
#include <string.h>

#include "server.h"

/* Appends s to out (holding *len bytes) with HTML escaping; stops at
 * the capacity. */
static void html_append(char *out, size_t cap, size_t *len, const char *s) {
  for (; *s != '\0'; s++) {
    const char *rep = NULL;
    char one[2] = {*s, '\0'};
    switch (*s) {
    case '<':
      rep = "&lt;";
      break;
    case '>':
      rep = "&gt;";
      break;
    case '&':
      rep = "&amp;";
      break;
    case '"':
      rep = "&quot;";
      break;
    default:
      rep = one;
      break;
    }
    size_t n = strlen(rep);
    if (*len + n + 1 > cap) {
      return;
    }
    memcpy(out + *len, rep, n + 1);
    *len += n;
  }
}

void server_client_subject(const moat_conn *conn, char *out, size_t cap) {
  const uint8_t *der = NULL;
  size_t len = 0;
  if (moat_conn_peer_chain_len(conn) == 0 ||
      moat_conn_peer_cert_der(conn, 0, &der, &len) != MOAT_OK) {
    snprintf(out, cap, "-");
    return;
  }
  util_cert_subject(der, len, false, out, cap);
}

size_t server_http_page(const moat_conn *conn, char *out, size_t cap) {
  char subj[512], body[4096];
  size_t blen = 0;
  server_client_subject(conn, subj, sizeof(subj));
  const char *rows[][2] = {
      {"version", util_or_dash(moat_conn_version_name(conn))},
      {"cipher suite", util_or_dash(moat_conn_cipher_name(conn))},
      {"group", util_or_dash(moat_conn_group_name(conn))},
      {"signature scheme", util_or_dash(moat_conn_sigalg_name(conn))},
      {"ALPN", util_or_dash(moat_conn_alpn(conn))},
      {"SNI", util_or_dash(moat_conn_server_name(conn))},
      {"hello retry", moat_conn_hello_retry(conn) ? "yes" : "no"},
      {"client certificate", subj},
  };
  int hn = snprintf(body, sizeof(body), "%s",
                    "<!DOCTYPE html>\n<html><head><title>moat</title></head>"
                    "<body>\n<h1>moat " MOAT_VERSION_STRING "</h1>\n<table>\n");
  blen = hn > 0 ? (size_t)hn : 0;
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    /* The markup itself is literal; only the values are escaped. */
    int n = snprintf(body + blen, sizeof(body) - blen, "<tr><th>%s</th><td>",
                     rows[i][0]);
    if (n < 0 || (size_t)n >= sizeof(body) - blen) {
      break;
    }
    blen += (size_t)n;
    html_append(body, sizeof(body), &blen, rows[i][1]);
    n = snprintf(body + blen, sizeof(body) - blen, "</td></tr>\n");
    if (n < 0 || (size_t)n >= sizeof(body) - blen) {
      break;
    }
    blen += (size_t)n;
  }
  int n =
      snprintf(body + blen, sizeof(body) - blen, "</table></body></html>\n");
  if (n > 0 && (size_t)n < sizeof(body) - blen) {
    blen += (size_t)n;
  }
  int plen = snprintf(out, cap,
                      "HTTP/1.1 200 OK\r\n"
                      "Content-Type: text/html; charset=utf-8\r\n"
                      "Content-Length: %zu\r\n"
                      "Connection: close\r\n\r\n%s",
                      blen, body);
  if (plen < 0 || (size_t)plen >= cap) {
    return 0;
  }
  return (size_t)plen;
}
