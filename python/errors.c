/* The SSLError family, and moat's errors as the stdlib reports them:
 * OpenSSL's SSL_ERROR_* number first, then "[SSL: REASON] message" with
 * OpenSSL's reason mnemonic, since applications match on those. */
#include <errno.h>
#include <string.h>

#include "pymoat.h"

module_state pymoat_state;

static const char doc_SSLError[] =
    "An error occurred in the SSL implementation.";

/* SSLError.__str__: the message when there is one (like the stdlib). */
static PyObject *SSLError_str(PyObject *self) {
  PyOSErrorObject *e = (PyOSErrorObject *)self;
  if (e->strerror != NULL && PyUnicode_Check(e->strerror)) {
    Py_INCREF(e->strerror);
    return e->strerror;
  }
  return PyObject_Str(e->args);
}

static PyType_Slot sslerror_slots[] = {
    {Py_tp_base, NULL}, /* set at init */
    {Py_tp_str, (void *)SSLError_str},
    {Py_tp_doc, (void *)doc_SSLError},
    {0, 0},
};

static PyType_Spec sslerror_spec = {
    .name = "ssl.SSLError",
    .basicsize = sizeof(PyOSErrorObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = sslerror_slots,
};

static int add_exc(PyObject *mod, PyObject **slot, const char *name,
                   const char *attr, PyObject *bases, const char *doc) {
  *slot = PyErr_NewExceptionWithDoc(name, doc, bases, NULL);
  if (*slot == NULL) {
    return -1;
  }
  Py_INCREF(*slot);
  return PyModule_AddObject(mod, attr, *slot);
}

int pymoat_errors_init(PyObject *mod) {
  module_state *st = &pymoat_state;
  sslerror_slots[0].pfunc = PyExc_OSError;
  st->SSLError = PyType_FromSpec(&sslerror_spec);
  if (st->SSLError == NULL) {
    return -1;
  }
  Py_INCREF(st->SSLError);
  if (PyModule_AddObject(mod, "SSLError", st->SSLError) < 0) {
    return -1;
  }
  PyObject *cv_bases = PyTuple_Pack(2, st->SSLError, PyExc_ValueError);
  if (cv_bases == NULL) {
    return -1;
  }
  int r = add_exc(mod, &st->SSLZeroReturnError, "ssl.SSLZeroReturnError",
                  "SSLZeroReturnError", st->SSLError,
                  "SSL/TLS session closed cleanly.") ||
          add_exc(mod, &st->SSLWantReadError, "ssl.SSLWantReadError",
                  "SSLWantReadError", st->SSLError,
                  "Non-blocking SSL socket needs to read more data\n"
                  "before the requested operation can be completed.") ||
          add_exc(mod, &st->SSLWantWriteError, "ssl.SSLWantWriteError",
                  "SSLWantWriteError", st->SSLError,
                  "Non-blocking SSL socket needs to write more data\n"
                  "before the requested operation can be completed.") ||
          add_exc(mod, &st->SSLSyscallError, "ssl.SSLSyscallError",
                  "SSLSyscallError", st->SSLError,
                  "System error when attempting SSL operation.") ||
          add_exc(mod, &st->SSLEOFError, "ssl.SSLEOFError", "SSLEOFError",
                  st->SSLError, "SSL/TLS connection terminated abruptly.") ||
          add_exc(mod, &st->SSLCertVerificationError,
                  "ssl.SSLCertVerificationError", "SSLCertVerificationError",
                  cv_bases, "A certificate could not be verified.");
  Py_DECREF(cv_bases);
  if (r) {
    return -1;
  }
  /* like the stdlib's: no attributes may be set on the classes */
  PyObject *all[] = {st->SSLError,
                     st->SSLZeroReturnError,
                     st->SSLWantReadError,
                     st->SSLWantWriteError,
                     st->SSLSyscallError,
                     st->SSLEOFError,
                     st->SSLCertVerificationError};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    ((PyTypeObject *)all[i])->tp_flags |= Py_TPFLAGS_IMMUTABLETYPE;
    PyType_Modified((PyTypeObject *)all[i]);
  }
  return 0;
}

