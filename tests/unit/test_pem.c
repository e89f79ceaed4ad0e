/* PEM blocks: bundles, CRLF, comments, errors; key blocks are wiped. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "t.h"
#include "x509/x509.h"

/* An allocator that keeps each block's size in front of it and, when a
 * block is freed, counts it if it still holds the test's secret marker
 * (raw, or as the base64 text of a PEM block): whatever moat decoded from
 * or read around a private key must be wiped before it is freed. */
#define MARK "MOATSECRETMARKER"
#define MARK_B64 "TU9BVFNFQ1JFVE1BUktF" /* base64 of its first 15 bytes */
#define HDR 16
static int g_unwiped;

static bool holds(const uint8_t *p, size_t n, const char *m) {
  return memmem(p, n, m, strlen(m)) != NULL;
}

static void *t_malloc(size_t n, void *arg) {
  (void)arg;
  uint8_t *p = malloc(HDR + n);
  if (p == NULL) {
    return NULL;
  }
  memcpy(p, &n, sizeof(n));
  return p + HDR;
}

static void t_free(void *q, void *arg) {
  (void)arg;
  if (q == NULL) {
    return;
  }
  uint8_t *p = (uint8_t *)q - HDR;
  size_t n;
  memcpy(&n, p, sizeof(n));
  if (holds(q, n, MARK) || holds(q, n, MARK_B64)) {
    g_unwiped++;
  }
  free(p);
}

static void *t_realloc(void *q, size_t n, void *arg) {
  void *r = t_malloc(n, arg);
  if (r != NULL && q != NULL) {
    size_t old;
    memcpy(&old, (uint8_t *)q - HDR, sizeof(old));
    memcpy(r, q, old < n ? old : n);
    t_free(q, arg);
  }
  return r;
}

/* A PEM private key block whose first line decodes to MARK. */
#define KEY_LINE "-----BEGIN PRIVATE KEY-----\n" MARK_B64 "Ug==\n"
#define KEY_BLOCK KEY_LINE "-----END PRIVATE KEY-----\n"

static void test_key_blocks_wiped(void) {
  char label[64], detail[128];
  uint8_t *der;
  size_t len, which = 9;
  /* The counter works: a marked block freed as it is counts. */
  uint8_t *m = moat_memdup(MARK, strlen(MARK));
  moat_free(m);
  CHECK_EQ_INT(g_unwiped, 1);
  g_unwiped = 0;

  /* A key block that fails to decode after its first line. */
  const char *bad = KEY_LINE "!!!!\n-----END PRIVATE KEY-----\n";
  cursor c = cur_make((const uint8_t *)bad, strlen(bad));
  CHECK_EQ_INT(pem_next(&c, label, sizeof(label), &der, &len, detail, 128),
               MOAT_ERR_BAD_PEM);
  CHECK_EQ_INT(g_unwiped, 0);

  /* pem_next_of skips (and wipes) the key and returns the certificate. */
  static const char *const certs[] = {"CRL", "CERTIFICATE", NULL};
  const char *both = KEY_BLOCK
      "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
  c = cur_make((const uint8_t *)both, strlen(both));
  CHECK_EQ_INT(pem_next_of(&c, certs, &which, &der, &len, detail, 128),
               MOAT_OK);
  CHECK(der != NULL && len == 3 && which == 1);
  moat_free(der);
  CHECK_EQ_INT(pem_next_of(&c, certs, &which, &der, &len, detail, 128),
               MOAT_OK);
  CHECK(der == NULL);
  CHECK_EQ_INT(g_unwiped, 0);

  /* A certificate object from PEM that has the key first. */
  moat_cert *mc = NULL;
  CHECK_EQ_INT(moat_cert_from_pem((const uint8_t *)both, strlen(both), &mc),
               MOAT_ERR_BAD_CERTIFICATE);
  CHECK_EQ_INT(g_unwiped, 0);

  /* Trust stores: a key block in PEM, a DER key, a key file. */
  x509_store *s = x509_store_new();
  CHECK_EQ_INT(x509_store_add_mem(s, (const uint8_t *)both, strlen(both),
                                  detail, sizeof(detail)),
               MOAT_ERR_BAD_PEM);
  CHECK_EQ_INT(x509_store_add_mem(s, (const uint8_t *)"\x30\x10" MARK, 18,
                                  detail, sizeof(detail)),
               MOAT_ERR_X509_PARSE);
  char path[] = "/tmp/moat_test_pem_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd >= 0) {
    CHECK(write(fd, both, strlen(both)) == (ssize_t)strlen(both));
    close(fd);
    CHECK_EQ_INT(x509_store_add_file(s, path, detail, sizeof(detail)),
                 MOAT_ERR_BAD_PEM);
    unlink(path);
  }
  x509_store_free(s);
  CHECK_EQ_INT(g_unwiped, 0);
}

