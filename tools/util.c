/* Helpers shared by the moat subcommands. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

bool util_split_hostport(const char *in, char *host, size_t host_cap,
                         char *port, size_t port_cap) {
  const char *colon;
  const char *h = in;
  size_t hlen;
  if (in[0] == '[') {
    const char *close = strchr(in, ']');
    if (close == NULL || close[1] != ':') {
      return false;
    }
    h = in + 1;
    hlen = (size_t)(close - h);
    colon = close + 1;
  } else {
    colon = strrchr(in, ':');
    if (colon == NULL) {
      return false;
    }
    hlen = (size_t)(colon - in);
  }
  size_t plen = strlen(colon + 1);
  if (hlen == 0 || hlen >= host_cap || plen == 0 || plen >= port_cap) {
    return false;
  }
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  memcpy(port, colon + 1, plen + 1);
  return true;
}

int64_t util_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool util_set_nonblocking(int fd, bool on) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) {
    return false;
  }
  fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  return fcntl(fd, F_SETFL, fl) == 0;
}

/* Waits for a non-blocking connect() to finish. */
static int finish_connect(int fd, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int r;
  do {
    r = poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r == 0) {
    return ETIMEDOUT;
  }
  if (r < 0) {
    return errno;
  }
  int soerr = 0;
  socklen_t sl = sizeof(soerr);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) {
    return errno;
  }
  return soerr;
}

int util_tcp_connect(const char *host, const char *port, int timeout_ms,
                     char *err, size_t err_cap) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0) {
    snprintf(err, err_cap, "cannot resolve %s:%s: %s", host, port,
             gai_strerror(gai));
    return -1;
  }
  int fd = -1;
  int last = 0;
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = errno;
      continue;
    }
    util_set_nonblocking(fd, true);
    int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    last = r == 0 ? 0 : errno;
    if (r != 0 && errno == EINPROGRESS) {
      last = finish_connect(fd, timeout_ms);
    }
    if (last == 0) {
      break;
    }
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(err, err_cap, "cannot connect to %s:%s: %s", host, port,
             strerror(last));
  }
  return fd;
}

int util_tcp_listen(const char *host, int port, int *out_port, char *err,
                    size_t err_cap) {
  struct addrinfo hints, *res = NULL;
  char portstr[16];
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  snprintf(portstr, sizeof(portstr), "%d", port);
  int gai = getaddrinfo(host, portstr, &hints, &res);
  if (gai != 0) {
    snprintf(err, err_cap, "bad listen address %s: %s", host,
             gai_strerror(gai));
    return -1;
  }
  /* A name ("localhost") may give several addresses: the first that
   * binds is used. */
  int fd = -1;
  int last = 0;
  for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
      last = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(err, err_cap, "cannot listen on %s:%d: %s", host, port,
             strerror(last));
    return -1;
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);
  *out_port = port;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
    if (ss.ss_family == AF_INET) {
      *out_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      *out_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
  }
  return fd;
}

enum { ALPN_MAX_PROTOS = 16 };

const char *util_alpn_problem(const char *csv) {
  size_t n = 1;
  if (csv[0] == '\0') {
    return "the list is empty";
  }
  for (const char *p = csv; *p != '\0'; p++) {
    if (*p == ',') {
      n++;
    }
    if (*p == ',' && (p == csv || p[1] == ',' || p[1] == '\0')) {
      return "a protocol name is empty";
    }
  }
  if (n > ALPN_MAX_PROTOS) {
    return "more than 16 protocols";
  }
  return NULL;
}

