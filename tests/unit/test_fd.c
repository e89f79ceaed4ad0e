/* The fd layer (src/io/fd.c): moat_conn_set_fd / moat_conn_fd, and whole
 * connections over socketpairs, blocking (server in a thread) and
 * non-blocking (both ends in one thread), through the public API only. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "moat.h"
#include "t.h"

#define PKI MOAT_SOURCE_DIR "/tests/x509/pki/"
#define MSG "through a socket and back"

static moat_context *server_ctx(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_SERVER);
  CHECK(moat_context_load_cert_chain(ctx, PKI "server-chain.pem",
                                     PKI "server.key", NULL) == MOAT_OK);
  return ctx;
}

static moat_context *client_ctx(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK(moat_context_load_verify_locations(ctx, PKI "root.pem", NULL, NULL,
                                           0) == MOAT_OK);
  return ctx;
}

static long other_send(void *arg, const uint8_t *d, size_t n, bool *wb) {
  (void)arg;
  (void)d;
  *wb = false;
  return (long)n;
}

static long other_recv(void *arg, uint8_t *o, size_t n, bool *wb) {
  (void)arg;
  (void)o;
  (void)n;
  *wb = true;
  return -1;
}

static void test_accessors(void) {
  moat_context *ctx = client_ctx();
  moat_conn *c = moat_conn_new(ctx);
  static const moat_transport other = {other_send, other_recv};
  CHECK_EQ_INT(moat_conn_fd(c), -1);
  CHECK_EQ_INT(moat_conn_fd(NULL), -1);
  CHECK_EQ_INT(moat_conn_set_fd(c, -1), MOAT_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(moat_conn_set_fd(NULL, 3), MOAT_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(moat_conn_set_fd(c, 0), MOAT_OK); /* fd 0 is a valid fd */
  CHECK_EQ_INT(moat_conn_fd(c), 0);
  CHECK_EQ_INT(moat_conn_set_fd(c, 17), MOAT_OK);
  CHECK_EQ_INT(moat_conn_fd(c), 17);
  /* Another transport is not an fd. */
  CHECK_EQ_INT(moat_conn_set_transport(c, &other, NULL), MOAT_OK);
  CHECK_EQ_INT(moat_conn_fd(c), -1);
  CHECK_EQ_INT(moat_conn_set_transport(c, NULL, NULL), MOAT_OK);
  CHECK_EQ_INT(moat_conn_fd(c), -1);
  moat_conn_free(c);
  moat_context_free(ctx);
}

/* A transport whose send takes nothing (only recv may return 0): the
 * engine fails with a clear error instead of calling it for ever.  After
 * 1000 calls it reports an error itself, so a regression fails here
 * rather than hanging. */
static int g_zero_sends;
static long zero_send(void *arg, const uint8_t *d, size_t n, bool *wb) {
  (void)arg;
  (void)d;
  (void)n;
  *wb = false;
  return ++g_zero_sends < 1000 ? 0 : -1;
}

static void test_send_takes_nothing(void) {
  moat_context *ctx = client_ctx();
  moat_conn *c = moat_conn_new(ctx);
  static const moat_transport zero = {zero_send, other_recv};
  moat_conn_set_hostname(c, "localhost");
  CHECK_EQ_INT(moat_conn_set_transport(c, &zero, NULL), MOAT_OK);
  CHECK_EQ_INT(moat_conn_handshake(c), MOAT_ERR_SYSCALL);
  CHECK_EQ_INT(g_zero_sends, 1);
  CHECK(strstr(moat_conn_error_detail(c), "took none") != NULL);
  /* sticky */
  CHECK_EQ_INT(moat_conn_handshake(c), MOAT_ERR_SYSCALL);
  moat_conn_free(c);
  moat_context_free(ctx);
}

/* Blocking: the server runs in a thread, echoes one message, closes. */
struct server_arg {
  int fd;
  moat_err handshake, read, write, shutdown;
  size_t got;
};

static void *server_main(void *p) {
  struct server_arg *a = p;
  moat_context *ctx = server_ctx();
  moat_conn *s = moat_conn_new(ctx);
  uint8_t buf[256];
  size_t w = 0;
  a->read = a->write = a->shutdown = MOAT_ERR_INTERNAL;
  moat_conn_set_fd(s, a->fd);
  a->handshake = moat_conn_handshake(s);
  if (a->handshake == MOAT_OK) {
    a->read = moat_conn_read(s, buf, sizeof(buf), &a->got);
  }
  if (a->read == MOAT_OK) {
    a->write = moat_conn_write(s, buf, a->got, &w);
  }
  if (a->write == MOAT_OK) {
    /* Waits for the client's close_notify. */
    a->shutdown = moat_conn_shutdown(s);
  }
  moat_conn_free(s);
  moat_context_free(ctx);
  return NULL;
}

