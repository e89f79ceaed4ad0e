/* Unit tests of the libcrypto adapter (src/crypto/).
 *
 * Known answers come from the RFCs and FIPS 180 examples; keys for the
 * signature and key-loading tests are made at test time with the openssl
 * command into a temporary directory, and some signatures are made by
 * that command too, so verification is checked against an independent
 * signer. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/mlkem.h"
#include "t.h"

/* ---- helpers ------------------------------------------------------------ */

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  return t_unhex(hex, out, cap);
}

static char g_dir[64];

/* Run an openssl command line in the temp directory; true on success. */
__attribute__((format(printf, 1, 2))) static bool sh(const char *fmt, ...) {
  char cmd[1024];
  char inner[768];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(inner, sizeof(inner), fmt, ap);
  va_end(ap);
  (void)snprintf(cmd, sizeof(cmd), "cd %s && ( %s ) >/dev/null 2>&1", g_dir,
                 inner);
  return system(cmd) == 0;
}

/* Read a file of the temp directory into a heap buffer. */
static uint8_t *slurp(const char *name, size_t *out_len) {
  char path[256];
  (void)snprintf(path, sizeof(path), "%s/%s", g_dir, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    return NULL;
  }
  uint8_t *buf = malloc(1 << 16);
  size_t n = buf != NULL ? fread(buf, 1, 1 << 16, f) : 0;
  fclose(f);
  *out_len = n;
  return buf;
}

/* ---- hashes ---------------------------------------------------------------
 */

static void test_hash(void) {
  uint8_t out[HASH_MAX_LEN], exp[HASH_MAX_LEN];
  const hash_alg *h256 = hash_get(HASH_SHA256);
  const hash_alg *h384 = hash_get(HASH_SHA384);
  const hash_alg *h512 = hash_get(HASH_SHA512);
  CHECK(h256 != NULL && h384 != NULL && h512 != NULL);
  CHECK(hash_get(HASH_NONE) == NULL);
  CHECK(h256->len == 32 && h256->block_len == 64);
  CHECK(h384->len == 48 && h384->block_len == 128);

  /* FIPS 180-2 B.1, D.1, C.1: "abc". */
  CHECK(hash_oneshot(h256, (const uint8_t *)"abc", 3, out));
  unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", exp,
        sizeof(exp));
  CHECK_MEM(out, exp, 32);
  CHECK(hash_oneshot(h384, (const uint8_t *)"abc", 3, out));
  unhex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
        "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        exp, sizeof(exp));
  CHECK_MEM(out, exp, 48);
  CHECK(hash_oneshot(h512, (const uint8_t *)"abc", 3, out));
  unhex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        exp, sizeof(exp));
  CHECK_MEM(out, exp, 64);

  /* FIPS 180-2 B.2 in pieces, with a peek in the middle that must not
   * disturb the running hash, and a copy that continues it. */
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  uint8_t peek1[32], peek2[32], abc[32];
  hash_ctx *c = hash_new(h256), *c2 = hash_new(h256);
  CHECK(c != NULL && c2 != NULL);
  CHECK(hash_ctx_alg(c) == h256);
  CHECK(hash_update(c, (const uint8_t *)m, 3));
  CHECK(hash_peek(c, peek1));
  unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", abc,
        sizeof(abc));
  CHECK_MEM(peek1, abc, 32);
  CHECK(hash_peek(c, peek2)); /* twice: same answer */
  CHECK_MEM(peek2, abc, 32);
  CHECK(hash_copy(c2, c));
  CHECK(hash_update(c, (const uint8_t *)m + 3, strlen(m) - 3));
  CHECK(hash_final(c, out));
  unhex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", exp,
        sizeof(exp));
  CHECK_MEM(out, exp, 32);
  CHECK(hash_update(c2, (const uint8_t *)m + 3, strlen(m) - 3));
  CHECK(hash_final(c2, out));
  CHECK_MEM(out, exp, 32);
  /* Reuse after init. */
  CHECK(hash_init(c) && hash_update(c, (const uint8_t *)"abc", 3) &&
        hash_final(c, out));
  CHECK_MEM(out, abc, 32);
  hash_ctx *c384 = hash_new(h384);
  CHECK(!hash_copy(c384, c)); /* different algorithms */
  hash_free(c384);
  hash_free(c);
  hash_free(c2);
  hash_free(NULL);

  /* hash_final_with against update + final: every hash, prefixes that end
   * on a block boundary (the fused case) and inside one, and every data
   * length around the one-block limits (55/56, 111/112). */
  static const hash_id ids[] = {HASH_SHA1, HASH_SHA256, HASH_SHA384,
                                HASH_SHA512};
  static const size_t prefixes[] = {0, 3, 64, 100, 128, 256};
  uint8_t msg[400];
  for (size_t i = 0; i < sizeof(msg); i++) {
    msg[i] = (uint8_t)(i * 131 + 7);
  }
  for (size_t a = 0; a < sizeof(ids) / sizeof(ids[0]); a++) {
    const hash_alg *h = hash_get(ids[a]);
    hash_ctx *x = hash_new(h), *y = hash_new(h);
    CHECK(x != NULL && y != NULL);
    for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
      for (size_t n = 0; n <= 130; n++) {
        memset(out, 0, sizeof(out));
        memset(exp, 1, sizeof(exp));
        CHECK(hash_init(x) && hash_update(x, msg, prefixes[p]) &&
              hash_final_with(x, msg + prefixes[p], n, out));
        CHECK(hash_init(y) && hash_update(y, msg, prefixes[p]) &&
              hash_update(y, msg + prefixes[p], n) && hash_final(y, exp));
        CHECK_MEM(out, exp, h->len);
      }
    }
    hash_free(x);
    hash_free(y);
  }
  /* and one known answer through the fused path: SHA-256("abc") */
  hash_ctx *f = hash_new(h256);
  CHECK(f != NULL && hash_final_with(f, (const uint8_t *)"abc", 3, out));
  CHECK_MEM(out, abc, 32);
  hash_free(f);
}

/* ---- HMAC and HKDF ----------------------------------------------------- */

static void test_hmac(void) {
  const hash_alg *h256 = hash_get(HASH_SHA256);
  const hash_alg *h384 = hash_get(HASH_SHA384);
  uint8_t key[200], out[64], exp[64];
  hmac_ctx *h = hmac_new(h256);
  CHECK(h != NULL);

  /* RFC 4231 4.2 test case 1. */
  memset(key, 0x0b, 20);
  CHECK(hmac_oneshot(h, key, 20, (const uint8_t *)"Hi There", 8, out));
  unhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", exp,
        sizeof(exp));
  CHECK_MEM(out, exp, 32);
  /* hmac_reset: the same key again, without re-keying. */
  CHECK(hmac_reset(h) && hmac_update(h, (const uint8_t *)"Hi ", 3) &&
        hmac_update(h, (const uint8_t *)"There", 5) && hmac_final(h, out));
  CHECK_MEM(out, exp, 32);
  /* After final, more input needs a reset first. */
  CHECK(!hmac_update(h, (const uint8_t *)"x", 1));
  CHECK(!hmac_final(h, out));
  hmac_ctx *fresh = hmac_new(h256);
  CHECK(fresh != NULL && !hmac_update(fresh, key, 1)); /* never keyed */
  hmac_free(fresh);

  /* RFC 4231 4.3 test case 2. */
  const char *d2 = "what do ya want for nothing?";
  CHECK(hmac_oneshot(h, (const uint8_t *)"Jefe", 4, (const uint8_t *)d2,
                     strlen(d2), out));
  unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", exp,
        sizeof(exp));
  CHECK_MEM(out, exp, 32);

  /* A context remembers its key: switching keys back and forth, the same
   * key twice in a row, and a key that is a prefix of the last one (same
   * bytes, shorter) must each give that key's MAC. */
  static const char *const v1 =
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
  static const char *const v2 =
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  uint8_t k1[20];
  memset(k1, 0x0b, sizeof(k1));
  for (int round = 0; round < 3; round++) {
    CHECK(hmac_oneshot(h, k1, 20, (const uint8_t *)"Hi There", 8, out));
    unhex(v1, exp, sizeof(exp));
    CHECK_MEM(out, exp, 32);
    CHECK(hmac_oneshot(h, k1, 20, (const uint8_t *)"Hi There", 8, out));
    CHECK_MEM(out, exp, 32);
    CHECK(hmac_oneshot(h, (const uint8_t *)"Jefe", 4, (const uint8_t *)d2,
                       strlen(d2), out));
    unhex(v2, exp, sizeof(exp));
    CHECK_MEM(out, exp, 32);
  }
  uint8_t short_mac[32];
  CHECK(hmac_oneshot(h, k1, 20, (const uint8_t *)"Hi There", 8, out));
  CHECK(hmac_oneshot(h, k1, 19, (const uint8_t *)"Hi There", 8, short_mac));
  hmac_ctx *once = hmac_new(h256);
  CHECK(once != NULL &&
        hmac_oneshot(once, k1, 19, (const uint8_t *)"Hi There", 8, exp));
  hmac_free(once);
  CHECK_MEM(short_mac, exp, 32);
  CHECK(memcmp(short_mac, out, 32) != 0);

  /* RFC 4231 4.7 test case 6: a key longer than the block is hashed. */
  memset(key, 0xaa, 131);
  const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  CHECK(hmac_oneshot(h, key, 131, (const uint8_t *)d6, strlen(d6), out));
  unhex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", exp,
        sizeof(exp));
  CHECK_MEM(out, exp, 32);

  /* hmac_init_as: another context takes h's key (the long one, so its
   * keyed states, not a remembered key, carry it) and MACs as h does;
   * then h's remembered short key is taken over too, so keying the copy
   * with those bytes again reuses its states. */
  hmac_ctx *as = hmac_new(h256);
  CHECK(as != NULL && hmac_init_as(as, h) &&
        hmac_update(as, (const uint8_t *)d6, strlen(d6)) &&
        hmac_final(as, out));
  CHECK_MEM(out, exp, 32);
  CHECK(hmac_oneshot(h, (const uint8_t *)"Jefe", 4, (const uint8_t *)d2,
                     strlen(d2), out));
  CHECK(hmac_init_as(as, h) && hmac_update(as, (const uint8_t *)d2, 3) &&
        hmac_update(as, (const uint8_t *)d2 + 3, strlen(d2) - 3) &&
        hmac_final(as, exp));
  CHECK_MEM(exp, out, 32);
  CHECK(hmac_oneshot(as, (const uint8_t *)"Jefe", 4, (const uint8_t *)d2,
                     strlen(d2), exp));
  CHECK_MEM(exp, out, 32);
  /* from a context of another hash, or one never keyed: refused, and the
   * context is left unkeyed */
  hmac_ctx *other = hmac_new(h384);
  hmac_ctx *blank = hmac_new(h256);
  CHECK(other != NULL && blank != NULL);
  CHECK(hmac_oneshot(other, k1, 20, (const uint8_t *)"x", 1, out));
  CHECK(!hmac_init_as(as, other));
  CHECK(!hmac_update(as, (const uint8_t *)"x", 1));
  CHECK(!hmac_init_as(as, blank));
  CHECK(!hmac_reset(as));
  hmac_free(other);
  hmac_free(blank);
  hmac_free(as);
  hmac_free(h);

  /* RFC 4231 4.2 test case 1, HMAC-SHA-384. */
  h = hmac_new(h384);
  memset(key, 0x0b, 20);
  CHECK(hmac_oneshot(h, key, 20, (const uint8_t *)"Hi There", 8, out));
  unhex("afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
        "faea9ea9076ede7f4af152e8b2fa9cb6",
        exp, sizeof(exp));
  CHECK_MEM(out, exp, 48);
  hmac_free(h);
  hmac_free(NULL);
}

