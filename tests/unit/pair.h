/* Two connections joined in memory, for the TLS tests: bytes carried from
 * one to the other, and both handshakes driven to their end. */
#ifndef MOAT_TEST_PAIR_H
#define MOAT_TEST_PAIR_H

#include "moat.h"

/* Moves from's pending output into to, as far as to takes it; what to
 * has no room for stays pending in from. */
static inline void shuttle(moat_conn *from, moat_conn *to) {
  const uint8_t *data;
  size_t n, used;
  while (moat_conn_pending_output(from) > 0) {
    moat_conn_output_view(from, &data, &n);
    if (moat_conn_feed(to, data, n, &used) != MOAT_OK || used == 0) {
      return;
    }
    moat_conn_output_consume(from, used);
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
