/* The calls Python's _ssl face uses: cipher-string grammar and
 * descriptions, the OID table, certificate details, session statistics,
 * the SNI alert and the ALPN mismatch switch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moat.h"
#include "pair.h"
#include "pki.h"
#include "t.h"

static size_t suites12(moat_context *ctx, uint16_t *out) {
  return moat_context_tls12_suites(ctx, out, 16);
}

static void test_cipher_strings(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  uint16_t s[16];
  CHECK_EQ_INT(moat_context_set_cipher_list(ctx, "DEFAULT"), MOAT_OK);
  CHECK_EQ_INT(suites12(ctx, s), 6);
  CHECK_EQ_INT(moat_context_set_cipher_list(ctx, "AESGCM"), MOAT_OK);
  CHECK_EQ_INT(suites12(ctx, s), 4);
  CHECK_EQ_INT(moat_context_set_cipher_list(ctx, "ECDHE+CHACHA20:!aRSA"),
               MOAT_OK);
  CHECK_EQ_INT(suites12(ctx, s), 1);
  CHECK_EQ_INT(s[0], 0xcca9);
  /* '-' removes, a later plain item adds back; '!' removes for good */
  CHECK_EQ_INT(moat_context_set_cipher_list(ctx, "ALL:-aECDSA:ECDSA"), MOAT_OK);
  CHECK_EQ_INT(suites12(ctx, s), 6);
  CHECK_EQ_INT(s[0], 0xc030); /* the RSA ones first now */
  CHECK_EQ_INT(moat_context_set_cipher_list(ctx, "ALL:!aECDSA:ECDSA"), MOAT_OK);
  CHECK_EQ_INT(suites12(ctx, s), 3);
  /* '+' moves to the end; @STRENGTH sorts by bits, stably */
  CHECK_EQ_INT(moat_context_set_cipher_list(ctx, "AES128:CHACHA20:+AES128"),
               MOAT_OK);
  CHECK_EQ_INT(suites12(ctx, s), 4);
  CHECK_EQ_INT(s[0], 0xcca9);
  CHECK_EQ_INT(s[3], 0xc02f);
  CHECK_EQ_INT(moat_context_set_cipher_list(ctx, "AES128:CHACHA20:@STRENGTH"),
               MOAT_OK);
  CHECK_EQ_INT(s[0] = 0, 0);
  CHECK_EQ_INT(suites12(ctx, s), 4);
  CHECK_EQ_INT(s[0], 0xcca9);
  CHECK_EQ_INT(s[2], 0xc02b);
  CHECK_EQ_INT(moat_context_set_cipher_list(ctx, "@SECLEVEL=2:ECDHE-RSA-AES128-"
                                                 "GCM-SHA256"),
               MOAT_OK);
  CHECK_EQ_INT(suites12(ctx, s), 1);
  CHECK_EQ_INT(s[0], 0xc02f);
  /* nothing left: refused, the list unchanged */
  CHECK_EQ_INT(moat_context_set_cipher_list(ctx, "^$:,;?*'dorothyx"),
               MOAT_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(moat_context_set_cipher_list(ctx, "RC4:3DES:DHE+AES:aNULL"),
               MOAT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(moat_context_error_detail(ctx), "no cipher") != NULL);
  CHECK_EQ_INT(suites12(ctx, s), 1);
  /* descriptions: TLS 1.3 suites first, OpenSSL's ids */
  moat_cipher_info ci;
  CHECK(moat_context_cipher(ctx, 0, &ci));
  CHECK(strcmp(ci.protocol, "TLSv1.3") == 0);
  CHECK_EQ_INT(ci.id >> 16, 0x0300);
  size_t n = 0;
  while (moat_context_cipher(ctx, n, &ci)) {
    n++;
  }
  CHECK(moat_context_cipher(ctx, n - 1, &ci));
  CHECK(strcmp(ci.openssl_name, "ECDHE-RSA-AES128-GCM-SHA256") == 0);
  CHECK(strcmp(ci.kea, "kx-ecdhe") == 0 && strcmp(ci.auth, "auth-rsa") == 0);
  CHECK_EQ_INT(ci.id, 0x0300c02f);
  CHECK(ci.digest == NULL && ci.aead && ci.bits == 128);
  moat_context_free(ctx);
}

