/* OCSP response checks (moat_ocsp_check, src/x509/ocsp.c) over responses
 * that `openssl ocsp` makes at test time (tests/x509/make_ocsp.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/builder.h"
#include "base/mem.h"
#include "crypto/crypto.h"
#include "moat.h"
#include "t.h"
#include "x509/ocsp.h"
#include "x509/x509.h"

static char dir[64];

static uint8_t *slurp(const char *name, const char *ext, size_t *len) {
  char path[160];
  uint8_t *data = NULL;
  snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
  if (x509_read_file(path, &data, len, NULL, 0) != MOAT_OK) {
    fprintf(stderr, "cannot read %s\n", path);
    return NULL;
  }
  return data;
}

static moat_cert *cert(const char *name) {
  size_t len;
  uint8_t *pem = slurp(name, "pem", &len);
  moat_cert *c = NULL;
  if (pem != NULL && moat_cert_from_pem(pem, len, &c) != MOAT_OK) {
    c = NULL;
  }
  moat_free(pem);
  return c;
}

static moat_cert *ca, *good, *good2, *revoked, *unknown, *otherresp;
static int64_t now;

/* Checks response NAME about leaf at time t; returns the error and keeps
 * the result in *out (freed by the caller). */
static moat_err check_at(const char *name, const moat_cert *leaf, int64_t t,
                         moat_ocsp_result **out) {
  size_t len;
  uint8_t *der = slurp(name, "resp", &len);
  *out = NULL;
  if (der == NULL) {
    return MOAT_ERR_FILE_ERROR;
  }
  moat_err e = moat_ocsp_check(der, len, leaf, ca, t, out);
  moat_free(der);
  return e;
}

static bool has(const moat_ocsp_result *r, const char *text) {
  const char *m = r != NULL ? moat_ocsp_result_message(r) : "";
  if (strstr(m, text) == NULL) {
    fprintf(stderr, "message \"%s\" lacks \"%s\"\n", m, text);
    return false;
  }
  return true;
}

static void test_good(void) {
  static const char *const names[] = {"good", "good_sha256", "good_bykey",
                                      "delegated", "no_next"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    moat_ocsp_result *r;
    moat_err e = check_at(names[i], good, now, &r);
    if (e != MOAT_OK) {
      fprintf(stderr, "%s: %s\n", names[i],
              r ? moat_ocsp_result_message(r) : "no result");
    }
    CHECK_EQ_INT(e, MOAT_OK);
    CHECK(r != NULL);
    if (r == NULL) {
      continue;
    }
    CHECK_EQ_INT(moat_ocsp_result_error(r), MOAT_OK);
    CHECK_EQ_INT(moat_ocsp_result_status(r), MOAT_OCSP_GOOD);
    CHECK_EQ_INT(moat_ocsp_result_code(r), 0);
    CHECK(strcmp(moat_ocsp_result_message(r), "ok") == 0);
    /* Made a moment ago by openssl. */
    CHECK(moat_ocsp_result_this_update(r) <= now + 5);
    CHECK(moat_ocsp_result_this_update(r) >= now - 600);
    CHECK(moat_ocsp_result_produced_at(r) >= now - 600);
    if (strcmp(names[i], "no_next") == 0) {
      CHECK_EQ_INT(moat_ocsp_result_next_update(r), 0);
    } else {
      CHECK_EQ_INT(moat_ocsp_result_next_update(r) -
                       moat_ocsp_result_this_update(r),
                   86400);
    }
    CHECK_EQ_INT(moat_ocsp_result_revocation_reason(r), -1);
    moat_ocsp_result_free(r);
  }
}

