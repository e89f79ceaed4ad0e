/* moat server: accept TLS connections on loopback one at a time and echo
 * what arrives, or answer an HTTP GET with a page describing the
 * connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/mem.h"
#include "moat.h"
#include "tools.h"
#include "util.h"

#define HANDSHAKE_TIMEOUT_MS 20000
#define IDLE_TIMEOUT_MS 30000
#define HTTP_HEAD_MAX 8192

struct server_opts {
  const char *host;
  const char *port;
  const char *cert;
  const char *key;
  const char *cafile;
  util_tls_opts tls;
  bool verify_client;
  bool once;
  bool http;
  bool key_update;
};

static void server_usage(FILE *f) {
  fprintf(
      f, "usage: moat server --port P --cert F --key F [options]\n"
         "\n"
         "  --port P          port to listen on (0 picks a free one)\n"
         "  --cert F --key F  certificate chain (PEM, leaf first) and key\n"
         "  --host A          address to listen on (default 127.0.0.1)\n"
         "  --cafile F        CA certificates for client certificates; asks\n"
         "                    for one and checks it when sent\n"
         "  --verify-client   require a valid client certificate\n"
         "  --alpn a,b        application protocols, in preference order\n"
         "  --groups G        key exchange groups, e.g. X25519MLKEM768:P-256\n"
         "  --ciphers S       TLS 1.3 suites, e.g. TLS_AES_256_GCM_SHA384\n"
         "  --sigalgs L       signature schemes the server may use\n"
         "  --keylog F        append NSS key log lines to F (also "
         "$SSLKEYLOGFILE)\n"
         "  --key-update      send a KeyUpdate (update_requested) after each "
         "handshake\n"
         "  --http            always answer with an HTTP page (also done when\n"
         "                    a client's first bytes are \"GET \")\n"
         "  --once            exit after the first connection\n");
}

static bool parse_opts(int argc, char **argv, struct server_opts *o) {
  memset(o, 0, sizeof(*o));
  o->host = "127.0.0.1";
  const util_opt opts[] = {
      {"--verify-client", NULL, &o->verify_client},
      {"--once", NULL, &o->once},
      {"--http", NULL, &o->http},
      {"--key-update", NULL, &o->key_update},
      {"--host", &o->host, NULL},
      {"--port", &o->port, NULL},
      {"--cert", &o->cert, NULL},
      {"--key", &o->key, NULL},
      {"--cafile", &o->cafile, NULL},
      {"--alpn", &o->tls.alpn, NULL},
      {"--groups", &o->tls.groups, NULL},
      {"--ciphers", &o->tls.ciphers, NULL},
      {"--sigalgs", &o->tls.sigalgs, NULL},
      {"--keylog", &o->tls.keylog, NULL},
  };
  if (!util_parse_opts("server", argc, argv, opts,
                       sizeof(opts) / sizeof(opts[0]), NULL)) {
    return false;
  }
  if (o->port == NULL || o->cert == NULL) {
    fprintf(stderr, "moat server: --port and --cert are required\n");
    return false;
  }
  if (o->verify_client && o->cafile == NULL) {
    fprintf(stderr, "moat server: --verify-client needs --cafile\n");
    return false;
  }
  return true;
}

static bool configure(moat_context *ctx, const struct server_opts *o) {
  moat_err e = moat_context_load_cert_chain(ctx, o->cert, o->key, NULL);
  if (e != MOAT_OK) {
    return util_setup_fail("server", ctx, "cannot load certificate/key",
                           o->cert, e);
  }
  if (o->cafile != NULL) {
    e = moat_context_load_verify_locations(ctx, o->cafile, NULL, NULL, 0);
    if (e != MOAT_OK) {
      return util_setup_fail("server", ctx, "cannot load CA file", o->cafile,
                             e);
    }
    moat_context_set_verify_mode(ctx, o->verify_client ? MOAT_VERIFY_REQUIRED
                                                       : MOAT_VERIFY_OPTIONAL);
  }
  return util_configure_tls("server", ctx, &o->tls);
}

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

static void client_subject(const moat_conn *conn, char *out, size_t cap) {
  const uint8_t *der = NULL;
  size_t len = 0;
  if (moat_conn_peer_chain_len(conn) == 0 ||
      moat_conn_peer_cert_der(conn, 0, &der, &len) != MOAT_OK) {
    snprintf(out, cap, "-");
    return;
  }
  util_cert_subject(der, len, false, out, cap);
}

static moat_err send_http_page(moat_conn *conn, int fd) {
  char subj[512], body[4096], page[5120];
  size_t blen = 0;
  client_subject(conn, subj, sizeof(subj));
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
  body[0] = '\0';
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
  int plen = snprintf(page, sizeof(page),
                      "HTTP/1.1 200 OK\r\n"
                      "Content-Type: text/html; charset=utf-8\r\n"
                      "Content-Length: %zu\r\n"
                      "Connection: close\r\n\r\n%s",
                      blen, body);
  if (plen < 0 || (size_t)plen >= sizeof(page)) {
    return MOAT_ERR_INTERNAL;
  }
  return util_write_all(conn, fd, (const uint8_t *)page, (size_t)plen);
}

struct session {
  moat_conn *conn;
  int fd;
  bool http;
  char head[HTTP_HEAD_MAX];
  size_t head_len;
  bool decided; /* echo or http chosen */
  size_t bytes;
  const char *end;
};