static void test_oids(void) {
  const moat_oid_info *o = moat_oid_by_nid(129);
  CHECK(o != NULL && strcmp(o->dotted, "1.3.6.1.5.5.7.3.1") == 0);
  CHECK(moat_oid_by_name("TLS Web Client Authentication") ==
        moat_oid_by_dotted("1.3.6.1.5.5.7.3.2"));
  CHECK(moat_oid_by_name("CN") == moat_oid_by_nid(13));
  CHECK(moat_oid_by_nid(999999) == NULL);
  CHECK(moat_oid_dotted_valid("1.2.3.4.5"));
  CHECK(!moat_oid_dotted_valid("3.1"));
  CHECK(!moat_oid_dotted_valid("1"));
  CHECK(!moat_oid_dotted_valid("1.02"));
  CHECK(!moat_oid_dotted_valid("1.2."));
  CHECK(!moat_oid_dotted_valid("serverAuth"));
  const uint8_t oid[] = {0x2a, 0x03, 0x04, 0x05};
  char text[32];
  moat_oid_text(oid, sizeof(oid), text, sizeof(text));
  CHECK(strcmp(text, "1.2.3.4.5") == 0);
}

static void test_cert_details(void) {
  CHECK_EQ_INT(
      pki_run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
              "-out d.key && printf '"
              "subjectAltName=DNS:a.example,email:x@example.org,"
              "IP:::1,URI:https://u.example/,RID:1.2.3.4.5,"
              "dirName:dn\\nauthorityInfoAccess=OCSP;URI:http://ocsp.example/,"
              "caIssuers;URI:http://ca.example/ca.der\\n"
              "crlDistributionPoints=URI:http://crl.example/a.crl,"
              "URI:http://crl.example/b.crl\\n"
              "[dn]\\nC=XY\\nCN=dir name\\n' > d.ext && "
              "openssl req -new -key d.key -subj "
              "'/C=XY/O=Org/OU=A+OU=B/CN=\xc3\xa9t\xc3\xa9' -utf8 -out "
              "d.csr && openssl x509 -req -in d.csr -CA ca.pem -CAkey ca.key "
              "-set_serial 0x00ff01 -days 3 -extfile d.ext -extensions "
              "default -out d.pem 2>/dev/null || openssl x509 -req -in d.csr "
              "-CA ca.pem -CAkey ca.key -set_serial 0x00ff01 -days 3 "
              "-extfile d.ext -out d.pem"),
      0);
  char path[128];
  pki_path(path, sizeof(path), "d.pem");
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  if (f == NULL) {
    return;
  }
  static uint8_t pem[16384];
  size_t len = fread(pem, 1, sizeof(pem), f);
  fclose(f);
  moat_cert *c;
  CHECK_EQ_INT(moat_cert_from_pem(pem, len, &c), MOAT_OK);
  if (c == NULL) {
    return;
  }
  CHECK_EQ_INT(moat_cert_version(c), 3);
  CHECK(!moat_cert_is_ca(c));
  char serial[32];
  moat_cert_serial_hex(c, serial, sizeof(serial));
  CHECK(strcmp(serial, "FF01") == 0);
  const uint8_t *name;
  size_t name_len;
  moat_cert_subject_der(c, &name, &name_len);
  CHECK_EQ_INT(moat_name_num_attrs(name, name_len), 5);
  moat_name_attr a;
  CHECK_EQ_INT(moat_name_attr_at(name, name_len, 0, &a), MOAT_OK);
  CHECK(strcmp(a.long_name, "countryName") == 0 && a.rdn == 0);
  CHECK(strcmp(a.value, "XY") == 0);
  CHECK_EQ_INT(moat_name_attr_at(name, name_len, 3, &a), MOAT_OK);
  CHECK_EQ_INT(a.rdn, 2); /* OU=A+OU=B: one RDN of two attributes */
  CHECK(strcmp(a.long_name, "organizationalUnitName") == 0);
  CHECK_EQ_INT(moat_name_attr_at(name, name_len, 4, &a), MOAT_OK);
  CHECK(strcmp(a.value, "\xc3\xa9t\xc3\xa9") == 0 && a.value_len == 5);
  CHECK_EQ_INT(moat_name_attr_at(name, name_len, 5, &a),
               MOAT_ERR_INVALID_ARGUMENT);
  moat_cert_issuer_der(c, &name, &name_len);
  CHECK_EQ_INT(moat_name_attr_at(name, name_len, 0, &a), MOAT_OK);
  CHECK(strcmp(a.value, "moat test CA") == 0);

  moat_general_name g;
  moat_gn_type want[] = {MOAT_GN_DNS, MOAT_GN_EMAIL, MOAT_GN_IP,
                         MOAT_GN_URI, MOAT_GN_RID,   MOAT_GN_DIRNAME};
  for (size_t i = 0; i < 6; i++) {
    CHECK_EQ_INT(moat_cert_san_at(c, i, &g), MOAT_OK);
    CHECK_EQ_INT(g.type, want[i]);
    if (g.type == MOAT_GN_IP) {
      CHECK_EQ_INT(g.len, 16);
      CHECK(g.data[15] == 1);
    }
    if (g.type == MOAT_GN_DIRNAME) {
      CHECK_EQ_INT(moat_name_num_attrs(g.data, g.len), 2);
      CHECK_EQ_INT(moat_name_attr_at(g.data, g.len, 1, &a), MOAT_OK);
      CHECK(strcmp(a.value, "dir name") == 0);
    }
    if (g.type == MOAT_GN_RID) {
      char text[32];
      moat_oid_text(g.data, g.len, text, sizeof(text));
      CHECK(strcmp(text, "1.2.3.4.5") == 0);
    }
  }
  CHECK_EQ_INT(moat_cert_san_at(c, 6, &g), MOAT_ERR_INVALID_ARGUMENT);
  moat_aia_method m;
  CHECK_EQ_INT(moat_cert_aia_at(c, 0, &m, &g), MOAT_OK);
  CHECK_EQ_INT(m, MOAT_AIA_OCSP);
  CHECK(g.len == 20 && memcmp(g.data, "http://ocsp.example/", 20) == 0);
  CHECK_EQ_INT(moat_cert_aia_at(c, 1, &m, &g), MOAT_OK);
  CHECK_EQ_INT(m, MOAT_AIA_CA_ISSUERS);
  CHECK_EQ_INT(moat_cert_aia_at(c, 2, &m, &g), MOAT_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(moat_cert_crldp_at(c, 0, &g), MOAT_OK);
  CHECK(g.type == MOAT_GN_URI && g.len == 24 &&
        memcmp(g.data, "http://crl.example/a.crl", 24) == 0);
  CHECK_EQ_INT(moat_cert_crldp_at(c, 1, &g), MOAT_OK);
  CHECK(memcmp(g.data, "http://crl.example/b.crl", 24) == 0);
  CHECK_EQ_INT(moat_cert_crldp_at(c, 2, &g), MOAT_ERR_INVALID_ARGUMENT);
  moat_cert_free(c);

  pki_path(path, sizeof(path), "ca.pem");
  f = fopen(path, "rb");
  len = f ? fread(pem, 1, sizeof(pem), f) : 0;
  if (f) {
    fclose(f);
  }
  CHECK_EQ_INT(moat_cert_from_pem(pem, len, &c), MOAT_OK);
  CHECK(moat_cert_is_ca(c));
  CHECK_EQ_INT(moat_cert_san_at(c, 0, &g), MOAT_ERR_INVALID_ARGUMENT);
  moat_cert_free(c);
}

