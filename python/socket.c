/* _SSLSocket: one moat connection driven over a Python socket or over a
 * pair of MemoryBIOs (ssl.SSLObject).  moat itself is sans-IO; this file
 * moves the bytes, waits with the socket's timeout, and releases the GIL
 * around the engine and the system calls. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "pymoat.h"

/* TLS record header (RFC 8446 5.1) */
#define REC_HDR 5
#define WRITE_CHUNK (64 * 1024)

void pymoat_cb_enter(PyMoatSocket *s) {
  if (s->tstate != NULL) {
    PyEval_RestoreThread(s->tstate);
  }
}

void pymoat_cb_leave(PyMoatSocket *s) {
  if (s->tstate != NULL) {
    s->tstate = PyEval_SaveThread();
  }
}

/* Runs a moat call without the GIL; callbacks take it back through
 * s->tstate. */
#define UNLOCKED(s, stmt)                                                      \
  do {                                                                         \
    (s)->tstate = PyEval_SaveThread();                                         \
    stmt;                                                                      \
    PyEval_RestoreThread((s)->tstate);                                         \
    (s)->tstate = NULL;                                                        \
  } while (0)

static double now_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the socket side
 * -------------------------------------------------------*/

typedef struct io_ctx {
  int fd;
  double timeout; /* < 0: blocking; 0: non-blocking; else seconds */
  double deadline;
  const char *what; /* "handshake", "read", "write" */
} io_ctx;

static PyObject *get_sock(PyMoatSocket *s) {
  PyObject *sock = NULL;
  if (s->sock_ref == NULL) {
    return NULL;
  }
  sock = PyWeakref_GetObject(s->sock_ref);
  if (sock == NULL || sock == Py_None) {
    pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, NULL, NULL,
                 "Underlying socket connection gone");
    return NULL;
  }
  return sock; /* borrowed */
}

static int io_setup(PyMoatSocket *s, io_ctx *io, const char *what) {
  io->what = what;
  io->fd = -1;
  io->timeout = -1;
  if (s->sock_ref == NULL) {
    return 0;
  }
  PyObject *sock = get_sock(s);
  if (sock == NULL) {
    return -1;
  }
  PyObject *fd = PyObject_CallMethod(sock, "fileno", NULL);
  if (fd == NULL) {
    return -1;
  }
  io->fd = PyLong_AsLong(fd);
  Py_DECREF(fd);
  if (io->fd == -1) {
    if (!PyErr_Occurred()) {
      pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, NULL, NULL,
                   "Underlying socket has been closed.");
    }
    return -1;
  }
  PyObject *t = PyObject_CallMethod(sock, "gettimeout", NULL);
  if (t == NULL) {
    return -1;
  }
  io->timeout = t == Py_None ? -1.0 : PyFloat_AsDouble(t);
  Py_DECREF(t);
  if (io->timeout == -1.0 && PyErr_Occurred()) {
    return -1;
  }
  io->deadline = io->timeout > 0 ? now_mono() + io->timeout : 0;
  return 0;
}

static void raise_timeout(io_ctx *io) {
  PyErr_Format(PyExc_TimeoutError, "The %s operation timed out", io->what);
}

/* Waits until fd is ready; 0 ready, -1 error raised. */
static int io_wait(PyMoatSocket *s, io_ctx *io, bool for_write) {
  if (io->timeout == 0) {
    pymoat_raise_want(for_write);
    return -1;
  }
  for (;;) {
    int ms = -1;
    if (io->timeout > 0) {
      double left = io->deadline - now_mono();
      if (left <= 0) {
        raise_timeout(io);
        return -1;
      }
      ms = (int)(left * 1000) + 1;
    }
    struct pollfd p = {.fd = io->fd, .events = for_write ? POLLOUT : POLLIN};
    int r;
    Py_BEGIN_ALLOW_THREADS r = poll(&p, 1, ms);
    Py_END_ALLOW_THREADS if (r > 0) {
      return 0;
    }
    if (r == 0) {
      raise_timeout(io);
      return -1;
    }
    if (errno != EINTR) {
      PyErr_SetFromErrno(PyExc_OSError);
      return -1;
    }
    if (PyErr_CheckSignals() < 0) {
      return -1;
    }
  }
}

/* Sends everything moat has queued.  0 when all is out, -1 on error
 * (including want-write on a non-blocking socket). */
