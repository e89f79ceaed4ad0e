/* OCSP responses (RFC 6960 4.2): strict DER parsing through the cursor,
 * then verification against the certificate asked about and its issuer. */
#include "x509/ocsp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "x509/der.h"
#include "x509/x509.h"

static moat_err fail(char *detail, size_t cap, const char *where) {
  if (detail != NULL && cap > 0) {
    snprintf(detail, cap, "OCSP response: malformed at %s", where);
  }
  return MOAT_ERR_BAD_OCSP_RESPONSE;
}

/* RFC 6960 4.2.1: every time in a response is a GeneralizedTime. */
static bool read_gtime(cursor *c, int64_t *out) {
  return cur_peek_asn1(c, ASN1_GENERALIZEDTIME) && der_read_time(c, out);
}

/* A [n] EXPLICIT GeneralizedTime. */
static bool read_explicit_gtime(cursor *c, uint8_t tag, int64_t *out) {
  cursor inner;
  return cur_asn1(c, &inner, tag) && read_gtime(&inner, out) &&
         cur_done(&inner);
}

/* A one-octet ENUMERATED below 128 (the values OCSP defines). */
static bool read_small_enum(cursor *c, unsigned *out) {
  cursor v;
  uint8_t b;
  if (!cur_asn1(c, &v, ASN1_ENUMERATED) || cur_len(&v) != 1 ||
      !cur_u8(&v, &b) || b > 0x7f) {
    return false;
  }
  *out = b;
  return true;
}

/* RFC 5280 5.3.1: CRLReason values; 7 is unused. */
static bool reason_valid(unsigned r) {
  return r <= 10 && r != 7;
}

const char *x509_crl_reason_name(int reason) {
  static const char *const names[] = {
      "unspecified",     "keyCompromise",
      "cACompromise",    "affiliationChanged",
      "superseded",      "cessationOfOperation",
      "certificateHold", NULL,
      "removeFromCRL",   "privilegeWithdrawn",
      "aACompromise",
  };
  if (reason < 0 || reason > 10 || names[reason] == NULL) {
    return "unknown reason";
  }
  return names[reason];
}

/* An Extensions body (SIZE (1..MAX)): each well formed.  *critical_oid
 * gets the first critical extension whose OID is not in known (NULL when
 * none is known); returns false when malformed. */
static bool extensions_ok(cursor exts, const char *known, size_t known_len,
                          bool *unknown_critical, cursor *critical_oid) {
  cursor list;
  if (!cur_asn1(&exts, &list, ASN1_SEQUENCE) || !cur_done(&exts) ||
      cur_done(&list)) {
    return false;
  }
  while (!cur_done(&list)) {
    cursor oid, value;
    bool critical;
    if (!der_next_extension(&list, &oid, &critical, &value)) {
      return false;
    }
    bool is_known =
        known != NULL && cur_equal(&oid, (const uint8_t *)known, known_len);
    if (critical && !is_known && !*unknown_critical) {
      *unknown_critical = true;
      *critical_oid = oid;
    }
  }
  return true;
}

/* CertStatus (RFC 6960 4.2.1): good [0] IMPLICIT NULL, revoked [1]
 * IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL. */
static bool parse_cert_status(cursor *c, x509_ocsp_single *out) {
  cursor v, reason;
  uint8_t tag;
  bool present;
  unsigned r;
  if (!cur_asn1_any(c, &v, &tag)) {
    return false;
  }
  switch (tag) {
  case ASN1_CONTEXT(0):
    out->status = MOAT_OCSP_GOOD;
    return cur_done(&v);
  case ASN1_CONTEXT(2):
    out->status = MOAT_OCSP_UNKNOWN;
    return cur_done(&v);
  case ASN1_CONTEXT_CONS(1):
    out->status = MOAT_OCSP_REVOKED;
    if (!read_gtime(&v, &out->revocation_time) ||
        !cur_asn1_optional(&v, &reason, &present, ASN1_CONTEXT_CONS(0)) ||
        !cur_done(&v)) {
      return false;
    }
    if (present) {
      if (!read_small_enum(&reason, &r) || !reason_valid(r) ||
          !cur_done(&reason)) {
        return false;
      }
      out->reason = (int)r;
    }
    return true;
  default:
    return false;
  }
}