static void test_blocking(void) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  struct server_arg a = {.fd = sv[1]};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, server_main, &a) == 0);
  moat_context *ctx = client_ctx();
  moat_conn *c = moat_conn_new(ctx);
  CHECK_EQ_INT(moat_conn_set_hostname(c, "localhost"), MOAT_OK);
  CHECK_EQ_INT(moat_conn_set_fd(c, sv[0]), MOAT_OK);
  CHECK_EQ_INT(moat_conn_fd(c), sv[0]);
  CHECK_EQ_INT(moat_conn_handshake(c), MOAT_OK);
  CHECK_EQ_INT(moat_conn_version(c), MOAT_TLS1_3);
  size_t w = 0, got = 0;
  uint8_t buf[256];
  CHECK_EQ_INT(moat_conn_write(c, (const uint8_t *)MSG, strlen(MSG), &w),
               MOAT_OK);
  CHECK_EQ_INT(w, strlen(MSG));
  /* The first read may return part of the echo only if it was split;
   * one record carries it here. */
  CHECK_EQ_INT(moat_conn_read(c, buf, sizeof(buf), &got), MOAT_OK);
  CHECK_EQ_INT(got, strlen(MSG));
  CHECK(got == strlen(MSG) && memcmp(buf, MSG, got) == 0);
  CHECK_EQ_INT(moat_conn_shutdown(c), MOAT_OK);
  pthread_join(th, NULL);
  CHECK_EQ_INT(a.handshake, MOAT_OK);
  CHECK_EQ_INT(a.read, MOAT_OK);
  CHECK_EQ_INT(a.got, strlen(MSG));
  CHECK_EQ_INT(a.write, MOAT_OK);
  CHECK_EQ_INT(a.shutdown, MOAT_OK);
  moat_conn_free(c);
  moat_context_free(ctx);
  close(sv[0]);
  close(sv[1]);
}

static bool want(moat_err e) {
  return e == MOAT_ERR_WANT_READ || e == MOAT_ERR_WANT_WRITE;
}

/* Non-blocking: both ends in this thread; each call returns want-read
 * instead of blocking, and the two are stepped in turn. */
static void test_nonblocking(void) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
  CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
  moat_context *cctx = client_ctx(), *sctx = server_ctx();
  moat_conn *c = moat_conn_new(cctx), *s = moat_conn_new(sctx);
  moat_conn_set_hostname(c, "localhost");
  CHECK_EQ_INT(moat_conn_set_fd(c, sv[0]), MOAT_OK);
  CHECK_EQ_INT(moat_conn_set_fd(s, sv[1]), MOAT_OK);
  moat_err ce = MOAT_ERR_WANT_READ, se = MOAT_ERR_WANT_READ;
  int rounds = 0, wants = 0;
  for (; rounds < 50 && (ce != MOAT_OK || se != MOAT_OK); rounds++) {
    if (ce != MOAT_OK) {
      ce = moat_conn_handshake(c);
      wants += want(ce);
    }
    if (se != MOAT_OK) {
      se = moat_conn_handshake(s);
      wants += want(se);
    }
    if (!want(ce) && ce != MOAT_OK) {
      break;
    }
    if (!want(se) && se != MOAT_OK) {
      break;
    }
  }
  CHECK_EQ_INT(ce, MOAT_OK);
  CHECK_EQ_INT(se, MOAT_OK);
  CHECK(wants > 0); /* it really did not block */

  /* Nothing to read yet: want-read, not a hang. */
  uint8_t buf[256];
  size_t got = 0, w = 0;
  CHECK_EQ_INT(moat_conn_read(s, buf, sizeof(buf), &got), MOAT_ERR_WANT_READ);
  CHECK_EQ_INT(moat_conn_write(c, (const uint8_t *)MSG, strlen(MSG), &w),
               MOAT_OK);
  CHECK_EQ_INT(moat_conn_read(s, buf, sizeof(buf), &got), MOAT_OK);
  CHECK(got == strlen(MSG) && memcmp(buf, MSG, got) == 0);

  /* close_notify from the server: the client reads CLOSED. */
  CHECK_EQ_INT(moat_conn_shutdown(s), MOAT_ERR_WANT_READ);
  CHECK_EQ_INT(moat_conn_read(c, buf, sizeof(buf), &got), MOAT_ERR_CLOSED);
  CHECK_EQ_INT(moat_conn_shutdown(c), MOAT_OK);
  CHECK_EQ_INT(moat_conn_shutdown(s), MOAT_OK);
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_free(cctx);
  moat_context_free(sctx);
  close(sv[0]);
  close(sv[1]);
}