static moat_err refuse_sni(void *arg, moat_conn *conn, const char *name) {
  moat_conn_set_sni_alert(conn, 49); /* access_denied */
  return MOAT_ERR_HANDSHAKE_FAILURE;
}

static void test_handshakes(void) {
  char cert[128], key[128], ca[128];
  CHECK_EQ_INT(pki_leaf("srv", "p256", "3", "serverAuth"), 0);
  pki_path(cert, sizeof(cert), "srv.pem");
  pki_path(key, sizeof(key), "srv.key");
  pki_path(ca, sizeof(ca), "ca.pem");
  moat_context *sc = moat_context_new(MOAT_ROLE_SERVER);
  moat_context *cc = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK_EQ_INT(moat_context_load_cert_chain(sc, cert, key, NULL), MOAT_OK);
  CHECK_EQ_INT(moat_context_load_verify_locations(cc, ca, NULL, NULL, 0),
               MOAT_OK);
  moat_session_stats st;
  moat_context_session_stats(sc, &st);
  CHECK_EQ_INT(st.accept, 0);

  /* a full handshake, then one that resumes */
  moat_session *sess = NULL;
  for (int round = 0; round < 2; round++) {
    moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
    moat_conn_set_hostname(c, "localhost");
    if (sess != NULL) {
      moat_conn_set_session(c, sess);
    }
    moat_err se;
    CHECK_EQ_INT(handshake_both(c, s, &se), MOAT_OK);
    CHECK_EQ_INT(se, MOAT_OK);
    uint8_t buf[64];
    size_t n;
    shuttle(s, c);
    (void)moat_conn_read(c, buf, sizeof(buf), &n); /* the tickets */
    moat_session_free(sess);
    sess = moat_conn_get_session(c);
    moat_cipher_info ci;
    CHECK(moat_conn_shared_cipher(s, 0, &ci));
    CHECK(strcmp(ci.openssl_name, moat_conn_cipher_openssl_name(s)) == 0);
    CHECK(!moat_conn_shared_cipher(c, 0, &ci));
    uint8_t tu[64];
    size_t tn = 0;
    CHECK_EQ_INT(moat_conn_tls_unique(c, buf, sizeof(buf), &n), MOAT_OK);
    CHECK_EQ_INT(moat_conn_tls_unique(s, tu, sizeof(tu), &tn), MOAT_OK);
    CHECK(n == 32 && tn == n && memcmp(buf, tu, n) == 0);
    CHECK_EQ_INT(moat_conn_session_reused(c), round == 1);
    moat_conn_free(c);
    moat_conn_free(s);
  }
  moat_session_free(sess);
  moat_context_session_stats(sc, &st);
  CHECK_EQ_INT(st.accept, 2);
  CHECK_EQ_INT(st.accept_good, 2);
  CHECK_EQ_INT(st.hits, 1);
  moat_context_session_stats(cc, &st);
  CHECK_EQ_INT(st.connect, 2);
  CHECK_EQ_INT(st.connect_good, 2);
  CHECK_EQ_INT(st.hits, 1);
  CHECK_EQ_INT(st.misses, 0);

  /* the SNI callback's alert reaches the client */
  moat_context_set_sni_cb(sc, refuse_sni, NULL);
  moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
  moat_conn_set_hostname(c, "localhost");
  moat_err se;
  CHECK(handshake_both(c, s, &se) != MOAT_OK);
  int alert = -1;
  bool ours = true;
  CHECK(moat_conn_alert(c, &alert, &ours));
  CHECK_EQ_INT(alert, 49);
  CHECK(!ours);
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_set_sni_cb(sc, NULL, NULL);

  /* ALPN with nothing in common: fatal by default, optional on request */
  const char *sp[] = {"h2"}, *cp[] = {"http/1.1"};
  moat_context_set_alpn_protocols(sc, sp, 1);
  moat_context_set_alpn_protocols(cc, cp, 1);
  for (int optional = 0; optional < 2; optional++) {
    moat_context_set_alpn_required(sc, !optional);
    c = moat_conn_new(cc);
    s = moat_conn_new(sc);
    moat_conn_set_hostname(c, "localhost");
    moat_err ce = handshake_both(c, s, &se);
    if (optional) {
      CHECK_EQ_INT(ce, MOAT_OK);
      CHECK(moat_conn_alpn(c) == NULL);
    } else {
      CHECK(moat_conn_alert(c, &alert, &ours));
      CHECK_EQ_INT(alert, 120);
    }
    moat_conn_free(c);
    moat_conn_free(s);
  }
  moat_context_free(sc);
  moat_context_free(cc);
}

