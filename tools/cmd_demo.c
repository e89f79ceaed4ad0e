/* moat demo: a throw-away CA and server certificate, a moat server in a
 * child process and a moat client in this one, all on loopback, and a
 * short summary of what was negotiated. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "moat.h"
#include "tools.h"
#include "util.h"

#define DEMO_ALPN "demo/1"
#define DEMO_MESSAGE "hello over moat, from the demo client\n"

struct demo {
  char dir[64];
  char path_ca[128], path_ca_key[128], path_key[128], path_csr[128];
  char path_cert[128], path_ext[128], path_log[128], path_srvlog[128];
  pid_t server;
  int port;
};

static void demo_path(const struct demo *d, char *out, size_t cap,
                      const char *name) {
  snprintf(out, cap, "%s/%s", d->dir, name);
}

/* Runs a command with stdout/stderr appended to the log; 0 on success,
 * 127 when the program could not be started. */
static int run(const struct demo *d, char *const argv[]) {
  pid_t pid = fork();
  if (pid < 0) {
    return -1;
  }
  if (pid == 0) {
    int log = open(d->path_log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
      close(log);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have_openssl(void) {
  const char *path = getenv("PATH");
  char buf[4096];
  if (path == NULL) {
    path = "/usr/bin:/bin";
  }
  const char *p = path;
  while (*p != '\0') {
    const char *end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    snprintf(buf, sizeof(buf), "%.*s/openssl", (int)n, p);
    if (access(buf, X_OK) == 0) {
      return true;
    }
    p += n + (end ? 1 : 0);
  }
  return false;
}

static bool write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    return false;
  }
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

static void show_log(const char *path) {
  FILE *f = fopen(path, "r");
  char line[512];
  if (f == NULL) {
    return;
  }
  while (fgets(line, sizeof(line), f) != NULL) {
    fprintf(stderr, "    | %s", line);
  }
  fclose(f);
}

/* CA (ECDSA P-256) and a server certificate for localhost signed by it. */
static bool make_pki(struct demo *d) {
  char *ca_key[] = {"openssl", "genpkey",      "-algorithm",
                    "EC",      "-pkeyopt",     "ec_paramgen_curve:P-256",
                    "-out",    d->path_ca_key, NULL};
  char *ca[] = {"openssl", "req",
                "-x509",   "-new",
                "-key",    d->path_ca_key,
                "-subj",   "/CN=moat demo CA",
                "-days",   "2",
                "-out",    d->path_ca,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                NULL};
  char *key[] = {"openssl", "genpkey",   "-algorithm",
                 "EC",      "-pkeyopt",  "ec_paramgen_curve:P-256",
                 "-out",    d->path_key, NULL};
  char *csr[] = {"openssl", "req",           "-new", "-key",      d->path_key,
                 "-subj",   "/CN=localhost", "-out", d->path_csr, NULL};
  char *sign[] = {
      "openssl", "x509",       "-req",   "-in",          d->path_csr,
      "-CA",     d->path_ca,   "-CAkey", d->path_ca_key, "-set_serial",
      "4242",    "-days",      "2",      "-extfile",     d->path_ext,
      "-out",    d->path_cert, NULL};
  char *const *steps[] = {ca_key, ca, key, csr, sign};
  if (!write_file(d->path_ext, "basicConstraints=critical,CA:FALSE\n"
                               "keyUsage=critical,digitalSignature\n"
                               "extendedKeyUsage=serverAuth\n"
                               "subjectAltName=DNS:localhost,IP:127.0.0.1\n")) {
    fprintf(stderr, "moat demo: cannot write %s\n", d->path_ext);
    return false;
  }
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    int rc = run(d, steps[i]);
    if (rc != 0) {
      fprintf(stderr, "moat demo: 'openssl %s' failed (exit %d):\n",
              steps[i][1], rc);
      show_log(d->path_log);
      return false;
    }
  }
  return true;
}

/* Forks the moat server (this same program's server command) and reads
 * the port it listens on. */
static bool start_server(struct demo *d) {
  int pfd[2];
  if (pipe(pfd) != 0) {
    perror("moat demo: pipe");
    return false;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    perror("moat demo: fork");
    close(pfd[0]);
    close(pfd[1]);
    return false;
  }
  if (pid == 0) {
    char *argv[] = {"server",
                    "--port",
                    "0",
                    "--cert",
                    d->path_cert,
                    "--key",
                    d->path_key,
                    "--alpn",
                    DEMO_ALPN ","
                              "http/1.1",
                    "--once",
                    NULL};
    int log = open(d->path_srvlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    close(pfd[0]);
    dup2(pfd[1], STDOUT_FILENO);
    close(pfd[1]);
    if (log >= 0) {
      dup2(log, STDERR_FILENO);
      close(log);
    }
    alarm(30); /* never outlive a stuck demo */
    _exit(cmd_server(10, argv));
  }
  d->server = pid;
  close(pfd[1]);
  char line[128];
  size_t len = 0;
  int64_t deadline = util_now_ms() + 10000;
  while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
    struct pollfd p = {.fd = pfd[0], .events = POLLIN};
    int64_t left = deadline - util_now_ms();
    if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
      break;
    }
    ssize_t n = read(pfd[0], line + len, sizeof(line) - 1 - len);
    if (n <= 0) {
      break;
    }
    len += (size_t)n;
  }
  close(pfd[0]);
  line[len] = '\0';
  const char *colon = strrchr(line, ':');
  if (strncmp(line, "listening on ", 13) != 0 || colon == NULL ||
      (d->port = atoi(colon + 1)) <= 0) {
    fprintf(stderr, "moat demo: the server did not start:\n");
    show_log(d->path_srvlog);
    return false;
  }
  return true;
}