static void test_hkdf(void) {
  hmac_ctx *h = hmac_new(hash_get(HASH_SHA256));
  uint8_t ikm[80], salt[80], info[80], prk[32], okm[82], exp[82];
  CHECK(h != NULL);

  /* RFC 5869 A.1 */
  memset(ikm, 0x0b, 22);
  size_t sl = unhex("000102030405060708090a0b0c", salt, sizeof(salt));
  size_t il = unhex("f0f1f2f3f4f5f6f7f8f9", info, sizeof(info));
  CHECK(hkdf_extract(h, salt, sl, ikm, 22, prk));
  unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", exp,
        sizeof(exp));
  CHECK_MEM(prk, exp, 32);
  CHECK(hkdf_expand(h, prk, 32, info, il, okm, 42));
  unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        "34007208d5b887185865",
        exp, sizeof(exp));
  CHECK_MEM(okm, exp, 42);

  /* RFC 5869 A.2: longer inputs, L = 82 (three blocks). */
  for (int i = 0; i < 80; i++) {
    ikm[i] = (uint8_t)i;
    salt[i] = (uint8_t)(0x60 + i);
    info[i] = (uint8_t)(0xb0 + i);
  }
  CHECK(hkdf_extract(h, salt, 80, ikm, 80, prk));
  unhex("06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244", exp,
        sizeof(exp));
  CHECK_MEM(prk, exp, 32);
  CHECK(hkdf_expand(h, prk, 32, info, 80, okm, 82));
  unhex("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87",
        exp, sizeof(exp));
  CHECK_MEM(okm, exp, 82);

  /* RFC 5869 A.3: no salt, no info. */
  memset(ikm, 0x0b, 22);
  CHECK(hkdf_extract(h, NULL, 0, ikm, 22, prk));
  unhex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04", exp,
        sizeof(exp));
  CHECK_MEM(prk, exp, 32);
  CHECK(hkdf_expand(h, prk, 32, NULL, 0, okm, 42));
  unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        "9d201395faa4b61a96c8",
        exp, sizeof(exp));
  CHECK_MEM(okm, exp, 42);

  /* In place: out over prk. */
  uint8_t inplace[42];
  memcpy(inplace, prk, 32);
  CHECK(hkdf_expand(h, inplace, 32, NULL, 0, inplace, 42));
  CHECK_MEM(inplace, exp, 42);

  /* hkdf_expand puts T(i-1) | info | i together when that fits its
   * 128-byte buffer and feeds the MAC piece by piece when it does not:
   * info lengths on both sides of that limit for T(1) (127/128) and for
   * T(2..) (95/96), L = 100 (four blocks); values from another HMAC. */
  static const struct {
    size_t info_len;
    const char *okm;
  } sized[] = {
      {95, "937166015a348cd560ea06ca753d96365c07daa76ec66d7cd58c07060ea95158"
           "434480f27d5e5e480c5cb1f49157287f6213722672e62916bdb77d0d90f2dddf"
           "2aaffcbd813ca6f87c19cfe1b22884bfd3d9727971378a842899de09d36ed07f"
           "16a7a2ef"},
      {96, "cb02469118ece17dfbd1bb0bcf4eda559dbdccbcdd778a46dcff2b08f20ecbb1"
           "6f3d4a3e125b8a84b627f478b9099d9824c40753e807b8fb5f49e3358fd2b25e"
           "27bc9603db9358bbdc1e4197d8e881322938ef1f71674048d016cf87bc5c3c32"
           "f008975c"},
      {127, "4f74df98236b62eb4a24e14cc79573901ebec4f1cabe24e6b6c5d1b0bfad5313"
            "fe4c53bfda9c02e8e903aa6226a4521d32e384eb3e51bca50ceb22c4050c0089"
            "2c56f9f0cff02b74addcda02522c0e4017a4d86943cacd24f13c3f6d75c36422"
            "694a3bcc"},
      {128, "62dfd6ff1f301431680c72f885288f04968602c0a46a8d0f5ccd0d0ee9198567"
            "81e4440a31daad0d884d5e06ac676203b9d86054310c08946f26a88d1863baec"
            "5d7f3b7d02ac5db859afacca4835c475b278cc2604d45cb47c937ac1d06f25c0"
            "2d80b401"},
      {200, "8de30410f0181c2da20a4c4fc577e1725c77f0d565f5ccfef1d801d000efb0e0"
            "4e04492e5beda18e550fdbbde79113a29b6547af19deda760fcba969ce501ca0"
            "0eb3646b0d25ce50541527480d72b85c6240adb0b9202b92061ca81950d72a45"
            "4d15f885"},
  };
  uint8_t long_info[200], long_okm[100], long_exp[100];
  for (size_t i = 0; i < sizeof(long_info); i++) {
    long_info[i] = (uint8_t)(i * 7 + 3);
  }
  unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", prk,
        sizeof(prk));
  for (size_t i = 0; i < sizeof(sized) / sizeof(sized[0]); i++) {
    memset(long_okm, 0, sizeof(long_okm));
    CHECK(hkdf_expand(h, prk, 32, long_info, sized[i].info_len, long_okm,
                      sizeof(long_okm)));
    unhex(sized[i].okm, long_exp, sizeof(long_exp));
    CHECK_MEM(long_okm, long_exp, sizeof(long_exp));
  }

  /* RFC 5869 2.3: L > 255 * HashLen is refused. */
  uint8_t *big = malloc(255 * 32 + 1);
  CHECK(big != NULL && !hkdf_expand(h, prk, 32, NULL, 0, big, 255 * 32 + 1));
  CHECK(big != NULL && hkdf_expand(h, prk, 32, NULL, 0, big, 255 * 32));
  free(big);
  hmac_free(h);
}

/* ---- AEADs ------------------------------------------------------------------
 */

