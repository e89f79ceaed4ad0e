/* moat_verify_chain and the PEM reader beside it, through the public API
 * only: the same result as a handshake's verification, under the same
 * context settings. */
#include <stdlib.h>
#include <string.h>

#include "moat.h"
#include "pair.h"
#include "pki.h"
#include "t.h"

static uint8_t *read_all(const char *file, size_t *out_len) {
  char path[256];
  pki_path(path, sizeof(path), file);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  uint8_t *buf = malloc(65536);
  *out_len = buf != NULL ? fread(buf, 1, 65536, f) : 0;
  fclose(f);
  return buf;
}

/* The first certificate of a PEM file, as DER (caller frees). */
static uint8_t *first_der(const char *file, size_t *out_len) {
  size_t len = 0, off = 0;
  uint8_t *pem = read_all(file, &len);
  moat_cert *c = NULL;
  uint8_t *der = NULL;
  if (pem != NULL && moat_cert_from_pem_next(pem, len, &off, &c) == MOAT_OK &&
      c != NULL) {
    const uint8_t *d;
    moat_cert_der(c, &d, out_len);
    der = malloc(*out_len);
    memcpy(der, d, *out_len);
  }
  moat_cert_free(c);
  free(pem);
  return der;
}

static moat_context *client_ctx(bool with_ca) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  char ca[256];
  pki_path(ca, sizeof(ca), "ca.pem");
  if (with_ca) {
    CHECK(moat_context_load_verify_locations(ctx, ca, NULL, NULL, 0) ==
          MOAT_OK);
  }
  return ctx;
}

/* A handshake with the leaf as the server's certificate, for comparing
 * its verification with moat_verify_chain's. */
static void handshake_verdict(moat_context *cc, const char *host,
                              long *out_code, char *msg, size_t cap) {
  char crt[256], key[256];
  pki_path(crt, sizeof(crt), "leaf.pem");
  pki_path(key, sizeof(key), "leaf.key");
  moat_context *sc = moat_context_new(MOAT_ROLE_SERVER);
  CHECK(moat_context_load_cert_chain(sc, crt, key, NULL) == MOAT_OK);
  moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
  CHECK(moat_conn_set_hostname(c, host) == MOAT_OK);
  moat_err se;
  (void)handshake_both(c, s, &se);
  *out_code = moat_conn_verify_code(c);
  snprintf(msg, cap, "%s", moat_conn_verify_message(c));
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_free(sc);
}

static int64_t far_future(void *arg) {
  (void)arg;
  return (int64_t)4102444800; /* 2100-01-01 */
}