static int flush_sock(PyMoatSocket *s, io_ctx *io) {
  for (;;) {
    const uint8_t *p;
    size_t n;
    if (moat_conn_output_view(s->conn, &p, &n) != MOAT_OK || n == 0) {
      return 0;
    }
    ssize_t w;
    int e;
    Py_BEGIN_ALLOW_THREADS w = send(io->fd, p, n, MSG_NOSIGNAL);
    e = errno;
    Py_END_ALLOW_THREADS if (w > 0) {
      (void)moat_conn_output_consume(s->conn, (size_t)w);
      continue;
    }
    if (w < 0 && (e == EAGAIN || e == EWOULDBLOCK)) {
      if (io_wait(s, io, true) < 0) {
        return -1;
      }
      continue;
    }
    if (w < 0 && e == EINTR) {
      if (PyErr_CheckSignals() < 0) {
        return -1;
      }
      continue;
    }
    errno = e;
    PyErr_SetFromErrno(PyExc_OSError);
    return -1;
  }
}

/* Reads the rest of the current record (never past it, so that bytes
 * after a close_notify stay in the socket for STARTTLS) and feeds it.
 * 0 after progress (or EOF fed), -1 on error. */
static int fill_sock(PyMoatSocket *s, io_ctx *io) {
  uint8_t buf[REC_HDR + 16384 + 256];
  for (;;) {
    size_t want =
        s->rec_hdr_len < REC_HDR ? REC_HDR - s->rec_hdr_len : s->rec_need;
    if (want > sizeof(buf)) {
      want = sizeof(buf);
    }
    ssize_t r;
    int e;
    Py_BEGIN_ALLOW_THREADS r = recv(io->fd, buf, want, 0);
    e = errno;
    Py_END_ALLOW_THREADS if (r == 0) {
      (void)moat_conn_feed_eof(s->conn);
      return 0;
    }
    if (r < 0) {
      if (e == EAGAIN || e == EWOULDBLOCK) {
        if (io_wait(s, io, false) < 0) {
          return -1;
        }
        continue;
      }
      if (e == EINTR) {
        if (PyErr_CheckSignals() < 0) {
          return -1;
        }
        continue;
      }
      errno = e;
      PyErr_SetFromErrno(PyExc_OSError);
      return -1;
    }
    size_t got = (size_t)r;
    if (s->rec_hdr_len < REC_HDR) {
      memcpy(s->rec_hdr + s->rec_hdr_len, buf, got);
      s->rec_hdr_len += got;
      if (s->rec_hdr_len == REC_HDR) {
        s->rec_need = (size_t)s->rec_hdr[3] << 8 | s->rec_hdr[4];
        if (s->rec_need == 0) {
          s->rec_hdr_len = 0;
        }
      }
    } else {
      s->rec_need -= got;
      if (s->rec_need == 0) {
        s->rec_hdr_len = 0;
      }
    }
    size_t off = 0;
    while (off < got) {
      size_t used = 0;
      moat_err err = moat_conn_feed(s->conn, buf + off, got - off, &used);
      if (err != MOAT_OK && err != MOAT_ERR_WANT_READ) {
        pymoat_raise_conn(s, err);
        return -1;
      }
      if (used == 0) {
        pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, "SSL",
                     "INTERNAL_ERROR", "the connection's input is full");
        return -1;
      }
      off += used;
    }
    return 0;
  }
}

/* ---- the MemoryBIO side
 * ------------------------------------------------------*/

static void flush_bio(PyMoatSocket *s) {
  const uint8_t *p;
  size_t n;
  while (moat_conn_output_view(s->conn, &p, &n) == MOAT_OK && n > 0) {
    if (pymoat_bio_append(s->out_bio, p, n) < 0) {
      PyErr_Clear();
      return;
    }
    (void)moat_conn_output_consume(s->conn, n);
  }
}

/* 0 after feeding something (or EOF), -1 with SSLWantReadError. */
static int fill_bio(PyMoatSocket *s) {
  PyMoatBIO *b = s->in_bio;
  size_t avail = pymoat_bio_pending(b);
  if (avail == 0) {
    if (b->eof_written) {
      (void)moat_conn_feed_eof(s->conn);
      return 0;
    }
    pymoat_raise_want(false);
    return -1;
  }
  size_t used = 0;
  moat_err err = moat_conn_feed(s->conn, b->buf + b->off, avail, &used);
  b->off += used;
  if (b->off == b->len) {
    b->off = b->len = 0;
  }
  if (err != MOAT_OK && err != MOAT_ERR_WANT_READ) {
    pymoat_raise_conn(s, err);
    return -1;
  }
  if (used == 0) {
    pymoat_raise_want(false);
    return -1;
  }
  return 0;
}