/* PEM of the leaf the shell command in the PKI directory writes to
 * NAME.pem; length 0 when it failed. */
static size_t make_pem(const char *cmd, const char *name, uint8_t *out,
                       size_t cap) {
  char path[128], file[64];
  if (pki_run(cmd) != 0) {
    return 0;
  }
  snprintf(file, sizeof(file), "%s.pem", name);
  pki_path(path, sizeof(path), file);
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(out, 1, cap, f) : 0;
  if (f) {
    fclose(f);
  }
  return n;
}

/* A certificate with a malformed non-critical extension (an empty
 * issuerAltName, RFC 5280 4.2.1.7 says SIZE (1..MAX)): refused by the
 * strict decode, shown without the extension by the lenient one; a
 * critical one is refused by both, and a lenient view decides no OCSP
 * check. */
static void test_lenient_decode(void) {
  static const char fmt[] =
      "printf 'subjectAltName=DNS:bad.example\n2.5.29.18=%sDER:3000\n' > "
      "%s.ext && openssl req -new -key srv.key -subj /CN=bad.example -out "
      "%s.csr && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key "
      "-set_serial 7 -days 3 -extfile %s.ext -out %s.pem";
  static uint8_t pem[8192];
  char cmd[600];
  snprintf(cmd, sizeof(cmd), fmt, "", "ian", "ian", "ian", "ian", "ian");
  size_t len = make_pem(cmd, "ian", pem, sizeof(pem));
  CHECK(len > 0);
  moat_cert *c = NULL;
  CHECK_EQ_INT(moat_cert_from_pem(pem, len, &c), MOAT_ERR_BAD_CERTIFICATE);
  CHECK(c == NULL);
  CHECK_EQ_INT(moat_cert_from_pem_lenient(pem, len, &c), MOAT_OK);
  if (c != NULL) {
    char text[128];
    CHECK_EQ_INT(moat_cert_dropped_extensions(c), 1);
    moat_cert_subject(c, text, sizeof(text));
    CHECK(strcmp(text, "CN=bad.example") == 0);
    CHECK_EQ_INT(moat_cert_num_san(c), 1); /* the rest is all there */
    moat_cert *issuer = NULL;
    char ca[128];
    pki_path(ca, sizeof(ca), "ca.pem");
    FILE *f = fopen(ca, "rb");
    static uint8_t ca_pem[4096];
    size_t ca_len = f ? fread(ca_pem, 1, sizeof(ca_pem), f) : 0;
    if (f) {
      fclose(f);
    }
    CHECK_EQ_INT(moat_cert_from_pem_lenient(ca_pem, ca_len, &issuer), MOAT_OK);
    CHECK(issuer != NULL && moat_cert_dropped_extensions(issuer) == 0);
    const uint8_t junk[] = {0x30, 0x03, 0x0a, 0x01, 0x00};
    moat_ocsp_result *res = NULL;
    CHECK_EQ_INT(moat_ocsp_check(junk, sizeof(junk), c, issuer, 0, &res),
                 MOAT_ERR_INVALID_ARGUMENT);
    CHECK(res == NULL);
    moat_cert_free(issuer);
    moat_cert_free(c);
  }
  /* critical: no view at all */
  snprintf(cmd, sizeof(cmd), fmt, "critical,", "ianc", "ianc", "ianc", "ianc",
           "ianc");
  len = make_pem(cmd, "ianc", pem, sizeof(pem));
  CHECK(len > 0);
  c = NULL;
  CHECK_EQ_INT(moat_cert_from_pem_lenient(pem, len, &c),
               MOAT_ERR_BAD_CERTIFICATE);
  CHECK(c == NULL);
}