static void test_aead_one(aead_id id) {
  const aead_alg *alg = aead_get(id);
  CHECK(alg != NULL);
  if (alg == NULL) {
    return;
  }
  uint8_t key[32], key2[32], nonce[12], aad[13], pt[300], ct[316], back[316];
  for (size_t i = 0; i < sizeof(key); i++) {
    key[i] = (uint8_t)(i * 7 + 1);
    key2[i] = (uint8_t)(i * 5 + 3);
  }
  memset(nonce, 0x42, sizeof(nonce));
  memset(aad, 0x17, sizeof(aad));
  for (size_t i = 0; i < sizeof(pt); i++) {
    pt[i] = (uint8_t)i;
  }
  aead_ctx *enc = aead_new(alg, key, true);
  aead_ctx *dec = aead_new(alg, key, false);
  CHECK(enc != NULL && dec != NULL);

  CHECK(aead_seal(enc, nonce, aad, sizeof(aad), pt, sizeof(pt), ct));
  CHECK(memcmp(ct, pt, sizeof(pt)) != 0);
  CHECK(aead_open(dec, nonce, aad, sizeof(aad), ct, sizeof(ct), back));
  CHECK_MEM(back, pt, sizeof(pt));

  /* Same nonce and input: deterministic; a new nonce changes it. */
  uint8_t ct2[316];
  CHECK(aead_seal(enc, nonce, aad, sizeof(aad), pt, sizeof(pt), ct2));
  CHECK_MEM(ct, ct2, sizeof(ct));
  nonce[11] ^= 1;
  CHECK(aead_seal(enc, nonce, aad, sizeof(aad), pt, sizeof(pt), ct2));
  CHECK(memcmp(ct, ct2, sizeof(ct)) != 0);
  nonce[11] ^= 1;

  /* In place both ways. */
  memcpy(back, pt, sizeof(pt));
  CHECK(aead_seal(enc, nonce, aad, sizeof(aad), back, sizeof(pt), back));
  CHECK_MEM(back, ct, sizeof(ct));
  CHECK(aead_open(dec, nonce, aad, sizeof(aad), back, sizeof(ct), back));
  CHECK_MEM(back, pt, sizeof(pt));

  /* Tampering: ciphertext, tag, aad, nonce, truncation. */
  memcpy(back, ct, sizeof(ct));
  back[5] ^= 0x01;
  CHECK(!aead_open(dec, nonce, aad, sizeof(aad), back, sizeof(ct), back));
  memcpy(back, ct, sizeof(ct));
  back[sizeof(ct) - 1] ^= 0x80;
  CHECK(!aead_open(dec, nonce, aad, sizeof(aad), back, sizeof(ct), back));
  aad[0] ^= 1;
  CHECK(!aead_open(dec, nonce, aad, sizeof(aad), ct, sizeof(ct), back));
  aad[0] ^= 1;
  nonce[0] ^= 1;
  CHECK(!aead_open(dec, nonce, aad, sizeof(aad), ct, sizeof(ct), back));
  nonce[0] ^= 1;
  CHECK(!aead_open(dec, nonce, aad, sizeof(aad), ct, 15, back));
  CHECK(!aead_open(dec, nonce, aad, sizeof(aad), ct, sizeof(ct) - 1, back));
  /* Still works after failures. */
  CHECK(aead_open(dec, nonce, aad, sizeof(aad), ct, sizeof(ct), back));
  CHECK_MEM(back, pt, sizeof(pt));

  /* Empty plaintext: only a tag. */
  uint8_t tag[16];
  CHECK(aead_seal(enc, nonce, NULL, 0, NULL, 0, tag));
  CHECK(aead_open(dec, nonce, NULL, 0, tag, 16, back));
  tag[0] ^= 1;
  CHECK(!aead_open(dec, nonce, NULL, 0, tag, 16, back));

  /* Direction is fixed. */
  CHECK(!aead_seal(dec, nonce, aad, sizeof(aad), pt, 16, ct2));
  CHECK(!aead_open(enc, nonce, aad, sizeof(aad), ct, sizeof(ct), back));

  /* KeyUpdate: after rekeying both sides agree again, and the old
   * ciphertext no longer opens. */
  CHECK(aead_rekey(enc, key2) && aead_rekey(dec, key2));
  CHECK(!aead_open(dec, nonce, aad, sizeof(aad), ct, sizeof(ct), back));
  CHECK(aead_seal(enc, nonce, aad, sizeof(aad), pt, sizeof(pt), ct2));
  CHECK(memcmp(ct, ct2, sizeof(ct)) != 0);
  CHECK(aead_open(dec, nonce, aad, sizeof(aad), ct2, sizeof(ct2), back));
  CHECK_MEM(back, pt, sizeof(pt));
  aead_free(enc);
  aead_free(dec);
}

static void test_aead_kat(void) {
  /* RFC 8439 2.8.2. */
  uint8_t key[32], nonce[12], aad[12], pt[114], exp[130], out[130];
  unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key,
        sizeof(key));
  unhex("070000004041424344454647", nonce, sizeof(nonce));
  unhex("50515253c0c1c2c3c4c5c6c7", aad, sizeof(aad));
  const char *p = "Ladies and Gentlemen of the class of '99: If I could offer "
                  "you only one tip for the future, sunscreen would be it.";
  CHECK(strlen(p) == 114);
  memcpy(pt, p, 114);
  unhex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        "3ff4def08e4b7a9de576d26586cec64b6116"
        "1ae10b594f09e26a7e902ecbd0600691",
        exp, sizeof(exp));
  aead_ctx *enc = aead_new(aead_get(AEAD_CHACHA20_POLY1305), key, true);
  CHECK(enc != NULL && aead_seal(enc, nonce, aad, 12, pt, 114, out));
  CHECK_MEM(out, exp, 130);
  aead_free(enc);
  /* The GCM and ChaCha vectors of Wycheproof run in test_wycheproof. */
}

static void test_aead(void) {
  test_aead_one(AEAD_AES_128_GCM);
  test_aead_one(AEAD_AES_256_GCM);
  test_aead_one(AEAD_CHACHA20_POLY1305);
  test_aead_kat();
  CHECK(aead_get(AEAD_AES_128_GCM)->key_len == 16);
  CHECK(aead_get(AEAD_AES_256_GCM)->key_len == 32);
  CHECK(aead_get(AEAD_CHACHA20_POLY1305)->key_len == 32);
  CHECK(aead_new(aead_get(AEAD_AES_128_GCM), NULL, true) == NULL);
}

/* ---- key exchange
 * ------------------------------------------------------------ */

static void test_kex_tables(void) {
  size_t n = 0;
  const kex_alg *const *all = kex_all(&n);
  CHECK_EQ_INT(n, 7);
  CHECK_EQ_INT(all[0]->group, 0x11ec);
  CHECK_EQ_INT(all[1]->group, 0x001d);
  CHECK_EQ_INT(all[2]->group, 0x0017);
  CHECK_EQ_INT(all[3]->group, 0x0018);
  CHECK_EQ_INT(all[4]->group, 0x001e);
  CHECK_EQ_INT(all[5]->group, 0x0019);
  CHECK_EQ_INT(all[6]->group, 0x11eb);
  for (size_t i = 0; i < n; i++) {
    /* Only the hybrids are TLS 1.3-only, and they name their ECDH half. */
    CHECK(all[i]->tls13_only == (all[i]->classical != NULL));
    CHECK(all[i]->tls13_only == (all[i]->group >= 0x11eb));
  }
  CHECK(kex_by_name("x25519mlkem768") == kex_by_group(0x11ec));
  CHECK(kex_by_name("SecP256r1MLKEM768") == kex_by_group(0x11eb));
  CHECK(kex_by_group(0x11ec)->classical == kex_by_group(0x001d));
  CHECK(kex_by_group(0x11eb)->classical == kex_by_group(0x0017));
  CHECK_EQ_INT(kex_by_group(0x11ec)->client_share_len, 1216);
  CHECK_EQ_INT(kex_by_group(0x11ec)->server_share_len, 1120);
  CHECK_EQ_INT(kex_by_group(0x11ec)->secret_len, 64);
  CHECK_EQ_INT(kex_by_group(0x11eb)->client_share_len, 1249);
  CHECK_EQ_INT(kex_by_group(0x11eb)->server_share_len, 1153);
  CHECK(kex_by_name("X25519") == kex_by_group(0x001d));
  CHECK(kex_by_name("x25519") == kex_by_group(0x001d));
  CHECK(kex_by_name("secp256r1") == kex_by_group(0x0017));
  CHECK(kex_by_name("P-256") == kex_by_group(0x0017));
  CHECK(kex_by_name("prime256v1") == kex_by_group(0x0017));
  CHECK(kex_by_name("p-384") == kex_by_group(0x0018));
  CHECK(kex_by_name("SECP384R1") == kex_by_group(0x0018));
  CHECK(kex_by_name("secp521r1") == kex_by_group(0x0019));
  CHECK(kex_by_name("P-521") == kex_by_group(0x0019));
  CHECK(kex_by_name("X448") == kex_by_group(0x001e));
  CHECK(kex_by_name("brainpoolP256r1") == NULL);
  CHECK(kex_by_name("") == NULL);
  CHECK(kex_by_group(0x0016) == NULL);
  CHECK_EQ_INT(kex_by_group(0x0017)->client_share_len, 65);
  CHECK_EQ_INT(kex_by_group(0x0018)->client_share_len, 97);
  CHECK_EQ_INT(kex_by_group(0x0019)->client_share_len, 133);
  CHECK_EQ_INT(kex_by_group(0x001e)->secret_len, 56);
}

/* Every group agrees with itself, without a keygen pool and then twice
 * through one (the second time from the kept context). */
static void test_kex_agree(void) {
  size_t n = 0;
  const kex_alg *const *all = kex_all(&n);
  kex_pool *shared = kex_pool_new();
  CHECK(shared != NULL);
  for (size_t r = 0; r < 3 * n; r++) {
    size_t i = r % n;
    kex_pool *pool = r < n ? NULL : shared;
    const kex_alg *alg = all[i];
    kex_key *k = NULL;
    uint8_t s1[KEX_MAX_SHARE], s2[KEX_MAX_SHARE], again[KEX_MAX_SHARE];
    uint8_t x1[KEX_MAX_SECRET], x2[KEX_MAX_SECRET];
    size_t l1 = 0, l2 = 0, la = 0, xl1 = 0, xl2 = 0;
    CHECK(kex_generate(alg, pool, &k, s1, &l1));
    CHECK_EQ_INT(l1, alg->client_share_len);
    CHECK(kex_key_share(k, again, &la) && la == l1 &&
          memcmp(again, s1, l1) == 0);
    CHECK(kex_respond(alg, pool, s1, l1, s2, &l2, x2, &xl2));
    CHECK_EQ_INT(l2, alg->server_share_len);
    /* A kept context makes a new key pair each time. */
    CHECK(l1 != l2 || memcmp(s1, s2, l1) != 0);
    CHECK(kex_finish(k, s2, l2, x1, &xl1));
    CHECK_EQ_INT(xl1, alg->secret_len);
    CHECK(xl1 == xl2 && memcmp(x1, x2, xl1) == 0);
    if (alg->group != 0x001d && alg->group != 0x001e &&
        alg->classical == NULL) {
      CHECK(s1[0] == 0x04 && s2[0] == 0x04);
      /* An off-curve point: change y. */
      uint8_t bad[KEX_MAX_SHARE];
      memcpy(bad, s2, l2);
      bad[l2 - 1] ^= 0x01;
      CHECK(!kex_finish(k, bad, l2, x1, &xl1));
      CHECK(!kex_respond(alg, pool, bad, l2, s2, &l2, x2, &xl2));
      /* Compressed form (0x02/0x03 || x) is refused. */
      memcpy(bad, s2, l2);
      bad[0] = (uint8_t)(0x02 | (s2[l2 - 1] & 1));
      CHECK(!kex_finish(k, bad, 1 + (l2 - 1) / 2, x1, &xl1));
      CHECK(!kex_finish(k, bad, l2, x1, &xl1));
      /* Point at infinity (single zero byte) and an all-zero point. */
      bad[0] = 0x00;
      CHECK(!kex_finish(k, bad, 1, x1, &xl1));
      memset(bad, 0, l2);
      bad[0] = 0x04;
      CHECK(!kex_finish(k, bad, l2, x1, &xl1));
      /* The right point once more: still fine. */
      CHECK(kex_finish(k, s2, l2, x1, &xl1));
    }
    /* Wrong lengths. */
    CHECK(!kex_finish(k, s2, l2 - 1, x1, &xl1));
    CHECK(!kex_respond(alg, pool, s1, l1 + 1, s2, &l2, x2, &xl2));
    kex_key_free(k);
  }
  kex_pool_free(shared);
  kex_pool_free(NULL);
}

