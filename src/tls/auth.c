/* The handshake's proofs, for both versions: the scheme we sign with, the
 * content each signature covers, making and checking CertificateVerify
 * and the ServerKeyExchange signature, computing and comparing Finished.
 * The messages' bytes are the codecs' (msg/); the CertificateVerify and
 * Finished proof flags are set here and nowhere else (STYLE 8). */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"

/* The longest signature a key moat loads can make: RSA of 16384 bits. */
#define AUTH_SIG_MAX 2048

/* ---- choosing our scheme ------------------------------------------------ */

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
 * one of our keys ids[0..num_ids) by `fits` and can sign with its size;
 * with exact_key, only schemes that name the key's own type (for ECDSA:
 * its curve).  *out_id is the chain and key that sign with it. */
static const sig_scheme *pick_scheme(const tls_policy *ctx,
                                     const tls_identity *ids, size_t num_ids,
                                     const uint16_t *peer, size_t num_peer,
                                     bool (*fits)(const sig_scheme *, key_type),
                                     bool exact_key,
                                     const tls_identity **out_id) {
  for (size_t i = 0; i < ctx->num_sigalgs; i++) {
    const sig_scheme *s = ctx->sigalgs[i];
    bool listed = false;
    for (size_t j = 0; j < num_peer && !listed; j++) {
      listed = peer[j] == s->code;
    }
    for (size_t k = 0; listed && k < num_ids; k++) {
      key_type kt = privkey_type(ids[k].key);
      if (fits(s, kt) && scheme_fits_size(s, ids[k].key) &&
          (!exact_key || s->key == kt)) {
        *out_id = &ids[k];
        return s;
      }
    }
  }
  return NULL;
}

const sig_scheme *cv_choose_scheme(const moat_conn *conn, const uint16_t *peer,
                                   size_t num_peer,
                                   const tls_identity **out_id) {
  const tls_policy *ctx = conn->ctx;
  return pick_scheme(ctx, ctx->ids, ctx->num_ids, peer, num_peer,
                     scheme_fits_key, false, out_id);
}

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

const sig_scheme *sig12_choose(const moat_conn *conn, const tls_identity *ids,
                               size_t num_ids, const uint16_t *peer,
                               size_t num_peer, const tls_identity **out_id) {
  const tls_policy *ctx = conn->ctx;
  /* First a scheme that names our curve, then any that fits. */
  const sig_scheme *s =
      pick_scheme(ctx, ids, num_ids, peer, num_peer, sig12_fits, true, out_id);
  return s != NULL ? s
                   : pick_scheme(ctx, ids, num_ids, peer, num_peer, sig12_fits,
                                 false, out_id);
}

/* The scheme with this code among those we offered, or NULL. */
static const sig_scheme *offered_scheme(const tls_policy *ctx, uint16_t code) {
  const sig_scheme *s = NULL;
  for (size_t i = 0; i < ctx->num_verify_sigalgs; i++) {
    if (ctx->verify_sigalgs[i]->code == code) {
      s = ctx->verify_sigalgs[i];
    }
  }
  return s;
}

/* ---- what is signed ------------------------------------------------------ */

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

/* The content of our (server) or the peer's (!server) TLS 1.3
 * CertificateVerify: the transcript so far under the sender's label. */
static moat_err cv13_content(moat_conn *conn, bool server, uint8_t *out,
                             size_t *out_len) {
  uint8_t hash[HASH_MAX_LEN];
  if (!hs_transcript_hash(conn, hash)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "transcript hash");
  }
  *out_len =
      cv_content(server, hash, hash_ctx_alg(conn->hs->transcript)->len, out);
  return MOAT_OK;
}

/* RFC 8422 5.4: client_random || server_random || ServerECDHParams; 0
 * when it does not fit cap. */
static size_t ske_signed_content(const handshake *hs, cursor params,
                                 uint8_t *out, size_t cap) {
  size_t n = cur_len(&params);
  if (cap < 2 * TLS_RANDOM_LEN + n) {
    return 0;
  }
  memcpy(out, hs->client_random, TLS_RANDOM_LEN);
  memcpy(out + TLS_RANDOM_LEN, hs->server_random, TLS_RANDOM_LEN);
  memcpy(out + 2 * TLS_RANDOM_LEN, cur_data(&params), n);
  return 2 * TLS_RANDOM_LEN + n;
}

/* ---- signing and checking ------------------------------------------------ */

/* Signs msg with our key; sig holds AUTH_SIG_MAX bytes.  name is the
 * scheme as offered (bound may be its TLS 1.2 rebinding). */