moat_err util_set_alpn(moat_context *ctx, const char *csv) {
  const char *protos[ALPN_MAX_PROTOS];
  size_t n = 0;
  moat_err err = MOAT_ERR_INVALID_ARGUMENT;
  if (util_alpn_problem(csv) != NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  char *copy = strdup(csv);
  if (copy == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
       tok = strtok_r(NULL, ",", &save)) {
    if (n == ALPN_MAX_PROTOS) {
      goto out;
    }
    protos[n++] = tok;
  }
  if (n > 0) {
    err = moat_context_set_alpn_protocols(ctx, protos, n);
  }
out:
  free(copy);
  return err;
}

static bool is_want(moat_err e) {
  return e == MOAT_ERR_WANT_READ || e == MOAT_ERR_WANT_WRITE;
}

moat_err util_drive(moat_conn *conn, int fd, util_step_fn step, void *arg,
                    int64_t deadline_ms) {
  for (;;) {
    moat_err e = step(conn, arg);
    if (!is_want(e)) {
      return e;
    }
    struct pollfd p = {.fd = fd, .events = 0};
    if (e == MOAT_ERR_WANT_READ) {
      p.events |= POLLIN;
    }
    /* Output the transport could not take yet also needs writability. */
    if (e == MOAT_ERR_WANT_WRITE || moat_conn_pending_output(conn) > 0) {
      p.events |= POLLOUT;
    }
    int wait = -1;
    if (deadline_ms > 0) {
      int64_t left = deadline_ms - util_now_ms();
      if (left <= 0) {
        return e;
      }
      wait = left > 60000 ? 60000 : (int)left;
    }
    int r = poll(&p, 1, wait);
    if (r < 0 && errno != EINTR) {
      return MOAT_ERR_SYSCALL;
    }
  }
}

moat_err util_step_handshake(moat_conn *conn, void *arg) {
  (void)arg;
  return moat_conn_handshake(conn);
}

moat_err util_step_shutdown(moat_conn *conn, void *arg) {
  (void)arg;
  return moat_conn_shutdown(conn);
}

/* A transport that sends through another one and never receives. */
struct send_only {
  const moat_transport *inner;
  void *inner_arg;
};

static long send_only_send(void *arg, const uint8_t *data, size_t len,
                           bool *out_would_block) {
  struct send_only *so = arg;
  return so->inner->send(so->inner_arg, data, len, out_would_block);
}

static long send_only_recv(void *arg, uint8_t *out, size_t cap,
                           bool *out_would_block) {
  (void)arg;
  (void)out;
  (void)cap;
  *out_would_block = true;
  return -1;
}

moat_err util_send_close_notify(moat_conn *conn) {
  static const moat_transport send_only_transport = {
      .send = send_only_send,
      .recv = send_only_recv,
  };
  struct send_only so;
  so.inner = moat_conn_get_transport(conn, &so.inner_arg);
  if (so.inner == NULL) {
    return moat_conn_shutdown(conn);
  }
  int fd = moat_conn_fd(conn);
  if (fd >= 0) {
    util_set_nonblocking(fd, false); /* let the alert go out whole */
  }
  moat_err e = moat_conn_set_transport(conn, &send_only_transport, &so);
  if (e == MOAT_OK) {
    e = moat_conn_shutdown(conn);
    moat_conn_set_transport(conn, so.inner, so.inner_arg);
  }
  if (fd >= 0) {
    util_set_nonblocking(fd, true);
  }
  return e;
}

moat_err util_write_all(moat_conn *conn, int fd, const uint8_t *data,
                        size_t len) {
  size_t written = 0;
  util_set_nonblocking(fd, false);
  moat_err e = moat_conn_write(conn, data, len, &written);
  util_set_nonblocking(fd, true);
  if (e == MOAT_OK && written != len) {
    return MOAT_ERR_INTERNAL;
  }
  return e;
}

void util_wipe(void *p, size_t len) {
  if (p != NULL && len > 0) {
    explicit_bzero(p, len);
  }
}

const char *util_or_dash(const char *s) {
  return s == NULL || s[0] == '\0' ? "-" : s;
}

void util_cert_subject(const uint8_t *der, size_t len, bool issuer, char *out,
                       size_t cap) {
  moat_cert *c = NULL;
  snprintf(out, cap, "?");
  if (moat_cert_from_der(der, len, &c) != MOAT_OK || c == NULL) {
    return;
  }
  if (issuer) {
    moat_cert_issuer(c, out, cap);
  } else {
    moat_cert_subject(c, out, cap);
  }
  moat_cert_free(c);
}

/* With verification off (--insecure) the handshake checked nothing: say
 * so, and what a check of the same chain and name would have found. */
static void print_skipped_verify(FILE *f, const moat_conn *conn,
                                 const char *name, const char *indent) {
  const uint8_t *ders[16];
  size_t lens[16], n = 0;
  for (size_t i = 0; i < moat_conn_peer_chain_len(conn) && n < 16; i++) {
    if (moat_conn_peer_cert_der(conn, i, &ders[n], &lens[n]) == MOAT_OK) {
      n++;
    }
  }
  if (n == 0) {
    fprintf(f,
            "%sverify: skipped (verification is off; no certificate was "
            "sent)\n",
            indent);
    return;
  }
  moat_verify_result *r = NULL;
  moat_err e =
      moat_verify_chain(moat_conn_context(conn), ders, lens, n, name, &r);
  if (r == NULL) {
    fprintf(f, "%sverify: skipped (verification is off)\n", indent);
  } else if (e == MOAT_OK) {
    fprintf(f,
            "%sverify: skipped (verification is off); it would have "
            "passed\n",
            indent);
  } else {
    fprintf(f,
            "%sverify: skipped (verification is off); it would have failed: "
            "%s (code %ld)\n",
            indent, moat_verify_result_message(r), moat_verify_result_code(r));
  }
  moat_verify_result_free(r);
}

void util_print_params(FILE *f, const moat_conn *conn, const char *name,
                       const char *indent) {
  fprintf(f, "%sversion: %s\n", indent,
          util_or_dash(moat_conn_version_name(conn)));
  fprintf(f, "%scipher: %s\n", indent,
          util_or_dash(moat_conn_cipher_name(conn)));
  fprintf(f, "%scipher-openssl: %s\n", indent,
          util_or_dash(moat_conn_cipher_openssl_name(conn)));
  fprintf(f, "%scipher-bits: %d\n", indent, moat_conn_cipher_bits(conn));
  fprintf(f, "%sgroup: %s\n", indent, util_or_dash(moat_conn_group_name(conn)));
  fprintf(f, "%speer-signature: %s\n", indent,
          util_or_dash(moat_conn_peer_sigalg_name(conn)));
  fprintf(f, "%sown-signature: %s\n", indent,
          util_or_dash(moat_conn_sigalg_name(conn)));
  fprintf(f, "%salpn: %s\n", indent, util_or_dash(moat_conn_alpn(conn)));
  fprintf(f, "%speer-cert-compression: %s\n", indent,
          util_or_dash(moat_cert_compression_name(
              moat_conn_peer_cert_compression(conn))));
  fprintf(f, "%sown-cert-compression: %s\n", indent,
          util_or_dash(
              moat_cert_compression_name(moat_conn_cert_compression(conn))));
  fprintf(f, "%speer-record-size-limit: %zu\n", indent,
          moat_conn_peer_record_size_limit(conn));
  fprintf(f, "%sown-record-size-limit: %zu\n", indent,
          moat_conn_record_size_limit(conn));
  fprintf(f, "%sresumed: %s\n", indent,
          moat_conn_session_reused(conn) ? "yes" : "no");
  fprintf(f, "%shello-retry: %s\n", indent,
          moat_conn_hello_retry(conn) ? "yes" : "no");
  long vc = moat_conn_verify_code(conn);
  if (moat_context_verify_mode(moat_conn_context(conn)) == MOAT_VERIFY_NONE) {
    print_skipped_verify(f, conn, name, indent);
  } else {
    fprintf(f, "%sverify: %ld (%s)\n", indent, vc,
            util_or_dash(moat_conn_verify_message(conn)));
  }
  util_print_chain(f, conn, indent);
}

void util_print_chain(FILE *f, const moat_conn *conn, const char *indent) {
  size_t n = moat_conn_peer_chain_len(conn);
  fprintf(f, "%speer-chain: %zu certificate%s\n", indent, n, n == 1 ? "" : "s");
  for (size_t i = 0; i < n; i++) {
    const uint8_t *der = NULL;
    size_t len = 0;
    char subj[512], iss[512];
    if (moat_conn_peer_cert_der(conn, i, &der, &len) != MOAT_OK) {
      continue;
    }
    util_cert_subject(der, len, false, subj, sizeof(subj));
    util_cert_subject(der, len, true, iss, sizeof(iss));
    fprintf(f, "%s  %zu subject: %s\n", indent, i, subj);
    fprintf(f, "%s  %zu issuer: %s\n", indent, i, iss);
  }
}

void util_describe_error(const moat_conn *conn, moat_err err, char *out,
                         size_t cap) {
  int alert = 0;
  bool by_us = false;
  char alert_txt[96] = "";
  const char *detail = conn != NULL ? moat_conn_error_detail(conn) : NULL;
  if (conn != NULL && moat_conn_alert(conn, &alert, &by_us) &&
      (detail == NULL || moat_alert_name(alert) == NULL ||
       strstr(detail, moat_alert_name(alert)) == NULL)) {
    snprintf(alert_txt, sizeof(alert_txt), "; alert %s (%d) %s",
             util_or_dash(moat_alert_name(alert)), alert,
             by_us ? "sent" : "received");
  }
  char verify_txt[320] = "";
  long vc = conn != NULL ? moat_conn_verify_code(conn) : 0;
  const char *vmsg = conn != NULL ? moat_conn_verify_message(conn) : NULL;
  if (vc != 0 && vmsg != NULL && detail != NULL && strstr(detail, vmsg)) {
    snprintf(verify_txt, sizeof(verify_txt), "; verify result %ld", vc);
  } else if (vc != 0) {
    snprintf(verify_txt, sizeof(verify_txt), "; verify result %ld (%s)", vc,
             util_or_dash(vmsg));
  }
  /* The detail, when there is one, already says more than the message. */
  snprintf(out, cap, "%s [%s]: %s%s%s", moat_err_name(err),
           moat_err_class_name(moat_err_get_class(err)),
           detail != NULL && detail[0] ? detail : moat_err_message(err),
           verify_txt, alert_txt);
}

bool util_parse_opts(const char *cmd, int argc, char **argv,
                     const util_opt *opts, size_t num_opts,
                     const char **positional) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const util_opt *o = NULL;
    for (size_t k = 0; k < num_opts; k++) {
      if (strcmp(a, opts[k].name) == 0) {
        o = &opts[k];
      }
    }
    if (o == NULL) {
      if (a[0] != '-' && positional != NULL && *positional == NULL) {
        *positional = a;
        continue;
      }
      fprintf(stderr, "moat %s: %s '%s'\n", cmd,
              a[0] == '-' ? "unknown option" : "unexpected argument", a);
      return false;
    }
    if (o->flag != NULL) {
      *o->flag = true;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "moat %s: %s needs a value\n", cmd, a);
      return false;
    }
    *o->value = argv[++i];
  }
  return true;
}

