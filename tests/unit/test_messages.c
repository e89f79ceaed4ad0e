/* Each handshake message parser (src/tls/msg) and extension parser
 * (src/tls/ext) with valid input and malformed variants: truncated,
 * overlong, trailing bytes, empty lists.  Every failure must carry the
 * exact error and alert.  Valid inputs come from RFC 8448 3 where it has
 * them. */
#include <stdlib.h>

#include "../vectors/rfc8448_simple.h"
#include "base/mem.h"
#include "hexvec.h"
#include "moat.h"
#include "t.h"
#include "tls/msg/msg.h"
#include "tls/tls.h"

static moat_context *g_cctx, *g_sctx;
static moat_conn *C;

/* A fresh connection for each case: failures are sticky. */
static moat_conn *fresh(bool server) {
  moat_conn_free(C);
  C = moat_conn_new(server ? g_sctx : g_cctx);
  C->hs = hs_new();
  return C;
}

static cursor CV(const vec *v) {
  return cur_make(v->b, v->n);
}
/* The body of a handshake message (after its 4-byte header). */
static cursor BODY(const vec *v) {
  return cur_make(v->b + 4, v->n - 4);
}

/* got must be err, and (for errors) the alert sent must be alert. */
#define EXPECT(expr, err, alert) expect_((expr), (err), (alert), __LINE__)
static void expect_(moat_err got, moat_err err, int alert, int line) {
  int a = -1;
  bool ours = false;
  bool have = moat_conn_alert(C, &a, &ours);
  bool ok = got == err && (err == MOAT_OK ? !have : have && ours && a == alert);
  if (err != MOAT_OK && ok) {
    const char *d = moat_conn_error_detail(C);
    ok = d != NULL && d[0] != '\0' && strcmp(d, moat_err_message(err)) != 0;
  }
  CHECK(ok);
  if (!ok) {
    fprintf(stderr, "  line %d: got %s alert %d (%s); want %s alert %d\n", line,
            moat_err_name(got), have ? a : -1, moat_conn_error_detail(C),
            moat_err_name(err), alert);
  }
}

/* Codecs report a refusal in a cause (W) and leave the connection alone;
 * VIA fails C with it as the flows do, so EXPECT sees the alert the peer
 * would get. */
static tls_cause W;
static moat_err via_(moat_err got) {
  if (got != MOAT_OK) {
    CHECK(W.err == got && W.detail[0] != '\0');
    (void)conn_fail_cause(C, &W);
  }
  memset(&W, 0, sizeof(W));
  return got;
}
#define VIA(expr) via_(expr)

/* What a client without a server name offers (tls13_client.c): its
 * context lists ALPN protocols. */
#define OFF13                                                                  \
  (X_BIT(X_SUPPORTED_VERSIONS) | X_BIT(X_KEY_SHARE) | X_BIT(X_COOKIE))
#define OFF12                                                                  \
  (X_BIT(X_RENEGOTIATION_INFO) | X_BIT(X_EC_POINT_FORMATS) |                   \
   X_BIT(X_EXTENDED_MASTER_SECRET) | X_BIT(X_SESSION_TICKET) | X_BIT(X_ALPN))

/* EncryptedExtensions as the client reads it, with C's policy; the
 * values in EV. */
static ext_values EV;
static moat_err ee_read(cursor body, uint32_t offered) {
  ext_params p = {.policy = C->ctx, .peer = "server"};
  return via_(ee_parse(body, offered, &p, &EV, &W));
}

/* The server's ALPN choice from a ClientHello's extension_data. */
static moat_err alpn_select(cursor data, cursor *chosen) {
  cursor list;
  moat_err err = ext_alpn_parse_list(data, &list, &W);
  if (err == MOAT_OK) {
    err = ext_alpn_select(list, C->ctx, chosen, &W);
  }
  return via_(err);
}

#define OK_(expr) EXPECT(expr, MOAT_OK, -1)
#define DECODE(expr) EXPECT(expr, MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR)
#define ILLEGAL(expr)                                                          \
  EXPECT(expr, MOAT_ERR_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER)

/* ---- ClientHello ------------------------------------------------------ */

static void test_client_hello(void) {
  vec ch = V(rfc8448_client_hello);
  client_hello out;
  fresh(true);
  OK_(VIA(ch_parse(BODY(&ch), &out, &W)));
  CHECK_EQ_INT(out.legacy_version, 0x0303);
  CHECK_EQ_INT(cur_len(&out.session_id), 0);
  CHECK_EQ_INT(cur_len(&out.suites), 6);
  CHECK(out.has_extensions);
  CHECK(ext_has(&out.ext, X_SERVER_NAME) && ext_has(&out.ext, X_KEY_SHARE) &&
        ext_has(&out.ext, X_SUPPORTED_GROUPS) &&
        ext_has(&out.ext, X_SUPPORTED_VERSIONS) &&
        ext_has(&out.ext, X_SIGNATURE_ALGORITHMS) &&
        ext_has(&out.ext, X_RECORD_SIZE_LIMIT) &&
        ext_has(&out.ext, X_PSK_KEY_EXCHANGE_MODES));
  CHECK(!ext_has(&out.ext, X_EARLY_DATA) && !ext_has(&out.ext, X_COOKIE));
  /* Every truncation fails, except right after the compression methods
   * (a ClientHello without extensions). */
  size_t no_ext = 2 + 32 + 1 + 2 + 6 + 2;
  size_t body = ch.n - 4;
  for (size_t cut = 0; cut < body; cut++) {
    fresh(true);
    if (cut == no_ext) {
      OK_(VIA(ch_parse(cur_make(ch.b + 4, cut), &out, &W)));
      CHECK(!out.has_extensions);
    } else {
      DECODE(VIA(ch_parse(cur_make(ch.b + 4, cut), &out, &W)));
    }
  }
  /* trailing byte */
  vec t = ch;
  t.b[t.n++] = 0;
  fresh(true);
  DECODE(VIA(ch_parse(BODY(&t), &out, &W)));
  /* session id of 33 bytes */
  builder b;
  uint8_t raw[512];
  bld_init_fixed(&b, raw, sizeof(raw));
  bld_u16(&b, 0x0303);
  bld_zeros(&b, 32);
  bld_u8(&b, 33);
  bld_zeros(&b, 33);
  bld_u16(&b, 2);
  bld_u16(&b, 0x1301);
  bld_u8(&b, 1);
  bld_u8(&b, 0);
  CHECK(bld_finish(&b));
  fresh(true);
  DECODE(VIA(ch_parse(cur_make(raw, bld_len(&b)), &out, &W)));
  /* odd cipher suite length, empty suites, empty compression */
  static const char *const bad[] = {
      "0303"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "00"
      "0003130113"
      "0100",
      "0303"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "00"
      "0000"
      "0100",
      "0303"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "00"
      "00021301"
      "00",
  };
  for (size_t i = 0; i < 3; i++) {
    vec v = V(bad[i]);
    fresh(true);
    DECODE(VIA(ch_parse(CV(&v), &out, &W)));
  }
  /* a duplicated extension inside the ClientHello */
  vec dup2 =
      V("0303"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "00"
        "00021301"
        "0100"
        "0008"
        "000a0000"
        "000a0000");
  fresh(true);
  ILLEGAL(VIA(ch_parse(CV(&dup2), &out, &W)));
}

