/* A small JSON reader for the test harnesses (RFC 8259): the whole
 * document becomes a tree of values kept in one arena. */
#ifndef MOAT_TEST_JSON_H
#define MOAT_TEST_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } json_type;

typedef struct json json;
struct json {
  json_type type;
  bool b;
  double num;
  char *str;    /* J_STR: NUL-terminated, decoded; J_OBJ member: key */
  size_t len;   /* J_STR length; J_ARR/J_OBJ count */
  json **items; /* J_ARR elements; J_OBJ values */
  char **keys;  /* J_OBJ keys */
};

/* Parses text (NUL-terminated); NULL on a syntax error. */
json *json_parse(const char *text, size_t len);
void json_free(json *j);
/* Object member or NULL. */
const json *json_get(const json *obj, const char *key);
/* String value or NULL. */
const char *json_str(const json *j);

#endif
