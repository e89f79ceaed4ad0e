/* A small recursive-descent JSON reader (RFC 8259) for test data. */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
  const char *p;
  const char *end;
  int depth;
} parser;

static void ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' ||
                             *ps->p == '\r' || *ps->p == '\t')) {
    ps->p++;
  }
}

static json *value(parser *ps);

static void put_utf8(char *out, size_t *n, uint32_t cp) {
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

static bool hex4(parser *ps, uint32_t *out) {
  uint32_t v = 0;
  if (ps->end - ps->p < 4) {
    return false;
  }
  for (int i = 0; i < 4; i++) {
    char c = *ps->p++;
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= (uint32_t)(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= (uint32_t)(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= (uint32_t)(c - 'A' + 10);
    } else {
      return false;
    }
  }
  *out = v;
  return true;
}

static char *string(parser *ps, size_t *out_len) {
  if (ps->p >= ps->end || *ps->p != '"') {
    return NULL;
  }
  ps->p++;
  const char *start = ps->p;
  while (ps->p < ps->end && *ps->p != '"') {
    ps->p += *ps->p == '\\' ? 2 : 1;
  }
  if (ps->p >= ps->end) {
    return NULL;
  }
  size_t max = (size_t)(ps->p - start);
  char *out = malloc(max + 1);
  size_t n = 0;
  ps->p = start;
  while (*ps->p != '"') {
    char c = *ps->p++;
    if (c != '\\') {
      out[n++] = c;
      continue;
    }
    c = *ps->p++;
    switch (c) {
    case 'n':
      out[n++] = '\n';
      break;
    case 't':
      out[n++] = '\t';
      break;
    case 'r':
      out[n++] = '\r';
      break;
    case 'b':
      out[n++] = '\b';
      break;
    case 'f':
      out[n++] = '\f';
      break;
    case 'u': {
      uint32_t cp;
      if (!hex4(ps, &cp)) {
        free(out);
        return NULL;
      }
      if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 &&
          ps->p[0] == '\\' && ps->p[1] == 'u') {
        uint32_t lo;
        ps->p += 2;
        if (!hex4(ps, &lo)) {
          free(out);
          return NULL;
        }
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      put_utf8(out, &n, cp);
      break;
    }
    default:
      out[n++] = c;
      break;
    }
  }
  ps->p++;
  out[n] = '\0';
  *out_len = n;
  return out;
}

static json *node(json_type t) {
  json *j = calloc(1, sizeof(*j));
  j->type = t;
  return j;
}

static bool add(json *j, char *key, json *v) {
  if ((j->len & (j->len - 1)) == 0) {
    size_t cap = j->len ? j->len * 2 : 1;
    j->items = realloc(j->items, cap * sizeof(json *));
    if (j->type == J_OBJ) {
      j->keys = realloc(j->keys, cap * sizeof(char *));
    }
  }
  if (j->type == J_OBJ) {
    j->keys[j->len] = key;
  }
  j->items[j->len++] = v;
  return true;
}

static json *value(parser *ps) {
  ws(ps);
  if (ps->p >= ps->end || ++ps->depth > 64) {
    return NULL;
  }
  json *j = NULL;
  char c = *ps->p;
  if (c == '{' || c == '[') {
    bool obj = c == '{';
    j = node(obj ? J_OBJ : J_ARR);
    ps->p++;
    ws(ps);
    if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
      ps->p++;
      ps->depth--;
      return j;
    }
    for (;;) {
      char *key = NULL;
      size_t kl;
      ws(ps);
      if (obj) {
        key = string(ps, &kl);
        ws(ps);
        if (key == NULL || ps->p >= ps->end || *ps->p != ':') {
          free(key);
          json_free(j);
          return NULL;
        }
        ps->p++;
      }
      json *v = value(ps);
      if (v == NULL) {
        free(key);
        json_free(j);
        return NULL;
      }
      add(j, key, v);
      ws(ps);
      if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        continue;
      }
      if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
        ps->p++;
        break;
      }
      json_free(j);
      return NULL;
    }
  } else if (c == '"') {
    j = node(J_STR);
    j->str = string(ps, &j->len);
    if (j->str == NULL) {
      free(j);
      return NULL;
    }
  } else if (ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) {
    j = node(J_NULL);
    ps->p += 4;
  } else if (ps->end - ps->p >= 4 && memcmp(ps->p, "true", 4) == 0) {
    j = node(J_BOOL);
    j->b = true;
    ps->p += 4;
  } else if (ps->end - ps->p >= 5 && memcmp(ps->p, "false", 5) == 0) {
    j = node(J_BOOL);
    ps->p += 5;
  } else {
    char *e;
    double d = strtod(ps->p, &e);
    if (e == ps->p) {
      return NULL;
    }
    j = node(J_NUM);
    j->num = d;
    ps->p = e;
  }
  ps->depth--;
  return j;
}

json *json_parse(const char *text, size_t len) {
  parser ps = {text, text + len, 0};
  json *j = value(&ps);
  ws(&ps);
  if (j != NULL && ps.p != ps.end) {
    json_free(j);
    return NULL;
  }
  return j;
}

void json_free(json *j) {
  if (j == NULL) {
    return;
  }
  for (size_t i = 0; (j->type == J_ARR || j->type == J_OBJ) && i < j->len;
       i++) {
    json_free(j->items[i]);
    if (j->type == J_OBJ) {
      free(j->keys[i]);
    }
  }
  free(j->items);
  free(j->keys);
  free(j->str);
  free(j);
}

const json *json_get(const json *obj, const char *key) {
  if (obj == NULL || obj->type != J_OBJ) {
    return NULL;
  }
  for (size_t i = 0; i < obj->len; i++) {
    if (strcmp(obj->keys[i], key) == 0) {
      return obj->items[i];
    }
  }
  return NULL;
}

const char *json_str(const json *j) {
  return j != NULL && j->type == J_STR ? j->str : NULL;
}
