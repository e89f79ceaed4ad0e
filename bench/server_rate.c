/* moat-server-rate: connections per second that a TLS server on loopback
 * completes, each a full handshake (no resumption), one HTTP GET and its
 * answer, up to the server's close.  The clients are OpenSSL's libssl,
 * many at once on one thread (non-blocking sockets, epoll), the same for
 * every server measured:
 *
 *   moat server --http          (the moat command)
 *   openssl s_server -www       (the openssl command)
 *
 * both with the same ECDSA P-256 certificate, made with the openssl
 * command in a temporary directory.
 *
 *   moat-server-rate --moat PATH [--seconds S] [--conns N] [--json FILE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct client {
  int fd;
  SSL *ssl;
  bool sent;
  size_t got;
};

struct run {
  SSL_CTX *ctx;
  int ep;
  int port;
  unsigned long done, failed;
};

static const char REQUEST[] = "GET / HTTP/1.0\r\n\r\n";

static bool client_start(struct run *r, struct client *c) {
  memset(c, 0, sizeof(*c));
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    return false;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)r->port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
      errno != EINPROGRESS) {
    close(c->fd);
    return false;
  }
  c->ssl = SSL_new(r->ctx);
  SSL_set_fd(c->ssl, c->fd);
  SSL_set_connect_state(c->ssl);
  SSL_set_tlsext_host_name(c->ssl, "localhost");
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev);
  return true;
}

static void client_end(struct run *r, struct client *c, bool ok) {
  epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
  SSL_free(c->ssl);
  close(c->fd);
  if (ok) {
    r->done++;
  } else {
    r->failed++;
  }
}

/* Advances one client; true when it has finished (either way). */
static bool client_step(struct client *c, bool *ok) {
  char buf[16384];
  for (;;) {
    int n;
    if (!SSL_is_init_finished(c->ssl)) {
      n = SSL_do_handshake(c->ssl);
    } else if (!c->sent) {
      n = SSL_write(c->ssl, REQUEST, sizeof(REQUEST) - 1);
      if (n > 0) {
        c->sent = true;
        continue;
      }
    } else {
      n = SSL_read(c->ssl, buf, sizeof(buf));
      if (n > 0) {
        c->got += (size_t)n;
        continue;
      }
    }
    if (n > 0) {
      continue;
    }
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      return false;
    }
    /* The server closed (close_notify or the end of the stream) after
     * answering: that is the end of a good exchange. */
    *ok = c->sent && c->got > 0 &&
          (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL);
    ERR_clear_error();
    return true;
  }
}

/* Keeps conns clients busy for seconds; returns completions per second. */
static double measure(struct run *r, int conns, double seconds) {
  struct client *cs = calloc((size_t)conns, sizeof(*cs));
  struct epoll_event evs[256];
  r->ep = epoll_create1(EPOLL_CLOEXEC);
  r->done = r->failed = 0;
  for (int i = 0; i < conns; i++) {
    client_start(r, &cs[i]);
  }
  double t0 = now_s(), end = t0 + seconds;
  while (now_s() < end) {
    int n = epoll_wait(r->ep, evs, 256, 100);
    for (int i = 0; i < n; i++) {
      struct client *c = evs[i].data.ptr;
      bool ok = false;
      if (client_step(c, &ok)) {
        client_end(r, c, ok);
        client_start(r, c);
      }
    }
  }
  double took = now_s() - t0;
  for (int i = 0; i < conns; i++) {
    if (cs[i].ssl != NULL) {
      epoll_ctl(r->ep, EPOLL_CTL_DEL, cs[i].fd, NULL);
      SSL_free(cs[i].ssl);
      close(cs[i].fd);
    }
  }
  close(r->ep);
  free(cs);
  return (double)r->done / took;
}

/* CPU seconds (user + system) the process pid has used. */
static double cpu_of(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return 0;
  }
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* the name may hold spaces */
  unsigned long ut = 0, st = 0;
  if (p == NULL || sscanf(p + 2,
                          "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                          "%lu %lu",
                          &ut, &st) != 2) {
    return 0;
  }
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof(sa);
  bind(fd, (struct sockaddr *)&sa, sizeof(sa));
  getsockname(fd, (struct sockaddr *)&sa, &sl);
  close(fd);
  return ntohs(sa.sin_port);
}

