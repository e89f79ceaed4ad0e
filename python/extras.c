/* What the stdlib has no API for, reached through the `moat` Python
 * package (python/moat): keying material exporters (RFC 8446 7.5,
 * RFC 5705) and RFC 9266's tls-exporter, KeyUpdate, the negotiated group
 * and signature schemes. */
#include "pymoat.h"

PyObject *pymoat_extras_exporter(PyMoatSocket *s, PyObject *args,
                                 PyObject *kw) {
  static char *kwlist[] = {"label", "length", "context", NULL};
  const char *label;
  Py_ssize_t length;
  Py_buffer ctx = {0};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "sn|z*:export_keying_material",
                                   kwlist, &label, &length, &ctx)) {
    return NULL;
  }
  if (length <= 0 || length > 0xffff) {
    if (ctx.buf) {
      PyBuffer_Release(&ctx);
    }
    PyErr_SetString(PyExc_ValueError, "length must be 1..65535");
    return NULL;
  }
  PyObject *out = PyBytes_FromStringAndSize(NULL, length);
  if (out == NULL) {
    if (ctx.buf) {
      PyBuffer_Release(&ctx);
    }
    return NULL;
  }
  moat_err err = moat_conn_export_keying_material(
      s->conn, label, ctx.buf, ctx.buf ? (size_t)ctx.len : 0, ctx.buf != NULL,
      (uint8_t *)PyBytes_AS_STRING(out), (size_t)length);
  if (ctx.buf) {
    PyBuffer_Release(&ctx);
  }
  if (err != MOAT_OK) {
    Py_DECREF(out);
    if (err == MOAT_ERR_BAD_STATE) {
      PyErr_SetString(PyExc_ValueError, "handshake not done yet");
    } else {
      pymoat_raise_conn(s, err);
    }
    return NULL;
  }
  return out;
}

PyObject *pymoat_extras_key_update(PyMoatSocket *s, PyObject *args,
                                   PyObject *kw) {
  static char *kwlist[] = {"request_peer", NULL};
  int request = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:key_update", kwlist,
                                   &request)) {
    return NULL;
  }
  moat_err err = moat_conn_key_update(s->conn, request);
  if (err != MOAT_OK) {
    if (err == MOAT_ERR_BAD_STATE || err == MOAT_ERR_UNSUPPORTED) {
      PyErr_SetString(PyExc_ValueError,
                      "KeyUpdate needs a TLS 1.3 connection after its "
                      "handshake");
    } else {
      pymoat_raise_conn(s, err);
    }
    return NULL;
  }
  /* the KeyUpdate message goes out with the next write (or now, to a
   * MemoryBIO, where the caller sends it) */
  Py_RETURN_NONE;
}

static int set_str(PyObject *d, const char *key, const char *v) {
  PyObject *o = v ? PyUnicode_FromString(v) : Py_NewRef(Py_None);
  if (o == NULL) {
    return -1;
  }
  int r = PyDict_SetItemString(d, key, o);
  Py_DECREF(o);
  return r;
}

PyObject *pymoat_extras_info(PyMoatSocket *s, PyObject *unused) {
  PyObject *d = PyDict_New();
  if (d == NULL) {
    return NULL;
  }
  bool done = moat_conn_handshake_done(s->conn);
  if (set_str(d, "version", done ? moat_conn_version_name(s->conn) : NULL) ||
      set_str(d, "cipher", done ? moat_conn_cipher_name(s->conn) : NULL) ||
      set_str(d, "group", done ? moat_conn_group_name(s->conn) : NULL) ||
      set_str(d, "peer_sigalg",
              done ? moat_conn_peer_sigalg_name(s->conn) : NULL) ||
      set_str(d, "sigalg", done ? moat_conn_sigalg_name(s->conn) : NULL) ||
      set_str(d, "alpn", moat_conn_alpn(s->conn)) ||
      set_str(d, "error",
              moat_conn_error(s->conn) != MOAT_OK
                  ? moat_err_name(moat_conn_error(s->conn))
                  : NULL) ||
      set_str(d, "error_detail", moat_conn_error_detail(s->conn)) ||
      set_str(d, "verify_message", moat_conn_verify_message(s->conn)) ||
      set_str(d, "verify_subject", moat_conn_verify_error_subject(s->conn))) {
    Py_DECREF(d);
    return NULL;
  }
  PyObject *v = PyLong_FromLong(moat_conn_verify_code(s->conn));
  PyObject *vd = PyLong_FromLong(moat_conn_verify_error_depth(s->conn));
  PyObject *r = PyBool_FromLong(moat_conn_session_reused(s->conn));
  PyObject *h = PyBool_FromLong(moat_conn_hello_retry(s->conn));
  PyObject *rl = PyLong_FromSize_t(moat_conn_record_size_limit(s->conn));
  PyObject *prl = PyLong_FromSize_t(moat_conn_peer_record_size_limit(s->conn));
  int bad = v == NULL || vd == NULL || r == NULL || h == NULL || rl == NULL ||
            prl == NULL || PyDict_SetItemString(d, "verify_code", v) ||
            PyDict_SetItemString(d, "verify_depth", vd) ||
            PyDict_SetItemString(d, "session_reused", r) ||
            PyDict_SetItemString(d, "hello_retry", h) ||
            PyDict_SetItemString(d, "record_size_limit", rl) ||
            PyDict_SetItemString(d, "peer_record_size_limit", prl);
  Py_XDECREF(v);
  Py_XDECREF(vd);
  Py_XDECREF(r);
  Py_XDECREF(h);
  Py_XDECREF(rl);
  Py_XDECREF(prl);
  if (bad) {
    Py_DECREF(d);
    return NULL;
  }
  return d;
}
