/* moat client HOST:PORT: connect, handshake, print the negotiated
 * parameters on stderr, then relay stdin to the server and the server's
 * data to stdout until either side ends. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moat.h"
#include "tools.h"
#include "util.h"

#define HANDSHAKE_TIMEOUT_MS 20000
#define DRAIN_TIMEOUT_MS 10000
#define READ_BUF_MAX 16384

struct client_opts {
  const char *addr;
  const char *cafile;
  const char *servername;
  const char *cert;
  const char *key;
  util_tls_opts tls;
  const char *crl;
  const char *sess_in;
  const char *sess_out;
  const char *read_size;
  const char *export_spec; /* --export LABEL:LEN */
  const char *password_file;
  const char *password_env;
  const char *ocsp; /* --ocsp request|require */
  size_t read_cap;  /* bytes asked of each moat_conn_read */
  bool insecure;
  bool key_update;
  bool quiet;
};

static void client_usage(FILE *f) {
  fprintf(
      f, "usage: moat client HOST:PORT [options]\n"
         "\n"
         "  --cafile F        trust only the CA certificates in F (PEM)\n"
         "  --servername N    SNI and the name checked (default: HOST)\n"
         "  --alpn a,b        offer these application protocols\n"
         "  --cert F --key F  client certificate chain and private key\n"
         "  --password-file F the key's password is the first line of F\n"
         "  --password-env V  ... or the value of the environment variable V\n"
         "                    (else asked for on the terminal)\n"
         "  --insecure        do not verify the server's certificate\n"
         "  --groups G        key exchange groups, e.g. X25519MLKEM768:X25519\n"
         "  --ciphers S       suites of either version, e.g. "
         "TLS_AES_128_GCM_SHA256\n" UTIL_TLS_VERSION_HELP
         "  --sigalgs L       signature schemes, e.g. ed25519:"
         "rsa_pss_rsae_sha256\n"
         "  --keylog F        append NSS key log lines to F (also "
         "$SSLKEYLOGFILE)\n"
         "  --crl F           check the server certificate against the CRLs "
         "in F\n"
         "  --ocsp request    ask for a stapled OCSP response and check it\n"
         "                    (refused or revoked fails the handshake)\n"
         "  --ocsp require    ... and fail unless it says good\n"
         "  --sess-out F      save the session (ticket) to F when done\n"
         "  --sess-in F       resume the session saved in F\n"
         "  --key-update      send a KeyUpdate (update_requested) after the "
         "handshake\n"
         "  --read-size N     read application data N bytes at a time "
         "(1..16384)\n"
         "  --quiet           do not print the handshake parameters\n"
         "  --export L:N      print N bytes exported with label L (RFC 5705 /\n"
         "                    RFC 8446 7.5, no context)\n");
}

static bool parse_opts(int argc, char **argv, struct client_opts *o) {
  memset(o, 0, sizeof(*o));
  const util_opt opts[] = {
      {"--insecure", NULL, &o->insecure},
      {"--key-update", NULL, &o->key_update},
      {"--quiet", NULL, &o->quiet},
      {"--cafile", &o->cafile, NULL},
      {"--servername", &o->servername, NULL},
      {"--alpn", &o->tls.alpn, NULL},
      {"--cert", &o->cert, NULL},
      {"--key", &o->key, NULL},
      {"--groups", &o->tls.groups, NULL},
      {"--ciphers", &o->tls.ciphers, NULL},
      {"--sigalgs", &o->tls.sigalgs, NULL},
      UTIL_TLS_VERSION_OPTS(&o->tls),
      {"--keylog", &o->tls.keylog, NULL},
      {"--crl", &o->crl, NULL},
      {"--ocsp", &o->ocsp, NULL},
      {"--sess-in", &o->sess_in, NULL},
      {"--sess-out", &o->sess_out, NULL},
      {"--read-size", &o->read_size, NULL},
      {"--export", &o->export_spec, NULL},
      {"--password-file", &o->password_file, NULL},
      {"--password-env", &o->password_env, NULL},
  };
  if (!util_parse_opts("client", argc, argv, opts,
                       sizeof(opts) / sizeof(opts[0]), &o->addr)) {
    return false;
  }
  if (o->addr == NULL) {
    fprintf(stderr, "moat client: missing HOST:PORT\n");
    return false;
  }
  if ((o->cert == NULL) != (o->key == NULL)) {
    fprintf(stderr, "moat client: --cert and --key go together\n");
    return false;
  }
  o->read_cap = READ_BUF_MAX;
  if (o->read_size != NULL) {
    char *end = NULL;
    unsigned long v = strtoul(o->read_size, &end, 10);
    if (end == o->read_size || *end != '\0' || v < 1 || v > READ_BUF_MAX) {
      fprintf(stderr, "moat client: bad --read-size '%s' (1..%d)\n",
              o->read_size, READ_BUF_MAX);
      return false;
    }
    o->read_cap = v;
  }
  return true;
}