bool util_setup_fail(const char *cmd, const moat_context *ctx, const char *what,
                     const char *arg, moat_err e) {
  const char *detail = ctx ? moat_context_error_detail(ctx) : "";
  fprintf(stderr, "moat %s: %s%s%s: %s (%s)%s%s\n", cmd, what, arg ? " " : "",
          arg ? arg : "", moat_err_name(e), moat_err_message(e),
          detail[0] ? ": " : "", detail);
  return false;
}

/* "1.2" / "1.3" (or "tls1.2", "TLSv1.3") as a version number, 0 if
 * neither. */
static int parse_version(const char *v) {
  if (strncasecmp(v, "tlsv", 4) == 0) {
    v += 4;
  } else if (strncasecmp(v, "tls", 3) == 0) {
    v += 3;
  }
  return strcmp(v, "1.2") == 0   ? MOAT_TLS1_2
         : strcmp(v, "1.3") == 0 ? MOAT_TLS1_3
                                 : 0;
}

static bool configure_versions(const char *cmd, moat_context *ctx,
                               const util_tls_opts *o) {
  if (o->tls12_only && o->tls13_only) {
    fprintf(stderr, "moat %s: --tls1.2 and --tls1.3 exclude each other\n", cmd);
    return false;
  }
  int lo = o->tls13_only ? MOAT_TLS1_3 : o->tls12_only ? MOAT_TLS1_2 : 0;
  int hi = o->tls12_only ? MOAT_TLS1_2 : o->tls13_only ? MOAT_TLS1_3 : 0;
  const char *vals[2] = {o->min_version, o->max_version};
  const char *names[2] = {"--min-version", "--max-version"};
  int *outs[2] = {&lo, &hi};
  for (int i = 0; i < 2; i++) {
    if (vals[i] == NULL) {
      continue;
    }
    int v = parse_version(vals[i]);
    if (v == 0) {
      fprintf(stderr,
              "moat %s: bad %s '%s': moat speaks 1.2 and 1.3 (SSL 3.0, TLS "
              "1.0 and 1.1 are refused on purpose)\n",
              cmd, names[i], vals[i]);
      return false;
    }
    *outs[i] = v;
  }
  if (lo != 0 && hi != 0 && lo > hi) {
    fprintf(stderr, "moat %s: the minimum version is above the maximum\n", cmd);
    return false;
  }
  moat_err e;
  if (lo != 0 && (e = moat_context_set_min_version(ctx, lo))) {
    return util_setup_fail(cmd, ctx, "bad minimum version", NULL, e);
  }
  if (hi != 0 && (e = moat_context_set_max_version(ctx, hi))) {
    return util_setup_fail(cmd, ctx, "bad maximum version", NULL, e);
  }
  if (o->no_ticket) {
    moat_context_set_session_tickets(ctx, false);
  }
  return true;
}

