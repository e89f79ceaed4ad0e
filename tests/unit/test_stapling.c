/* OCSP stapling's codecs (status_request, CertificateStatus) and the
 * context's staple setter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "moat.h"
#include "pair.h"
#include "t.h"
#include "tls/msg/msg.h"
#include "x509/x509.h"

static moat_err parse_ch(const uint8_t *p, size_t n, bool *ocsp) {
  tls_cause why;
  return ext_status_request_parse_ch(cur_make(p, n), ocsp, &why);
}

static void test_request(void) {
  uint8_t buf[64];
  builder b;
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(ext_status_request_build_ch(&b) && bld_finish(&b));
  static const uint8_t want[] = {0x01, 0x00, 0x00, 0x00, 0x00};
  CHECK_EQ_INT(bld_len(&b), sizeof(want));
  CHECK_MEM(buf, want, sizeof(want));
  bool ocsp = false;
  CHECK_EQ_INT(parse_ch(buf, bld_len(&b), &ocsp), MOAT_OK);
  CHECK(ocsp);
  /* Responder IDs and request extensions are framed, not interpreted. */
  static const uint8_t ids[] = {0x01, 0x00, 0x05, 0x00, 0x03, 0xa1,
                                0x01, 0x00, 0x00, 0x02, 0x30, 0x00};
  CHECK_EQ_INT(parse_ch(ids, sizeof(ids), &ocsp), MOAT_OK);
  CHECK(ocsp);
  /* Another status_type: not ours, not an error. */
  static const uint8_t other[] = {0x02, 0x00, 0x00};
  CHECK_EQ_INT(parse_ch(other, sizeof(other), &ocsp), MOAT_OK);
  CHECK(!ocsp);
  static const uint8_t empty_id[] = {0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00};
  CHECK_EQ_INT(parse_ch(empty_id, sizeof(empty_id), &ocsp),
               MOAT_ERR_DECODE_ERROR);
  static const uint8_t trailing[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00};
  CHECK_EQ_INT(parse_ch(trailing, sizeof(trailing), &ocsp),
               MOAT_ERR_DECODE_ERROR);
  for (size_t n = 0; n < sizeof(want); n++) {
    CHECK_EQ_INT(parse_ch(want, n, &ocsp), MOAT_ERR_DECODE_ERROR);
  }
  tls_cause why;
  CHECK_EQ_INT(ext_status_request_parse_sh12(cur_make(want, 0), &why), MOAT_OK);
  CHECK_EQ_INT(ext_status_request_parse_sh12(cur_make(want, 1), &why),
               MOAT_ERR_DECODE_ERROR);
}

static void test_cert_status(void) {
  static const uint8_t resp[] = {0x30, 0x03, 0x0a, 0x01, 0x00};
  uint8_t buf[64];
  builder b;
  tls_cause why;
  cursor got;
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(cert_status_build(&b, resp, sizeof(resp)) && bld_finish(&b));
  static const uint8_t want[] = {0x01, 0x00, 0x00, 0x05, 0x30,
                                 0x03, 0x0a, 0x01, 0x00};
  CHECK_EQ_INT(bld_len(&b), sizeof(want));
  CHECK_MEM(buf, want, sizeof(want));
  CHECK_EQ_INT(cert_status_parse(cur_make(want, sizeof(want)), &got, &why),
               MOAT_OK);
  CHECK(cur_equal(&got, resp, sizeof(resp)));
  for (size_t n = 0; n < sizeof(want); n++) {
    CHECK_EQ_INT(cert_status_parse(cur_make(want, n), &got, &why),
                 MOAT_ERR_DECODE_ERROR);
  }
  static const uint8_t empty[] = {0x01, 0x00, 0x00, 0x00};
  CHECK_EQ_INT(cert_status_parse(cur_make(empty, sizeof(empty)), &got, &why),
               MOAT_ERR_DECODE_ERROR);
  static const uint8_t other[] = {0x02, 0x00, 0x00, 0x01, 0x00};
  CHECK_EQ_INT(cert_status_parse(cur_make(other, sizeof(other)), &got, &why),
               MOAT_ERR_ILLEGAL_PARAMETER);
  CHECK(strstr(why.detail, "status_type 2") != NULL);
  /* The TLS 1.2 message: type 22 and a 24-bit length around it. */
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(cert_status12_build(&b, resp, sizeof(resp)));
  static const uint8_t msg[] = {0x16, 0x00, 0x00, 0x09};
  CHECK_EQ_INT(bld_len(&b), 4 + sizeof(want));
  CHECK_MEM(buf, msg, sizeof(msg));
  CHECK_MEM(buf + 4, want, sizeof(want));
}