static bool configure(moat_context *ctx, const struct client_opts *o) {
  moat_err e;
  if (o->crl != NULL) {
    e = moat_context_load_verify_locations(ctx, o->crl, NULL, NULL, 0);
    if (e != MOAT_OK) {
      return util_setup_fail("client", ctx, "cannot load CRL file", o->crl, e);
    }
    moat_context_set_verify_flags(ctx, moat_context_verify_flags(ctx) |
                                           MOAT_VERIFY_CRL_CHECK_LEAF);
  }
  if (o->cafile != NULL) {
    e = moat_context_load_verify_locations(ctx, o->cafile, NULL, NULL, 0);
    if (e != MOAT_OK) {
      return util_setup_fail("client", ctx, "cannot load CA file", o->cafile,
                             e);
    }
  }
  if (o->ocsp != NULL) {
    if (strcmp(o->ocsp, "request") != 0 && strcmp(o->ocsp, "require") != 0) {
      fprintf(stderr, "moat client: bad --ocsp '%s' (request or require)\n",
              o->ocsp);
      return false;
    }
    moat_context_set_ocsp_stapling(ctx, strcmp(o->ocsp, "require") == 0
                                            ? MOAT_OCSP_STAPLING_REQUIRE
                                            : MOAT_OCSP_STAPLING_REQUEST);
  }
  if (o->insecure) {
    moat_context_set_check_hostname(ctx, false);
    moat_context_set_verify_mode(ctx, MOAT_VERIFY_NONE);
  }
  util_password pw = {.file = o->password_file, .env = o->password_env};
  if (o->cert && !util_load_cert_chain("client", ctx, o->cert, o->key, &pw)) {
    return false;
  }
  return util_configure_tls("client", ctx, &o->tls);
}

/* Sessions travel between runs as the bytes of moat_session_to_bytes: the
 * session's state (under 100 bytes), then the server's ticket, which may
 * be up to 2^16-1 bytes long (RFC 8446 4.6.1). */
#define SESSION_FILE_MAX (256 + 65535)

static moat_err load_session(moat_conn *conn, const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "moat client: cannot open session file %s: %s\n", path,
            strerror(errno));
    return MOAT_ERR_FILE_ERROR;
  }
  uint8_t *buf = malloc(SESSION_FILE_MAX + 1);
  if (buf == NULL) {
    fclose(f);
    return MOAT_ERR_NO_MEMORY;
  }
  size_t n = fread(buf, 1, SESSION_FILE_MAX + 1, f);
  bool read_err = ferror(f) != 0;
  fclose(f);
  moat_session *s = NULL;
  moat_err e = MOAT_ERR_FILE_ERROR;
  if (read_err) {
    fprintf(stderr, "moat client: cannot read session file %s\n", path);
  } else if (n > SESSION_FILE_MAX) {
    fprintf(stderr,
            "moat client: %s is larger than a session can be (%d bytes)\n",
            path, SESSION_FILE_MAX);
  } else if ((e = moat_session_from_bytes(buf, n, &s)) != MOAT_OK) {
    fprintf(stderr, "moat client: %s does not hold a moat session (%s)\n", path,
            moat_err_name(e));
  }
  util_wipe(buf, SESSION_FILE_MAX + 1); /* the session's PSK */
  free(buf);
  if (s == NULL) {
    return e;
  }
  e = moat_conn_set_session(conn, s);
  moat_session_free(s);
  return e;
}