/* The hybrids (draft-ietf-tls-ecdhe-mlkem): the halves sit in the
 * draft's order, and each is checked. */
static void test_kex_hybrid(void) {
  static const uint16_t groups[] = {0x11ec, 0x11eb};
  for (size_t g = 0; g < 2; g++) {
    const kex_alg *alg = kex_by_group(groups[g]);
    bool kem_first = groups[g] == 0x11ec;
    size_t ecdh_len = kem_first ? 32 : 65;
    /* A known key: seed d || z, then the ECDH private key. */
    uint8_t priv[64 + 32], ek[MLKEM768_EK_LEN], ecdh[65];
    uint8_t share[KEX_MAX_SHARE], s2[KEX_MAX_SHARE], bad[KEX_MAX_SHARE];
    uint8_t x1[KEX_MAX_SECRET], x2[KEX_MAX_SECRET];
    size_t l1 = 0, l2 = 0, el = 0, xl1 = 0, xl2 = 0;
    static mlkem768_key kem;
    for (size_t i = 0; i < sizeof(priv); i++) {
      priv[i] = (uint8_t)(i * 13 + 5);
    }
    kex_key *k = NULL, *e = NULL;
    CHECK(kex_key_from_private(alg, priv, sizeof(priv), NULL, &k));
    CHECK(kex_key_share(k, share, &l1) && l1 == alg->client_share_len);
    CHECK(mlkem768_keygen(NULL, priv, &kem, ek));
    CHECK(kex_key_from_private(alg->classical, priv + 64, 32, NULL, &e));
    CHECK(kex_key_share(e, ecdh, &el) && el == ecdh_len);
    CHECK_MEM(share + (kem_first ? 0 : ecdh_len), ek, sizeof(ek));
    CHECK_MEM(share + (kem_first ? sizeof(ek) : 0), ecdh, ecdh_len);
    kex_key_free(e);

    /* The server's share: ciphertext and ECDH share in the same order;
     * the secret too. */
    CHECK(kex_respond(alg, NULL, share, l1, s2, &l2, x2, &xl2));
    CHECK(l2 == alg->server_share_len && xl2 == alg->secret_len);
    CHECK(kex_finish(k, s2, l2, x1, &xl1) && xl1 == xl2);
    CHECK_MEM(x1, x2, xl1);
    uint8_t kem_ss[32];
    CHECK(mlkem768_decaps(NULL, &kem, s2 + (kem_first ? 0 : ecdh_len),
                          MLKEM768_CT_LEN, kem_ss));
    CHECK_MEM(x1 + (kem_first ? 0 : 32), kem_ss, 32);

    /* A changed ciphertext is not detected by the client (implicit
     * rejection): the secrets differ, so the handshake's keys do. */
    memcpy(bad, s2, l2);
    bad[kem_first ? 100 : ecdh_len + 100] ^= 0x40;
    CHECK(kex_finish(k, bad, l2, x1, &xl1));
    CHECK(memcmp(x1, x2, xl1) != 0);
    const char *why = NULL;
    /* Lengths. */
    CHECK(!kex_finish_why(k, s2, l2 - 1, x1, &xl1, &why) && why != NULL &&
          strstr(why, "length") != NULL);
    why = NULL;
    CHECK(!kex_respond_why(alg, NULL, share, l1 - 1, s2, &l2, x2, &xl2, &why) &&
          why != NULL && strstr(why, "length") != NULL);
    /* FIPS 203 7.2: a coefficient of t set to q = 0xd01. */
    memcpy(bad, share, l1);
    size_t t0 = kem_first ? 0 : ecdh_len;
    bad[t0] = 0x01;
    bad[t0 + 1] = (uint8_t)((bad[t0 + 1] & 0xf0) | 0x0d);
    why = NULL;
    CHECK(!kex_respond_why(alg, NULL, bad, l1, s2, &l2, x2, &xl2, &why) &&
          why != NULL && strstr(why, "ML-KEM") != NULL);
    /* A bad ECDH half: X25519's all-zero point, P-256 off the curve. */
    memcpy(bad, share, l1);
    if (kem_first) {
      memset(bad + sizeof(ek), 0, 32);
    } else {
      bad[64] ^= 1;
    }
    why = NULL;
    CHECK(!kex_respond_why(alg, NULL, bad, l1, s2, &l2, x2, &xl2, &why) &&
          why != NULL);
    CHECK(kex_respond(alg, NULL, share, l1, s2, &l2, x2, &xl2));
    memcpy(bad, s2, l2);
    if (kem_first) {
      memset(bad + MLKEM768_CT_LEN, 0, 32);
    } else {
      bad[64] ^= 1;
    }
    why = NULL;
    CHECK(!kex_finish_why(k, bad, l2, x1, &xl1, &why) && why != NULL);
    /* A fresh key pair each time. */
    kex_key *k2 = NULL;
    CHECK(kex_generate(alg, NULL, &k2, bad, &l2) && l2 == l1);
    CHECK(memcmp(bad, share, l1) != 0);
    kex_key_free(k2);
    kex_key_free(k);
    CHECK(!kex_key_from_private(alg, priv, 64, NULL, &k) && k == NULL);
    mlkem768_key_wipe(&kem);
  }
}

/* Threads sharing one pool: its keygen contexts and peer key objects go
 * from thread to thread; every exchange must still agree, and a bad share
 * between good ones must still be refused. */
typedef struct kex_thread {
  kex_pool *pool;
  const kex_alg *alg;
  int ok;
} kex_thread;

static void *kex_thread_body(void *arg) {
  kex_thread *kt = arg;
  for (int i = 0; i < 200 && kt->ok; i++) {
    kex_key *k = NULL;
    uint8_t s1[KEX_MAX_SHARE], s2[KEX_MAX_SHARE];
    uint8_t x1[KEX_MAX_SECRET], x2[KEX_MAX_SECRET];
    size_t l1 = 0, l2 = 0, xl1 = 0, xl2 = 0;
    bool ok = kex_generate(kt->alg, kt->pool, &k, s1, &l1) &&
              kex_respond(kt->alg, kt->pool, s1, l1, s2, &l2, x2, &xl2) &&
              kex_finish(k, s2, l2, x1, &xl1) && xl1 == xl2 &&
              memcmp(x1, x2, xl1) == 0;
    if (ok && i % 7 == 3 && kt->alg->group == 0x0017) {
      s2[l2 - 1] ^= 1; /* off the curve */
      ok = !kex_finish(k, s2, l2, x1, &xl1);
    }
    kex_key_free(k);
    if (!ok) {
      kt->ok = 0;
    }
  }
  return NULL;
}

static void test_kex_pool_threads(void) {
  kex_pool *pool = kex_pool_new();
  CHECK(pool != NULL);
  kex_thread kt[4];
  pthread_t th[4];
  for (int t = 0; t < 4; t++) {
    kt[t].pool = pool;
    kt[t].alg = kex_by_group(t % 2 ? 0x001d : 0x0017); /* X25519, P-256 */
    kt[t].ok = 1;
    CHECK(pthread_create(&th[t], NULL, kex_thread_body, &kt[t]) == 0);
  }
  for (int t = 0; t < 4; t++) {
    CHECK(pthread_join(th[t], NULL) == 0);
    CHECK_EQ_INT(kt[t].ok, 1);
  }
  kex_pool_free(pool);
}

static void test_kex_kat(void) {
  /* RFC 7748 6.1 */
  const kex_alg *x = kex_by_group(0x001d);
  uint8_t priv[32], pub[32], exp[32], share[KEX_MAX_SHARE], out[64];
  size_t len = 0;
  kex_key *k = NULL;
  unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        priv, sizeof(priv));
  CHECK(kex_key_from_private(x, priv, 32, NULL, &k));
  CHECK(k != NULL && kex_key_share(k, share, &len) && len == 32);
  unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", exp,
        sizeof(exp));
  CHECK_MEM(share, exp, 32);
  unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", pub,
        sizeof(pub));
  CHECK(kex_finish(k, pub, 32, out, &len) && len == 32);
  unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", exp,
        sizeof(exp));
  CHECK_MEM(out, exp, 32);

  /* RFC 8446 7.4.2 / RFC 7748 6.1: small-order points give an all-zero
   * secret, which is refused (u = 0 and u = 1). */
  uint8_t zero[32] = {0}, one[32] = {1};
  CHECK(!kex_finish(k, zero, 32, out, &len));
  CHECK(!kex_finish(k, one, 32, out, &len));
  CHECK(!kex_respond(x, NULL, zero, 32, share, &len, out, &len));
  kex_key_free(k);

  /* Bad private keys. */
  CHECK(!kex_key_from_private(x, priv, 31, NULL, &k) && k == NULL);
  uint8_t zscalar[32] = {0};
  CHECK(!kex_key_from_private(kex_by_group(0x0017), zscalar, 32, NULL, &k));
}

