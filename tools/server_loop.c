/* moat server's event loop: many connections on one thread, each a
 * moat_conn over memory buffers (the sans-IO core) that this file feeds
 * from and drains to a non-blocking socket, with epoll telling which
 * sockets are ready.
 *
 * Every connection sits on exactly one timer list: the handshake list
 * (a deadline for the whole handshake, counted from accept, so a client
 * that trickles bytes cannot stretch it), the idle list (reset by each
 * read), or the closing list (a short grace for the last bytes and the
 * peer's close_notify).  A list's timeout is the same for all its
 * members, so appending keeps it sorted by deadline and the loop only
 * looks at its head.
 *
 * With --threads N, N such loops share the listening socket
 * (EPOLLEXCLUSIVE wakes one of them per new connection); the context is
 * shared, each connection belongs to one thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "server.h"

#define HTTP_HEAD_MAX 8192
#define CLOSE_GRACE_MS 1000
/* Stop reading a client's requests while this much of our output waits
 * for it to read: a client that sends and never reads cannot grow the
 * output buffer without bound. */
#define OUTPUT_HIGH_WATER (256 * 1024)
/* Work done for one connection per wake-up, so one busy client cannot
 * starve the others (level-triggered epoll brings it back). */
#define ROUNDS_PER_WAKE 16
#define ACCEPTS_PER_WAKE 64
#define ACCEPT_PAUSE_MS 100
#define MAX_EVENTS 256

enum sess_state {
  S_HANDSHAKE, /* on the handshake list */
  S_SERVING,   /* echo or HTTP; on the idle list */
  S_CLOSING,   /* our close_notify sent, waiting for the peer's */
  S_DONE,      /* flushing the last output, then closed */
};

enum { LIST_HS, LIST_IDLE, LIST_CLOSING, NUM_LISTS };

struct sess {
  struct sess *prev, *next; /* on the timer list named by list */
  int list;
  int64_t deadline;
  moat_conn *conn;
  int fd;
  unsigned long id;
  enum sess_state state;
  uint32_t events; /* epoll interest registered */
  bool eof;        /* recv returned 0 */
  int sock_err;    /* errno of a failed recv / send */
  bool decided;    /* echo or HTTP chosen */
  bool http;
  char held[4]; /* first bytes, while they may still be "GET " */
  size_t held_len;
  char *head; /* HTTP request head, allocated once HTTP is chosen */
  size_t head_len;
  size_t tls_in;   /* TLS bytes received */
  size_t bytes;    /* application bytes received */
  int64_t started; /* accept time */
  const char *end;
  const char *shutdown; /* result of our close_notify, for the log */
  bool hs_ok;
  char from[64];
};

struct timer_list {
  struct sess *head, *tail;
};

/* What the threads share. */
struct shared {
  moat_context *ctx;
  const struct server_opts *o;
  int lfd;
  atomic_size_t open;     /* connections open, all threads */
  atomic_ulong next_id;   /* connection numbers */
  atomic_bool cap_logged; /* the --max-conns line was printed */
  int once_status;
};

struct loop {
  struct shared *sh;
  int ep;
  bool accepting;        /* lfd is in ep */
  bool stopped;          /* --once: accept no more */
  int64_t accept_resume; /* after an accept error; 0 = none */
  int64_t last_accept_log;
  unsigned long accept_errors; /* since the last log line */
  size_t open;                 /* this thread's connections */
  bool trimmed;                /* memory handed back since the last close */
  bool done;
  struct timer_list lists[NUM_LISTS];
  uint8_t buf[16384]; /* plaintext of one read; wiped after use */
};

static void list_remove(struct loop *L, struct sess *s) {
  struct timer_list *l = &L->lists[s->list];
  if (s->prev != NULL) {
    s->prev->next = s->next;
  } else {
    l->head = s->next;
  }
  if (s->next != NULL) {
    s->next->prev = s->prev;
  } else {
    l->tail = s->prev;
  }
  s->prev = s->next = NULL;
}

static void list_append(struct loop *L, struct sess *s, int list,
                        int64_t deadline) {
  struct timer_list *l = &L->lists[list];
  s->list = list;
  s->deadline = deadline;
  s->next = NULL;
  s->prev = l->tail;
  if (l->tail != NULL) {
    l->tail->next = s;
  } else {
    l->head = s;
  }
  l->tail = s;
}

