/* The _ssl replacement: shared declarations of the module's files.
 *
 * The module is a client of include/moat.h only.  Each file holds one
 * Python type or one group of module functions. */
#ifndef PYMOAT_H
#define PYMOAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>

#include "moat.h"

/* OpenSSL's SSL_ERROR_* numbers: the first item of an SSLError's args. */
#define PY_SSL_ERROR_NONE 0
#define PY_SSL_ERROR_SSL 1
#define PY_SSL_ERROR_WANT_READ 2
#define PY_SSL_ERROR_WANT_WRITE 3
#define PY_SSL_ERROR_WANT_X509_LOOKUP 4
#define PY_SSL_ERROR_SYSCALL 5
#define PY_SSL_ERROR_ZERO_RETURN 6
#define PY_SSL_ERROR_WANT_CONNECT 7
#define PY_SSL_ERROR_EOF 8
#define PY_SSL_ERROR_INVALID_ERROR_CODE 10

/* PROTOCOL_* */
#define PY_PROTO_TLS 2
#define PY_PROTO_TLSv1 3
#define PY_PROTO_TLSv1_1 4
#define PY_PROTO_TLSv1_2 5
#define PY_PROTO_TLS_CLIENT 0x10
#define PY_PROTO_TLS_SERVER 0x11

/* OP_* (OpenSSL 3.0's bit values) */
#define PY_OP_ALL 0x80000050UL
#define PY_OP_LEGACY_SERVER_CONNECT 0x4UL
#define PY_OP_IGNORE_UNEXPECTED_EOF 0x80UL
#define PY_OP_NO_TICKET 0x4000UL
#define PY_OP_NO_COMPRESSION 0x20000UL
#define PY_OP_NO_RENEGOTIATION 0x40000000UL
#define PY_OP_ENABLE_MIDDLEBOX_COMPAT 0x100000UL
#define PY_OP_CIPHER_SERVER_PREFERENCE 0x400000UL
#define PY_OP_NO_SSLv3 0x2000000UL
#define PY_OP_NO_TLSv1 0x4000000UL
#define PY_OP_NO_TLSv1_2 0x8000000UL
#define PY_OP_NO_TLSv1_1 0x10000000UL
#define PY_OP_NO_TLSv1_3 0x20000000UL
#define PY_OP_ENABLE_KTLS 0x8UL

#define PY_PROTO_MINIMUM_SUPPORTED -2
#define PY_PROTO_MAXIMUM_SUPPORTED -1

#define PY_HOSTFLAG_NEVER_CHECK_SUBJECT 0x20

typedef struct module_state {
  PyObject *SSLError;
  PyObject *SSLZeroReturnError;
  PyObject *SSLWantReadError;
  PyObject *SSLWantWriteError;
  PyObject *SSLSyscallError;
  PyObject *SSLEOFError;
  PyObject *SSLCertVerificationError;
} module_state;

extern module_state pymoat_state;

extern PyTypeObject PyMoatContext_Type;
extern PyTypeObject PyMoatSocket_Type;
extern PyTypeObject PyMoatBIO_Type;
extern PyTypeObject PyMoatSession_Type;
extern PyTypeObject PyMoatCertificate_Type;

/* ---- _SSLContext ------------------------------------------------------- */

typedef struct PyMoatContext {
  PyObject_HEAD
      /* PROTOCOL_TLS serves both roles: one moat context per role, each
       * configured by every setter.  The others have one of the two. */
      moat_context *client;
  moat_context *server;
  int protocol;
  unsigned long options;
  int min_version; /* PROTO_* as set by the user (0x303, -2, ...) */
  int max_version;
  int verify_mode; /* CERT_* */
  bool check_hostname;
  bool post_handshake_auth;
  unsigned int host_flags;
  int num_tickets;
  PyObject *sni_cb;
  PyObject *msg_cb;
  PyObject *keylog_filename;
  PyObject *alpn; /* the wire list set by _set_alpn_protocols, or NULL */
  char *ciphers;  /* the last cipher string accepted */
  /* session statistics of the server side */
  long sess_accept, sess_hits, sess_misses, sess_connect, sess_connect_good,
      sess_accept_good;
} PyMoatContext;

/* The moat context for a role of c (NULL when c cannot serve it). */
moat_context *pymoat_ctx_for(PyMoatContext *c, bool server);

