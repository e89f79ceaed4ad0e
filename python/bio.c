/* MemoryBIO: a byte queue between a TLS object and the caller's
 * transport (asyncio's transports use a pair of them). */
#include <string.h>

#include "pymoat.h"

size_t pymoat_bio_pending(const PyMoatBIO *b) {
  return b->len - b->off;
}

int pymoat_bio_append(PyMoatBIO *b, const uint8_t *data, size_t len) {
  if (b->off > 0 && b->off == b->len) {
    b->off = b->len = 0;
  }
  if (len > b->cap - b->len) {
    /* compact before growing */
    if (b->off > 0) {
      memmove(b->buf, b->buf + b->off, b->len - b->off);
      b->len -= b->off;
      b->off = 0;
    }
    if (len > b->cap - b->len) {
      size_t ncap = b->cap ? b->cap : 4096;
      while (ncap - b->len < len) {
        if (ncap > PY_SSIZE_T_MAX / 2) {
          PyErr_NoMemory();
          return -1;
        }
        ncap *= 2;
      }
      uint8_t *n = PyMem_Realloc(b->buf, ncap);
      if (n == NULL) {
        PyErr_NoMemory();
        return -1;
      }
      b->buf = n;
      b->cap = ncap;
    }
  }
  memcpy(b->buf + b->len, data, len);
  b->len += len;
  return 0;
}

static PyObject *bio_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  if (PyTuple_GET_SIZE(args) != 0 || (kw != NULL && PyDict_GET_SIZE(kw))) {
    PyErr_SetString(PyExc_TypeError, "MemoryBIO() takes no arguments");
    return NULL;
  }
  PyMoatBIO *b = (PyMoatBIO *)type->tp_alloc(type, 0);
  return (PyObject *)b;
}

static void bio_dealloc(PyMoatBIO *b) {
  PyMem_Free(b->buf);
  Py_TYPE(b)->tp_free((PyObject *)b);
}

static PyObject *bio_read(PyMoatBIO *b, PyObject *args) {
  Py_ssize_t n = -1;
  if (!PyArg_ParseTuple(args, "|n:read", &n)) {
    return NULL;
  }
  size_t avail = pymoat_bio_pending(b);
  size_t take = (n < 0 || (size_t)n > avail) ? avail : (size_t)n;
  PyObject *r = PyBytes_FromStringAndSize((const char *)b->buf + b->off, take);
  if (r != NULL) {
    b->off += take;
    if (b->off == b->len) {
      b->off = b->len = 0;
    }
  }
  return r;
}

static PyObject *bio_write(PyMoatBIO *b, PyObject *arg) {
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_CONTIG_RO) < 0) {
    return NULL;
  }
  if (view.len > INT_MAX) {
    PyBuffer_Release(&view);
    PyErr_Format(PyExc_OverflowError, "string longer than %d bytes", INT_MAX);
    return NULL;
  }
  if (b->eof_written) {
    PyBuffer_Release(&view);
    pymoat_raise(pymoat_state.SSLError, PY_SSL_ERROR_SSL, NULL, NULL,
                 "cannot write() after write_eof()");
    return NULL;
  }
  int r = pymoat_bio_append(b, view.buf, (size_t)view.len);
  Py_ssize_t len = view.len;
  PyBuffer_Release(&view);
  return r < 0 ? NULL : PyLong_FromSsize_t(len);
}

static PyObject *bio_write_eof(PyMoatBIO *b, PyObject *unused) {
  b->eof_written = true;
  Py_RETURN_NONE;
}

static PyObject *bio_get_pending(PyMoatBIO *b, void *c) {
  return PyLong_FromSize_t(pymoat_bio_pending(b));
}

static PyObject *bio_get_eof(PyMoatBIO *b, void *c) {
  return PyBool_FromLong(b->eof_written && pymoat_bio_pending(b) == 0);
}

static PyMethodDef bio_methods[] = {
    {"read", (PyCFunction)bio_read, METH_VARARGS,
     "read($self, size=-1, /)\n--\n\nRead up to size bytes from the memory "
     "BIO."},
    {"write", (PyCFunction)bio_write, METH_O,
     "write($self, b, /)\n--\n\nWrites the bytes b into the memory BIO."},
    {"write_eof", (PyCFunction)bio_write_eof, METH_NOARGS,
     "write_eof($self, /)\n--\n\nWrite an EOF marker to the memory BIO."},
    {NULL},
};

static PyGetSetDef bio_getset[] = {
    {"pending", (getter)bio_get_pending, NULL,
     "The number of bytes pending in the memory BIO."},
    {"eof", (getter)bio_get_eof, NULL, "Whether the memory BIO is at EOF."},
    {NULL},
};

PyTypeObject PyMoatBIO_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_ssl.MemoryBIO",
    .tp_basicsize = sizeof(PyMoatBIO),
    .tp_dealloc = (destructor)bio_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = bio_methods,
    .tp_getset = bio_getset,
    .tp_new = bio_new,
};
