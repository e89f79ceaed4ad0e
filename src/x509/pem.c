/* PEM (RFC 7468): iterate blocks, decode strict base64, write blocks. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "x509/der.h"
#include "x509/x509.h"

#define PEM_MAX_LABEL 64

/* One line (without CR/LF); false at the end of text. */
static bool next_line(cursor *text, cursor *line) {
  if (cur_done(text)) {
    return false;
  }
  const uint8_t *nl = memchr(cur_data(text), '\n', cur_len(text));
  size_t n = nl != NULL ? (size_t)(nl - cur_data(text)) : cur_len(text);
  (void)cur_sub(text, n, line);
  (void)cur_skip(text, 1); /* the LF, when there is one */
  if (n > 0 && cur_data(line)[n - 1] == '\r') {
    *line = cur_make(cur_data(line), n - 1);
  }
  return true;
}

static bool starts_with(const cursor *c, const char *s) {
  size_t n = strlen(s);
  return cur_len(c) >= n && memcmp(cur_data(c), s, n) == 0;
}

/* "-----BEGIN X-----" or "-----END X-----": the label X. */
static bool boundary(cursor line, const char *kind, cursor *out_label) {
  char pre[16];
  snprintf(pre, sizeof(pre), "-----%s ", kind);
  /* RFC 7468 2: trailing whitespace after the boundary is tolerated. */
  while (cur_len(&line) > 0 && (cur_data(&line)[cur_len(&line) - 1] == ' ' ||
                                cur_data(&line)[cur_len(&line) - 1] == '\t')) {
    line = cur_make(cur_data(&line), cur_len(&line) - 1);
  }
  if (!starts_with(&line, pre) || cur_len(&line) < strlen(pre) + 5) {
    return false;
  }
  size_t n = cur_len(&line) - strlen(pre) - 5;
  if (memcmp(cur_data(&line) + cur_len(&line) - 5, "-----", 5) != 0) {
    return false;
  }
  (void)cur_skip(&line, strlen(pre));
  (void)cur_sub(&line, n, out_label);
  return true;
}

static int b64_value(uint8_t ch) {
  if (ch >= 'A' && ch <= 'Z') {
    return ch - 'A';
  }
  if (ch >= 'a' && ch <= 'z') {
    return ch - 'a' + 26;
  }
  if (ch >= '0' && ch <= '9') {
    return ch - '0' + 52;
  }
  if (ch == '+') {
    return 62;
  }
  if (ch == '/') {
    return 63;
  }
  return -1;
}

typedef struct b64_state {
  uint32_t acc;
  int nacc;
  int npad;
  uint8_t *out;
  size_t len;
  size_t cap;
} b64_state;

/* Feeds one line; false on a character that is not base64 or data after
 * padding. */
static bool b64_feed(b64_state *st, cursor line) {
  uint8_t ch;
  while (cur_u8(&line, &ch)) {
    if (ch == ' ' || ch == '\t') {
      continue;
    }
    if (ch == '=') {
      if (st->nacc < 2 || st->nacc + st->npad >= 4) {
        return false;
      }
      st->npad++;
      continue;
    }
    int v = b64_value(ch);
    if (v < 0 || st->npad > 0) {
      return false;
    }
    st->acc = (st->acc << 6) | (uint32_t)v;
    if (++st->nacc == 4) {
      if (st->len + 3 > st->cap) {
        return false;
      }
      st->out[st->len++] = (uint8_t)(st->acc >> 16);
      st->out[st->len++] = (uint8_t)(st->acc >> 8);
      st->out[st->len++] = (uint8_t)st->acc;
      st->acc = 0;
      st->nacc = 0;
    }
  }
  return true;
}

static bool b64_finish(b64_state *st) {
  if (st->nacc == 0) {
    return st->npad == 0;
  }
  if (st->nacc + st->npad != 4 && st->npad != 0) {
    return false;
  }
  if (st->nacc > 1 && st->len + (size_t)(st->nacc - 1) > st->cap) {
    return false;
  }
  /* RFC 4648 3.5: the unused low bits are zero. */
  if (st->nacc == 2) {
    if ((st->acc & 0xf) != 0) {
      return false;
    }
    st->out[st->len++] = (uint8_t)(st->acc >> 4);
  } else if (st->nacc == 3) {
    if ((st->acc & 0x3) != 0) {
      return false;
    }
    st->out[st->len++] = (uint8_t)(st->acc >> 10);
    st->out[st->len++] = (uint8_t)(st->acc >> 2);
  } else {
    return false;
  }
  return true;
}

static moat_err pem_fail(char *detail, size_t cap, const char *msg,
                         const cursor *label, size_t line) {
  if (detail != NULL && cap > 0) {
    snprintf(detail, cap, "PEM: %s in block \"%.*s\" (line %zu of the block)",
             msg, (int)(label ? cur_len(label) : 0),
             label ? (const char *)cur_data(label) : "", line);
  }
  return MOAT_ERR_BAD_PEM;
}

