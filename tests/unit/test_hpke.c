/* HPKE (src/crypto/hpke.c): the RFC 9180 Appendix A base-mode vectors for
 * DHKEM(X25519, HKDF-SHA256) with AES-128-GCM and ChaCha20-Poly1305, on
 * both sides, and the refusals a recipient must make (wrong key,
 * tampered ciphertext, wrong aad or info, bad encapsulated keys). */
#include <stdio.h>
#include <string.h>

#include "../vectors/hpke_rfc9180.h"
#include "crypto/hpke.h"
#include "hexvec.h"
#include "t.h"

static hpke_suite suite_of(const hpke_kat *k) {
  hpke_suite s = {k->kem_id, k->kdf_id, k->aead_id};
  return s;
}

/* The aad the RFC's encryptions use: "Count-" and the sequence number. */
static size_t count_aad(uint64_t seq, uint8_t *out, size_t cap) {
  int n = snprintf((char *)out, cap, "Count-%llu", (unsigned long long)seq);
  return n > 0 ? (size_t)n : 0;
}

static void test_derive_key_pair(const hpke_kat *k) {
  uint8_t sk[HPKE_MAX_PRIVATE_KEY], pk[HPKE_MAX_PUBLIC_KEY];
  size_t sk_len = 0, pk_len = 0;
  vec ikm_e = V(k->ikm_e), ikm_r = V(k->ikm_r);
  vec sk_em = V(k->sk_em), pk_em = V(k->pk_em);
  vec sk_rm = V(k->sk_rm), pk_rm = V(k->pk_rm);

  CHECK_EQ_INT(hpke_derive_key_pair(k->kem_id, ikm_e.b, ikm_e.n, sk, &sk_len,
                                    pk, &pk_len),
               MOAT_OK);
  CHECK_EQ_INT(sk_len, sk_em.n);
  CHECK_MEM(sk, sk_em.b, sk_em.n);
  CHECK_EQ_INT(pk_len, pk_em.n);
  CHECK_MEM(pk, pk_em.b, pk_em.n);

  CHECK_EQ_INT(hpke_derive_key_pair(k->kem_id, ikm_r.b, ikm_r.n, sk, &sk_len,
                                    pk, &pk_len),
               MOAT_OK);
  CHECK_MEM(sk, sk_rm.b, sk_rm.n);
  CHECK_MEM(pk, pk_rm.b, pk_rm.n);

  CHECK_EQ_INT(hpke_public_key(k->kem_id, sk_rm.b, sk_rm.n, pk, &pk_len),
               MOAT_OK);
  CHECK_MEM(pk, pk_rm.b, pk_rm.n);
  /* Too little input keying material is refused. */
  CHECK_EQ_INT(
      hpke_derive_key_pair(k->kem_id, ikm_e.b, 16, sk, &sk_len, pk, &pk_len),
      MOAT_ERR_INVALID_ARGUMENT);
}

/* Sender and recipient in step from sequence number 0 to 256: at each
 * number the RFC lists, the sender's ciphertext must be the vector's and
 * the recipient must open the vector's; between them the recipient opens
 * what the sender made. */