/* ---- verify detail: the depth and subject of the refused certificate --- */

/* A client handshake against server context sc for hostname; the
 * client's verify code, error depth and subject afterwards. */
static long verify_against(moat_context *cc, moat_context *sc,
                           const char *hostname, int *depth, char *subject,
                           size_t cap) {
  moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
  moat_conn_set_hostname(c, hostname);
  moat_err se;
  (void)handshake_both(c, s, &se);
  long code = moat_conn_verify_code(c);
  *depth = moat_conn_verify_error_depth(c);
  const char *subj = moat_conn_verify_error_subject(c);
  snprintf(subject, cap, "%s", subj != NULL ? subj : "(null)");
  moat_conn_free(c);
  moat_conn_free(s);
  return code;
}

static void test_verify_detail(void) {
  char cert[128], key[128], ca[128], chain[128];
  CHECK_EQ_INT(pki_run("cat srv.pem ca.pem > srvchain.pem && "
                       "openssl req -x509 -newkey ec -pkeyopt "
                       "ec_paramgen_curve:P-256 -nodes -keyout other.key "
                       "-subj /CN=other -days 3 -out other.pem"),
               0);
  char other[128];
  pki_path(other, sizeof(other), "other.pem");
  pki_path(cert, sizeof(cert), "srv.pem");
  pki_path(key, sizeof(key), "srv.key");
  pki_path(ca, sizeof(ca), "ca.pem");
  pki_path(chain, sizeof(chain), "srvchain.pem");
  moat_context *sc = moat_context_new(MOAT_ROLE_SERVER);
  moat_context *cc = moat_context_new(MOAT_ROLE_CLIENT);
  /* trusts another CA only */
  moat_context *bare = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK_EQ_INT(moat_context_load_verify_locations(bare, other, NULL, NULL, 0),
               MOAT_OK);
  CHECK_EQ_INT(moat_context_load_cert_chain(sc, chain, key, NULL), MOAT_OK);
  CHECK_EQ_INT(moat_context_load_verify_locations(cc, ca, NULL, NULL, 0),
               MOAT_OK);
  int depth;
  char subject[256];
  /* verified: no refused certificate */
  CHECK_EQ_INT(
      verify_against(cc, sc, "localhost", &depth, subject, sizeof(subject)), 0);
  CHECK_EQ_INT(depth, -1);
  CHECK(strcmp(subject, "(null)") == 0);
  /* the leaf does not name the host: depth 0, the leaf's subject */
  CHECK_EQ_INT(
      verify_against(cc, sc, "example.org", &depth, subject, sizeof(subject)),
      62); /* X509_V_ERR_HOSTNAME_MISMATCH */
  CHECK_EQ_INT(depth, 0);
  CHECK(strcmp(subject, "CN=localhost") == 0);
  /* a root the client does not trust, sent in the chain: depth 1, the
   * root's subject (OpenSSL: self-signed certificate in chain) */
  CHECK_EQ_INT(
      verify_against(bare, sc, "localhost", &depth, subject, sizeof(subject)),
      19);
  CHECK_EQ_INT(depth, 1);
  CHECK(strcmp(subject, "CN=moat test CA") == 0);
  moat_context_free(sc);
  moat_context_free(cc);
  moat_context_free(bare);
}

