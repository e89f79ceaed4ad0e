/* _SSLContext: the policy object, over one moat_context per role. */
#include <errno.h>
#include <string.h>

#include "pymoat.h"

/* Every moat context of c, client first. */
#define EACH_CTX(c, var)                                                       \
  for (int each_i_ = 0; each_i_ < 2; each_i_++)                                \
    for (moat_context *var = each_i_ ? (c)->server : (c)->client; var != NULL; \
         var = NULL)

moat_context *pymoat_ctx_for(PyMoatContext *c, bool server) {
  return server ? c->server : c->client;
}

/* The moat version for a PROTO_* value, clamped to what moat speaks. */
static int clamp_version(int v, bool is_max) {
  if (v == PY_PROTO_MINIMUM_SUPPORTED || v == PY_PROTO_MAXIMUM_SUPPORTED) {
    return 0;
  }
  if (v < MOAT_TLS1_2) {
    return MOAT_TLS1_2;
  }
  return v;
}

/* Applies minimum/maximum version and the OP_NO_TLSv1_x bits to the moat
 * contexts.  TLS 1.0 and 1.1 are never spoken: a range that holds only
 * them leaves the connection no version, refused at the handshake. */
static void apply_versions(PyMoatContext *c) {
  int lo = clamp_version(c->min_version, false);
  int hi = clamp_version(c->max_version, true);
  if (c->max_version != PY_PROTO_MAXIMUM_SUPPORTED &&
      c->max_version < MOAT_TLS1_2) {
    hi = MOAT_TLS1_2; /* nothing moat can speak: see wrap */
  }
  if ((c->options & PY_OP_NO_TLSv1_2) && (lo == 0 || lo == MOAT_TLS1_2)) {
    lo = MOAT_TLS1_3;
  }
  if ((c->options & PY_OP_NO_TLSv1_3) && (hi == 0 || hi == MOAT_TLS1_3)) {
    hi = MOAT_TLS1_2;
  }
  EACH_CTX(c, m) {
    /* A version the engine does not have yet stays at its default. */
    if (moat_context_set_min_version(m, lo) != MOAT_OK) {
      (void)moat_context_set_min_version(m, 0);
    }
    if (moat_context_set_max_version(m, hi) != MOAT_OK) {
      (void)moat_context_set_max_version(m, 0);
    }
  }
}

/* True when the version range leaves no protocol moat speaks. */
bool pymoat_ctx_no_versions(PyMoatContext *c) {
  if (c->max_version != PY_PROTO_MAXIMUM_SUPPORTED &&
      c->max_version < MOAT_TLS1_2) {
    return true;
  }
  if (c->min_version > MOAT_TLS1_3) {
    return true;
  }
  return (c->options & PY_OP_NO_TLSv1_2) && (c->options & PY_OP_NO_TLSv1_3);
}

static void apply_verify(PyMoatContext *c) {
  moat_verify_mode m = c->verify_mode == 2   ? MOAT_VERIFY_REQUIRED
                       : c->verify_mode == 1 ? MOAT_VERIFY_OPTIONAL
                                             : MOAT_VERIFY_NONE;
  EACH_CTX(c, x) {
    moat_context_set_verify_mode(x, m);
    moat_context_set_check_hostname(x, c->check_hostname);
    moat_context_set_hostname_checks_common_name(
        x, !(c->host_flags & PY_HOSTFLAG_NEVER_CHECK_SUBJECT));
  }
}

static void apply_tickets(PyMoatContext *c) {
  if (c->server != NULL) {
    moat_context_set_num_tickets(
        c->server, (c->options & PY_OP_NO_TICKET) ? 0 : (size_t)c->num_tickets);
  }
}

static PyObject *ctx_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"protocol", NULL};
  int proto;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "i:_SSLContext", kwlist, &proto)) {
    return NULL;
  }
  bool client = false, server = false;
  switch (proto) {
  case PY_PROTO_TLS:
  case PY_PROTO_TLSv1:
  case PY_PROTO_TLSv1_1:
  case PY_PROTO_TLSv1_2:
    client = server = true;
    break;
  case PY_PROTO_TLS_CLIENT:
    client = true;
    break;
  case PY_PROTO_TLS_SERVER:
    server = true;
    break;
  default:
    PyErr_SetString(PyExc_ValueError,
                    "invalid or unsupported protocol version");
    return NULL;
  }
  const char *deprecated = proto == PY_PROTO_TLS       ? "ssl.PROTOCOL_TLS"
                           : proto == PY_PROTO_TLSv1   ? "ssl.PROTOCOL_TLSv1"
                           : proto == PY_PROTO_TLSv1_1 ? "ssl.PROTOCOL_TLSv1_1"
                           : proto == PY_PROTO_TLSv1_2 ? "ssl.PROTOCOL_TLSv1_2"
                                                       : NULL;
  if (deprecated != NULL &&
      PyErr_WarnFormat(PyExc_DeprecationWarning, 2, "%s is deprecated",
                       deprecated) < 0) {
    return NULL;
  }
  PyMoatContext *c = (PyMoatContext *)type->tp_alloc(type, 0);
  if (c == NULL) {
    return NULL;
  }
  c->protocol = proto;
  if ((client && (c->client = moat_context_new(MOAT_ROLE_CLIENT)) == NULL) ||
      (server && (c->server = moat_context_new(MOAT_ROLE_SERVER)) == NULL)) {
    Py_DECREF(c);
    return PyErr_NoMemory();
  }
  /* The stdlib's defaults on OpenSSL 3 (Modules/_ssl.c). */
  c->options = PY_OP_ALL | PY_OP_NO_SSLv3 | PY_OP_NO_COMPRESSION |
               PY_OP_CIPHER_SERVER_PREFERENCE | PY_OP_ENABLE_MIDDLEBOX_COMPAT;
  c->min_version = PY_PROTO_MINIMUM_SUPPORTED;
  c->max_version = PY_PROTO_MAXIMUM_SUPPORTED;
  switch (proto) {
  case PY_PROTO_TLSv1:
    c->min_version = c->max_version = 0x301;
    break;
  case PY_PROTO_TLSv1_1:
    c->min_version = c->max_version = 0x302;
    break;
  case PY_PROTO_TLSv1_2:
    c->min_version = c->max_version = 0x303;
    break;
  default:
    break;
  }
  c->host_flags = 0x4; /* HOSTFLAG_NO_PARTIAL_WILDCARDS */
  c->num_tickets = 2;
  if (proto == PY_PROTO_TLS_CLIENT) {
    c->verify_mode = 2;
    c->check_hostname = true;
  }
  apply_verify(c);
  apply_versions(c);
  apply_tickets(c);
  if (c->server != NULL) {
    moat_context_set_alpn_required(c->server, false);
  }
  return (PyObject *)c;
}