/* ---- signatures ------------------------------------------------------------
 */

static void test_sig_tables(void) {
  size_t n = 0;
  const sig_scheme *const *all = sig_scheme_all(&n);
  static const uint16_t order[] = {0x0403, 0x0503, 0x0603, 0x0807, 0x0808,
                                   0x0804, 0x0805, 0x0806, 0x0809, 0x080a,
                                   0x080b, 0x0401, 0x0501, 0x0601};
  CHECK_EQ_INT(n, sizeof(order) / sizeof(order[0]));
  for (size_t i = 0; i < n && i < sizeof(order) / sizeof(order[0]); i++) {
    CHECK_EQ_INT(all[i]->code, order[i]);
    CHECK(sig_scheme_by_code(order[i]) == all[i]);
    CHECK(sig_scheme_by_name(all[i]->name) == all[i]);
  }
  CHECK(sig_scheme_by_code(0x0201) == NULL); /* rsa_pkcs1_sha1 refused */
  CHECK(sig_scheme_by_code(0x0203) == NULL); /* ecdsa_sha1 refused */
  CHECK(!sig_scheme_by_code(0x0401)->tls13);
  CHECK(sig_scheme_by_code(0x0804)->tls13);
  CHECK(sig_scheme_by_code(0x0807)->kind == SIG_EDDSA);
  CHECK(sig_scheme_by_name("ecdsa_secp384r1_sha384")->key == KEY_EC_P384);
  CHECK(sig_scheme_by_name("rsa_pss_pss_sha256")->key == KEY_RSA_PSS);
  CHECK(strcmp(key_type_name(KEY_ED25519), "Ed25519") == 0);
}

typedef struct keyspec {
  const char *file;
  const char *genargs;
  key_type type;
  int bits;
} keyspec;

static const keyspec k_keys[] = {
    {"rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", KEY_RSA, 2048},
    {"rsapss", "-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048", KEY_RSA_PSS,
     2048},
    {"p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", KEY_EC_P256,
     256},
    {"p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384", KEY_EC_P384,
     384},
    {"p521", "-algorithm EC -pkeyopt ec_paramgen_curve:P-521", KEY_EC_P521,
     521},
    {"ed25519", "-algorithm ED25519", KEY_ED25519, 256},
    {"ed448", "-algorithm ED448", KEY_ED448, 456},
};
#define NUM_KEYS (sizeof(k_keys) / sizeof(k_keys[0]))

static privkey *g_priv[NUM_KEYS];
static pubkey *g_pub[NUM_KEYS];

static void make_keys(void) {
  char name[64], pub[64];
  for (size_t i = 0; i < NUM_KEYS; i++) {
    (void)snprintf(name, sizeof(name), "%s.pem", k_keys[i].file);
    (void)snprintf(pub, sizeof(pub), "%s.spki", k_keys[i].file);
    CHECK(sh("openssl genpkey %s -out %s", k_keys[i].genargs, name));
    CHECK(sh("openssl pkey -in %s -pubout -outform DER -out %s", name, pub));
    size_t len = 0, plen = 0;
    uint8_t *data = slurp(name, &len);
    uint8_t *spki = slurp(pub, &plen);
    char detail[256] = "";
    CHECK(data != NULL && privkey_load(data, len, NULL, NULL, NULL, &g_priv[i],
                                       detail, sizeof(detail)) == MOAT_OK);
    CHECK(spki != NULL && pubkey_from_spki(spki, plen, &g_pub[i], detail,
                                           sizeof(detail)) == MOAT_OK);
    if (g_priv[i] == NULL || g_pub[i] == NULL) {
      fprintf(stderr, "key %s: %s\n", k_keys[i].file, detail);
    } else {
      CHECK_EQ_INT(privkey_type(g_priv[i]), k_keys[i].type);
      CHECK_EQ_INT(pubkey_type(g_pub[i]), k_keys[i].type);
      CHECK_EQ_INT(pubkey_bits(g_pub[i]), k_keys[i].bits);
      CHECK_EQ_INT(privkey_bits(g_priv[i]), k_keys[i].bits);
      CHECK(privkey_matches(g_priv[i], g_pub[i]));
    }
    free(data);
    free(spki);
  }
  /* A private key does not match another key's public half. */
  if (g_priv[2] != NULL && g_pub[3] != NULL && g_pub[0] != NULL) {
    CHECK(!privkey_matches(g_priv[2], g_pub[3]));
    CHECK(!privkey_matches(g_priv[2], g_pub[0]));
  }
}

static void test_sign_verify(void) {
  size_t n = 0;
  const sig_scheme *const *all = sig_scheme_all(&n);
  const uint8_t msg[] = "a CertificateVerify content to be signed";
  for (size_t s = 0; s < n; s++) {
    const sig_scheme *sch = all[s];
    for (size_t k = 0; k < NUM_KEYS; k++) {
      if (g_priv[k] == NULL || g_pub[k] == NULL) {
        continue;
      }
      uint8_t sig[1024];
      size_t sig_len = sizeof(sig);
      bool fits = k_keys[k].type == sch->key;
      bool signed_ok =
          privkey_sign(g_priv[k], sch, msg, sizeof(msg), sig, &sig_len);
      CHECK(signed_ok == fits);
      if (!fits) {
        continue;
      }
      CHECK(sig_len <= privkey_max_sig_len(g_priv[k]));
      CHECK(pubkey_verify(g_pub[k], sch, msg, sizeof(msg), sig, sig_len));
      /* Tampered message and signature. */
      CHECK(!pubkey_verify(g_pub[k], sch, msg, sizeof(msg) - 1, sig, sig_len));
      sig[sig_len / 2] ^= 0x10;
      CHECK(!pubkey_verify(g_pub[k], sch, msg, sizeof(msg), sig, sig_len));
      sig[sig_len / 2] ^= 0x10;
      /* Every other scheme refuses this signature with this key. */
      for (size_t o = 0; o < n; o++) {
        if (all[o] != sch) {
          CHECK(
              !pubkey_verify(g_pub[k], all[o], msg, sizeof(msg), sig, sig_len));
        }
      }
      /* Another key of the same type does not verify it. */
      if (sch->kind == SIG_ECDSA) {
        uint8_t padded[1100];
        /* A trailing byte after the DER signature is refused. */
        memcpy(padded, sig, sig_len);
        padded[sig_len] = 0;
        CHECK(!pubkey_verify(g_pub[k], sch, msg, sizeof(msg), padded,
                             sig_len + 1));
      }
    }
  }
  /* A signature buffer that is too small. */
  if (g_priv[2] != NULL) {
    uint8_t sig[8];
    size_t sl = sizeof(sig);
    CHECK(!privkey_sign(g_priv[2], sig_scheme_by_code(0x0403), msg, sizeof(msg),
                        sig, &sl));
  }
}

/* Threads share keys as connections of one context do: each key keeps
 * one spare signing or verifying context, taken and given back
 * atomically.  Every result must still be right: good signatures verify,
 * tampered ones do not, and an RSA key alternates between PSS and
 * PKCS#1 parameters. */
typedef struct shared_keys {
  const uint8_t *msg;
  size_t msg_len;
  uint8_t pss[512], pkcs1[512];
  size_t pss_len, pkcs1_len;
  int ok;
} shared_keys;

static void *shared_key_body(void *arg) {
  shared_keys *sk = arg;
  const sig_scheme *ec = sig_scheme_by_code(0x0403);
  const sig_scheme *pss = sig_scheme_by_code(0x0804);
  const sig_scheme *pkcs1 = sig_scheme_by_code(0x0401);
  for (int i = 0; i < 40; i++) {
    uint8_t sig[128];
    size_t sig_len = sizeof(sig);
    bool good =
        privkey_sign(g_priv[2], ec, sk->msg, sk->msg_len, sig, &sig_len) &&
        pubkey_verify(g_pub[2], ec, sk->msg, sk->msg_len, sig, sig_len) &&
        !pubkey_verify(g_pub[2], ec, sk->msg, sk->msg_len - 1, sig, sig_len) &&
        pubkey_verify(g_pub[0], pss, sk->msg, sk->msg_len, sk->pss,
                      sk->pss_len) &&
        !pubkey_verify(g_pub[0], pkcs1, sk->msg, sk->msg_len, sk->pss,
                       sk->pss_len) &&
        pubkey_verify(g_pub[0], pkcs1, sk->msg, sk->msg_len, sk->pkcs1,
                      sk->pkcs1_len) &&
        !pubkey_verify(g_pub[0], pss, sk->msg, sk->msg_len, sk->pkcs1,
                       sk->pkcs1_len);
    if (!good) {
      sk->ok = 0;
    }
  }
  return NULL;
}