/* TLS 1.3: the status in the leaf's CertificateEntry. */
static void test_cert_entry(void) {
  static uint8_t leaf[] = {0x30, 0x01, 0x00};
  static uint8_t inter[] = {0x30, 0x01, 0x01};
  uint8_t *chain[] = {leaf, inter};
  size_t lens[] = {sizeof(leaf), sizeof(inter)};
  static const uint8_t resp[] = {0x30, 0x03, 0x0a, 0x01, 0x00};
  uint8_t buf[128];
  builder b;
  cert_list certs;
  tls_cause why;
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(cert_build_status(&b, NULL, 0, chain, lens, 2, resp, sizeof(resp)));
  cursor body = cur_make(buf + 4, bld_len(&b) - 4);
  CHECK_EQ_INT(cert_parse_status(body, NULL, 0, true, &certs, &why), MOAT_OK);
  CHECK_EQ_INT(certs.num, 2);
  CHECK(cur_equal(&certs.status, resp, sizeof(resp)));
  /* A client that did not ask refuses it. */
  CHECK_EQ_INT(cert_parse(body, NULL, 0, &certs, &why),
               MOAT_ERR_UNSUPPORTED_EXTENSION);
  /* Without a status: empty. */
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(cert_build(&b, NULL, 0, chain, lens, 2));
  body = cur_make(buf + 4, bld_len(&b) - 4);
  CHECK_EQ_INT(cert_parse_status(body, NULL, 0, true, &certs, &why), MOAT_OK);
  CHECK(cur_done(&certs.status));
  /* A malformed status (status_type 2) in the leaf's entry. */
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(cert_build_status(&b, NULL, 0, chain, lens, 1, resp, sizeof(resp)));
  /* After the header and the lengths, the entry: 3-byte length, the leaf (30 01
   * 00), 2-byte extensions length, type 00 05, length, then status_type 01. */
  uint8_t *at = buf + 4 + 1 + 3 + 3 + sizeof(leaf) + 2 + 4;
  CHECK_EQ_INT(*at, 1);
  *at = 2;
  body = cur_make(buf + 4, bld_len(&b) - 4);
  CHECK_EQ_INT(cert_parse_status(body, NULL, 0, true, &certs, &why),
               MOAT_ERR_ILLEGAL_PARAMETER);
}

static void test_setter(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_SERVER);
  static const uint8_t garbage[] = {0x30, 0x03, 0x0a, 0x01};
  CHECK_EQ_INT(moat_context_set_ocsp_response(ctx, garbage, sizeof(garbage)),
               MOAT_ERR_BAD_OCSP_RESPONSE);
  CHECK(strstr(moat_context_error_detail(ctx), "malformed at OCSPResponse") !=
        NULL);
  static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
  CHECK_EQ_INT(
      moat_context_set_ocsp_response(ctx, try_later, sizeof(try_later)),
      MOAT_ERR_BAD_OCSP_RESPONSE);
  CHECK(strstr(moat_context_error_detail(ctx), "not successful") != NULL);
  CHECK_EQ_INT(moat_context_set_ocsp_response(ctx, NULL, 0),
               MOAT_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(moat_context_clear_ocsp_responses(ctx), MOAT_OK);
  CHECK(strcmp(moat_context_error_detail(ctx), "") == 0);
  moat_context_free(ctx);
}

/* ---- handshakes: moat against moat over memory ------------------------ */

static char dir[64];

static void path(char *out, size_t cap, const char *name, const char *ext) {
  snprintf(out, cap, "%s/%s.%s", dir, name, ext);
}

static int64_t clock_offset;
static int64_t offset_clock(void *arg) {
  (void)arg;
  return (int64_t)time(NULL) + clock_offset;
}

/* A server with NAME.pem / NAME.key stapling STAPLE.resp (NULL: none). */
static moat_context *server_ctx(const char *name, const char *staple,
                                int version) {
  char cert[128], key[128], resp[128];
  path(cert, sizeof(cert), name, "pem");
  path(key, sizeof(key), name, "key");
  moat_context *ctx = moat_context_new(MOAT_ROLE_SERVER);
  moat_context_set_min_version(ctx, version);
  moat_context_set_max_version(ctx, version);
  if (moat_context_load_cert_chain(ctx, cert, key, NULL) != MOAT_OK) {
    fprintf(stderr, "cannot load %s\n", cert);
  }
  if (staple != NULL) {
    uint8_t *der;
    size_t len;
    path(resp, sizeof(resp), staple, "resp");
    if (x509_read_file(resp, &der, &len, NULL, 0) != MOAT_OK ||
        moat_context_set_ocsp_response(ctx, der, len) != MOAT_OK) {
      fprintf(stderr, "cannot staple %s\n", resp);
    }
    moat_free(der);
  }
  return ctx;
}