static int ctx_traverse(PyMoatContext *c, visitproc visit, void *arg) {
  Py_VISIT(c->sni_cb);
  Py_VISIT(c->msg_cb);
  return 0;
}

static int ctx_clear(PyMoatContext *c) {
  Py_CLEAR(c->sni_cb);
  Py_CLEAR(c->msg_cb);
  return 0;
}

static void ctx_dealloc(PyMoatContext *c) {
  PyTypeObject *tp = Py_TYPE(c);
  PyObject_GC_UnTrack(c);
  ctx_clear(c);
  Py_CLEAR(c->keylog_filename);
  Py_CLEAR(c->alpn);
  PyMem_Free(c->ciphers);
  moat_context_free(c->client);
  moat_context_free(c->server);
  tp->tp_free((PyObject *)c);
}

/* ---- certificates and trust ----------------------------------------------*/

typedef struct pw_state {
  PyObject *callable;
  bool failed;
  PyObject *type_error;
} pw_state;

/* moat_password_fn over a Python callable (the GIL is held: loading runs
 * in the caller's thread without releasing it). */
static int password_cb(void *arg, char *buf, size_t cap) {
  pw_state *st = arg;
  PyObject *r = PyObject_CallNoArgs(st->callable);
  if (r == NULL) {
    st->failed = true;
    return -1;
  }
  const char *data;
  Py_ssize_t len;
  if (PyUnicode_Check(r)) {
    data = PyUnicode_AsUTF8AndSize(r, &len);
  } else if (PyBytes_Check(r) || PyByteArray_Check(r)) {
    data = PyBytes_Check(r) ? PyBytes_AS_STRING(r) : PyByteArray_AS_STRING(r);
    len = PyBytes_Check(r) ? PyBytes_GET_SIZE(r) : PyByteArray_GET_SIZE(r);
  } else {
    Py_DECREF(r);
    PyErr_SetString(PyExc_TypeError, "password callback must return a string");
    st->failed = true;
    return -1;
  }
  if (data == NULL) {
    Py_DECREF(r);
    st->failed = true;
    return -1;
  }
  if ((size_t)len >= cap || len > 1023) {
    Py_DECREF(r);
    PyErr_Format(PyExc_ValueError, "password cannot be longer than %d bytes",
                 1023);
    st->failed = true;
    return -1;
  }
  memcpy(buf, data, (size_t)len);
  Py_DECREF(r);
  return (int)len;
}

/* A str/bytes/PathLike argument as a file system path (bytes object). */
static int fs_path(PyObject *o, PyObject **out) {
  if (o == NULL || o == Py_None) {
    *out = NULL;
    return 1;
  }
  return PyUnicode_FSConverter(o, out);
}

