/* Error helpers inside moat (the list itself is include/moat/err_list.h). */
#ifndef MOAT_BASE_ERR_H
#define MOAT_BASE_ERR_H

#include "moat.h"

/* Return on failure: the one control-flow macro (STYLE 12). */
#define TRY(expr)                                                              \
  do {                                                                         \
    moat_err try_err_ = (expr);                                                \
    if (try_err_ != MOAT_OK) {                                                 \
      return try_err_;                                                         \
    }                                                                          \
  } while (0)

/* A short detail buffer kept beside an error. */
#define MOAT_DETAIL_MAX 256

#endif