static moat_context *client_ctx(moat_ocsp_stapling mode, int version) {
  char ca[128];
  path(ca, sizeof(ca), "ca", "pem");
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  moat_context_set_min_version(ctx, version);
  moat_context_set_max_version(ctx, version);
  moat_context_load_verify_locations(ctx, ca, NULL, NULL, 0);
  moat_context_set_ocsp_stapling(ctx, mode);
  moat_context_set_clock(ctx, offset_clock, NULL);
  return ctx;
}

typedef struct outcome {
  moat_err client, server;
  moat_ocsp_status status;
  bool stapled;
  int alert; /* the alert the server received, or -1 */
  long verify_code;
  uint16_t compression; /* the server's Certificate came compressed */
  int verify_depth;
  char subject[128];
  char detail[512];
} outcome;

static outcome run(const char *name, const char *staple,
                   moat_ocsp_stapling mode, int version) {
  outcome o;
  char host[64];
  memset(&o, 0, sizeof(o));
  o.alert = -1;
  moat_context *sc = server_ctx(name, staple, version);
  moat_context *cc = client_ctx(mode, version);
  moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
  snprintf(host, sizeof(host), "%s.test.example", name);
  moat_conn_set_hostname(c, host);
  o.client = handshake_both(c, s, &o.server);
  o.status = moat_conn_ocsp_status(c);
  const uint8_t *der;
  size_t len;
  o.stapled = moat_conn_ocsp_response(c, &der, &len) == MOAT_OK;
  bool ours;
  int alert;
  if (moat_conn_alert(s, &alert, &ours) && !ours) {
    o.alert = alert;
  }
  o.verify_code = moat_conn_verify_code(c);
  o.compression = moat_conn_peer_cert_compression(c);
  o.verify_depth = moat_conn_verify_error_depth(c);
  const char *subj = moat_conn_verify_error_subject(c);
  snprintf(o.subject, sizeof(o.subject), "%s", subj ? subj : "");
  snprintf(o.detail, sizeof(o.detail), "%s", moat_conn_error_detail(c));
  if (o.client != MOAT_OK && o.client != MOAT_ERR_CERT_VERIFY_FAILED &&
      o.client != MOAT_ERR_BAD_OCSP_RESPONSE) {
    fprintf(stderr, "%s/%s: client %s (%s)\n", name, staple ? staple : "-",
            moat_err_name(o.client), o.detail);
  }
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_free(cc);
  moat_context_free(sc);
  return o;
}