static bool wait_listening(int port) {
  for (int i = 0; i < 100; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    close(fd);
    if (r == 0) {
      return true;
    }
    usleep(50 * 1000);
  }
  return false;
}

static pid_t spawn(char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static void stop(pid_t pid) {
  if (pid > 0) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
  }
}

int main(int argc, char **argv) {
  const char *moat = NULL, *json = NULL;
  double seconds = 3;
  int conns = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--moat") == 0) {
      moat = argv[i + 1];
    } else if (strcmp(argv[i], "--seconds") == 0) {
      seconds = atof(argv[i + 1]);
    } else if (strcmp(argv[i], "--conns") == 0) {
      conns = atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--json") == 0) {
      json = argv[i + 1];
    }
  }
  if (moat == NULL || seconds <= 0 || conns < 1) {
    fprintf(stderr, "usage: moat-server-rate --moat PATH [--seconds S] "
                    "[--conns N] [--json FILE]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  char dir[] = "/tmp/moat-rate-XXXXXX", cert[64], key[64], cmd[512];
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
  snprintf(key, sizeof(key), "%s/key.pem", dir);
  snprintf(cmd, sizeof(cmd),
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
           "-nodes -keyout %s -out %s -days 2 -subj /CN=localhost "
           "-addext subjectAltName=DNS:localhost >/dev/null 2>&1",
           key, cert);
  if (system(cmd) != 0) {
    fprintf(stderr, "moat-server-rate: the openssl command failed\n");
    return 1;
  }
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_load_verify_locations(ctx, cert, NULL);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  /* Both servers get the same group: X25519 (moat's default prefers a
   * hybrid that s_server in OpenSSL 3.0 does not have). */
  SSL_CTX_set1_groups_list(ctx, "X25519");

  double rate[2] = {0, 0};
  unsigned long failed[2] = {0, 0};
  double cpu_us[2] = {0, 0}; /* server CPU per connection */
  const char *names[2] = {"moat server", "openssl s_server -www"};
  for (int which = 0; which < 2; which++) {
    char portstr[16];
    int port = free_port();
    snprintf(portstr, sizeof(portstr), "%d", port);
    char *margv[] = {(char *)moat, "server", "--port", portstr,  "--cert",
                     cert,         "--key",  key,      "--http", NULL};
    char *oargv[] = {"openssl", "s_server", "-accept", portstr,  "-cert", cert,
                     "-key",    key,        "-www",    "-quiet", NULL};
    pid_t pid = spawn(which == 0 ? margv : oargv);
    if (!wait_listening(port)) {
      fprintf(stderr, "moat-server-rate: %s did not start\n", names[which]);
      stop(pid);
      return 1;
    }
    struct run r = {.ctx = ctx, .port = port};
    measure(&r, conns, 0.5); /* warm-up */
    double c0 = cpu_of(pid);
    rate[which] = measure(&r, conns, seconds);
    failed[which] = r.failed;
    if (r.done > 0) {
      cpu_us[which] = (cpu_of(pid) - c0) * 1e6 / (double)r.done;
    }
    stop(pid);
  }
  double ratio = rate[1] > 0 ? rate[0] / rate[1] : 0;
  printf("server.loopback: full handshake + GET + close, %d clients at "
         "once, %.0f s each\n",
         conns, seconds);
  for (int i = 0; i < 2; i++) {
    printf("  %-22s %8.0f /s  server CPU %5.0f us each  (%lu failed)\n",
           names[i], rate[i], cpu_us[i], failed[i]);
  }
  printf("  ratio moat / s_server: %.2fx per second, %.2fx per CPU second\n",
         ratio, cpu_us[0] > 0 ? cpu_us[1] / cpu_us[0] : 0);
  if (json != NULL) {
    FILE *f = fopen(json, "w");
    if (f != NULL) {
      fprintf(f,
              "{\"figure\": \"server.loopback\", \"conns\": %d, "
              "\"seconds\": %.1f, \"moat_per_s\": %.1f, "
              "\"s_server_per_s\": %.1f, \"ratio\": %.3f, "
              "\"moat_cpu_us\": %.1f, \"s_server_cpu_us\": %.1f}\n",
              conns, seconds, rate[0], rate[1], ratio, cpu_us[0], cpu_us[1]);
      fclose(f);
    }
  }
  SSL_CTX_free(ctx);
  unlink(cert);
  unlink(key);
  rmdir(dir);
  return failed[0] > 0 ? 1 : 0;
}