/* Builds type(code, "[lib: reason] msg") with .library and .reason. */
static PyObject *make_exc(PyObject *type, int code, const char *lib,
                          const char *reason, const char *msg) {
  PyObject *text;
  if (lib != NULL && reason != NULL) {
    text = PyUnicode_FromFormat("[%s: %s] %s", lib, reason, msg);
  } else if (reason != NULL || lib != NULL) {
    text = PyUnicode_FromFormat("[%s] %s", reason ? reason : lib, msg);
  } else {
    text = PyUnicode_FromString(msg);
  }
  if (text == NULL) {
    return NULL;
  }
  PyObject *exc = PyObject_CallFunction(type, "iN", code, text);
  if (exc == NULL) {
    return NULL;
  }
  PyObject *l = lib ? PyUnicode_FromString(lib) : Py_NewRef(Py_None);
  PyObject *r = reason ? PyUnicode_FromString(reason) : Py_NewRef(Py_None);
  if (l == NULL || r == NULL || PyObject_SetAttrString(exc, "library", l) ||
      PyObject_SetAttrString(exc, "reason", r)) {
    Py_XDECREF(l);
    Py_XDECREF(r);
    Py_DECREF(exc);
    return NULL;
  }
  Py_DECREF(l);
  Py_DECREF(r);
  return exc;
}

void pymoat_raise(PyObject *type, int code, const char *lib, const char *reason,
                  const char *msg) {
  PyObject *exc = make_exc(type, code, lib, reason, msg);
  if (exc != NULL) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
  }
}

void pymoat_raise_want(bool write) {
  module_state *st = &pymoat_state;
  pymoat_raise(write ? st->SSLWantWriteError : st->SSLWantReadError,
               write ? PY_SSL_ERROR_WANT_WRITE : PY_SSL_ERROR_WANT_READ, NULL,
               NULL,
               write ? "The operation did not complete (write)"
                     : "The operation did not complete (read)");
}

const char *pymoat_alert_reason(int alert) {
  switch (alert) {
  case 0:
    return "SSLV3_ALERT_CLOSE_NOTIFY";
  case 10:
    return "SSLV3_ALERT_UNEXPECTED_MESSAGE";
  case 20:
    return "SSLV3_ALERT_BAD_RECORD_MAC";
  case 21:
    return "TLSV1_ALERT_DECRYPTION_FAILED";
  case 22:
    return "TLSV1_ALERT_RECORD_OVERFLOW";
  case 30:
    return "SSLV3_ALERT_DECOMPRESSION_FAILURE";
  case 40:
    return "SSLV3_ALERT_HANDSHAKE_FAILURE";
  case 41:
    return "SSLV3_ALERT_NO_CERTIFICATE";
  case 42:
    return "SSLV3_ALERT_BAD_CERTIFICATE";
  case 43:
    return "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE";
  case 44:
    return "SSLV3_ALERT_CERTIFICATE_REVOKED";
  case 45:
    return "SSLV3_ALERT_CERTIFICATE_EXPIRED";
  case 46:
    return "SSLV3_ALERT_CERTIFICATE_UNKNOWN";
  case 47:
    return "SSLV3_ALERT_ILLEGAL_PARAMETER";
  case 48:
    return "TLSV1_ALERT_UNKNOWN_CA";
  case 49:
    return "TLSV1_ALERT_ACCESS_DENIED";
  case 50:
    return "TLSV1_ALERT_DECODE_ERROR";
  case 51:
    return "TLSV1_ALERT_DECRYPT_ERROR";
  case 60:
    return "TLSV1_ALERT_EXPORT_RESTRICTION";
  case 70:
    return "TLSV1_ALERT_PROTOCOL_VERSION";
  case 71:
    return "TLSV1_ALERT_INSUFFICIENT_SECURITY";
  case 80:
    return "TLSV1_ALERT_INTERNAL_ERROR";
  case 86:
    return "TLSV1_ALERT_INAPPROPRIATE_FALLBACK";
  case 90:
    return "TLSV1_ALERT_USER_CANCELLED";
  case 100:
    return "TLSV1_ALERT_NO_RENEGOTIATION";
  case 109:
    return "TLSV13_ALERT_MISSING_EXTENSION";
  case 110:
    return "TLSV1_ALERT_UNSUPPORTED_EXTENSION";
  case 111:
    return "TLSV1_ALERT_CERTIFICATE_UNOBTAINABLE";
  case 112:
    return "TLSV1_ALERT_UNRECOGNIZED_NAME";
  case 113:
    return "TLSV1_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE";
  case 114:
    return "TLSV1_ALERT_BAD_CERTIFICATE_HASH_VALUE";
  case 115:
    return "TLSV1_ALERT_UNKNOWN_PSK_IDENTITY";
  case 116:
    return "TLSV13_ALERT_CERTIFICATE_REQUIRED";
  case 120:
    return "TLSV1_ALERT_NO_APPLICATION_PROTOCOL";
  default:
    return "UNKNOWN_ALERT_TYPE";
  }
}

/* OpenSSL's reason for a failure moat detected itself.  The detail text
 * separates causes that share a moat error. */