/* Waits for the server child for up to ms, then ends it. */
static void stop_server(struct demo *d, int ms) {
  if (d->server <= 0) {
    return;
  }
  int64_t deadline = util_now_ms() + ms;
  int st;
  while (waitpid(d->server, &st, WNOHANG) == 0) {
    if (util_now_ms() > deadline) {
      kill(d->server, SIGTERM);
      waitpid(d->server, &st, 0);
      break;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  d->server = 0;
}

static void remove_dir(const char *dir) {
  DIR *dh = opendir(dir);
  if (dh != NULL) {
    struct dirent *e;
    char p[512];
    while ((e = readdir(dh)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
        continue;
      }
      snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
      unlink(p);
    }
    closedir(dh);
  }
  rmdir(dir);
}

static double now_ms_frac(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

struct read_exact {
  uint8_t *buf;
  size_t want;
  size_t got;
};

static moat_err step_read_exact(moat_conn *conn, void *arg) {
  struct read_exact *r = arg;
  while (r->got < r->want) {
    size_t n = 0;
    moat_err e = moat_conn_read(conn, r->buf + r->got, r->want - r->got, &n);
    if (e != MOAT_OK) {
      return e;
    }
    r->got += n;
  }
  return MOAT_OK;
}

static bool check(bool ok, const char *what, int *failures) {
  if (!ok) {
    fprintf(stderr, "moat demo: check failed: %s\n", what);
    (*failures)++;
  }
  return ok;
}

/* The client half: handshake, verify, echo, summary; version is the
 * highest the client offers (TLS 1.3 for the first round, TLS 1.2 for
 * the second). */
static int run_client(struct demo *d, int version) {
  char msg[768], port[16], subj[512], iss[512];
  int failures = 0;
  int fd = -1;
  moat_conn *conn = NULL;
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  if (ctx == NULL) {
    fprintf(stderr, "moat demo: cannot create the client's context\n");
    goto out;
  }
  moat_err e =
      moat_context_load_verify_locations(ctx, d->path_ca, NULL, NULL, 0);
  if (e != MOAT_OK) {
    util_setup_fail("demo", ctx, "cannot load the demo CA", d->path_ca, e);
    goto out;
  }
  e = util_set_alpn(ctx, DEMO_ALPN);
  if (e != MOAT_OK) {
    util_setup_fail("demo", ctx, "cannot set ALPN", DEMO_ALPN, e);
    goto out;
  }
  e = moat_context_set_max_version(ctx, version);
  if (e != MOAT_OK) {
    util_setup_fail("demo", ctx, "cannot set the version", NULL, e);
    goto out;
  }
  snprintf(port, sizeof(port), "%d", d->port);
  fd = util_tcp_connect("127.0.0.1", port, 5000, msg, sizeof(msg));
  if (fd < 0) {
    fprintf(stderr, "moat demo: %s\n", msg);
    goto out;
  }
  conn = moat_conn_new(ctx);
  e = conn ? moat_conn_set_hostname(conn, "localhost") : MOAT_ERR_NO_MEMORY;
  if (e == MOAT_OK) {
    e = moat_conn_set_fd(conn, fd);
  }
  if (e != MOAT_OK) {
    fprintf(stderr, "moat demo: connection setup failed: %s\n",
            moat_err_name(e));
    goto out;
  }
  double t0 = now_ms_frac();
  e = util_drive(conn, fd, util_step_handshake, NULL, util_now_ms() + 10000);
  double hs_ms = now_ms_frac() - t0;
  if (e != MOAT_OK) {
    util_describe_error(conn, e, msg, sizeof(msg));
    fprintf(stderr, "moat demo: handshake failed: %s\n", msg);
    goto out;
  }
  uint8_t echo[sizeof(DEMO_MESSAGE)];
  struct read_exact rx = {echo, sizeof(DEMO_MESSAGE) - 1, 0};
  e = util_write_all(conn, fd, (const uint8_t *)DEMO_MESSAGE, rx.want);
  if (e == MOAT_OK) {
    e = util_drive(conn, fd, step_read_exact, &rx, util_now_ms() + 10000);
  }
  if (e != MOAT_OK) {
    util_describe_error(conn, e, msg, sizeof(msg));
    fprintf(stderr, "moat demo: echo failed after %zu bytes: %s\n", rx.got,
            msg);
    goto out;
  }
  moat_err sd =
      util_drive(conn, fd, util_step_shutdown, NULL, util_now_ms() + 3000);

  const uint8_t *der = NULL;
  size_t der_len = 0;
  snprintf(subj, sizeof(subj), "?");
  snprintf(iss, sizeof(iss), "?");
  if (moat_conn_peer_cert_der(conn, 0, &der, &der_len) == MOAT_OK) {
    util_cert_subject(der, der_len, false, subj, sizeof(subj));
    util_cert_subject(der, der_len, true, iss, sizeof(iss));
  }
  const char *alpn = moat_conn_alpn(conn);
  bool echo_ok = memcmp(echo, DEMO_MESSAGE, rx.want) == 0;
  check(moat_conn_version(conn) == version,
        version == MOAT_TLS1_3 ? "version is TLS 1.3" : "version is TLS 1.2",
        &failures);
  check(moat_conn_verify_code(conn) == 0, "certificate verified", &failures);
  check(alpn != NULL && strcmp(alpn, DEMO_ALPN) == 0, "ALPN " DEMO_ALPN,
        &failures);
  check(strstr(subj, "localhost") != NULL, "certificate is for localhost",
        &failures);
  check(echo_ok, "echo matches", &failures);
  check(sd == MOAT_OK, "close_notify exchanged", &failures);

  printf("moat demo: %s over loopback between a moat client and a moat "
         "server\n\n",
         version == MOAT_TLS1_3 ? "TLS 1.3" : "TLS 1.2");
  printf("  server        127.0.0.1:%d (child process %ld)\n", d->port,
         (long)d->server);
  printf("  version       %s\n", util_or_dash(moat_conn_version_name(conn)));
  printf("  cipher suite  %s (OpenSSL: %s)\n",
         util_or_dash(moat_conn_cipher_name(conn)),
         util_or_dash(moat_conn_cipher_openssl_name(conn)));
  printf("  key exchange  %s%s\n", util_or_dash(moat_conn_group_name(conn)),
         moat_conn_hello_retry(conn) ? " (after HelloRetryRequest)" : "");
  printf("  signature     %s\n",
         util_or_dash(moat_conn_peer_sigalg_name(conn)));
  printf("  ALPN          %s\n", util_or_dash(alpn));
  printf("  certificate   %s\n", subj);
  printf("    issued by   %s\n", iss);
  printf("  verified      %s (%s), hostname localhost\n",
         moat_conn_verify_code(conn) == 0 ? "yes" : "NO",
         util_or_dash(moat_conn_verify_message(conn)));
  printf("  echoed        %zu bytes, %s\n", rx.got,
         echo_ok ? "identical" : "DIFFERENT");
  printf("  close_notify  %s\n",
         sd == MOAT_OK ? "both ways" : moat_err_name(sd));
  printf("  handshake     %.2f ms\n", hs_ms);
out:
  moat_conn_free(conn);
  moat_context_free(ctx);
  if (fd >= 0) {
    close(fd);
  }
  return conn != NULL && failures == 0 && e == MOAT_OK ? 0 : 1;
}

int cmd_demo(int argc, char **argv) {
  struct demo d;
  int status = 1;
  if (argc >= 2) {
    bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
    fprintf(help ? stdout : stderr,
            "usage: moat demo\n\n"
            "Makes a throw-away CA and server certificate (ECDSA P-256) with "
            "the openssl\ncommand, starts a moat server on 127.0.0.1 and "
            "connects a verifying moat\nclient to it, then prints what was "
            "negotiated: once with TLS 1.3, once with\na client limited to "
            "TLS 1.2.\n");
    return help ? 0 : 2;
  }
  if (!have_openssl()) {
    fprintf(stderr, "moat demo: the 'openssl' command is needed to make the "
                    "demo certificates and was not found in PATH (Debian: "
                    "apt-get install openssl)\n");
    return 1;
  }
  memset(&d, 0, sizeof(d));
  const char *tmp = getenv("TMPDIR");
  snprintf(d.dir, sizeof(d.dir), "%s/moat-demo-XXXXXX",
           tmp && tmp[0] && strlen(tmp) < 40 ? tmp : "/tmp");
  if (mkdtemp(d.dir) == NULL) {
    perror("moat demo: mkdtemp");
    return 1;
  }
  demo_path(&d, d.path_ca, sizeof(d.path_ca), "ca.pem");
  demo_path(&d, d.path_ca_key, sizeof(d.path_ca_key), "ca.key");
  demo_path(&d, d.path_key, sizeof(d.path_key), "server.key");
  demo_path(&d, d.path_csr, sizeof(d.path_csr), "server.csr");
  demo_path(&d, d.path_cert, sizeof(d.path_cert), "server.pem");
  demo_path(&d, d.path_ext, sizeof(d.path_ext), "server.ext");
  demo_path(&d, d.path_log, sizeof(d.path_log), "openssl.log");
  demo_path(&d, d.path_srvlog, sizeof(d.path_srvlog), "server.log");
  signal(SIGPIPE, SIG_IGN);
  /* Two rounds against a server that speaks both: a client that offers
   * TLS 1.3 (and 1.2), then one limited to TLS 1.2. */
  static const int versions[2] = {MOAT_TLS1_3, MOAT_TLS1_2};
  bool pki = make_pki(&d);
  status = pki ? 0 : 1;
  for (int i = 0; pki && status == 0 && i < 2; i++) {
    if (!start_server(&d)) {
      status = 1;
      break;
    }
    if (i > 0) {
      printf("\n");
    }
    status = run_client(&d, versions[i]);
    stop_server(&d, 3000);
    if (status != 0) {
      fprintf(stderr, "moat demo: server log:\n");
      show_log(d.path_srvlog);
    }
    stop_server(&d, 0);
  }
  remove_dir(d.dir);
  if (status == 0) {
    printf("\nmoat demo: all checks passed\n");
  }
  return status;
}