/* Appends what fits of data to the request head, keeping it a string;
 * returns how many bytes it took. */
static size_t collect_head(struct session *s, const uint8_t *data, size_t n) {
  size_t take = n;
  if (take > sizeof(s->head) - 1 - s->head_len) {
    take = sizeof(s->head) - 1 - s->head_len;
  }
  memcpy(s->head + s->head_len, data, take);
  s->head_len += take;
  s->head[s->head_len] = '\0';
  return take;
}

/* Handles received bytes: echo them, or collect an HTTP request head.
 * Returns false when the session is over. */
static bool on_data(struct session *s, const uint8_t *data, size_t n,
                    moat_err *out_err) {
  *out_err = MOAT_OK;
  s->bytes += n;
  if (!s->decided) {
    size_t took = collect_head(s, data, n);
    if (s->head_len < 4 && strncmp(s->head, "GET ", s->head_len) == 0) {
      return true; /* too short to tell yet */
    }
    s->decided = true;
    s->http = s->http || strncmp(s->head, "GET ", 4) == 0;
    if (!s->http) {
      /* Echo what was held back, then the part of data the head had no
       * room for. */
      *out_err =
          util_write_all(s->conn, s->fd, (const uint8_t *)s->head, s->head_len);
      if (*out_err == MOAT_OK && took < n) {
        *out_err = util_write_all(s->conn, s->fd, data + took, n - took);
      }
      return *out_err == MOAT_OK;
    }
  } else if (!s->http) {
    *out_err = util_write_all(s->conn, s->fd, data, n);
    return *out_err == MOAT_OK;
  } else {
    collect_head(s, data, n);
  }
  /* HTTP: answer once the request head is complete (or too long). */
  if (strstr(s->head, "\r\n\r\n") == NULL && strstr(s->head, "\n\n") == NULL &&
      s->head_len + 1 < sizeof(s->head)) {
    return true;
  }
  *out_err = send_http_page(s->conn, s->fd);
  s->end = "http-answered";
  return false;
}

/* Echo / HTTP loop after the handshake, reading into buf. */
static void serve_loop(struct session *s, uint8_t *buf, size_t cap) {
  char msg[768];
  for (;;) {
    size_t n = 0;
    moat_err e = moat_conn_read(s->conn, buf, cap, &n);
    if (e == MOAT_OK) {
      if (!on_data(s, buf, n, &e)) {
        if (e != MOAT_OK) {
          util_describe_error(s->conn, e, msg, sizeof(msg));
          fprintf(stderr, "moat server: write failed: %s\n", msg);
          s->end = "write-error";
        }
        return;
      }
      continue;
    }
    if (e == MOAT_ERR_CLOSED) {
      s->end = "close_notify";
      return;
    }
    if (e == MOAT_ERR_EOF) {
      s->end = "eof-without-close_notify";
      return;
    }
    if (e != MOAT_ERR_WANT_READ && e != MOAT_ERR_WANT_WRITE) {
      util_describe_error(s->conn, e, msg, sizeof(msg));
      fprintf(stderr, "moat server: read failed: %s\n", msg);
      s->end = "read-error";
      return;
    }
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    if (moat_conn_pending_output(s->conn) > 0) {
      p.events |= POLLOUT;
    }
    int r = poll(&p, 1, IDLE_TIMEOUT_MS);
    if (r == 0) {
      s->end = "idle-timeout";
      return;
    }
    if (r < 0 && errno != EINTR) {
      s->end = "poll-error";
      return;
    }
  }
}

/* Echo / HTTP after the handshake. */
static void serve_data(struct session *s, bool force_http) {
  uint8_t buf[16384];
  s->http = force_http;
  serve_loop(s, buf, sizeof(buf));
  moat_wipe(buf, sizeof(buf)); /* the plaintext of the last records */
}