/* One SingleResponse; on failure *where names the field. */
static bool parse_single(cursor *list, x509_ocsp_single *out,
                         const char **where) {
  cursor sr, cid, f;
  bool present;
  memset(out, 0, sizeof(*out));
  out->reason = -1;
  *where = "SingleResponse";
  if (!cur_asn1(list, &sr, ASN1_SEQUENCE)) {
    return false;
  }
  *where = "certID";
  if (!cur_asn1(&sr, &cid, ASN1_SEQUENCE) ||
      !x509_hash_alg_parse(&cid, &out->hash) ||
      !cur_asn1(&cid, &out->name_hash, ASN1_OCTET_STRING) ||
      !cur_asn1(&cid, &out->key_hash, ASN1_OCTET_STRING) ||
      !cur_asn1_integer(&cid, &out->serial) || !cur_done(&cid)) {
    return false;
  }
  const hash_alg *h = hash_get(out->hash);
  if (h != NULL && (cur_len(&out->name_hash) != h->len ||
                    cur_len(&out->key_hash) != h->len)) {
    *where = "certID (hash length)";
    return false;
  }
  *where = "certStatus";
  if (!parse_cert_status(&sr, out)) {
    return false;
  }
  *where = "thisUpdate";
  if (!read_gtime(&sr, &out->this_update)) {
    return false;
  }
  *where = "nextUpdate";
  if (cur_peek_asn1(&sr, ASN1_CONTEXT_CONS(0))) {
    if (!read_explicit_gtime(&sr, ASN1_CONTEXT_CONS(0), &out->next_update)) {
      return false;
    }
    out->has_next_update = true;
  }
  *where = "singleExtensions";
  cursor ignored;
  if (!cur_asn1_optional(&sr, &f, &present, ASN1_CONTEXT_CONS(1)) ||
      (present &&
       !extensions_ok(f, NULL, 0, &out->unknown_critical, &ignored))) {
    return false;
  }
  *where = "SingleResponse (trailing data)";
  return cur_done(&sr);
}

bool x509_ocsp_next_single(cursor *pos, x509_ocsp_single *out) {
  const char *where;
  return !cur_done(pos) && parse_single(pos, out, &where);
}

/* ResponderID (RFC 6960 4.2.1): byName [1] Name, byKey [2] KeyHash (the
 * SHA-1 of the responder's subjectPublicKey). */
static bool parse_responder(cursor *c, x509_ocsp *out) {
  cursor v;
  if (cur_peek_asn1(c, ASN1_CONTEXT_CONS(1))) {
    return cur_asn1(c, &v, ASN1_CONTEXT_CONS(1)) &&
           cur_asn1_element(&v, &out->responder, ASN1_SEQUENCE) &&
           x509_name_valid(out->responder) && cur_done(&v);
  }
  out->by_key = true;
  return cur_asn1(c, &v, ASN1_CONTEXT_CONS(2)) &&
         cur_asn1(&v, &out->responder, ASN1_OCTET_STRING) &&
         cur_len(&out->responder) == 20 && cur_done(&v);
}