/* ---- ServerHello -------------------------------------------------------- */

static void test_server_hello(void) {
  vec sh = V(rfc8448_server_hello);
  server_hello out;
  fresh(false);
  OK_(VIA(sh_parse(BODY(&sh), OFF13, OFF12, &out, &W)));
  CHECK_EQ_INT(out.suite, 0x1301);
  CHECK(!out.is_hrr && out.compression == 0);
  CHECK(ext_has(&out.ext, X_KEY_SHARE) &&
        ext_has(&out.ext, X_SUPPORTED_VERSIONS));
  size_t no_ext = 2 + 32 + 1 + 2 + 1;
  for (size_t cut = 0; cut < sh.n - 4; cut++) {
    fresh(false);
    if (cut == no_ext) {
      OK_(VIA(sh_parse(cur_make(sh.b + 4, cut), OFF13, OFF12, &out, &W)));
    } else {
      DECODE(VIA(sh_parse(cur_make(sh.b + 4, cut), OFF13, OFF12, &out, &W)));
    }
  }
  vec t = sh;
  t.b[t.n++] = 0;
  fresh(false);
  DECODE(VIA(sh_parse(BODY(&t), OFF13, OFF12, &out, &W)));
  /* the HelloRetryRequest random marks a retry (RFC 8446 4.1.3) */
  vec hrr = sh;
  memcpy(hrr.b + 6, k_hrr_random, 32);
  fresh(false);
  OK_(VIA(sh_parse(BODY(&hrr), OFF13, OFF12, &out, &W)));
  CHECK(out.is_hrr);
  /* extensions: RFC 8446 4.2 placement and solicitation */
  static const struct {
    const char *exts;
    moat_err err;
    int alert;
  } cases[] = {
      {"002b00020304 0010000500030268 32", MOAT_ERR_ILLEGAL_PARAMETER,
       ALERT_ILLEGAL_PARAMETER}, /* ALPN may not be in a 1.3 ServerHello */
      {"002b00020304 00290002 0000", MOAT_ERR_UNSUPPORTED_EXTENSION,
       ALERT_UNSUPPORTED_EXTENSION}, /* pre_shared_key never offered */
      /* without supported_versions it is a TLS 1.2 ServerHello */
      {"00330002 0017", MOAT_ERR_ILLEGAL_PARAMETER,
       ALERT_ILLEGAL_PARAMETER}, /* key_share is TLS 1.3's */
      {"00290002 0000", MOAT_ERR_ILLEGAL_PARAMETER,
       ALERT_ILLEGAL_PARAMETER}, /* pre_shared_key is TLS 1.3's */
      {"12340000", MOAT_ERR_UNSUPPORTED_EXTENSION,
       ALERT_UNSUPPORTED_EXTENSION}, /* unknown */
      {"002b00020304 002b00020304", MOAT_ERR_ILLEGAL_PARAMETER,
       ALERT_ILLEGAL_PARAMETER}, /* twice */
      {"002b0003 0304", MOAT_ERR_DECODE_ERROR,
       ALERT_DECODE_ERROR}, /* overlong extension */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    vec e = V(cases[i].exts);
    uint8_t raw[256];
    builder b;
    bld_init_fixed(&b, raw, sizeof(raw));
    bld_bytes(&b, sh.b + 4, no_ext);
    bld_u16(&b, (uint16_t)e.n);
    bld_bytes(&b, e.b, e.n);
    CHECK(bld_finish(&b));
    fresh(false);
    EXPECT(VIA(sh_parse(cur_make(raw, bld_len(&b)), OFF13, OFF12, &out, &W)),
           cases[i].err, cases[i].alert);
  }
}

/* ---- EncryptedExtensions ------------------------------------------------- */

static void test_encrypted_extensions(void) {
  vec ee = V(rfc8448_encrypted_extensions);
  uint32_t offered = X_BIT(X_SUPPORTED_GROUPS) | X_BIT(X_SERVER_NAME) |
                     X_BIT(X_RECORD_SIZE_LIMIT);
  fresh(false);
  OK_(ee_read(BODY(&ee), offered));
  /* record_size_limit was not offered */
  fresh(false);
  EXPECT(ee_read(BODY(&ee), offered & ~(1u << X_RECORD_SIZE_LIMIT)),
         MOAT_ERR_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION);
  for (size_t cut = 0; cut < ee.n - 4; cut++) {
    fresh(false);
    DECODE(ee_read(cur_make(ee.b + 4, cut), offered));
  }
  vec t = ee;
  t.b[t.n++] = 0;
  fresh(false);
  DECODE(ee_read(BODY(&t), offered));
  /* server_name must be empty in EncryptedExtensions */
  vec sni = V("0009 0000 0005 0003000000");
  fresh(false);
  DECODE(ee_read(CV(&sni), offered));
  /* key_share may not appear in EncryptedExtensions */
  vec ks = V("0006 0033 0002 001d");
  fresh(false);
  ILLEGAL(ee_read(CV(&ks), 0xffffffffu));
  /* ALPN: exactly one protocol, one we offered */
  uint32_t alpn = 1u << X_ALPN;
  vec one = V("0009 0010 0005 0003 02 6832"); /* "h2" */
  fresh(false);
  OK_(ee_read(CV(&one), alpn));
  CHECK((EV.read & X_BIT(X_ALPN)) != 0 &&
        cur_equal(&EV.alpn, (const uint8_t *)"h2", 2));
  vec two = V("000c 0010 0008 0006 02 6832 02 6832");
  fresh(false);
  ILLEGAL(ee_read(CV(&two), alpn));
  vec other = V("0009 0010 0005 0003 02 6833"); /* "h3" */
  fresh(false);
  ILLEGAL(ee_read(CV(&other), alpn));
  vec empty_name = V("0007 0010 0003 0001 00");
  fresh(false);
  DECODE(ee_read(CV(&empty_name), alpn));
}

/* ---- Certificate, CertificateVerify, Finished --------------------------- */

