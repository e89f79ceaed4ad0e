/* ECHConfigList codec and ECH key file (src/tls/ech_config.c,
 * ech_keyfile.c): files written by OpenSSL 4.0.2's `openssl ech`, lists
 * built here and parsed back, configs a client must skip, malformed
 * input, and the key file's refusals.  (The round trip through the openssl
 * command itself is tests/interop/ech_keygen.sh.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "hexvec.h"
#include "t.h"
#include "tls/ech_config.h"
#include "x509/x509.h"

/* `openssl ech -public_name example.com -out o1.pem` (OpenSSL 4.0.2). */
static const char k_ossl_x25519[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEIJCbEhDy3qkwlti72Aa0ZzF9M3CnlDr4DZf1NzpTGHRX\n"
    "-----END PRIVATE KEY-----\n"
    "-----BEGIN ECHCONFIG-----\n"
    "AD7+DQA6WAAgACDIWDYoHmXBoG8bJHCRjiSAPuYCRrtaO+1xeQEwaS1gbQAEAAEA\n"
    "AQALZXhhbXBsZS5jb20AAA==\n"
    "-----END ECHCONFIG-----\n";
/* What `openssl ech -in o1.pem -text` prints of it:
 * [fe0d,58,example.com,[0020,0001,0001],<public key>,00,00] */
static const char k_ossl_x25519_pk[] =
    "c85836281e65c1a06f1b2470918e24803ee60246bb5a3bed71790130692d606d";
/* `openssl ech -public_name ex.org -max_name_len 40 -suite 0x20,1,3`. */
static const char k_ossl_chacha[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEIEhzML3ZbGhx0a5bT6dZiQC1+CPJ64nPaxWBysqLcmJB\n"
    "-----END PRIVATE KEY-----\n"
    "-----BEGIN ECHCONFIG-----\n"
    "ADn+DQA1WQAgACCiR60/eGhQiqI3zv14F+A2WKZeXEtI0rl78ZUR9FaeWgAEAAEA\n"
    "AygGZXgub3JnAAA=\n"
    "-----END ECHCONFIG-----\n";
/* `openssl ech -public_name foo.example -suite 0x10,1,1`: a P-256 key. */
static const char k_ossl_p256[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgpttJpffY8om45i4Q\n"
    "qiEfCGUiIN8lgdK2m8IGkkvDXmqhRANCAASairJK9mMimcO+eQc9HUxOGKpM40ds\n"
    "IiB0hkz5uoRraMntQFx7u0gymODO1NDg/WBTllOXyYE3Cg6vwrAGuNXl\n"
    "-----END PRIVATE KEY-----\n"
    "-----BEGIN ECHCONFIG-----\n"
    "AF/+DQBbJwAQAEEEmoqySvZjIpnDvnkHPR1MThiqTONHbCIgdIZM+bqEa2jJ7UBc\n"
    "e7tIMpjgztTQ4P1gU5ZTl8mBNwoOr8KwBrjV5QAEAAEAAQALZm9vLmV4YW1wbGUA\n"
    "AA==\n"
    "-----END ECHCONFIG-----\n";

static bool cur_is(const cursor *c, const char *s) {
  return cur_len(c) == strlen(s) && memcmp(cur_data(c), s, strlen(s)) == 0;
}

static moat_err parse_text(const char *text, ech_key_file *f, char *detail) {
  return ech_key_file_parse((const uint8_t *)text, strlen(text), f, detail,
                            256);
}

/* OpenSSL's files, field by field (the values -text prints). */
static void test_openssl_files(void) {
  ech_key_file f;
  char detail[256] = "";
  CHECK_EQ_INT(parse_text(k_ossl_x25519, &f, detail), MOAT_OK);
  CHECK(f.has_private_key);
  vec pk = V(k_ossl_x25519_pk);
  CHECK_EQ_INT(f.public_key_len, 32);
  CHECK_MEM(f.public_key, pk.b, 32);
  CHECK_EQ_INT(f.config_list_len, 0x40);

  size_t num = 0, usable = 0;
  ech_config c;
  tls_cause why;
  CHECK_EQ_INT(ech_config_list_parse(f.config_list, f.config_list_len, &num,
                                     &usable, &c, &why),
               MOAT_OK);
  CHECK_EQ_INT(num, 1);
  CHECK_EQ_INT(usable, 1);
  CHECK_EQ_INT(c.version, 0xfe0d);
  CHECK_EQ_INT(c.config_id, 0x58);
  CHECK_EQ_INT(c.kem_id, 0x0020);
  CHECK_EQ_INT(cur_len(&c.public_key), 32);
  CHECK_MEM(cur_data(&c.public_key), pk.b, 32);
  CHECK_EQ_INT(cur_len(&c.cipher_suites), 4);
  CHECK_EQ_INT(c.maximum_name_length, 0);
  CHECK(cur_is(&c.public_name, "example.com"));
  CHECK_EQ_INT(cur_len(&c.extensions), 0);
  CHECK(c.usable);
  CHECK_EQ_INT(c.suite.kem_id, 0x0020);
  CHECK_EQ_INT(c.suite.kdf_id, 0x0001);
  CHECK_EQ_INT(c.suite.aead_id, 0x0001);
  /* raw is the ECHConfig after the list's own two length bytes. */
  CHECK_EQ_INT(cur_len(&c.raw), f.config_list_len - 2);
  CHECK(cur_data(&c.raw) == f.config_list + 2);

  /* Writing the same key and list gives OpenSSL's text byte for byte. */
  char *text = NULL;
  size_t text_len = 0;
  CHECK_EQ_INT(ech_key_file_write(f.private_key, f.private_key_len,
                                  f.config_list, f.config_list_len, &text,
                                  &text_len),
               MOAT_OK);
  CHECK_EQ_INT(text_len, strlen(k_ossl_x25519));
  CHECK(text != NULL && strcmp(text, k_ossl_x25519) == 0);
  moat_free_wipe(text, text_len + 1);
  ech_key_file_clear(&f);
  CHECK(f.config_list == NULL && !f.has_private_key);

  CHECK_EQ_INT(parse_text(k_ossl_chacha, &f, detail), MOAT_OK);
  CHECK_EQ_INT(ech_config_list_parse(f.config_list, f.config_list_len, &num,
                                     &usable, &c, &why),
               MOAT_OK);
  CHECK_EQ_INT(c.config_id, 0x59);
  CHECK_EQ_INT(c.maximum_name_length, 40);
  CHECK(cur_is(&c.public_name, "ex.org"));
  CHECK_EQ_INT(c.suite.aead_id, HPKE_AEAD_CHACHA20_POLY1305);
  ech_key_file_clear(&f);

  /* A P-256 key: refused, saying what it is. */
  CHECK_EQ_INT(parse_text(k_ossl_p256, &f, detail), MOAT_ERR_UNSUPPORTED);
  CHECK(strstr(detail, "EC key") != NULL);
  CHECK(f.config_list == NULL);
}

/* Pieces of OpenSSL's files, mixed. */
static void test_key_file_refusals(void) {
  ech_key_file f;
  char detail[256] = "", text[2048];
  const char *cfg = strstr(k_ossl_x25519, "-----BEGIN ECHCONFIG");
  const char *cfg2 = strstr(k_ossl_chacha, "-----BEGIN ECHCONFIG");
  size_t key_len = (size_t)(cfg - k_ossl_x25519);

  /* The ECHCONFIG block alone: configs without a key. */
  CHECK_EQ_INT(parse_text(cfg, &f, detail), MOAT_OK);
  CHECK(!f.has_private_key && f.config_list_len == 0x40);
  ech_key_file_clear(&f);

  /* A key alone. */
  snprintf(text, sizeof(text), "%.*s", (int)key_len, k_ossl_x25519);
  CHECK_EQ_INT(parse_text(text, &f, detail), MOAT_ERR_BAD_PEM);
  CHECK(strstr(detail, "ECHCONFIG") != NULL);
  CHECK_EQ_INT(parse_text("", &f, detail), MOAT_ERR_BAD_PEM);

  /* One file's key with another's config. */
  snprintf(text, sizeof(text), "%.*s%s", (int)key_len, k_ossl_x25519, cfg2);
  CHECK_EQ_INT(parse_text(text, &f, detail), MOAT_ERR_KEY_MISMATCH);
  CHECK(f.config_list == NULL);

  /* Two configs blocks, two keys. */
  snprintf(text, sizeof(text), "%s%s", k_ossl_x25519, cfg);
  CHECK_EQ_INT(parse_text(text, &f, detail), MOAT_ERR_BAD_PEM);
  CHECK(strstr(detail, "more than one ECHCONFIG") != NULL);
  snprintf(text, sizeof(text), "%.*s%s", (int)key_len, k_ossl_x25519,
           k_ossl_x25519);
  CHECK_EQ_INT(parse_text(text, &f, detail), MOAT_ERR_BAD_PEM);

  /* Bytes of the list changed: the list length, then the public name's. */
  snprintf(text, sizeof(text), "%s", k_ossl_x25519);
  char *body = strstr(text, "AD7+");
  body[2] = '8'; /* 0x003f: one byte more than there is */
  CHECK_EQ_INT(parse_text(text, &f, detail), MOAT_ERR_DECODE_ERROR);
  CHECK(strstr(detail, "ECHCONFIG block") != NULL);
  /* Broken base64 and a broken key. */
  snprintf(text, sizeof(text), "%s", k_ossl_x25519);
  strstr(text, "AD7+")[1] = '!';
  CHECK_EQ_INT(parse_text(text, &f, detail), MOAT_ERR_BAD_PEM);
  snprintf(text, sizeof(text), "%s", k_ossl_x25519);
  strstr(text, "MC4C")[1] = 'D'; /* SEQUENCE of another length */
  CHECK_EQ_INT(parse_text(text, &f, detail), MOAT_ERR_BAD_KEY);
  CHECK(f.config_list == NULL && !f.has_private_key);

  /* A certificate's block among them is skipped. */
  snprintf(text, sizeof(text),
           "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n%s",
           k_ossl_x25519);
  CHECK_EQ_INT(parse_text(text, &f, detail), MOAT_OK);
  ech_key_file_clear(&f);

  CHECK_EQ_INT(
      ech_key_file_load("/nonexistent/ech.pem", &f, detail, sizeof(detail)),
      MOAT_ERR_FILE_ERROR);
}

static void test_public_names(void) {
  static const char *const good[] = {
      "example.com", "a.b",       "x-y.example", "123.example",
      "example.0xg", "localhost", "a1.b2c",      "xn--bcher-kva.example"};
  static const char *const bad[] = {
      "",
      ".example",
      "example.",
      "a..b",
      "-a.com",
      "a-.com",
      "1.2.3.4",
      "example.123",
      "example.0x1f",
      "example.0X",
      "0x",
      "exa_mple.com",
      "*.example.com",
      "ex ample.com",
      "ex\xc3\xa9.com",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    if (!ech_public_name_ok((const uint8_t *)good[i], strlen(good[i]))) {
      fprintf(stderr, "refused %s\n", good[i]);
      CHECK(false);
    }
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (ech_public_name_ok((const uint8_t *)bad[i], strlen(bad[i]))) {
      fprintf(stderr, "accepted %s\n", bad[i]);
      CHECK(false);
    }
  }
  CHECK(!ech_public_name_ok((const uint8_t *)"a\0b.com", 7));
}

/* A list built of the params, parsed back. */
static size_t build_list(const ech_config_params *p, size_t n, uint8_t *out,
                         size_t cap) {
  builder b;
  tls_cause why;
  bld_init_fixed(&b, out, cap);
  if (ech_config_list_build(&b, p, n, &why) != MOAT_OK || !bld_finish(&b)) {
    fprintf(stderr, "build: %s\n", why.detail);
    return 0;
  }
  return bld_len(&b);
}

static void test_build_parse(void) {
  uint8_t pk[32], p256[65], list[1024];
  memset(pk, 0x42, sizeof(pk));
  memset(p256, 0x04, sizeof(p256));
  hpke_suite aes = {0, HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM};
  hpke_suite two[] = {{0, 0x0002, 0x0001}, {0, 0x0001, 0x0003}};
  hpke_suite none[] = {{0, 0x0001, 0xffff}};
  /* An optional unknown extension, then a mandatory one. */
  static const uint8_t ext_opt[] = {0x12, 0x34, 0x00, 0x02, 0xab, 0xcd};
  static const uint8_t ext_mand[] = {0x12, 0x34, 0x00, 0x00,
                                     0x8a, 0xbc, 0x00, 0x00};
  static const uint8_t ext_dup[] = {0x00, 0x07, 0x00, 0x00,
                                    0x00, 0x07, 0x00, 0x00};
  ech_config_params p[] = {
      {1, 0x0010, p256, sizeof(p256), &aes, 1, 0, "p256.example", NULL, 0},
      {2, 0x0020, pk, sizeof(pk), none, 1, 0, "none.example", NULL, 0},
      {3, 0x0020, pk, sizeof(pk), &aes, 1, 0, "mand.example", ext_mand,
       sizeof(ext_mand)},
      {4, 0x0020, pk, sizeof(pk), two, 2, 64, "public.example", ext_opt,
       sizeof(ext_opt)},
      {5, 0x0020, pk, sizeof(pk), &aes, 1, 0, "second.example", NULL, 0},
  };
  size_t len = build_list(p, 5, list, sizeof(list));
  CHECK(len > 0);

  cursor configs;
  tls_cause why;
  CHECK_EQ_INT(ech_config_list_open(cur_make(list, len), &configs, &why),
               MOAT_OK);
  static const char *const reasons[] = {
      "KEM 0x0010", "cipher suites", "mandatory extension 0x8abc", NULL, NULL};
  for (int i = 0; i < 5; i++) {
    ech_config c;
    CHECK_EQ_INT(ech_config_next(&configs, &c, &why), MOAT_OK);
    CHECK_EQ_INT(c.config_id, p[i].config_id);
    CHECK_EQ_INT(c.kem_id, p[i].kem_id);
    CHECK(cur_is(&c.public_name, p[i].public_name));
    CHECK_EQ_INT(cur_len(&c.public_key), p[i].public_key_len);
    CHECK_EQ_INT(cur_len(&c.extensions), p[i].extensions_len);
    CHECK_EQ_INT(c.usable, reasons[i] == NULL);
    if (reasons[i] != NULL && strstr(c.unusable, reasons[i]) == NULL) {
      fprintf(stderr, "config %d: \"%s\"\n", i, c.unusable);
      CHECK(false);
    }
  }
  CHECK(cur_done(&configs));

  size_t num = 0, usable = 0;
  ech_config first;
  CHECK_EQ_INT(ech_config_list_parse(list, len, &num, &usable, &first, &why),
               MOAT_OK);
  CHECK_EQ_INT(num, 5);
  CHECK_EQ_INT(usable, 2);
  /* The client's choice: config 4 and its first suite moat has (HKDF-SHA384
   * is not: the second pair, ChaCha20-Poly1305). */
  CHECK_EQ_INT(first.config_id, 4);
  CHECK_EQ_INT(first.maximum_name_length, 64);
  CHECK_EQ_INT(first.suite.kdf_id, 0x0001);
  CHECK_EQ_INT(first.suite.aead_id, 0x0003);

  /* A version moat does not know is skipped by its length. */
  uint8_t odd[256];
  size_t one = build_list(&p[4], 1, list, sizeof(list));
  odd[0] = 0;
  odd[1] = (uint8_t)(one - 2 + 9);
  memcpy(odd + 2, "\xfe\x0c\x00\x05hello", 9);
  memcpy(odd + 11, list + 2, one - 2);
  CHECK_EQ_INT(ech_config_list_parse(odd, one + 9, &num, &usable, &first, &why),
               MOAT_OK);
  CHECK_EQ_INT(num, 2);
  CHECK_EQ_INT(usable, 1);
  CHECK_EQ_INT(first.config_id, 5);
  CHECK_EQ_INT(cur_data(&first.raw)[0], 0xfe);
  CHECK_EQ_INT(cur_len(&first.raw), one - 2);

  /* Every proper prefix, and one byte more, is refused; nothing past the
   * buffer is read (ASan). */
  len = build_list(p, 5, list, sizeof(list));
  int refused = 0;
  for (size_t cut = 0; cut < len; cut++) {
    uint8_t *copy = moat_memdup(list, cut > 0 ? cut : 1);
    refused += ech_config_list_parse(copy, cut, &num, &usable, NULL, &why) ==
               MOAT_ERR_DECODE_ERROR;
    moat_free(copy);
  }
  CHECK_EQ_INT(refused, (int)len);
  list[len] = 0;
  CHECK_EQ_INT(ech_config_list_parse(list, len + 1, &num, &usable, NULL, &why),
               MOAT_ERR_DECODE_ERROR);

  /* An extension twice. */
  ech_config_params dup = p[4];
  dup.extensions = ext_dup;
  dup.extensions_len = sizeof(ext_dup);
  len = build_list(&dup, 1, list, sizeof(list));
  CHECK_EQ_INT(ech_config_list_parse(list, len, &num, &usable, NULL, &why),
               MOAT_ERR_ILLEGAL_PARAMETER);
  CHECK(strstr(why.detail, "0x0007 appears twice") != NULL);
}

/* Hand-made contents that the builder would not write. */
static void test_malformed(void) {
  static const char *const lists[] = {
      /* cipher_suites of 6 bytes */
      "001afe0d001601002000014200060001000100010004746573740000",
      /* empty public key */
      "0017fe0d001301002000000004000100010004746573740000",
      /* empty public name */
      "0014fe0d001001002000014200040001000100000000",
      /* contents longer than the config's length says */
      "0018fe0d00130100200001420004000100010004746573740000",
      /* a list length one short of the data */
      "0017fe0d00140100200001420004000100010004746573740000",
      /* empty list */
      "0000",
      /* config length past the list */
      "0004fe0d0005",
  };

  for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
    vec v = V(lists[i]);
    size_t num, usable;
    tls_cause why;
    moat_err err = ech_config_list_parse(v.b, v.n, &num, &usable, NULL, &why);
    if (err != MOAT_ERR_DECODE_ERROR) {
      fprintf(stderr, "list %zu: %d (%s)\n", i, err,
              err == MOAT_OK ? "accepted" : why.detail);
      CHECK(false);
    }
  }
  /* The same shape with correct lengths parses (so the cases above fail
   * for the reason they show). */
  vec ok = V("0018fe0d00140100200001420004000100010004746573740000");
  size_t num, usable;
  tls_cause why;
  CHECK_EQ_INT(ech_config_list_parse(ok.b, ok.n, &num, &usable, NULL, &why),
               MOAT_OK);
  CHECK_EQ_INT(num, 1);
  CHECK_EQ_INT(usable, 0); /* a one-byte X25519 key */
}

static void test_build_refusals(void) {
  uint8_t pk[32] = {1}, out[512];
  hpke_suite aes = {0, 1, 1};
  ech_config_params p = {1, 0x0020, pk, 32, &aes, 1, 0, "ok.example", NULL, 0};
  builder b;
  tls_cause why;
  static const char *const names[] = {"", "1.2.3.4", "bad_name.example",
                                      ".example", NULL};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    p.public_name = names[i];
    bld_init_fixed(&b, out, sizeof(out));
    CHECK_EQ_INT(ech_config_build(&b, &p, &why), MOAT_ERR_INVALID_ARGUMENT);
  }
  p.public_name = "ok.example";
  p.num_suites = 0;
  bld_init_fixed(&b, out, sizeof(out));
  CHECK_EQ_INT(ech_config_build(&b, &p, &why), MOAT_ERR_INVALID_ARGUMENT);
  p.num_suites = 1;
  p.public_key_len = 0;
  CHECK_EQ_INT(ech_config_build(&b, &p, &why), MOAT_ERR_INVALID_ARGUMENT);
  p.public_key_len = 32;
  bld_init_fixed(&b, out, 20); /* too small */
  CHECK_EQ_INT(ech_config_build(&b, &p, &why), MOAT_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(ech_config_list_build(&b, &p, 0, &why),
               MOAT_ERR_INVALID_ARGUMENT);
}

static void test_base64(void) {
  static const char *const good[] = {"",         "Zg==",   "Zm8=",       "Zm9v",
                                     "Zm9vYg==", "Zm9vYg", "Zm 9v\tYmFy"};
  static const char *const want[] = {"",     "f",    "fo",    "foo",
                                     "foob", "foob", "foobar"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    uint8_t out[16];
    size_t n = 99;
    CHECK(b64_decode(good[i], strlen(good[i]), out, sizeof(out), &n));
    CHECK_EQ_INT(n, strlen(want[i]));
    CHECK_MEM(out, want[i], n);
  }
  static const char *const bad[] = {"Zg=",      "Z===", "Zh==",  "Zm9v!",
                                    "Zg==Zg==", "Z",    "Zm9v\n"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint8_t out[16];
    size_t n;
    if (b64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n)) {
      fprintf(stderr, "accepted base64 \"%s\"\n", bad[i]);
      CHECK(false);
    }
  }
  uint8_t small[2];
  size_t n;
  CHECK(!b64_decode("Zm9v", 4, small, sizeof(small), &n));
  char enc[16];
  CHECK_EQ_INT(b64_encode((const uint8_t *)"foob", 4, enc, sizeof(enc)), 8);
  CHECK(strcmp(enc, "Zm9vYg==") == 0);
  CHECK_EQ_INT(b64_encode((const uint8_t *)"foobar", 6, enc, 4), 8);
}

/* The public calls (moat_ech_keys_*): a generated key read back through
 * every accessor, the file written and loaded, and the refusals. */
static void test_public_api(void) {
  moat_ech_keys *k = NULL, *k2 = NULL;
  char detail[256] = "", text[2048], line[1024], b64[512];
  CHECK_EQ_INT(moat_ech_keys_generate("public.example", 0x2a, 40, &k, detail,
                                      sizeof(detail)),
               MOAT_OK);
  if (k == NULL) {
    fprintf(stderr, "generate: %s\n", detail);
    return;
  }
  CHECK(moat_ech_keys_has_private_key(k));
  CHECK_EQ_INT(moat_ech_keys_num_configs(k), 1);
  size_t list_len = 0;
  const uint8_t *list = moat_ech_keys_config_list(k, &list_len);
  size_t num, usable;
  ech_config c;
  tls_cause why;
  CHECK_EQ_INT(ech_config_list_parse(list, list_len, &num, &usable, &c, &why),
               MOAT_OK);
  CHECK_EQ_INT(usable, 1);
  CHECK_EQ_INT(c.config_id, 0x2a);
  CHECK_EQ_INT(c.maximum_name_length, 40);
  CHECK_EQ_INT(cur_len(&c.cipher_suites), 12);
  CHECK(cur_is(&c.public_name, "public.example"));

  /* The base64 form decodes to the list. */
  size_t n = moat_ech_keys_config_list_base64(k, b64, sizeof(b64));
  CHECK_EQ_INT(n, strlen(b64));
  uint8_t back[512];
  size_t back_len = 0;
  CHECK(b64_decode(b64, n, back, sizeof(back), &back_len));
  CHECK_EQ_INT(back_len, list_len);
  CHECK_MEM(back, list, list_len);

  /* The text reads back as the same key and list. */
  size_t pem_len = moat_ech_keys_pem(k, NULL, 0);
  CHECK(pem_len > 0 && pem_len < sizeof(text));
  CHECK_EQ_INT(moat_ech_keys_pem(k, text, sizeof(text)), pem_len);
  CHECK(strncmp(text, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
  CHECK_EQ_INT(moat_ech_keys_from_pem((const uint8_t *)text, pem_len, &k2,
                                      detail, sizeof(detail)),
               MOAT_OK);
  size_t list2_len = 0;
  const uint8_t *list2 = moat_ech_keys_config_list(k2, &list2_len);
  CHECK(list2_len == list_len && memcmp(list2, list, list_len) == 0);
  moat_ech_keys_free(k2);
  k2 = NULL;
  /* Too small a buffer: the length, and an empty string. */
  char small[8] = "x";
  CHECK_EQ_INT(moat_ech_keys_pem(k, small, sizeof(small)), pem_len);
  CHECK_EQ_INT(small[0], '\0');

  n = moat_ech_keys_config_text(k, 0, line, sizeof(line));
  CHECK_EQ_INT(n, strlen(line));
  CHECK(strstr(line, "config_id 42 (0x2a), version 0xfe0d, KEM 0x0020") !=
        NULL);
  CHECK(strstr(line, "maximum_name_length 40, public_name public.example") !=
        NULL);
  CHECK(strstr(line, ": usable") != NULL);
  CHECK_EQ_INT(moat_ech_keys_config_text(k, 1, line, sizeof(line)), 0);

  /* Written with mode 0600, never over a file unless asked. */
  char path[64];
  snprintf(path, sizeof(path), "/tmp/moat_ech_%d.pem", (int)getpid());
  unlink(path);
  CHECK_EQ_INT(moat_ech_keys_write(k, path, false, detail, sizeof(detail)),
               MOAT_OK);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK_EQ_INT(moat_ech_keys_write(k, path, false, detail, sizeof(detail)),
               MOAT_ERR_FILE_ERROR);
  CHECK(strstr(detail, "exists") != NULL);
  CHECK(chmod(path, 0644) == 0);
  CHECK_EQ_INT(moat_ech_keys_write(k, path, true, detail, sizeof(detail)),
               MOAT_OK);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK_EQ_INT(moat_ech_keys_load(path, &k2, detail, sizeof(detail)), MOAT_OK);
  CHECK(moat_ech_keys_has_private_key(k2));
  list2 = moat_ech_keys_config_list(k2, &list2_len);
  CHECK(list2_len == list_len && memcmp(list2, list, list_len) == 0);
  moat_ech_keys_free(k2);
  unlink(path);
  moat_ech_keys_free(k);

  /* Two keys differ; a random config id is in range. */
  CHECK_EQ_INT(
      moat_ech_keys_generate("a.example", -1, 0, &k, detail, sizeof(detail)),
      MOAT_OK);
  CHECK_EQ_INT(
      moat_ech_keys_generate("a.example", -1, 0, &k2, detail, sizeof(detail)),
      MOAT_OK);
  list = moat_ech_keys_config_list(k, &list_len);
  list2 = moat_ech_keys_config_list(k2, &list2_len);
  CHECK(list_len == list2_len && memcmp(list, list2, list_len) != 0);
  moat_ech_keys_free(k);
  moat_ech_keys_free(k2);
  k = NULL;

  /* Refusals. */
  CHECK_EQ_INT(
      moat_ech_keys_generate("1.2.3.4", 1, 0, &k, detail, sizeof(detail)),
      MOAT_ERR_INVALID_ARGUMENT);
  CHECK(k == NULL && strstr(detail, "6.1.7") != NULL);
  CHECK_EQ_INT(moat_ech_keys_generate(NULL, 1, 0, &k, detail, sizeof(detail)),
               MOAT_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(
      moat_ech_keys_generate("a.example", 256, 0, &k, detail, sizeof(detail)),
      MOAT_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(
      moat_ech_keys_generate("a.example", 1, 256, &k, detail, sizeof(detail)),
      MOAT_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(moat_ech_keys_load("/nonexistent", &k, detail, sizeof(detail)),
               MOAT_ERR_FILE_ERROR);
  CHECK(k == NULL);
  moat_ech_keys_free(NULL);
  CHECK(!moat_ech_keys_has_private_key(NULL));
}

int main(void) {
  test_openssl_files();
  test_key_file_refusals();
  test_public_names();
  test_build_parse();
  test_malformed();
  test_build_refusals();
  test_base64();
  test_public_api();
  return t_done("test_ech_config");
}