bool util_configure_tls(const char *cmd, moat_context *ctx,
                        const util_tls_opts *o) {
  moat_err e;
  if (!configure_versions(cmd, ctx, o)) {
    return false;
  }
  if (o->ciphers && (e = moat_context_set_ciphersuites(ctx, o->ciphers))) {
    return util_setup_fail(cmd, ctx, "bad --ciphers", o->ciphers, e);
  }
  if (o->groups && (e = moat_context_set_groups(ctx, o->groups))) {
    return util_setup_fail(cmd, ctx, "bad --groups", o->groups, e);
  }
  if (o->sigalgs && (e = moat_context_set_sigalgs(ctx, o->sigalgs))) {
    return util_setup_fail(cmd, ctx, "bad --sigalgs", o->sigalgs, e);
  }
  const char *cc = o->cert_compression;
  if (cc != NULL && (e = moat_context_set_cert_compression(
                         ctx, strcmp(cc, "none") == 0 ? "" : cc)) != MOAT_OK) {
    return util_setup_fail(cmd, ctx, "bad --cert-compression", cc, e);
  }
  const char *rsl = o->record_size_limit;
  if (rsl != NULL) {
    char *end = NULL;
    unsigned long v = strtoul(rsl, &end, 10);
    if (end == rsl || *end != '\0' || v > 65535) {
      fprintf(stderr, "moat %s: bad --record-size-limit '%s' (64..16385)\n",
              cmd, rsl);
      return false;
    }
    if ((e = moat_context_set_record_size_limit(ctx, v)) != MOAT_OK) {
      return util_setup_fail(cmd, ctx, "bad --record-size-limit", rsl, e);
    }
  }
  const char *why = o->alpn ? util_alpn_problem(o->alpn) : NULL;
  if (why != NULL) {
    fprintf(stderr,
            "moat %s: bad --alpn '%s': %s (a,b,... of 1..255-byte "
            "names)\n",
            cmd, o->alpn, why);
    return false;
  }
  if (o->alpn && (e = util_set_alpn(ctx, o->alpn))) {
    return util_setup_fail(cmd, ctx, "bad --alpn", o->alpn, e);
  }
  const char *keylog = o->keylog ? o->keylog : getenv("SSLKEYLOGFILE");
  if (keylog && keylog[0] && (e = moat_context_set_keylog_file(ctx, keylog))) {
    return util_setup_fail(cmd, ctx, "cannot open key log", keylog, e);
  }
  return true;
}