/* Installs (or removes) the moat SNI callback for c->sni_cb. */
int pymoat_install_sni(PyMoatContext *c);
/* True when the version range leaves nothing moat speaks. */
bool pymoat_ctx_no_versions(PyMoatContext *c);
PyObject *pymoat_cipher_dict(const moat_cipher_info *ci);

/* ---- MemoryBIO ---------------------------------------------------------- */

typedef struct PyMoatBIO {
  PyObject_HEAD uint8_t *buf;
  size_t off, len, cap;
  bool eof_written;
} PyMoatBIO;

size_t pymoat_bio_pending(const PyMoatBIO *b);
int pymoat_bio_append(PyMoatBIO *b, const uint8_t *data, size_t len);

/* ---- _SSLSocket (over a socket or a pair of MemoryBIOs) ----------------- */

typedef struct PyMoatSocket {
  PyObject_HEAD moat_conn *conn;
  PyMoatContext *ctx;
  PyObject *sock_ref; /* weakref to the socket, or NULL in BIO mode */
  PyMoatBIO *in_bio;
  PyMoatBIO *out_bio;
  PyObject *owner_ref; /* weakref to the SSLSocket / SSLObject */
  PyObject *server_hostname;
  bool server_side;
  bool handshake_done;
  bool shutdown_sent;
  /* socket mode: bytes still needed to finish the current record (0 while
   * reading its header) and the header bytes read so far */
  size_t rec_need;
  uint8_t rec_hdr[5];
  size_t rec_hdr_len;
  /* a write whose record is built but not yet sent */
  Py_ssize_t pending_write;
  /* while moat runs with the GIL released, the saved thread state (for
   * callbacks) */
  PyThreadState *tstate;
  /* the first exception the message callback raised during the current
   * call, raised when the call ends (as the stdlib does): type, value,
   * traceback */
  PyObject *msg_exc[3];
  PyObject *session_obj; /* the SSLSession offered, kept alive */
} PyMoatSocket;

/* Run callbacks with the GIL: take it back when the call released it. */
void pymoat_cb_enter(PyMoatSocket *s);
void pymoat_cb_leave(PyMoatSocket *s);

/* Attaches the context's message callback to a new connection. */
void pymoat_msg_attach(PyMoatSocket *s);
/* Ends a do_handshake / read / write / shutdown: an exception the message
 * callback raised meanwhile replaces result. */
PyObject *pymoat_msg_finish(PyMoatSocket *s, PyObject *result);

PyObject *pymoat_socket_new(PyMoatContext *ctx, PyObject *sock, PyMoatBIO *in,
                            PyMoatBIO *out, bool server_side,
                            PyObject *hostname, PyObject *owner,
                            PyObject *session);

/* ---- the moat package's calls (extras.c) --------------------------------- */
PyObject *pymoat_extras_exporter(PyMoatSocket *s, PyObject *args, PyObject *kw);
PyObject *pymoat_extras_key_update(PyMoatSocket *s, PyObject *args,
                                   PyObject *kw);
PyObject *pymoat_extras_info(PyMoatSocket *s, PyObject *unused);

/* ---- SSLSession ---------------------------------------------------------- */

typedef struct PyMoatSession {
  PyObject_HEAD moat_session *session;
  PyMoatContext *ctx;
} PyMoatSession;

PyObject *pymoat_session_wrap(moat_session *s, PyMoatContext *ctx);

/* ---- certificates (cert.c) ---------------------------------------------- */

/* getpeercert()'s dict for a DER certificate. */
PyObject *pymoat_cert_dict(const uint8_t *der, size_t len);
PyObject *pymoat_certificate_new(const uint8_t *der, size_t len);
PyObject *pymoat_test_decode_cert(PyObject *mod, PyObject *arg);

/* ---- errors (errors.c) -------------------------------------------------- */

int pymoat_errors_init(PyObject *mod);
/* Raise the SSLError family member for a failed moat call on a
 * connection (conn may be NULL for configuration errors). */
void pymoat_raise_conn(PyMoatSocket *s, moat_err err);
/* Raise SSLError(code, "[lib: REASON] message") with library and reason. */
void pymoat_raise(PyObject *type, int code, const char *lib, const char *reason,
                  const char *msg);
/* A configuration failure on a context, with its detail. */
void pymoat_raise_ctx(moat_context *ctx, moat_err err);
void pymoat_raise_want(bool write);

/* OpenSSL's mnemonic for an alert ("SSLV3_ALERT_HANDSHAKE_FAILURE"). */
const char *pymoat_alert_reason(int alert);

#endif