static int flush_out(PyMoatSocket *s, io_ctx *io) {
  if (s->sock_ref == NULL) {
    flush_bio(s);
    return 0;
  }
  return flush_sock(s, io);
}

static int fill_in(PyMoatSocket *s, io_ctx *io) {
  return s->sock_ref == NULL ? fill_bio(s) : fill_sock(s, io);
}

/* ---- operations
 * ----------------------------------------------------------------*/

static int run_handshake(PyMoatSocket *s, io_ctx *io) {
  if (pymoat_ctx_no_versions(s->ctx)) {
    pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, "SSL",
                 "NO_PROTOCOLS_AVAILABLE",
                 "no protocols available: the context allows only versions "
                 "moat refuses (SSL 3.0, TLS 1.0, TLS 1.1)");
    return -1;
  }
  for (;;) {
    moat_err err;
    UNLOCKED(s, err = moat_conn_handshake(s->conn));
    if (PyErr_Occurred()) {
      flush_out(s, io);
      return -1;
    }
    if (err == MOAT_OK) {
      if (flush_out(s, io) < 0) {
        return -1;
      }
      s->handshake_done = true;
      return 0;
    }
    if (flush_out(s, io) < 0) {
      return -1;
    }
    if (err == MOAT_ERR_WANT_WRITE) {
      continue;
    }
    if (err != MOAT_ERR_WANT_READ) {
      pymoat_raise_conn(s, err);
      return -1;
    }
    if (fill_in(s, io) < 0) {
      return -1;
    }
  }
}