static void test_shared_keys(void) {
  if (g_priv[0] == NULL || g_pub[0] == NULL || g_priv[2] == NULL ||
      g_pub[2] == NULL) {
    CHECK(false);
    return;
  }
  static const uint8_t msg[] = "signed by keys that threads share";
  shared_keys sk[4];
  for (int t = 0; t < 4; t++) {
    sk[t].msg = msg;
    sk[t].msg_len = sizeof(msg);
    sk[t].pss_len = sizeof(sk[t].pss);
    sk[t].pkcs1_len = sizeof(sk[t].pkcs1);
    sk[t].ok = 1;
    CHECK(privkey_sign(g_priv[0], sig_scheme_by_code(0x0804), msg, sizeof(msg),
                       sk[t].pss, &sk[t].pss_len));
    CHECK(privkey_sign(g_priv[0], sig_scheme_by_code(0x0401), msg, sizeof(msg),
                       sk[t].pkcs1, &sk[t].pkcs1_len));
  }
  pthread_t th[4];
  for (int t = 0; t < 4; t++) {
    CHECK(pthread_create(&th[t], NULL, shared_key_body, &sk[t]) == 0);
  }
  for (int t = 0; t < 4; t++) {
    CHECK(pthread_join(th[t], NULL) == 0);
    CHECK_EQ_INT(sk[t].ok, 1);
  }
  /* The kept PSS context (salt 32) is not taken for a salt length that
   * only agrees with 32 in its low bits. */
  CHECK(pubkey_verify_pss(g_pub[0], HASH_SHA256, HASH_SHA256, 32, msg,
                          sizeof(msg), sk[0].pss, sk[0].pss_len));
  CHECK(!pubkey_verify_pss(g_pub[0], HASH_SHA256, HASH_SHA256,
                           32 + ((size_t)1 << 40), msg, sizeof(msg), sk[0].pss,
                           sk[0].pss_len));
  CHECK(!pubkey_verify_pss(g_pub[0], HASH_SHA256, HASH_SHA256, 20, msg,
                           sizeof(msg), sk[0].pss, sk[0].pss_len));
}

/* Signatures made by the openssl command verify through the adapter. */
static void test_verify_external(void) {
  char path[128];
  (void)snprintf(path, sizeof(path), "%s/msg.bin", g_dir);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f == NULL) {
    return;
  }
  const uint8_t msg[] = "signed by the openssl command";
  fwrite(msg, 1, sizeof(msg), f);
  fclose(f);
  CHECK(sh("openssl dgst -sha256 -sign %s -out %s msg.bin", "p256.pem",
           "p256.sig"));
  CHECK(sh("openssl dgst -sha256 -sign %s -sigopt rsa_padding_mode:pss "
           "-sigopt rsa_pss_saltlen:digest -out %s msg.bin",
           "rsa.pem", "rsapss.sig"));
  CHECK(sh("openssl dgst -sha384 -sign %s -out %s msg.bin", "rsa.pem",
           "rsa1.sig"));
  CHECK(sh("openssl pkeyutl -sign -rawin -inkey %s -in msg.bin -out %s",
           "ed25519.pem", "ed.sig"));
  size_t len = 0;
  uint8_t *sig = slurp("p256.sig", &len);
  CHECK(sig != NULL && g_pub[2] != NULL &&
        pubkey_verify(g_pub[2], sig_scheme_by_code(0x0403), msg, sizeof(msg),
                      sig, len));
  free(sig);
  sig = slurp("rsapss.sig", &len);
  CHECK(sig != NULL && g_pub[0] != NULL &&
        pubkey_verify(g_pub[0], sig_scheme_by_code(0x0804), msg, sizeof(msg),
                      sig, len));
  CHECK(sig != NULL && g_pub[0] != NULL &&
        pubkey_verify_pss(g_pub[0], HASH_SHA256, HASH_SHA256, 32, msg,
                          sizeof(msg), sig, len));
  CHECK(sig != NULL && g_pub[0] != NULL &&
        !pubkey_verify_pss(g_pub[0], HASH_SHA256, HASH_SHA256, 20, msg,
                           sizeof(msg), sig, len));
  free(sig);
  sig = slurp("rsa1.sig", &len);
  CHECK(sig != NULL && g_pub[0] != NULL &&
        pubkey_verify(g_pub[0], sig_scheme_by_code(0x0501), msg, sizeof(msg),
                      sig, len));
  CHECK(sig != NULL && g_pub[0] != NULL &&
        !pubkey_verify(g_pub[0], sig_scheme_by_code(0x0401), msg, sizeof(msg),
                       sig, len));
  free(sig);
  sig = slurp("ed.sig", &len);
  CHECK(sig != NULL && g_pub[5] != NULL &&
        pubkey_verify(g_pub[5], sig_scheme_by_code(0x0807), msg, sizeof(msg),
                      sig, len));
  free(sig);
}

/* ---- SubjectPublicKeyInfo parsing ------------------------------------- */

static moat_err spki_hex(const char *hex, char *detail, size_t cap) {
  uint8_t der[600];
  size_t n = unhex(hex, der, sizeof(der));
  pubkey *k = NULL;
  moat_err err = pubkey_from_spki(der, n, &k, detail, cap);
  pubkey_free(k);
  return err;
}

static void test_spki(void) {
  char detail[256];
  /* RFC 8410 10.1: an Ed25519 key. */
  CHECK_EQ_INT(spki_hex("302a300506032b6570032100"
                        "19bf44096984cdfe8541bac167dc3b96"
                        "c85086aa30b6b6cb0c5c38ad703166e1",
                        detail, sizeof(detail)),
               MOAT_OK);
  /* Ed25519 with parameters (NULL) is refused. */
  CHECK_EQ_INT(spki_hex("302c300706032b65700500032100"
                        "19bf44096984cdfe8541bac167dc3b96"
                        "c85086aa30b6b6cb0c5c38ad703166e1",
                        detail, sizeof(detail)),
               MOAT_ERR_BAD_CERTIFICATE);
  /* Truncated key, trailing garbage, BIT STRING with unused bits. */
  CHECK_EQ_INT(spki_hex("3029300506032b6570032000"
                        "19bf44096984cdfe8541bac167dc3b96"
                        "c85086aa30b6b6cb0c5c38ad703166",
                        detail, sizeof(detail)),
               MOAT_ERR_BAD_CERTIFICATE);
  CHECK_EQ_INT(spki_hex("302a300506032b6570032100"
                        "19bf44096984cdfe8541bac167dc3b96"
                        "c85086aa30b6b6cb0c5c38ad703166e100",
                        detail, sizeof(detail)),
               MOAT_ERR_BAD_CERTIFICATE);
  CHECK_EQ_INT(spki_hex("302a300506032b6570032101"
                        "19bf44096984cdfe8541bac167dc3b96"
                        "c85086aa30b6b6cb0c5c38ad703166e1",
                        detail, sizeof(detail)),
               MOAT_ERR_BAD_CERTIFICATE);
  /* An unknown algorithm (X25519 key, 1.3.101.110). */
  CHECK_EQ_INT(spki_hex("302a300506032b656e032100"
                        "19bf44096984cdfe8541bac167dc3b96"
                        "c85086aa30b6b6cb0c5c38ad703166e1",
                        detail, sizeof(detail)),
               MOAT_ERR_UNSUPPORTED_CERTIFICATE);
  /* EC on an unsupported named curve (secp256k1, 1.3.132.0.10). */
  CHECK_EQ_INT(spki_hex("3036301006072a8648ce3d020106052b8104000a032200"
                        "02aabbccddeeff00112233445566778899aabbccddeeff0011"
                        "2233445566778899",
                        detail, sizeof(detail)),
               MOAT_ERR_UNSUPPORTED_CERTIFICATE);
  /* EC P-256 with a point not on the curve (x = 1, y = 1). */
  char hex[400];
  (void)snprintf(hex, sizeof(hex),
                 "3059301306072a8648ce3d020106082a8648ce3d03010703420004"
                 "%064x%064x",
                 0, 0);
  memset(hex + strlen(hex) - 128, '0', 128);
  hex[strlen(hex) - 65] = '1';
  hex[strlen(hex) - 1] = '1';
  CHECK_EQ_INT(spki_hex(hex, detail, sizeof(detail)), MOAT_ERR_BAD_CERTIFICATE);
  CHECK(strstr(detail, "curve") != NULL);
  /* RSA: a 512-bit modulus is refused with the size in the detail. */
  CHECK(sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 "
           "-out %s && openssl pkey -in %s -pubout -outform DER -out r.spki",
           "rsa512.pem", "rsa512.pem"));
  size_t len = 0;
  uint8_t *der = slurp("r.spki", &len);
  pubkey *small = NULL;
  CHECK(der != NULL &&
        pubkey_from_spki(der, len, &small, detail, sizeof(detail)) ==
            MOAT_ERR_UNSUPPORTED_CERTIFICATE);
  CHECK(small == NULL && strstr(detail, "512 bits") != NULL);
  free(der);
  der = slurp("rsa.spki", &len);
  if (der != NULL) {
    pubkey *k = NULL;
    /* The real key parses; with the exponent made even it does not.  The
     * exponent 65537 ends the DER: ... 02 03 01 00 01. */
    CHECK(pubkey_from_spki(der, len, &k, detail, sizeof(detail)) == MOAT_OK);
    pubkey_free(k);
    der[len - 1] = 0x02;
    CHECK_EQ_INT(pubkey_from_spki(der, len, &k, detail, sizeof(detail)),
                 MOAT_ERR_BAD_CERTIFICATE);
    CHECK(strstr(detail, "even") != NULL);
    der[len - 1] = 0x01;
    der[len - 3] = 0x00; /* 00 00 01: not minimal */
    CHECK_EQ_INT(pubkey_from_spki(der, len, &k, detail, sizeof(detail)),
                 MOAT_ERR_BAD_CERTIFICATE);
    CHECK(k == NULL);
    free(der);
  }
  CHECK_EQ_INT(spki_hex("", detail, sizeof(detail)), MOAT_ERR_BAD_CERTIFICATE);
}

/* ---- private key loading ---------------------------------------------------
 */