static void peer_name(const struct sockaddr_storage *ss, char *out,
                      size_t cap) {
  char a[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
    port = ntohs(in->sin_port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
    port = ntohs(in6->sin6_port);
  }
  snprintf(out, cap, "%s:%d", a, port);
}

static void handle(moat_context *ctx, const struct server_opts *o, int fd,
                   unsigned long id, const char *from) {
  char msg[768], subj[512];
  struct session *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    fprintf(stderr, "moat server: conn %lu: out of memory\n", id);
    return;
  }
  s->fd = fd;
  s->conn = moat_conn_new(ctx);
  moat_err e = s->conn ? moat_conn_set_fd(s->conn, fd) : MOAT_ERR_NO_MEMORY;
  if (e != MOAT_OK) {
    fprintf(stderr, "moat server: conn %lu: cannot set up: %s\n", id,
            moat_err_name(e));
    goto out;
  }
  util_set_nonblocking(fd, true);
  int64_t t0 = util_now_ms();
  e = util_drive(s->conn, fd, util_step_handshake, NULL,
                 t0 + HANDSHAKE_TIMEOUT_MS);
  int64_t t1 = util_now_ms();
  if (e != MOAT_OK) {
    if (e == MOAT_ERR_WANT_READ || e == MOAT_ERR_WANT_WRITE) {
      snprintf(msg, sizeof(msg), "timed out after %d ms", HANDSHAKE_TIMEOUT_MS);
    } else {
      util_describe_error(s->conn, e, msg, sizeof(msg));
    }
    fprintf(stderr, "moat server: conn %lu from %s: handshake failed: %s\n", id,
            from, msg);
    goto out;
  }
  client_subject(s->conn, subj, sizeof(subj));
  fprintf(stderr,
          "moat server: conn %lu from %s: version=%s cipher=%s group=%s "
          "sigalg=%s peer-sigalg=%s alpn=%s sni=%s hrr=%s ms=%lld "
          "client-cert=\"%s\"\n",
          id, from, util_or_dash(moat_conn_version_name(s->conn)),
          util_or_dash(moat_conn_cipher_name(s->conn)),
          util_or_dash(moat_conn_group_name(s->conn)),
          util_or_dash(moat_conn_sigalg_name(s->conn)),
          util_or_dash(moat_conn_peer_sigalg_name(s->conn)),
          util_or_dash(moat_conn_alpn(s->conn)),
          util_or_dash(moat_conn_server_name(s->conn)),
          moat_conn_hello_retry(s->conn) ? "yes" : "no", (long long)(t1 - t0),
          subj);
  if (o->key_update) {
    e = util_key_update(s->conn, fd);
    if (e != MOAT_OK) {
      util_describe_error(s->conn, e, msg, sizeof(msg));
      fprintf(stderr, "moat server: conn %lu: key update failed: %s\n", id,
              msg);
      goto out;
    }
    fprintf(stderr,
            "moat server: conn %lu: sent KeyUpdate (update_requested)\n", id);
  }
  serve_data(s, o->http);
  /* Send our close_notify; wait briefly for the peer's if it has not come
   * yet, but do not insist (many clients just close). */
  e = util_drive(s->conn, fd, util_step_shutdown, NULL, util_now_ms() + 1000);
  fprintf(stderr,
          "moat server: conn %lu closed: end=%s bytes=%zu shutdown=%s\n", id,
          util_or_dash(s->end), s->bytes, moat_err_name(e));
out:
  moat_conn_free(s->conn);
  moat_wipe(s->head, sizeof(s->head)); /* the request's plaintext */
  free(s);
}

int cmd_server(int argc, char **argv) {
  struct server_opts o;
  char msg[512];
  int status = 1;
  int lfd = -1;
  if (argc >= 2 &&
      (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    server_usage(stdout);
    return 0;
  }
  if (!parse_opts(argc, argv, &o)) {
    server_usage(stderr);
    return 2;
  }
  char *endp = NULL;
  long port = strtol(o.port, &endp, 10);
  if (endp == o.port || *endp != '\0' || port < 0 || port > 65535) {
    fprintf(stderr, "moat server: bad --port '%s'\n", o.port);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  moat_context *ctx = moat_context_new_default(MOAT_PURPOSE_CLIENT_AUTH);
  if (ctx == NULL) {
    fprintf(stderr, "moat server: cannot create a context\n");
    return 1;
  }
  if (!configure(ctx, &o)) {
    status = 2;
    goto out;
  }
  int bound = 0;
  lfd = util_tcp_listen(o.host, (int)port, &bound, msg, sizeof(msg));
  if (lfd < 0) {
    fprintf(stderr, "moat server: %s\n", msg);
    goto out;
  }
  printf("listening on %s:%d\n", o.host, bound);
  fflush(stdout);
  for (unsigned long id = 1;; id++) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      perror("moat server: accept");
      goto out;
    }
    char from[80];
    peer_name(&ss, from, sizeof(from));
    handle(ctx, &o, fd, id, from);
    close(fd);
    if (o.once) {
      break;
    }
  }
  status = 0;
out:
  if (lfd >= 0) {
    close(lfd);
  }
  moat_context_free(ctx);
  return status;
}