static PyObject *sock_do_handshake_impl(PyMoatSocket *s, PyObject *unused) {
  io_ctx io;
  if (io_setup(s, &io, "handshake") < 0 || run_handshake(s, &io) < 0) {
    return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject *sock_read_impl(PyMoatSocket *s, PyObject *args) {
  Py_ssize_t len;
  Py_buffer buf = {0};
  int have_buf = 0;
  if (!PyArg_ParseTuple(args, "n|w*:read", &len, &buf)) {
    return NULL;
  }
  have_buf = buf.buf != NULL;
  PyObject *result = NULL;
  uint8_t *out;
  if (have_buf) {
    if (len <= 0 || len > buf.len) {
      len = buf.len;
    }
    out = buf.buf;
  } else {
    if (len < 0) {
      PyErr_SetString(PyExc_ValueError, "size should not be negative");
      return NULL;
    }
    result = PyBytes_FromStringAndSize(NULL, len);
    if (result == NULL) {
      return NULL;
    }
    out = (uint8_t *)PyBytes_AS_STRING(result);
  }
  io_ctx io;
  size_t got = 0;
  if (io_setup(s, &io, "read") < 0) {
    goto fail;
  }
  if (len == 0) {
    goto done;
  }
  if (!moat_conn_handshake_done(s->conn) && run_handshake(s, &io) < 0) {
    goto fail;
  }
  for (;;) {
    moat_err err;
    UNLOCKED(s, err = moat_conn_read(s->conn, out, (size_t)len, &got));
    if (flush_out(s, &io) < 0 && err == MOAT_OK) {
      PyErr_Clear(); /* a reply we could not send yet goes out later */
    }
    if (PyErr_Occurred()) {
      goto fail;
    }
    if (err == MOAT_OK && got > 0) {
      break;
    }
    if (err == MOAT_ERR_CLOSED) {
      if (s->shutdown_sent) {
        /* as the stdlib: after our own close_notify, the peer's is
         * SSLZeroReturnError, not the end of the data */
        pymoat_raise_conn(s, err);
        goto fail;
      }
      got = 0;
      break;
    }
    if (err != MOAT_OK && err != MOAT_ERR_WANT_READ &&
        err != MOAT_ERR_WANT_WRITE) {
      if (err == MOAT_ERR_EOF &&
          (s->ctx->options & PY_OP_IGNORE_UNEXPECTED_EOF)) {
        got = 0;
        break;
      }
      pymoat_raise_conn(s, err);
      goto fail;
    }
    if (err == MOAT_ERR_WANT_READ && fill_in(s, &io) < 0) {
      goto fail;
    }
  }
done:
  if (have_buf) {
    PyBuffer_Release(&buf);
    return PyLong_FromSize_t(got);
  }
  if ((Py_ssize_t)got != len) {
    _PyBytes_Resize(&result, (Py_ssize_t)got);
  }
  return result;
fail:
  if (have_buf) {
    PyBuffer_Release(&buf);
  }
  Py_XDECREF(result);
  return NULL;
}

static PyObject *sock_write_impl(PyMoatSocket *s, PyObject *arg) {
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
    return NULL;
  }
  io_ctx io;
  if (io_setup(s, &io, "write") < 0) {
    PyBuffer_Release(&view);
    return NULL;
  }
  if (s->pending_write > 0) {
    /* the caller retries the write that wanted to write: its record is
     * already queued */
    Py_ssize_t n = s->pending_write;
    PyBuffer_Release(&view);
    if (flush_out(s, &io) < 0) {
      return NULL;
    }
    s->pending_write = 0;
    return PyLong_FromSsize_t(n);
  }
  if (!moat_conn_handshake_done(s->conn) && run_handshake(s, &io) < 0) {
    PyBuffer_Release(&view);
    return NULL;
  }
  /* Everything is written, as OpenSSL does without partial writes (the
   * stdlib's send() on a blocking socket relies on it), a chunk of records
   * at a time so the output buffer stays small. */
  size_t total = 0, len = (size_t)view.len;
  while (total < len) {
    size_t n = len - total > WRITE_CHUNK ? WRITE_CHUNK : len - total;
    size_t w = 0;
    moat_err err;
    UNLOCKED(s, err = moat_conn_write(
                    s->conn, (const uint8_t *)view.buf + total, n, &w));
    if (err != MOAT_OK) {
      PyBuffer_Release(&view);
      flush_out(s, &io);
      PyErr_Clear();
      pymoat_raise_conn(s, err);
      return NULL;
    }
    total += w;
    if (flush_out(s, &io) < 0) {
      PyBuffer_Release(&view);
      if (PyErr_ExceptionMatches(pymoat_state.SSLWantWriteError)) {
        /* queued: the retry with the same data flushes and counts it */
        s->pending_write = (Py_ssize_t)total;
      }
      return NULL;
    }
  }
  PyBuffer_Release(&view);
  return PyLong_FromSize_t(total);
}

static PyObject *sock_pending(PyMoatSocket *s, PyObject *unused) {
  return PyLong_FromSize_t(moat_conn_pending(s->conn));
}

static PyObject *sock_shutdown_impl(PyMoatSocket *s, PyObject *unused) {
  io_ctx io;
  if (io_setup(s, &io, "write") < 0) {
    return NULL;
  }
  int rounds = 0;
  s->shutdown_sent = true; /* the first call sends our close_notify */
  for (;;) {
    moat_err err;
    UNLOCKED(s, err = moat_conn_shutdown(s->conn));
    if (flush_out(s, &io) < 0) {
      return NULL;
    }
    if (err == MOAT_OK || err == MOAT_ERR_CLOSED || err == MOAT_ERR_EOF) {
      break;
    }
    if (err != MOAT_ERR_WANT_READ && err != MOAT_ERR_WANT_WRITE) {
      if (moat_conn_handshake_done(s->conn) || rounds > 0) {
        pymoat_raise_conn(s, err);
        return NULL;
      }
      break; /* never connected: nothing to close */
    }
    if (err == MOAT_ERR_WANT_READ) {
      /* Application data the peer sent before its close_notify is
       * dropped, as the stdlib does on shutdown. */
      uint8_t sink[4096];
      size_t got = 0;
      if (moat_conn_pending(s->conn) > 0) {
        (void)moat_conn_read(s->conn, sink, sizeof(sink), &got);
        continue;
      }
      io.what = "read";
      if (fill_in(s, &io) < 0) {
        return NULL;
      }
    }
    rounds++;
  }
  if (s->sock_ref != NULL) {
    PyObject *sock = get_sock(s);
    return sock ? Py_NewRef(sock) : NULL;
  }
  Py_RETURN_NONE;
}

/* ---- inspection
 * ------------------------------------------------------------------*/

static PyObject *sock_getpeercert(PyMoatSocket *s, PyObject *args,
                                  PyObject *kw) {
  static char *kwlist[] = {"binary_form", NULL};
  int binary = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:getpeercert", kwlist,
                                   &binary)) {
    return NULL;
  }
  if (!moat_conn_handshake_done(s->conn)) {
    PyErr_SetString(PyExc_ValueError, "handshake not done yet");
    return NULL;
  }
  const uint8_t *der;
  size_t len;
  if (moat_conn_peer_chain_len(s->conn) == 0 ||
      moat_conn_peer_cert_der(s->conn, 0, &der, &len) != MOAT_OK) {
    Py_RETURN_NONE;
  }
  if (binary) {
    return PyBytes_FromStringAndSize((const char *)der, (Py_ssize_t)len);
  }
  if (moat_context_verify_mode(moat_conn_context(s->conn)) ==
      MOAT_VERIFY_NONE) {
    return PyDict_New();
  }
  return pymoat_cert_dict(der, len);
}