static PyObject *ctx_load_cert_chain(PyMoatContext *c, PyObject *args,
                                     PyObject *kw) {
  static char *kwlist[] = {"certfile", "keyfile", "password", NULL};
  PyObject *certfile, *keyfile = Py_None, *password = Py_None;
  PyObject *cert_b = NULL, *key_b = NULL, *pw_b = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO:load_cert_chain", kwlist,
                                   &certfile, &keyfile, &password)) {
    return NULL;
  }
  if (certfile == Py_None || !PyUnicode_FSConverter(certfile, &cert_b)) {
    if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
      PyErr_Clear();
      PyErr_SetString(PyExc_TypeError,
                      "certfile should be a valid filesystem path");
    }
    return NULL;
  }
  if (keyfile != Py_None && !PyUnicode_FSConverter(keyfile, &key_b)) {
    Py_DECREF(cert_b);
    PyErr_Clear();
    PyErr_SetString(PyExc_TypeError,
                    "keyfile should be a valid filesystem path");
    return NULL;
  }
  pw_state pw = {NULL, false, NULL};
  const char *pw_text = NULL;
  if (password != Py_None) {
    if (PyCallable_Check(password)) {
      pw.callable = password;
    } else if (PyUnicode_Check(password)) {
      pw_b = PyUnicode_AsUTF8String(password);
    } else if (PyBytes_Check(password)) {
      pw_b = Py_NewRef(password);
    } else if (PyByteArray_Check(password)) {
      pw_b = PyBytes_FromStringAndSize(PyByteArray_AS_STRING(password),
                                       PyByteArray_GET_SIZE(password));
    } else {
      PyErr_SetString(PyExc_TypeError,
                      "password should be a string or callable");
      goto fail;
    }
    if (pw_b != NULL) {
      if (PyBytes_GET_SIZE(pw_b) > 1023) {
        PyErr_Format(PyExc_ValueError,
                     "password cannot be longer than %d bytes", 1023);
        goto fail;
      }
      pw_text = PyBytes_AS_STRING(pw_b);
    } else if (pw.callable == NULL) {
      goto fail;
    }
  }
  EACH_CTX(c, m) {
    if (pw.callable != NULL) {
      moat_context_set_password_cb(m, password_cb, &pw);
    }
    errno = 0;
    moat_err err = moat_context_load_cert_chain(
        m, PyBytes_AS_STRING(cert_b), key_b ? PyBytes_AS_STRING(key_b) : NULL,
        pw_text);
    moat_context_set_password_cb(m, NULL, NULL);
    if (pw.failed) {
      goto fail;
    }
    if (err != MOAT_OK) {
      if (err == MOAT_ERR_FILE_ERROR && errno == 0) {
        errno = ENOENT;
      }
      /* the stdlib says "PEM lib" for a certificate file without a
       * certificate as for a damaged one */
      bool pem_lib = err == MOAT_ERR_NO_CERTIFICATE ||
                     err == MOAT_ERR_NO_PRIVATE_KEY || err == MOAT_ERR_BAD_KEY;
      pymoat_raise_ctx(m, pem_lib ? MOAT_ERR_BAD_PEM : err);
      goto fail;
    }
  }
  Py_DECREF(cert_b);
  Py_XDECREF(key_b);
  Py_XDECREF(pw_b);
  Py_RETURN_NONE;
fail:
  Py_XDECREF(cert_b);
  Py_XDECREF(key_b);
  Py_XDECREF(pw_b);
  return NULL;
}

static PyObject *ctx_load_verify_locations(PyMoatContext *c, PyObject *args,
                                           PyObject *kw) {
  static char *kwlist[] = {"cafile", "capath", "cadata", NULL};
  PyObject *cafile = Py_None, *capath = Py_None, *cadata = Py_None;
  PyObject *file_b = NULL, *path_b = NULL, *data_b = NULL;
  Py_buffer view = {0};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOO:load_verify_locations",
                                   kwlist, &cafile, &capath, &cadata)) {
    return NULL;
  }
  if (cafile == Py_None && capath == Py_None && cadata == Py_None) {
    PyErr_SetString(PyExc_TypeError,
                    "cafile, capath and cadata cannot be all omitted");
    return NULL;
  }
  if (!fs_path(cafile, &file_b)) {
    PyErr_Clear();
    PyErr_SetString(PyExc_TypeError,
                    "cafile should be a valid filesystem path");
    return NULL;
  }
  if (!fs_path(capath, &path_b)) {
    Py_XDECREF(file_b);
    PyErr_Clear();
    PyErr_SetString(PyExc_TypeError,
                    "capath should be a valid filesystem path");
    return NULL;
  }
  const uint8_t *data = NULL;
  size_t data_len = 0;
  bool pem = false;
  if (cadata != Py_None) {
    if (PyUnicode_Check(cadata)) {
      data_b = PyUnicode_AsASCIIString(cadata);
      if (data_b == NULL) {
        goto fail;
      }
      data = (const uint8_t *)PyBytes_AS_STRING(data_b);
      data_len = (size_t)PyBytes_GET_SIZE(data_b);
      pem = true;
    } else if (PyObject_GetBuffer(cadata, &view, PyBUF_SIMPLE) == 0) {
      data = view.buf;
      data_len = (size_t)view.len;
    } else {
      PyErr_Clear();
      PyErr_SetString(
          PyExc_TypeError,
          "cadata should be an ASCII string or a bytes-like object");
      goto fail;
    }
  }
  (void)pem;
  EACH_CTX(c, m) {
    errno = 0;
    size_t before = moat_context_num_trusted(m);
    moat_err err = moat_context_load_verify_locations(
        m, file_b ? PyBytes_AS_STRING(file_b) : NULL,
        path_b ? PyBytes_AS_STRING(path_b) : NULL, data, data_len);
    if (err == MOAT_OK && data != NULL && data_len > 0 &&
        moat_context_num_trusted(m) == before && file_b == NULL &&
        path_b == NULL) {
      /* cadata that holds only certificates already in the store is
       * fine; cadata with none at all is not (it was checked above). */
    }
    if (err != MOAT_OK) {
      if (err == MOAT_ERR_FILE_ERROR && errno == 0) {
        errno = ENOENT;
      }
      if (cadata != Py_None && err != MOAT_ERR_FILE_ERROR) {
        /* OpenSSL's reason text and the stdlib's sentence, then moat's */
        bool text = PyUnicode_Check(cadata);
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "%s: cadata does not contain a certificate (%s)",
                 text ? "no start line" : "not enough data",
                 moat_context_error_detail(m));
        pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL,
                     text ? "PEM" : "ASN1",
                     text ? "NO_START_LINE" : "NOT_ENOUGH_DATA", msg);
      } else {
        pymoat_raise_ctx(m, err);
      }
      goto fail;
    }
  }
  if (view.buf != NULL) {
    PyBuffer_Release(&view);
  }
  Py_XDECREF(file_b);
  Py_XDECREF(path_b);
  Py_XDECREF(data_b);
  Py_RETURN_NONE;
