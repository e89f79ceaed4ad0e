/* The TLS 1.3 key schedule (RFC 8446 7.1, 7.3, 4.4.4) against the trace in
 * RFC 8448 3: every secret, traffic key and IV, both Finished values, the
 * X25519 step, and records of the trace opened with the derived keys
 * (which proves the per-record nonce of RFC 8446 5.3). */
#include <stdlib.h>

#include "../vectors/rfc8448_simple.h"
#include "base/mem.h"
#include "crypto/crypto.h"
#include "hexvec.h"
#include "t.h"
#include "tls/tls.h"

#define CHECK_HEX(buf, hex)                                                    \
  do {                                                                         \
    vec want_ = V(hex);                                                        \
    CHECK(want_.n > 0 && memcmp((buf), want_.b, want_.n) == 0);                \
  } while (0)

/* The transcript hash of the trace's messages, in order, up to `upto`
 * (exclusive). */
static const char *const k_msgs[] = {
    rfc8448_client_hello,         rfc8448_server_hello,
    rfc8448_encrypted_extensions, rfc8448_certificate,
    rfc8448_certificate_verify,   rfc8448_server_finished,
    rfc8448_client_finished};

static void transcript(size_t upto, uint8_t *out) {
  const hash_alg *h = hash_get(HASH_SHA256);
  hash_ctx *ctx = hash_new(h);
  CHECK(ctx != NULL);
  for (size_t i = 0; i < upto; i++) {
    vec m = V(k_msgs[i]);
    CHECK(hash_update(ctx, m.b, m.n));
  }
  CHECK(hash_final(ctx, out));
  hash_free(ctx);
}

static void test_x25519(void) {
  const kex_alg *x = kex_by_group(0x001d);
  CHECK(x != NULL);
  if (x == NULL) {
    return;
  }
  vec cpriv = V(rfc8448_client_priv), spub = V(rfc8448_server_pub);
  kex_key *key = NULL;
  CHECK(kex_key_from_private(x, cpriv.b, cpriv.n, NULL, &key));
  if (key == NULL) {
    return;
  }
  uint8_t share[KEX_MAX_SHARE];
  size_t share_len = 0;
  CHECK(kex_key_share(key, share, &share_len));
  CHECK_EQ_INT(share_len, 32);
  CHECK_HEX(share, rfc8448_client_pub);
  uint8_t secret[KEX_MAX_SECRET];
  size_t secret_len = 0;
  CHECK(kex_finish(key, spub.b, spub.n, secret, &secret_len));
  CHECK_EQ_INT(secret_len, 32);
  CHECK_HEX(secret, rfc8448_shared);
  kex_key_free(key);
  /* and from the server's side */
  vec spriv = V(rfc8448_server_priv), cpub = V(rfc8448_client_pub);
  CHECK(kex_key_from_private(x, spriv.b, spriv.n, NULL, &key));
  if (key != NULL) {
    CHECK(kex_key_share(key, share, &share_len));
    CHECK_HEX(share, rfc8448_server_pub);
    memset(secret, 0, sizeof(secret));
    CHECK(kex_finish(key, cpub.b, cpub.n, secret, &secret_len));
    CHECK_HEX(secret, rfc8448_shared);
    kex_key_free(key);
  }
}

/* Opens one protected record with a key and IV at sequence seq; returns
 * the inner plaintext length (content type included) or 0. */
