/* Trust stores, path validation and certificate accessors over the test
 * PKI in tests/x509/pki (made by tests/x509/make_pki.sh). */
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "t.h"
#include "x509/x509.h"

#define PKI "tests/x509/pki/"

typedef struct chain {
  uint8_t *der[8];
  size_t len[8];
  size_t n;
} chain;

static void add_pem(chain *c, const char *path) {
  uint8_t *data;
  size_t len;
  if (x509_read_file(path, &data, &len, NULL, 0) != MOAT_OK) {
    return;
  }
  cursor text = cur_make(data, len);
  char label[64];
  uint8_t *der;
  size_t dl;
  while (c->n < 8 &&
         pem_next(&text, label, sizeof(label), &der, &dl, NULL, 0) == MOAT_OK &&
         der != NULL) {
    c->der[c->n] = der;
    c->len[c->n++] = dl;
  }
  moat_free(data);
}

static void free_chain(chain *c) {
  for (size_t i = 0; i < c->n; i++) {
    moat_free(c->der[i]);
  }
  c->n = 0;
}

static long run(x509_store *s, const char *leaf, bool with_inter,
                const char *host, uint32_t flags, moat_purpose purpose,
                x509_verify_result *res) {
  chain c = {{0}, {0}, 0};
  x509_verify_opts o;
  memset(&o, 0, sizeof(o));
  o.purpose = purpose;
  o.hostname = host;
  o.now = (int64_t)time(NULL);
  o.flags = flags;
  add_pem(&c, leaf);
  if (with_inter) {
    add_pem(&c, PKI "inter.pem");
  }
  x509_verify_chain(s, (const uint8_t *const *)c.der, c.len, c.n, &o, res);
  free_chain(&c);
  return res->code;
}

