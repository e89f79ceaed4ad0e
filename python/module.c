/* The _ssl module on moat: constants with OpenSSL's values, the module
 * functions ssl.py imports, the SNI callback, and module setup. */
#include <string.h>

#include "pymoat.h"

#ifndef PYMOAT_VERSION_SUFFIX
#define PYMOAT_VERSION_SUFFIX ""
#endif

/* ---- SNI ------------------------------------------------------------------*/

static PyObject *owner_or_sock(PyMoatSocket *s) {
  PyObject *o = NULL;
  if (s->owner_ref != NULL) {
    o = PyWeakref_GetObject(s->owner_ref);
  }
  if ((o == NULL || o == Py_None) && s->sock_ref != NULL) {
    o = PyWeakref_GetObject(s->sock_ref);
  }
  return o ? o : Py_None;
}

static moat_err sni_tramp(void *arg, moat_conn *conn, const char *name) {
  PyMoatContext *c = arg;
  PyMoatSocket *s = moat_conn_user_data(conn);
  moat_err ret = MOAT_OK;
  if (s == NULL) {
    return MOAT_OK;
  }
  pymoat_cb_enter(s);
  if (c->sni_cb == NULL) {
    goto out;
  }
  PyObject *cb = Py_NewRef(c->sni_cb);
  PyObject *name_o =
      name ? PyUnicode_DecodeASCII(name, (Py_ssize_t)strlen(name), "strict")
           : Py_NewRef(Py_None);
  PyObject *r = NULL;
  if (name_o == NULL) {
    PyErr_WriteUnraisable(cb);
    moat_conn_set_sni_alert(conn, 80);
    ret = MOAT_ERR_HANDSHAKE_FAILURE;
  } else {
    PyObject *owner = Py_NewRef(owner_or_sock(s));
    PyObject *ctx = Py_NewRef((PyObject *)c);
    r = PyObject_CallFunctionObjArgs(cb, owner, name_o, ctx, NULL);
    Py_DECREF(owner);
    Py_DECREF(ctx);
    Py_DECREF(name_o);
    if (r == NULL) {
      /* the stdlib reports it as unraisable and refuses */
      PyErr_WriteUnraisable(cb);
      moat_conn_set_sni_alert(conn, 40); /* handshake_failure */
      ret = MOAT_ERR_HANDSHAKE_FAILURE;
    } else if (r != Py_None) {
      long alert = PyLong_Check(r) ? PyLong_AsLong(r) : -1;
      if (!PyLong_Check(r) || PyErr_Occurred() || alert < 0 || alert > 255) {
        if (!PyErr_Occurred()) {
          PyErr_Format(PyExc_TypeError,
                       "the servername callback must return None or an "
                       "ALERT_DESCRIPTION_* integer, not %.100s",
                       Py_TYPE(r)->tp_name);
        }
        PyErr_WriteUnraisable(r);
        alert = 80; /* internal_error */
      }
      moat_conn_set_sni_alert(conn, (int)alert);
      ret = MOAT_ERR_HANDSHAKE_FAILURE;
    }
    Py_XDECREF(r);
  }
  Py_DECREF(cb);
out:
  pymoat_cb_leave(s);
  return ret;
}

int pymoat_install_sni(PyMoatContext *c) {
  if (c->server != NULL) {
    moat_context_set_sni_cb(c->server, c->sni_cb ? sni_tramp : NULL, c);
  }
  return 0;
}

/* ---- _msg_callback --------------------------------------------------------*/

/* The stdlib's callback gets (conn, "read" / "write", version,
 * content_type, msg_type, data) with OpenSSL's numbers, which are
 * moat_msg's but for change_cipher_spec, whose msg_type OpenSSL calls
 * SSL3_MT_CHANGE_CIPHER_SPEC (0x0101); ssl.py turns them into its enums.
 * It is the current context's callback (an SNI callback may have
 * switched contexts). */
#define PY_MT_CHANGE_CIPHER_SPEC 0x0101
static void msg_tramp(void *arg, moat_conn *conn, const moat_msg *m) {
  PyMoatSocket *s = arg;
  (void)conn;
  pymoat_cb_enter(s);
  PyObject *cb = s->ctx->msg_cb;
  if (cb != NULL) {
    Py_INCREF(cb);
    PyObject *owner = Py_NewRef(owner_or_sock(s));
    PyObject *r = PyObject_CallFunction(
        cb, "Osiiiy#", owner, m->sent ? "write" : "read", m->version,
        m->content_type,
        m->content_type == 20 ? PY_MT_CHANGE_CIPHER_SPEC : m->msg_type,
        (const char *)m->data, (Py_ssize_t)m->len);
    Py_DECREF(owner);
    Py_DECREF(cb);
    if (r == NULL) {
      if (s->msg_exc[0] == NULL) {
        PyErr_Fetch(&s->msg_exc[0], &s->msg_exc[1], &s->msg_exc[2]);
      } else {
        PyErr_Clear(); /* the first one is raised */
      }
    }
    Py_XDECREF(r);
  }
  pymoat_cb_leave(s);
}