static size_t open_record(const char *record_hex, const uint8_t *key,
                          const uint8_t *iv, uint64_t seq, uint8_t *out) {
  vec rec = V(record_hex);
  const aead_alg *alg = aead_get(AEAD_AES_128_GCM);
  aead_ctx *a = aead_new(alg, key, false);
  CHECK(a != NULL);
  if (a == NULL || rec.n < TLS_RECORD_HEADER + alg->tag_len) {
    aead_free(a);
    return 0;
  }
  /* RFC 8446 5.3: nonce = iv XOR big-endian seq, left-padded. */
  uint8_t nonce[AEAD_NONCE_LEN];
  memcpy(nonce, iv, AEAD_NONCE_LEN);
  for (int i = 0; i < 8; i++) {
    nonce[AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(seq >> (8 * i));
  }
  size_t body = rec.n - TLS_RECORD_HEADER;
  bool ok = aead_open(a, nonce, rec.b, TLS_RECORD_HEADER,
                      rec.b + TLS_RECORD_HEADER, body, out);
  aead_free(a);
  return ok ? body - alg->tag_len : 0;
}

static void test_schedule(void) {
  const hash_alg *h = hash_get(HASH_SHA256);
  key_schedule ks;
  memset(&ks, 0, sizeof(ks));
  /* RFC 8448 3: {server} extract secret "early" */
  CHECK(ks_init(&ks, h, NULL, 0));
  CHECK_HEX(ks.secret, rfc8448_early_secret);
  /* {server} derive secret for handshake "tls13 derived" */
  uint8_t empty[HASH_MAX_LEN], derived[HASH_MAX_LEN];
  CHECK(hash_oneshot(h, NULL, 0, empty));
  CHECK(derive_secret(h, ks.hmac, ks.secret, "derived", empty, derived));
  CHECK_HEX(derived, rfc8448_derived_for_handshake);

  uint8_t th_sh[HASH_MAX_LEN], th_sf[HASH_MAX_LEN], th_cf[HASH_MAX_LEN],
      th_cv[HASH_MAX_LEN];
  transcript(2, th_sh); /* ClientHello..ServerHello */
  transcript(5, th_cv); /* ..CertificateVerify */
  transcript(6, th_sf); /* ..server Finished */
  transcript(7, th_cf); /* ..client Finished */

  vec shared = V(rfc8448_shared);
  CHECK(ks_handshake(&ks, shared.b, shared.n, th_sh));
  CHECK_HEX(ks.secret, rfc8448_handshake_secret);
  CHECK_HEX(ks.c_hs, rfc8448_c_hs_traffic);
  CHECK_HEX(ks.s_hs, rfc8448_s_hs_traffic);

  uint8_t key[AEAD_MAX_KEY], iv[AEAD_NONCE_LEN];
  CHECK(traffic_key_iv(ks.hmac, h, ks.s_hs, 16, key, iv, ks.s_fin));
  CHECK_HEX(key, rfc8448_s_hs_key);
  CHECK_HEX(iv, rfc8448_s_hs_iv);
  uint8_t c_hs_key[AEAD_MAX_KEY], c_hs_iv[AEAD_NONCE_LEN];
  CHECK(traffic_key_iv(ks.hmac, h, ks.c_hs, 16, c_hs_key, c_hs_iv, ks.c_fin));
  CHECK_HEX(c_hs_key, rfc8448_c_hs_key);
  CHECK_HEX(c_hs_iv, rfc8448_c_hs_iv);

  /* RFC 8446 4.4.4: the server's Finished covers ..CertificateVerify, the
   * client's ..server Finished. */
  uint8_t fin[HASH_MAX_LEN];
  CHECK(ks_finished(&ks, ks.s_hs, th_cv, fin));
  vec sf = V(rfc8448_server_finished);
  CHECK(memcmp(fin, sf.b + 4, 32) == 0);
  CHECK(ks_finished(&ks, ks.c_hs, th_sf, fin));
  vec cf = V(rfc8448_client_finished);
  CHECK(memcmp(fin, cf.b + 4, 32) == 0);
  /* The wrong base key must not give the same value. */
  CHECK(ks_finished(&ks, ks.s_hs, th_sf, fin));
  CHECK(memcmp(fin, cf.b + 4, 32) != 0);
  /* The same values from the Finished keys traffic_key_iv made alongside
   * the handshake traffic keys. */
  memset(fin, 0, sizeof(fin));
  CHECK(ks_verify_data(&ks, ks.s_fin, th_cv, fin));
  CHECK(memcmp(fin, sf.b + 4, 32) == 0);
  memset(fin, 0, sizeof(fin));
  CHECK(ks_verify_data(&ks, ks.c_fin, th_sf, fin));
  CHECK(memcmp(fin, cf.b + 4, 32) == 0);
  CHECK(ks_verify_data(&ks, ks.s_fin, th_sf, fin));
  CHECK(memcmp(fin, cf.b + 4, 32) != 0);

  CHECK(ks_master(&ks, th_sf));
  CHECK_HEX(ks.secret, rfc8448_master_secret);
  CHECK_HEX(ks.c_ap, rfc8448_c_ap_traffic);
  CHECK_HEX(ks.s_ap, rfc8448_s_ap_traffic);
  CHECK_HEX(ks.exporter, rfc8448_exporter);
  uint8_t c_ap_key[AEAD_MAX_KEY], c_ap_iv[AEAD_NONCE_LEN];
  uint8_t s_ap_key[AEAD_MAX_KEY], s_ap_iv[AEAD_NONCE_LEN];
  CHECK(traffic_key_iv(ks.hmac, h, ks.c_ap, 16, c_ap_key, c_ap_iv, NULL));
  CHECK_HEX(c_ap_key, rfc8448_c_ap_key);
  CHECK_HEX(c_ap_iv, rfc8448_c_ap_iv);
  CHECK(traffic_key_iv(ks.hmac, h, ks.s_ap, 16, s_ap_key, s_ap_iv, NULL));
  CHECK_HEX(s_ap_key, rfc8448_s_ap_key);
  CHECK_HEX(s_ap_iv, rfc8448_s_ap_iv);

  CHECK(ks_resumption(&ks, th_cf));
  CHECK_HEX(ks.resumption, rfc8448_resumption);

  /* RFC 8448 4 resumes this session: the ticket's PSK (nonce 00 00, RFC
   * 8446 4.6.1) and the Early Secret made from it, which ks_init takes
   * from the kept zero-salt HMAC states. */
  uint8_t psk[32];
  static const uint8_t nonce[2] = {0, 0};
  CHECK(hkdf_expand_label(ks.hmac, ks.resumption, 32, "resumption", nonce, 2,
                          psk, 32));
  CHECK_HEX(psk, "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1"
                 "c4f3");
  key_schedule rks;
  memset(&rks, 0, sizeof(rks));
  CHECK(ks_init(&rks, h, psk, sizeof(psk)));
  CHECK_HEX(rks.secret, "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb"
                        "797cb7d8332c");
  /* the same again on the same context (its keyed states now hold the
   * "derived" step's key) */
  CHECK(ks_init(&rks, h, psk, sizeof(psk)));
  CHECK_HEX(rks.secret, "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb"
                        "797cb7d8332c");
  ks_clear(&rks);

  /* Records of the trace opened with the derived keys. */
  uint8_t plain[128];
  size_t n =
      open_record(rfc8448_client_finished_record, c_hs_key, c_hs_iv, 0, plain);
  CHECK_EQ_INT(n, 37);
  CHECK(n == 37 && memcmp(plain, cf.b, 36) == 0 && plain[36] == CT_HANDSHAKE);
  n = open_record(rfc8448_client_app_record, c_ap_key, c_ap_iv, 0, plain);
  CHECK_EQ_INT(n, 51);
  bool counting = n == 51 && plain[50] == CT_APPLICATION_DATA;
  for (size_t i = 0; counting && i < 50; i++) {
    counting = plain[i] == i;
  }
  CHECK(counting);
  /* sequence 1: the nonce's last byte differs from the IV's */
  n = open_record(rfc8448_server_app_record, s_ap_key, s_ap_iv, 1, plain);
  CHECK_EQ_INT(n, 51);
  counting = n == 51 && plain[50] == CT_APPLICATION_DATA;
  for (size_t i = 0; counting && i < 50; i++) {
    counting = plain[i] == i;
  }
  CHECK(counting);
  /* the same record at sequence 0 must not open */
  CHECK_EQ_INT(
      open_record(rfc8448_server_app_record, s_ap_key, s_ap_iv, 0, plain), 0);
  ks_clear(&ks);
  moat_wipe(key, sizeof(key));
}

/* The engine's own record layer: rec_set_key with the trace's secret, then
 * rec_read_one on the trace's client Finished record. */
static void test_record_layer(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_SERVER);
  moat_conn *conn = moat_conn_new(ctx);
  const hash_alg *h = hash_get(HASH_SHA256);
  hmac_ctx *hmac = hmac_new(h);
  vec secret = V(rfc8448_c_hs_traffic);
  const tls_suite *suite = suite_by_code(0x1301);
  CHECK(suite != NULL && hmac != NULL);
  conn->hs = hs_new();
  CHECK(rec_set_key(conn, &conn->rd, suite, h, hmac, secret.b, false, NULL) ==
        MOAT_OK);
  vec rec = V(rfc8448_client_finished_record);
  size_t used;
  CHECK(moat_conn_feed(conn, rec.b, rec.n, &used) == MOAT_OK && used == rec.n);
  bool progress = false;
  CHECK(rec_read_one(conn, &progress) == MOAT_OK && progress);
  vec cf = V(rfc8448_client_finished);
  CHECK_EQ_INT(conn->hs->msg_len, cf.n);
  CHECK(conn->hs->msg_len == cf.n && memcmp(conn->hs->msg, cf.b, cf.n) == 0);
  CHECK_EQ_INT(conn->rd.seq, 1);
  /* Replaying the record fails: the sequence number moved on. */
  CHECK(moat_conn_feed(conn, rec.b, rec.n, &used) == MOAT_OK);
  CHECK(rec_read_one(conn, &progress) == MOAT_ERR_BAD_RECORD_MAC);
  hmac_free(hmac);
  moat_conn_free(conn);
  moat_context_free(ctx);
}

/* HKDF-Expand-Label's encoding (RFC 8446 7.1) on its own: "key" from the
 * server handshake secret with an explicit empty context. */
static void test_expand_label(void) {
  const hash_alg *h = hash_get(HASH_SHA256);
  hmac_ctx *hmac = hmac_new(h);
  vec s = V(rfc8448_s_hs_traffic);
  uint8_t out[16];
  CHECK(hkdf_expand_label(hmac, s.b, s.n, "key", NULL, 0, out, 16));
  CHECK_HEX(out, rfc8448_s_hs_key);
  CHECK(hkdf_expand_label(hmac, s.b, s.n, "kez", NULL, 0, out, 16));
  vec k = V(rfc8448_s_hs_key);
  CHECK(memcmp(out, k.b, 16) != 0);
  hmac_free(hmac);
}

int main(void) {
  test_x25519();
  test_expand_label();
  test_schedule();
  test_record_layer();
  return t_done("keysched");
}