/* ResponseData (RFC 6960 4.2.1). */
static moat_err parse_tbs(x509_ocsp *out, char *detail, size_t cap) {
  cursor tbs = out->tbs, f;
  bool present;
  (void)cur_asn1(&tbs, &f, ASN1_SEQUENCE);
  tbs = f;
  /* version [0] EXPLICIT DEFAULT v1: only v1 exists, and DER never
   * encodes a DEFAULT value. */
  if (cur_peek_asn1(&tbs, ASN1_CONTEXT_CONS(0))) {
    return fail(detail, cap, "tbsResponseData.version");
  }
  if (!parse_responder(&tbs, out)) {
    return fail(detail, cap, "tbsResponseData.responderID");
  }
  if (!read_gtime(&tbs, &out->produced_at)) {
    return fail(detail, cap, "tbsResponseData.producedAt");
  }
  if (!cur_asn1(&tbs, &out->responses, ASN1_SEQUENCE)) {
    return fail(detail, cap, "tbsResponseData.responses");
  }
  cursor r = out->responses;
  while (!cur_done(&r)) {
    x509_ocsp_single s;
    const char *where;
    if (!parse_single(&r, &s, &where)) {
      char at[96];
      snprintf(at, sizeof(at), "responses[%zu].%s", out->num_responses, where);
      return fail(detail, cap, at);
    }
    out->num_responses++;
  }
  /* RFC 6960 4.4.1: the nonce is the only extension known; moat sends no
   * request of its own (stapled responses answer the server's), so its
   * value is not compared. */
  if (!cur_asn1_optional(&tbs, &f, &present, ASN1_CONTEXT_CONS(1)) ||
      (present &&
       !extensions_ok(f, OID_OCSP_NONCE, sizeof(OID_OCSP_NONCE) - 1,
                      &out->unknown_critical, &out->unknown_critical_oid))) {
    return fail(detail, cap, "tbsResponseData.responseExtensions");
  }
  if (!cur_done(&tbs)) {
    return fail(detail, cap, "tbsResponseData (trailing data)");
  }
  return MOAT_OK;
}

moat_err x509_ocsp_parse(x509_ocsp *out, const uint8_t *der, size_t len,
                         char *detail, size_t cap) {
  cursor all = cur_make(der, len), resp, f, rb, type, octets, basic, alg;
  bool present;
  memset(out, 0, sizeof(*out));
  if (!cur_asn1_element(&all, &out->der, ASN1_SEQUENCE) || !cur_done(&all)) {
    return fail(detail, cap, "OCSPResponse (not one DER SEQUENCE)");
  }
  resp = out->der;
  (void)cur_asn1(&resp, &f, ASN1_SEQUENCE);
  resp = f;
  if (!read_small_enum(&resp, &out->status)) {
    return fail(detail, cap, "responseStatus");
  }
  if (out->status != OCSP_SUCCESSFUL) {
    /* RFC 6960 4.2.1: only a successful response carries responseBytes. */
    if (!cur_done(&resp)) {
      return fail(detail, cap, "responseBytes (in an unsuccessful response)");
    }
    return MOAT_OK;
  }
  if (!cur_asn1(&resp, &f, ASN1_CONTEXT_CONS(0)) || !cur_done(&resp) ||
      !cur_asn1(&f, &rb, ASN1_SEQUENCE) || !cur_done(&f) ||
      !der_read_oid(&rb, &type) || !cur_asn1(&rb, &octets, ASN1_OCTET_STRING) ||
      !cur_done(&rb)) {
    return fail(detail, cap, "responseBytes");
  }
  if (!OID_IS(&type, OID_OCSP_BASIC)) {
    return fail(detail, cap,
                "responseBytes.responseType (not id-pkix-ocsp-basic)");
  }
  if (!cur_asn1(&octets, &basic, ASN1_SEQUENCE) || !cur_done(&octets)) {
    return fail(detail, cap, "BasicOCSPResponse");
  }
  if (!cur_asn1_element(&basic, &out->tbs, ASN1_SEQUENCE)) {
    return fail(detail, cap, "tbsResponseData");
  }
  if (!cur_asn1(&basic, &alg, ASN1_SEQUENCE) ||
      !x509_sigalg_parse(alg, &out->sig)) {
    return fail(detail, cap, "signatureAlgorithm");
  }
  if (!cur_asn1_bitstring_bytes(&basic, &out->signature)) {
    return fail(detail, cap, "signature");
  }
  if (!cur_asn1_optional(&basic, &f, &present, ASN1_CONTEXT_CONS(0)) ||
      (present &&
       (!cur_asn1(&f, &out->certs, ASN1_SEQUENCE) || !cur_done(&f)))) {
    return fail(detail, cap, "certs");
  }
  cursor certs = out->certs;
  while (!cur_done(&certs)) {
    if (!cur_asn1(&certs, &f, ASN1_SEQUENCE)) {
      return fail(detail, cap, "certs");
    }
  }
  if (!cur_done(&basic)) {
    return fail(detail, cap, "BasicOCSPResponse (trailing data)");
  }
  return parse_tbs(out, detail, cap);
}