fail:
  if (view.buf != NULL) {
    PyBuffer_Release(&view);
  }
  Py_XDECREF(file_b);
  Py_XDECREF(path_b);
  Py_XDECREF(data_b);
  return NULL;
}

static PyObject *ctx_set_default_verify_paths(PyMoatContext *c,
                                              PyObject *unused) {
  EACH_CTX(c, m) {
    moat_err err = moat_context_load_default_verify_paths(m);
    if (err != MOAT_OK && err != MOAT_ERR_FILE_ERROR) {
      pymoat_raise_ctx(m, err);
      return NULL;
    }
  }
  Py_RETURN_NONE;
}

static moat_context *any_ctx(PyMoatContext *c) {
  return c->client ? c->client : c->server;
}

/* What OpenSSL's X509_check_ca, which the stdlib counts and lists by,
 * takes for a CA: basicConstraints cA, or a self-signed version 1
 * certificate (which cannot say). */
static bool counts_as_ca(const moat_cert *cert) {
  if (moat_cert_is_ca(cert)) {
    return true;
  }
  const uint8_t *subject, *issuer;
  size_t subject_len, issuer_len;
  moat_cert_subject_der(cert, &subject, &subject_len);
  moat_cert_issuer_der(cert, &issuer, &issuer_len);
  return moat_cert_version(cert) == 1 && subject_len == issuer_len &&
         memcmp(subject, issuer, subject_len) == 0;
}

/* Whether the index-th trusted certificate (der) came earlier in the
 * store too: loaded twice, OpenSSL's store holds it once.  seen is a set
 * of the DER seen so far; -1 on error. */
static int seen_before(PyObject *seen, const uint8_t *der, size_t len) {
  PyObject *b = PyBytes_FromStringAndSize((const char *)der, (Py_ssize_t)len);
  if (b == NULL) {
    return -1;
  }
  int r = PySet_Contains(seen, b);
  if (r == 0 && PySet_Add(seen, b) < 0) {
    r = -1;
  }
  Py_DECREF(b);
  return r;
}

static PyObject *ctx_cert_store_stats(PyMoatContext *c, PyObject *unused) {
  moat_context *m = any_ctx(c);
  size_t n = moat_context_num_trusted(m), unique = 0, ca = 0;
  PyObject *seen = PySet_New(NULL);
  if (seen == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const uint8_t *der;
    size_t len;
    moat_cert *cert;
    if (moat_context_trusted_cert_der(m, i, &der, &len) != MOAT_OK) {
      continue;
    }
    int dup = seen_before(seen, der, len);
    if (dup < 0) {
      Py_DECREF(seen);
      return NULL;
    }
    if (dup) {
      continue;
    }
    unique++;
    if (moat_cert_from_der(der, len, &cert) == MOAT_OK) {
      ca += counts_as_ca(cert);
      moat_cert_free(cert);
    }
  }
  Py_DECREF(seen);
  return Py_BuildValue("{sksksk}", "x509", (unsigned long)unique, "crl",
                       (unsigned long)moat_context_num_crls(m), "x509_ca",
                       (unsigned long)ca);
}

static PyObject *ctx_get_ca_certs(PyMoatContext *c, PyObject *args,
                                  PyObject *kw) {
  static char *kwlist[] = {"binary_form", NULL};
  int binary = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:get_ca_certs", kwlist,
                                   &binary)) {
    return NULL;
  }
  moat_context *m = any_ctx(c);
  PyObject *list = PyList_New(0);
  PyObject *seen = PySet_New(NULL);
  if (seen == NULL) {
    Py_CLEAR(list);
  }
  size_t n = moat_context_num_trusted(m);
  for (size_t i = 0; list != NULL && i < n; i++) {
    const uint8_t *der;
    size_t len;
    moat_cert *cert;
    if (moat_context_trusted_cert_der(m, i, &der, &len) != MOAT_OK) {
      continue;
    }
    int dup = seen_before(seen, der, len);
    if (dup < 0) {
      Py_CLEAR(list);
      break;
    }
    if (dup || moat_cert_from_der(der, len, &cert) != MOAT_OK) {
      continue;
    }
    bool ca = counts_as_ca(cert);
    moat_cert_free(cert);
    if (!ca) {
      continue;
    }
    PyObject *item = binary ? PyBytes_FromStringAndSize((const char *)der, len)
                            : pymoat_cert_dict(der, len);
    if (item == NULL || PyList_Append(list, item) < 0) {
      Py_XDECREF(item);
      Py_CLEAR(list);
      break;
    }
    Py_DECREF(item);
  }
  Py_XDECREF(seen);
  return list;
}

static PyObject *ctx_load_dh_params(PyMoatContext *c, PyObject *arg) {
  /* Finite-field DH is not in moat (DESIGN.md: ECDHE and hybrids only).
   * Like the stdlib, the file must exist and hold DH parameters; they are
   * then not used. */
  PyObject *path_b;
  if (arg == Py_None) {
    PyErr_SetString(PyExc_TypeError, "path should be a filesystem path");
    return NULL;
  }
  if (!PyUnicode_FSConverter(arg, &path_b)) {
    return NULL;
  }
  FILE *f = fopen(PyBytes_AS_STRING(path_b), "rb");
  if (f == NULL) {
    PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, arg);
    Py_DECREF(path_b);
    return NULL;
  }
  char buf[8192];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  Py_DECREF(path_b);
  if (strstr(buf, "-----BEGIN DH PARAMETERS-----") == NULL) {
    pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, "PEM",
                 "NO_START_LINE",
                 "no start line (no DH PARAMETERS block in the file; "
                 "finite-field DH is not offered by moat, so the "
                 "parameters would not be used)");
    return NULL;
  }
  Py_RETURN_NONE;
}

