/* CertificateVerify (RFC 8446 4.4.3). */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"

/* RFC 8446 4.4.3: 64 spaces, the context string, a zero byte, and the
 * transcript hash. */
size_t cv_content(bool server, const uint8_t *hash, size_t hash_len,
                  uint8_t *out) {
  static const char k_server[] = "TLS 1.3, server CertificateVerify";
  static const char k_client[] = "TLS 1.3, client CertificateVerify";
  const char *label = server ? k_server : k_client;
  size_t n = 0;
  memset(out, 0x20, 64);
  n += 64;
  memcpy(out + n, label, sizeof(k_server)); /* includes the zero byte */
  n += sizeof(k_server);
  memcpy(out + n, hash, hash_len);
  return n + hash_len;
}

static bool scheme_fits_key(const sig_scheme *s, key_type key) {
  if (!s->tls13) {
    return false;
  }
  if (s->key == key) {
    return true;
  }
  /* rsa_pss_rsae_* are signed with rsaEncryption keys. */
  return key == KEY_RSA && s->kind == SIG_RSA_PSS && s->key == KEY_RSA;
}

const sig_scheme *cv_choose_scheme(const moat_conn *conn, const uint16_t *peer,
                                   size_t num_peer) {
  const tls_policy *ctx = conn->ctx;
  if (ctx->key == NULL) {
    return NULL;
  }
  key_type kt = privkey_type(ctx->key);
  for (size_t i = 0; i < ctx->num_sigalgs; i++) {
    const sig_scheme *s = ctx->sigalgs[i];
    if (!scheme_fits_key(s, kt)) {
      continue;
    }
    for (size_t j = 0; j < num_peer; j++) {
      if (peer[j] == s->code) {
        return s;
      }
    }
  }
  return NULL;
}

moat_err cv_build(moat_conn *conn, builder *b, const sig_scheme *scheme) {
  uint8_t hash[HASH_MAX_LEN];
  uint8_t content[64 + 34 + HASH_MAX_LEN];
  if (!hs_transcript_hash(conn, hash)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "transcript hash");
  }
  size_t n = cv_content(conn->is_server, hash,
                        hash_ctx_alg(conn->hs->transcript)->len, content);
  size_t cap = privkey_max_sig_len(conn->ctx->key);
  msg_open(b, HT_CERTIFICATE_VERIFY);
  bld_u16(b, scheme->code);
  bld_open16(b);
  uint8_t *sig;
  if (!bld_space(b, cap, &sig)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "signature buffer");
  }
  size_t sig_len = cap;
  if (!privkey_sign(conn->ctx->key, scheme, content, n, sig, &sig_len)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "signing with %s failed",
                     scheme->name);
  }
  bld_unreserve(b, cap - sig_len); /* signatures vary in length */
  bld_close(b);
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building CertificateVerify");
  }
  conn->our_sig = scheme;
  return MOAT_OK;
}

moat_err cv_check(moat_conn *conn, cursor body) {
  uint16_t code;
  cursor sig;
  if (!cur_u16(&body, &code) || !cur_prefixed16(&body, &sig) ||
      !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed CertificateVerify");
  }
  /* RFC 8446 4.4.3: the scheme must be one we offered. */
  const sig_scheme *s = NULL;
  for (size_t i = 0; i < conn->ctx->num_sigalgs; i++) {
    if (conn->ctx->sigalgs[i]->code == code) {
      s = conn->ctx->sigalgs[i];
    }
  }
  if (s == NULL || !s->tls13) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "CertificateVerify uses scheme 0x%04x, which was not "
                     "offered%s",
                     code, s != NULL ? " for TLS 1.3" : "");
  }
  if (!scheme_fits_key(s, pubkey_type(conn->hs->peer_key))) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "CertificateVerify scheme %s does not fit the "
                     "certificate's %s key",
                     s->name, key_type_name(pubkey_type(conn->hs->peer_key)));
  }
  uint8_t hash[HASH_MAX_LEN];
  uint8_t content[64 + 34 + HASH_MAX_LEN];
  if (!hs_transcript_hash(conn, hash)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "transcript hash");
  }
  size_t n = cv_content(!conn->is_server, hash,
                        hash_ctx_alg(conn->hs->transcript)->len, content);
  if (!pubkey_verify(conn->hs->peer_key, s, content, n, cur_data(&sig),
                     cur_len(&sig))) {
    return conn_fail(conn, MOAT_ERR_DECRYPT_ERROR,
                     "the peer's CertificateVerify signature (%s) is wrong",
                     s->name);
  }
  conn->peer_sig = s;
  conn->hs->proof_cert_verify = true;
  return MOAT_OK;
}