static void test_certificate(void) {
  vec ct = V(rfc8448_certificate);
  cert_list certs;
  fresh(false);
  OK_(VIA(cert_parse(BODY(&ct), NULL, 0, &certs, &W)));
  CHECK_EQ_INT(certs.num, 1);
  /* the codec returns a slice of the message: the leaf's DER after the
   * context byte and the two 24-bit lengths */
  CHECK(cur_data(&certs.der[0]) == ct.b + 4 + 1 + 3 + 3);
  CHECK_EQ_INT(cur_len(&certs.der[0]), 0x1b0);
  CHECK_EQ_INT(moat_conn_peer_chain_len(C), 0);
  /* the flow keeps a copy */
  OK_(hs_take_peer_chain(C, &certs));
  CHECK_EQ_INT(moat_conn_peer_chain_len(C), 1);
  CHECK_EQ_INT(C->peer->e[0].len, 0x1b0);
  CHECK(moat_conn_peer_chain_len(C) == 1 && C->peer->e[0].der[0] == 0x30);
  CHECK(C->peer->e[0].der != cur_data(&certs.der[0]) &&
        memcmp(C->peer->e[0].der, ct.b + 11, 0x1b0) == 0);
  for (size_t cut = 0; cut < ct.n - 4; cut += 7) {
    fresh(false);
    DECODE(VIA(cert_parse(cur_make(ct.b + 4, cut), NULL, 0, &certs, &W)));
    CHECK_EQ_INT(moat_conn_peer_chain_len(C), 0);
  }
  vec t = ct;
  t.b[t.n++] = 0;
  fresh(false);
  DECODE(VIA(cert_parse(BODY(&t), NULL, 0, &certs, &W)));
  /* context must match the request's */
  const uint8_t ctx1[1] = {7};
  fresh(false);
  ILLEGAL(VIA(cert_parse(BODY(&ct), ctx1, 1, &certs, &W)));
  vec with_ctx = V("01 07 000007 000002 3001 0000");
  fresh(false);
  OK_(VIA(cert_parse(CV(&with_ctx), ctx1, 1, &certs, &W)));
  CHECK(certs.num == 1 && cur_len(&certs.der[0]) == 2);
  /* an empty list */
  vec none = V("00 000000");
  fresh(true);
  certs.num = 5;
  OK_(VIA(cert_parse(CV(&none), NULL, 0, &certs, &W)));
  CHECK_EQ_INT(certs.num, 0);
  OK_(hs_take_peer_chain(C, &certs));
  CHECK(C->peer == NULL);
  /* three entries, in order */
  vec three = V("00 000015 000001 30 0000 000002 3031 0000 000003 303132 0000");
  fresh(false);
  OK_(VIA(cert_parse(CV(&three), NULL, 0, &certs, &W)));
  CHECK_EQ_INT(certs.num, 3);
  for (size_t i = 0; i < 3 && i < certs.num; i++) {
    CHECK_EQ_INT(cur_len(&certs.der[i]), i + 1);
    CHECK(cur_data(&certs.der[i])[i] == 0x30 + i);
  }
  /* a zero-length certificate */
  vec zero = V("00 000005 000000 0000");
  fresh(false);
  DECODE(VIA(cert_parse(CV(&zero), NULL, 0, &certs, &W)));
  /* a per-certificate extension we never asked for */
  vec ext = V("00 00000a 000001 30 0004 00050000");
  fresh(false);
  EXPECT(VIA(cert_parse(CV(&ext), NULL, 0, &certs, &W)),
         MOAT_ERR_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION);
  CHECK(strstr(moat_conn_error_detail(C), "CertificateEntry") != NULL);
  /* ... and one of a type moat does not know (RFC 8446 4.4.2: it answers
   * nothing we sent) */
  vec unknown = V("00 00000a 000001 30 0004 12340000");
  fresh(false);
  EXPECT(VIA(cert_parse(CV(&unknown), NULL, 0, &certs, &W)),
         MOAT_ERR_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION);
  CHECK_EQ_INT(moat_conn_peer_chain_len(C), 0);
  /* more certificates than TLS_MAX_CHAIN; exactly that many pass */
  for (int extra = 0; extra < 2; extra++) {
    uint8_t raw[512];
    builder b;
    bld_init_fixed(&b, raw, sizeof(raw));
    bld_u8(&b, 0);
    bld_open24(&b);
    for (int i = 0; i < TLS_MAX_CHAIN + extra; i++) {
      bld_u24(&b, 1);
      bld_u8(&b, 0x30);
      bld_u16(&b, 0);
    }
    bld_close(&b);
    CHECK(bld_finish(&b));
    fresh(false);
    if (extra) {
      EXPECT(VIA(cert_parse(cur_make(raw, bld_len(&b)), NULL, 0, &certs, &W)),
             MOAT_ERR_BAD_CERTIFICATE, ALERT_BAD_CERTIFICATE);
      CHECK_EQ_INT(moat_conn_peer_chain_len(C), 0);
    } else {
      OK_(VIA(cert_parse(cur_make(raw, bld_len(&b)), NULL, 0, &certs, &W)));
      CHECK_EQ_INT(certs.num, TLS_MAX_CHAIN);
    }
  }
  /* the builder's output parses back */
  uint8_t leaf[] = {0x30, 0x01, 0x02}, ca[] = {0x30, 0x00};
  uint8_t *chain[] = {leaf, ca};
  size_t lens[] = {sizeof(leaf), sizeof(ca)};
  uint8_t out[64];
  builder b;
  bld_init_fixed(&b, out, sizeof(out));
  CHECK(cert_build(&b, ctx1, 1, chain, lens, 2));
  CHECK(out[0] == HT_CERTIFICATE);
  fresh(false);
  OK_(VIA(cert_parse(cur_make(out + 4, bld_len(&b) - 4), ctx1, 1, &certs, &W)));
  CHECK(certs.num == 2 && cur_equal(&certs.der[0], leaf, sizeof(leaf)) &&
        cur_equal(&certs.der[1], ca, sizeof(ca)));
  bld_init_fixed(&b, out, 8);
  CHECK(!cert_build(&b, ctx1, 1, chain, lens, 2));
}

/* The TLS 1.2 Certificate: a list of DER certificates, no context and no
 * per-entry extensions (RFC 5246 7.4.2). */
static void test_certificate12(void) {
  cert_list certs;
  vec two = V("00000a 000002 3001 000002 3002");
  fresh(false);
  OK_(VIA(cert12_parse(CV(&two), &certs, &W)));
  CHECK(certs.num == 2 && cur_data(&certs.der[0]) == two.b + 6 &&
        cur_data(&certs.der[1])[1] == 0x02);
  for (size_t cut = 0; cut < two.n; cut++) {
    fresh(false);
    DECODE(VIA(cert12_parse(cur_make(two.b, cut), &certs, &W)));
  }
  vec none = V("000000");
  fresh(true);
  OK_(VIA(cert12_parse(CV(&none), &certs, &W)));
  CHECK_EQ_INT(certs.num, 0);
  vec zero = V("000003 000000");
  fresh(false);
  DECODE(VIA(cert12_parse(CV(&zero), &certs, &W)));
  CHECK(strstr(moat_conn_error_detail(C), "certificate 0") != NULL);
  vec trailing = V("000005 000002 3001 00");
  fresh(false);
  DECODE(VIA(cert12_parse(CV(&trailing), &certs, &W)));
  uint8_t raw[256];
  builder b;
  bld_init_fixed(&b, raw, sizeof(raw));
  bld_open24(&b);
  for (int i = 0; i < TLS_MAX_CHAIN + 1; i++) {
    bld_u24(&b, 1);
    bld_u8(&b, 0x30);
  }
  bld_close(&b);
  CHECK(bld_finish(&b));
  fresh(false);
  EXPECT(VIA(cert12_parse(cur_make(raw, bld_len(&b)), &certs, &W)),
         MOAT_ERR_BAD_CERTIFICATE, ALERT_BAD_CERTIFICATE);
  /* the builder's output parses back */
  uint8_t leaf[] = {0x30, 0x05};
  uint8_t *chain[] = {leaf};
  size_t lens[] = {sizeof(leaf)};
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(cert12_build(&b, chain, lens, 1));
  fresh(false);
  OK_(VIA(cert12_parse(cur_make(raw + 4, bld_len(&b) - 4), &certs, &W)));
  CHECK(certs.num == 1 && cur_equal(&certs.der[0], leaf, sizeof(leaf)));
}

