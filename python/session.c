/* SSLSession: a TLS 1.3 ticket a client took from a connection, offered
 * again through SSLSocket.session to resume. */
#include "pymoat.h"

PyObject *pymoat_session_wrap(moat_session *s, PyMoatContext *ctx) {
  PyMoatSession *p = PyObject_GC_New(PyMoatSession, &PyMoatSession_Type);
  if (p == NULL) {
    moat_session_free(s);
    return NULL;
  }
  p->session = s;
  p->ctx = (PyMoatContext *)Py_NewRef((PyObject *)ctx);
  PyObject_GC_Track(p);
  return (PyObject *)p;
}

static void session_dealloc(PyMoatSession *p) {
  PyObject_GC_UnTrack(p);
  moat_session_free(p->session);
  Py_CLEAR(p->ctx);
  PyObject_GC_Del(p);
}

static int session_traverse(PyMoatSession *p, visitproc visit, void *arg) {
  Py_VISIT(p->ctx);
  return 0;
}

static int session_clear(PyMoatSession *p) {
  Py_CLEAR(p->ctx);
  return 0;
}

static PyObject *session_id(PyMoatSession *p, void *x) {
  uint8_t id[32];
  size_t len = 0;
  if (moat_session_id(p->session, id, &len) != MOAT_OK) {
    len = 0;
  }
  return PyBytes_FromStringAndSize((const char *)id, (Py_ssize_t)len);
}

static PyObject *session_time(PyMoatSession *p, void *x) {
  return PyLong_FromLongLong(moat_session_time(p->session));
}

static PyObject *session_timeout(PyMoatSession *p, void *x) {
  return PyLong_FromUnsignedLong(moat_session_lifetime(p->session));
}

static PyObject *session_has_ticket(PyMoatSession *p, void *x) {
  Py_RETURN_TRUE;
}

static PyObject *session_ticket_hint(PyMoatSession *p, void *x) {
  return PyLong_FromUnsignedLong(moat_session_lifetime(p->session));
}

static PyObject *session_richcompare(PyObject *a, PyObject *b, int op) {
  if (!PyObject_TypeCheck(b, &PyMoatSession_Type) ||
      (op != Py_EQ && op != Py_NE)) {
    Py_RETURN_NOTIMPLEMENTED;
  }
  PyObject *ia = session_id((PyMoatSession *)a, NULL);
  PyObject *ib = session_id((PyMoatSession *)b, NULL);
  if (ia == NULL || ib == NULL) {
    Py_XDECREF(ia);
    Py_XDECREF(ib);
    return NULL;
  }
  PyObject *r = PyObject_RichCompare(ia, ib, op);
  Py_DECREF(ia);
  Py_DECREF(ib);
  return r;
}

static PyGetSetDef session_getset[] = {
    {"id", (getter)session_id, NULL, "Session id"},
    {"time", (getter)session_time, NULL, "Session creation time (seconds)."},
    {"timeout", (getter)session_timeout, NULL, "Session timeout."},
    {"has_ticket", (getter)session_has_ticket, NULL,
     "Does the session contain a ticket?"},
    {"ticket_lifetime_hint", (getter)session_ticket_hint, NULL,
     "Ticket life time hint."},
    {NULL},
};

PyTypeObject PyMoatSession_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_ssl.SSLSession",
    .tp_basicsize = sizeof(PyMoatSession),
    .tp_dealloc = (destructor)session_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)session_traverse,
    .tp_clear = (inquiry)session_clear,
    .tp_richcompare = session_richcompare,
    .tp_getset = session_getset,
};