int main(void) {
  char detail[256];
  x509_verify_result r;
  x509_store *s = x509_store_new();
  CHECK_EQ_INT(x509_store_add_file(s, PKI "root.pem", detail, sizeof(detail)),
               MOAT_OK);
  CHECK_EQ_INT(x509_store_num_certs(s), 1);
  CHECK_EQ_INT(
      x509_store_add_file(s, PKI "inter.crl.pem", detail, sizeof(detail)),
      MOAT_OK);
  CHECK_EQ_INT(x509_store_num_crls(s), 1);
  CHECK_EQ_INT(
      x509_store_add_file(s, "/nonexistent/x.pem", detail, sizeof(detail)),
      MOAT_ERR_FILE_ERROR);
  CHECK_EQ_INT(x509_store_add_file(s, PKI "root.key", detail, sizeof(detail)),
               MOAT_ERR_BAD_PEM);

  /* The good chain, by name and by IP; the chain is leaf first. */
  CHECK_EQ_INT(run(s, PKI "server.pem", true, "localhost", 0,
                   MOAT_PURPOSE_SERVER_AUTH, &r),
               0);
  CHECK_EQ_INT(r.err, MOAT_OK);
  CHECK_EQ_INT(r.chain_len, 3);
  CHECK_EQ_INT(run(s, PKI "server.pem", true, "a.test.example", 0,
                   MOAT_PURPOSE_SERVER_AUTH, &r),
               0);
  CHECK_EQ_INT(
      run(s, PKI "server.pem", true, "::1", 0, MOAT_PURPOSE_SERVER_AUTH, &r),
      0);
  /* Failures with their codes, depths and messages. */
  CHECK_EQ_INT(run(s, PKI "server.pem", true, "example.org", 0,
                   MOAT_PURPOSE_SERVER_AUTH, &r),
               62);
  CHECK_EQ_INT(r.err, MOAT_ERR_HOSTNAME_MISMATCH);
  CHECK_EQ_INT(run(s, PKI "server.pem", true, "10.0.0.1", 0,
                   MOAT_PURPOSE_SERVER_AUTH, &r),
               64);
  CHECK_EQ_INT(
      run(s, PKI "server.pem", false, NULL, 0, MOAT_PURPOSE_SERVER_AUTH, &r),
      20);
  CHECK_EQ_INT(r.err, MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK_EQ_INT(
      run(s, PKI "expired.pem", true, NULL, 0, MOAT_PURPOSE_SERVER_AUTH, &r),
      10);
  CHECK(strstr(r.message, "notAfter 2000-01-02 00:00:00 UTC") != NULL);
  CHECK(strstr(r.message, "CN=expired.test.example at depth 0") != NULL);
  CHECK_EQ_INT(
      run(s, PKI "client.pem", true, NULL, 0, MOAT_PURPOSE_SERVER_AUTH, &r),
      26);
  CHECK_EQ_INT(
      run(s, PKI "client.pem", true, NULL, 0, MOAT_PURPOSE_CLIENT_AUTH, &r), 0);
  CHECK_EQ_INT(run(s, PKI "selfsigned.pem", false, "localhost", 0,
                   MOAT_PURPOSE_SERVER_AUTH, &r),
               18);
  /* Revocation only when asked for. */
  CHECK_EQ_INT(
      run(s, PKI "revoked.pem", true, NULL, 0, MOAT_PURPOSE_SERVER_AUTH, &r),
      0);
  CHECK_EQ_INT(run(s, PKI "revoked.pem", true, NULL, MOAT_VERIFY_CRL_CHECK_LEAF,
                   MOAT_PURPOSE_SERVER_AUTH, &r),
               23);
  CHECK_EQ_INT(run(s, PKI "server.pem", true, NULL, MOAT_VERIFY_CRL_CHECK_CHAIN,
                   MOAT_PURPOSE_SERVER_AUTH, &r),
               3); /* no CRL from the root for the intermediate */

  /* Partial chains: an intermediate trusted on its own. */
  x509_store *p = x509_store_new();
  CHECK_EQ_INT(x509_store_add_file(p, PKI "inter.pem", detail, sizeof(detail)),
               MOAT_OK);
  CHECK_EQ_INT(
      run(p, PKI "server.pem", false, NULL, 0, MOAT_PURPOSE_SERVER_AUTH, &r),
      20);
  CHECK_EQ_INT(run(p, PKI "server.pem", false, NULL,
                   MOAT_VERIFY_X509_PARTIAL_CHAIN, MOAT_PURPOSE_SERVER_AUTH,
                   &r),
               0);
  CHECK_EQ_INT(r.chain_len, 2);
  x509_store_free(p);

  /* Name constraints reach the CN that the host-name check falls back to
   * when the leaf has no DNS names, even when it lists an IP address. */
  x509_store *nc = x509_store_new();
  CHECK_EQ_INT(
      x509_store_add_file(nc, PKI "ncroot.pem", detail, sizeof(detail)),
      MOAT_OK);
  chain ncc = {{0}, {0}, 0};
  add_pem(&ncc, PKI "ncleaf.pem");
  x509_verify_opts o;
  memset(&o, 0, sizeof(o));
  o.purpose = MOAT_PURPOSE_SERVER_AUTH;
  o.now = (int64_t)time(NULL);
  o.hostname = "www.evil.example";
  o.check_common_name = true;
  x509_verify_chain(nc, (const uint8_t *const *)ncc.der, ncc.len, ncc.n, &o,
                    &r);
  CHECK_EQ_INT(r.code, 48); /* excluded subtree violation */
  CHECK(strstr(r.message, "CN=www.evil.example at depth 0") != NULL);
  /* By its IP address the same leaf is fine (as BetterTLS expects). */
  o.hostname = "127.0.0.1";
  x509_verify_chain(nc, (const uint8_t *const *)ncc.der, ncc.len, ncc.n, &o,
                    &r);
  CHECK_EQ_INT(r.code, 0);
  free_chain(&ncc);
  x509_store_free(nc);

  /* Certificate accessors. */
  uint8_t *data;
  size_t len;
  moat_cert *mc = NULL;
  char buf[256];
  CHECK_EQ_INT(x509_read_file(PKI "server.pem", &data, &len, NULL, 0), MOAT_OK);
  CHECK_EQ_INT(moat_cert_from_pem(data, len, &mc), MOAT_OK);
  moat_free(data);
  CHECK(mc != NULL);
  if (mc != NULL) {
    moat_cert_subject(mc, buf, sizeof(buf));
    CHECK(strcmp(buf, "CN=server.test.example") == 0);
    moat_cert_issuer(mc, buf, sizeof(buf));
    CHECK(strcmp(buf, "CN=moat test intermediate") == 0);
    moat_cert_serial_hex(mc, buf, sizeof(buf));
    CHECK(strcmp(buf, "0A") == 0);
    CHECK_EQ_INT(moat_cert_num_san(mc), 4);
    moat_cert_san(mc, 0, buf, sizeof(buf));
    CHECK(strcmp(buf, "DNS:localhost") == 0);
    moat_cert_san(mc, 2, buf, sizeof(buf));
    CHECK(strcmp(buf, "IP:127.0.0.1") == 0);
    CHECK(strcmp(moat_cert_key_type(mc), "EC") == 0);
    CHECK_EQ_INT(moat_cert_key_bits(mc), 256);
    CHECK(moat_cert_not_after(mc) > moat_cert_not_before(mc));
    char pem[2048];
    size_t n = moat_cert_to_pem(mc, pem, sizeof(pem));
    CHECK(n < sizeof(pem) &&
          strncmp(pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
    moat_cert_free(mc);
  }

  /* The default store: the second load shares the first's parsed copy
   * (the same bytes, not a second parse; its speed is the bench's
   * business, not a test's). */
  x509_store *d1 = x509_store_new();
  if (x509_store_add_default(d1, detail, sizeof(detail)) == MOAT_OK) {
    x509_store *d2 = x509_store_new();
    CHECK_EQ_INT(x509_store_add_default(d2, detail, sizeof(detail)), MOAT_OK);
    CHECK(x509_store_num_certs(d2) == x509_store_num_certs(d1));
    const uint8_t *der0, *der1;
    size_t l0, l1;
    CHECK(x509_store_cert_der(d2, 0, &der0, &l0) && l0 > 0);
    CHECK(x509_store_cert_der(d1, 0, &der1, &l1) && l1 == l0);
    CHECK(der0 == der1);
    x509_store_free(d2);
  }
  x509_store_free(d1);
  x509_store_free(s);
  return t_done("test_x509");
}