static moat_err sign(moat_conn *conn, const sig_scheme *bound, const char *name,
                     const uint8_t *msg, size_t msg_len, uint8_t *sig,
                     size_t *sig_len) {
  const privkey *key = conn->id->key;
  size_t cap = privkey_max_sig_len(key);
  if (cap > AUTH_SIG_MAX) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "signature buffer");
  }
  *sig_len = cap;
  if (!privkey_sign(key, bound, msg, msg_len, sig, sig_len)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "signing with %s failed", name);
  }
  return MOAT_OK;
}

/* Writes our CertificateVerify (the scheme's code, the signature). */
static moat_err send_cv(moat_conn *conn, builder *b, const sig_scheme *scheme,
                        const uint8_t *sig, size_t sig_len) {
  if (!cv_build(b, scheme->code, sig, sig_len)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building CertificateVerify");
  }
  conn->our_sig = scheme;
  return MOAT_OK;
}

moat_err auth_cv_build(moat_conn *conn, builder *b, const sig_scheme *scheme) {
  uint8_t content[64 + 34 + HASH_MAX_LEN], sig[AUTH_SIG_MAX];
  size_t n = 0, sig_len = 0;
  TRY(cv13_content(conn, conn->is_server, content, &n));
  TRY(sign(conn, scheme, scheme->name, content, n, sig, &sig_len));
  return send_cv(conn, b, scheme, sig, sig_len);
}

moat_err auth_cv_check(moat_conn *conn, cursor body) {
  cert_verify cv;
  tls_cause why;
  if (cv_parse(body, &cv, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  /* RFC 8446 4.4.3: the scheme must be one we offered. */
  const sig_scheme *s = offered_scheme(conn->ctx, cv.scheme);
  if (s == NULL || !s->tls13) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "CertificateVerify uses scheme 0x%04x, which was not "
                     "offered%s",
                     cv.scheme, s != NULL ? " for TLS 1.3" : "");
  }
  pubkey *key = conn->hs->peer_key;
  if (!scheme_fits_key(s, pubkey_type(key))) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "CertificateVerify scheme %s does not fit the "
                     "certificate's %s key",
                     s->name, key_type_name(pubkey_type(key)));
  }
  uint8_t content[64 + 34 + HASH_MAX_LEN];
  size_t n = 0;
  TRY(cv13_content(conn, !conn->is_server, content, &n));
  if (!pubkey_verify(key, s, content, n, cur_data(&cv.sig), cur_len(&cv.sig))) {
    return conn_fail(conn, MOAT_ERR_DECRYPT_ERROR,
                     "the peer's CertificateVerify signature (%s) is wrong",
                     s->name);
  }
  conn->peer_sig = s;
  conn->hs->proof_cert_verify = true;
  return MOAT_OK;
}

/* A TLS 1.2 signature by the peer's certificate key over msg, with a
 * scheme we offered (ServerKeyExchange and CertificateVerify). */
static moat_err sig12_verify(moat_conn *conn, uint16_t code, const uint8_t *msg,
                             size_t msg_len, cursor sig, const char *what) {
  const sig_scheme *s = offered_scheme(conn->ctx, code);
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

/* RFC 5246 7.4.8: the signature covers the handshake messages so far,
 * kept whole in hs->raw. */
moat_err auth_cv12_build(moat_conn *conn, builder *b,
                         const sig_scheme *scheme) {
  handshake *hs = conn->hs;
  sig_scheme bound = sig12_bind(scheme, privkey_type(conn->id->key));
  uint8_t sig[AUTH_SIG_MAX];
  size_t sig_len;
  TRY(sign(conn, &bound, scheme->name, hs->raw, hs->raw_len, sig, &sig_len));
  return send_cv(conn, b, scheme, sig, sig_len);
}

moat_err auth_cv12_check(moat_conn *conn, cursor body) {
  cert_verify cv;
  tls_cause why;
  if (cv_parse(body, &cv, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  TRY(sig12_verify(conn, cv.scheme, conn->hs->raw, conn->hs->raw_len, cv.sig,
                   "CertificateVerify"));
  conn->hs->proof_cert_verify = true;
  return MOAT_OK;
}

moat_err auth_ske_build(moat_conn *conn, builder *b, uint16_t group,
                        const uint8_t *share, size_t share_len,
                        const sig_scheme *scheme) {
  uint8_t params[4 + KEX_MAX_SHARE];
  builder pb;
  bld_init_fixed(&pb, params, sizeof(params));
  if (!ske_params_build(&pb, group, share, share_len)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "ServerKeyExchange parameters");
  }
  cursor pc = cur_make(params, bld_len(&pb));
  uint8_t content[2 * TLS_RANDOM_LEN + sizeof(params)], sig[AUTH_SIG_MAX];
  size_t n = ske_signed_content(conn->hs, pc, content, sizeof(content));
  size_t sig_len;
  if (n == 0) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "signature buffer");
  }
  TRY(sign(conn, scheme, scheme->name, content, n, sig, &sig_len));
  if (!ske_build(b, pc, scheme->code, sig, sig_len)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building ServerKeyExchange");
  }
  return MOAT_OK;
}