/* moat.set_record_size_limit: RFC 8449 (moat_context_set_record_size_limit)
 * for both roles of the context. */
static PyObject *ctx_set_record_size_limit(PyMoatContext *c, PyObject *arg) {
  long n = PyLong_AsLong(arg);
  if (n == -1 && PyErr_Occurred()) {
    return NULL;
  }
  if (n < 0 || n > 65535) {
    PyErr_SetString(PyExc_ValueError,
                    "record_size_limit must be 64 to 16385, or 0 for none");
    return NULL;
  }
  EACH_CTX(c, m) {
    if (moat_context_set_record_size_limit(m, (size_t)n) != MOAT_OK) {
      PyErr_SetString(PyExc_ValueError, moat_context_error_detail(m));
      return NULL;
    }
  }
  Py_RETURN_NONE;
}

static PyObject *ctx_set_ecdh_curve(PyMoatContext *c, PyObject *arg) {
  PyObject *b;
  if (PyUnicode_Check(arg)) {
    b = PyUnicode_AsUTF8String(arg);
  } else if (PyBytes_Check(arg)) {
    b = Py_NewRef(arg);
  } else {
    PyErr_SetString(PyExc_TypeError, "name must be str or bytes");
    return NULL;
  }
  if (b == NULL) {
    return NULL;
  }
  const char *name = PyBytes_AS_STRING(b);
  /* OpenSSL's curve names */
  if (strcmp(name, "prime256v1") == 0) {
    name = "P-256";
  } else if (strcmp(name, "secp384r1") == 0) {
    name = "P-384";
  } else if (strcmp(name, "secp521r1") == 0) {
    name = "P-521";
  }
  EACH_CTX(c, m) {
    if (moat_context_set_groups(m, name) != MOAT_OK) {
      PyErr_Format(PyExc_ValueError, "unknown elliptic curve name %R", arg);
      Py_DECREF(b);
      return NULL;
    }
  }
  Py_DECREF(b);
  Py_RETURN_NONE;
}

static PyObject *ctx_set_alpn(PyMoatContext *c, PyObject *arg) {
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
    return NULL;
  }
  /* the wire form: length-prefixed names */
  const char *names[64];
  char copy[1024];
  size_t num = 0, off = 0;
  const uint8_t *p = view.buf;
  size_t len = (size_t)view.len;
  if (len > sizeof(copy)) {
    PyBuffer_Release(&view);
    PyErr_SetString(PyExc_ValueError, "ALPN protocol list too long");
    return NULL;
  }
  size_t w = 0;
  while (off < len) {
    size_t n = p[off++];
    if (n == 0 || n > len - off || num == 64) {
      PyBuffer_Release(&view);
      PyErr_SetString(PyExc_ValueError, "invalid ALPN protocol list");
      return NULL;
    }
    names[num++] = copy + w;
    memcpy(copy + w, p + off, n);
    copy[w + n] = '\0';
    w += n + 1;
    off += n;
  }
  PyBuffer_Release(&view);
  EACH_CTX(c, m) {
    moat_err err = moat_context_set_alpn_protocols(m, names, num);
    if (err != MOAT_OK) {
      pymoat_raise_ctx(m, err);
      return NULL;
    }
  }
  Py_RETURN_NONE;
}

/* ---- ciphers -------------------------------------------------------------*/

static PyObject *ctx_set_ciphers(PyMoatContext *c, PyObject *args) {
  const char *spec;
  if (!PyArg_ParseTuple(args, "s:set_ciphers", &spec)) {
    return NULL;
  }
  EACH_CTX(c, m) {
    moat_err err = moat_context_set_cipher_list(m, spec);
    if (err != MOAT_OK) {
      pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, NULL, NULL,
                   "No cipher can be selected.");
      return NULL;
    }
  }
  Py_RETURN_NONE;
}

static PyObject *cipher_dict(const moat_cipher_info *ci) {
  return Py_BuildValue(
      "{sksssssssisisOssssssss}", "id", (unsigned long)ci->id, "name",
      ci->openssl_name, "protocol", ci->protocol, "description",
      ci->description, "strength_bits", ci->bits, "alg_bits", ci->bits, "aead",
      ci->aead ? Py_True : Py_False, "symmetric", ci->symmetric, "digest",
      ci->digest, "kea", ci->kea, "auth", ci->auth);
}

PyObject *pymoat_cipher_dict(const moat_cipher_info *ci) {
  return cipher_dict(ci);
}

static PyObject *ctx_get_ciphers(PyMoatContext *c, PyObject *unused) {
  moat_context *m = any_ctx(c);
  PyObject *list = PyList_New(0);
  moat_cipher_info ci;
  for (size_t i = 0; list != NULL && moat_context_cipher(m, i, &ci); i++) {
    PyObject *d = cipher_dict(&ci);
    if (d == NULL || PyList_Append(list, d) < 0) {
      Py_XDECREF(d);
      Py_CLEAR(list);
    } else {
      Py_DECREF(d);
    }
  }
  return list;
}

