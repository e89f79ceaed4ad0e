/* OCSP responses (RFC 6960 4.2): parsing, and verification against a
 * certificate and its issuer, for responses stapled in a handshake
 * (RFC 6066 8, RFC 8446 4.4.2.1). */
#ifndef MOAT_X509_OCSP_H
#define MOAT_X509_OCSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cursor.h"
#include "crypto/crypto.h"
#include "moat.h"
#include "x509/cert.h"

/* RFC 6960 4.2.1 OCSPResponseStatus. */
#define OCSP_SUCCESSFUL 0

/* A response: slices into its DER; nothing is copied. */
typedef struct x509_ocsp {
  cursor der;
  unsigned status; /* responseStatus; the rest only when OCSP_SUCCESSFUL */
  cursor tbs;      /* tbsResponseData element: the signed bytes */
  x509_sigalg sig;
  cursor signature;
  cursor certs;     /* SEQUENCE OF Certificate contents (may be empty) */
  bool by_key;      /* responderID byKey (else byName) */
  cursor responder; /* byName: the Name element; byKey: the key hash */
  int64_t produced_at;
  cursor responses; /* SEQUENCE OF SingleResponse contents */
  size_t num_responses;
  bool unknown_critical; /* a critical responseExtension moat does not know */
  cursor unknown_critical_oid;
} x509_ocsp;

/* One SingleResponse (RFC 6960 4.2.1). */
typedef struct x509_ocsp_single {
  hash_id hash;     /* CertID hashAlgorithm (HASH_NONE: one moat lacks) */
  cursor name_hash; /* issuerNameHash octets */
  cursor key_hash;  /* issuerKeyHash octets */
  cursor serial;    /* serialNumber INTEGER contents */
  moat_ocsp_status status;
  int64_t revocation_time; /* revoked only */
  int reason;              /* CRLReason, -1 when absent */
  int64_t this_update;
  int64_t next_update;
  bool has_next_update;
  bool unknown_critical; /* a critical singleExtension (none is processed) */
} x509_ocsp_single;

/* Parses strictly (DER, every SingleResponse included).  On failure
 * detail says where ("OCSP response: malformed at responses[0].certStatus"). */
moat_err x509_ocsp_parse(x509_ocsp *out, const uint8_t *der, size_t len,
                         char *detail, size_t cap);
/* The next SingleResponse of a parsed response: *pos starts as
 * ocsp->responses.  False at the end. */
bool x509_ocsp_next_single(cursor *pos, x509_ocsp_single *out);

/* What x509_ocsp_check found. */
typedef struct x509_ocsp_result {
  moat_err err; /* MOAT_OK (good), MOAT_ERR_CERT_VERIFY_FAILED (revoked or
                   unknown), MOAT_ERR_BAD_OCSP_RESPONSE (refused),
                   MOAT_ERR_INVALID_ARGUMENT (issuer did not issue leaf) */
  long code;    /* 0, 23 revoked, 75 unknown, 74 refused */
  moat_ocsp_status status; /* MOAT_OCSP_NO_STATUS when refused */
  int64_t produced_at;
  int64_t this_update;
  int64_t next_update; /* 0 when absent */
  int64_t revocation_time;
  int reason; /* -1 when absent or not revoked */
  char message[384];
} x509_ocsp_result;

/* Allowed clock difference with the responder (seconds): thisUpdate may be
 * this far in the future and nextUpdate this far in the past. */
#define OCSP_CLOCK_SKEW 300

/* Verifies a response about leaf, issued by issuer, as of now: signed by
 * the issuer or by a responder certificate in the response that the
 * issuer issued for id-kp-OCSPSigning (RFC 6960 4.2.2.2), current, and
 * with a SingleResponse whose CertID names leaf.  Always fills *out;
 * returns out->err.  cache may be NULL. */
moat_err x509_ocsp_check(const uint8_t *der, size_t len, const x509_cert *leaf,
                         const x509_cert *issuer, int64_t now,
                         pubkey_cache *cache, x509_ocsp_result *out);

/* RFC 5280 5.3.1 CRLReason name ("keyCompromise"), "unknown reason" for a
 * value with none. */
const char *x509_crl_reason_name(int reason);

#endif