/* ---- verification -------------------------------------------------------- */

/* X509_V_ERR codes of the outcomes. */
#define CODE_OK 0
#define CODE_REVOKED 23
#define CODE_OCSP_FAILED 74
#define CODE_OCSP_UNKNOWN 75

static moat_err refuse(x509_ocsp_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static moat_err refuse(x509_ocsp_result *out, const char *fmt, ...) {
  va_list ap;
  text_buf tb;
  char why[320];
  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  tb_init(&tb, out->message, sizeof(out->message));
  tb_puts(&tb, "OCSP response refused: ");
  tb_puts(&tb, why);
  out->err = MOAT_ERR_BAD_OCSP_RESPONSE;
  out->code = CODE_OCSP_FAILED;
  out->status = MOAT_OCSP_NO_STATUS;
  return out->err;
}

/* The subjectPublicKey bits of a SubjectPublicKeyInfo element: what
 * issuerKeyHash and a byKey ResponderID hash (RFC 6960 4.1.1, 4.2.1). */
static bool spki_key_bits(cursor spki, cursor *out) {
  cursor body, alg;
  return cur_asn1(&spki, &body, ASN1_SEQUENCE) &&
         cur_asn1(&body, &alg, ASN1_SEQUENCE) &&
         cur_asn1_bitstring_bytes(&body, out) && cur_done(&body);
}

static bool digest_equal(hash_id id, cursor data, cursor want) {
  const hash_alg *h = hash_get(id);
  uint8_t md[HASH_MAX_LEN];
  return h != NULL && cur_len(&want) == h->len &&
         hash_oneshot(h, cur_data(&data), cur_len(&data), md) &&
         cur_equal(&want, md, h->len);
}

/* Whether the ResponderID names the certificate c. */
static bool responder_is(const x509_ocsp *o, const x509_cert *c) {
  cursor bits;
  if (!o->by_key) {
    return x509_name_eq(o->responder, c->subject);
  }
  return spki_key_bits(c->spki, &bits) &&
         digest_equal(HASH_SHA1, bits, o->responder);
}

/* RFC 6960 4.2.2.2: a delegated responder is issued directly by the CA
 * that issued the certificate asked about and lists id-kp-OCSPSigning.
 * NULL when cand is authorised, else why not. */
static const char *delegate_refusal(const x509_cert *cand,
                                    const x509_cert *issuer, int64_t now,
                                    pubkey_cache *cache) {
  if (!x509_name_eq(cand->issuer, issuer->subject)) {
    return "is not issued by the issuer";
  }
  if (x509_check_signature(cache, &cand->sig, cand->tbs, cand->signature,
                           issuer->spki) != CODE_OK) {
    return "is not signed by the issuer";
  }
  if (!(cand->exts & EXT_EKU) ||
      !x509_cert_has_eku(cand, (const uint8_t *)OID_EKU_OCSP_SIGNING,
                         sizeof(OID_EKU_OCSP_SIGNING) - 1)) {
    return "is not authorised for OCSP signing (no id-kp-OCSPSigning in its "
           "extendedKeyUsage)";
  }
  if (cand->unknown_critical) {
    return "has an unhandled critical extension";
  }
  if (now < cand->not_before) {
    return "is not yet valid";
  }
  if (now > cand->not_after) {
    return "has expired";
  }
  return NULL;
}

/* Finds the signer (the issuer, or an authorised responder among the
 * response's certificates) and checks the signature with its key. */
static moat_err check_signer(const x509_ocsp *o, const x509_cert *issuer,
                             int64_t now, pubkey_cache *cache,
                             x509_ocsp_result *out) {
  char name[160] = "", rid[160];
  const char *why = NULL;
  cursor spki = {0};
  bool found = false;
  if (responder_is(o, issuer)) {
    spki = issuer->spki;
    found = true;
  }
  cursor certs = o->certs;
  for (size_t i = 0; !found && !cur_done(&certs); i++) {
    cursor elem;
    x509_cert cand;
    if (!cur_asn1_element(&certs, &elem, ASN1_SEQUENCE) ||
        x509_cert_parse(&cand, cur_data(&elem), cur_len(&elem), NULL, 0) !=
            MOAT_OK) {
      return refuse(out, "malformed certificate at certs[%zu]", i);
    }
    if (!responder_is(o, &cand)) {
      continue;
    }
    const char *no = delegate_refusal(&cand, issuer, now, cache);
    if (no == NULL) {
      spki = cand.spki;
      found = true;
    } else if (why == NULL) {
      why = no;
      x509_name_text(cand.subject, name, sizeof(name));
    }
  }
  if (!found) {
    if (why != NULL) {
      return refuse(out,
                    "not signed by the issuer or an authorised responder: "
                    "the responder certificate %s %s",
                    name[0] ? name : "(empty subject)", why);
    }
    if (o->by_key) {
      snprintf(rid, sizeof(rid), "a key hash");
    } else {
      x509_name_text(o->responder, rid, sizeof(rid));
    }
    return refuse(out,
                  "not signed by the issuer or an authorised responder: the "
                  "responder ID (%s) names neither the issuer nor a "
                  "certificate in the response",
                  rid);
  }
  long r = x509_check_signature(cache, &o->sig, o->tbs, o->signature, spki);
  if (r != CODE_OK) {
    return refuse(out,
                  "not signed by the issuer or an authorised responder: "
                  "the signature does not verify (%s)",
                  x509_verify_code_text(r));
  }
  return MOAT_OK;
}

/* Whether the CertID of s names leaf, issued by issuer (RFC 6960 4.1.1:
 * hashes of the issuer's name and key, and the serial number). */
static bool certid_matches(const x509_ocsp_single *s, const x509_cert *leaf,
                           const x509_cert *issuer) {
  cursor bits;
  if (s->hash == HASH_NONE || cur_len(&s->serial) != cur_len(&leaf->serial) ||
      !cur_equal(&s->serial, cur_data(&leaf->serial), cur_len(&leaf->serial))) {
    return false;
  }
  /* The name hash is over the DER of the issuer's name: the leaf's issuer
   * field, or the issuer's subject when it is encoded differently. */
  if (!digest_equal(s->hash, leaf->issuer, s->name_hash) &&
      !digest_equal(s->hash, issuer->subject, s->name_hash)) {
    return false;
  }
  return spki_key_bits(issuer->spki, &bits) &&
         digest_equal(s->hash, bits, s->key_hash);
}

static moat_err check_single(const x509_ocsp_single *s, const x509_cert *leaf,
                             int64_t now, x509_ocsp_result *out) {
  char when[40], at[40], subject[160];
  out->this_update = s->this_update;
  out->next_update = s->has_next_update ? s->next_update : 0;
  der_time_text(now, at, sizeof(at));
  if (s->unknown_critical) {
    return refuse(out, "unhandled critical extension in the SingleResponse");
  }
  /* RFC 6960 4.2.2.1: a response from the future, or past its
   * nextUpdate, is not current. */
  if (s->this_update > now + OCSP_CLOCK_SKEW) {
    der_time_text(s->this_update, when, sizeof(when));
    return refuse(out, "not yet valid (thisUpdate %s, now %s)", when, at);
  }
  if (s->has_next_update && s->next_update < now - OCSP_CLOCK_SKEW) {
    der_time_text(s->next_update, when, sizeof(when));
    return refuse(out, "expired (nextUpdate %s, now %s)", when, at);
  }
  x509_name_text(leaf->subject, subject, sizeof(subject));
  out->status = s->status;
  switch (s->status) {
  case MOAT_OCSP_GOOD:
    out->err = MOAT_OK;
    out->code = CODE_OK;
    snprintf(out->message, sizeof(out->message), "ok");
    break;
  case MOAT_OCSP_REVOKED:
    out->revocation_time = s->revocation_time;
    out->reason = s->reason;
    der_time_text(s->revocation_time, when, sizeof(when));
    out->err = MOAT_ERR_CERT_VERIFY_FAILED;
    out->code = CODE_REVOKED;
    snprintf(out->message, sizeof(out->message),
             "certificate revoked (OCSP: revoked %s, reason %s) for %s", when,
             s->reason < 0 ? "not given" : x509_crl_reason_name(s->reason),
             subject[0] ? subject : "(empty subject)");
    break;
  default:
    out->err = MOAT_ERR_CERT_VERIFY_FAILED;
    out->code = CODE_OCSP_UNKNOWN;
    snprintf(out->message, sizeof(out->message),
             "certificate unknown to the OCSP responder for %s",
             subject[0] ? subject : "(empty subject)");
    break;
  }
  return out->err;
}

moat_err x509_ocsp_check(const uint8_t *der, size_t len, const x509_cert *leaf,
                         const x509_cert *issuer, int64_t now,
                         pubkey_cache *cache, x509_ocsp_result *out) {
  x509_ocsp o;
  char detail[160], oid[64];
  memset(out, 0, sizeof(*out));
  out->reason = -1;
  out->status = MOAT_OCSP_NO_STATUS;
  if (!x509_name_eq(leaf->issuer, issuer->subject)) {
    out->err = MOAT_ERR_INVALID_ARGUMENT;
    out->code = CODE_OCSP_FAILED;
    snprintf(out->message, sizeof(out->message),
             "the issuer certificate given did not issue the certificate");
    return out->err;
  }
  if (x509_ocsp_parse(&o, der, len, detail, sizeof(detail)) != MOAT_OK) {
    return refuse(out, "%s", detail + strlen("OCSP response: "));
  }
  if (o.status != OCSP_SUCCESSFUL) {
    static const char *const names[] = {
        "successful", "malformedRequest", "internalError", "tryLater",
        "(unused)",   "sigRequired",      "unauthorized",
    };
    return refuse(out, "the responder answered %s (%u)",
                  o.status < 7 ? names[o.status] : "an unknown status",
                  o.status);
  }
  out->produced_at = o.produced_at;
  if (check_signer(&o, issuer, now, cache, out) != MOAT_OK) {
    return out->err;
  }
  if (o.unknown_critical) {
    der_oid_text(&o.unknown_critical_oid, oid, sizeof(oid));
    return refuse(out, "unhandled critical response extension %s", oid);
  }
  cursor pos = o.responses;
  x509_ocsp_single s;
  while (x509_ocsp_next_single(&pos, &s)) {
    if (certid_matches(&s, leaf, issuer)) {
      return check_single(&s, leaf, now, out);
    }
  }
  char subject[160], serial[64];
  text_buf tb;
  x509_name_text(leaf->subject, subject, sizeof(subject));
  tb_init(&tb, serial, sizeof(serial));
  tb_hex(&tb, cur_data(&leaf->serial),
         cur_len(&leaf->serial) < 20 ? cur_len(&leaf->serial) : 20, 0);
  return refuse(out,
                "certID mismatch: none of its %zu response%s is about serial "
                "%s (%s) from this issuer",
                o.num_responses, o.num_responses == 1 ? "" : "s", serial,
                subject[0] ? subject : "(empty subject)");
}