void pymoat_msg_attach(PyMoatSocket *s) {
  /* As with OpenSSL, a connection reports when its context had a
   * callback when it was made. */
  if (s->ctx->msg_cb != NULL) {
    moat_conn_set_msg_cb(s->conn, msg_tramp, s);
  }
}

PyObject *pymoat_msg_finish(PyMoatSocket *s, PyObject *result) {
  if (s->msg_exc[0] == NULL) {
    return result;
  }
  Py_XDECREF(result);
  if (result == NULL) {
    PyErr_Clear(); /* the callback's exception says more */
  }
  PyErr_Restore(s->msg_exc[0], s->msg_exc[1], s->msg_exc[2]);
  s->msg_exc[0] = s->msg_exc[1] = s->msg_exc[2] = NULL;
  return NULL;
}

/* ---- module functions
 * ------------------------------------------------------*/

static PyObject *rand_bytes(PyObject *mod, PyObject *arg) {
  long n = PyLong_AsLong(arg);
  if (n == -1 && PyErr_Occurred()) {
    return NULL;
  }
  if (n < 0) {
    PyErr_SetString(PyExc_ValueError, "num must be positive");
    return NULL;
  }
  if (n > INT_MAX) {
    PyErr_SetString(PyExc_OverflowError, "num is too large");
    return NULL;
  }
  PyObject *b = PyBytes_FromStringAndSize(NULL, n);
  if (b == NULL) {
    return NULL;
  }
  if (moat_random_bytes((uint8_t *)PyBytes_AS_STRING(b), (size_t)n) !=
      MOAT_OK) {
    Py_DECREF(b);
    pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, "RAND", "RAND_BYTES",
                 "the system random generator failed");
    return NULL;
  }
  return b;
}

#if PY_VERSION_HEX < 0x030c0000
static PyObject *rand_pseudo_bytes(PyObject *mod, PyObject *arg) {
  PyObject *b = rand_bytes(mod, arg);
  if (b == NULL) {
    return NULL;
  }
  return Py_BuildValue("(NO)", b, Py_True);
}
#endif

static PyObject *rand_status(PyObject *mod, PyObject *unused) {
  Py_RETURN_TRUE; /* libcrypto's DRBG seeds itself from the system */
}

static PyObject *rand_add(PyObject *mod, PyObject *args) {
  Py_buffer view;
  double entropy;
  if (!PyArg_ParseTuple(args, "s*d:RAND_add", &view, &entropy)) {
    return NULL;
  }
  /* Accepted and ignored: moat draws on the system's CSPRNG, which needs
   * no seeding from the application. */
  PyBuffer_Release(&view);
  Py_RETURN_NONE;
}

static PyObject *oid_tuple(const moat_oid_info *o) {
  return Py_BuildValue("(isss)", o->nid, o->short_name, o->long_name,
                       o->dotted);
}

static PyObject *txt2obj(PyObject *mod, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"txt", "name", NULL};
  const char *txt;
  int name = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "s|p:txt2obj", kwlist, &txt,
                                   &name)) {
    return NULL;
  }
  const moat_oid_info *o = moat_oid_by_dotted(txt);
  if (o == NULL && name) {
    o = moat_oid_by_name(txt);
  }
  if (o != NULL) {
    return oid_tuple(o);
  }
  if (moat_oid_dotted_valid(txt)) {
    return Py_BuildValue("(izzs)", 0, NULL, NULL, txt);
  }
  PyErr_Format(PyExc_ValueError, "unknown object '%.100s'", txt);
  return NULL;
}

static PyObject *nid2obj(PyObject *mod, PyObject *args) {
  int nid;
  if (!PyArg_ParseTuple(args, "i:nid2obj", &nid)) {
    return NULL;
  }
  if (nid < 0) {
    PyErr_SetString(PyExc_ValueError, "NID must be positive.");
    return NULL;
  }
  const moat_oid_info *o = moat_oid_by_nid(nid);
  if (o == NULL) {
    PyErr_Format(PyExc_ValueError, "unknown NID %i", nid);
    return NULL;
  }
  return oid_tuple(o);
}