static int save_session(moat_conn *conn, const char *path) {
  moat_session *s = moat_conn_get_session(conn);
  if (s == NULL) {
    if (moat_conn_version(conn) == MOAT_TLS1_2) {
      fprintf(stderr, "moat client: no session to save: the server sent "
                      "neither a ticket nor a session ID, or it lacks the "
                      "extended master secret (RFC 7627 5.3: never "
                      "resumed)\n");
    } else {
      fprintf(stderr, "moat client: the server sent no session ticket\n");
    }
    return 1;
  }
  uint8_t *buf = malloc(SESSION_FILE_MAX);
  size_t n = 0;
  moat_err e = buf != NULL ? moat_session_to_bytes(s, buf, SESSION_FILE_MAX, &n)
                           : MOAT_ERR_NO_MEMORY;
  moat_session_free(s);
  if (e != MOAT_OK) {
    fprintf(stderr, "moat client: cannot encode the session for %s: %s\n", path,
            moat_err_name(e));
    util_wipe(buf, buf != NULL ? SESSION_FILE_MAX : 0);
    free(buf);
    return 1;
  }
  /* The file holds the resumption PSK: readable by its owner only. */
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  int err = errno;
  bool ok = f != NULL && fwrite(buf, 1, n, f) == n;
  util_wipe(buf, SESSION_FILE_MAX); /* the session's PSK */
  free(buf);
  if (f != NULL) {
    err = ok ? 0 : errno;
    if (fclose(f) != 0 && ok) {
      err = errno;
      ok = false;
    }
  } else if (fd >= 0) {
    close(fd);
  }
  if (!ok) {
    fprintf(stderr, "moat client: cannot write session file %s: %s\n", path,
            err ? strerror(err) : "short write");
    return 1;
  }
  return 0;
}

/* --sess-out is checked before connecting: a path that cannot be
 * written should not cost a whole exchange to find out.  A file made
 * just for the check is removed again (save_session makes it). */
static bool sess_out_writable(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  bool created = fd >= 0;
  if (fd < 0 && errno == EEXIST) {
    fd = open(path, O_WRONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    fprintf(stderr, "moat client: cannot write session file %s: %s\n", path,
            strerror(errno));
    return false;
  }
  close(fd);
  if (created) {
    unlink(path);
  }
  return true;
}

/* Reads everything the connection has for us and copies it to stdout.
 * Returns WANT_READ when drained, CLOSED / EOF / an error otherwise. */
static moat_err pump_to_stdout(moat_conn *conn, size_t cap, size_t *total) {
  uint8_t buf[READ_BUF_MAX];
  moat_err e;
  for (;;) {
    size_t n = 0;
    e = moat_conn_read(conn, buf, cap, &n);
    if (e != MOAT_OK) {
      break;
    }
    size_t off = 0;
    while (off < n) {
      ssize_t w = write(STDOUT_FILENO, buf + off, n - off);
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w <= 0) {
        e = MOAT_ERR_SYSCALL;
        goto out;
      }
      off += (size_t)w;
    }
    *total += n;
  }
out:
  util_wipe(buf, cap); /* the plaintext of the last records */
  return e;
}

/* The relay loop.  Returns the process exit status. */
/* --export LABEL:LEN: the keying material, as hex on stderr. */
static int print_export(moat_conn *conn, const char *spec) {
  const char *colon = strrchr(spec, ':');
  char label[256];
  char *end = NULL;
  unsigned long n = colon ? strtoul(colon + 1, &end, 10) : 0;
  size_t label_len = colon ? (size_t)(colon - spec) : 0;
  if (colon == NULL || end == colon + 1 || *end != '\0' || n < 1 || n > 512 ||
      label_len == 0 || label_len >= sizeof(label)) {
    fprintf(stderr, "moat client: bad --export '%s' (LABEL:LEN, LEN 1..512)\n",
            spec);
    return 1;
  }
  memcpy(label, spec, label_len);
  label[label_len] = '\0';
  uint8_t out[512];
  moat_err e =
      moat_conn_export_keying_material(conn, label, NULL, 0, false, out, n);
  if (e != MOAT_OK) {
    fprintf(stderr, "moat client: exporting with label %s: %s\n", label,
            moat_err_message(e));
    return 1;
  }
  fprintf(stderr, "  exporter: ");
  for (unsigned long i = 0; i < n; i++) {
    fprintf(stderr, "%02X", out[i]);
  }
  fprintf(stderr, "\n");
  return 0;
}

