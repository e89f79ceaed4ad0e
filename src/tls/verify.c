/* Peer authentication: the chain and name checks of src/x509 applied by
 * the context's policy, and the only place that sets the peer-certificate
 * proof. */
#include <stdio.h>
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
  case 50: /* a verify callback refused (as OpenSSL and BoringSSL) */
    return ALERT_HANDSHAKE_FAILURE;
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
  moat_free(conn->verify_subject);
  conn->verify_subject = err == MOAT_OK ? NULL : moat_strdup(r->subject);
  conn->verify_depth = r->depth;
  if (err != MOAT_OK && conn->verify_subject == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "verify detail");
  }
  if (err == MOAT_OK) {
    TRY(keep_verified_chain(conn, r));
  }
  long verdict = err == MOAT_OK ? 0 : r->code;
  if (ctx->verify_cb != NULL) {
    verdict = ctx->verify_cb(ctx->verify_arg, conn, verdict);
  }
  if (verdict == 0) {
    /* Verified, or the application vouches for the peer. */
    conn->hs->proof_peer_cert = true;
    return MOAT_OK;
  }
  if (err == MOAT_OK || verdict != r->code) {
    /* The application refused, with a code of its own. */
    conn->verify_code = verdict;
    moat_free(conn->verify_subject);
    conn->verify_subject = NULL;
    moat_free(conn->verify_message);
    conn->verify_message = moat_strdup(x509_verify_code_text(verdict));
    return conn_fail_alert(conn, MOAT_ERR_CERT_VERIFY_FAILED,
                           alert_for_verify_code(verdict),
                           "certificate verify failed: %s (the application's "
                           "verify callback)",
                           x509_verify_code_text(verdict));
  }
  return conn_fail_alert(conn, err, alert_for_verify_code(r->code),
                         "certificate verify failed: %s", r->message);
}

/* ---- moat_verify_chain: the same checks outside a handshake ---------------*/

struct moat_verify_result {
  moat_err err;
  long code;
  int depth;
  char message[384];
  size_t chain_len;
  uint8_t *der[X509_MAX_CHAIN];
  size_t len[X509_MAX_CHAIN];
};

void moat_verify_result_free(moat_verify_result *result) {
  if (result == NULL) {
    return;
  }
  for (size_t i = 0; i < result->chain_len; i++) {
    moat_free(result->der[i]);
  }
  moat_free(result);
}

moat_err moat_verify_chain(const moat_context *ctx, const uint8_t *const *certs,
                           const size_t *cert_lens, size_t num_certs,
                           const char *hostname,
                           moat_verify_result **out_result) {
  if (out_result == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  *out_result = NULL;
  if (ctx == NULL || certs == NULL || cert_lens == NULL || num_certs == 0) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  moat_verify_result *out = moat_calloc(1, sizeof(*out));
  if (out == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  const tls_policy *pol = context_policy(ctx);
  /* The options conn_verify_peer uses, from the same snapshot fields. */
  x509_verify_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.purpose = pol->role == MOAT_ROLE_SERVER ? MOAT_PURPOSE_CLIENT_AUTH
                                               : MOAT_PURPOSE_SERVER_AUTH;
  opts.hostname = hostname;
  opts.check_common_name = pol->hostname_checks_common_name;
  opts.now = ctx_now(pol);
  opts.flags = pol->verify_flags;
  opts.key_cache = pol->key_cache;
  x509_verify_result res;
  moat_err err =
      x509_verify_chain(pol->store, certs, cert_lens, num_certs, &opts, &res);
  out->err = err;
  out->code = res.code;
  out->depth = res.depth;
  snprintf(out->message, sizeof(out->message), "%s", res.message);
  /* The anchor's bytes belong to the store: each is copied, so the result
   * outlives the context. */
  for (size_t i = 0; err == MOAT_OK && i < res.chain_len; i++) {
    out->der[i] = moat_memdup(res.chain_der[i], res.chain_der_len[i]);
    if (out->der[i] == NULL) {
      policy_free(pol);
      moat_verify_result_free(out);
      return MOAT_ERR_NO_MEMORY;
    }
    out->len[i] = res.chain_der_len[i];
    out->chain_len = i + 1;
  }
  policy_free(pol);
  if (err == MOAT_ERR_NO_MEMORY) {
    moat_verify_result_free(out);
    return err;
  }
  *out_result = out;
  return err;
}

moat_err moat_verify_result_error(const moat_verify_result *result) {
  return result->err;
}

long moat_verify_result_code(const moat_verify_result *result) {
  return result->code;
}

const char *moat_verify_result_message(const moat_verify_result *result) {
  return result->message;
}

int moat_verify_result_depth(const moat_verify_result *result) {
  return result->depth;
}

size_t moat_verify_result_chain_len(const moat_verify_result *result) {
  return result->chain_len;
}

moat_err moat_verify_result_cert_der(const moat_verify_result *result,
                                     size_t index, const uint8_t **out_der,
                                     size_t *out_len) {
  if (index >= result->chain_len) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  *out_der = result->der[index];
  *out_len = result->len[index];
  return MOAT_OK;
}