static void test_revoked_unknown(void) {
  moat_ocsp_result *r;
  /* 2024-01-01 00:00:00 UTC, keyCompromise (make_ocsp.sh's index). */
  CHECK_EQ_INT(check_at("revoked", revoked, now, &r),
               MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK(r != NULL);
  if (r != NULL) {
    CHECK_EQ_INT(moat_ocsp_result_status(r), MOAT_OCSP_REVOKED);
    CHECK_EQ_INT(moat_ocsp_result_code(r), 23);
    CHECK_EQ_INT(moat_ocsp_result_revocation_time(r), 1704067200);
    CHECK_EQ_INT(moat_ocsp_result_revocation_reason(r), 1);
    CHECK(has(r, "revoked 2024-01-01 00:00:00 UTC"));
    CHECK(has(r, "keyCompromise"));
    CHECK(has(r, "CN=revoked.test.example"));
  }
  moat_ocsp_result_free(r);
  CHECK(strcmp(moat_ocsp_reason_name(1), "keyCompromise") == 0);
  CHECK(strcmp(moat_ocsp_reason_name(6), "certificateHold") == 0);
  CHECK(strcmp(moat_ocsp_reason_name(7), "unknown reason") == 0);

  CHECK_EQ_INT(check_at("unknown", unknown, now, &r),
               MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK(r != NULL);
  if (r != NULL) {
    CHECK_EQ_INT(moat_ocsp_result_status(r), MOAT_OCSP_UNKNOWN);
    CHECK_EQ_INT(moat_ocsp_result_code(r), 75);
    CHECK(has(r, "unknown to the OCSP responder"));
  }
  moat_ocsp_result_free(r);

  /* Two SingleResponses: each certificate finds its own. */
  CHECK_EQ_INT(check_at("multi", good, now, &r), MOAT_OK);
  moat_ocsp_result_free(r);
  CHECK_EQ_INT(check_at("multi", revoked, now, &r),
               MOAT_ERR_CERT_VERIFY_FAILED);
  CHECK(r != NULL && moat_ocsp_result_status(r) == MOAT_OCSP_REVOKED);
  moat_ocsp_result_free(r);
}

/* A refusal: MOAT_ERR_BAD_OCSP_RESPONSE, code 74, no status, and the
 * message says why. */
static void refused(const char *name, const moat_cert *leaf, int64_t t,
                    const char *why) {
  moat_ocsp_result *r;
  moat_err e = check_at(name, leaf, t, &r);
  if (e != MOAT_ERR_BAD_OCSP_RESPONSE) {
    fprintf(stderr, "%s: %s (%s)\n", name, moat_err_name(e),
            r ? moat_ocsp_result_message(r) : "no result");
  }
  CHECK_EQ_INT(e, MOAT_ERR_BAD_OCSP_RESPONSE);
  CHECK(r != NULL);
  if (r != NULL) {
    CHECK_EQ_INT(moat_ocsp_result_error(r), MOAT_ERR_BAD_OCSP_RESPONSE);
    CHECK_EQ_INT(moat_ocsp_result_status(r), MOAT_OCSP_NO_STATUS);
    CHECK_EQ_INT(moat_ocsp_result_code(r), 74);
    CHECK(has(r, "OCSP response refused: "));
    CHECK(has(r, why));
  }
  moat_ocsp_result_free(r);
}

static void test_time(void) {
  moat_ocsp_result *r;
  CHECK_EQ_INT(check_at("short", good, now, &r), MOAT_OK);
  int64_t next = r != NULL ? moat_ocsp_result_next_update(r) : 0;
  int64_t this = r != NULL ? moat_ocsp_result_this_update(r) : 0;
  moat_ocsp_result_free(r);
  CHECK_EQ_INT(next - this, 600);
  CHECK_EQ_INT(check_at("good", good, now, &r), MOAT_OK);
  this = r != NULL ? moat_ocsp_result_this_update(r) : 0;
  moat_ocsp_result_free(r);
  /* nextUpdate passed by less than the allowed skew: still current. */
  CHECK_EQ_INT(check_at("short", good, next + OCSP_CLOCK_SKEW - 1, &r),
               MOAT_OK);
  moat_ocsp_result_free(r);
  refused("short", good, next + OCSP_CLOCK_SKEW + 1, "expired (nextUpdate ");
  refused("good", good, now + 2 * 86400, "expired");
  /* thisUpdate ahead of the clock by less than the skew, then by more. */
  CHECK_EQ_INT(check_at("good", good, this - OCSP_CLOCK_SKEW + 1, &r), MOAT_OK);
  moat_ocsp_result_free(r);
  refused("good", good, this - OCSP_CLOCK_SKEW - 1,
          "not yet valid (thisUpdate ");
  /* No nextUpdate: no end. */
  CHECK_EQ_INT(check_at("no_next", good, now + 20 * 86400, &r), MOAT_OK);
  moat_ocsp_result_free(r);
  /* The delegated responder's own certificate expires in 30 days. */
  refused("delegated", good, now + 40 * 86400,
          "the responder certificate CN=resp.test.example has expired");
}

static void test_signers(void) {
  refused("notresp", good, now,
          "responder certificate CN=notresp.test.example is not authorised "
          "for OCSP signing");
  refused("critresp", good, now,
          "responder certificate CN=critresp.test.example has an unhandled "
          "critical extension");
  refused("otherresp", good, now,
          "responder certificate CN=otherresp.test.example is not issued by "
          "the issuer");
  /* Named like the issuer, signed with another key. */
  refused("fakeca", good, now, "the signature does not verify");
  refused("sha1", good, now, "SHA-1");
  /* Good response of another CA's responder, checked for its own leaf's
   * issuer: the caller gives the wrong issuer. */
  moat_ocsp_result *r;
  size_t len;
  uint8_t *der = slurp("good", "resp", &len);
  CHECK_EQ_INT(moat_ocsp_check(der, len, good, otherresp, now, &r),
               MOAT_ERR_INVALID_ARGUMENT);
  CHECK(r != NULL && moat_ocsp_result_status(r) == MOAT_OCSP_NO_STATUS);
  moat_ocsp_result_free(r);
  CHECK_EQ_INT(moat_ocsp_check(NULL, 0, good, ca, now, &r),
               MOAT_ERR_INVALID_ARGUMENT);
  CHECK(r == NULL);
  CHECK_EQ_INT(moat_ocsp_check(der, len, NULL, ca, now, &r),
               MOAT_ERR_INVALID_ARGUMENT);
  moat_free(der);
}

static void test_certid(void) {
  refused("good2", good, now, "certID mismatch");
  refused("good", good2, now, "about serial 11 (CN=good2.test.example)");
  refused("good", revoked, now, "certID mismatch");
}

/* A response moat_ocsp_check refuses as malformed. */
static void malformed(const uint8_t *der, size_t len, const char *where) {
  moat_ocsp_result *r;
  CHECK_EQ_INT(moat_ocsp_check(der, len, good, ca, now, &r),
               MOAT_ERR_BAD_OCSP_RESPONSE);
  CHECK(r != NULL && has(r, where));
  moat_ocsp_result_free(r);
}

static void test_malformed(void) {
  size_t len;
  uint8_t *der = slurp("good", "resp", &len);
  if (der == NULL) {
    CHECK(false);
    return;
  }
  /* Every truncation. */
  size_t ok = 0;
  for (size_t n = 0; n < len; n++) {
    moat_ocsp_result *r;
    ok += moat_ocsp_check(der, n, good, ca, now, &r) == MOAT_OK;
    CHECK(r == NULL || moat_ocsp_result_error(r) == MOAT_ERR_BAD_OCSP_RESPONSE);
    moat_ocsp_result_free(r);
  }
  CHECK_EQ_INT(ok, 0);
  /* Trailing data. */
  uint8_t *longer = moat_malloc(len + 1);
  memcpy(longer, der, len);
  longer[len] = 0;
  malformed(longer, len + 1, "not one DER SEQUENCE");
  moat_free(longer);
  /* Every single-byte change inside the signed data or the signature
   * (the certificates after them are not signed) is refused. */
  x509_ocsp o;
  CHECK_EQ_INT(x509_ocsp_parse(&o, der, len, NULL, 0), MOAT_OK);
  size_t end = (size_t)(cur_data(&o.signature) - der) + cur_len(&o.signature);
  CHECK(end > 200 && end < len);
  ok = 0;
  for (size_t i = 0; i < end; i++) {
    moat_ocsp_result *r;
    der[i] ^= 0x01;
    ok += moat_ocsp_check(der, len, good, ca, now, &r) == MOAT_OK;
    moat_ocsp_result_free(r);
    der[i] ^= 0x01;
  }
  CHECK_EQ_INT(ok, 0);
  moat_free(der);

  /* Hand-made: statuses and structure. */
  static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
  malformed(try_later, sizeof(try_later), "the responder answered tryLater");
  static const uint8_t unauthorized[] = {0x30, 0x03, 0x0a, 0x01, 0x06};
  malformed(unauthorized, sizeof(unauthorized), "unauthorized (6)");
  static const uint8_t long_enum[] = {0x30, 0x04, 0x0a, 0x02, 0x00, 0x00};
  malformed(long_enum, sizeof(long_enum), "malformed at responseStatus");
  static const uint8_t ok_no_bytes[] = {0x30, 0x03, 0x0a, 0x01, 0x00};
  malformed(ok_no_bytes, sizeof(ok_no_bytes), "malformed at responseBytes");
  /* successful with responseBytes of another type (1.2.3). */
  static const uint8_t other_type[] = {0x30, 0x0e, 0x0a, 0x01, 0x00, 0xa0,
                                       0x09, 0x30, 0x07, 0x06, 0x02, 0x2a,
                                       0x03, 0x04, 0x01, 0x00};
  malformed(other_type, sizeof(other_type), "not id-pkix-ocsp-basic");
  static const uint8_t garbage[] = "not DER at all";
  malformed(garbage, sizeof(garbage), "malformed at OCSPResponse");
}

/* Fields deep inside: SingleResponse parsing through x509_ocsp_parse on
 * a response rebuilt around a changed certStatus. */
static void test_single_fields(void) {
  size_t len;
  uint8_t *der = slurp("revoked", "resp", &len);
  if (der == NULL) {
    CHECK(false);
    return;
  }
  x509_ocsp o;
  char detail[160];
  CHECK_EQ_INT(x509_ocsp_parse(&o, der, len, detail, sizeof(detail)), MOAT_OK);
  CHECK_EQ_INT(o.num_responses, 1);
  CHECK(!o.by_key);
  cursor pos = o.responses;
  x509_ocsp_single s;
  CHECK(x509_ocsp_next_single(&pos, &s));
  CHECK_EQ_INT(s.status, MOAT_OCSP_REVOKED);
  CHECK_EQ_INT(s.hash, HASH_SHA1);
  CHECK_EQ_INT(s.reason, 1);
  CHECK(!x509_ocsp_next_single(&pos, &s));
  /* The reason [0] EXPLICIT ENUMERATED: 0xa0 0x03 0x0a 0x01 0x01.  Make
   * it 7 (unused in RFC 5280 5.3.1): the signed data changes, but the
   * parser refuses first and says where. */
  const uint8_t pat[] = {0xa0, 0x03, 0x0a, 0x01, 0x01};
  uint8_t *at = memmem(der, len, pat, sizeof(pat));
  CHECK(at != NULL);
  if (at != NULL) {
    at[4] = 7;
    CHECK_EQ_INT(x509_ocsp_parse(&o, der, len, detail, sizeof(detail)),
                 MOAT_ERR_BAD_OCSP_RESPONSE);
    CHECK(strstr(detail, "responses[0].certStatus") != NULL);
    at[4] = 1;
  }
  /* The GeneralizedTime of revocationTime as a UTCTime tag: refused. */
  const uint8_t gt[] = {0xa1, 0x16, 0x18, 0x0f};
  at = memmem(der, len, gt, sizeof(gt));
  CHECK(at != NULL);
  if (at != NULL) {
    at[2] = 0x17;
    CHECK_EQ_INT(x509_ocsp_parse(&o, der, len, detail, sizeof(detail)),
                 MOAT_ERR_BAD_OCSP_RESPONSE);
    CHECK(strstr(detail, "responses[0].certStatus") != NULL);
  }
  moat_free(der);
}

/* ---- responses rebuilt and signed again with the CA's key ------------- */

typedef struct rebuild {
  bool version;            /* encode version v1 (DER forbids it) */
  const uint8_t *resp_ext; /* responseExtensions contents (an Extensions) */
  size_t resp_ext_len;
  const uint8_t *single_ext; /* singleExtensions for the SingleResponse */
  size_t single_ext_len;
} rebuild;

/* Takes make_ocsp.sh's good response apart, changes what rb says, signs
 * the new tbsResponseData with ca.key (ECDSA P-256 SHA-256) and returns
 * the new response (moat_free), or NULL. */
static uint8_t *resign(const rebuild *rb, size_t *out_len) {
  size_t len, key_len;
  uint8_t *der = slurp("good", "resp", &len);
  uint8_t *key_pem = slurp("ca", "key", &key_len);
  uint8_t *out = NULL;
  privkey *key = NULL;
  x509_ocsp o;
  cursor t, body, rid, produced, responses, list, single;
  builder tbs, b;
  bool ok = der != NULL && key_pem != NULL &&
            privkey_load(key_pem, key_len, NULL, NULL, NULL, &key, NULL, 0) ==
                MOAT_OK &&
            x509_ocsp_parse(&o, der, len, NULL, 0) == MOAT_OK;
  t = o.tbs;
  ok = ok && cur_asn1(&t, &body, ASN1_SEQUENCE) &&
       cur_asn1_element(&body, &rid, ASN1_CONTEXT_CONS(1)) &&
       cur_asn1_element(&body, &produced, ASN1_GENERALIZEDTIME) &&
       cur_asn1(&body, &responses, ASN1_SEQUENCE) && cur_done(&body);
  list = responses;
  ok = ok && cur_asn1(&list, &single, ASN1_SEQUENCE) && cur_done(&list) &&
       bld_init_alloc(&tbs, 1024) && bld_init_alloc(&b, 2048);
  if (!ok) {
    goto done;
  }
  bld_open_asn1(&tbs, ASN1_SEQUENCE);
  if (rb->version) {
    static const uint8_t v1[] = {0xa0, 0x03, 0x02, 0x01, 0x00};
    bld_bytes(&tbs, v1, sizeof(v1));
  }
  bld_bytes(&tbs, cur_data(&rid), cur_len(&rid));
  bld_bytes(&tbs, cur_data(&produced), cur_len(&produced));
  bld_open_asn1(&tbs, ASN1_SEQUENCE);
  bld_open_asn1(&tbs, ASN1_SEQUENCE);
  bld_bytes(&tbs, cur_data(&single), cur_len(&single));
  if (rb->single_ext != NULL) {
    bld_open_asn1(&tbs, ASN1_CONTEXT_CONS(1));
    bld_bytes(&tbs, rb->single_ext, rb->single_ext_len);
    bld_close_asn1(&tbs);
  }
  bld_close_asn1(&tbs);
  bld_close_asn1(&tbs);
  if (rb->resp_ext != NULL) {
    bld_open_asn1(&tbs, ASN1_CONTEXT_CONS(1));
    bld_bytes(&tbs, rb->resp_ext, rb->resp_ext_len);
    bld_close_asn1(&tbs);
  }
  bld_close_asn1(&tbs);
  uint8_t sig[160];
  size_t sig_len = sizeof(sig);
  static const uint8_t basic_oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
                                      0x07, 0x30, 0x01, 0x01};
  static const uint8_t ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                         0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
  if (!bld_finish(&tbs) ||
      !privkey_sign(key, sig_scheme_by_code(0x0403), bld_data(&tbs),
                    bld_len(&tbs), sig, &sig_len)) {
    bld_cleanup(&tbs);
    bld_cleanup(&b);
    goto done;
  }
  bld_open_asn1(&b, ASN1_SEQUENCE);
  bld_open_asn1(&b, ASN1_ENUMERATED);
  bld_u8(&b, 0);
  bld_close_asn1(&b);
  bld_open_asn1(&b, ASN1_CONTEXT_CONS(0));
  bld_open_asn1(&b, ASN1_SEQUENCE);
  bld_open_asn1(&b, ASN1_OID);
  bld_bytes(&b, basic_oid, sizeof(basic_oid));
  bld_close_asn1(&b);
  bld_open_asn1(&b, ASN1_OCTET_STRING);
  bld_open_asn1(&b, ASN1_SEQUENCE);
  bld_bytes(&b, bld_data(&tbs), bld_len(&tbs));
  bld_bytes(&b, ecdsa_sha256, sizeof(ecdsa_sha256));
  bld_open_asn1(&b, ASN1_BIT_STRING);
  bld_u8(&b, 0);
  bld_bytes(&b, sig, sig_len);
  bld_close_asn1(&b);
  bld_close_asn1(&b);
  bld_close_asn1(&b);
  bld_close_asn1(&b);
  bld_close_asn1(&b);
  bld_close_asn1(&b);
  if (bld_finish(&b)) {
    *out_len = bld_len(&b);
    out = moat_malloc(*out_len);
    if (out != NULL) {
      memcpy(out, bld_data(&b), *out_len);
    }
  }
  bld_cleanup(&tbs);
  bld_cleanup(&b);
done:
  privkey_free(key);
  moat_free(key_pem);
  moat_free(der);
  return out;
}

/* The rebuilt response's outcome; its message must hold text. */
static void rebuilt(const rebuild *rb, moat_err want, const char *text) {
  size_t len;
  uint8_t *der = resign(rb, &len);
  moat_ocsp_result *r = NULL;
  CHECK(der != NULL);
  if (der == NULL) {
    return;
  }
  moat_err e = moat_ocsp_check(der, len, good, ca, now, &r);
  if (e != want) {
    fprintf(stderr, "rebuilt: %s (%s)\n", moat_err_name(e),
            r ? moat_ocsp_result_message(r) : "no result");
  }
  CHECK_EQ_INT(e, want);
  CHECK(r != NULL && has(r, text));
  moat_ocsp_result_free(r);
  moat_free(der);
}

static void test_extensions(void) {
  /* Extension ::= SEQUENCE { extnID, critical BOOLEAN, extnValue }. */
  static const uint8_t crit_unknown[] = {
      0x30, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x2a, 0x03,
      0x04, 0x01, 0x01, 0xff, 0x04, 0x01, 0x00}; /* 1.2.3.4, critical */
  static const uint8_t noncrit_unknown[] = {0x30, 0x0a, 0x30, 0x08, 0x06,
                                            0x03, 0x2a, 0x03, 0x04, 0x04,
                                            0x01, 0x00}; /* 1.2.3.4 */
  static const uint8_t crit_nonce[] = {
      0x30, 0x1b, 0x30, 0x19, 0x06, 0x09, 0x2b, 0x06, 0x01, 0x05,
      0x05, 0x07, 0x30, 0x01, 0x02, 0x01, 0x01, 0xff, 0x04, 0x09,
      0x04, 0x07, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  static const uint8_t explicit_false[] = {
      0x30, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x2a, 0x03,
      0x04, 0x01, 0x01, 0x00, 0x04, 0x01, 0x00}; /* critical FALSE encoded */
  static const uint8_t empty[] = {0x30, 0x00};
  rebuild rb;
  /* The rebuilding itself gives a response moat accepts. */
  memset(&rb, 0, sizeof(rb));
  rebuilt(&rb, MOAT_OK, "ok");
  rb.resp_ext = crit_unknown;
  rb.resp_ext_len = sizeof(crit_unknown);
  rebuilt(&rb, MOAT_ERR_BAD_OCSP_RESPONSE,
          "unhandled critical response extension 1.2.3.4");
  rb.resp_ext = noncrit_unknown;
  rb.resp_ext_len = sizeof(noncrit_unknown);
  rebuilt(&rb, MOAT_OK, "ok");
  rb.resp_ext = crit_nonce;
  rb.resp_ext_len = sizeof(crit_nonce);
  rebuilt(&rb, MOAT_OK, "ok");
  rb.resp_ext = explicit_false;
  rb.resp_ext_len = sizeof(explicit_false);
  rebuilt(&rb, MOAT_ERR_BAD_OCSP_RESPONSE,
          "malformed at tbsResponseData.responseExtensions");
  rb.resp_ext = empty;
  rb.resp_ext_len = sizeof(empty);
  rebuilt(&rb, MOAT_ERR_BAD_OCSP_RESPONSE,
          "malformed at tbsResponseData.responseExtensions");
  memset(&rb, 0, sizeof(rb));
  rb.single_ext = crit_unknown;
  rb.single_ext_len = sizeof(crit_unknown);
  rebuilt(&rb, MOAT_ERR_BAD_OCSP_RESPONSE,
          "unhandled critical extension in the SingleResponse");
  rb.single_ext = noncrit_unknown;
  rb.single_ext_len = sizeof(noncrit_unknown);
  rebuilt(&rb, MOAT_OK, "ok");
  rb.single_ext = empty;
  rb.single_ext_len = sizeof(empty);
  rebuilt(&rb, MOAT_ERR_BAD_OCSP_RESPONSE,
          "malformed at responses[0].singleExtensions");
  memset(&rb, 0, sizeof(rb));
  rb.version = true;
  rebuilt(&rb, MOAT_ERR_BAD_OCSP_RESPONSE,
          "malformed at tbsResponseData.version");
}

int main(void) {
  char cmd[256];
  snprintf(dir, sizeof(dir), "/tmp/moat-ocsp-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    return 1;
  }
  snprintf(cmd, sizeof(cmd), "sh tests/x509/make_ocsp.sh %s", dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "make_ocsp.sh failed\n");
    return 1;
  }
  now = (int64_t)time(NULL);
  ca = cert("ca");
  good = cert("good");
  good2 = cert("good2");
  revoked = cert("revoked");
  unknown = cert("unknown");
  otherresp = cert("otherresp");
  CHECK(ca && good && good2 && revoked && unknown && otherresp);
  if (ca && good && good2 && revoked && unknown && otherresp) {
    test_good();
    test_revoked_unknown();
    test_time();
    test_signers();
    test_certid();
    test_malformed();
    test_single_fields();
    test_extensions();
  }
  moat_cert_free(ca);
  moat_cert_free(good);
  moat_cert_free(good2);
  moat_cert_free(revoked);
  moat_cert_free(unknown);
  moat_cert_free(otherresp);
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "could not remove %s\n", dir);
  }
  return t_done("test_ocsp");
}
