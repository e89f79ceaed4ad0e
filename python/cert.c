/* getpeercert()'s dict and the Certificate type, from moat.h's
 * certificate details. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pymoat.h"

/* OpenSSL's ASN1_TIME_print: "Jun 14 18:00:58 2028 GMT". */
static PyObject *time_text(int64_t t) {
  static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL) {
    return PyUnicode_FromString("");
  }
  char buf[64];
  snprintf(buf, sizeof(buf), "%s %2d %02d:%02d:%02d %d GMT", mon[tm.tm_mon],
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
  return PyUnicode_FromString(buf);
}

/* A Name as ((("countryName", "XY"),), ...): one tuple per RDN. */
static PyObject *name_tuple(const uint8_t *der, size_t len) {
  size_t n = moat_name_num_attrs(der, len);
  PyObject *rdns = PyList_New(0), *rdn = NULL;
  size_t cur_rdn = (size_t)-1;
  moat_name_attr *a = PyMem_Malloc(sizeof(*a));
  if (rdns == NULL || a == NULL) {
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    if (moat_name_attr_at(der, len, i, a) != MOAT_OK) {
      continue;
    }
    if (a->rdn != cur_rdn) {
      if (rdn != NULL) {
        PyObject *t = PyList_AsTuple(rdn);
        Py_CLEAR(rdn);
        if (t == NULL || PyList_Append(rdns, t) < 0) {
          Py_XDECREF(t);
          goto fail;
        }
        Py_DECREF(t);
      }
      rdn = PyList_New(0);
      if (rdn == NULL) {
        goto fail;
      }
      cur_rdn = a->rdn;
    }
    PyObject *pair = Py_BuildValue(
        "(sN)", a->long_name ? a->long_name : a->oid,
        PyUnicode_DecodeUTF8(a->value, (Py_ssize_t)a->value_len, "replace"));
    if (pair == NULL || PyList_Append(rdn, pair) < 0) {
      Py_XDECREF(pair);
      goto fail;
    }
    Py_DECREF(pair);
  }
  if (rdn != NULL) {
    PyObject *t = PyList_AsTuple(rdn);
    Py_CLEAR(rdn);
    if (t == NULL || PyList_Append(rdns, t) < 0) {
      Py_XDECREF(t);
      goto fail;
    }
    Py_DECREF(t);
  }
  PyMem_Free(a);
  PyObject *r = PyList_AsTuple(rdns);
  Py_DECREF(rdns);
  return r;
fail:
  PyMem_Free(a);
  Py_XDECREF(rdn);
  Py_XDECREF(rdns);
  return NULL;
}

static PyObject *ip_text(const uint8_t *p, size_t n) {
  char buf[64];
  if (n == 4) {
    snprintf(buf, sizeof(buf), "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
  } else if (n == 16) {
    size_t o = 0;
    for (size_t i = 0; i < 16; i += 2) {
      o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%X", i ? ":" : "",
                            (unsigned)(p[i] << 8 | p[i + 1]));
    }
  } else {
    snprintf(buf, sizeof(buf), "<invalid>");
  }
  return PyUnicode_FromString(buf);
}

static PyObject *ia5(const moat_general_name *g) {
  return PyUnicode_DecodeLatin1((const char *)g->data, (Py_ssize_t)g->len,
                                NULL);
}

static PyObject *san_entry(const moat_general_name *g) {
  char oid[128];
  switch (g->type) {
  case MOAT_GN_DNS:
    return Py_BuildValue("(sN)", "DNS", ia5(g));
  case MOAT_GN_EMAIL:
    return Py_BuildValue("(sN)", "email", ia5(g));
  case MOAT_GN_URI:
    return Py_BuildValue("(sN)", "URI", ia5(g));
  case MOAT_GN_IP:
    return Py_BuildValue("(sN)", "IP Address", ip_text(g->data, g->len));
  case MOAT_GN_DIRNAME:
    return Py_BuildValue("(sN)", "DirName", name_tuple(g->data, g->len));
  case MOAT_GN_RID: {
    moat_oid_text(g->data, g->len, oid, sizeof(oid));
    const moat_oid_info *info = moat_oid_by_dotted(oid);
    return Py_BuildValue("(ss)", "Registered ID", info ? info->long_name : oid);
  }
  case MOAT_GN_X400:
    return Py_BuildValue("(ss)", "X400Name", "<unsupported>");
  case MOAT_GN_EDI:
    return Py_BuildValue("(ss)", "EdiPartyName", "<unsupported>");
  default:
    return Py_BuildValue("(ss)", "othername", "<unsupported>");
  }
}

/* Appends each URI of an accessor to a list; returns a tuple or NULL
 * with no error when there are none. */