static void list_move(struct loop *L, struct sess *s, int list,
                      int64_t deadline) {
  list_remove(L, s);
  list_append(L, s, list, deadline);
}

/* ---- accepting
 * -----------------------------------------------------------------*/

static void accept_enable(struct loop *L, bool on) {
  if (on == L->accepting || (on && L->stopped)) {
    return;
  }
  if (on) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (L->sh->o->threads > 1) {
      ev.events |= EPOLLEXCLUSIVE;
    }
    if (epoll_ctl(L->ep, EPOLL_CTL_ADD, L->sh->lfd, &ev) != 0) {
      perror("moat server: epoll_ctl (listening socket)");
      return;
    }
  } else {
    epoll_ctl(L->ep, EPOLL_CTL_DEL, L->sh->lfd, NULL);
  }
  L->accepting = on;
}

/* Below the cap again: accept, and say so if the cap was announced. */
static void accept_maybe_resume(struct loop *L, int64_t now) {
  if (L->accepting || L->stopped) {
    return;
  }
  if (L->accept_resume != 0 && now < L->accept_resume) {
    return;
  }
  size_t open = atomic_load(&L->sh->open);
  if (open >= L->sh->o->max_conns) {
    return;
  }
  L->accept_resume = 0;
  if (atomic_exchange(&L->sh->cap_logged, false)) {
    fprintf(stderr, "moat server: %zu connections open: accepting again\n",
            open);
  }
  accept_enable(L, true);
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
  snprintf(out, cap, ss->ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", a, port);
}

/* An accept error that a busy server must live through: out of file
 * descriptors or memory.  Accepting pauses briefly (the pending client
 * stays in the backlog, and a level-triggered listener would otherwise
 * wake the loop at once, for ever); one line per second at most says
 * so. */
static void accept_failed(struct loop *L, int err, int64_t now) {
  L->accept_errors++;
  if (now - L->last_accept_log >= 1000) {
    fprintf(stderr,
            "moat server: accept failed: %s (%zu connections open); "
            "pausing new connections for %d ms (%lu such error%s)\n",
            strerror(err), atomic_load(&L->sh->open), ACCEPT_PAUSE_MS,
            L->accept_errors, L->accept_errors == 1 ? "" : "s");
    L->last_accept_log = now;
    L->accept_errors = 0;
  }
  accept_enable(L, false);
  L->accept_resume = now + ACCEPT_PAUSE_MS;
}

static void sess_new(struct loop *L, int fd, const struct sockaddr_storage *ss,
                     int64_t now) {
  struct shared *sh = L->sh;
  struct sess *s = calloc(1, sizeof(*s));
  moat_conn *conn = s != NULL ? moat_conn_new(sh->ctx) : NULL;
  if (conn == NULL) {
    fprintf(stderr, "moat server: out of memory for a new connection\n");
    free(s);
    close(fd);
    return;
  }
  s->conn = conn;
  s->fd = fd;
  s->id = atomic_fetch_add(&sh->next_id, 1);
  s->started = now;
  s->events = EPOLLIN;
  peer_name(ss, s->from, sizeof(s->from));
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
  if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    fprintf(stderr, "moat server: conn %lu: epoll_ctl: %s\n", s->id,
            strerror(errno));
    moat_conn_free(conn);
    free(s);
    close(fd);
    return;
  }
  list_append(L, s, LIST_HS, now + sh->o->hs_timeout_ms);
  L->open++;
  L->trimmed = false;
  atomic_fetch_add(&sh->open, 1);
}

