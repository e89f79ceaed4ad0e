/* Certificate chains a connection holds after the handshake, sized to
 * what the peer sent. */
#include "base/mem.h"
#include "tls/tls.h"
#include "x509/x509.h"

der_chain *chain_new(size_t num) {
  der_chain *c = moat_calloc(1, sizeof(der_chain) + num * sizeof(der_entry));
  if (c != NULL) {
    c->num = num;
  }
  return c;
}

void chain_free(der_chain *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i < c->num; i++) {
    if (c->e[i].owned) {
      moat_free(c->e[i].der);
    }
  }
  x509_store_free(c->store);
  moat_free(c);
}

hmac_ctx *conn_hmac(moat_conn *conn) {
  /* While the handshake runs (tickets sent or received right after it),
   * its key schedule's context serves: no second one to build. */
  if (conn->hs != NULL && conn->hs->ks.hmac != NULL &&
      conn->hs->ks.hash == hash_get(conn->suite->hash)) {
    return conn->hs->ks.hmac;
  }
  if (conn->hmac == NULL && conn->suite != NULL) {
    conn->hmac = hmac_new(hash_get(conn->suite->hash));
  }
  return conn->hmac;
}