static int relay(moat_conn *conn, int fd, size_t read_cap, bool quiet) {
  bool stdin_open = true;
  bool sent_close = false;
  int64_t drain_deadline = 0;
  size_t in_total = 0, out_total = 0;
  uint8_t buf[16384];
  char msg[768];
  int status = 0;
  for (;;) {
    /* Data may already be buffered inside the connection. */
    moat_err e = pump_to_stdout(conn, read_cap, &in_total);
    if (e == MOAT_ERR_CLOSED) {
      if (!quiet) {
        fprintf(stderr, "moat: peer sent close_notify\n");
      }
      break;
    }
    if (e == MOAT_ERR_EOF) {
      fprintf(stderr, "moat: connection ended without close_notify\n");
      status = 1;
      break;
    }
    if (e != MOAT_ERR_WANT_READ && e != MOAT_ERR_WANT_WRITE) {
      util_describe_error(conn, e, msg, sizeof(msg));
      fprintf(stderr, "moat: read failed: %s\n", msg);
      status = 1;
      break;
    }
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                          {.fd = STDIN_FILENO, .events = POLLIN}};
    if (moat_conn_pending_output(conn) > 0) {
      p[0].events |= POLLOUT;
    }
    int wait = -1;
    if (drain_deadline > 0) {
      int64_t left = drain_deadline - util_now_ms();
      if (left <= 0) {
        fprintf(stderr, "moat: no close_notify from the peer within %d ms\n",
                DRAIN_TIMEOUT_MS);
        break;
      }
      wait = (int)left;
    }
    int r = poll(p, stdin_open ? 2 : 1, wait);
    if (r < 0 && errno != EINTR) {
      perror("moat: poll");
      status = 1;
      break;
    }
    if (!stdin_open || r <= 0 || p[1].revents == 0) {
      continue;
    }
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n > 0) {
      e = util_write_all(conn, fd, buf, (size_t)n);
      if (e != MOAT_OK) {
        util_describe_error(conn, e, msg, sizeof(msg));
        fprintf(stderr, "moat: write failed: %s\n", msg);
        status = 1;
        break;
      }
      out_total += (size_t)n;
      continue;
    }
    /* stdin ended: say so with close_notify, keep reading the answer. */
    stdin_open = false;
    sent_close = true;
    e = util_send_close_notify(conn);
    if (e != MOAT_OK && e != MOAT_ERR_WANT_READ && e != MOAT_ERR_WANT_WRITE) {
      util_describe_error(conn, e, msg, sizeof(msg));
      fprintf(stderr, "moat: shutdown failed: %s\n", msg);
      status = 1;
      break;
    }
    drain_deadline = util_now_ms() + DRAIN_TIMEOUT_MS;
  }
  util_wipe(buf, sizeof(buf)); /* what stdin sent */
  if (!sent_close && status == 0) {
    /* Answer the peer's close_notify with ours. */
    (void)util_drive(conn, fd, util_step_shutdown, NULL, util_now_ms() + 2000);
  }
  uint32_t reneg = moat_conn_renegotiations_refused(conn);
  if (reneg > 0) {
    fprintf(stderr,
            "moat: refused %u renegotiation request%s from the peer "
            "(no_renegotiation sent)\n",
            reneg, reneg == 1 ? "" : "s");
  }
  if (!quiet) {
    fprintf(stderr, "moat: sent %zu bytes, received %zu bytes\n", out_total,
            in_total);
  }
  return status;
}