static void test_handshakes(int version) {
  outcome o;
  /* Asked and stapled: good. */
  o = run("good", "good", MOAT_OCSP_STAPLING_REQUIRE, version);
  CHECK_EQ_INT(o.client, MOAT_OK);
  CHECK_EQ_INT(o.server, MOAT_OK);
  CHECK(o.stapled);
  CHECK_EQ_INT(o.status, MOAT_OCSP_GOOD);
  /* TLS 1.3 compresses the Certificate, status included, when moat has
   * an algorithm (RFC 8879 on by default). */
  if (version == MOAT_TLS1_3 && moat_cert_compression_available()[0]) {
    CHECK(o.compression != 0);
  }
  /* Not asked: nothing is stapled (a staple the client did not ask for
   * would fail its handshake). */
  o = run("good", "good", MOAT_OCSP_STAPLING_OFF, version);
  CHECK_EQ_INT(o.client, MOAT_OK);
  CHECK(!o.stapled);
  CHECK_EQ_INT(o.status, MOAT_OCSP_NO_STATUS);
  /* Asked, none to staple. */
  o = run("good", NULL, MOAT_OCSP_STAPLING_REQUEST, version);
  CHECK_EQ_INT(o.client, MOAT_OK);
  CHECK(!o.stapled);
  o = run("good", NULL, MOAT_OCSP_STAPLING_REQUIRE, version);
  CHECK_EQ_INT(o.client, MOAT_ERR_BAD_OCSP_RESPONSE);
  CHECK_EQ_INT(o.alert, 113); /* bad_certificate_status_response */
  CHECK(strstr(o.detail, "stapled none") != NULL);
  /* Revoked: certificate_revoked, verify code 23. */
  o = run("revoked", "revoked", MOAT_OCSP_STAPLING_REQUEST, version);
  CHECK_EQ_INT(o.client, MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK_EQ_INT(o.status, MOAT_OCSP_REVOKED);
  CHECK_EQ_INT(o.verify_code, 23);
  CHECK_EQ_INT(o.verify_depth, 0);
  CHECK(strcmp(o.subject, "CN=revoked.test.example") == 0);
  CHECK_EQ_INT(o.alert, 44);
  CHECK(strstr(o.detail, "keyCompromise") != NULL);
  /* A response about another certificate is not taken for this one (a
   * client's own check of that: tests/interop/ocsp_staple.py). */
  {
    char cert[128], key[128], resp[128];
    uint8_t *der;
    size_t len;
    moat_context *sc = moat_context_new(MOAT_ROLE_SERVER);
    path(cert, sizeof(cert), "good", "pem");
    path(key, sizeof(key), "good", "key");
    path(resp, sizeof(resp), "good2", "resp");
    CHECK_EQ_INT(moat_context_set_ocsp_response(sc, NULL, 1),
                 MOAT_ERR_INVALID_ARGUMENT);
    CHECK(x509_read_file(resp, &der, &len, NULL, 0) == MOAT_OK);
    /* No chain yet, then the wrong one. */
    CHECK_EQ_INT(moat_context_set_ocsp_response(sc, der, len),
                 MOAT_ERR_BAD_OCSP_RESPONSE);
    CHECK_EQ_INT(moat_context_load_cert_chain(sc, cert, key, NULL), MOAT_OK);
    CHECK_EQ_INT(moat_context_set_ocsp_response(sc, der, len),
                 MOAT_ERR_BAD_OCSP_RESPONSE);
    CHECK(strstr(moat_context_error_detail(sc), "about none of the loaded") !=
          NULL);
    moat_free(der);
    moat_context_free(sc);
  }
  /* Unknown: allowed when only requested. */
  o = run("unknown", "unknown", MOAT_OCSP_STAPLING_REQUEST, version);
  CHECK_EQ_INT(o.client, MOAT_OK);
  CHECK_EQ_INT(o.status, MOAT_OCSP_UNKNOWN);
  o = run("unknown", "unknown", MOAT_OCSP_STAPLING_REQUIRE, version);
  CHECK_EQ_INT(o.client, MOAT_ERR_BAD_OCSP_RESPONSE);
  CHECK_EQ_INT(o.alert, 113);
  /* Two days on, the response (one day) has expired; the certificate
   * (30 days) has not. */
  clock_offset = 2 * 86400;
  o = run("good", "good", MOAT_OCSP_STAPLING_REQUEST, version);
  clock_offset = 0;
  CHECK_EQ_INT(o.client, MOAT_ERR_BAD_OCSP_RESPONSE);
  CHECK(strstr(o.detail, "expired (nextUpdate") != NULL);
  /* Signed by a responder without OCSPSigning. */
  o = run("good", "notresp", MOAT_OCSP_STAPLING_REQUEST, version);
  CHECK_EQ_INT(o.client, MOAT_ERR_BAD_OCSP_RESPONSE);
  CHECK(strstr(o.detail, "not authorised for OCSP signing") != NULL);
}

static void test_reload_clears(void) {
  char cert[128], key[128];
  moat_context *sc = server_ctx("good", "good", MOAT_TLS1_3);
  path(cert, sizeof(cert), "good", "pem");
  path(key, sizeof(key), "good", "key");
  CHECK_EQ_INT(moat_context_load_cert_chain(sc, cert, key, NULL), MOAT_OK);
  moat_context *cc = client_ctx(MOAT_OCSP_STAPLING_REQUEST, MOAT_TLS1_3);
  moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
  moat_err se;
  moat_conn_set_hostname(c, "good.test.example");
  CHECK_EQ_INT(handshake_both(c, s, &se), MOAT_OK);
  const uint8_t *der;
  size_t len;
  CHECK_EQ_INT(moat_conn_ocsp_response(c, &der, &len), MOAT_ERR_BAD_STATE);
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_free(cc);
  moat_context_free(sc);
}

int main(void) {
  test_request();
  test_cert_status();
  test_cert_entry();
  test_setter();
  char cmd[160];
  snprintf(dir, sizeof(dir), "/tmp/moat-staple-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    return 1;
  }
  snprintf(cmd, sizeof(cmd), "sh tests/x509/make_ocsp.sh %s", dir);
  CHECK(system(cmd) == 0);
  test_handshakes(MOAT_TLS1_3);
  test_handshakes(MOAT_TLS1_2);
  test_reload_clears();
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "could not remove %s\n", dir);
  }
  return t_done("test_stapling");
}