static void test_verify(void) {
  size_t len = 0;
  uint8_t *leaf = first_der("leaf.pem", &len);
  CHECK(leaf != NULL);
  const uint8_t *certs[1] = {leaf};
  size_t lens[1] = {len};
  moat_verify_result *r = NULL;

  /* Good: leaf to anchor, the anchor's bytes those of the trust store. */
  moat_context *ctx = client_ctx(true);
  CHECK(moat_verify_chain(ctx, certs, lens, 1, "localhost", &r) == MOAT_OK);
  CHECK(r != NULL && moat_verify_result_code(r) == 0);
  CHECK(strcmp(moat_verify_result_message(r), "ok") == 0);
  CHECK_EQ_INT(moat_verify_result_chain_len(r), 2);
  const uint8_t *d, *anchor;
  size_t dl, al;
  CHECK(moat_verify_result_cert_der(r, 0, &d, &dl) == MOAT_OK && dl == len &&
        memcmp(d, leaf, len) == 0);
  CHECK(moat_context_trusted_cert_der(ctx, 0, &anchor, &al) == MOAT_OK);
  CHECK(moat_verify_result_cert_der(r, 1, &d, &dl) == MOAT_OK && dl == al &&
        memcmp(d, anchor, al) == 0);
  CHECK(moat_verify_result_cert_der(r, 2, &d, &dl) ==
        MOAT_ERR_INVALID_ARGUMENT);
  moat_verify_result_free(r);

  /* The wrong name: the code and message a handshake gives. */
  long hs_code;
  char hs_msg[512];
  handshake_verdict(ctx, "example.com", &hs_code, hs_msg, sizeof(hs_msg));
  CHECK(moat_verify_chain(ctx, certs, lens, 1, "example.com", &r) ==
        MOAT_ERR_HOSTNAME_MISMATCH);
  CHECK(r != NULL && moat_verify_result_code(r) == hs_code && hs_code == 62);
  CHECK(strcmp(moat_verify_result_message(r), hs_msg) == 0);
  CHECK_EQ_INT(moat_verify_result_chain_len(r), 0);
  moat_verify_result_free(r);
  /* No name: none checked. */
  CHECK(moat_verify_chain(ctx, certs, lens, 1, NULL, &r) == MOAT_OK);
  moat_verify_result_free(r);

  /* The context's clock applies. */
  moat_context_set_clock(ctx, far_future, NULL);
  handshake_verdict(ctx, "localhost", &hs_code, hs_msg, sizeof(hs_msg));
  CHECK(moat_verify_chain(ctx, certs, lens, 1, "localhost", &r) ==
        MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK(moat_verify_result_code(r) == 10 && hs_code == 10);
  CHECK(strcmp(moat_verify_result_message(r), hs_msg) == 0);
  CHECK(strstr(moat_verify_result_message(r), "expired") != NULL);
  CHECK_EQ_INT(moat_verify_result_depth(r), 0);
  CHECK(moat_verify_result_error(r) == MOAT_ERR_CERT_VERIFY_FAILED);
  moat_verify_result_free(r);
  moat_context_free(ctx);

  /* No trust anchor: the missing issuer is named. */
  ctx = client_ctx(false);
  CHECK(moat_verify_chain(ctx, certs, lens, 1, "localhost", &r) ==
        MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK(moat_verify_result_code(r) == 20);
  CHECK(strstr(moat_verify_result_message(r),
               "unable to find the issuer CN=moat test CA of CN=localhost "
               "(depth 0); the chain sent had 1 certificate") != NULL);
  moat_verify_result_free(r);
  moat_context_free(ctx);

  /* A server context checks a client certificate: a serverAuth-only leaf
   * is refused for that purpose. */
  ctx = moat_context_new(MOAT_ROLE_SERVER);
  char ca[256];
  pki_path(ca, sizeof(ca), "ca.pem");
  CHECK(moat_context_load_verify_locations(ctx, ca, NULL, NULL, 0) == MOAT_OK);
  CHECK(moat_verify_chain(ctx, certs, lens, 1, NULL, &r) ==
        MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK(moat_verify_result_code(r) == 26); /* unsupported purpose */
  moat_verify_result_free(r);

  /* Bad arguments leave no result. */
  r = (moat_verify_result *)1;
  CHECK(moat_verify_chain(ctx, certs, lens, 0, NULL, &r) ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(r == NULL);
  CHECK(moat_verify_chain(NULL, certs, lens, 1, NULL, &r) ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_verify_chain(ctx, certs, lens, 1, NULL, NULL) ==
        MOAT_ERR_INVALID_ARGUMENT);
  moat_context_free(ctx);
  free(leaf);
}

static void test_pem_next(void) {
  size_t leaf_len = 0, ca_len = 0, key_len = 0;
  uint8_t *leaf = read_all("leaf.pem", &leaf_len);
  uint8_t *ca = read_all("ca.pem", &ca_len);
  uint8_t *key = read_all("leaf.key", &key_len);
  /* leaf, a private key, the CA: two certificates, the key skipped. */
  size_t len = leaf_len + key_len + ca_len;
  uint8_t *bundle = malloc(len);
  memcpy(bundle, leaf, leaf_len);
  memcpy(bundle + leaf_len, key, key_len);
  memcpy(bundle + leaf_len + key_len, ca, ca_len);
  size_t off = 0;
  moat_cert *c = NULL;
  char subj[128];
  CHECK(moat_cert_from_pem_next(bundle, len, &off, &c) == MOAT_OK && c);
  moat_cert_subject(c, subj, sizeof(subj));
  CHECK(strcmp(subj, "CN=localhost") == 0);
  moat_cert_free(c);
  CHECK(moat_cert_from_pem_next(bundle, len, &off, &c) == MOAT_OK && c);
  moat_cert_subject(c, subj, sizeof(subj));
  CHECK(strcmp(subj, "CN=moat test CA") == 0);
  moat_cert_free(c);
  CHECK(moat_cert_from_pem_next(bundle, len, &off, &c) == MOAT_OK);
  CHECK(c == NULL && off == len);
  /* A damaged block. */
  const char *bad = "-----BEGIN CERTIFICATE-----\n!!!!\n"
                    "-----END CERTIFICATE-----\n";
  off = 0;
  CHECK(moat_cert_from_pem_next((const uint8_t *)bad, strlen(bad), &off, &c) ==
        MOAT_ERR_BAD_PEM);
  CHECK(c == NULL);
  /* DER that is not a certificate, with the reason. */
  static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  char why[128];
  CHECK(moat_cert_check_der(junk, sizeof(junk), why, sizeof(why)) ==
        MOAT_ERR_BAD_CERTIFICATE);
  CHECK(why[0] != '\0');
  CHECK(moat_cert_check_der(junk, 0, why, sizeof(why)) ==
        MOAT_ERR_INVALID_ARGUMENT);
  size_t dl = 0;
  uint8_t *der = first_der("leaf.pem", &dl);
  CHECK(der && moat_cert_check_der(der, dl, why, sizeof(why)) == MOAT_OK);
  free(der);
  free(bundle);
  free(leaf);
  free(ca);
  free(key);
}

/* The extension list and texts of the test leaf (SAN, basic constraints,
 * key usage, EKU from pki_leaf; the key identifiers openssl adds). */
static void test_extensions(void) {
  size_t len = 0;
  uint8_t *der = first_der("leaf.pem", &len);
  moat_cert *c = NULL;
  CHECK(der != NULL && moat_cert_from_der(der, len, &c) == MOAT_OK);
  char oid[64], text[256], sig[128];
  int seen = 0;
  for (size_t i = 0; i < moat_cert_num_extensions(c); i++) {
    const char *name = NULL;
    bool critical = true;
    CHECK(moat_cert_extension_at(c, i, oid, sizeof(oid), &name, &critical) ==
          MOAT_OK);
    moat_cert_extension_text(c, i, text, sizeof(text));
    if (name != NULL && strcmp(name, "basicConstraints") == 0) {
      CHECK(strcmp(oid, "2.5.29.19") == 0 && strcmp(text, "CA:FALSE") == 0);
      seen |= 1;
    } else if (name != NULL && strcmp(name, "keyUsage") == 0) {
      CHECK(strcmp(text, "digitalSignature") == 0);
      seen |= 2;
    } else if (name != NULL && strcmp(name, "extKeyUsage") == 0) {
      CHECK(strcmp(text, "serverAuth") == 0 && !critical);
      seen |= 4;
    }
  }
  CHECK_EQ_INT(seen, 7);
  CHECK(moat_cert_extension_at(c, moat_cert_num_extensions(c), oid, sizeof(oid),
                               &(const char *){NULL},
                               &(bool){false}) == MOAT_ERR_INVALID_ARGUMENT);
  moat_cert_signature_name(c, sig, sizeof(sig));
  CHECK(strcmp(sig, "ECDSA with SHA-256") == 0);
  moat_cert_free(c);
  free(der);
}

int main(void) {
  if (pki_init() != 0 || pki_leaf("leaf", "p256", "30", "serverAuth")) {
    fprintf(stderr, "could not make the test PKI with openssl\n");
    return 1;
  }
  test_verify();
  test_pem_next();
  test_extensions();
  pki_cleanup();
  return t_done("verify_chain");
}
