/* OCSP stapling (RFC 6066 8, RFC 8446 4.4.2.1): what the context staples
 * as a server and asks for as a client, and the client's check of what
 * arrived against the verified chain (src/x509/ocsp.c decides). */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "tls/tls.h"
#include "x509/cert.h"
#include "x509/ocsp.h"

void moat_context_set_ocsp_stapling(moat_context *ctx,
                                    moat_ocsp_stapling mode) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->ocsp_stapling = mode;
    policy_commit(ctx, p);
  }
}

/* Whether a SingleResponse of o is about leaf: its serial, and the hash
 * of its issuer's name (the issuer's key is not at hand; the client
 * checks everything). */
static bool response_names(const x509_ocsp *o, const x509_cert *leaf) {
  cursor pos = o->responses;
  x509_ocsp_single s;
  while (x509_ocsp_next_single(&pos, &s)) {
    const hash_alg *h = hash_get(s.hash);
    uint8_t md[HASH_MAX_LEN];
    if (h != NULL && cur_len(&s.serial) == cur_len(&leaf->serial) &&
        cur_equal(&s.serial, cur_data(&leaf->serial), cur_len(&leaf->serial)) &&
        hash_oneshot(h, cur_data(&leaf->issuer), cur_len(&leaf->issuer), md) &&
        cur_equal(&s.name_hash, md, h->len)) {
      return true;
    }
  }
  return false;
}

moat_err moat_context_set_ocsp_response(moat_context *ctx, const uint8_t *der,
                                        size_t len) {
  x509_ocsp o;
  char detail[160] = "";
  if (der == NULL || len == 0) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  if (x509_ocsp_parse(&o, der, len, detail, sizeof(detail)) == MOAT_OK &&
      o.status != OCSP_SUCCESSFUL) {
    snprintf(detail, sizeof(detail),
             "OCSP response: status %u, not successful: nothing to staple",
             o.status);
  }
  uint8_t *copy = detail[0] == '\0' ? moat_memdup(der, len) : NULL;
  if (detail[0] == '\0' && copy == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    moat_free(copy);
    return MOAT_ERR_NO_MEMORY;
  }
  /* The chain whose leaf the response is about staples it. */
  tls_identity *id = NULL;
  for (size_t i = 0; copy != NULL && id == NULL && i < p->num_ids; i++) {
    x509_cert leaf;
    if (p->ids[i].chain_num > 0 &&
        x509_cert_parse(&leaf, p->ids[i].chain_der[0], p->ids[i].chain_len[0],
                        NULL, 0) == MOAT_OK &&
        response_names(&o, &leaf)) {
      id = &p->ids[i];
    }
  }
  if (copy != NULL && id == NULL) {
    snprintf(detail, sizeof(detail),
             "OCSP response: about none of the loaded certificates (load "
             "the chain first)");
  }
  if (id == NULL) {
    moat_free(copy);
    snprintf(ctx->detail, sizeof(ctx->detail), "%s", detail);
    pthread_mutex_unlock(&ctx->lock);
    policy_free(p);
    return MOAT_ERR_BAD_OCSP_RESPONSE;
  }
  moat_free(id->ocsp_der);
  id->ocsp_der = copy;
  id->ocsp_len = len;
  policy_commit(ctx, p);
  return MOAT_OK;
}

moat_err moat_context_clear_ocsp_responses(moat_context *ctx) {
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < p->num_ids; i++) {
    moat_free(p->ids[i].ocsp_der);
    p->ids[i].ocsp_der = NULL;
    p->ids[i].ocsp_len = 0;
  }
  policy_commit(ctx, p);
  return MOAT_OK;
}

moat_ocsp_status moat_conn_ocsp_status(const moat_conn *conn) {
  return conn->staple_status;
}

moat_err moat_conn_ocsp_response(const moat_conn *conn, const uint8_t **out_der,
                                 size_t *out_len) {
  *out_der = NULL;
  *out_len = 0;
  if (conn->staple == NULL) {
    return MOAT_ERR_BAD_STATE;
  }
  *out_der = conn->staple;
  *out_len = conn->staple_len;
  return MOAT_OK;
}

moat_err conn_keep_staple(moat_conn *conn, cursor response) {
  moat_free(conn->staple);
  conn->staple_len = 0;
  conn->staple = moat_memdup(cur_data(&response), cur_len(&response));
  if (conn->staple == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "stapled OCSP response");
  }
  conn->staple_len = cur_len(&response);
  return MOAT_OK;
}

/* A staple that cannot be used: RFC 6066 8 names the alert. */
static moat_err staple_refused(moat_conn *conn, const char *why) {
  return conn_fail_alert(conn, MOAT_ERR_BAD_OCSP_RESPONSE,
                         ALERT_BAD_CERTIFICATE_STATUS_RESPONSE,
                         "stapled OCSP response: %s", why);
}

moat_err conn_check_staple(moat_conn *conn) {
  const tls_policy *ctx = conn->ctx;
  moat_ocsp_stapling mode = ctx->ocsp_stapling;
  conn->staple_status = MOAT_OCSP_NO_STATUS;
  if (conn->is_server || mode == MOAT_OCSP_STAPLING_OFF ||
      ctx->verify_mode == MOAT_VERIFY_NONE) {
    return MOAT_OK;
  }
  bool required = mode == MOAT_OCSP_STAPLING_REQUIRE;
  if (conn->staple == NULL) {
    return required ? staple_refused(conn, "the server stapled none and "
                                           "one is required")
                    : MOAT_OK;
  }
  /* The response is about the leaf, from its issuer: the verified chain
   * has both unless the leaf itself is the trust anchor. */
  const der_chain *vc = conn->verified;
  x509_cert leaf, issuer;
  if (vc == NULL || vc->num < 2) {
    return required ? staple_refused(conn, "the certificate is trusted "
                                           "directly, with no issuer to "
                                           "check the response against")
                    : MOAT_OK;
  }
  if (x509_cert_parse(&leaf, vc->e[0].der, vc->e[0].len, NULL, 0) != MOAT_OK ||
      x509_cert_parse(&issuer, vc->e[1].der, vc->e[1].len, NULL, 0) !=
          MOAT_OK) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "verified chain does not parse");
  }
  x509_ocsp_result r;
  moat_err err = x509_ocsp_check(conn->staple, conn->staple_len, &leaf, &issuer,
                                 ctx_now(ctx), ctx->key_cache, &r);
  conn->staple_status = r.status;
  if (err == MOAT_OK) {
    return MOAT_OK;
  }
  if (r.status == MOAT_OCSP_REVOKED) {
    /* Reported like a CRL's revocation: code 23 for the leaf. */
    char subject[256];
    x509_name_text(leaf.subject, subject, sizeof(subject));
    conn->verify_code = r.code;
    moat_free(conn->verify_message);
    conn->verify_message = moat_strdup(r.message);
    moat_free(conn->verify_subject);
    conn->verify_subject = moat_strdup(subject);
    conn->verify_depth = 0;
    return conn_fail_alert(conn, MOAT_ERR_CERT_VERIFY_FAILED,
                           ALERT_CERTIFICATE_REVOKED,
                           "certificate verify failed: %s", r.message);
  }
  if (r.status == MOAT_OCSP_UNKNOWN && !required) {
    return MOAT_OK;
  }
  return staple_refused(conn, r.message);
}