static int add_tuple(PyObject *d, const char *key, PyObject *list) {
  if (list == NULL) {
    return -1;
  }
  int r = 0;
  if (PyList_GET_SIZE(list) > 0) {
    PyObject *t = PyList_AsTuple(list);
    r = t == NULL ? -1 : PyDict_SetItemString(d, key, t);
    Py_XDECREF(t);
  }
  Py_DECREF(list);
  return r;
}

static int append_str(PyObject *list, PyObject *s) {
  if (s == NULL) {
    return -1;
  }
  int r = PyList_Append(list, s);
  Py_DECREF(s);
  return r;
}

static PyObject *cert_dict(const moat_cert *cert) {
  const uint8_t *der;
  size_t len;
  char serial[512];
  PyObject *d = PyDict_New(), *v;
  if (d == NULL) {
    return NULL;
  }
  moat_cert_subject_der(cert, &der, &len);
  v = name_tuple(der, len);
  if (v == NULL || PyDict_SetItemString(d, "subject", v) < 0) {
    goto fail_v;
  }
  Py_DECREF(v);
  moat_cert_issuer_der(cert, &der, &len);
  v = name_tuple(der, len);
  if (v == NULL || PyDict_SetItemString(d, "issuer", v) < 0) {
    goto fail_v;
  }
  Py_DECREF(v);
  v = PyLong_FromLong(moat_cert_version(cert));
  if (v == NULL || PyDict_SetItemString(d, "version", v) < 0) {
    goto fail_v;
  }
  Py_DECREF(v);
  moat_cert_serial_hex(cert, serial, sizeof(serial));
  v = PyUnicode_FromString(serial);
  if (v == NULL || PyDict_SetItemString(d, "serialNumber", v) < 0) {
    goto fail_v;
  }
  Py_DECREF(v);
  v = time_text(moat_cert_not_before(cert));
  if (v == NULL || PyDict_SetItemString(d, "notBefore", v) < 0) {
    goto fail_v;
  }
  Py_DECREF(v);
  v = time_text(moat_cert_not_after(cert));
  if (v == NULL || PyDict_SetItemString(d, "notAfter", v) < 0) {
    goto fail_v;
  }
  Py_DECREF(v);

  moat_general_name g;
  PyObject *sans = PyList_New(0);
  for (size_t i = 0; sans && moat_cert_san_at(cert, i, &g) == MOAT_OK; i++) {
    if (append_str(sans, san_entry(&g)) < 0) {
      Py_CLEAR(sans);
    }
  }
  if (add_tuple(d, "subjectAltName", sans) < 0) {
    goto fail;
  }
  PyObject *ocsp = PyList_New(0), *issuers = PyList_New(0);
  moat_aia_method m;
  for (size_t i = 0;
       ocsp && issuers && moat_cert_aia_at(cert, i, &m, &g) == MOAT_OK; i++) {
    if (g.type != MOAT_GN_URI || m == MOAT_AIA_OTHER) {
      continue;
    }
    if (append_str(m == MOAT_AIA_OCSP ? ocsp : issuers, ia5(&g)) < 0) {
      Py_CLEAR(ocsp);
    }
  }
  if (add_tuple(d, "OCSP", ocsp) < 0 ||
      add_tuple(d, "caIssuers", issuers) < 0) {
    goto fail;
  }
  PyObject *dps = PyList_New(0);
  for (size_t i = 0; dps && moat_cert_crldp_at(cert, i, &g) == MOAT_OK; i++) {
    if (g.type == MOAT_GN_URI && append_str(dps, ia5(&g)) < 0) {
      Py_CLEAR(dps);
    }
  }
  if (add_tuple(d, "crlDistributionPoints", dps) < 0) {
    goto fail;
  }
  return d;
fail_v:
  Py_XDECREF(v);
fail:
  Py_DECREF(d);
  return NULL;
}

PyObject *pymoat_cert_dict(const uint8_t *der, size_t len) {
  moat_cert *cert;
  moat_err err = moat_cert_from_der_lenient(der, len, &cert);
  if (err != MOAT_OK) {
    pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, "X509",
                 "BAD_CERTIFICATE", "the certificate could not be parsed");
    return NULL;
  }
  PyObject *d = cert_dict(cert);
  moat_cert_free(cert);
  return d;
}

