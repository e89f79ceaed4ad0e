/* moat server: accept TLS connections and echo what arrives, or answer an
 * HTTP GET with a page describing the connection.  The options and the
 * set-up are here; server_loop.c serves the connections. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "moat.h"
#include "server.h"
#include "tools.h"
#include "util.h"

#define DEFAULT_MAX_CONNS 4096
#define DEFAULT_HS_TIMEOUT_MS 10000
#define DEFAULT_IDLE_TIMEOUT_MS 30000
/* Descriptors kept for everything but connections: stdio, the listening
 * socket, epoll, the key log, files opened while loading. */
#define FD_RESERVE 32

static void server_usage(FILE *f) {
  fprintf(
      f, "usage: moat server --port P --cert F --key F [options]\n"
         "\n"
         "  --port P          port to listen on (0 picks a free one)\n"
         "  --cert F --key F  certificate chain (PEM, leaf first) and key\n"
         "  --password-file F the key's password is the first line of F\n"
         "  --password-env V  ... or the value of the environment variable V\n"
         "                    (without either, an encrypted key's password\n"
         "                    is asked for on the terminal)\n"
         "  --host A          address to listen on (default 127.0.0.1)\n"
         "  --cafile F        CA certificates for client certificates; asks\n"
         "                    for one and checks it when sent\n"
         "  --verify-client   require a valid client certificate\n"
         "  --ocsp-response F staple the OCSP response in F (DER, as openssl\n"
         "                    ocsp -respout writes it) when a client asks\n"
         "  --alpn a,b        application protocols, in preference order\n"
         "  --groups G        key exchange groups, e.g. X25519MLKEM768:P-256\n"
         "  --ciphers S       suites of either version, e.g. "
         "TLS_AES_256_GCM_SHA384\n" UTIL_TLS_VERSION_HELP
         "  --sigalgs L       signature schemes the server may use\n"
         "  --keylog F        append NSS key log lines to F (also "
         "$SSLKEYLOGFILE)\n"
         "  --key-update      send a KeyUpdate (update_requested) after each "
         "handshake\n"
         "  --http            always answer with an HTTP page (also done when\n"
         "                    a client's first bytes are \"GET \")\n"
         "  --max-conns N     connections served at once (default 4096, or\n"
         "                    what the descriptor limit allows); more wait\n"
         "  --handshake-timeout S  seconds a handshake may take in all "
         "(default 10)\n"
         "  --idle-timeout S  seconds of silence that end a connection "
         "(default 30)\n"
         "  --threads N       serve on N threads (default 1)\n"
         "  --once            serve one connection, then exit (status 1 when\n"
         "                    its handshake failed)\n");
}

/* A positive count no larger than max; false for anything else. */
static bool parse_count(const char *s, unsigned long max, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || s[0] == '-' || v < 1 ||
      v > max) {
    return false;
  }
  *out = v;
  return true;
}

/* Seconds (fractions allowed) as milliseconds, 1 ms to a day. */
static bool parse_seconds(const char *s, int *out_ms) {
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || !(v >= 0.001 && v <= 86400)) {
    return false;
  }
  *out_ms = (int)(v * 1000 + 0.5);
  return true;
}

/* The descriptor limit, raised to the hard limit: each connection needs
 * one. */
static size_t fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return 1024;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    struct rlimit up = {rl.rlim_max, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
      rl.rlim_cur = rl.rlim_max;
    }
  }
  return rl.rlim_cur == RLIM_INFINITY ? (size_t)1 << 20 : (size_t)rl.rlim_cur;
}

static bool parse_numbers(struct server_opts *o) {
  unsigned long v = 0;
  o->hs_timeout_ms = DEFAULT_HS_TIMEOUT_MS;
  o->idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
  o->threads = 1;
  if (o->threads_arg != NULL) {
    if (!parse_count(o->threads_arg, 256, &v)) {
      fprintf(stderr, "moat server: bad --threads '%s' (1..256)\n",
              o->threads_arg);
      return false;
    }
    o->threads = (int)v;
  }
  if (o->once && o->threads > 1) {
    fprintf(stderr, "moat server: --once serves one connection: it takes no "
                    "--threads\n");
    return false;
  }
  if (o->hs_timeout_arg != NULL &&
      !parse_seconds(o->hs_timeout_arg, &o->hs_timeout_ms)) {
    fprintf(stderr, "moat server: bad --handshake-timeout '%s' (seconds)\n",
            o->hs_timeout_arg);
    return false;
  }
  if (o->idle_timeout_arg != NULL &&
      !parse_seconds(o->idle_timeout_arg, &o->idle_timeout_ms)) {
    fprintf(stderr, "moat server: bad --idle-timeout '%s' (seconds)\n",
            o->idle_timeout_arg);
    return false;
  }
  size_t fds = fd_limit();
  size_t room = fds > 2 * FD_RESERVE ? fds - FD_RESERVE : FD_RESERVE;
  if (o->max_conns_arg == NULL) {
    o->max_conns = DEFAULT_MAX_CONNS < room ? DEFAULT_MAX_CONNS : room;
    return true;
  }
  if (!parse_count(o->max_conns_arg, 1000000, &v)) {
    fprintf(stderr, "moat server: bad --max-conns '%s' (1..1000000)\n",
            o->max_conns_arg);
    return false;
  }
  o->max_conns = v;
  if (v > room) {
    fprintf(stderr,
            "moat server: note: --max-conns %lu is more than the %zu "
            "descriptors allowed (ulimit -n) leave room for; accept will "
            "fail above that and pause\n",
            v, fds);
  }
  return true;
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
      {"--ocsp-response", &o->ocsp_response, NULL},
      {"--alpn", &o->tls.alpn, NULL},
      {"--groups", &o->tls.groups, NULL},
      {"--ciphers", &o->tls.ciphers, NULL},
      {"--sigalgs", &o->tls.sigalgs, NULL},
      UTIL_TLS_VERSION_OPTS(&o->tls),
      {"--keylog", &o->tls.keylog, NULL},
      {"--max-conns", &o->max_conns_arg, NULL},
      {"--threads", &o->threads_arg, NULL},
      {"--handshake-timeout", &o->hs_timeout_arg, NULL},
      {"--idle-timeout", &o->idle_timeout_arg, NULL},
      {"--password-file", &o->password_file, NULL},
      {"--password-env", &o->password_env, NULL},
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
  return parse_numbers(o);
}

static bool configure(moat_context *ctx, const struct server_opts *o) {
  util_password pw = {.file = o->password_file, .env = o->password_env};
  if (!util_load_cert_chain("server", ctx, o->cert, o->key, &pw)) {
    return false;
  }
  moat_err e;
  if (o->ocsp_response != NULL) {
    uint8_t *der;
    size_t len;
    if (!util_read_file("server", o->ocsp_response, 1 << 20, &der, &len)) {
      return false;
    }
    e = moat_context_set_ocsp_response(ctx, der, len);
    free(der);
    if (e != MOAT_OK) {
      return util_setup_fail("server", ctx, "cannot staple OCSP response",
                             o->ocsp_response, e);
    }
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
  util_set_nonblocking(lfd, true);
  printf("listening on %s:%d\n", o.host, bound);
  fflush(stdout);
  status = server_run(ctx, &o, lfd);
out:
  if (lfd >= 0) {
    close(lfd);
  }
  moat_context_free(ctx);
  return status;
}