static PyObject *chain_list(PyMoatSocket *s, bool verified) {
  size_t n = verified ? moat_conn_verified_chain_len(s->conn)
                      : moat_conn_peer_chain_len(s->conn);
  PyObject *list = PyList_New(0);
  for (size_t i = 0; list != NULL && i < n; i++) {
    const uint8_t *der;
    size_t len;
    moat_err err = verified
                       ? moat_conn_verified_cert_der(s->conn, i, &der, &len)
                       : moat_conn_peer_cert_der(s->conn, i, &der, &len);
    if (err != MOAT_OK) {
      continue;
    }
    PyObject *c = pymoat_certificate_new(der, len);
    if (c == NULL || PyList_Append(list, c) < 0) {
      Py_XDECREF(c);
      Py_CLEAR(list);
    } else {
      Py_DECREF(c);
    }
  }
  return list;
}

static PyObject *sock_verified_chain(PyMoatSocket *s, PyObject *unused) {
  return chain_list(s, true);
}

static PyObject *sock_unverified_chain(PyMoatSocket *s, PyObject *unused) {
  return chain_list(s, false);
}

static PyObject *sock_cipher(PyMoatSocket *s, PyObject *unused) {
  const char *name = moat_conn_cipher_openssl_name(s->conn);
  if (name == NULL || !moat_conn_handshake_done(s->conn)) {
    Py_RETURN_NONE;
  }
  return Py_BuildValue("(ssi)", name, moat_conn_version_name(s->conn),
                       moat_conn_cipher_bits(s->conn));
}

static PyObject *sock_shared_ciphers(PyMoatSocket *s, PyObject *unused) {
  if (!s->server_side || !moat_conn_handshake_done(s->conn)) {
    Py_RETURN_NONE;
  }
  PyObject *list = PyList_New(0);
  moat_cipher_info ci;
  for (size_t i = 0; list != NULL && moat_conn_shared_cipher(s->conn, i, &ci);
       i++) {
    PyObject *t = Py_BuildValue("(ssi)", ci.openssl_name, ci.protocol, ci.bits);
    if (t == NULL || PyList_Append(list, t) < 0) {
      Py_XDECREF(t);
      Py_CLEAR(list);
    } else {
      Py_DECREF(t);
    }
  }
  return list;
}

static PyObject *sock_version(PyMoatSocket *s, PyObject *unused) {
  const char *v = moat_conn_version_name(s->conn);
  if (v == NULL || !moat_conn_handshake_done(s->conn)) {
    Py_RETURN_NONE;
  }
  return PyUnicode_FromString(v);
}

static PyObject *sock_alpn(PyMoatSocket *s, PyObject *unused) {
  const char *a = moat_conn_alpn(s->conn);
  if (a == NULL) {
    Py_RETURN_NONE;
  }
  return PyUnicode_DecodeLatin1(a, (Py_ssize_t)strlen(a), NULL);
}

static PyObject *sock_compression(PyMoatSocket *s, PyObject *unused) {
  Py_RETURN_NONE; /* compression is refused (DESIGN.md) */
}