PyObject *pymoat_test_decode_cert(PyObject *mod, PyObject *arg) {
  PyObject *path;
  if (!PyUnicode_FSConverter(arg, &path)) {
    return NULL;
  }
  FILE *f = fopen(PyBytes_AS_STRING(path), "rb");
  if (f == NULL) {
    PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, arg);
    Py_DECREF(path);
    return NULL;
  }
  Py_DECREF(path);
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 16384;
      uint8_t *n = PyMem_Realloc(buf, cap);
      if (n == NULL) {
        PyMem_Free(buf);
        fclose(f);
        return PyErr_NoMemory();
      }
      buf = n;
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    if (r == 0) {
      break;
    }
    len += r;
  }
  fclose(f);
  moat_cert *cert;
  moat_err err = moat_cert_from_pem_lenient(buf, len, &cert);
  PyMem_Free(buf);
  if (err != MOAT_OK) {
    pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, "PEM",
                 "NO_START_LINE", "Error decoding PEM-encoded file");
    return NULL;
  }
  PyObject *d = cert_dict(cert);
  moat_cert_free(cert);
  return d;
}

/* ---- Certificate (3.10+: get_verified_chain / get_unverified_chain) ------ */

typedef struct PyMoatCertificate {
  PyObject_HEAD moat_cert *cert;
  Py_hash_t hash;
} PyMoatCertificate;

PyObject *pymoat_certificate_new(const uint8_t *der, size_t len) {
  moat_cert *cert;
  if (moat_cert_from_der_lenient(der, len, &cert) != MOAT_OK) {
    pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, "X509",
                 "BAD_CERTIFICATE", "the certificate could not be parsed");
    return NULL;
  }
  PyMoatCertificate *c =
      PyObject_New(PyMoatCertificate, &PyMoatCertificate_Type);
  if (c == NULL) {
    moat_cert_free(cert);
    return NULL;
  }
  c->cert = cert;
  c->hash = -1;
  return (PyObject *)c;
}

static void certificate_dealloc(PyMoatCertificate *c) {
  moat_cert_free(c->cert);
  PyObject_Free(c);
}

static PyObject *certificate_public_bytes(PyMoatCertificate *c, PyObject *args,
                                          PyObject *kw) {
  static char *kwlist[] = {"format", NULL};
  int format = 1; /* ENCODING_PEM */
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|i:public_bytes", kwlist,
                                   &format)) {
    return NULL;
  }
  const uint8_t *der;
  size_t len;
  moat_cert_der(c->cert, &der, &len);
  if (format == 2) {
    return PyBytes_FromStringAndSize((const char *)der, (Py_ssize_t)len);
  }
  if (format != 1) {
    PyErr_SetString(PyExc_ValueError, "Unsupported format");
    return NULL;
  }
  size_t need = moat_cert_to_pem(c->cert, NULL, 0);
  char *pem = PyMem_Malloc(need + 1);
  if (pem == NULL) {
    return PyErr_NoMemory();
  }
  moat_cert_to_pem(c->cert, pem, need + 1);
  PyObject *r = PyUnicode_FromStringAndSize(pem, (Py_ssize_t)strlen(pem));
  PyMem_Free(pem);
  return r;
}

static PyObject *certificate_get_info(PyMoatCertificate *c, PyObject *unused) {
  return cert_dict(c->cert);
}

static PyObject *certificate_richcompare(PyObject *a, PyObject *b, int op) {
  if (!PyObject_TypeCheck(b, &PyMoatCertificate_Type) ||
      (op != Py_EQ && op != Py_NE)) {
    Py_RETURN_NOTIMPLEMENTED;
  }
  const uint8_t *da, *db;
  size_t la, lb;
  moat_cert_der(((PyMoatCertificate *)a)->cert, &da, &la);
  moat_cert_der(((PyMoatCertificate *)b)->cert, &db, &lb);
  bool eq = la == lb && memcmp(da, db, la) == 0;
  return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static Py_hash_t certificate_hash(PyMoatCertificate *c) {
  if (c->hash == -1) {
    const uint8_t *der;
    size_t len;
    moat_cert_der(c->cert, &der, &len);
    PyObject *b = PyBytes_FromStringAndSize((const char *)der, (Py_ssize_t)len);
    if (b == NULL) {
      return -1;
    }
    c->hash = PyObject_Hash(b);
    Py_DECREF(b);
  }
  return c->hash;
}

static PyObject *certificate_repr(PyMoatCertificate *c) {
  char subject[512];
  moat_cert_subject(c->cert, subject, sizeof(subject));
  return PyUnicode_FromFormat("<%s '%s'>", Py_TYPE(c)->tp_name, subject);
}

static PyMethodDef certificate_methods[] = {
    {"public_bytes", (PyCFunction)(void (*)(void))certificate_public_bytes,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"get_info", (PyCFunction)certificate_get_info, METH_NOARGS, NULL},
    {NULL},
};

PyTypeObject PyMoatCertificate_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_ssl.Certificate",
    .tp_basicsize = sizeof(PyMoatCertificate),
    .tp_dealloc = (destructor)certificate_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = certificate_methods,
    .tp_richcompare = certificate_richcompare,
    .tp_hash = (hashfunc)certificate_hash,
    .tp_repr = (reprfunc)certificate_repr,
};