/* RFC 8448's server CertificateVerify checked as a client would: the
 * transcript up to the Certificate and the key from the trace's
 * certificate. */
static void test_certificate_verify(void) {
  const char *msgs[] = {rfc8448_client_hello, rfc8448_server_hello,
                        rfc8448_encrypted_extensions, rfc8448_certificate};
  vec cv = V(rfc8448_certificate_verify);
  /* the codec alone: scheme and signature */
  cert_verify parsed;
  fresh(false);
  OK_(VIA(cv_parse(BODY(&cv), &parsed, &W)));
  CHECK_EQ_INT(parsed.scheme, 0x0804);
  CHECK(cur_len(&parsed.sig) == cv.n - 8 && cur_data(&parsed.sig) == cv.b + 8);
  uint8_t again[512];
  builder b;
  bld_init_fixed(&b, again, sizeof(again));
  CHECK(
      cv_build(&b, parsed.scheme, cur_data(&parsed.sig), cur_len(&parsed.sig)));
  CHECK(bld_len(&b) == cv.n && memcmp(again, cv.b, cv.n) == 0);
  for (int tamper = 0; tamper < 2; tamper++) {
    fresh(false);
    handshake *hs = C->hs;
    hs->transcript = hash_new(hash_get(HASH_SHA256));
    for (size_t i = 0; i < 4; i++) {
      vec m = V(msgs[i]);
      CHECK(hash_update(hs->transcript, m.b, m.n));
    }
    vec ct = V(rfc8448_certificate);
    cursor leaf = cur_make(ct.b + 4 + 1 + 3 + 3, 0x1b0);
    moat_err e =
        cert_leaf_pubkey(C, cur_data(&leaf), cur_len(&leaf), &hs->peer_key);
    if (e != MOAT_OK) {
      /* a 1024-bit RSA key may be refused by policy */
      fprintf(stderr, "note: RFC 8448 key refused: %s\n",
              moat_conn_error_detail(C));
      break;
    }
    vec v = cv;
    if (tamper) {
      v.b[v.n - 1] ^= 1;
      EXPECT(auth_cv_check(C, BODY(&v)), MOAT_ERR_DECRYPT_ERROR,
             ALERT_DECRYPT_ERROR);
      CHECK(!hs->proof_cert_verify);
    } else {
      OK_(auth_cv_check(C, BODY(&v)));
      CHECK(hs->proof_cert_verify);
      CHECK(C->peer_sig != NULL && C->peer_sig->code == 0x0804);
    }
  }
  /* malformed and not offered */
  vec shortcv = V("0804 0003 0102");
  fresh(false);
  DECODE(VIA(cv_parse(CV(&shortcv), &parsed, &W)));
  fresh(false);
  DECODE(auth_cv_check(C, CV(&shortcv)));
  vec trailing = V("0804 0001 01 00");
  fresh(false);
  DECODE(VIA(cv_parse(CV(&trailing), &parsed, &W)));
  fresh(false);
  DECODE(auth_cv_check(C, CV(&trailing)));
  vec sha1 = V("0201 0001 01"); /* rsa_pkcs1_sha1: never in TLS 1.3 */
  fresh(false);
  OK_(VIA(cv_parse(CV(&sha1), &parsed, &W))); /* well formed */
  ILLEGAL(auth_cv_check(C, CV(&sha1)));
  fresh(false);
  ILLEGAL(auth_cv12_check(C, CV(&sha1))); /* and not offered for 1.2 */
  CHECK(!C->hs->proof_cert_verify);
}

static void test_finished(void) {
  /* the codec: exactly the expected length */
  uint8_t zeros[48] = {0};
  cursor vd;
  fresh(false);
  OK_(VIA(fin_parse(cur_make(zeros, 12), 12, &vd, &W)));
  CHECK(cur_data(&vd) == zeros && cur_len(&vd) == 12);
  fresh(false);
  DECODE(VIA(fin_parse(cur_make(zeros, 13), 12, &vd, &W)));
  CHECK(strcmp(moat_conn_error_detail(C),
               "Finished has 13 bytes, expected 12") == 0);
  uint8_t msg[4 + 32];
  builder b;
  bld_init_fixed(&b, msg, sizeof(msg));
  CHECK(fin_build(&b, zeros, 32));
  CHECK(bld_len(&b) == 36 && msg[0] == HT_FINISHED && msg[3] == 32);
  bld_init_fixed(&b, msg, 35);
  CHECK(!fin_build(&b, zeros, 32));
  /* the check against the key schedule */
  fresh(false);
  CHECK(ks_init(&C->hs->ks, hash_get(HASH_SHA256), NULL, 0));
  C->hs->transcript = hash_new(hash_get(HASH_SHA256));
  DECODE(auth_fin_check(C, cur_make(zeros, 31), C->hs->ks.secret));
  fresh(false);
  CHECK(ks_init(&C->hs->ks, hash_get(HASH_SHA256), NULL, 0));
  C->hs->transcript = hash_new(hash_get(HASH_SHA256));
  DECODE(auth_fin_check(C, cur_make(zeros, 33), C->hs->ks.secret));
  fresh(false);
  CHECK(ks_init(&C->hs->ks, hash_get(HASH_SHA256), NULL, 0));
  C->hs->transcript = hash_new(hash_get(HASH_SHA256));
  EXPECT(auth_fin_check(C, cur_make(zeros, 32), C->hs->ks.secret),
         MOAT_ERR_DECRYPT_ERROR, ALERT_DECRYPT_ERROR);
  CHECK(!C->hs->proof_finished);
  /* the right value passes: ks_finished over the empty transcript */
  fresh(false);
  CHECK(ks_init(&C->hs->ks, hash_get(HASH_SHA256), NULL, 0));
  C->hs->transcript = hash_new(hash_get(HASH_SHA256));
  uint8_t th[32], verify[32];
  CHECK(hash_oneshot(hash_get(HASH_SHA256), NULL, 0, th));
  CHECK(ks_finished(&C->hs->ks, C->hs->ks.secret, th, verify));
  /* auth_fin_check takes the finished key (RFC 8446 4.4.4) of that
   * secret */
  uint8_t fkey[32];
  CHECK(hkdf_expand_label(C->hs->ks.hmac, C->hs->ks.secret, 32, "finished",
                          NULL, 0, fkey, 32));
  OK_(auth_fin_check(C, cur_make(verify, 32), fkey));
  CHECK(C->hs->proof_finished);
  /* and auth_fin_build writes the same value (the peer's view: a server
   * builds what the client checks with the same key) */
  C->is_server = true;
  bld_init_fixed(&b, msg, sizeof(msg));
  OK_(auth_fin_build(C, &b, fkey));
  CHECK(bld_len(&b) == 36 && memcmp(msg + 4, verify, 32) == 0);
}