moat_err util_key_update(moat_conn *conn, int fd) {
  util_set_nonblocking(fd, false);
  moat_err e = moat_conn_key_update(conn, true);
  util_set_nonblocking(fd, true);
  return e;
}

bool util_read_file(const char *cmd, const char *path, size_t max,
                    uint8_t **out, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "moat %s: cannot open %s: %s\n", cmd, path,
            strerror(errno));
    return false;
  }
  size_t cap = 65536, len = 0;
  uint8_t *buf = malloc(cap);
  while (buf != NULL) {
    len += fread(buf + len, 1, cap - len, f);
    if (len < cap || cap >= max) {
      break;
    }
    /* Grow by copying, so that no stale copy of the bytes is left. */
    uint8_t *bigger = malloc(cap * 2);
    if (bigger != NULL) {
      memcpy(bigger, buf, len);
    }
    util_wipe(buf, len);
    free(buf);
    buf = bigger;
    cap *= 2;
  }
  bool bad = buf == NULL || ferror(f) || (len == cap && !feof(f));
  fclose(f);
  if (bad) {
    fprintf(stderr, "moat %s: cannot read %s: %s\n", cmd, path,
            buf == NULL ? "out of memory" : "read error or too large");
    if (buf != NULL) {
      util_wipe(buf, len);
      free(buf);
    }
    return false;
  }
  *out = buf;
  *out_len = len;
  return true;
}

