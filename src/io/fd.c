/* The fd layer: a moat_transport over a connected socket.
 *
 * Built only on the public API (moat.h).  The engine drives the transport
 * itself and loops until it would block, so blocking and non-blocking
 * sockets both work: a blocking socket simply never reports would-block. */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "moat.h"

static int fd_of(void *arg) {
  return (int)(intptr_t)arg;
}

static bool is_would_block(int e) {
  return e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS;
}

static long fd_send(void *arg, const uint8_t *data, size_t len,
                    bool *out_would_block) {
  *out_would_block = false;
  for (;;) {
    /* MSG_NOSIGNAL: a peer that went away gives EPIPE, not SIGPIPE. */
    ssize_t n = send(fd_of(arg), data, len, MSG_NOSIGNAL);
    if (n >= 0) {
      return (long)n;
    }
    if (errno == EINTR) {
      continue;
    }
    if (is_would_block(errno)) {
      *out_would_block = true;
    }
    return -1;
  }
}

static long fd_recv(void *arg, uint8_t *out, size_t cap,
                    bool *out_would_block) {
  *out_would_block = false;
  for (;;) {
    ssize_t n = recv(fd_of(arg), out, cap, 0);
    if (n >= 0) {
      return (long)n; /* 0 is end of stream */
    }
    if (errno == EINTR) {
      continue;
    }
    if (is_would_block(errno)) {
      *out_would_block = true;
    }
    return -1;
  }
}

static const moat_transport fd_transport = {
    .send = fd_send,
    .recv = fd_recv,
};

moat_err moat_conn_set_fd(moat_conn *conn, int fd) {
  if (conn == NULL || fd < 0) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  return moat_conn_set_transport(conn, &fd_transport, (void *)(intptr_t)fd);
}

int moat_conn_fd(const moat_conn *conn) {
  if (conn == NULL) {
    return -1;
  }
  void *arg = NULL;
  const moat_transport *t = moat_conn_get_transport(conn, &arg);
  if (t != &fd_transport) {
    return -1;
  }
  return fd_of(arg);
}