static moat_err one(const char *text, char *label, uint8_t **der, size_t *len,
                    char *detail) {
  cursor c = cur_make((const uint8_t *)text, strlen(text));
  return pem_next(&c, label, 64, der, len, detail, 128);
}

int main(void) {
  /* Before anything allocates. */
  moat_allocator alloc = {t_malloc, t_realloc, t_free, NULL};
  CHECK_EQ_INT(moat_set_allocator(&alloc), MOAT_OK);
  test_key_blocks_wiped();
  char label[64], detail[128];
  uint8_t *der;
  size_t len;
  /* "hello" in base64, with comments around and CRLF line ends. */
  const char *a = "comment\r\n-----BEGIN TEST-----\r\naGVsbG8=\r\n"
                  "-----END TEST-----\r\ntrailing\n"
                  "-----BEGIN OTHER-----\nAAEC\n-----END OTHER-----\n";
  cursor c = cur_make((const uint8_t *)a, strlen(a));
  CHECK_EQ_INT(pem_next(&c, label, sizeof(label), &der, &len, detail, 128),
               MOAT_OK);
  CHECK(der != NULL && len == 5 && memcmp(der, "hello", 5) == 0);
  CHECK(strcmp(label, "TEST") == 0);
  moat_free(der);
  CHECK_EQ_INT(pem_next(&c, label, sizeof(label), &der, &len, detail, 128),
               MOAT_OK);
  CHECK(der != NULL && len == 3 && der[0] == 0 && der[1] == 1 && der[2] == 2);
  CHECK(strcmp(label, "OTHER") == 0);
  moat_free(der);
  CHECK_EQ_INT(pem_next(&c, label, sizeof(label), &der, &len, detail, 128),
               MOAT_OK);
  CHECK(der == NULL);

  /* Mismatched labels. */
  CHECK_EQ_INT(one("-----BEGIN A-----\nAAAA\n-----END B-----\n", label, &der,
                   &len, detail),
               MOAT_ERR_BAD_PEM);
  CHECK(strstr(detail, "does not match") != NULL);
  /* Truncated. */
  CHECK_EQ_INT(one("-----BEGIN A-----\nAAAA\n", label, &der, &len, detail),
               MOAT_ERR_BAD_PEM);
  CHECK(strstr(detail, "truncated") != NULL);
  /* Bad base64 characters, padding in the middle, non-zero pad bits. */
  CHECK_EQ_INT(one("-----BEGIN A-----\nAA!A\n-----END A-----\n", label, &der,
                   &len, detail),
               MOAT_ERR_BAD_PEM);
  CHECK(strstr(detail, "line 1") != NULL);
  CHECK_EQ_INT(one("-----BEGIN A-----\nAA==AAAA\n-----END A-----\n", label,
                   &der, &len, detail),
               MOAT_ERR_BAD_PEM);
  CHECK_EQ_INT(one("-----BEGIN A-----\naGVsbG9=\n-----END A-----\n", label,
                   &der, &len, detail),
               MOAT_ERR_BAD_PEM);
  /* No block at all: end with no data. */
  CHECK_EQ_INT(one("just text\n", label, &der, &len, detail), MOAT_OK);
  CHECK(der == NULL);

  CHECK(pem_detect((const uint8_t *)a, strlen(a)));
  CHECK(!pem_detect((const uint8_t *)"\x30\x03", 2));

  /* Round trip through pem_write. */
  uint8_t bytes[100];
  for (size_t i = 0; i < sizeof(bytes); i++) {
    bytes[i] = (uint8_t)(i * 7);
  }
  char out[400];
  size_t n = pem_write("CERTIFICATE", bytes, sizeof(bytes), out, sizeof(out));
  CHECK(n < sizeof(out));
  CHECK_EQ_INT(one(out, label, &der, &len, detail), MOAT_OK);
  CHECK(der != NULL && len == sizeof(bytes) &&
        memcmp(der, bytes, sizeof(bytes)) == 0);
  moat_free(der);
  return t_done("test_pem");
}
