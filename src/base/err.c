#include "base/err.h"

#include <stddef.h>

typedef struct err_info {
  const char *name;
  moat_err_class cls;
  const char *message;
} err_info;

static const err_info k_errs[] = {
#define X(name, cls, msg) {#name, MOAT_CLASS_##cls, msg},
#include "moat/err_list.h"
#undef X
};

_Static_assert(sizeof(k_errs) / sizeof(k_errs[0]) == MOAT_ERR__COUNT,
               "error table matches the enum");

const char *moat_err_name(moat_err err) {
  if ((unsigned)err >= MOAT_ERR__COUNT) {
    return "UNKNOWN";
  }
  return k_errs[err].name;
}

const char *moat_err_message(moat_err err) {
  if ((unsigned)err >= MOAT_ERR__COUNT) {
    return "unknown error";
  }
  return k_errs[err].message;
}

moat_err_class moat_err_get_class(moat_err err) {
  if ((unsigned)err >= MOAT_ERR__COUNT) {
    return MOAT_CLASS_INTERNAL;
  }
  return k_errs[err].cls;
}

const char *moat_err_class_name(moat_err_class cls) {
  switch (cls) {
  case MOAT_CLASS_NONE:
    return "none";
  case MOAT_CLASS_WANT_READ:
    return "want-read";
  case MOAT_CLASS_WANT_WRITE:
    return "want-write";
  case MOAT_CLASS_CLOSED:
    return "closed";
  case MOAT_CLASS_ALERT_SENT:
    return "alert-sent";
  case MOAT_CLASS_ALERT_RECEIVED:
    return "alert-received";
  case MOAT_CLASS_PROTOCOL:
    return "protocol";
  case MOAT_CLASS_VERIFY:
    return "verify";
  case MOAT_CLASS_USAGE:
    return "usage";
  case MOAT_CLASS_INTERNAL:
    return "internal";
  default:
    return "unknown";
  }
}