/* ---- CertificateRequest, KeyUpdate, NewSessionTicket --------------------- */

static void test_certificate_request(void) {
  cert_request cr;
  vec ok = V("00 0008 000d 0004 0002 0403");
  fresh(false);
  OK_(VIA(cr_parse(CV(&ok), &cr, &W)));
  CHECK(cr.num_sigalgs == 1 && cr.sigalgs[0] == 0x0403);
  /* the flow keeps the schemes for its answer */
  CHECK(!C->hs->cert_requested);
  hs_take_cert_request(C->hs, &cr);
  CHECK(C->hs->cert_requested && C->hs->num_cr_sigalgs == 1 &&
        C->hs->cr_sigalgs[0] == 0x0403 && C->hs->cr_context_len == 0);
  vec ctx = V("01 07 0008 000d 0004 0002 0403");
  fresh(false);
  ILLEGAL(VIA(cr_parse(CV(&ctx), &cr, &W)));
  vec none = V("00 0000");
  fresh(false);
  EXPECT(VIA(cr_parse(CV(&none), &cr, &W)), MOAT_ERR_MISSING_EXTENSION,
         ALERT_MISSING_EXTENSION);
  vec trailing = V("00 0008 000d 0004 0002 0403 00");
  fresh(false);
  DECODE(VIA(cr_parse(CV(&trailing), &cr, &W)));
  vec empty_list = V("00 0006 000d 0002 0000");
  fresh(false);
  DECODE(VIA(cr_parse(CV(&empty_list), &cr, &W)));
  vec key_share = V("00 000e 000d 0004 0002 0403 0033 0002 001d");
  fresh(false);
  ILLEGAL(VIA(cr_parse(CV(&key_share), &cr, &W)));
  /* the builder offers the policy's schemes, and they parse back */
  uint8_t raw[256];
  builder b;
  bld_init_fixed(&b, raw, sizeof(raw));
  fresh(true);
  CHECK(cr_build(&b, C->ctx));
  fresh(false);
  OK_(VIA(cr_parse(cur_make(raw + 4, bld_len(&b) - 4), &cr, &W)));
  CHECK(cr.num_sigalgs > 0 && cr.num_sigalgs == C->ctx->num_sigalgs &&
        cr.sigalgs[0] == C->ctx->sigalgs[0]->code);
}

/* RFC 5246 7.4.4: certificate types, schemes, authorities. */
static void test_certificate_request12(void) {
  cert_request cr;
  vec ok = V("02 0140 0006 0403 0804 fefe 0000");
  fresh(false);
  OK_(VIA(cr12_parse(CV(&ok), &cr, &W)));
  /* TLS 1.2 keeps the list as sent, unknown codes included */
  CHECK(cr.num_sigalgs == 3 && cr.sigalgs[0] == 0x0403 &&
        cr.sigalgs[1] == 0x0804 && cr.sigalgs[2] == 0xfefe);
  for (size_t cut = 0; cut < ok.n; cut++) {
    fresh(false);
    DECODE(VIA(cr12_parse(cur_make(ok.b, cut), &cr, &W)));
  }
  static const char *const bad[] = {
      "00 0002 0403 0000",      /* no certificate types */
      "01 40 0000 0000",        /* no schemes */
      "01 40 0003 040308 0000", /* odd scheme list */
      "01 40 0002 0403 0000 00" /* trailing */
  };
  for (size_t i = 0; i < 4; i++) {
    vec v = V(bad[i]);
    fresh(false);
    DECODE(VIA(cr12_parse(CV(&v), &cr, &W)));
  }
  /* at most 64 schemes are kept from a longer list */
  uint8_t raw[512];
  builder b;
  bld_init_fixed(&b, raw, sizeof(raw));
  bld_u8(&b, 1);
  bld_u8(&b, 64);
  bld_open16(&b);
  for (unsigned i = 0; i < 100; i++) {
    bld_u16(&b, (uint16_t)(0x0400 + i));
  }
  bld_close(&b);
  bld_u16(&b, 0);
  CHECK(bld_finish(&b));
  fresh(false);
  OK_(VIA(cr12_parse(cur_make(raw, bld_len(&b)), &cr, &W)));
  CHECK(cr.num_sigalgs == 64 && cr.sigalgs[63] == 0x0400 + 63);
  /* the builder's output parses back */
  bld_init_fixed(&b, raw, sizeof(raw));
  fresh(true);
  CHECK(cr12_build(&b, C->ctx));
  fresh(false);
  OK_(VIA(cr12_parse(cur_make(raw + 4, bld_len(&b) - 4), &cr, &W)));
  CHECK(cr.num_sigalgs > 0 && cr.sigalgs[0] == C->ctx->sigalgs[0]->code);
}

static void test_key_update(void) {
  bool req = true;
  uint8_t v0 = 0, v1 = 1, v2 = 2, two[2] = {0, 0};
  fresh(false);
  OK_(VIA(ku_parse(cur_make(&v0, 1), &req, &W)));
  CHECK(!req);
  fresh(false);
  OK_(VIA(ku_parse(cur_make(&v1, 1), &req, &W)));
  CHECK(req);
  fresh(false);
  ILLEGAL(VIA(ku_parse(cur_make(&v2, 1), &req, &W)));
  fresh(false);
  DECODE(VIA(ku_parse(cur_make(NULL, 0), &req, &W)));
  fresh(false);
  DECODE(VIA(ku_parse(cur_make(two, 2), &req, &W)));
  /* the builder's output parses back */
  uint8_t out[8];
  builder b;
  bld_init_fixed(&b, out, sizeof(out));
  CHECK(ku_build(&b, true));
  CHECK_EQ_INT(bld_len(&b), 5);
  CHECK(out[0] == HT_KEY_UPDATE && out[3] == 1 && out[4] == 1);
}

/* A client connection as after a handshake with TLS_AES_128_GCM_SHA256. */
static void fresh_nst(void) {
  fresh(false);
  C->suite = suite_by_code(0x1301);
}

