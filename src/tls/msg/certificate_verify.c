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

/* RFC 8017 9.1.1: RSA-PSS with a salt of the hash's length needs an
 * encoded message of at least 2 * hLen + 2 bytes; a smaller key cannot
 * sign with the scheme (rsa_pss_rsae_sha512 and a 1024-bit key). */
static bool scheme_fits_size(const sig_scheme *s, const privkey *key) {
  if (s->kind != SIG_RSA_PSS) {
    return true;
  }
  int bits = privkey_bits(key);
  const hash_alg *h = hash_get(s->hash);
  return bits > 0 && h != NULL && ((size_t)bits - 1 + 7) / 8 >= 2 * h->len + 2;
}

/* Our first scheme (in the context's order) that the peer lists, fits
 * our key by `fits` and can sign with its size; with exact_key, only
 * schemes that name the key's own type (for ECDSA: its curve). */
static const sig_scheme *pick_scheme(const tls_policy *ctx,
                                     const uint16_t *peer, size_t num_peer,
                                     bool (*fits)(const sig_scheme *, key_type),
                                     bool exact_key) {
  key_type kt = privkey_type(ctx->key);
  for (size_t i = 0; i < ctx->num_sigalgs; i++) {
    const sig_scheme *s = ctx->sigalgs[i];
    if (!fits(s, kt) || !scheme_fits_size(s, ctx->key) ||
        (exact_key && s->key != kt)) {
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

const sig_scheme *cv_choose_scheme(const moat_conn *conn, const uint16_t *peer,
                                   size_t num_peer) {
  const tls_policy *ctx = conn->ctx;
  if (ctx->key == NULL) {
    return NULL;
  }
  return pick_scheme(ctx, peer, num_peer, scheme_fits_key, false);
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

/* ---- TLS 1.2 (RFC 5246 7.4.1.4.1, 7.4.8) -------------------------------- */

static bool is_ec(key_type k) {
  return k == KEY_EC_P256 || k == KEY_EC_P384 || k == KEY_EC_P521;
}

/* In TLS 1.2 an ECDSA scheme names the hash, not the curve (RFC 8422
 * 5.1.3); everything else binds the key type as in TLS 1.3.  SHA-1 and MD5
 * are not in moat's table at all. */
bool sig12_fits(const sig_scheme *s, key_type key) {
  switch (s->kind) {
  case SIG_ECDSA:
    return is_ec(key);
  case SIG_RSA_PKCS1:
    return key == KEY_RSA;
  case SIG_RSA_PSS:
  case SIG_EDDSA:
    return s->key == key;
  default:
    return false;
  }
}

/* The scheme as the adapter sees it for this key: an ECDSA scheme is
 * rebound to the key's curve. */
static sig_scheme sig12_bind(const sig_scheme *s, key_type key) {
  sig_scheme bound = *s;
  if (s->kind == SIG_ECDSA) {
    bound.key = key;
  }
  return bound;
}

const sig_scheme *sig12_choose(const moat_conn *conn, const uint16_t *peer,
                               size_t num_peer) {
  const tls_policy *ctx = conn->ctx;
  if (ctx->key == NULL) {
    return NULL;
  }
  /* First a scheme that names our curve, then any that fits. */
  const sig_scheme *s = pick_scheme(ctx, peer, num_peer, sig12_fits, true);
  return s != NULL ? s : pick_scheme(ctx, peer, num_peer, sig12_fits, false);
}

moat_err cv12_build(moat_conn *conn, builder *b, const sig_scheme *scheme) {
  handshake *hs = conn->hs;
  const privkey *key = conn->ctx->key;
  sig_scheme bound = sig12_bind(scheme, privkey_type(key));
  size_t cap = privkey_max_sig_len(key);
  msg_open(b, HT_CERTIFICATE_VERIFY);
  bld_u16(b, scheme->code);
  bld_open16(b);
  uint8_t *sig;
  if (!bld_space(b, cap, &sig)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "signature buffer");
  }
  size_t sig_len = cap;
  if (!privkey_sign(key, &bound, hs->raw, hs->raw_len, sig, &sig_len)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "signing with %s failed",
                     scheme->name);
  }
  bld_unreserve(b, cap - sig_len);
  bld_close(b);
  msg_close(b);
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building CertificateVerify");
  }
  conn->our_sig = scheme;
  return MOAT_OK;
}

/* A TLS 1.2 signature by the peer's certificate key over msg, with a
 * scheme we offered (ServerKeyExchange and CertificateVerify). */
moat_err sig12_verify(moat_conn *conn, uint16_t code, const uint8_t *msg,
                      size_t msg_len, cursor sig, const char *what) {
  const sig_scheme *s = NULL;
  for (size_t i = 0; i < conn->ctx->num_sigalgs; i++) {
    if (conn->ctx->sigalgs[i]->code == code) {
      s = conn->ctx->sigalgs[i];
    }
  }
  if (s == NULL) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "%s uses signature scheme 0x%04x, which was not offered",
                     what, code);
  }
  key_type kt = pubkey_type(conn->hs->peer_key);
  if (!sig12_fits(s, kt)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "%s scheme %s does not fit the certificate's %s key", what,
                     s->name, key_type_name(kt));
  }
  sig_scheme bound = sig12_bind(s, kt);
  if (!pubkey_verify(conn->hs->peer_key, &bound, msg, msg_len, cur_data(&sig),
                     cur_len(&sig))) {
    return conn_fail(conn, MOAT_ERR_DECRYPT_ERROR,
                     "the peer's %s signature (%s) is wrong", what, s->name);
  }
  conn->peer_sig = s;
  return MOAT_OK;
}

moat_err cv12_check(moat_conn *conn, cursor body) {
  uint16_t code;
  cursor sig;
  if (!cur_u16(&body, &code) || !cur_prefixed16(&body, &sig) ||
      !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed CertificateVerify");
  }
  TRY(sig12_verify(conn, code, conn->hs->raw, conn->hs->raw_len, sig,
                   "CertificateVerify"));
  conn->hs->proof_cert_verify = true;
  return MOAT_OK;
}