moat_err pem_next(cursor *text, char *label, size_t label_cap,
                  uint8_t **out_der, size_t *out_len, char *detail,
                  size_t detail_cap) {
  cursor line, begin_label, end_label;
  *out_der = NULL;
  *out_len = 0;
  for (;;) {
    if (!next_line(text, &line)) {
      return MOAT_OK; /* no more blocks */
    }
    if (boundary(line, "BEGIN", &begin_label)) {
      break;
    }
  }
  if (cur_len(&begin_label) >= PEM_MAX_LABEL ||
      cur_len(&begin_label) + 1 > label_cap) {
    return pem_fail(detail, detail_cap, "label too long", &begin_label, 0);
  }
  /* The body is at most the rest of the text; base64 shrinks it. */
  size_t cap = cur_len(text) / 4 * 3 + 3;
  b64_state st = {0, 0, 0, moat_malloc(cap ? cap : 1), 0, cap};
  if (st.out == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  size_t lineno = 0;
  bool headers = true;
  moat_err err;
  for (;;) {
    lineno++;
    if (!next_line(text, &line)) {
      err = pem_fail(detail, detail_cap, "truncated: no END line", &begin_label,
                     lineno);
      goto fail;
    }
    if (boundary(line, "END", &end_label)) {
      if (cur_len(&end_label) != cur_len(&begin_label) ||
          !cur_equal(&end_label, cur_data(&begin_label),
                     cur_len(&begin_label))) {
        err = pem_fail(detail, detail_cap, "END label does not match BEGIN",
                       &begin_label, lineno);
        goto fail;
      }
      break;
    }
    if (starts_with(&line, "-----")) {
      err = pem_fail(detail, detail_cap, "unexpected boundary line",
                     &begin_label, lineno);
      goto fail;
    }
    /* RFC 1421 headers (Proc-Type: ...) before a blank line are skipped. */
    if (headers && memchr(cur_data(&line), ':', cur_len(&line)) != NULL) {
      while (next_line(text, &line) && cur_len(&line) > 0) {
        lineno++;
      }
      lineno++;
      headers = false;
      continue;
    }
    headers = false;
    if (!b64_feed(&st, line)) {
      err = pem_fail(detail, detail_cap, "bad base64", &begin_label, lineno);
      goto fail;
    }
  }
  if (!b64_finish(&st)) {
    err = pem_fail(detail, detail_cap, "bad base64 (length or padding)",
                   &begin_label, lineno);
    goto fail;
  }
  memcpy(label, cur_data(&begin_label), cur_len(&begin_label));
  label[cur_len(&begin_label)] = '\0';
  *out_der = st.out;
  *out_len = st.len;
  return MOAT_OK;
fail:
  /* The block may be a private key: leave none of it behind. */
  moat_free_wipe(st.out, st.cap);
  moat_wipe(&st.acc, sizeof(st.acc));
  return err;
}

moat_err pem_next_of(cursor *text, const char *const *labels, size_t *out_which,
                     uint8_t **out_der, size_t *out_len, char *detail,
                     size_t detail_cap) {
  for (;;) {
    char label[PEM_MAX_LABEL];
    TRY(pem_next(text, label, sizeof(label), out_der, out_len, detail,
                 detail_cap));
    if (*out_der == NULL) {
      return MOAT_OK;
    }
    for (size_t i = 0; labels[i] != NULL; i++) {
      if (strcmp(label, labels[i]) == 0) {
        *out_which = i;
        return MOAT_OK;
      }
    }
    moat_free_wipe(*out_der, *out_len);
    *out_der = NULL;
    *out_len = 0;
  }
}

bool pem_detect(const uint8_t *data, size_t len) {
  static const char tag[] = "-----BEGIN ";
  return len >= sizeof(tag) - 1 &&
         memmem(data, len, tag, sizeof(tag) - 1) != NULL;
}

/* Three bytes (n of them real, 1..3) as four base64 characters. */
static void b64_quad(const uint8_t *p, size_t n, char q[4]) {
  static const char b64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint32_t v = (uint32_t)p[0] << 16;
  if (n > 1) {
    v |= (uint32_t)p[1] << 8;
  }
  if (n > 2) {
    v |= p[2];
  }
  q[0] = b64[(v >> 18) & 63];
  q[1] = b64[(v >> 12) & 63];
  q[2] = n > 1 ? b64[(v >> 6) & 63] : '=';
  q[3] = n > 2 ? b64[v & 63] : '=';
}

size_t pem_write(const char *label, const uint8_t *der, size_t len, char *out,
                 size_t cap) {
  text_buf tb;
  tb_init(&tb, out, cap);
  tb_printf(&tb, "-----BEGIN %s-----\n", label);
  size_t col = 0;
  for (size_t i = 0; i < len; i += 3) {
    char q[4];
    b64_quad(der + i, len - i < 3 ? len - i : 3, q);
    tb_putn(&tb, q, 4);
    col += 4;
    if (col == 64) {
      tb_putc(&tb, '\n');
      col = 0;
    }
  }
  if (col != 0) {
    tb_putc(&tb, '\n');
  }
  tb_printf(&tb, "-----END %s-----\n", label);
  return tb.len;
}

size_t b64_encode(const uint8_t *data, size_t len, char *out, size_t cap) {
  text_buf tb;
  tb_init(&tb, out, cap);
  for (size_t i = 0; i < len; i += 3) {
    char q[4];
    b64_quad(data + i, len - i < 3 ? len - i : 3, q);
    tb_putn(&tb, q, 4);
  }
  return tb.len;
}

bool b64_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                size_t *out_len) {
  b64_state st = {0, 0, 0, out, 0, cap};
  bool ok =
      b64_feed(&st, cur_make((const uint8_t *)text, len)) && b64_finish(&st);
  moat_wipe(&st.acc, sizeof(st.acc));
  if (!ok) {
    moat_wipe(out, st.len);
    return false;
  }
  *out_len = st.len;
  return true;
}
