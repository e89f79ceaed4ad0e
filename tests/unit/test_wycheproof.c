/* Wycheproof vectors driven through the crypto adapter.
 *
 * Files are read from tests/vectors/wycheproof/, where the ones used here
 * are vendored with Wycheproof's LICENSE.  Every "valid" vector must pass
 * and every "invalid" one must be rejected; "acceptable" ones follow a
 * per-file policy:
 *   x25519: a ZeroSharedSecret case must be rejected (RFC 8446 7.4.2),
 *     every other acceptable case (twist points, non-canonical u, RFC 7748
 *     5 says to reduce them) must give the listed secret;
 *   ecdh_*_ecpoint: compressed points must be rejected (RFC 8446 4.2.8.2
 *     allows only the uncompressed form);
 *   rsa_signature (MissingNull, a DigestInfo without the NULL
 *     parameters): must be rejected (RFC 8017 9.2 encodes the NULL).
 * Groups with parameters moat does not offer (GCM with IVs other than 12
 * bytes or tags other than 16, 192-bit AES keys, SHA-224 in PSS) are
 * skipped and counted. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "json.h"
#include "t.h"

#define WP_DIR MOAT_SOURCE_DIR "/tests/vectors/wycheproof/"

typedef struct tally {
  const char *file;
  int valid_ok, valid_bad;
  int invalid_ok, invalid_bad;
  int acc_ok, acc_bad;
  int skipped;
} tally;

/* Hex string to a fresh buffer (at least one byte, so never NULL on
 * success). */
static uint8_t *unhex(const char *s, size_t *out_len) {
  size_t n = strlen(s) / 2;
  uint8_t *out = malloc(n + 1);
  if (out == NULL) {
    abort();
  }
  for (size_t i = 0; i < n; i++) {
    unsigned v = 0;
    for (int j = 0; j < 2; j++) {
      char c = s[2 * i + j];
      v <<= 4;
      v |= c >= '0' && c <= '9'   ? (unsigned)(c - '0')
           : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
           : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                  : 0;
    }
    out[i] = (uint8_t)v;
  }
  *out_len = n;
  return out;
}

/* The expectation for an "acceptable" vector: 1 must pass, 0 must fail. */
typedef int (*acceptable_fn)(const jval *test);

static void judge(tally *t, const jval *test, bool ok, acceptable_fn acc) {
  const char *result = j_str(test, "result");
  long id = j_int(test, "tcId");
  if (strcmp(result, "valid") == 0) {
    if (ok) {
      t->valid_ok++;
    } else {
      t->valid_bad++;
      fprintf(stderr, "%s tcId %ld: valid vector failed (%s)\n", t->file, id,
              j_str(test, "comment"));
    }
  } else if (strcmp(result, "invalid") == 0) {
    if (!ok) {
      t->invalid_ok++;
    } else {
      t->invalid_bad++;
      fprintf(stderr, "%s tcId %ld: invalid vector accepted (%s)\n", t->file,
              id, j_str(test, "comment"));
    }
  } else {
    int want = acc != NULL ? acc(test) : 0;
    if (ok == (want == 1)) {
      t->acc_ok++;
    } else {
      t->acc_bad++;
      fprintf(stderr, "%s tcId %ld: acceptable vector %s, policy says %s\n",
              t->file, id, ok ? "passed" : "failed", want ? "pass" : "fail");
    }
  }
}

static bool load(const char *name, jval *doc) {
  char path[512];
  (void)snprintf(path, sizeof(path), "%s%s", WP_DIR, name);
  return j_load_file(path, doc);
}

static void report(const tally *t) {
  int total = t->valid_ok + t->valid_bad + t->invalid_ok + t->invalid_bad +
              t->acc_ok + t->acc_bad;
  printf("  %-40s valid %3d/%-3d invalid %3d/%-3d acceptable %3d/%-3d "
         "skipped %d\n",
         t->file, t->valid_ok, t->valid_ok + t->valid_bad, t->invalid_ok,
         t->invalid_ok + t->invalid_bad, t->acc_ok, t->acc_ok + t->acc_bad,
         t->skipped);
  CHECK(total > 0);
  CHECK_EQ_INT(t->valid_bad, 0);
  CHECK_EQ_INT(t->invalid_bad, 0);
  CHECK_EQ_INT(t->acc_bad, 0);
}