static PyObject *sock_channel_binding(PyMoatSocket *s, PyObject *args,
                                      PyObject *kw) {
  static char *kwlist[] = {"cb_type", NULL};
  const char *type = "tls-unique";
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|s:get_channel_binding", kwlist,
                                   &type)) {
    return NULL;
  }
  if (strcmp(type, "tls-unique") != 0) {
    PyErr_Format(PyExc_ValueError, "'%s' channel binding type not implemented",
                 type);
    return NULL;
  }
  if (!moat_conn_handshake_done(s->conn)) {
    Py_RETURN_NONE;
  }
  uint8_t out[64];
  size_t len = 0;
  if (moat_conn_tls_unique(s->conn, out, sizeof(out), &len) != MOAT_OK ||
      len == 0) {
    Py_RETURN_NONE;
  }
  return PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)len);
}

static PyObject *sock_verify_pha(PyMoatSocket *s, PyObject *unused) {
  moat_err err = moat_conn_verify_client_post_handshake(s->conn);
  if (err != MOAT_OK) {
    if (err == MOAT_ERR_BAD_STATE || err == MOAT_ERR_UNSUPPORTED) {
      pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, "SSL",
                   err == MOAT_ERR_UNSUPPORTED ? "WRONG_SSL_VERSION"
                                               : "EXTENSION_NOT_RECEIVED",
                   moat_conn_error_detail(s->conn));
      return NULL;
    }
    pymoat_raise_conn(s, err);
    return NULL;
  }
  /* the CertificateRequest goes out with the next write or read */
  if (s->sock_ref == NULL) {
    flush_bio(s);
  }
  Py_RETURN_NONE;
}

/* ---- attributes
 * ----------------------------------------------------------------------*/

static PyObject *get_context(PyMoatSocket *s, void *x) {
  return Py_NewRef((PyObject *)s->ctx);
}

static int set_context(PyMoatSocket *s, PyObject *v, void *x) {
  if (v == NULL || !PyObject_TypeCheck(v, &PyMoatContext_Type)) {
    PyErr_SetString(PyExc_TypeError, "The value must be a SSLContext");
    return -1;
  }
  PyMoatContext *c = (PyMoatContext *)v;
  moat_context *m = pymoat_ctx_for(c, s->server_side);
  /* After the handshake the connection keeps the policy it ran with (as
   * with OpenSSL, a new context only matters for what is still to come:
   * nothing, in TLS 1.3 without renegotiation). */
  if (m == NULL || (!moat_conn_handshake_done(s->conn) &&
                    moat_conn_set_context(s->conn, m) != MOAT_OK)) {
    PyErr_SetString(PyExc_ValueError,
                    "the context cannot serve this connection");
    return -1;
  }
  Py_INCREF(c);
  Py_SETREF(s->ctx, c);
  return 0;
}

static PyObject *get_server_side(PyMoatSocket *s, void *x) {
  return PyBool_FromLong(s->server_side);
}

static PyObject *get_server_hostname(PyMoatSocket *s, void *x) {
  return Py_NewRef(s->server_hostname ? s->server_hostname : Py_None);
}

static PyObject *get_owner(PyMoatSocket *s, void *x) {
  if (s->owner_ref == NULL) {
    Py_RETURN_NONE;
  }
  PyObject *o = PyWeakref_GetObject(s->owner_ref);
  return Py_NewRef(o ? o : Py_None);
}

static int set_owner(PyMoatSocket *s, PyObject *v, void *x) {
  PyObject *ref = NULL;
  if (v != NULL && v != Py_None) {
    ref = PyWeakref_NewRef(v, NULL);
    if (ref == NULL) {
      return -1;
    }
  }
  Py_XSETREF(s->owner_ref, ref);
  return 0;
}

static PyObject *get_session(PyMoatSocket *s, void *x) {
  if (s->server_side) {
    Py_RETURN_NONE;
  }
  moat_session *sess = moat_conn_get_session(s->conn);
  if (sess == NULL) {
    Py_RETURN_NONE;
  }
  return pymoat_session_wrap(sess, s->ctx);
}