static PyObject *ctx_session_stats(PyMoatContext *c, PyObject *unused) {
  moat_session_stats st = {0};
  if (c->server != NULL) {
    moat_context_session_stats(c->server, &st);
  }
  moat_session_stats cl = {0};
  if (c->client != NULL) {
    moat_context_session_stats(c->client, &cl);
  }
  return Py_BuildValue("{sksksksksksksksksksksk}", "number", (unsigned long)0,
                       "connect", (unsigned long)cl.connect, "connect_good",
                       (unsigned long)cl.connect_good, "connect_renegotiate",
                       (unsigned long)0, "accept", (unsigned long)st.accept,
                       "accept_good", (unsigned long)st.accept_good,
                       "accept_renegotiate", (unsigned long)0, "hits",
                       (unsigned long)(st.hits + cl.hits), "misses",
                       (unsigned long)(st.misses + cl.misses), "timeouts",
                       (unsigned long)(st.timeouts + cl.timeouts), "cache_full",
                       (unsigned long)0);
}

/* ---- wrapping
 * --------------------------------------------------------------*/

static int parse_wrap_hostname(PyObject *o, PyObject **out) {
  if (o == Py_None) {
    *out = NULL;
    return 1;
  }
  if (!PyUnicode_Check(o) && !PyBytes_Check(o)) {
    PyErr_SetString(PyExc_TypeError, "server_hostname must be str or None");
    return 0;
  }
  *out = o;
  return 1;
}

static PyObject *ctx_wrap_socket(PyMoatContext *c, PyObject *args,
                                 PyObject *kw) {
  static char *kwlist[] = {"sock",  "server_side", "server_hostname",
                           "owner", "session",     NULL};
  PyObject *sock, *hostname_o = Py_None, *owner = Py_None, *session = Py_None,
                  *hostname;
  int server_side;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "Op|O$OO:_wrap_socket", kwlist,
                                   &sock, &server_side, &hostname_o, &owner,
                                   &session) ||
      !parse_wrap_hostname(hostname_o, &hostname)) {
    return NULL;
  }
  return pymoat_socket_new(c, sock, NULL, NULL, server_side, hostname, owner,
                           session);
}

static PyObject *ctx_wrap_bio(PyMoatContext *c, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {
      "incoming", "outgoing", "server_side", "server_hostname",
      "owner",    "session",  NULL};
  PyObject *in, *out, *hostname_o = Py_None, *owner = Py_None,
                      *session = Py_None, *hostname;
  int server_side;
  if (!PyArg_ParseTupleAndKeywords(
          args, kw, "O!O!p|O$OO:_wrap_bio", kwlist, &PyMoatBIO_Type, &in,
          &PyMoatBIO_Type, &out, &server_side, &hostname_o, &owner, &session) ||
      !parse_wrap_hostname(hostname_o, &hostname)) {
    return NULL;
  }
  return pymoat_socket_new(c, NULL, (PyMoatBIO *)in, (PyMoatBIO *)out,
                           server_side, hostname, owner, session);
}

/* ---- attributes
 * --------------------------------------------------------------*/

static PyObject *get_verify_mode(PyMoatContext *c, void *x) {
  return PyLong_FromLong(c->verify_mode);
}

static int set_verify_mode(PyMoatContext *c, PyObject *v, void *x) {
  if (v == NULL) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete verify_mode");
    return -1;
  }
  long mode = PyLong_AsLong(v);
  if (mode == -1 && PyErr_Occurred()) {
    return -1;
  }
  if (mode < 0 || mode > 2) {
    PyErr_SetString(PyExc_ValueError, "invalid value for verify_mode");
    return -1;
  }
  if (mode == 0 && c->check_hostname) {
    PyErr_SetString(PyExc_ValueError,
                    "Cannot set verify_mode to CERT_NONE when "
                    "check_hostname is enabled.");
    return -1;
  }
  c->verify_mode = (int)mode;
  apply_verify(c);
  return 0;
}

static PyObject *get_check_hostname(PyMoatContext *c, void *x) {
  return PyBool_FromLong(c->check_hostname);
}

static int set_check_hostname(PyMoatContext *c, PyObject *v, void *x) {
  if (v == NULL) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete check_hostname");
    return -1;
  }
  int on = PyObject_IsTrue(v);
  if (on < 0) {
    return -1;
  }
  if (on && c->verify_mode == 0) {
    c->verify_mode = 2;
  }
  c->check_hostname = on;
  apply_verify(c);
  return 0;
}

static PyObject *get_host_flags(PyMoatContext *c, void *x) {
  return PyLong_FromUnsignedLong(c->host_flags);
}

static int set_host_flags(PyMoatContext *c, PyObject *v, void *x) {
  unsigned long f = v ? PyLong_AsUnsignedLong(v) : 0;
  if (v == NULL || (f == (unsigned long)-1 && PyErr_Occurred())) {
    if (v == NULL) {
      PyErr_SetString(PyExc_AttributeError, "cannot delete _host_flags");
    }
    return -1;
  }
  c->host_flags = (unsigned int)f;
  apply_verify(c);
  return 0;
}

static PyObject *get_verify_flags(PyMoatContext *c, void *x) {
  return PyLong_FromUnsignedLong(moat_context_verify_flags(any_ctx(c)));
}

static int set_verify_flags(PyMoatContext *c, PyObject *v, void *x) {
  if (v == NULL) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete verify_flags");
    return -1;
  }
  unsigned long f = PyLong_AsUnsignedLong(v);
  if (f == (unsigned long)-1 && PyErr_Occurred()) {
    return -1;
  }
  EACH_CTX(c, m) {
    moat_context_set_verify_flags(m, (uint32_t)f);
  }
  return 0;
}

static PyObject *get_options(PyMoatContext *c, void *x) {
  return PyLong_FromUnsignedLong(c->options);
}