#define FOR_EACH_TEST(doc, g, tc)                                              \
  const jval *groups_ = j_get(&(doc), "testGroups");                           \
  for (size_t gi_ = 0; groups_ != NULL && gi_ < groups_->n; gi_++)             \
    for (const jval *g = &groups_->items[gi_], *tests_ = j_get(g, "tests");    \
         tests_ != NULL; tests_ = NULL)                                        \
      for (size_t ti_ = 0; ti_ < tests_->n; ti_++)                             \
        for (const jval *tc = &tests_->items[ti_]; tc != NULL; tc = NULL)

/* ---- AEADs ------------------------------------------------------------- */

static bool aead_case(const aead_alg *alg, const jval *tc) {
  size_t kl, nl, al, ml, cl, tl;
  uint8_t *key = unhex(j_str(tc, "key"), &kl);
  uint8_t *iv = unhex(j_str(tc, "iv"), &nl);
  uint8_t *aad = unhex(j_str(tc, "aad"), &al);
  uint8_t *msg = unhex(j_str(tc, "msg"), &ml);
  uint8_t *ct = unhex(j_str(tc, "ct"), &cl);
  uint8_t *tag = unhex(j_str(tc, "tag"), &tl);
  bool ok = false;
  uint8_t *sealed = malloc(cl + tl + 1), *opened = malloc(cl + tl + 1);
  aead_ctx *enc = NULL, *dec = NULL;
  if (kl != alg->key_len || nl != AEAD_NONCE_LEN || tl != AEAD_TAG_LEN ||
      ml != cl || sealed == NULL || opened == NULL) {
    goto done;
  }
  enc = aead_new(alg, key, true);
  dec = aead_new(alg, key, false);
  if (enc == NULL || dec == NULL) {
    goto done;
  }
  memcpy(sealed, ct, cl);
  memcpy(sealed + cl, tag, tl);
  /* Opening the listed ciphertext must give the message ... */
  if (!aead_open(dec, iv, aad, al, sealed, cl + tl, opened) ||
      memcmp(opened, msg, ml) != 0) {
    goto done;
  }
  /* ... and sealing the message must give the listed ciphertext. */
  if (!aead_seal(enc, iv, aad, al, msg, ml, opened) ||
      memcmp(opened, sealed, cl + tl) != 0) {
    goto done;
  }
  ok = true;

done:
  aead_free(enc);
  aead_free(dec);
  free(key);
  free(iv);
  free(aad);
  free(msg);
  free(ct);
  free(tag);
  free(sealed);
  free(opened);
  return ok;
}

static void run_aead(const char *file, bool gcm) {
  tally t = {file, 0, 0, 0, 0, 0, 0, 0};
  jval doc;
  if (!load(file, &doc)) {
    CHECK(false);
    return;
  }
  FOR_EACH_TEST(doc, g, tc) {
    long ks = j_int(g, "keySize"), ivs = j_int(g, "ivSize"),
         tags = j_int(g, "tagSize");
    const aead_alg *alg = !gcm        ? aead_get(AEAD_CHACHA20_POLY1305)
                          : ks == 128 ? aead_get(AEAD_AES_128_GCM)
                          : ks == 256 ? aead_get(AEAD_AES_256_GCM)
                                      : NULL;
    if (alg == NULL || ivs != 96 || tags != 128 ||
        (long)alg->key_len * 8 != ks) {
      t.skipped++;
      continue;
    }
    judge(&t, tc, aead_case(alg, tc), NULL);
  }
  report(&t);
  j_free(&doc);
}

/* ---- HKDF ------------------------------------------------------------------
 */

