/* Peer authentication: the chain and name checks of src/x509 applied by
 * the context's policy, and the only place that sets the peer-certificate
 * proof. */
#include <string.h>

#include "base/mem.h"
#include "tls/tls.h"
#include "x509/x509.h"

/* X509_V_ERR codes (OpenSSL-compatible numbers) mapped to alerts. */
static int alert_for_verify_code(long code) {
  switch (code) {
  case 9:  /* not yet valid */
  case 10: /* expired */
    return ALERT_CERTIFICATE_EXPIRED;
  case 23: /* revoked */
    return ALERT_CERTIFICATE_REVOKED;
  case 2:  /* unable to get issuer certificate */
  case 18: /* self-signed leaf */
  case 19: /* self-signed in chain */
  case 20: /* unable to get local issuer */
  case 21: /* unable to verify the first certificate */
    return ALERT_UNKNOWN_CA;
  case 7:  /* signature failure */
  case 62: /* hostname mismatch */
  case 64: /* IP mismatch */
  default:
    return ALERT_BAD_CERTIFICATE;
  }
}

/* Keeps the verified chain; certificates the peer sent are shared with
 * the peer chain, anchors with the trust store (the chain keeps a
 * reference to it: the connection may change contexts before the
 * handshake ends); anything else is copied. */
static moat_err keep_verified_chain(moat_conn *conn,
                                    const x509_verify_result *r) {
  size_t num = r->chain_len < TLS_MAX_CHAIN ? r->chain_len : TLS_MAX_CHAIN;
  der_chain *c = chain_new(num);
  if (c == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "verified chain");
  }
  for (size_t i = 0; i < num; i++) {
    c->e[i].len = r->chain_der_len[i];
    for (size_t j = 0; j < conn->peer->num; j++) {
      if (conn->peer->e[j].der == r->chain_der[i]) {
        c->e[i].der = conn->peer->e[j].der;
      }
    }
    if (c->e[i].der == NULL &&
        x509_store_holds(conn->ctx->store, r->chain_der[i],
                         r->chain_der_len[i])) {
      if (c->store == NULL) {
        c->store = x509_store_ref(conn->ctx->store);
      }
      c->e[i].der = (uint8_t *)r->chain_der[i];
    }
    if (c->e[i].der == NULL) {
      c->e[i].der = moat_memdup(r->chain_der[i], r->chain_der_len[i]);
      c->e[i].owned = true;
      if (c->e[i].der == NULL) {
        chain_free(c);
        return conn_fail(conn, MOAT_ERR_NO_MEMORY, "verified chain");
      }
    }
  }
  chain_free(conn->verified);
  conn->verified = c;
  return MOAT_OK;
}

moat_err conn_verify_peer(moat_conn *conn) {
  const tls_policy *ctx = conn->ctx;
  if (ctx->verify_mode == MOAT_VERIFY_NONE) {
    /* Policy asks for no authentication (CERT_NONE). */
    conn->verify_code = 0;
    conn->hs->proof_peer_cert = true;
    return MOAT_OK;
  }
  x509_verify_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.purpose =
      conn->is_server ? MOAT_PURPOSE_CLIENT_AUTH : MOAT_PURPOSE_SERVER_AUTH;
  opts.hostname =
      (!conn->is_server && ctx->check_hostname) ? conn->hostname : NULL;
  opts.check_common_name = ctx->hostname_checks_common_name;
  opts.now = ctx_now(ctx);
  opts.flags = ctx->verify_flags;
  opts.key_cache = ctx->key_cache;
  if (!conn->is_server && ctx->check_hostname && conn->hostname == NULL) {
    return conn_fail(conn, MOAT_ERR_BAD_STATE,
                     "check_hostname is on but no host name was set "
                     "(moat_conn_set_hostname)");
  }
  /* About 1 KB: on the stack, not one more allocation per handshake. */
  x509_verify_result res;
  memset(&res, 0, sizeof(res));
  x509_verify_result *r = &res;
  const uint8_t *ders[TLS_MAX_CHAIN];
  size_t lens[TLS_MAX_CHAIN];
  for (size_t i = 0; i < conn->peer->num; i++) {
    ders[i] = conn->peer->e[i].der;
    lens[i] = conn->peer->e[i].len;
  }
  moat_err err =
      x509_verify_chain(ctx->store, ders, lens, conn->peer->num, &opts, r);
  conn->verify_code = r->code;
  moat_free(conn->verify_message);
  /* NULL reads as "ok" (moat_conn_verify_message): no copy to keep. */
  conn->verify_message = err == MOAT_OK ? NULL : moat_strdup(r->message);
  if (err == MOAT_OK) {
    TRY(keep_verified_chain(conn, r));
    conn->hs->proof_peer_cert = true;
    return MOAT_OK;
  }
  err = conn_fail_alert(conn, err, alert_for_verify_code(r->code),
                        "certificate verify failed: %s", r->message);
  return err;
}