/* Trust anchors as DER certificates back to back (Python's cadata bytes):
 * each is taken. */
static void test_der_cadata(void) {
  CHECK_EQ_INT(pki_run("openssl x509 -in ca.pem -outform DER -out ca.der && "
                       "openssl x509 -in other.pem -outform DER -out o.der && "
                       "cat ca.der o.der > both.der"),
               0);
  char path[128];
  pki_path(path, sizeof(path), "both.der");
  FILE *f = fopen(path, "rb");
  static uint8_t der[8192];
  size_t len = f ? fread(der, 1, sizeof(der), f) : 0;
  if (f) {
    fclose(f);
  }
  CHECK(len > 0);
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK_EQ_INT(moat_context_load_verify_locations(ctx, NULL, NULL, der, len),
               MOAT_OK);
  CHECK_EQ_INT(moat_context_num_trusted(ctx), 2);
  moat_context_free(ctx);
  /* junk after them refuses the whole load, as junk alone */
  static uint8_t more[8200];
  memcpy(more, der, len);
  memcpy(more + len, "junk", 4);
  ctx = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK_EQ_INT(
      moat_context_load_verify_locations(ctx, NULL, NULL, more, len + 4),
      MOAT_ERR_X509_PARSE);
  CHECK(strstr(moat_context_error_detail(ctx), "4 bytes after") != NULL);
  CHECK_EQ_INT(moat_context_num_trusted(ctx), 0);
  CHECK(moat_context_load_verify_locations(
            ctx, NULL, NULL, (const uint8_t *)"junk", 4) != MOAT_OK);
  moat_context_free(ctx);
}

/* ---- the message callback ------------------------------------------------ */

typedef struct msg_entry {
  bool sent;
  int version, ct, mt;
  uint8_t data[4096];
  size_t len;
} msg_entry;

typedef struct msg_log {
  msg_entry e[96];
  size_t n;
  bool overflow;
} msg_log;

static void log_msg(void *arg, moat_conn *conn, const moat_msg *m) {
  msg_log *log = arg;
  (void)conn;
  if (log->n == sizeof(log->e) / sizeof(log->e[0]) ||
      m->len > sizeof(log->e[0].data)) {
    log->overflow = true;
    return;
  }
  msg_entry *e = &log->e[log->n++];
  e->sent = m->sent;
  e->version = m->version;
  e->ct = m->content_type;
  e->mt = m->msg_type;
  e->len = m->len;
  memcpy(e->data, m->data, m->len);
}