static void run_hkdf(const char *file, hash_id hid) {
  tally t = {file, 0, 0, 0, 0, 0, 0, 0};
  jval doc;
  if (!load(file, &doc)) {
    CHECK(false);
    return;
  }
  hmac_ctx *h = hmac_new(hash_get(hid));
  CHECK(h != NULL);
  FOR_EACH_TEST(doc, g, tc) {
    size_t il, sl, nl, ol;
    uint8_t *ikm = unhex(j_str(tc, "ikm"), &il);
    uint8_t *salt = unhex(j_str(tc, "salt"), &sl);
    uint8_t *info = unhex(j_str(tc, "info"), &nl);
    uint8_t *okm = unhex(j_str(tc, "okm"), &ol);
    long size = j_int(tc, "size");
    uint8_t prk[HASH_MAX_LEN];
    uint8_t *out = malloc(size > 0 ? (size_t)size : 1);
    bool ok =
        h != NULL && out != NULL && size >= 0 &&
        hkdf_extract(h, salt, sl, ikm, il, prk) &&
        hkdf_expand(h, prk, hash_get(hid)->len, info, nl, out, (size_t)size) &&
        (size_t)size == ol && memcmp(out, okm, ol) == 0;
    judge(&t, tc, ok, NULL);
    free(ikm);
    free(salt);
    free(info);
    free(okm);
    free(out);
  }
  hmac_free(h);
  report(&t);
  j_free(&doc);
}

/* ---- key exchange ---------------------------------------------------------
 */

static int x25519_acceptable(const jval *tc) {
  return j_has_flag(tc, "ZeroSharedSecret") ? 0 : 1;
}

static int ecdh_acceptable(const jval *tc) {
  return j_has_flag(tc, "CompressedPublic") ? 0 : 1;
}

/* Each vector twice: with a fresh peer key object, and through a pool
 * whose kept object carries over from vector to vector (valid, invalid
 * and all); both routes must agree on every one. */
static bool kex_vector(const kex_alg *alg, kex_pool *pool, const uint8_t *pp,
                       size_t pl, const uint8_t *pub, size_t ql,
                       const uint8_t *shared, size_t sl) {
  uint8_t out[KEX_MAX_SECRET];
  size_t outl = 0;
  kex_key *k = NULL;
  bool ok = kex_key_from_private(alg, pp, pl, pool, &k) &&
            kex_finish(k, pub, ql, out, &outl) && outl == sl &&
            memcmp(out, shared, sl) == 0;
  kex_key_free(k);
  return ok;
}

static void run_kex(const char *file, const kex_alg *alg, acceptable_fn acc) {
  tally t = {file, 0, 0, 0, 0, 0, 0, 0};
  jval doc;
  CHECK(alg != NULL);
  if (alg == NULL || !load(file, &doc)) {
    CHECK(false);
    return;
  }
  kex_pool *pool = kex_pool_new();
  CHECK(pool != NULL);
  FOR_EACH_TEST(doc, g, tc) {
    size_t pl, ql, sl;
    uint8_t *priv = unhex(j_str(tc, "private"), &pl);
    uint8_t *pub = unhex(j_str(tc, "public"), &ql);
    uint8_t *shared = unhex(j_str(tc, "shared"), &sl);
    /* Wycheproof writes the NIST private scalars as signed DER-style
     * integers: a leading zero byte may appear. */
    const uint8_t *pp = priv;
    while (pl > alg->secret_len && pp[0] == 0) {
      pp++;
      pl--;
    }
    bool ok = kex_vector(alg, NULL, pp, pl, pub, ql, shared, sl);
    bool pooled = kex_vector(alg, pool, pp, pl, pub, ql, shared, sl);
    CHECK(ok == pooled);
    judge(&t, tc, ok, acc);
    free(priv);
    free(pub);
    free(shared);
  }
  kex_pool_free(pool);
  report(&t);
  j_free(&doc);
}

/* ---- signatures
 * -------------------------------------------------------------- */

static hash_id hash_by_name(const char *name) {
  if (strcmp(name, "SHA-1") == 0) {
    return HASH_SHA1;
  }
  if (strcmp(name, "SHA-256") == 0) {
    return HASH_SHA256;
  }
  if (strcmp(name, "SHA-384") == 0) {
    return HASH_SHA384;
  }
  if (strcmp(name, "SHA-512") == 0) {
    return HASH_SHA512;
  }
  return HASH_NONE;
}

static int rsa_acceptable(const jval *tc) {
  (void)tc;
  return 0;
}