moat_err auth_ske_check(moat_conn *conn, const server_kex *ske,
                        const kex_alg *alg) {
  uint8_t content[2 * TLS_RANDOM_LEN + 4 + KEX_MAX_SHARE];
  size_t n =
      ske_signed_content(conn->hs, ske->params, content, sizeof(content));
  if (n == 0) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the server's %s share is %zu bytes long", alg->name,
                     cur_len(&ske->point));
  }
  TRY(sig12_verify(conn, ske->scheme, content, n, ske->sig,
                   "ServerKeyExchange"));
  /* RFC 8422 5.4: the signature proves the certificate's key. */
  conn->hs->proof_cert_verify = true;
  return MOAT_OK;
}

/* ---- Finished ------------------------------------------------------------ */

moat_err auth_fin_build(moat_conn *conn, builder *b, const uint8_t *fin_key) {
  handshake *hs = conn->hs;
  uint8_t hash[HASH_MAX_LEN], verify[HASH_MAX_LEN];
  if (!hs_transcript_hash(conn, hash) ||
      !ks_verify_data(&hs->ks, fin_key, hash, verify)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "computing Finished");
  }
  conn_note_finished(conn, !conn->is_server, verify, hs->ks.hash->len);
  bool ok = fin_build(b, verify, hs->ks.hash->len);
  moat_wipe(verify, sizeof(verify));
  if (!ok) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building Finished");
  }
  return MOAT_OK;
}

moat_err auth_fin_check(moat_conn *conn, cursor body, const uint8_t *fin_key) {
  handshake *hs = conn->hs;
  cursor got;
  tls_cause why;
  if (fin_parse(body, hs->ks.hash->len, &got, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  uint8_t hash[HASH_MAX_LEN], verify[HASH_MAX_LEN];
  if (!hs_transcript_hash(conn, hash) ||
      !ks_verify_data(&hs->ks, fin_key, hash, verify)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "computing Finished");
  }
  bool ok = ct_eq(verify, cur_data(&got), cur_len(&got));
  moat_wipe(verify, sizeof(verify));
  if (!ok) {
    return conn_fail(conn, MOAT_ERR_DECRYPT_ERROR,
                     "the peer's Finished does not match the handshake");
  }
  conn_note_finished(conn, conn->is_server, cur_data(&got), cur_len(&got));
  hs->proof_finished = true;
  return MOAT_OK;
}

/* RFC 5246 7.4.9: verify_data = PRF(master_secret, finished_label,
 * Hash(handshake_messages))[0..11]. */
static moat_err fin12_compute(moat_conn *conn, bool client,
                              uint8_t out[TLS12_FINISHED_LEN]) {
  handshake *hs = conn->hs;
  const hash_alg *h = hash_get(conn->suite->hash);
  uint8_t hash[HASH_MAX_LEN];
  if (!hs_transcript_hash(conn, hash) ||
      !tls12_prf(h, hs->ks.hmac, hs->master, sizeof(hs->master),
                 client ? "client finished" : "server finished", hash, h->len,
                 NULL, 0, out, TLS12_FINISHED_LEN)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "computing Finished");
  }
  return MOAT_OK;
}

moat_err auth_fin12_build(moat_conn *conn, builder *b) {
  handshake *hs = conn->hs;
  TRY(fin12_compute(conn, !conn->is_server, hs->fin_sent));
  conn_note_finished(conn, !conn->is_server, hs->fin_sent, TLS12_FINISHED_LEN);
  if (!fin_build(b, hs->fin_sent, TLS12_FINISHED_LEN)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building Finished");
  }
  return MOAT_OK;
}

moat_err auth_fin12_check(moat_conn *conn, cursor body) {
  handshake *hs = conn->hs;
  cursor got;
  tls_cause why;
  if (fin_parse(body, TLS12_FINISHED_LEN, &got, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  TRY(fin12_compute(conn, conn->is_server, hs->fin_recv));
  if (!ct_eq(hs->fin_recv, cur_data(&got), TLS12_FINISHED_LEN)) {
    return conn_fail(conn, MOAT_ERR_DECRYPT_ERROR,
                     "the peer's Finished does not match the handshake");
  }
  hs->proof_finished = true;
  conn_note_finished(conn, conn->is_server, hs->fin_recv, TLS12_FINISHED_LEN);
  return MOAT_OK;
}