/* The index of the first entry from `from` with this direction, content
 * type and message type, or -1. */
static int find_msg(const msg_log *log, size_t from, bool sent, int ct,
                    int mt) {
  for (size_t i = from; i < log->n; i++) {
    if (log->e[i].sent == sent && log->e[i].ct == ct && log->e[i].mt == mt) {
      return (int)i;
    }
  }
  return -1;
}

/* What one side sent of type ct the other received, in the same order and
 * with the same bytes. */
static bool same_messages(const msg_log *tx, const msg_log *rx, int ct) {
  size_t i = 0, j = 0, matched = 0;
  for (;;) {
    while (i < tx->n && !(tx->e[i].sent && tx->e[i].ct == ct)) {
      i++;
    }
    while (j < rx->n && !(!rx->e[j].sent && rx->e[j].ct == ct)) {
      j++;
    }
    if (i == tx->n || j == rx->n) {
      return i == tx->n && j == rx->n && matched > 0;
    }
    if (tx->e[i].mt != rx->e[j].mt || tx->e[i].len != rx->e[j].len ||
        memcmp(tx->e[i].data, rx->e[j].data, tx->e[i].len) != 0) {
      return false;
    }
    i++;
    j++;
    matched++;
  }
}

static msg_log g_clog, g_slog;