static moat_err load_file(const char *name, const char *password, privkey **out,
                          char *detail, size_t cap) {
  size_t len = 0;
  uint8_t *data = slurp(name, &len);
  *out = NULL;
  if (data == NULL) {
    return MOAT_ERR_FILE_ERROR;
  }
  moat_err err =
      privkey_load(data, len, password, NULL, NULL, out, detail, cap);
  free(data);
  return err;
}

static int pw_cb(void *arg, char *buf, size_t cap) {
  const char *pw = arg;
  if (pw == NULL || strlen(pw) > cap) {
    return -1;
  }
  memcpy(buf, pw, strlen(pw));
  return (int)strlen(pw);
}

static void expect_load(const char *file, const char *pw, moat_err want,
                        key_type type) {
  char detail[256] = "";
  privkey *k = NULL;
  moat_err got = load_file(file, pw, &k, detail, sizeof(detail));
  if (got != want) {
    fprintf(stderr, "load %s: got %s (%s), want %s\n", file, moat_err_name(got),
            detail, moat_err_name(want));
  }
  CHECK_EQ_INT(got, want);
  if (want == MOAT_OK) {
    CHECK(k != NULL && privkey_type(k) == type);
  } else {
    CHECK(k == NULL);
    CHECK(detail[0] != '\0');
  }
  privkey_free(k);
}

static void test_privkey_load(void) {
  /* PKCS#1 RSA, SEC1 EC (both "traditional"), DER PKCS#8. */
  CHECK(sh("openssl pkey -in %s -traditional -out %s", "rsa.pem",
           "rsa_pkcs1.pem"));
  CHECK(sh("openssl pkey -in %s -traditional -out %s", "p256.pem",
           "p256_sec1.pem"));
  CHECK(sh("openssl pkey -in %s -outform DER -out %s", "p384.pem", "p384.der"));
  CHECK(sh("openssl pkey -in %s -traditional -outform DER -out %s", "rsa.pem",
           "rsa_pkcs1.der"));
  CHECK(sh("openssl pkey -in %s -traditional -outform DER -out %s", "p256.pem",
           "p256_sec1.der"));
  /* Encrypted PKCS#8, PEM and DER; legacy encrypted PEM. */
  CHECK(sh("openssl pkcs8 -topk8 -in %s -passout pass:s3cret -out %s",
           "p256.pem", "p256_enc.pem"));
  CHECK(sh("openssl pkcs8 -topk8 -in %s -passout pass:s3cret -outform DER "
           "-out %s",
           "ed25519.pem", "ed_enc.der"));
  CHECK(sh("openssl pkey -in %s -traditional -aes128 -passout pass:s3cret "
           "-out %s",
           "rsa.pem", "rsa_legacy_enc.pem"));
  /* A certificate, a bare public key, an X25519 key, garbage. */
  CHECK(sh("openssl req -x509 -key %s -subj /CN=test -days 1 -out %s",
           "p256.pem", "cert.pem"));
  CHECK(sh("openssl pkey -in %s -pubout -out %s", "p256.pem", "pub.pem"));
  CHECK(sh("openssl genpkey -algorithm X25519 -out %s%s", "x25519.pem", ""));
  CHECK(sh("head -c 300 /dev/urandom > %s%s", "garbage.bin", ""));
  CHECK(sh("cat %s p256.pem > %s", "cert.pem", "chain_and_key.pem"));

  size_t hdr_len = 0;
  uint8_t *legacy = slurp("rsa_legacy_enc.pem", &hdr_len);
  CHECK(legacy != NULL &&
        memmem(legacy, hdr_len, "Proc-Type: 4,ENCRYPTED", 22) != NULL);
  free(legacy);

  expect_load("rsa.pem", NULL, MOAT_OK, KEY_RSA);
  expect_load("rsa_pkcs1.pem", NULL, MOAT_OK, KEY_RSA);
  expect_load("rsa_pkcs1.der", NULL, MOAT_OK, KEY_RSA);
  expect_load("p256_sec1.pem", NULL, MOAT_OK, KEY_EC_P256);
  expect_load("p256_sec1.der", NULL, MOAT_OK, KEY_EC_P256);
  expect_load("p384.der", NULL, MOAT_OK, KEY_EC_P384);
  expect_load("ed448.pem", NULL, MOAT_OK, KEY_ED448);
  expect_load("chain_and_key.pem", NULL, MOAT_OK, KEY_EC_P256);

  expect_load("p256_enc.pem", "s3cret", MOAT_OK, KEY_EC_P256);
  expect_load("p256_enc.pem", "wrong", MOAT_ERR_BAD_PASSWORD, KEY_NONE);
  expect_load("p256_enc.pem", NULL, MOAT_ERR_BAD_PASSWORD, KEY_NONE);
  expect_load("ed_enc.der", "s3cret", MOAT_OK, KEY_ED25519);
  expect_load("ed_enc.der", "wrong", MOAT_ERR_BAD_PASSWORD, KEY_NONE);
  expect_load("ed_enc.der", NULL, MOAT_ERR_BAD_PASSWORD, KEY_NONE);
  expect_load("rsa_legacy_enc.pem", "s3cret", MOAT_OK, KEY_RSA);
  expect_load("rsa_legacy_enc.pem", "wrong", MOAT_ERR_BAD_PASSWORD, KEY_NONE);
  expect_load("rsa_legacy_enc.pem", NULL, MOAT_ERR_BAD_PASSWORD, KEY_NONE);

  expect_load("garbage.bin", NULL, MOAT_ERR_BAD_KEY, KEY_NONE);
  expect_load("cert.pem", NULL, MOAT_ERR_BAD_KEY, KEY_NONE);
  expect_load("pub.pem", NULL, MOAT_ERR_BAD_KEY, KEY_NONE);
  expect_load("rsa.spki", NULL, MOAT_ERR_BAD_KEY, KEY_NONE);
  expect_load("x25519.pem", NULL, MOAT_ERR_UNSUPPORTED_CERTIFICATE, KEY_NONE);
  expect_load("rsa512.pem", NULL, MOAT_ERR_UNSUPPORTED_CERTIFICATE, KEY_NONE);

  char detail[256] = "";
  privkey *k = NULL;
  CHECK_EQ_INT(load_file("cert.pem", NULL, &k, detail, sizeof(detail)),
               MOAT_ERR_BAD_KEY);
  CHECK(strstr(detail, "CERTIFICATE") != NULL);
  CHECK_EQ_INT(load_file("p256_enc.pem", "wrong", &k, detail, sizeof(detail)),
               MOAT_ERR_BAD_PASSWORD);
  CHECK(strstr(detail, "wrong password") != NULL);

  /* The password callback, right / wrong / aborting. */
  size_t len = 0;
  uint8_t *data = slurp("p256_enc.pem", &len);
  if (data != NULL) {
    CHECK_EQ_INT(privkey_load(data, len, NULL, pw_cb, "s3cret", &k, detail,
                              sizeof(detail)),
                 MOAT_OK);
    CHECK(k != NULL && g_pub[2] != NULL && privkey_matches(k, g_pub[2]));
    privkey_free(k);
    CHECK_EQ_INT(privkey_load(data, len, NULL, pw_cb, "nope", &k, detail,
                              sizeof(detail)),
                 MOAT_ERR_BAD_PASSWORD);
    CHECK_EQ_INT(
        privkey_load(data, len, NULL, pw_cb, NULL, &k, detail, sizeof(detail)),
        MOAT_ERR_BAD_PASSWORD);
    free(data);
  }
  CHECK_EQ_INT(
      privkey_load(NULL, 0, NULL, NULL, NULL, &k, detail, sizeof(detail)),
      MOAT_ERR_BAD_KEY);
  /* A truncated PEM key. */
  data = slurp("p256.pem", &len);
  if (data != NULL) {
    CHECK_EQ_INT(privkey_load(data, len / 2, NULL, NULL, NULL, &k, detail,
                              sizeof(detail)),
                 MOAT_ERR_BAD_KEY);
    free(data);
  }
}

static void test_random(void) {
  uint8_t a[32] = {0}, b[32] = {0}, z[32] = {0};
  CHECK(crypto_random(a, sizeof(a)) && crypto_random(b, sizeof(b)));
  CHECK(memcmp(a, b, 32) != 0 && memcmp(a, z, 32) != 0);
  CHECK(crypto_random(a, 0));
}

/* The public pool: successive draws differ, long draws bypass it, and a
 * forked child never hands out what its parent hands out next. */
static void test_random_public(void) {
  uint8_t a[32], b[32], z[32] = {0}, big[300];
  CHECK(crypto_random_public(a, sizeof(a)) &&
        crypto_random_public(b, sizeof(b)));
  CHECK(memcmp(a, b, 32) != 0 && memcmp(a, z, 32) != 0);
  memset(big, 0, sizeof(big));
  CHECK(crypto_random_public(big, sizeof(big)));
  CHECK(memcmp(big + 268, z, 32) != 0);
  /* Across a pool refill: 40 draws of 32 bytes, all distinct. */
  static uint8_t seen[40][32];
  for (int i = 0; i < 40; i++) {
    CHECK(crypto_random_public(seen[i], 32));
    for (int j = 0; j < i; j++) {
      CHECK(memcmp(seen[i], seen[j], 32) != 0);
    }
  }
  int fds[2];
  CHECK(pipe(fds) == 0);
  CHECK(crypto_random_public(a, 8)); /* the pool now holds unread bytes */
  pid_t pid = fork();
  if (pid == 0) {
    uint8_t c[32];
    bool ok = crypto_random_public(c, sizeof(c));
    ssize_t w = ok ? write(fds[1], c, sizeof(c)) : -1;
    _exit(w == (ssize_t)sizeof(c) ? 0 : 1);
  }
  CHECK(pid > 0);
  uint8_t parent[32], child[32];
  CHECK(crypto_random_public(parent, sizeof(parent)));
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0);
  CHECK(read(fds[0], child, sizeof(child)) == (ssize_t)sizeof(child));
  CHECK(memcmp(parent, child, sizeof(child)) != 0);
  close(fds[0]);
  close(fds[1]);
}

