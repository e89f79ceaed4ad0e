/* moat server: the options, the event loop that serves many connections
 * on one thread (or several), and the HTTP page. */
#ifndef MOAT_TOOLS_SERVER_H
#define MOAT_TOOLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "moat.h"
#include "util.h"

struct server_opts {
  const char *host;
  const char *port;
  const char *cert;
  const char *key;
  const char *cafile;
  const char *ocsp_response; /* --ocsp-response: DER to staple */
  const char *max_conns_arg;
  const char *threads_arg;
  const char *hs_timeout_arg;
  const char *idle_timeout_arg;
  const char *password_file;
  const char *password_env;
  util_tls_opts tls;
  bool verify_client;
  bool once;
  bool http;
  bool key_update;
  /* Parsed from the _arg strings. */
  size_t max_conns;
  int threads;
  int hs_timeout_ms;
  int idle_timeout_ms;
};

/* Serves connections accepted on the listening socket lfd until a
 * --once connection ends (never otherwise).  Returns the exit status: 0,
 * or for --once 1 when that connection's handshake failed. */
int server_run(moat_context *ctx, const struct server_opts *o, int lfd);

/* Writes the HTTP response describing conn (status line, headers, an HTML
 * page) into out; returns its length, or 0 when it does not fit. */
size_t server_http_page(const moat_conn *conn, char *out, size_t cap);

/* The subject of the client's certificate, or "-" without one. */
void server_client_subject(const moat_conn *conn, char *out, size_t cap);

#endif