static void test_msg_callback(void) {
  char cert[128], key[128], ca[128];
  pki_path(cert, sizeof(cert), "srv.pem");
  pki_path(key, sizeof(key), "srv.key");
  pki_path(ca, sizeof(ca), "ca.pem");
  moat_context *sc = moat_context_new(MOAT_ROLE_SERVER);
  moat_context *cc = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK_EQ_INT(moat_context_load_cert_chain(sc, cert, key, NULL), MOAT_OK);
  CHECK_EQ_INT(moat_context_load_verify_locations(cc, ca, NULL, NULL, 0),
               MOAT_OK);
  for (int v12 = 0; v12 < 2; v12++) {
    msg_log *cl = &g_clog, *sl = &g_slog;
    memset(cl, 0, sizeof(*cl));
    memset(sl, 0, sizeof(*sl));
    CHECK_EQ_INT(moat_context_set_max_version(cc, v12 ? MOAT_TLS1_2 : 0),
                 MOAT_OK);
    moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
    moat_conn_set_hostname(c, "localhost");
    moat_conn_set_msg_cb(c, log_msg, cl);
    moat_conn_set_msg_cb(s, log_msg, sl);
    moat_err se;
    CHECK_EQ_INT(handshake_both(c, s, &se), MOAT_OK);
    CHECK_EQ_INT(se, MOAT_OK);
    size_t w = 0, n = 0;
    uint8_t buf[64];
    CHECK_EQ_INT(moat_conn_write(c, (const uint8_t *)"secret!", 7, &w),
                 MOAT_OK);
    shuttle(c, s);
    CHECK_EQ_INT(moat_conn_read(s, buf, sizeof(buf), &n), MOAT_OK);
    CHECK_EQ_INT(n, 7);
    (void)moat_conn_shutdown(c);
    shuttle(c, s);
    (void)moat_conn_read(s, buf, sizeof(buf), &n);
    CHECK(!cl->overflow && !sl->overflow);

    /* The client's first message is its ClientHello, after its record
     * header, with the legacy version; the whole message is given. */
    CHECK(cl->n > 2 && cl->e[0].sent && cl->e[0].ct == MOAT_MSG_RECORD_HEADER &&
          cl->e[0].mt == 22 && cl->e[0].len == 5);
    CHECK(cl->e[1].sent && cl->e[1].ct == 22 && cl->e[1].mt == 1 &&
          cl->e[1].version == MOAT_TLS1_2);
    CHECK(cl->e[1].len ==
          4 + (size_t)((cl->e[1].data[1] << 16) | (cl->e[1].data[2] << 8) |
                       cl->e[1].data[3]));
    /* Each side received exactly the handshake messages and alerts the
     * other sent, byte for byte. */
    CHECK(same_messages(cl, sl, 22));
    CHECK(same_messages(sl, cl, 22));
    CHECK(same_messages(cl, sl, 21));
    CHECK(same_messages(cl, sl, MOAT_MSG_RECORD_HEADER));
    CHECK(same_messages(sl, cl, MOAT_MSG_RECORD_HEADER));
    /* the close_notify (2 bytes, description 0) */
    int a = find_msg(sl, 0, false, 21, 0);
    CHECK(a >= 0 && sl->e[a].len == 2 && sl->e[a].data[0] == 1);
    /* application data: its record header, never its content */
    CHECK(find_msg(cl, 0, true, 23, -1) < 0 &&
          find_msg(sl, 0, false, 23, -1) < 0);
    for (size_t i = 0; i < sl->n; i++) {
      CHECK(sl->e[i].ct != 23);
      CHECK(sl->e[i].len < 7 ||
            memmem(sl->e[i].data, sl->e[i].len, "secret!", 7) == NULL);
    }
    if (v12) {
      /* TLS 1.2: ServerKeyExchange read and change_cipher_spec written
       * with the agreed version, as Python's test_msg_callback_tls12
       * looks for them. */
      int ske = find_msg(cl, 0, false, 22, 12);
      CHECK(ske >= 0 && cl->e[ske].version == MOAT_TLS1_2);
      int ccs = find_msg(cl, 0, true, 20, 1);
      CHECK(ccs >= 0 && cl->e[ccs].len == 1 && cl->e[ccs].data[0] == 1 &&
            cl->e[ccs].version == MOAT_TLS1_2);
      CHECK(find_msg(sl, 0, false, 22, 16) >= 0); /* ClientKeyExchange */
      CHECK(find_msg(cl, 0, true, MOAT_MSG_INNER_TYPE, 22) < 0);
      CHECK(find_msg(cl, 0, true, MOAT_MSG_RECORD_HEADER, 23) >= 0);
    } else {
      /* TLS 1.3: the encrypted flight, each record's inner type, and the
       * client's Finished with the agreed version */
      int ee = find_msg(cl, 0, false, 22, 8);
      /* Certificate, or CompressedCertificate (RFC 8879, on by default) */
      CHECK(ee >= 0 && (find_msg(cl, (size_t)ee, false, 22, 11) > ee ||
                        find_msg(cl, (size_t)ee, false, 22, 25) > ee));
      CHECK(find_msg(cl, 0, false, 22, 15) > ee);
      CHECK(find_msg(cl, 0, false, MOAT_MSG_INNER_TYPE, 22) >= 0);
      CHECK(find_msg(cl, 0, true, MOAT_MSG_INNER_TYPE, 23) >= 0);
      int fin = find_msg(cl, 0, true, 22, 20);
      CHECK(fin >= 0 && cl->e[fin].version == MOAT_TLS1_3);
      /* the tickets arrive after the handshake: reported on the read */
      CHECK(find_msg(sl, 0, true, 22, 4) >= 0);
    }
    /* Turned off, nothing more is reported. */
    size_t before = cl->n;
    moat_conn_set_msg_cb(c, NULL, NULL);
    (void)moat_conn_shutdown(c);
    CHECK_EQ_INT(cl->n, before);
    moat_conn_free(c);
    moat_conn_free(s);
  }
  moat_context_free(sc);
  moat_context_free(cc);
}

int main(void) {
  uint8_t r1[32] = {0}, r2[32] = {0};
  CHECK_EQ_INT(moat_random_bytes(r1, sizeof(r1)), MOAT_OK);
  CHECK_EQ_INT(moat_random_bytes(r2, sizeof(r2)), MOAT_OK);
  CHECK(memcmp(r1, r2, sizeof(r1)) != 0);
  CHECK(strcmp(moat_verify_code_text(10), "certificate has expired") == 0);
  CHECK(strncmp(moat_crypto_version(), "OpenSSL 3", 9) == 0);
  CHECK(moat_crypto_version_number() >= 0x30000000UL);
  test_cipher_strings();
  test_oids();
  if (pki_init() != 0) {
    fprintf(stderr, "could not make the test PKI\n");
    return 1;
  }
  test_cert_details();
  test_handshakes();
  test_msg_callback();
  test_verify_detail();
  test_lenient_decode();
  test_der_cadata();
  pki_cleanup();
  return t_done("test_pyapi");
}
