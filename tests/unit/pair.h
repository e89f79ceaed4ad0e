/* Two connections joined in memory, for the TLS tests: bytes carried from
 * one to the other, and both handshakes driven to their end. */
#ifndef MOAT_TEST_PAIR_H
#define MOAT_TEST_PAIR_H

#include "moat.h"

/* Moves all of from's pending output into to, as far as to takes it. */
static inline void shuttle(moat_conn *from, moat_conn *to) {
  uint8_t buf[4096];
  size_t n, used;
  while (moat_conn_pending_output(from) > 0) {
    moat_conn_take_output(from, buf, sizeof(buf), &n);
    size_t off = 0;
    while (off < n) {
      if (moat_conn_feed(to, buf + off, n - off, &used) != MOAT_OK ||
          used == 0) {
        return;
      }
      off += used;
    }
  }
}

/* Runs client c and server s until both finish the handshake or one
 * fails; returns the client's result, the server's in *out_server. */
static inline moat_err handshake_both(moat_conn *c, moat_conn *s,
                                      moat_err *out_server) {
  moat_err ce = MOAT_ERR_WANT_READ, se = MOAT_ERR_WANT_READ;
  for (int i = 0; i < 50; i++) {
    if (ce != MOAT_OK) {
      ce = moat_conn_handshake(c);
    }
    shuttle(c, s);
    if (se != MOAT_OK) {
      se = moat_conn_handshake(s);
    }
    shuttle(s, c);
    if ((ce == MOAT_OK && se == MOAT_OK) ||
        (ce != MOAT_ERR_WANT_READ && ce != MOAT_OK) ||
        (se != MOAT_ERR_WANT_READ && se != MOAT_OK)) {
      break;
    }
  }
  /* Let each side see what the other sent last (its Finished, or an
   * alert). */
  if (se == MOAT_ERR_WANT_READ) {
    shuttle(c, s);
    se = moat_conn_handshake(s);
  }
  if (ce == MOAT_ERR_WANT_READ) {
    shuttle(s, c);
    ce = moat_conn_handshake(c);
  }
  *out_server = se;
  return ce;
}

#endif