static int set_session(PyMoatSocket *s, PyObject *v, void *x) {
  if (v == NULL || !PyObject_TypeCheck(v, &PyMoatSession_Type)) {
    PyErr_SetString(PyExc_TypeError, "Value is not a SSLSession.");
    return -1;
  }
  PyMoatSession *ps = (PyMoatSession *)v;
  if (ps->ctx != s->ctx) {
    PyErr_SetString(PyExc_ValueError,
                    "Session refers to a different SSLContext.");
    return -1;
  }
  if (s->server_side) {
    PyErr_SetString(PyExc_ValueError,
                    "Cannot set session for server-side SSLSocket.");
    return -1;
  }
  if (moat_conn_handshake_done(s->conn)) {
    PyErr_SetString(PyExc_ValueError, "Cannot set session after handshake.");
    return -1;
  }
  moat_err err = moat_conn_set_session(s->conn, ps->session);
  if (err != MOAT_OK) {
    pymoat_raise_conn(s, err);
    return -1;
  }
  Py_XSETREF(s->session_obj, Py_NewRef(v));
  return 0;
}

static PyObject *get_session_reused(PyMoatSocket *s, void *x) {
  return PyBool_FromLong(moat_conn_session_reused(s->conn));
}

static PyGetSetDef sock_getset[] = {
    {"context", (getter)get_context, (setter)set_context, NULL},
    {"server_side", (getter)get_server_side, NULL, NULL},
    {"server_hostname", (getter)get_server_hostname, NULL, NULL},
    {"owner", (getter)get_owner, (setter)set_owner, NULL},
    {"session", (getter)get_session, (setter)set_session, NULL},
    {"session_reused", (getter)get_session_reused, NULL, NULL},
    {NULL},
};

static PyObject *sock_do_handshake(PyMoatSocket *s, PyObject *unused) {
  return pymoat_msg_finish(s, sock_do_handshake_impl(s, unused));
}

static PyObject *sock_read(PyMoatSocket *s, PyObject *args) {
  return pymoat_msg_finish(s, sock_read_impl(s, args));
}

static PyObject *sock_write(PyMoatSocket *s, PyObject *arg) {
  return pymoat_msg_finish(s, sock_write_impl(s, arg));
}

static PyObject *sock_shutdown(PyMoatSocket *s, PyObject *unused) {
  return pymoat_msg_finish(s, sock_shutdown_impl(s, unused));
}

static PyMethodDef sock_methods[] = {
    {"do_handshake", (PyCFunction)sock_do_handshake, METH_NOARGS, NULL},
    {"read", (PyCFunction)sock_read, METH_VARARGS, NULL},
    {"write", (PyCFunction)sock_write, METH_O, NULL},
    {"pending", (PyCFunction)sock_pending, METH_NOARGS, NULL},
    {"shutdown", (PyCFunction)sock_shutdown, METH_NOARGS, NULL},
    {"getpeercert", (PyCFunction)(void (*)(void))sock_getpeercert,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"get_verified_chain", (PyCFunction)sock_verified_chain, METH_NOARGS, NULL},
    {"get_unverified_chain", (PyCFunction)sock_unverified_chain, METH_NOARGS,
     NULL},
    {"cipher", (PyCFunction)sock_cipher, METH_NOARGS, NULL},
    {"shared_ciphers", (PyCFunction)sock_shared_ciphers, METH_NOARGS, NULL},
    {"version", (PyCFunction)sock_version, METH_NOARGS, NULL},
    {"selected_alpn_protocol", (PyCFunction)sock_alpn, METH_NOARGS, NULL},
    {"compression", (PyCFunction)sock_compression, METH_NOARGS, NULL},
    {"get_channel_binding", (PyCFunction)(void (*)(void))sock_channel_binding,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"verify_client_post_handshake", (PyCFunction)sock_verify_pha, METH_NOARGS,
     NULL},
    {"_moat_export_keying_material",
     (PyCFunction)(void (*)(void))pymoat_extras_exporter,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"_moat_key_update", (PyCFunction)(void (*)(void))pymoat_extras_key_update,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"_moat_info", (PyCFunction)pymoat_extras_info, METH_NOARGS, NULL},
    {NULL},
};

static int sock_traverse(PyMoatSocket *s, visitproc visit, void *arg) {
  Py_VISIT(s->ctx);
  Py_VISIT(s->in_bio);
  Py_VISIT(s->out_bio);
  Py_VISIT(s->session_obj);
  return 0;
}

static int sock_clear(PyMoatSocket *s) {
  Py_CLEAR(s->session_obj);
  return 0;
}