static void test_vector(const hpke_kat *k) {
  char detail[256] = "";
  hpke_ctx *s = NULL, *r = NULL;
  uint8_t enc[HPKE_MAX_ENC];
  size_t enc_len = 0;
  vec info = V(k->info), pk_rm = V(k->pk_rm), sk_rm = V(k->sk_rm);
  vec sk_em = V(k->sk_em), want_enc = V(k->enc), pt = V(k->pt);

  printf("%s\n", k->name);
  CHECK_EQ_INT(hpke_setup_base_s(suite_of(k), pk_rm.b, pk_rm.n, info.b, info.n,
                                 sk_em.b, sk_em.n, enc, &enc_len, &s, detail,
                                 sizeof(detail)),
               MOAT_OK);
  CHECK_EQ_INT(enc_len, want_enc.n);
  CHECK_MEM(enc, want_enc.b, want_enc.n);
  CHECK_EQ_INT(hpke_setup_base_r(suite_of(k), enc, enc_len, sk_rm.b, sk_rm.n,
                                 info.b, info.n, &r, detail, sizeof(detail)),
               MOAT_OK);
  if (s == NULL || r == NULL) {
    fprintf(stderr, "setup failed: %s\n", detail);
    hpke_free(s);
    hpke_free(r);
    return;
  }
  size_t next = 0;
  int listed = 0;
  for (uint64_t seq = 0; seq <= 256; seq++) {
    uint8_t aad[32], ct[128], back[128];
    size_t aad_len = count_aad(seq, aad, sizeof(aad));
    CHECK_EQ_INT(hpke_seq(s), seq);
    CHECK_EQ_INT(hpke_seal(s, aad, aad_len, pt.b, pt.n, ct), MOAT_OK);
    const uint8_t *to_open = ct;
    if (next < 6 && k->encs[next].seq == seq) {
      vec want_ct = V(k->encs[next].ct), want_aad = V(k->encs[next].aad);
      CHECK_EQ_INT(want_aad.n, aad_len);
      CHECK_MEM(want_aad.b, aad, aad_len);
      CHECK_EQ_INT(want_ct.n, pt.n + HPKE_TAG_LEN);
      CHECK_MEM(ct, want_ct.b, want_ct.n);
      memcpy(back, want_ct.b, want_ct.n);
      to_open = back; /* open the vector's bytes, in place */
      next++;
      listed++;
    }
    CHECK_EQ_INT(hpke_open(r, aad, aad_len, to_open, pt.n + HPKE_TAG_LEN, back),
                 MOAT_OK);
    CHECK_MEM(back, pt.b, pt.n);
  }
  CHECK_EQ_INT(listed, 6);
  for (int i = 0; i < 3; i++) {
    vec ctx = V(k->exports[i].context), want = V(k->exports[i].value);
    uint8_t out_s[64], out_r[64];
    CHECK_EQ_INT(hpke_export(s, ctx.b, ctx.n, out_s, k->exports[i].len),
                 MOAT_OK);
    CHECK_EQ_INT(hpke_export(r, ctx.b, ctx.n, out_r, k->exports[i].len),
                 MOAT_OK);
    CHECK_MEM(out_s, want.b, want.n);
    CHECK_MEM(out_r, want.b, want.n);
  }
  hpke_free(s);
  hpke_free(r);
}

/* Open must fail, and leave the sequence number alone, for anything but
 * the right key, ciphertext, aad and info. */