/* Hands fn a malloc'd copy of a certificate's DER. */
static bool give_der(util_cert_fn fn, void *arg, const uint8_t *der,
                     size_t len) {
  uint8_t *copy = malloc(len);
  if (copy == NULL) {
    return false;
  }
  memcpy(copy, der, len);
  return fn(arg, copy, len);
}

bool util_each_cert(const char *cmd, const char *path, util_cert_fn fn,
                    void *arg) {
  uint8_t *data;
  size_t len;
  char why[256];
  if (!util_read_file(cmd, path, (size_t)16 << 20, &data, &len)) {
    return false;
  }
  bool ok = true;
  if (len == 0) {
    fprintf(stderr, "moat %s: %s: the file is empty\n", cmd, path);
    ok = false;
  } else if (memmem(data, len, "-----BEGIN ", 11) == NULL) {
    /* One DER certificate, or so we hope: the file may as well be a DER
     * private key, so fn gets a copy and the file's bytes are wiped. */
    moat_err e = moat_cert_check_der(data, len, why, sizeof(why));
    if (e != MOAT_OK) {
      fprintf(stderr,
              "moat %s: %s: not PEM, and cannot parse it as a DER "
              "certificate: %s\n",
              cmd, path, why);
      ok = false;
    } else {
      ok = give_der(fn, arg, data, len);
    }
  } else {
    /* Other blocks (a private key kept in the same file, say) are
     * skipped; the file's bytes are wiped when freed. */
    size_t off = 0, found = 0;
    for (;;) {
      moat_cert *c = NULL;
      moat_err e = moat_cert_from_pem_next(data, len, &off, &c);
      if (e != MOAT_OK) {
        fprintf(stderr, "moat %s: %s: certificate %zu: cannot parse: %s (%s)\n",
                cmd, path, found, moat_err_message(e), moat_err_name(e));
        ok = false;
        break;
      }
      if (c == NULL) {
        break;
      }
      const uint8_t *der;
      size_t der_len;
      moat_cert_der(c, &der, &der_len);
      found++;
      ok = give_der(fn, arg, der, der_len);
      moat_cert_free(c);
      if (!ok) {
        break;
      }
    }
    if (ok && found == 0) {
      fprintf(stderr, "moat %s: %s: no certificate in the file\n", cmd, path);
      ok = false;
    }
  }
  util_wipe(data, len);
  free(data);
  return ok;
}

/* Reads one line into out (without its end of line); the length or -1. */
static int read_line(int fd, char *out, size_t cap) {
  size_t n = 0;
  for (;;) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0 || c == '\n') {
      break;
    }
    if (n + 1 >= cap) {
      return -1;
    }
    out[n++] = c;
  }
  if (n > 0 && out[n - 1] == '\r') {
    n--;
  }
  out[n] = '\0';
  return (int)n;
}

static int password_from_file(util_password *pw) {
  int fd = open(pw->file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "moat %s: cannot open --password-file %s: %s\n", pw->cmd,
            pw->file, strerror(errno));
    return -1;
  }
  int n = read_line(fd, pw->got, sizeof(pw->got));
  close(fd);
  if (n < 0) {
    fprintf(stderr, "moat %s: --password-file %s: the first line is too long\n",
            pw->cmd, pw->file);
  }
  return n;
}