int cmd_client(int argc, char **argv) {
  struct client_opts o;
  char host[256], port[32], msg[768];
  int status = 1;
  int fd = -1;
  moat_context *ctx = NULL;
  moat_conn *conn = NULL;
  if (argc >= 2 &&
      (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    client_usage(stdout);
    return 0;
  }
  if (!parse_opts(argc, argv, &o)) {
    client_usage(stderr);
    return 2;
  }
  if (!util_split_hostport(o.addr, host, sizeof(host), port, sizeof(port))) {
    fprintf(stderr, "moat client: '%s' is not HOST:PORT\n", o.addr);
    return 2;
  }
  ctx = o.cafile ? moat_context_new(MOAT_ROLE_CLIENT)
                 : moat_context_new_default(MOAT_PURPOSE_SERVER_AUTH);
  if (ctx == NULL) {
    fprintf(stderr, "moat client: cannot create a context\n");
    return 1;
  }
  if (!configure(ctx, &o) ||
      (o.sess_out != NULL && !sess_out_writable(o.sess_out))) {
    status = 2;
    goto out;
  }
  fd = util_tcp_connect(host, port, 10000, msg, sizeof(msg));
  if (fd < 0) {
    fprintf(stderr, "moat client: %s\n", msg);
    goto out;
  }
  conn = moat_conn_new(ctx);
  if (conn == NULL) {
    fprintf(stderr, "moat client: cannot create a connection\n");
    goto out;
  }
  const char *name = o.servername ? o.servername : host;
  moat_err e = name[0] ? moat_conn_set_hostname(conn, name) : MOAT_OK;
  if (e == MOAT_OK) {
    e = moat_conn_set_fd(conn, fd);
  }
  if (e == MOAT_OK && o.sess_in != NULL) {
    e = load_session(conn, o.sess_in);
  }
  if (e != MOAT_OK) {
    util_setup_fail("client", ctx, "cannot set up the connection for", name, e);
    goto out;
  }
  int64_t t0 = util_now_ms();
  e = util_drive(conn, fd, util_step_handshake, NULL,
                 t0 + HANDSHAKE_TIMEOUT_MS);
  int64_t t1 = util_now_ms();
  if (e == MOAT_ERR_WANT_READ || e == MOAT_ERR_WANT_WRITE) {
    fprintf(stderr, "moat client: handshake with %s timed out after %d ms\n",
            o.addr, HANDSHAKE_TIMEOUT_MS);
    goto out;
  }
  if (e != MOAT_OK) {
    util_describe_error(conn, e, msg, sizeof(msg));
    fprintf(stderr, "moat client: handshake failed: %s\n", msg);
    if (moat_err_get_class(e) == MOAT_CLASS_VERIFY) {
      util_print_chain(stderr, conn, "  "); /* what the server sent */
    }
    goto out;
  }
  if (!o.quiet) {
    fprintf(stderr, "moat: connected to %s (%s) in %lld ms\n", o.addr,
            util_or_dash(name), (long long)(t1 - t0));
    util_print_params(stderr, conn, name[0] ? name : NULL, "  ");
    if (o.ocsp != NULL) {
      static const char *const st[] = {"none", "good", "revoked", "unknown"};
      const uint8_t *der;
      size_t len;
      moat_ocsp_status s = moat_conn_ocsp_status(conn);
      fprintf(stderr, "  ocsp: %s\n",
              moat_conn_ocsp_response(conn, &der, &len) != MOAT_OK
                  ? "not stapled"
                  : st[s <= MOAT_OCSP_UNKNOWN ? s : 0]);
    }
  }
  if (o.export_spec != NULL && print_export(conn, o.export_spec) != 0) {
    goto out;
  }
  if (o.key_update) {
    e = util_key_update(conn, fd);
    if (e != MOAT_OK) {
      util_describe_error(conn, e, msg, sizeof(msg));
      fprintf(stderr, "moat client: key update failed: %s\n", msg);
      goto out;
    }
    if (!o.quiet) {
      fprintf(stderr, "moat: sent KeyUpdate (update_requested)\n");
    }
  }
  status = relay(conn, fd, o.read_cap, o.quiet);
  if (o.sess_out != NULL && save_session(conn, o.sess_out) != 0) {
    status = 1;
  }
out:
  moat_conn_free(conn);
  moat_context_free(ctx);
  if (fd >= 0) {
    close(fd);
  }
  return status;
}