static PyObject *default_verify_paths(PyObject *mod, PyObject *unused) {
  /* where moat_context_load_default_verify_paths looks */
  return Py_BuildValue("(ssss)", "SSL_CERT_FILE",
                       "/etc/ssl/certs/ca-certificates.crt", "SSL_CERT_DIR",
                       "/etc/ssl/certs");
}

static PyMethodDef module_methods[] = {
    {"RAND_bytes", rand_bytes, METH_O, NULL},
#if PY_VERSION_HEX < 0x030c0000
    {"RAND_pseudo_bytes", rand_pseudo_bytes, METH_O, NULL},
#endif
    {"RAND_status", rand_status, METH_NOARGS, NULL},
    {"RAND_add", rand_add, METH_VARARGS, NULL},
    {"txt2obj", (PyCFunction)(void (*)(void))txt2obj,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"nid2obj", nid2obj, METH_VARARGS, NULL},
    {"get_default_verify_paths", default_verify_paths, METH_NOARGS, NULL},
    {"_test_decode_cert", pymoat_test_decode_cert, METH_O, NULL},
    {NULL},
};

/* ---- constants
 * ------------------------------------------------------------------*/

typedef struct int_const {
  const char *name;
  long value;
} int_const;

static const int_const k_consts[] = {
    {"SSL_ERROR_ZERO_RETURN", PY_SSL_ERROR_ZERO_RETURN},
    {"SSL_ERROR_WANT_READ", PY_SSL_ERROR_WANT_READ},
    {"SSL_ERROR_WANT_WRITE", PY_SSL_ERROR_WANT_WRITE},
    {"SSL_ERROR_WANT_X509_LOOKUP", PY_SSL_ERROR_WANT_X509_LOOKUP},
    {"SSL_ERROR_SYSCALL", PY_SSL_ERROR_SYSCALL},
    {"SSL_ERROR_SSL", PY_SSL_ERROR_SSL},
    {"SSL_ERROR_WANT_CONNECT", PY_SSL_ERROR_WANT_CONNECT},
    {"SSL_ERROR_EOF", PY_SSL_ERROR_EOF},
    {"SSL_ERROR_INVALID_ERROR_CODE", PY_SSL_ERROR_INVALID_ERROR_CODE},
    {"CERT_NONE", 0},
    {"CERT_OPTIONAL", 1},
    {"CERT_REQUIRED", 2},
    {"VERIFY_DEFAULT", 0},
    {"VERIFY_CRL_CHECK_LEAF", MOAT_VERIFY_CRL_CHECK_LEAF},
    {"VERIFY_CRL_CHECK_CHAIN", MOAT_VERIFY_CRL_CHECK_CHAIN},
    {"VERIFY_X509_STRICT", MOAT_VERIFY_X509_STRICT},
    {"VERIFY_ALLOW_PROXY_CERTS", 0x40},
    {"VERIFY_X509_TRUSTED_FIRST", MOAT_VERIFY_X509_TRUSTED_FIRST},
    {"VERIFY_X509_PARTIAL_CHAIN", MOAT_VERIFY_X509_PARTIAL_CHAIN},
    {"ALERT_DESCRIPTION_CLOSE_NOTIFY", 0},
    {"ALERT_DESCRIPTION_UNEXPECTED_MESSAGE", 10},
    {"ALERT_DESCRIPTION_BAD_RECORD_MAC", 20},
    {"ALERT_DESCRIPTION_RECORD_OVERFLOW", 22},
    {"ALERT_DESCRIPTION_DECOMPRESSION_FAILURE", 30},
    {"ALERT_DESCRIPTION_HANDSHAKE_FAILURE", 40},
    {"ALERT_DESCRIPTION_BAD_CERTIFICATE", 42},
    {"ALERT_DESCRIPTION_UNSUPPORTED_CERTIFICATE", 43},
    {"ALERT_DESCRIPTION_CERTIFICATE_REVOKED", 44},
    {"ALERT_DESCRIPTION_CERTIFICATE_EXPIRED", 45},
    {"ALERT_DESCRIPTION_CERTIFICATE_UNKNOWN", 46},
    {"ALERT_DESCRIPTION_ILLEGAL_PARAMETER", 47},
    {"ALERT_DESCRIPTION_UNKNOWN_CA", 48},
    {"ALERT_DESCRIPTION_ACCESS_DENIED", 49},
    {"ALERT_DESCRIPTION_DECODE_ERROR", 50},
    {"ALERT_DESCRIPTION_DECRYPT_ERROR", 51},
    {"ALERT_DESCRIPTION_PROTOCOL_VERSION", 70},
    {"ALERT_DESCRIPTION_INSUFFICIENT_SECURITY", 71},
    {"ALERT_DESCRIPTION_INTERNAL_ERROR", 80},
    {"ALERT_DESCRIPTION_USER_CANCELLED", 90},
    {"ALERT_DESCRIPTION_NO_RENEGOTIATION", 100},
    {"ALERT_DESCRIPTION_UNSUPPORTED_EXTENSION", 110},
    {"ALERT_DESCRIPTION_CERTIFICATE_UNOBTAINABLE", 111},
    {"ALERT_DESCRIPTION_UNRECOGNIZED_NAME", 112},
    {"ALERT_DESCRIPTION_BAD_CERTIFICATE_STATUS_RESPONSE", 113},
    {"ALERT_DESCRIPTION_BAD_CERTIFICATE_HASH_VALUE", 114},
    {"ALERT_DESCRIPTION_UNKNOWN_PSK_IDENTITY", 115},
    {"PROTOCOL_SSLv23", PY_PROTO_TLS},
    {"PROTOCOL_TLS", PY_PROTO_TLS},
    {"PROTOCOL_TLS_CLIENT", PY_PROTO_TLS_CLIENT},
    {"PROTOCOL_TLS_SERVER", PY_PROTO_TLS_SERVER},
    {"PROTOCOL_TLSv1", PY_PROTO_TLSv1},
    {"PROTOCOL_TLSv1_1", PY_PROTO_TLSv1_1},
    {"PROTOCOL_TLSv1_2", PY_PROTO_TLSv1_2},
    {"OP_ALL", (long)PY_OP_ALL},
    {"OP_NO_SSLv2", 0},
    {"OP_NO_SSLv3", (long)PY_OP_NO_SSLv3},
    {"OP_NO_TLSv1", (long)PY_OP_NO_TLSv1},
    {"OP_NO_TLSv1_1", (long)PY_OP_NO_TLSv1_1},
    {"OP_NO_TLSv1_2", (long)PY_OP_NO_TLSv1_2},
    {"OP_NO_TLSv1_3", (long)PY_OP_NO_TLSv1_3},
    {"OP_CIPHER_SERVER_PREFERENCE", (long)PY_OP_CIPHER_SERVER_PREFERENCE},
    {"OP_SINGLE_DH_USE", 0},
    {"OP_SINGLE_ECDH_USE", 0},
    {"OP_NO_TICKET", (long)PY_OP_NO_TICKET},
    {"OP_NO_COMPRESSION", (long)PY_OP_NO_COMPRESSION},
    {"OP_ENABLE_MIDDLEBOX_COMPAT", (long)PY_OP_ENABLE_MIDDLEBOX_COMPAT},
    {"OP_NO_RENEGOTIATION", (long)PY_OP_NO_RENEGOTIATION},
    {"OP_IGNORE_UNEXPECTED_EOF", (long)PY_OP_IGNORE_UNEXPECTED_EOF},
#if PY_VERSION_HEX >= 0x030c0000
    {"OP_LEGACY_SERVER_CONNECT", (long)PY_OP_LEGACY_SERVER_CONNECT},
    {"OP_ENABLE_KTLS", (long)PY_OP_ENABLE_KTLS},
#endif
    {"HOSTFLAG_ALWAYS_CHECK_SUBJECT", 0x1},
    {"HOSTFLAG_NEVER_CHECK_SUBJECT", 0x20},
    {"HOSTFLAG_NO_WILDCARDS", 0x2},
    {"HOSTFLAG_NO_PARTIAL_WILDCARDS", 0x4},
    {"HOSTFLAG_MULTI_LABEL_WILDCARDS", 0x8},
    {"HOSTFLAG_SINGLE_LABEL_SUBDOMAINS", 0x10},
    {"PROTO_MINIMUM_SUPPORTED", PY_PROTO_MINIMUM_SUPPORTED},
    {"PROTO_MAXIMUM_SUPPORTED", PY_PROTO_MAXIMUM_SUPPORTED},
    {"PROTO_SSLv3", 0x300},
    {"PROTO_TLSv1", 0x301},
    {"PROTO_TLSv1_1", 0x302},
    {"PROTO_TLSv1_2", 0x303},
    {"PROTO_TLSv1_3", 0x304},
    {"ENCODING_PEM", 1},
    {"ENCODING_DER", 2},
};