static void sock_dealloc(PyMoatSocket *s) {
  PyObject_GC_UnTrack(s);
  moat_conn_set_msg_cb(s->conn, NULL, NULL);
  moat_conn_free(s->conn);
  for (int i = 0; i < 3; i++) {
    Py_CLEAR(s->msg_exc[i]);
  }
  Py_CLEAR(s->ctx);
  Py_CLEAR(s->sock_ref);
  Py_CLEAR(s->in_bio);
  Py_CLEAR(s->out_bio);
  Py_CLEAR(s->owner_ref);
  Py_CLEAR(s->server_hostname);
  Py_CLEAR(s->session_obj);
  Py_TYPE(s)->tp_free((PyObject *)s);
}

PyTypeObject PyMoatSocket_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_ssl._SSLSocket",
    .tp_basicsize = sizeof(PyMoatSocket),
    .tp_dealloc = (destructor)sock_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)sock_traverse,
    .tp_clear = (inquiry)sock_clear,
    .tp_methods = sock_methods,
    .tp_getset = sock_getset,
};

PyObject *pymoat_socket_new(PyMoatContext *ctx, PyObject *sock, PyMoatBIO *in,
                            PyMoatBIO *out, bool server_side,
                            PyObject *hostname, PyObject *owner,
                            PyObject *session) {
  moat_context *m = pymoat_ctx_for(ctx, server_side);
  if (m == NULL) {
    PyErr_SetString(pymoat_state.SSLError,
                    server_side ? "Cannot create a server socket with a "
                                  "PROTOCOL_TLS_CLIENT context"
                                : "Cannot create a client socket with a "
                                  "PROTOCOL_TLS_SERVER context");
    return NULL;
  }
  PyObject *host = NULL;
  if (hostname != NULL) {
    if (PyBytes_Check(hostname)) {
      host = PyUnicode_DecodeASCII(PyBytes_AS_STRING(hostname),
                                   PyBytes_GET_SIZE(hostname), "strict");
    } else {
      host = Py_NewRef(hostname);
    }
    if (host == NULL) {
      return NULL;
    }
    Py_ssize_t hl;
    const char *h = PyUnicode_AsUTF8AndSize(host, &hl);
    if (h == NULL) {
      Py_DECREF(host);
      return NULL;
    }
    if (hl == 0 || h[0] == '.') {
      Py_DECREF(host);
      PyErr_SetString(PyExc_ValueError, "server_hostname cannot be an empty "
                                        "string or start with a leading dot.");
      return NULL;
    }
    if ((Py_ssize_t)strlen(h) != hl) {
      Py_DECREF(host);
      PyErr_SetString(PyExc_TypeError,
                      "server_hostname must not contain null character");
      return NULL;
    }
  }
  PyMoatSocket *s = PyObject_GC_New(PyMoatSocket, &PyMoatSocket_Type);
  if (s == NULL) {
    Py_XDECREF(host);
    return NULL;
  }
  memset((char *)s + sizeof(PyObject), 0, sizeof(*s) - sizeof(PyObject));
  s->server_hostname = host;
  s->server_side = server_side;
  s->ctx = (PyMoatContext *)Py_NewRef((PyObject *)ctx);
  s->conn = moat_conn_new(m);
  if (s->conn == NULL) {
    Py_DECREF(s);
    return PyErr_NoMemory();
  }
  moat_conn_set_user_data(s->conn, s);
  if (host != NULL && !server_side) {
    moat_err err = moat_conn_set_hostname(s->conn, PyUnicode_AsUTF8(host));
    if (err != MOAT_OK) {
      Py_DECREF(s);
      PyErr_Format(PyExc_ValueError, "invalid server_hostname %R", host);
      return NULL;
    }
  }
  if (sock != NULL) {
    s->sock_ref = PyWeakref_NewRef(sock, NULL);
    if (s->sock_ref == NULL) {
      Py_DECREF(s);
      return NULL;
    }
  } else {
    s->in_bio = (PyMoatBIO *)Py_NewRef((PyObject *)in);
    s->out_bio = (PyMoatBIO *)Py_NewRef((PyObject *)out);
  }
  if (owner != NULL && owner != Py_None && set_owner(s, owner, NULL) < 0) {
    Py_DECREF(s);
    return NULL;
  }
  if (session != NULL && session != Py_None &&
      set_session(s, session, NULL) < 0) {
    Py_DECREF(s);
    return NULL;
  }
  pymoat_msg_attach(s);
  PyObject_GC_Track(s);
  return (PyObject *)s;
}