static void test_new_session_ticket(void) {
  /* RFC 8448 3: {server} construct a NewSessionTicket */
  vec nst = V("040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec90000"
              "0000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be"
              "785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd6"
              "1d2827db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2"
              "aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297"
              "b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e933"
              "43694093934ae4d3570008002a000400000400");
  CHECK_EQ_INT(nst.n, 4 + 0xc9);
  nst13 t;
  fresh_nst();
  vec res = V(rfc8448_resumption);
  memcpy(C->res_master, res.b, 32);
  OK_(VIA(nst_parse(BODY(&nst), &t, &W)));
  /* the fields as the trace has them */
  CHECK(t.lifetime == 30 && t.age_add == 0xfad6aac5);
  CHECK(cur_len(&t.nonce) == 2 && cur_data(&t.nonce)[0] == 0 &&
        cur_data(&t.nonce)[1] == 0);
  CHECK(cur_len(&t.ticket) == 0xb2 && cur_data(&t.ticket)[0] == 0x2c);
  CHECK(ext_has(&t.ext, X_EARLY_DATA));
  CHECK(C->session == NULL); /* the codec makes no session */
  OK_(tls13_take_ticket(C, &t));
  /* RFC 8448 3: {server} generate resumption secret "tls13 resumption"
   * from the ticket nonce 00 00 */
  CHECK(C->session != NULL && C->session->psk_len == 32);
  if (C->session != NULL) {
    vec psk = V("4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1"
                "c4f3");
    CHECK(memcmp(C->session->psk, psk.b, 32) == 0);
    CHECK(C->session->lifetime == 30 && C->session->age_add == 0xfad6aac5 &&
          C->session->ticket_len == 0xb2);
  }
  for (size_t cut = 0; cut < nst.n - 4; cut += 5) {
    fresh_nst();
    DECODE(VIA(nst_parse(cur_make(nst.b + 4, cut), &t, &W)));
  }
  vec tr = nst;
  tr.b[tr.n++] = 0;
  fresh_nst();
  DECODE(VIA(nst_parse(BODY(&tr), &t, &W)));
  /* RFC 8446 4.6.1: lifetime at most 604800 seconds */
  vec long_life = V("00093a81 00000000 00 0001 aa 0000");
  fresh_nst();
  ILLEGAL(VIA(nst_parse(CV(&long_life), &t, &W)));
  vec week = V("00093a80 00000000 00 0001 aa 0000");
  fresh_nst();
  OK_(VIA(nst_parse(CV(&week), &t, &W)));
  /* a lifetime of 0: parsed, then not kept */
  vec zero_life = V("00000000 00000000 00 0001 aa 0000");
  fresh_nst();
  OK_(VIA(nst_parse(CV(&zero_life), &t, &W)));
  OK_(tls13_take_ticket(C, &t));
  CHECK(C->session == NULL);
  vec no_ticket = V("00000010 00000000 00 0000 0000");
  fresh_nst();
  DECODE(VIA(nst_parse(CV(&no_ticket), &t, &W)));
  vec key_share = V("00000010 00000000 00 0001 aa 0006 0033 0002 001d");
  fresh_nst();
  ILLEGAL(VIA(nst_parse(CV(&key_share), &t, &W)));
}

/* RFC 5077 3.3: lifetime hint and ticket, which may be empty. */
static void test_new_session_ticket12(void) {
  nst12 t;
  vec ok = V("00001c20 0003 aabbcc");
  fresh(false);
  OK_(VIA(nst12_parse(CV(&ok), &t, &W)));
  CHECK(t.lifetime_hint == 7200 && cur_len(&t.ticket) == 3 &&
        cur_data(&t.ticket) == ok.b + 6);
  vec empty = V("00000000 0000");
  fresh(false);
  OK_(VIA(nst12_parse(CV(&empty), &t, &W)));
  CHECK(cur_done(&t.ticket));
  for (size_t cut = 0; cut < ok.n; cut++) {
    fresh(false);
    DECODE(VIA(nst12_parse(cur_make(ok.b, cut), &t, &W)));
  }
  vec trailing = V("00001c20 0001 aa 00");
  fresh(false);
  DECODE(VIA(nst12_parse(CV(&trailing), &t, &W)));
  uint8_t raw[32];
  builder b;
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(nst12_build(&b, 7200, ok.b + 6, 3));
  CHECK(bld_len(&b) == 4 + ok.n && memcmp(raw + 4, ok.b, ok.n) == 0);
}

/* ---- ServerKeyExchange, ClientKeyExchange (TLS 1.2) ---------------------- */

static void test_key_exchange12(void) {
  server_kex kx;
  vec ske = V("03 001d 04 01020304  0403 0002 aabb");
  fresh(false);
  OK_(VIA(ske_parse(CV(&ske), &kx, &W)));
  CHECK(kx.group == 0x001d && cur_len(&kx.point) == 4 &&
        cur_data(&kx.point)[0] == 1);
  CHECK(cur_data(&kx.params) == ske.b && cur_len(&kx.params) == 8);
  CHECK(kx.scheme == 0x0403 && cur_len(&kx.sig) == 2);
  for (size_t cut = 0; cut < ske.n; cut++) {
    fresh(false);
    DECODE(VIA(ske_parse(cur_make(ske.b, cut), &kx, &W)));
  }
  vec explicit_curve = V("01 001d 04 01020304  0403 0002 aabb");
  fresh(false);
  ILLEGAL(VIA(ske_parse(CV(&explicit_curve), &kx, &W)));
  vec empty_point = V("03 001d 00  0403 0002 aabb");
  fresh(false);
  DECODE(VIA(ske_parse(CV(&empty_point), &kx, &W)));
  vec trailing = V("03 001d 01 01  0403 0002 aabb 00");
  fresh(false);
  DECODE(VIA(ske_parse(CV(&trailing), &kx, &W)));
  /* the builders write what the parser reads */
  uint8_t params[16], raw[64];
  builder pb, b;
  bld_init_fixed(&pb, params, sizeof(params));
  CHECK(ske_params_build(&pb, 0x001d, ske.b + 4, 4));
  CHECK(bld_len(&pb) == 8 && memcmp(params, ske.b, 8) == 0);
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(ske_build(&b, cur_make(params, bld_len(&pb)), 0x0403, ske.b + 12, 2));
  CHECK(raw[0] == HT_SERVER_KEY_EXCHANGE && bld_len(&b) == 4 + ske.n &&
        memcmp(raw + 4, ske.b, ske.n) == 0);
  /* ClientKeyExchange: one non-empty point */
  cursor point;
  vec cke = V("03 aabbcc");
  fresh(true);
  OK_(VIA(cke_parse(CV(&cke), &point, &W)));
  CHECK(cur_len(&point) == 3 && cur_data(&point) == cke.b + 1);
  static const char *const bad[] = {"", "00", "03 aabb", "02 aabb cc"};
  for (size_t i = 0; i < 4; i++) {
    vec v = V(bad[i]);
    fresh(true);
    DECODE(VIA(cke_parse(CV(&v), &point, &W)));
  }
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(cke_build(&b, cke.b + 1, 3));
  CHECK(raw[0] == HT_CLIENT_KEY_EXCHANGE && bld_len(&b) == 4 + cke.n &&
        memcmp(raw + 4, cke.b, cke.n) == 0);
}

/* ---- the extension block ------------------------------------------------- */