/* Several threads use the adapter from a cold start at once (the
 * algorithm table is built under pthread_once), sharing one keygen pool
 * as connections of one context do. */
static kex_pool *g_thread_pool;

static void *thread_body(void *arg) {
  int *ok = arg;
  uint8_t out[32], key[16] = {1}, nonce[12] = {0}, ct[48], s1[65], s2[65];
  uint8_t x1[32], x2[32];
  size_t l1, l2, xl1, xl2;
  *ok = 1;
  for (int i = 0; i < 20; i++) {
    kex_key *k = NULL;
    aead_ctx *a = aead_new(aead_get(AEAD_AES_128_GCM), key, true);
    if (!hash_oneshot(hash_get(HASH_SHA256), (const uint8_t *)"abc", 3, out) ||
        out[0] != 0xba || a == NULL ||
        !aead_seal(a, nonce, NULL, 0, key, 16, ct) ||
        !kex_generate(kex_by_group(0x0017), g_thread_pool, &k, s1, &l1) ||
        !kex_respond(kex_by_group(0x0017), g_thread_pool, s1, l1, s2, &l2, x2,
                     &xl2) ||
        !kex_finish(k, s2, l2, x1, &xl1) || memcmp(x1, x2, 32) != 0) {
      *ok = 0;
    }
    kex_key_free(k);
    aead_free(a);
  }
  return NULL;
}

static void test_threads(void) {
  pthread_t th[4];
  int ok[4] = {0};
  g_thread_pool = kex_pool_new();
  CHECK(g_thread_pool != NULL);
  for (int i = 0; i < 4; i++) {
    CHECK(pthread_create(&th[i], NULL, thread_body, &ok[i]) == 0);
  }
  for (int i = 0; i < 4; i++) {
    CHECK(pthread_join(th[i], NULL) == 0);
    CHECK_EQ_INT(ok[i], 1);
  }
  kex_pool_free(g_thread_pool);
  g_thread_pool = NULL;
}

/* Sealing data and a trailer in two parts gives the same record as
 * sealing them joined, for every AEAD, and it opens. */
static void test_aead_seal_parts(void) {
  static const aead_id ids[] = {AEAD_AES_128_GCM, AEAD_AES_256_GCM,
                                AEAD_CHACHA20_POLY1305};
  static uint8_t data[16385], joined[16386], a[16386 + 16], b[16386 + 16];
  uint8_t key[32], nonce[12] = {1, 2, 3}, aad[5] = {23, 3, 3, 0, 1};
  for (size_t i = 0; i < sizeof(data); i++) {
    data[i] = (uint8_t)(i * 7 + 1);
  }
  memset(key, 0x5a, sizeof(key));
  static const size_t lens[] = {0, 1, 15, 16, 17, 1000, 16384};
  for (size_t k = 0; k < 3; k++) {
    const aead_alg *alg = aead_get(ids[k]);
    aead_ctx *enc = aead_new(alg, key, true);
    aead_ctx *dec = aead_new(alg, key, false);
    for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
      size_t n = lens[j];
      uint8_t type = 22;
      memcpy(joined, data, n);
      joined[n] = type;
      CHECK(aead_seal(enc, nonce, aad, 5, joined, n + 1, a));
      CHECK(aead_seal_parts(enc, nonce, aad, 5, data, n, &type, 1, b));
      CHECK_MEM(a, b, n + 1 + 16);
      CHECK(aead_open(dec, nonce, aad, 5, b, n + 1 + 16, b) &&
            memcmp(b, joined, n + 1) == 0);
    }
    aead_free(enc);
    aead_free(dec);
  }
}

static bool all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) {
      return false;
    }
  }
  return true;
}

static bool all_byte_ee(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0xee) {
      return false;
    }
  }
  return true;
}

/* Opening into two places gives back exactly the sealed plaintext at every
 * split point, for every AEAD; a damaged record leaves nothing behind. */
static void test_aead_open_split(void) {
  static const aead_id ids[] = {AEAD_AES_128_GCM, AEAD_AES_256_GCM,
                                AEAD_CHACHA20_POLY1305};
  static uint8_t pt[16385], ct[16385 + 16], rec[16385 + 16], head[16386];
  uint8_t key[32], nonce[12] = {9, 8, 7}, aad[5] = {23, 3, 3, 0, 0};
  for (size_t i = 0; i < sizeof(pt); i++) {
    pt[i] = (uint8_t)(i * 13 + 5);
  }
  for (size_t i = 0; i < sizeof(key); i++) {
    key[i] = (uint8_t)(0xa0 + i);
  }
  static const size_t lens[] = {0, 1, 15, 16, 17, 1000, 16385};
  for (size_t k = 0; k < 3; k++) {
    const aead_alg *alg = aead_get(ids[k]);
    CHECK(alg != NULL);
    if (alg == NULL) {
      continue;
    }
    aead_ctx *enc = aead_new(alg, key, true);
    aead_ctx *dec = aead_new(alg, key, false);
    CHECK(enc != NULL && dec != NULL);
    for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
      size_t n = lens[j];
      size_t splits[] = {0, 1, n / 2, n > 0 ? n - 1 : 0, n};
      CHECK(aead_seal(enc, nonce, aad, 5, pt, n, ct));
      for (size_t s = 0; s < sizeof(splits) / sizeof(splits[0]); s++) {
        size_t h = splits[s] > n ? n : splits[s];
        memcpy(rec, ct, n + 16);
        memset(head, 0xee, sizeof(head));
        CHECK(aead_open_split(dec, nonce, aad, 5, rec, n + 16, head, h));
        CHECK_MEM(head, pt, h);
        CHECK_MEM(rec + h, pt + h, n - h);
        /* Nothing is written past the head part. */
        CHECK(head[h] == 0xee);

        /* A flipped ciphertext byte (in either part) or tag byte. */
        size_t flips[] = {h > 0 ? h - 1 : n + 3, h < n ? h : n, n + 15};
        for (size_t f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
          memcpy(rec, ct, n + 16);
          rec[flips[f]] ^= 0x40;
          memset(head, 0xee, sizeof(head));
          CHECK(!aead_open_split(dec, nonce, aad, 5, rec, n + 16, head, h));
          CHECK(all_zero(head, h));
          CHECK(all_zero(rec + h, n - h));
        }
      }
      /* A head longer than the plaintext is refused before anything is
       * written. */
      memcpy(rec, ct, n + 16);
      memset(head, 0xee, sizeof(head));
      CHECK(!aead_open_split(dec, nonce, aad, 5, rec, n + 16, head, n + 1));
      CHECK(all_byte_ee(head, n + 1));
      CHECK_MEM(rec, ct, n + 16);
      /* A different record header (the aad) is refused. */
      aad[4] ^= 1;
      memcpy(rec, ct, n + 16);
      CHECK(!aead_open_split(dec, nonce, aad, 5, rec, n + 16, head, n / 2));
      aad[4] ^= 1;
      /* And the context still opens afterwards. */
      memcpy(rec, ct, n + 16);
      CHECK(aead_open_split(dec, nonce, aad, 5, rec, n + 16, head, n / 3));
      CHECK_MEM(head, pt, n / 3);
      CHECK_MEM(rec + n / 3, pt + n / 3, n - n / 3);
      nonce[11]++;
    }
    /* Too short for a tag; the wrong direction. */
    CHECK(!aead_open_split(dec, nonce, aad, 5, rec, 15, head, 0));
    CHECK(!aead_open_split(enc, nonce, aad, 5, rec, 32, head, 0));
    aead_free(enc);
    aead_free(dec);
  }
}

/* The libcrypto that runs is the one moat was built against (an rpath or
 * LD_LIBRARY_PATH that is missing loads the system's instead), and, where
 * the build names one (make test-ossl35), that one. */
static void test_library_version(void) {
  const char *run = crypto_library_version();
  const char *built = crypto_library_built_version();
  printf("libcrypto: %s (built against %s)\n", run, built);
  CHECK(strncmp(run, "OpenSSL 3.", 10) == 0);
  /* "OpenSSL 3.N." : the same series */
  const char *dot = strchr(built + 10, '.');
  CHECK(dot != NULL && strncmp(run, built, (size_t)(dot - built) + 1) == 0);
#ifdef MOAT_EXPECT_LIBCRYPTO
  CHECK(strncmp(run, MOAT_EXPECT_LIBCRYPTO, strlen(MOAT_EXPECT_LIBCRYPTO)) ==
        0);
#endif
}

int main(void) {
  (void)snprintf(g_dir, sizeof(g_dir), "/tmp/moat_crypto_XXXXXX");
  if (mkdtemp(g_dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  test_library_version();
  test_aead_seal_parts();
  test_aead_open_split();
  test_threads();
  test_random();
  test_random_public();
  test_hash();
  test_hmac();
  test_hkdf();
  test_aead();
  test_kex_tables();
  test_kex_agree();
  test_kex_pool_threads();
  test_kex_kat();
  test_kex_hybrid();
  test_sig_tables();
  make_keys();
  test_sign_verify();
  test_shared_keys();
  test_verify_external();
  test_spki();
  test_privkey_load();
  for (size_t i = 0; i < NUM_KEYS; i++) {
    privkey_free(g_priv[i]);
    pubkey_free(g_pub[i]);
  }
  char cmd[128];
  (void)snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "could not remove %s\n", g_dir);
  }
  return t_done("test_crypto");
}