static const char *local_reason(moat_err err, const char *detail, bool server) {
  switch (err) {
  case MOAT_ERR_DECODE_ERROR:
  case MOAT_ERR_UNEXPECTED_MESSAGE:
    if (strstr(detail, "is not TLS") != NULL ||
        strstr(detail, "unknown content type") != NULL) {
      return "WRONG_VERSION_NUMBER";
    }
    return err == MOAT_ERR_DECODE_ERROR ? "DECODE_ERROR" : "UNEXPECTED_MESSAGE";
  case MOAT_ERR_HANDSHAKE_FAILURE:
    if (strstr(detail, "cipher suite in common") != NULL) {
      return "NO_SHARED_CIPHER";
    }
    if (strstr(detail, "group in common") != NULL) {
      return "NO_SUITABLE_KEY_SHARE";
    }
    if (strstr(detail, "server name callback") != NULL) {
      return "CALLBACK_FAILED";
    }
    return "HANDSHAKE_FAILURE";
  case MOAT_ERR_PROTOCOL_VERSION:
    return server ? "UNSUPPORTED_PROTOCOL" : "UNSUPPORTED_PROTOCOL";
  case MOAT_ERR_BAD_RECORD_MAC:
    return "DECRYPTION_FAILED_OR_BAD_RECORD_MAC";
  case MOAT_ERR_RECORD_OVERFLOW:
    return "RECORD_OVERFLOW";
  case MOAT_ERR_NO_APPLICATION_PROTOCOL:
    return "NO_APPLICATION_PROTOCOL";
  case MOAT_ERR_CERTIFICATE_REQUIRED:
    return "PEER_DID_NOT_RETURN_A_CERTIFICATE";
  case MOAT_ERR_EOF:
    return "UNEXPECTED_EOF_WHILE_READING";
  case MOAT_ERR_RENEGOTIATION_REFUSED:
    return "NO_RENEGOTIATION";
  case MOAT_ERR_DECRYPT_ERROR:
    return "BAD_SIGNATURE";
  case MOAT_ERR_MISSING_EXTENSION:
    return "MISSING_EXTENSION";
  case MOAT_ERR_UNSUPPORTED_EXTENSION:
    return "UNSUPPORTED_EXTENSION";
  case MOAT_ERR_ILLEGAL_PARAMETER:
    return "BAD_EXTENSION";
  default:
    return moat_err_name(err);
  }
}

/* The message OpenSSL gives for a verify code, which the stdlib puts in
 * verify_message. */
static PyObject *verify_message(PyMoatSocket *s, long code) {
  if (code == 62 && s->server_hostname != NULL &&
      s->server_hostname != Py_None) {
    return PyUnicode_FromFormat(
        "Hostname mismatch, certificate is not valid for '%S'.",
        s->server_hostname);
  }
  if (code == 64 && s->server_hostname != NULL &&
      s->server_hostname != Py_None) {
    return PyUnicode_FromFormat(
        "IP address mismatch, certificate is not valid for '%S'.",
        s->server_hostname);
  }
  return PyUnicode_FromString(moat_verify_code_text(code));
}

static void raise_verify(PyMoatSocket *s) {
  module_state *st = &pymoat_state;
  long code = moat_conn_verify_code(s->conn);
  PyObject *vm = verify_message(s, code);
  if (vm == NULL) {
    return;
  }
  PyObject *text = PyUnicode_FromFormat(
      "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: %U (%s)", vm,
      moat_conn_error_detail(s->conn));
  if (text == NULL) {
    Py_DECREF(vm);
    return;
  }
  PyObject *exc = PyObject_CallFunction(st->SSLCertVerificationError, "iN",
                                        PY_SSL_ERROR_SSL, text);
  if (exc == NULL) {
    Py_DECREF(vm);
    return;
  }
  PyObject *lib = PyUnicode_FromString("SSL");
  PyObject *reason = PyUnicode_FromString("CERTIFICATE_VERIFY_FAILED");
  PyObject *vc = PyLong_FromLong(code);
  if (lib && reason && vc && !PyObject_SetAttrString(exc, "library", lib) &&
      !PyObject_SetAttrString(exc, "reason", reason) &&
      !PyObject_SetAttrString(exc, "verify_code", vc) &&
      !PyObject_SetAttrString(exc, "verify_message", vm)) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  }
  Py_XDECREF(lib);
  Py_XDECREF(reason);
  Py_XDECREF(vc);
  Py_DECREF(vm);
  Py_DECREF(exc);
}