/* Steps both non-blocking ends until their handshakes finish. */
static bool step_handshakes(moat_conn *c, moat_conn *s) {
  moat_err ce = MOAT_ERR_WANT_READ, se = MOAT_ERR_WANT_READ;
  for (int i = 0; i < 50 && (ce != MOAT_OK || se != MOAT_OK); i++) {
    if (ce != MOAT_OK && !want(ce = moat_conn_handshake(c)) && ce != MOAT_OK) {
      return false;
    }
    if (se != MOAT_OK && !want(se = moat_conn_handshake(s)) && se != MOAT_OK) {
      return false;
    }
  }
  return ce == MOAT_OK && se == MOAT_OK;
}

/* The server's close_notify reaches a client that half-closed; a peer that
 * vanishes without close_notify is EOF; writing to a dead socket fails
 * without SIGPIPE ending the process. */
static void test_peer_gone(void) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  struct server_arg a = {.fd = sv[1]};
  pthread_t th;
  moat_context *ctx = client_ctx();
  moat_conn *c = moat_conn_new(ctx);
  moat_conn_set_hostname(c, "localhost");
  moat_conn_set_fd(c, sv[0]);
  CHECK(pthread_create(&th, NULL, server_main, &a) == 0);
  CHECK_EQ_INT(moat_conn_handshake(c), MOAT_OK);
  size_t w = 0, got = 0;
  uint8_t buf[64];
  CHECK_EQ_INT(moat_conn_write(c, (const uint8_t *)MSG, strlen(MSG), &w),
               MOAT_OK);
  CHECK_EQ_INT(moat_conn_read(c, buf, sizeof(buf), &got), MOAT_OK);
  /* The server sent close_notify and waits for ours; end the socket. */
  shutdown(sv[0], SHUT_WR);
  pthread_join(th, NULL);
  CHECK_EQ_INT(a.shutdown, MOAT_ERR_EOF);
  CHECK_EQ_INT(moat_conn_read(c, buf, sizeof(buf), &got), MOAT_ERR_CLOSED);
  moat_conn_free(c);
  close(sv[0]);
  close(sv[1]);

  /* The server's socket closes without close_notify: EOF, sticky. */
  moat_context *sctx = server_ctx();
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
  CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
  c = moat_conn_new(ctx);
  moat_conn *s = moat_conn_new(sctx);
  moat_conn_set_hostname(c, "localhost");
  moat_conn_set_fd(c, sv[0]);
  moat_conn_set_fd(s, sv[1]);
  CHECK(step_handshakes(c, s));
  moat_conn_free(s);
  close(sv[1]);
  CHECK_EQ_INT(moat_conn_read(c, buf, sizeof(buf), &got), MOAT_ERR_EOF);
  CHECK_EQ_INT(moat_conn_read(c, buf, sizeof(buf), &got), MOAT_ERR_EOF);
  /* Writing into the closed socket: an error, not SIGPIPE. */
  moat_err e = moat_conn_write(c, (const uint8_t *)MSG, strlen(MSG), &w);
  CHECK(e != MOAT_OK);
  moat_conn_free(c);
  close(sv[0]);

  /* A handshake towards a socket whose peer is already gone. */
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  close(sv[1]);
  c = moat_conn_new(ctx);
  moat_conn_set_hostname(c, "localhost");
  moat_conn_set_fd(c, sv[0]);
  e = moat_conn_handshake(c);
  CHECK(e == MOAT_ERR_SYSCALL || e == MOAT_ERR_EOF);
  moat_conn_free(c);
  close(sv[0]);
  moat_context_free(sctx);
  moat_context_free(ctx);
}

int main(void) {
  signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would end the test: it must not */
  test_accessors();
  test_send_takes_nothing();
  test_blocking();
  test_nonblocking();
  test_peer_gone();
  return t_done("test_fd");
}