static void do_accept(struct loop *L, int64_t now) {
  struct shared *sh = L->sh;
  for (int i = 0; i < ACCEPTS_PER_WAKE && L->accepting; i++) {
    size_t open = atomic_load(&sh->open);
    if (open >= sh->o->max_conns) {
      accept_enable(L, false);
      if (!atomic_exchange(&sh->cap_logged, true)) {
        fprintf(stderr,
                "moat server: %zu connections open, the limit "
                "(--max-conns %zu): new clients wait in the listen backlog "
                "until one closes\n",
                open, sh->o->max_conns);
      }
      return;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = accept4(sh->lfd, (struct sockaddr *)&ss, &sl,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        return;
      }
      /* The client went away before we took it, or a signal: next. */
      if (err == EINTR || err == ECONNABORTED || err == EPROTO ||
          err == EPERM) {
        continue;
      }
      /* EMFILE, ENFILE, ENOMEM, ENOBUFS, and anything unforeseen: wait a
       * little and try again; a server does not exit for these. */
      accept_failed(L, err, now);
      return;
    }
    /* Each flight goes out as soon as it is written: the page and our
     * close_notify, say, must not wait for the client's delayed ACK. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sess_new(L, fd, &ss, now);
    if (sh->o->once) {
      accept_enable(L, false);
      L->stopped = true;
      return;
    }
  }
}

/* ---- one connection
 * ------------------------------------------------------------*/

static bool is_want(moat_err e) {
  return e == MOAT_ERR_WANT_READ || e == MOAT_ERR_WANT_WRITE;
}

/* A socket error that means the client went away. */
static bool is_peer_gone(int err) {
  return err == ECONNRESET || err == EPIPE || err == ETIMEDOUT ||
         err == EHOSTUNREACH;
}

static void sess_free(struct loop *L, struct sess *s) {
  list_remove(L, s);
  epoll_ctl(L->ep, EPOLL_CTL_DEL, s->fd, NULL);
  close(s->fd);
  moat_conn_free(s->conn);
  if (s->head != NULL) {
    util_wipe(s->head, HTTP_HEAD_MAX); /* the request's plaintext */
    free(s->head);
  }
  util_wipe(s->held, sizeof(s->held));
  if (L->sh->o->once) {
    L->sh->once_status = s->hs_ok ? 0 : 1;
    L->done = true;
  }
  free(s);
  L->open--;
  atomic_fetch_sub(&L->sh->open, 1);
}

/* Ends a connection whose handshake had completed, with one log line. */
static void sess_log_closed(const struct sess *s) {
  uint32_t reneg = moat_conn_renegotiations_refused(s->conn);
  char extra[64] = "";
  if (reneg > 0) {
    snprintf(extra, sizeof(extra), " renegotiations-refused=%u", reneg);
  }
  fprintf(
      stderr, "moat server: conn %lu closed: end=%s bytes=%zu shutdown=%s%s\n",
      s->id, util_or_dash(s->end), s->bytes, util_or_dash(s->shutdown), extra);
}

/* Finishes the connection once its output is out (or cannot go out). */
static void sess_finish(struct loop *L, struct sess *s) {
  if (s->hs_ok) {
    sess_log_closed(s);
  }
  sess_free(L, s);
}

/* The handshake did not complete: a real failure, or a client that left
 * without a word (a port probe, a health check). */
static void log_hs_failure(const struct sess *s, moat_err e, const char *why) {
  char msg[768];
  if (why != NULL) {
    snprintf(msg, sizeof(msg), "%s", why);
  } else if (s->sock_err != 0) {
    snprintf(msg, sizeof(msg), "SYSCALL [internal]: %s after %zu bytes",
             strerror(s->sock_err), s->tls_in);
  } else {
    util_describe_error(s->conn, e, msg, sizeof(msg));
  }
  if (s->tls_in == 0 && why == NULL) {
    fprintf(stderr,
            "moat server: conn %lu from %s: the client left before the "
            "handshake (it sent nothing)\n",
            s->id, s->from);
    return;
  }
  fprintf(stderr, "moat server: conn %lu from %s: handshake failed: %s\n",
          s->id, s->from, msg);
}

static void log_hs_done(const struct sess *s, int64_t now) {
  char subj[512];
  moat_conn *c = s->conn;
  server_client_subject(c, subj, sizeof(subj));
  fprintf(
      stderr,
      "moat server: conn %lu from %s: version=%s cipher=%s group=%s "
      "sigalg=%s peer-sigalg=%s alpn=%s sni=%s hrr=%s resumed=%s "
      "cert-comp=%s peer-cert-comp=%s rsl=%zu peer-rsl=%zu ms=%lld "
      "client-cert=\"%s\"\n",
      s->id, s->from, util_or_dash(moat_conn_version_name(c)),
      util_or_dash(moat_conn_cipher_name(c)),
      util_or_dash(moat_conn_group_name(c)),
      util_or_dash(moat_conn_sigalg_name(c)),
      util_or_dash(moat_conn_peer_sigalg_name(c)),
      util_or_dash(moat_conn_alpn(c)), util_or_dash(moat_conn_server_name(c)),
      moat_conn_hello_retry(c) ? "yes" : "no",
      moat_conn_session_reused(c) ? "yes" : "no",
      util_or_dash(moat_cert_compression_name(moat_conn_cert_compression(c))),
      util_or_dash(
          moat_cert_compression_name(moat_conn_peer_cert_compression(c))),
      moat_conn_record_size_limit(c), moat_conn_peer_record_size_limit(c),
      (long long)(now - s->started), subj);
}

/* Queues our close_notify and moves to the state that waits for the
 * peer's (or, when it already came, to flushing). */
static void sess_close_notify(struct loop *L, struct sess *s, int64_t now) {
  moat_err e = moat_conn_shutdown(s->conn);
  s->shutdown = moat_err_name(e);
  s->state = e == MOAT_ERR_WANT_READ ? S_CLOSING : S_DONE;
  list_move(L, s, LIST_CLOSING, now + CLOSE_GRACE_MS);
}

/* The connection failed (its alert, if any, is queued): flush, close. */
static void sess_fail(struct loop *L, struct sess *s, const char *end,
                      int64_t now) {
  if (s->end == NULL) {
    s->end = end;
  }
  s->state = S_DONE;
  list_move(L, s, LIST_CLOSING, now + CLOSE_GRACE_MS);
}

static bool write_app(struct sess *s, const uint8_t *data, size_t n) {
  size_t written = 0;
  moat_err e = moat_conn_write(s->conn, data, n, &written);
  if (e != MOAT_OK) {
    char msg[768];
    util_describe_error(s->conn, e, msg, sizeof(msg));
    fprintf(stderr, "moat server: conn %lu: write failed: %s\n", s->id, msg);
    s->end = "write-error";
    return false;
  }
  return true;
}

static bool head_complete(const struct sess *s) {
  return strstr(s->head, "\r\n\r\n") != NULL ||
         strstr(s->head, "\n\n") != NULL || s->head_len + 1 >= HTTP_HEAD_MAX;
}

/* Adds n bytes to the HTTP request head (what does not fit is dropped:
 * the page is sent once the head is full). */
static bool head_add(struct sess *s, const uint8_t *data, size_t n) {
  if (s->head == NULL) {
    s->head = malloc(HTTP_HEAD_MAX);
    if (s->head == NULL) {
      fprintf(stderr, "moat server: conn %lu: out of memory\n", s->id);
      s->end = "no-memory";
      return false;
    }
    s->head[0] = '\0';
  }
  size_t take = n;
  if (take > HTTP_HEAD_MAX - 1 - s->head_len) {
    take = HTTP_HEAD_MAX - 1 - s->head_len;
  }
  memcpy(s->head + s->head_len, data, take);
  s->head_len += take;
  s->head[s->head_len] = '\0';
  return true;
}

/* Application data arrived: echo it (what one read returned goes back as
 * one write, so one record in gives one record out), or collect an HTTP
 * request head and answer it.  Returns false when the connection must
 * end. */
static bool on_data(struct loop *L, struct sess *s, const uint8_t *data,
                    size_t n, int64_t now) {
  s->bytes += n;
  if (!s->decided) {
    /* Too few bytes to tell "GET " from an echo: hold them. */
    if (!L->sh->o->http && s->held_len + n < 4 &&
        memcmp(s->held, "GET ", s->held_len) == 0 &&
        memcmp(data, &"GET "[s->held_len], n) == 0) {
      memcpy(s->held + s->held_len, data, n);
      s->held_len += n;
      return true;
    }
    s->decided = true;
    char first[4];
    size_t have = s->held_len;
    memcpy(first, s->held, have);
    memcpy(first + have, data, n < 4 - have ? n : 4 - have);
    have += n < 4 - have ? n : 4 - have;
    s->http = L->sh->o->http || (have == 4 && memcmp(first, "GET ", 4) == 0);
    if (s->held_len > 0) {
      bool ok = s->http ? head_add(s, (const uint8_t *)s->held, s->held_len)
                        : write_app(s, (const uint8_t *)s->held, s->held_len);
      util_wipe(s->held, sizeof(s->held));
      s->held_len = 0;
      if (!ok) {
        return false;
      }
    }
  }
  if (!s->http) {
    return write_app(s, data, n);
  }
  if (!head_add(s, data, n)) {
    return false;
  }
  if (!head_complete(s)) {
    return true;
  }
  /* The page and our close_notify leave in one flight. */
  char page[5120];
  size_t plen = server_http_page(s->conn, page, sizeof(page));
  if (plen == 0 || !write_app(s, (const uint8_t *)page, plen)) {
    s->end = s->end != NULL ? s->end : "internal-error";
    return false;
  }
  s->end = "http-answered";
  sess_close_notify(L, s, now);
  return true;
}

static void step_handshake(struct loop *L, struct sess *s, int64_t now) {
  moat_err e = moat_conn_handshake(s->conn);
  if (is_want(e)) {
    if (s->sock_err != 0) {
      log_hs_failure(s, e, NULL);
      sess_fail(L, s, NULL, now);
    }
    return;
  }
  if (e != MOAT_OK) {
    log_hs_failure(s, e, NULL);
    sess_fail(L, s, NULL, now);
    return;
  }
  s->hs_ok = true;
  log_hs_done(s, now);
  s->state = S_SERVING;
  list_move(L, s, LIST_IDLE, now + L->sh->o->idle_timeout_ms);
  if (L->sh->o->key_update) {
    e = moat_conn_key_update(s->conn, true);
    if (e != MOAT_OK) {
      char msg[768];
      util_describe_error(s->conn, e, msg, sizeof(msg));
      fprintf(stderr, "moat server: conn %lu: key update failed: %s\n", s->id,
              msg);
      sess_fail(L, s, "key-update-error", now);
      return;
    }
    fprintf(stderr,
            "moat server: conn %lu: sent KeyUpdate (update_requested)\n",
            s->id);
  }
}

static void step_serving(struct loop *L, struct sess *s, int64_t now) {
  while (s->state == S_SERVING &&
         moat_conn_pending_output(s->conn) < OUTPUT_HIGH_WATER) {
    size_t n = 0;
    moat_err e = moat_conn_read(s->conn, L->buf, sizeof(L->buf), &n);
    if (e == MOAT_OK) {
      if (!on_data(L, s, L->buf, n, now)) {
        sess_fail(L, s, NULL, now);
      }
      continue;
    }
    if (is_want(e)) {
      if (s->sock_err != 0) {
        /* A reset after the handshake (while our tickets were on their
         * way, say) is a client that left, not a failed handshake. */
        sess_fail(L, s,
                  is_peer_gone(s->sock_err) ? "reset-by-peer" : "socket-error",
                  now);
      }
      break;
    }
    if (e == MOAT_ERR_CLOSED) {
      s->end = "close_notify";
      sess_close_notify(L, s, now);
    } else if (e == MOAT_ERR_EOF) {
      sess_fail(L, s, "eof-without-close_notify", now);
    } else {
      char msg[768];
      util_describe_error(s->conn, e, msg, sizeof(msg));
      fprintf(stderr, "moat server: conn %lu: read failed: %s\n", s->id, msg);
      sess_fail(L, s, "read-error", now);
    }
  }
  util_wipe(L->buf, sizeof(L->buf)); /* the plaintext of the last records */
}

/* After our close_notify: anything the peer still sends is read and
 * dropped until its close_notify or the end of the stream. */
static void step_closing(struct loop *L, struct sess *s, int64_t now) {
  for (;;) {
    moat_err e = moat_conn_shutdown(s->conn);
    s->shutdown = moat_err_name(e);
    if (e != MOAT_ERR_WANT_READ) {
      break;
    }
    if (moat_conn_pending(s->conn) == 0) {
      if (!s->eof && s->sock_err == 0) {
        return;
      }
      break;
    }
    size_t n = 0;
    while (moat_conn_read(s->conn, L->buf, sizeof(L->buf), &n) == MOAT_OK) {
      s->bytes += n;
    }
    util_wipe(L->buf, sizeof(L->buf));
  }
  s->state = S_DONE;
  (void)now;
}

/* Sends what the connection has queued.  false when the socket failed. */
static bool flush_out(struct sess *s) {
  for (;;) {
    const uint8_t *data;
    size_t len;
    moat_conn_output_view(s->conn, &data, &len);
    if (len == 0) {
      return true;
    }
    ssize_t w = send(s->fd, data, len, MSG_NOSIGNAL);
    if (w > 0) {
      moat_conn_output_consume(s->conn, (size_t)w);
      continue;
    }
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    }
    s->sock_err = w < 0 ? errno : EPIPE;
    /* What cannot be sent is dropped: nothing will read it. */
    moat_conn_output_consume(s->conn, len);
    return false;
  }
}

/* Receives into the connection's input buffer.  1 after progress (bytes
 * or the end of the stream), 0 when the socket has nothing, -1 on a
 * socket error. */
static int receive(struct sess *s) {
  uint8_t *at;
  size_t room;
  if (moat_conn_input_space(s->conn, &at, &room) != MOAT_OK || room == 0) {
    return 0;
  }
  ssize_t n;
  do {
    n = recv(s->fd, at, room, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    moat_conn_input_commit(s->conn, (size_t)n);
    s->tls_in += (size_t)n;
    return 1;
  }
  moat_conn_input_commit(s->conn, 0);
  if (n == 0) {
    s->eof = true;
    moat_conn_feed_eof(s->conn);
    return 1;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    return 0;
  }
  s->sock_err = errno;
  return -1;
}

static bool wants_input(const struct sess *s) {
  if (s->eof || s->sock_err != 0 || s->state == S_DONE) {
    return false;
  }
  return s->state != S_SERVING ||
         moat_conn_pending_output(s->conn) < OUTPUT_HIGH_WATER;
}

static void set_interest(struct loop *L, struct sess *s) {
  uint32_t ev = wants_input(s) ? EPOLLIN : 0;
  if (moat_conn_pending_output(s->conn) > 0) {
    ev |= EPOLLOUT;
  }
  if (ev != s->events) {
    struct epoll_event e = {.events = ev, .data.ptr = s};
    epoll_ctl(L->ep, EPOLL_CTL_MOD, s->fd, &e);
    s->events = ev;
  }
}

/* Runs a connection as far as its socket allows. */
static void sess_run(struct loop *L, struct sess *s, int64_t now) {
  if (s->state == S_SERVING) {
    /* The socket is ready: that is activity. */
    list_move(L, s, LIST_IDLE, now + L->sh->o->idle_timeout_ms);
  }
  for (int round = 0; round < ROUNDS_PER_WAKE; round++) {
    enum sess_state before = s->state;
    switch (s->state) {
    case S_HANDSHAKE:
      step_handshake(L, s, now);
      break;
    case S_SERVING:
      step_serving(L, s, now);
      break;
    case S_CLOSING:
      step_closing(L, s, now);
      break;
    default:
      break;
    }
    if (!flush_out(s) && s->state != S_DONE) {
      continue; /* the step sees sock_err and ends the connection */
    }
    if (s->state == S_DONE) {
      if (moat_conn_pending_output(s->conn) == 0 || s->sock_err != 0) {
        sess_finish(L, s);
        return;
      }
      break; /* wait for the socket to take the rest */
    }
    if (s->state != before) {
      continue; /* the next state may have input buffered already */
    }
    if (!wants_input(s)) {
      break;
    }
    int r = receive(s);
    if (r == 0) {
      if (s->state == S_SERVING && moat_conn_pending_output(s->conn) == 0) {
        moat_conn_release_buffers(s->conn); /* idle: keep only keys */
      }
      break;
    }
  }
  set_interest(L, s);
}

/* A timer ran out. */
static void sess_expired(struct loop *L, struct sess *s, int64_t now) {
  char why[160];
  switch (s->state) {
  case S_HANDSHAKE:
    snprintf(why, sizeof(why),
             "TIMEOUT: no complete handshake within %d ms (%zu bytes "
             "received)",
             L->sh->o->hs_timeout_ms, s->tls_in);
    log_hs_failure(s, MOAT_OK, why);
    sess_free(L, s);
    return;
  case S_SERVING:
    s->end = "idle-timeout";
    sess_close_notify(L, s, now);
    if (s->state == S_CLOSING) {
      s->state = S_DONE; /* no waiting for an idle peer's answer */
    }
    if (!flush_out(s) || moat_conn_pending_output(s->conn) == 0) {
      sess_finish(L, s);
      return;
    }
    set_interest(L, s);
    return;
  default:
    sess_finish(L, s); /* the grace is over */
    return;
  }
}

static void expire_timers(struct loop *L, int64_t now) {
  for (int l = 0; l < NUM_LISTS; l++) {
    /* A connection moved by sess_expired lands on the closing list with a
     * later deadline, so this ends. */
    while (L->lists[l].head != NULL && L->lists[l].head->deadline <= now) {
      sess_expired(L, L->lists[l].head, now);
    }
  }
}

static int next_timeout(const struct loop *L, int64_t now) {
  int64_t next = -1;
  for (int l = 0; l < NUM_LISTS; l++) {
    const struct sess *h = L->lists[l].head;
    if (h != NULL && (next < 0 || h->deadline < next)) {
      next = h->deadline;
    }
  }
  if (!L->accepting && !L->stopped) {
    /* Paused: at the cap (another thread's close frees a slot) or after
     * an accept error. */
    int64_t t = L->accept_resume != 0 ? L->accept_resume : now + 50;
    if (next < 0 || t < next) {
      next = t;
    }
  }
  if (next < 0) {
    return -1;
  }
  int64_t left = next - now;
  return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

static void loop_run(struct loop *L) {
  struct epoll_event evs[MAX_EVENTS];
  accept_enable(L, true);
  while (!L->done) {
    int n = epoll_wait(L->ep, evs, MAX_EVENTS, next_timeout(L, util_now_ms()));
    if (n < 0 && errno != EINTR) {
      perror("moat server: epoll_wait");
      return;
    }
    int64_t now = util_now_ms();
    for (int i = 0; i < n && !L->done; i++) {
      if (evs[i].data.ptr == NULL) {
        do_accept(L, now);
      } else {
        sess_run(L, evs[i].data.ptr, now);
      }
    }
    if (!L->done) {
      expire_timers(L, now);
    }
    accept_maybe_resume(L, now);
#if defined(__GLIBC__)
    /* With no connection left, hand the freed heap back to the system so
     * the server's size returns to its idle level after a burst. */
    if (L->open == 0 && !L->trimmed) {
      malloc_trim(0);
      L->trimmed = true;
    }
#endif
  }
}

static void loop_clear(struct loop *L) {
  for (int l = 0; l < NUM_LISTS; l++) {
    while (L->lists[l].head != NULL) {
      sess_free(L, L->lists[l].head);
    }
  }
  if (L->ep >= 0) {
    close(L->ep);
  }
}

static void *thread_main(void *arg) {
  struct loop *L = arg;
  loop_run(L);
  return NULL;
}

int server_run(moat_context *ctx, const struct server_opts *o, int lfd) {
  struct shared sh = {.ctx = ctx, .o = o, .lfd = lfd, .once_status = 1};
  atomic_init(&sh.open, 0);
  atomic_init(&sh.next_id, 1);
  atomic_init(&sh.cap_logged, false);
  int nt = o->threads > 0 ? o->threads : 1;
  struct loop *loops = calloc((size_t)nt, sizeof(*loops));
  pthread_t *tids = calloc((size_t)nt, sizeof(*tids));
  int status = 1;
  int started = 0;
  if (loops == NULL || tids == NULL) {
    fprintf(stderr, "moat server: out of memory\n");
    goto out;
  }
  for (int i = 0; i < nt; i++) {
    loops[i].sh = &sh;
    loops[i].trimmed = true;
    loops[i].ep = epoll_create1(EPOLL_CLOEXEC);
    if (loops[i].ep < 0) {
      perror("moat server: epoll_create1");
      goto out;
    }
  }
  for (int i = 1; i < nt; i++) {
    int r = pthread_create(&tids[i], NULL, thread_main, &loops[i]);
    if (r != 0) {
      fprintf(stderr, "moat server: cannot start thread %d: %s\n", i,
              strerror(r));
      break;
    }
    started++;
  }
  loop_run(&loops[0]); /* returns only for --once (one thread) */
  status = o->once ? sh.once_status : 1;
out:
  /* Threads serve for ever; only --once (one thread) gets here. */
  for (int i = 0; loops != NULL && i < nt; i++) {
    if (i == 0 || i > started) {
      loop_clear(&loops[i]);
    }
  }
  free(loops);
  free(tids);
  return status;
}