static int password_from_env(util_password *pw) {
  const char *v = getenv(pw->env);
  if (v == NULL) {
    fprintf(stderr, "moat %s: --password-env %s: the variable is not set\n",
            pw->cmd, pw->env);
    return -1;
  }
  size_t n = strlen(v);
  if (n >= sizeof(pw->got)) {
    fprintf(stderr, "moat %s: --password-env %s: the value is too long\n",
            pw->cmd, pw->env);
    return -1;
  }
  memcpy(pw->got, v, n + 1);
  return (int)n;
}

static int password_from_tty(util_password *pw) {
  int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    fprintf(stderr,
            "moat %s: %s is encrypted and there is no terminal to ask for "
            "its password: give --password-file F or --password-env VAR\n",
            pw->cmd, pw->keyfile);
    return -1;
  }
  /* Echo goes off before the prompt appears: what is typed after it is
   * neither shown nor flushed away. */
  struct termios old, quiet;
  bool restore = tcgetattr(fd, &old) == 0;
  if (restore) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  char prompt[600];
  int plen = snprintf(prompt, sizeof(prompt), "Password for %s: ", pw->keyfile);
  int n = -1;
  if (plen > 0 && write(fd, prompt, (size_t)plen) == plen) {
    n = read_line(fd, pw->got, sizeof(pw->got));
  }
  if (restore) {
    tcsetattr(fd, TCSANOW, &old);
  }
  ssize_t w = write(fd, "\n", 1); /* cosmetic: the echo was off */
  (void)w;
  close(fd);
  return n;
}

static int password_cb(void *arg, char *buf, size_t cap) {
  util_password *pw = arg;
  /* libcrypto may ask more than once for one key: ask the user once. */
  if (pw->got_len < 0) {
    pw->got_len = pw->file  ? password_from_file(pw)
                  : pw->env ? password_from_env(pw)
                            : password_from_tty(pw);
    if (pw->got_len < 0) {
      pw->got_len = -2; /* failed: do not ask again */
    }
  }
  if (pw->got_len < 0 || (size_t)pw->got_len > cap) {
    return -1;
  }
  memcpy(buf, pw->got, (size_t)pw->got_len);
  return pw->got_len;
}

bool util_password_setup(moat_context *ctx, util_password *pw) {
  pw->got_len = -1;
  if (pw->file != NULL && pw->env != NULL) {
    fprintf(stderr, "moat %s: give one of --password-file and --password-env\n",
            pw->cmd);
    return false;
  }
  moat_context_set_password_cb(ctx, password_cb, pw);
  return true;
}

void util_password_clear(util_password *pw) {
  util_wipe(pw->got, sizeof(pw->got));
  pw->got_len = -1;
}

bool util_load_cert_chain(const char *cmd, moat_context *ctx, const char *cert,
                          const char *key, util_password *pw) {
  pw->cmd = cmd;
  pw->keyfile = key != NULL ? key : cert;
  if (!util_password_setup(ctx, pw)) {
    return false;
  }
  moat_err e = moat_context_load_cert_chain(ctx, cert, key, NULL);
  moat_context_set_password_cb(ctx, NULL, NULL);
  util_password_clear(pw);
  if (e != MOAT_OK) {
    return util_setup_fail(cmd, ctx, "cannot load certificate/key", cert, e);
  }
  return true;
}

bool util_parse_time(const char *s, int64_t *out) {
  int y, mo, d, h = 0, mi = 0, se = 0;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (*end == '\0' && end != s) {
    *out = v;
    return true;
  }
  int used = 0;
  int n = sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used); /* date, then time */
  if (n == 3 && s[used] == 'T') {
    int more = 0;
    n += sscanf(s + used, "T%2d:%2d:%2d%n", &h, &mi, &se, &more);
    used += more;
  }
  /* A date or a full date and time, nothing after, fields in range. */
  if ((n != 3 && n != 6) || (n == 3 && s[used] != '\0') ||
      (n == 6 && (s[used] != '\0' || used == 0)) || mo < 1 || mo > 12 ||
      d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
      se > 60 || y < 0) {
    return false;
  }
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  *out = (int64_t)timegm(&tm);
  return true;
}