/* pss: verify through pubkey_verify_pss with the group's parameters; when
 * scheme is also given, pubkey_verify must agree. */
static void run_sig(const char *file, const sig_scheme *scheme, bool pss,
                    acceptable_fn acc) {
  tally t = {file, 0, 0, 0, 0, 0, 0, 0};
  jval doc;
  if (!load(file, &doc)) {
    CHECK(false);
    return;
  }
  const jval *key_group = NULL;
  pubkey *key = NULL;
  FOR_EACH_TEST(doc, g, tc) {
    hash_id h = HASH_NONE, mgf = HASH_NONE;
    long slen = 0;
    if (pss) {
      h = hash_by_name(j_str(g, "sha"));
      mgf = hash_by_name(j_str(g, "mgfSha"));
      slen = j_int(g, "sLen");
      if (h == HASH_NONE || mgf == HASH_NONE ||
          strcmp(j_str(g, "mgf"), "MGF1") != 0 || slen < 0) {
        t.skipped++;
        continue;
      }
    }
    /* One key per group, as a TLS stack keeps one per certificate: every
     * case of the group, valid and invalid in file order, runs through the
     * key's kept verifying context. */
    if (g != key_group) {
      pubkey_free(key);
      key = NULL;
      key_group = g;
      size_t kl;
      uint8_t *der = unhex(j_str(g, "publicKeyDer"), &kl);
      char detail[256] = "";
      if (pubkey_from_spki(der, kl, &key, detail, sizeof(detail)) != MOAT_OK) {
        fprintf(stderr, "%s tcId %ld: key refused: %s\n", file,
                j_int(tc, "tcId"), detail);
        key = NULL;
      }
      free(der);
    }
    size_t ml, sl;
    uint8_t *msg = unhex(j_str(tc, "msg"), &ml);
    uint8_t *sig = unhex(j_str(tc, "sig"), &sl);
    bool ok = key != NULL;
    if (ok && pss) {
      ok = pubkey_verify_pss(key, h, mgf, (size_t)slen, msg, ml, sig, sl);
      if (scheme != NULL) {
        bool ok2 = pubkey_verify(key, scheme, msg, ml, sig, sl);
        CHECK(ok == ok2);
      }
    } else if (ok) {
      ok = pubkey_verify(key, scheme, msg, ml, sig, sl);
    }
    judge(&t, tc, ok, acc);
    free(msg);
    free(sig);
  }
  pubkey_free(key);
  report(&t);
  j_free(&doc);
}

int main(void) {
  if (access(WP_DIR "aes_gcm_test.json", R_OK) != 0) {
    fprintf(stderr,
            "test_wycheproof: the Wycheproof vectors are missing: expected "
            "them in %s\n",
            WP_DIR);
    CHECK(false);
    return t_done("test_wycheproof");
  }
  printf("wycheproof (passed/total per expected result):\n");
  run_aead("aes_gcm_test.json", true);
  run_aead("chacha20_poly1305_test.json", false);
  run_hkdf("hkdf_sha256_test.json", HASH_SHA256);
  run_hkdf("hkdf_sha384_test.json", HASH_SHA384);
  run_kex("x25519_test.json", kex_by_group(0x001d), x25519_acceptable);
  run_kex("ecdh_secp256r1_ecpoint_test.json", kex_by_group(0x0017),
          ecdh_acceptable);
  run_kex("ecdh_secp384r1_ecpoint_test.json", kex_by_group(0x0018),
          ecdh_acceptable);
  run_sig("ecdsa_secp256r1_sha256_test.json", sig_scheme_by_code(0x0403), false,
          NULL);
  run_sig("ecdsa_secp384r1_sha384_test.json", sig_scheme_by_code(0x0503), false,
          NULL);
  run_sig("rsa_signature_2048_sha256_test.json", sig_scheme_by_code(0x0401),
          false, rsa_acceptable);
  run_sig("rsa_pss_2048_sha256_mgf1_32_test.json", sig_scheme_by_code(0x0804),
          true, NULL);
  run_sig("rsa_pss_misc_params_test.json", NULL, true, NULL);
  run_sig("ed25519_test.json", sig_scheme_by_code(0x0807), false, NULL);
  return t_done("test_wycheproof");
}