static void test_ext_block(void) {
  ext_set set;
  vec ok = V("000a 0004 0002 001d  1234 0001 ff  002b 0003 020304");
  fresh(true);
  OK_(VIA(ext_parse_block(CV(&ok), M_CH, 0, &set, &W)));
  CHECK(ext_has(&set, X_SUPPORTED_GROUPS) &&
        ext_has(&set, X_SUPPORTED_VERSIONS));
  CHECK_EQ_INT(cur_len(&set.data[X_SUPPORTED_GROUPS]), 4);
  /* unknown extensions in a response: unsupported_extension */
  vec unknown = V("1234 0000");
  fresh(false);
  EXPECT(VIA(ext_parse_block(CV(&unknown), M_EE, 0xffffffffu, &set, &W)),
         MOAT_ERR_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION);
  /* duplicates of a known extension, apart or adjacent */
  vec dup = V("000a 0004 0002 001d 1234 0000 000a 0004 0002 001d");
  fresh(true);
  ILLEGAL(VIA(ext_parse_block(CV(&dup), M_CH, 0, &set, &W)));
  vec dup2 = V("002b 0003 02 0304 002b 0003 02 0304");
  fresh(true);
  ILLEGAL(VIA(ext_parse_block(CV(&dup2), M_CH, 0, &set, &W)));
  /* duplicates of an unknown one too */
  vec dup3 = V("1234 0000 000a 0004 0002 001d 1234 0000");
  fresh(true);
  ILLEGAL(VIA(ext_parse_block(CV(&dup3), M_CH, 0, &set, &W)));
  /* RFC 8446 4.1.2: unknown ones are ignored however many there are
   * (3000 distinct ones here, the known ones among them) */
  static uint8_t many[3000 * 4 + 8];
  size_t mn = 0;
  for (unsigned i = 0; i < 3000; i++) {
    uint16_t t = (uint16_t)(0x4000 + i);
    many[mn++] = (uint8_t)(t >> 8);
    many[mn++] = (uint8_t)t;
    many[mn++] = 0;
    many[mn++] = 0;
    if (i == 1500) {
      memcpy(many + mn, "\x00\x0a\x00\x04\x00\x02\x00\x1d", 8);
      mn += 8;
    }
  }
  fresh(true);
  OK_(VIA(ext_parse_block(cur_make(many, mn), M_CH, 0, &set, &W)));
  CHECK(ext_has(&set, X_SUPPORTED_GROUPS));
  CHECK_EQ_INT(cur_len(&set.data[X_SUPPORTED_GROUPS]), 4);
  /* not allowed in this message: cookie in a ServerHello */
  vec cookie = V("002c 0003 0001 aa");
  fresh(false);
  ILLEGAL(VIA(ext_parse_block(CV(&cookie), M_SH, 0xffffffffu, &set, &W)));
  /* allowed but not offered */
  vec alpn = V("0010 0005 0003 0268 32");
  fresh(false);
  EXPECT(
      VIA(ext_parse_block(CV(&alpn), M_EE, 1u << X_SUPPORTED_GROUPS, &set, &W)),
      MOAT_ERR_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION);
  /* framing */
  static const char *const bad[] = {"00", "000a", "000a 00", "000a 0005 0002",
                                    "000a 0000 00"};
  for (size_t i = 0; i < 5; i++) {
    vec v = V(bad[i]);
    fresh(true);
    DECODE(VIA(ext_parse_block(CV(&v), M_CH, 0, &set, &W)));
  }
  /* pre_shared_key must be last (RFC 8446 4.2.11): recorded */
  vec psk = V("0029 0000 000a 0004 0002 001d");
  fresh(true);
  OK_(VIA(ext_parse_block(CV(&psk), M_CH, 0, &set, &W)));
  CHECK(set.psk_not_last);
  vec psk_last = V("000a 0004 0002 001d 0029 0000");
  fresh(true);
  OK_(VIA(ext_parse_block(CV(&psk_last), M_CH, 0, &set, &W)));
  CHECK(!set.psk_not_last);
}

/* ---- single extensions -----------------------------------------------------
 */

static void test_sni(void) {
  char name[256];
  vec ok = V("0009 00 0006 736572766572"); /* "server" */
  fresh(true);
  OK_(VIA(ext_sni_parse(CV(&ok), name, sizeof(name), &W)));
  CHECK(strcmp(name, "server") == 0);
  vec other_type = V("000d 01 0001 78  00 0006 736572766572");
  fresh(true);
  OK_(VIA(ext_sni_parse(CV(&other_type), name, sizeof(name), &W)));
  CHECK(strcmp(name, "server") == 0);
  vec two_names = V("0008 00 0001 61 00 0001 62");
  fresh(true);
  ILLEGAL(VIA(ext_sni_parse(CV(&two_names), name, sizeof(name), &W)));
  static const char *const bad[] = {
      "0000",                         /* empty list */
      "0004 00 0001 00",              /* NUL */
      "0003 00 0000",                 /* empty name */
      "0009 00 0007 736572766572",    /* name overruns */
      "0009 00 0006 736572766572 00", /* trailing */
  };
  for (size_t i = 0; i < 5; i++) {
    vec v = V(bad[i]);
    fresh(true);
    DECODE(VIA(ext_sni_parse(CV(&v), name, sizeof(name), &W)));
  }
}

static void test_groups_sigalgs(void) {
  uint16_t out[8];
  size_t n;
  vec g = V("0012001d00170018001901000101010201030104");
  fresh(true);
  OK_(VIA(ext_groups_parse(CV(&g), out, 8, &n, &W)));
  CHECK(n == 4 && out[0] == 0x001d && out[3] == 0x0019);
  vec s = V("0004 0403 0804");
  fresh(true);
  OK_(VIA(ext_sigalgs_parse(CV(&s), out, 8, &n, &W)));
  CHECK(n == 2 && out[0] == 0x0403 && out[1] == 0x0804);
  /* RFC 8446 4.2.3, 4.2.7: the whole list counts; known entries after
   * 200 unknown ones (and repeats of a known one) are kept, once each,
   * in the caller's small array */
  static uint8_t big[2 + 2 * 205];
  size_t bn = 2;
  for (unsigned i = 0; i < 200; i++) {
    big[bn++] = 0xfe;
    big[bn++] = (uint8_t)i;
  }
  static const uint8_t tail[] = {0x04, 0x03, 0x04, 0x03, 0x08,
                                 0x04, 0x04, 0x03, 0x08, 0x07};
  memcpy(big + bn, tail, sizeof(tail));
  bn += sizeof(tail);
  big[0] = (uint8_t)((bn - 2) >> 8);
  big[1] = (uint8_t)(bn - 2);
  fresh(true);
  OK_(VIA(ext_sigalgs_parse(cur_make(big, bn), out, 3, &n, &W)));
  CHECK(n == 3 && out[0] == 0x0403 && out[1] == 0x0804 && out[2] == 0x0807);
  static const uint8_t gtail[] = {0x00, 0x17, 0x00, 0x17, 0x00,
                                  0x1d, 0x00, 0x17, 0x00, 0x18};
  memcpy(big + 2 + 400, gtail, sizeof(gtail));
  fresh(true);
  OK_(VIA(ext_groups_parse(cur_make(big, bn), out, 3, &n, &W)));
  CHECK(n == 3 && out[0] == 0x0017 && out[1] == 0x001d && out[2] == 0x0018);
  static const char *const bad[] = {"0000", "0003 001d00", "0002 001d 00",
                                    "0004 001d", "00"};
  for (size_t i = 0; i < 5; i++) {
    vec v = V(bad[i]);
    fresh(true);
    DECODE(VIA(ext_groups_parse(CV(&v), out, 8, &n, &W)));
    fresh(true);
    DECODE(VIA(ext_sigalgs_parse(CV(&v), out, 8, &n, &W)));
  }
}