typedef struct bool_const {
  const char *name;
  bool value;
} bool_const;

static const bool_const k_bools[] = {
    {"HAS_SNI", true},     {"HAS_TLS_UNIQUE", true}, {"HAS_ECDH", true},
    {"HAS_NPN", false},    {"HAS_ALPN", true},       {"HAS_SSLv2", false},
    {"HAS_SSLv3", false},  {"HAS_TLSv1", false},     {"HAS_TLSv1_1", false},
    {"HAS_TLSv1_2", true}, {"HAS_TLSv1_3", true},
#if PY_VERSION_HEX >= 0x030d0000
    {"HAS_PSK", false},
#endif
#if PY_VERSION_HEX >= 0x030e0000
    {"HAS_PHA", true},
#endif
};

static PyObject *version_tuple(unsigned long v) {
  unsigned long status = v & 0xf, patch = (v >> 4) & 0xff,
                fix = (v >> 12) & 0xff, minor = (v >> 20) & 0xff,
                major = (v >> 28) & 0xff;
  return Py_BuildValue("(kkkkk)", major, minor, fix, patch, status);
}

static int add_constants(PyObject *m) {
  for (size_t i = 0; i < sizeof(k_consts) / sizeof(k_consts[0]); i++) {
    if (PyModule_AddIntConstant(m, k_consts[i].name, k_consts[i].value) < 0) {
      return -1;
    }
  }
  for (size_t i = 0; i < sizeof(k_bools) / sizeof(k_bools[0]); i++) {
    if (PyModule_AddObject(m, k_bools[i].name,
                           Py_NewRef(k_bools[i].value ? Py_True : Py_False)) <
        0) {
      return -1;
    }
  }
  unsigned long num = moat_crypto_version_number();
  char text[256];
  PyOS_snprintf(text, sizeof(text), "moat %s (libcrypto %s)",
                MOAT_VERSION_STRING, moat_crypto_version());
  if (PyModule_AddStringConstant(m, "OPENSSL_VERSION", text) < 0 ||
      PyModule_AddObject(m, "OPENSSL_VERSION_NUMBER",
                         PyLong_FromUnsignedLong(num)) < 0 ||
      PyModule_AddObject(m, "OPENSSL_VERSION_INFO", version_tuple(num)) < 0 ||
      PyModule_AddObject(m, "_OPENSSL_API_VERSION", version_tuple(num)) < 0 ||
      PyModule_AddStringConstant(
          m, "_DEFAULT_CIPHERS",
          "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:"
          "!eNULL:!aDSS:!SHA1:!AESCCM") < 0 ||
      PyModule_AddStringConstant(m, "MOAT_VERSION", MOAT_VERSION_STRING) < 0) {
    return -1;
  }
#if PY_VERSION_HEX < 0x030c0000
  /* 3.11's ssl.py does not import these; test_ssl reads them. */
  PyObject *d1 = PyDict_New(), *d2 = PyDict_New(), *d3 = PyDict_New();
  if (d1 == NULL || d2 == NULL || d3 == NULL ||
      PyModule_AddObject(m, "err_codes_to_names", d1) < 0 ||
      PyModule_AddObject(m, "err_names_to_codes", d2) < 0 ||
      PyModule_AddObject(m, "lib_codes_to_names", d3) < 0) {
    return -1;
  }
#endif
  return 0;
}

static struct PyModuleDef moat_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_ssl",
    .m_doc = "TLS on moat: the _ssl interface of Python's ssl module over "
             "moat's engine (libcrypto for the primitives, never libssl).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__ssl(void);
PyMODINIT_FUNC PyInit__ssl(void) {
  PyTypeObject *types[] = {&PyMoatContext_Type, &PyMoatSocket_Type,
                           &PyMoatBIO_Type, &PyMoatSession_Type,
                           &PyMoatCertificate_Type};
  const char *names[] = {"_SSLContext", "_SSLSocket", "MemoryBIO", "SSLSession",
                         "Certificate"};
  for (size_t i = 0; i < 5; i++) {
    if (PyType_Ready(types[i]) < 0) {
      return NULL;
    }
  }
  PyObject *m = PyModule_Create(&moat_module);
  if (m == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < 5; i++) {
    Py_INCREF(types[i]);
    if (PyModule_AddObject(m, names[i], (PyObject *)types[i]) < 0) {
      Py_DECREF(m);
      return NULL;
    }
  }
  if (pymoat_errors_init(m) < 0 || add_constants(m) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
