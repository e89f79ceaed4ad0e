/* The JSON reader of moat's test harnesses (Wycheproof vectors, the
 * x509-limbo document): parses a whole document into a tree, objects
 * keeping their members in order.  For test data, not hostile input. */
#ifndef MOAT_TEST_JSON_H
#define MOAT_TEST_JSON_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
  jtype type;
  bool b;
  double num;
  char *str;          /* J_STR: decoded, NUL-terminated */
  char *key;          /* member name when inside an object */
  struct jval *items; /* J_ARR / J_OBJ children */
  size_t n;
} jval;

typedef struct jparser {
  const char *p;
  const char *end;
  int depth;
} jparser;

#define J_MAX_DEPTH 32

static inline void j_ws(jparser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' ||
                             *ps->p == '\r' || *ps->p == '\t')) {
    ps->p++;
  }
}

static inline void j_put_utf8(char *out, size_t *n, unsigned cp) {
  if (cp < 0x80) {
    out[(*n)++] = (char)cp;
  } else if (cp < 0x800) {
    out[(*n)++] = (char)(0xc0 | (cp >> 6));
    out[(*n)++] = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out[(*n)++] = (char)(0xe0 | (cp >> 12));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[(*n)++] = (char)(0x80 | (cp & 0x3f));
  } else {
    out[(*n)++] = (char)(0xf0 | (cp >> 18));
    out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[(*n)++] = (char)(0x80 | (cp & 0x3f));
  }
}

static inline bool j_hex4(jparser *ps, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    if (ps->p >= ps->end) {
      return false;
    }
    char c = *ps->p++;
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= (unsigned)(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= (unsigned)(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= (unsigned)(c - 'A' + 10);
    } else {
      return false;
    }
  }
  *out = v;
  return true;
}

/* After the opening quote; returns a malloc'd decoded string. */
static inline char *j_string(jparser *ps) {
  const char *start = ps->p;
  /* The decoded form is never longer than the escaped one. */
  const char *q = start;
  while (q < ps->end && *q != '"') {
    q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
  }
  if (q >= ps->end) {
    return NULL;
  }
  char *out = malloc((size_t)(q - start) + 1);
  size_t n = 0;
  if (out == NULL) {
    return NULL;
  }
  while (ps->p < q) {
    char c = *ps->p++;
    if (c != '\\') {
      out[n++] = c;
      continue;
    }
    char e = *ps->p++;
    unsigned cp;
    switch (e) {
    case '"':
    case '\\':
    case '/':
      out[n++] = e;
      break;
    case 'b':
      out[n++] = '\b';
      break;
    case 'f':
      out[n++] = '\f';
      break;
    case 'n':
      out[n++] = '\n';
      break;
    case 'r':
      out[n++] = '\r';
      break;
    case 't':
      out[n++] = '\t';
      break;
    case 'u':
      /* A \uXXXX takes 6 input bytes and at most 3 output bytes; a
       * surrogate pair takes 12 and writes 4. */
      if (!j_hex4(ps, &cp)) {
        free(out);
        return NULL;
      }
      if (cp >= 0xd800 && cp < 0xdc00 && ps->p + 6 <= q && ps->p[0] == '\\' &&
          ps->p[1] == 'u') {
        unsigned lo;
        ps->p += 2;
        if (!j_hex4(ps, &lo)) {
          free(out);
          return NULL;
        }
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      j_put_utf8(out, &n, cp);
      break;
    default:
      free(out);
      return NULL;
    }
  }
  ps->p = q + 1;
  out[n] = '\0';
  return out;
}

static inline void j_free(jval *v);

static inline bool j_value(jparser *ps, jval *v);

static inline bool j_push(jval *parent, jval *child) {
  jval *items = realloc(parent->items, (parent->n + 1) * sizeof(jval));
  if (items == NULL) {
    return false;
  }
  parent->items = items;
  parent->items[parent->n++] = *child;
  return true;
}

static inline bool j_container(jparser *ps, jval *v, bool obj) {
  char close = obj ? '}' : ']';
  v->type = obj ? J_OBJ : J_ARR;
  j_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    return true;
  }
  for (;;) {
    jval child;
    memset(&child, 0, sizeof(child));
    char *key = NULL;
    j_ws(ps);
    if (obj) {
      if (ps->p >= ps->end || *ps->p != '"') {
        return false;
      }
      ps->p++;
      key = j_string(ps);
      j_ws(ps);
      if (key == NULL || ps->p >= ps->end || *ps->p != ':') {
        free(key);
        return false;
      }
      ps->p++;
    }
    if (!j_value(ps, &child)) {
      free(key);
      j_free(&child);
      return false;
    }
    child.key = key;
    if (!j_push(v, &child)) {
      j_free(&child);
      return false;
    }
    j_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ps->p++;
      return true;
    }
    return false;
  }
}