static void test_versions(void) {
  bool t13, t12;
  vec only13 = V("02 0304");
  fresh(true);
  OK_(VIA(ext_versions_parse_ch(CV(&only13), &t13, &t12, &W)));
  CHECK(t13 && !t12);
  vec both = V("06 0a0a 0304 0303"); /* with a GREASE value */
  fresh(true);
  OK_(VIA(ext_versions_parse_ch(CV(&both), &t13, &t12, &W)));
  CHECK(t13 && t12);
  static const char *const bad[] = {"00", "01 03", "03 030403", "02 0304 00",
                                    "04 0304"};
  for (size_t i = 0; i < 5; i++) {
    vec v = V(bad[i]);
    fresh(true);
    DECODE(VIA(ext_versions_parse_ch(CV(&v), &t13, &t12, &W)));
  }
  uint16_t ver;
  vec sh = V("0304");
  fresh(false);
  OK_(VIA(ext_versions_parse_sh(CV(&sh), &ver, &W)));
  CHECK_EQ_INT(ver, 0x0304);
  vec sh_short = V("03");
  fresh(false);
  DECODE(VIA(ext_versions_parse_sh(CV(&sh_short), &ver, &W)));
  vec sh_long = V("030403");
  fresh(false);
  DECODE(VIA(ext_versions_parse_sh(CV(&sh_long), &ver, &W)));
}

static void test_alpn(void) {
  cursor chosen;
  vec mine = V("0009 08 687474702f312e31"); /* http/1.1 */
  fresh(true);
  OK_(alpn_select(CV(&mine), &chosen));
  CHECK(cur_equal(&chosen, (const uint8_t *)"http/1.1", 8));
  vec both = V("000c 02 6832 08 687474702f312e31");
  fresh(true);
  OK_(alpn_select(CV(&both), &chosen));
  CHECK(cur_equal(&chosen, (const uint8_t *)"h2", 2)); /* our order */
  vec theirs = V("0003 02 6833");                      /* h3 */
  fresh(true);
  EXPECT(alpn_select(CV(&theirs), &chosen), MOAT_ERR_NO_APPLICATION_PROTOCOL,
         ALERT_NO_APPLICATION_PROTOCOL);
  static const char *const bad[] = {"0000", "0001 00", "0003 03 6832",
                                    "0003 02 6832 00", "00"};
  for (size_t i = 0; i < 5; i++) {
    vec v = V(bad[i]);
    fresh(true);
    DECODE(alpn_select(CV(&v), &chosen));
    fresh(false);
    DECODE(VIA(ext_alpn_parse_ee(CV(&v), C->ctx, &chosen, &W)));
  }
  vec one = V("0003 02 6832");
  fresh(false);
  OK_(VIA(ext_alpn_parse_ee(CV(&one), C->ctx, &chosen, &W)));
  CHECK(cur_equal(&chosen, (const uint8_t *)"h2", 2));
  fresh(false);
  ILLEGAL(VIA(ext_alpn_parse_ee(CV(&both), C->ctx, &chosen, &W)));
  fresh(false);
  ILLEGAL(VIA(ext_alpn_parse_ee(CV(&theirs), C->ctx, &chosen, &W)));
}

static void test_key_share_cookie(void) {
  vec ch = V(rfc8448_client_hello);
  client_hello out;
  fresh(true);
  OK_(VIA(ch_parse(BODY(&ch), &out, &W)));
  uint16_t groups[4];
  size_t n, total;
  cursor ksd = out.ext.data[X_KEY_SHARE];
  fresh(true);
  OK_(VIA(ext_key_share_groups(ksd, groups, 4, &n, &total, &W)));
  CHECK(n == 1 && total == 1 && groups[0] == 0x001d);
  cursor share;
  bool found;
  fresh(true);
  OK_(VIA(ext_key_share_find(ksd, 0x001d, &share, &found, &W)));
  vec pub = V(rfc8448_client_pub);
  CHECK(found && cur_equal(&share, pub.b, 32));
  fresh(true);
  OK_(VIA(ext_key_share_find(ksd, 0x0017, &share, &found, &W)));
  CHECK(!found);
  /* RFC 8446 4.2.8: one share per group */
  vec twice = V("000c 001d 0002 aaaa 001d 0002 bbbb");
  fresh(true);
  ILLEGAL(VIA(ext_key_share_groups(CV(&twice), groups, 4, &n, &total, &W)));
  static const char *const bad[] = {"0004 001d 0000", "0006 001d 0003 aaaa",
                                    "0006 001d 0002 aaaa 00", "0005 001d 0002",
                                    "00"};
  for (size_t i = 0; i < 5; i++) {
    vec v = V(bad[i]);
    fresh(true);
    DECODE(VIA(ext_key_share_groups(CV(&v), groups, 4, &n, &total, &W)));
    fresh(true);
    DECODE(VIA(ext_key_share_find(CV(&v), 0x001d, &share, &found, &W)));
  }
  /* RFC 8446 4.2.8: shares for unknown groups (0x0a0a, 0x7777, twice) are
   * skipped and not counted against the caller's room, only in the
   * total */
  vec mixed = V("001e 0a0a 0002 aaaa 7777 0002 bbbb 7777 0002 bbbb "
                "0017 0002 cccc 001d 0002 dddd");
  fresh(true);
  OK_(VIA(ext_key_share_groups(CV(&mixed), groups, 2, &n, &total, &W)));
  CHECK(n == 2 && total == 5 && groups[0] == 0x0017 && groups[1] == 0x001d);

  cursor cookie;
  vec ck = V("0003 010203");
  fresh(false);
  OK_(VIA(ext_cookie_parse(CV(&ck), &cookie, &W)));
  CHECK(cur_equal(&cookie, (const uint8_t *)"\x01\x02\x03", 3));
  static const char *const badc[] = {"0000", "0004 010203", "0003 010203 00",
                                     "00"};
  for (size_t i = 0; i < 4; i++) {
    vec v = V(badc[i]);
    fresh(false);
    DECODE(VIA(ext_cookie_parse(CV(&v), &cookie, &W)));
  }
}

int main(void) {
  g_cctx = moat_context_new(MOAT_ROLE_CLIENT);
  g_sctx = moat_context_new(MOAT_ROLE_SERVER);
  const char *protos[] = {"h2", "http/1.1"};
  CHECK(moat_context_set_alpn_protocols(g_cctx, protos, 2) == MOAT_OK);
  CHECK(moat_context_set_alpn_protocols(g_sctx, protos, 2) == MOAT_OK);
  test_client_hello();
  test_server_hello();
  test_encrypted_extensions();
  test_certificate();
  test_certificate12();
  test_certificate_verify();
  test_finished();
  test_certificate_request();
  test_certificate_request12();
  test_key_update();
  test_new_session_ticket();
  test_new_session_ticket12();
  test_key_exchange12();
  test_ext_block();
  test_sni();
  test_groups_sigalgs();
  test_versions();
  test_alpn();
  test_key_share_cookie();
  moat_conn_free(C);
  moat_context_free(g_cctx);
  moat_context_free(g_sctx);
  return t_done("messages");
}
