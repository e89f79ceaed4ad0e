/* Certificate chains a connection holds after the handshake, sized to
 * what the peer sent. */
#include "base/mem.h"
#include "tls/msg/msg.h"
#include "x509/x509.h"

der_chain *chain_new(size_t num) {
  der_chain *c = moat_calloc(1, sizeof(der_chain) + num * sizeof(der_entry));
  if (c != NULL) {
    atomic_init(&c->refs, 1);
    c->num = num;
  }
  return c;
}

der_chain *chain_ref(der_chain *c) {
  if (c != NULL) {
    atomic_fetch_add(&c->refs, 1);
  }
  return c;
}

void chain_free(der_chain *c) {
  if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1) {
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

moat_err hs_take_peer_chain(moat_conn *conn, const cert_list *list) {
  chain_free(conn->peer);
  conn->peer = NULL;
  if (list->num == 0) {
    return MOAT_OK;
  }
  der_chain *chain = chain_new(list->num);
  if (chain == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "certificate chain");
  }
  for (size_t i = 0; i < list->num; i++) {
    cursor der = list->der[i];
    chain->e[i].der = moat_memdup(cur_data(&der), cur_len(&der));
    chain->e[i].len = cur_len(&der);
    chain->e[i].owned = true;
    if (chain->e[i].der == NULL) {
      chain_free(chain);
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "certificate copy");
    }
  }
  conn->peer = chain;
  return MOAT_OK;
}

bool session_keep_peer(moat_session *s, const moat_conn *conn,
                       const moat_session *resumed) {
  der_chain *peer = conn->peer;
  long code = conn->verify_code;
  if (peer == NULL && resumed != NULL) {
    peer = resumed->peer;
    code = resumed->verify_code;
  }
  chain_free(s->peer);
  s->peer = chain_ref(peer); /* shared, not copied: the chain is immutable */
  s->verify_code = code;
  s->group = conn->group;
  return true;
}

bool session_restore_peer(moat_conn *conn, const moat_session *s) {
  chain_free(conn->peer);
  conn->peer = chain_ref(s->peer);
  conn->verify_code = s->verify_code;
  return true;
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
