/* PEM blocks: bundles, CRLF, comments, errors. */
#include <string.h>

#include "base/mem.h"
#include "t.h"
#include "x509/x509.h"

static moat_err one(const char *text, char *label, uint8_t **der, size_t *len,
                    char *detail) {
  cursor c = cur_make((const uint8_t *)text, strlen(text));
  return pem_next(&c, label, 64, der, len, detail, 128);
}

int main(void) {
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