static void test_refusals(void) {
  const hpke_kat *a = &hpke_kats[0], *b = &hpke_kats[1];
  char detail[256] = "";
  hpke_ctx *r = NULL, *s = NULL;
  vec info = V(a->info), enc = V(a->enc), sk_rm = V(a->sk_rm);
  vec ct = V(a->encs[0].ct), aad = V(a->encs[0].aad), pt = V(a->pt);
  vec other_sk = V(b->sk_rm);
  uint8_t buf[128];

  /* Another recipient key. */
  CHECK_EQ_INT(hpke_setup_base_r(suite_of(a), enc.b, enc.n, other_sk.b,
                                 other_sk.n, info.b, info.n, &r, detail,
                                 sizeof(detail)),
               MOAT_OK);
  CHECK_EQ_INT(hpke_open(r, aad.b, aad.n, ct.b, ct.n, buf),
               MOAT_ERR_DECRYPT_ERROR);
  CHECK_EQ_INT(hpke_seq(r), 0);
  hpke_free(r);
  r = NULL;

  /* Another info string. */
  CHECK_EQ_INT(hpke_setup_base_r(suite_of(a), enc.b, enc.n, sk_rm.b, sk_rm.n,
                                 info.b, info.n - 1, &r, detail,
                                 sizeof(detail)),
               MOAT_OK);
  CHECK_EQ_INT(hpke_open(r, aad.b, aad.n, ct.b, ct.n, buf),
               MOAT_ERR_DECRYPT_ERROR);
  hpke_free(r);
  r = NULL;

  /* Another suite over the same KEM output (ChaCha20 for AES-128-GCM). */
  CHECK_EQ_INT(hpke_setup_base_r(suite_of(b), enc.b, enc.n, sk_rm.b, sk_rm.n,
                                 info.b, info.n, &r, detail, sizeof(detail)),
               MOAT_OK);
  CHECK_EQ_INT(hpke_open(r, aad.b, aad.n, ct.b, ct.n, buf),
               MOAT_ERR_DECRYPT_ERROR);
  hpke_free(r);
  r = NULL;

  CHECK_EQ_INT(hpke_setup_base_r(suite_of(a), enc.b, enc.n, sk_rm.b, sk_rm.n,
                                 info.b, info.n, &r, detail, sizeof(detail)),
               MOAT_OK);
  /* Each byte of the ciphertext and of the tag, flipped. */
  int refused = 0;
  for (size_t i = 0; i < ct.n; i++) {
    uint8_t bad[128];
    memcpy(bad, ct.b, ct.n);
    bad[i] ^= 0x01;
    refused +=
        hpke_open(r, aad.b, aad.n, bad, ct.n, buf) == MOAT_ERR_DECRYPT_ERROR;
  }
  CHECK_EQ_INT(refused, (int)ct.n);
  /* Wrong aad, no aad, the tag cut off. */
  uint8_t bad_aad[16];
  memcpy(bad_aad, aad.b, aad.n);
  bad_aad[aad.n - 1] ^= 0x01;
  CHECK_EQ_INT(hpke_open(r, bad_aad, aad.n, ct.b, ct.n, buf),
               MOAT_ERR_DECRYPT_ERROR);
  CHECK_EQ_INT(hpke_open(r, NULL, 0, ct.b, ct.n, buf), MOAT_ERR_DECRYPT_ERROR);
  CHECK_EQ_INT(hpke_open(r, aad.b, aad.n, ct.b, ct.n - 1, buf),
               MOAT_ERR_DECRYPT_ERROR);
  CHECK_EQ_INT(hpke_open(r, aad.b, aad.n, ct.b, HPKE_TAG_LEN - 1, buf),
               MOAT_ERR_DECODE_ERROR);
  /* The failures moved nothing: the real ciphertext still opens at 0, and
   * then seq 0's ciphertext no longer does (the nonce moved on). */
  CHECK_EQ_INT(hpke_seq(r), 0);
  CHECK_EQ_INT(hpke_open(r, aad.b, aad.n, ct.b, ct.n, buf), MOAT_OK);
  CHECK_MEM(buf, pt.b, pt.n);
  CHECK_EQ_INT(hpke_seq(r), 1);
  CHECK_EQ_INT(hpke_open(r, aad.b, aad.n, ct.b, ct.n, buf),
               MOAT_ERR_DECRYPT_ERROR);
  /* A recipient context does not seal. */
  CHECK_EQ_INT(hpke_seal(r, aad.b, aad.n, pt.b, pt.n, buf), MOAT_ERR_BAD_STATE);
  hpke_free(r);
  r = NULL;

  /* Bad encapsulated keys and recipient keys. */
  uint8_t zeros[32] = {0}, out_enc[HPKE_MAX_ENC];
  size_t out_enc_len = 0;
  detail[0] = '\0';
  CHECK_EQ_INT(hpke_setup_base_r(suite_of(a), zeros, sizeof(zeros), sk_rm.b,
                                 sk_rm.n, info.b, info.n, &r, detail,
                                 sizeof(detail)),
               MOAT_ERR_ILLEGAL_PARAMETER);
  CHECK(r == NULL);
  CHECK(strstr(detail, "all-zero") != NULL);
  CHECK_EQ_INT(hpke_setup_base_r(suite_of(a), enc.b, enc.n - 1, sk_rm.b,
                                 sk_rm.n, info.b, info.n, &r, detail,
                                 sizeof(detail)),
               MOAT_ERR_ILLEGAL_PARAMETER);
  CHECK_EQ_INT(hpke_setup_base_s(suite_of(a), zeros, sizeof(zeros), info.b,
                                 info.n, NULL, 0, out_enc, &out_enc_len, &s,
                                 detail, sizeof(detail)),
               MOAT_ERR_ILLEGAL_PARAMETER);
  CHECK(s == NULL);
  CHECK(strstr(detail, "recipient's public key") != NULL);

  /* Suites moat does not implement. */
  hpke_suite p256 = {0x0010, 0x0001, 0x0001};
  hpke_suite export_only = {0x0020, 0x0001, 0xffff};
  hpke_suite sha384 = {0x0020, 0x0002, 0x0001};
  vec pk_rm = V(a->pk_rm);
  CHECK(!hpke_suite_supported(p256));
  CHECK(!hpke_suite_supported(export_only));
  CHECK(!hpke_suite_supported(sha384));
  CHECK(hpke_suite_supported(suite_of(a)));
  CHECK_EQ_INT(hpke_setup_base_s(export_only, pk_rm.b, pk_rm.n, info.b, info.n,
                                 NULL, 0, out_enc, &out_enc_len, &s, detail,
                                 sizeof(detail)),
               MOAT_ERR_UNSUPPORTED);
  CHECK(strstr(detail, "0xffff") != NULL);
  CHECK_EQ_INT(hpke_setup_base_r(p256, enc.b, enc.n, sk_rm.b, sk_rm.n, info.b,
                                 info.n, &r, detail, sizeof(detail)),
               MOAT_ERR_UNSUPPORTED);
  CHECK(s == NULL && r == NULL);
}