static inline bool j_value(jparser *ps, jval *v) {
  memset(v, 0, sizeof(*v));
  j_ws(ps);
  if (ps->p >= ps->end) {
    return false;
  }
  char c = *ps->p;
  if (c == '{' || c == '[') {
    bool ok;
    if (++ps->depth > J_MAX_DEPTH) {
      return false;
    }
    ps->p++;
    ok = j_container(ps, v, c == '{');
    ps->depth--;
    return ok;
  }
  if (c == '"') {
    ps->p++;
    v->type = J_STR;
    v->str = j_string(ps);
    return v->str != NULL;
  }
  if ((size_t)(ps->end - ps->p) >= 4 && memcmp(ps->p, "true", 4) == 0) {
    ps->p += 4;
    v->type = J_BOOL;
    v->b = true;
    return true;
  }
  if ((size_t)(ps->end - ps->p) >= 5 && memcmp(ps->p, "false", 5) == 0) {
    ps->p += 5;
    v->type = J_BOOL;
    return true;
  }
  if ((size_t)(ps->end - ps->p) >= 4 && memcmp(ps->p, "null", 4) == 0) {
    ps->p += 4;
    v->type = J_NULL;
    return true;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    char buf[64];
    size_t n = 0;
    while (ps->p < ps->end && n + 1 < sizeof(buf) &&
           strchr("+-0123456789.eE", *ps->p) != NULL) {
      buf[n++] = *ps->p++;
    }
    buf[n] = '\0';
    v->type = J_NUM;
    v->num = strtod(buf, NULL);
    return true;
  }
  return false;
}

static inline void j_free(jval *v) {
  for (size_t i = 0; i < v->n; i++) {
    j_free(&v->items[i]);
  }
  free(v->items);
  free(v->str);
  free(v->key);
  memset(v, 0, sizeof(*v));
}

/* Parse a whole document held in memory; false on a syntax error. */
static inline bool j_parse(const char *text, size_t len, jval *out) {
  jparser ps = {text, text + len, 0};
  memset(out, 0, sizeof(*out));
  bool ok = j_value(&ps, out);
  j_ws(&ps);
  ok = ok && ps.p == ps.end;
  if (!ok) {
    j_free(out);
  }
  return ok;
}

/* Parse a whole file; false (with a message) on a read or syntax error. */
static inline bool j_load_file(const char *path, jval *out) {
  FILE *f = fopen(path, "rb");
  memset(out, 0, sizeof(*out));
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    return false;
  }
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  while (buf != NULL) {
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (len < cap) {
      break;
    }
    char *bigger = realloc(buf, cap * 2);
    if (bigger == NULL) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = bigger;
    cap *= 2;
  }
  fclose(f);
  if (buf == NULL) {
    return false;
  }
  bool ok = j_parse(buf, len, out);
  free(buf);
  if (!ok) {
    fprintf(stderr, "%s: JSON syntax error\n", path);
  }
  return ok;
}

/* Member of an object by name, or NULL. */
static inline const jval *j_get(const jval *obj, const char *key) {
  if (obj == NULL || obj->type != J_OBJ) {
    return NULL;
  }
  for (size_t i = 0; i < obj->n; i++) {
    if (strcmp(obj->items[i].key, key) == 0) {
      return &obj->items[i];
    }
  }
  return NULL;
}

/* A value's string, or NULL when it is absent or not a string. */
static inline const char *j_sval(const jval *v) {
  return v != NULL && v->type == J_STR ? v->str : NULL;
}

/* String member, or "" when absent or not a string. */
static inline const char *j_str(const jval *obj, const char *key) {
  const jval *v = j_get(obj, key);
  return v != NULL && v->type == J_STR ? v->str : "";
}

static inline long j_int(const jval *obj, const char *key) {
  const jval *v = j_get(obj, key);
  return v != NULL && v->type == J_NUM ? (long)v->num : -1;
}

/* True when the test's "flags" array holds flag. */
static inline bool j_has_flag(const jval *test, const char *flag) {
  const jval *flags = j_get(test, "flags");
  for (size_t i = 0; flags != NULL && i < flags->n; i++) {
    if (flags->items[i].type == J_STR &&
        strcmp(flags->items[i].str, flag) == 0) {
      return true;
    }
  }
  return false;
}

#endif