static int set_options(PyMoatContext *c, PyObject *v, void *x) {
  if (v == NULL) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete options");
    return -1;
  }
  unsigned long o = PyLong_AsUnsignedLong(v);
  if (o == (unsigned long)-1 && PyErr_Occurred()) {
    return -1;
  }
  unsigned long set = ~c->options & o;
  unsigned long deprecated = PY_OP_NO_SSLv3 | PY_OP_NO_TLSv1 |
                             PY_OP_NO_TLSv1_1 | PY_OP_NO_TLSv1_2 |
                             PY_OP_NO_TLSv1_3;
  if ((set & deprecated) &&
      PyErr_WarnEx(PyExc_DeprecationWarning,
                   "ssl.OP_NO_SSL*/ssl.OP_NO_TLS* options are deprecated",
                   2) < 0) {
    return -1;
  }
  c->options = o;
  apply_versions(c);
  apply_tickets(c);
  return 0;
}

static int version_value_ok(long v) {
  switch (v) {
  case PY_PROTO_MINIMUM_SUPPORTED:
  case PY_PROTO_MAXIMUM_SUPPORTED:
  case 0x300:
  case 0x301:
  case 0x302:
  case 0x303:
  case 0x304:
    return 1;
  default:
    return 0;
  }
}

static int set_version(PyMoatContext *c, PyObject *v, bool is_max) {
  if (v == NULL) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete attribute");
    return -1;
  }
  long val = PyLong_AsLong(v);
  if (val == -1 && PyErr_Occurred()) {
    return -1;
  }
  if (!version_value_ok(val)) {
    PyErr_Format(PyExc_ValueError, "Unsupported TLS/SSL version 0x%x",
                 (unsigned)val);
    return -1;
  }
  if (c->protocol != PY_PROTO_TLS && c->protocol != PY_PROTO_TLS_CLIENT &&
      c->protocol != PY_PROTO_TLS_SERVER) {
    PyErr_SetString(PyExc_ValueError,
                    "The context's protocol doesn't support modification of "
                    "highest and lowest version.");
    return -1;
  }
  if ((val == 0x300 || val == 0x301 || val == 0x302) &&
      PyErr_WarnFormat(PyExc_DeprecationWarning, 2,
                       "ssl.TLSVersion.%s is deprecated",
                       val == 0x300   ? "SSLv3"
                       : val == 0x301 ? "TLSv1"
                                      : "TLSv1_1") < 0) {
    return -1;
  }
  /* OpenSSL's reading of the two special values */
  if (is_max) {
    if (val == PY_PROTO_MINIMUM_SUPPORTED) {
      val = 0x301;
    }
    c->max_version = (int)val;
  } else {
    if (val == PY_PROTO_MAXIMUM_SUPPORTED) {
      val = 0x304;
    }
    c->min_version = (int)val;
  }
  apply_versions(c);
  return 0;
}

static PyObject *get_min_version(PyMoatContext *c, void *x) {
  return PyLong_FromLong(c->min_version);
}
static int set_min_version(PyMoatContext *c, PyObject *v, void *x) {
  return set_version(c, v, false);
}
static PyObject *get_max_version(PyMoatContext *c, void *x) {
  return PyLong_FromLong(c->max_version);
}
static int set_max_version(PyMoatContext *c, PyObject *v, void *x) {
  return set_version(c, v, true);
}

static PyObject *get_protocol(PyMoatContext *c, void *x) {
  return PyLong_FromLong(c->protocol);
}

static PyObject *get_pha(PyMoatContext *c, void *x) {
  return PyBool_FromLong(c->post_handshake_auth);
}

static int set_pha(PyMoatContext *c, PyObject *v, void *x) {
  if (v == NULL) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete attribute");
    return -1;
  }
  int on = PyObject_IsTrue(v);
  if (on < 0) {
    return -1;
  }
  c->post_handshake_auth = on;
  return 0;
}

static PyObject *get_num_tickets(PyMoatContext *c, void *x) {
  return PyLong_FromLong(c->num_tickets);
}

static int set_num_tickets(PyMoatContext *c, PyObject *v, void *x) {
  if (v == NULL) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete attribute");
    return -1;
  }
  if (!PyLong_Check(v)) {
    PyErr_SetString(PyExc_TypeError, "num_tickets must be an int");
    return -1;
  }
  long n = PyLong_AsLong(v);
  if (n == -1 && PyErr_Occurred()) {
    return -1;
  }
  if (n < 0) {
    PyErr_SetString(PyExc_ValueError, "value must be non-negative");
    return -1;
  }
  if (c->protocol != PY_PROTO_TLS_SERVER) {
    PyErr_SetString(PyExc_ValueError, "SSLContext is not a server context.");
    return -1;
  }
  if (n > 256) {
    PyErr_SetString(PyExc_ValueError,
                    "moat sends at most 256 tickets per connection");
    return -1;
  }
  c->num_tickets = (int)n;
  apply_tickets(c);
  return 0;
}

static PyObject *get_security_level(PyMoatContext *c, void *x) {
  /* What the stdlib reports on Debian's OpenSSL 3 (SECLEVEL=2): moat's
   * algorithms all meet it. */
  return PyLong_FromLong(2);
}

static PyObject *get_sni_cb(PyMoatContext *c, void *x) {
  return Py_NewRef(c->sni_cb ? c->sni_cb : Py_None);
}