/* Fresh keys and a fresh ephemeral key, in each AEAD (AES-256-GCM has no
 * RFC vector for this KEM; the two sides must agree and refuse a
 * stranger). */
static void test_round_trip(void) {
  static const uint16_t aeads[] = {HPKE_AEAD_AES_128_GCM, HPKE_AEAD_AES_256_GCM,
                                   HPKE_AEAD_CHACHA20_POLY1305};
  for (size_t i = 0; i < 3; i++) {
    hpke_suite suite = {HPKE_KEM_X25519_SHA256, HPKE_KDF_HKDF_SHA256, aeads[i]};
    uint8_t sk[32], pk[32], sk2[32], pk2[32], enc[32], enc2[32];
    size_t sk_len, pk_len, enc_len, enc2_len;
    char detail[256];
    hpke_ctx *s = NULL, *r = NULL, *s2 = NULL;
    static const uint8_t info[] = "tls ech";
    static const uint8_t msg[] = "the inner ClientHello";
    uint8_t ct[64], back[64];

    CHECK_EQ_INT(hpke_generate_key_pair(suite.kem_id, sk, &sk_len, pk, &pk_len),
                 MOAT_OK);
    CHECK_EQ_INT(
        hpke_generate_key_pair(suite.kem_id, sk2, &sk_len, pk2, &pk_len),
        MOAT_OK);
    CHECK(memcmp(sk, sk2, 32) != 0);
    CHECK_EQ_INT(hpke_setup_base_s(suite, pk, pk_len, info, sizeof(info), NULL,
                                   0, enc, &enc_len, &s, detail,
                                   sizeof(detail)),
                 MOAT_OK);
    CHECK_EQ_INT(hpke_setup_base_s(suite, pk, pk_len, info, sizeof(info), NULL,
                                   0, enc2, &enc2_len, &s2, detail,
                                   sizeof(detail)),
                 MOAT_OK);
    CHECK(memcmp(enc, enc2, 32) != 0); /* a fresh ephemeral each time */
    CHECK_EQ_INT(hpke_setup_base_r(suite, enc, enc_len, sk, sk_len, info,
                                   sizeof(info), &r, detail, sizeof(detail)),
                 MOAT_OK);
    if (s == NULL || r == NULL || s2 == NULL) {
      hpke_free(s);
      hpke_free(s2);
      hpke_free(r);
      continue;
    }
    CHECK_EQ_INT(hpke_seal(s, NULL, 0, msg, sizeof(msg), ct), MOAT_OK);
    CHECK_EQ_INT(hpke_open(r, NULL, 0, ct, sizeof(msg) + HPKE_TAG_LEN, back),
                 MOAT_OK);
    CHECK_MEM(back, msg, sizeof(msg));
    /* The other sender's ciphertext is for another enc. */
    CHECK_EQ_INT(hpke_seal(s2, NULL, 0, msg, sizeof(msg), ct), MOAT_OK);
    CHECK_EQ_INT(hpke_open(r, NULL, 0, ct, sizeof(msg) + HPKE_TAG_LEN, back),
                 MOAT_ERR_DECRYPT_ERROR);
    CHECK_EQ_INT(hpke_open(s, NULL, 0, ct, sizeof(msg) + HPKE_TAG_LEN, back),
                 MOAT_ERR_BAD_STATE);
    uint8_t e1[48], e2[48];
    CHECK_EQ_INT(hpke_export(s, info, 3, e1, sizeof(e1)), MOAT_OK);
    CHECK_EQ_INT(hpke_export(r, info, 3, e2, sizeof(e2)), MOAT_OK);
    CHECK_MEM(e1, e2, sizeof(e1));
    CHECK_EQ_INT(hpke_export(r, info, 3, e2, 255 * 32 + 1),
                 MOAT_ERR_INVALID_ARGUMENT);
    hpke_free(s);
    hpke_free(s2);
    hpke_free(r);
  }
  hpke_free(NULL);
}

int main(void) {
  for (size_t i = 0; i < sizeof(hpke_kats) / sizeof(hpke_kats[0]); i++) {
    test_derive_key_pair(&hpke_kats[i]);
    test_vector(&hpke_kats[i]);
  }
  test_refusals();
  test_round_trip();
  return t_done("test_hpke");
}