void pymoat_raise_conn(PyMoatSocket *s, moat_err err) {
  module_state *st = &pymoat_state;
  const char *detail = moat_conn_error_detail(s->conn);
  int alert = 0;
  bool by_us = false;
  if (PyErr_Occurred()) {
    return; /* a callback's exception, or the socket's own */
  }
  switch (err) {
  case MOAT_ERR_WANT_READ:
    pymoat_raise_want(false);
    return;
  case MOAT_ERR_WANT_WRITE:
    pymoat_raise_want(true);
    return;
  case MOAT_ERR_CLOSED:
    pymoat_raise(st->SSLZeroReturnError, PY_SSL_ERROR_ZERO_RETURN, NULL, NULL,
                 "TLS/SSL connection has been closed (EOF)");
    return;
  case MOAT_ERR_EOF:
    pymoat_raise(st->SSLEOFError, PY_SSL_ERROR_EOF, "SSL",
                 "UNEXPECTED_EOF_WHILE_READING",
                 "EOF occurred in violation of protocol");
    return;
  case MOAT_ERR_SYSCALL:
    if (errno != 0) {
      PyErr_SetFromErrno(PyExc_OSError);
    } else {
      pymoat_raise(st->SSLSyscallError, PY_SSL_ERROR_SYSCALL, NULL, NULL,
                   "Some I/O error occurred");
    }
    return;
  case MOAT_ERR_NO_MEMORY:
    PyErr_NoMemory();
    return;
  default:
    break;
  }
  if (moat_conn_alert(s->conn, &alert, &by_us) && !by_us) {
    /* OpenSSL's text is its mnemonic in lower case with spaces ("tlsv1
     * alert unknown ca"), which callers match on too; moat's detail
     * follows in parentheses */
    const char *reason = pymoat_alert_reason(alert);
    char text[96];
    size_t i = 0;
    for (; reason[i] != '\0' && i + 1 < sizeof(text); i++) {
      char ch = reason[i];
      text[i] = ch == '_'                  ? ' '
                : (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a'
                                           : ch;
    }
    text[i] = '\0';
    char msg[512];
    PyOS_snprintf(msg, sizeof(msg), "%s (%s alert received from the peer: %s)",
                  text, moat_alert_name(alert), detail);
    pymoat_raise(st->SSLError, PY_SSL_ERROR_SSL, "SSL", reason, msg);
    return;
  }
  if (moat_err_get_class(err) == MOAT_CLASS_VERIFY &&
      moat_conn_verify_code(s->conn) != 0) {
    raise_verify(s);
    return;
  }
  const char *reason = local_reason(err, detail, s->server_side);
  if (strcmp(reason, "NO_SHARED_CIPHER") == 0) {
    /* OpenSSL's text, which callers match on, then moat's detail */
    char msg[512];
    PyOS_snprintf(msg, sizeof(msg), "no shared cipher (%s)", detail);
    pymoat_raise(st->SSLError, PY_SSL_ERROR_SSL, "SSL", reason, msg);
    return;
  }
  pymoat_raise(st->SSLError, PY_SSL_ERROR_SSL, "SSL", reason,
               detail[0] ? detail : moat_err_message(err));
}

void pymoat_raise_ctx(moat_context *ctx, moat_err err) {
  module_state *st = &pymoat_state;
  const char *detail = ctx ? moat_context_error_detail(ctx) : "";
  const char *lib = "SSL", *reason = moat_err_name(err);
  switch (err) {
  case MOAT_ERR_NO_MEMORY:
    PyErr_NoMemory();
    return;
  case MOAT_ERR_FILE_ERROR:
    errno = errno ? errno : ENOENT;
    PyErr_SetFromErrno(PyExc_OSError);
    return;
  case MOAT_ERR_BAD_PEM: {
    /* the stdlib reports a certificate file it cannot read as "[SSL] PEM
     * lib"; moat's detail says what is wrong with it */
    char msg[512];
    PyOS_snprintf(msg, sizeof(msg), "PEM lib (%s)",
                  detail[0] ? detail : moat_err_message(err));
    pymoat_raise(st->SSLError, PY_SSL_ERROR_SSL, "SSL", NULL, msg);
    return;
  }
  case MOAT_ERR_KEY_MISMATCH: {
    char msg[512];
    PyOS_snprintf(msg, sizeof(msg), "key values mismatch (%s)", detail);
    pymoat_raise(st->SSLError, PY_SSL_ERROR_SSL, "X509", "KEY_VALUES_MISMATCH",
                 msg);
    return;
  }
  case MOAT_ERR_BAD_PASSWORD:
  case MOAT_ERR_BAD_KEY:
    lib = "PEM";
    reason = "BAD_DECRYPT";
    break;
  case MOAT_ERR_NO_CERTIFICATE:
  case MOAT_ERR_BAD_CERTIFICATE:
  case MOAT_ERR_X509_PARSE:
    lib = "X509";
    reason = "NO_CERTIFICATE_OR_CRL_FOUND";
    break;
  default:
    break;
  }
  pymoat_raise(st->SSLError, PY_SSL_ERROR_SSL, lib, reason,
               detail[0] ? detail : moat_err_message(err));
}