static int set_sni_cb(PyMoatContext *c, PyObject *v, void *x) {
  if (c->protocol == PY_PROTO_TLS_CLIENT) {
    PyErr_SetString(PyExc_ValueError,
                    "sni_callback cannot be set on TLS_CLIENT context");
    return -1;
  }
  if (v == NULL || v == Py_None) {
    Py_CLEAR(c->sni_cb);
  } else {
    if (!PyCallable_Check(v)) {
      PyErr_SetString(PyExc_TypeError, "not a callable object");
      return -1;
    }
    Py_XSETREF(c->sni_cb, Py_NewRef(v));
  }
  return pymoat_install_sni(c);
}

static PyObject *get_msg_cb(PyMoatContext *c, void *x) {
  return Py_NewRef(c->msg_cb ? c->msg_cb : Py_None);
}

static int set_msg_cb(PyMoatContext *c, PyObject *v, void *x) {
  if (v == NULL || v == Py_None) {
    Py_CLEAR(c->msg_cb);
    return 0;
  }
  if (!PyCallable_Check(v)) {
    PyErr_SetString(PyExc_TypeError, "not a callable object");
    return -1;
  }
  Py_XSETREF(c->msg_cb, Py_NewRef(v));
  return 0;
}

static PyObject *get_keylog(PyMoatContext *c, void *x) {
  return Py_NewRef(c->keylog_filename ? c->keylog_filename : Py_None);
}

static int set_keylog(PyMoatContext *c, PyObject *v, void *x) {
  if (v == NULL || v == Py_None) {
    Py_CLEAR(c->keylog_filename);
    EACH_CTX(c, m) {
      (void)moat_context_set_keylog_file(m, NULL);
    }
    return 0;
  }
  PyObject *b;
  if (!PyUnicode_FSConverter(v, &b)) {
    return -1;
  }
  /* the stdlib opens it for appending at once, so errors show here */
  FILE *f = fopen(PyBytes_AS_STRING(b), "a");
  if (f == NULL) {
    PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, v);
    Py_DECREF(b);
    return -1;
  }
  if (ftell(f) == 0) {
    /* the header the stdlib writes to a new key log */
    fputs("# TLS secrets log file, generated by OpenSSL / Python\n", f);
  }
  fclose(f);
  EACH_CTX(c, m) {
    moat_err err = moat_context_set_keylog_file(m, PyBytes_AS_STRING(b));
    if (err != MOAT_OK) {
      Py_DECREF(b);
      pymoat_raise_ctx(m, err);
      return -1;
    }
  }
  Py_DECREF(b);
  Py_XSETREF(c->keylog_filename, Py_NewRef(v));
  return 0;
}

static PyGetSetDef ctx_getset[] = {
    {"check_hostname", (getter)get_check_hostname, (setter)set_check_hostname,
     NULL},
    {"_host_flags", (getter)get_host_flags, (setter)set_host_flags, NULL},
    {"minimum_version", (getter)get_min_version, (setter)set_min_version, NULL},
    {"maximum_version", (getter)get_max_version, (setter)set_max_version, NULL},
    {"keylog_filename", (getter)get_keylog, (setter)set_keylog, NULL},
    {"_msg_callback", (getter)get_msg_cb, (setter)set_msg_cb, NULL},
    {"sni_callback", (getter)get_sni_cb, (setter)set_sni_cb, NULL},
    {"num_tickets", (getter)get_num_tickets, (setter)set_num_tickets, NULL},
    {"options", (getter)get_options, (setter)set_options, NULL},
    {"post_handshake_auth", (getter)get_pha, (setter)set_pha, NULL},
    {"protocol", (getter)get_protocol, NULL, NULL},
    {"verify_flags", (getter)get_verify_flags, (setter)set_verify_flags, NULL},
    {"verify_mode", (getter)get_verify_mode, (setter)set_verify_mode, NULL},
    {"security_level", (getter)get_security_level, NULL, NULL},
    {NULL},
};

static PyMethodDef ctx_methods[] = {
    {"_wrap_socket", (PyCFunction)(void (*)(void))ctx_wrap_socket,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"_wrap_bio", (PyCFunction)(void (*)(void))ctx_wrap_bio,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"set_ciphers", (PyCFunction)ctx_set_ciphers, METH_VARARGS, NULL},
    {"get_ciphers", (PyCFunction)ctx_get_ciphers, METH_NOARGS, NULL},
    {"_set_alpn_protocols", (PyCFunction)ctx_set_alpn, METH_O, NULL},
    {"load_cert_chain", (PyCFunction)(void (*)(void))ctx_load_cert_chain,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"load_dh_params", (PyCFunction)ctx_load_dh_params, METH_O, NULL},
    {"load_verify_locations",
     (PyCFunction)(void (*)(void))ctx_load_verify_locations,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"session_stats", (PyCFunction)ctx_session_stats, METH_NOARGS, NULL},
    {"set_default_verify_paths", (PyCFunction)ctx_set_default_verify_paths,
     METH_NOARGS, NULL},
    {"set_ecdh_curve", (PyCFunction)ctx_set_ecdh_curve, METH_O, NULL},
    {"_moat_set_record_size_limit", (PyCFunction)ctx_set_record_size_limit,
     METH_O, NULL},
    {"cert_store_stats", (PyCFunction)ctx_cert_store_stats, METH_NOARGS, NULL},
    {"get_ca_certs", (PyCFunction)(void (*)(void))ctx_get_ca_certs,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {NULL},
};

PyTypeObject PyMoatContext_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_ssl._SSLContext",
    .tp_basicsize = sizeof(PyMoatContext),
    .tp_dealloc = (destructor)ctx_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)ctx_traverse,
    .tp_clear = (inquiry)ctx_clear,
    .tp_methods = ctx_methods,
    .tp_getset = ctx_getset,
    .tp_new = ctx_new,
};
