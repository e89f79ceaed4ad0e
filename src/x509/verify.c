/* Path building and validation (RFC 5280 6, RFC 9525 for names).
 *
 * Depth-first from the leaf: at each step every candidate issuer is tried
 * (trust anchors first, then the peer's intermediates, then store
 * certificates that are not anchors), cheap checks before signatures,
 * with hard budgets on signature checks and on visited candidates.  A
 * candidate that fails is recorded and the next is tried; the first
 * complete path that passes every check wins. */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "crypto/crypto.h"
#include "x509/cert.h"
#include "x509/crl.h"
#include "x509/der.h"
#include "x509/nc.h"
#include "x509/store.h"
#include "x509/x509.h"

#define VERIFY_DEFAULT_DEPTH 10
#define VERIFY_SIG_BUDGET 64
#define VERIFY_NODE_BUDGET 2048
#define VERIFY_MAX_POOL 64

/* X509_V_ERR codes (OpenSSL-compatible numbers). */
enum {
  V_OK = 0,
  V_UNSPECIFIED = 1,
  V_UNABLE_TO_GET_CRL = 3,
  V_CERT_SIGNATURE_FAILURE = 7,
  V_CRL_SIGNATURE_FAILURE = 8,
  V_CERT_NOT_YET_VALID = 9,
  V_CERT_HAS_EXPIRED = 10,
  V_CRL_NOT_YET_VALID = 11,
  V_CRL_HAS_EXPIRED = 12,
  V_DEPTH_ZERO_SELF_SIGNED = 18,
  V_SELF_SIGNED_IN_CHAIN = 19,
  V_UNABLE_TO_GET_ISSUER_LOCALLY = 20,
  V_CHAIN_TOO_LONG = 22,
  V_CERT_REVOKED = 23,
  V_PATH_LENGTH_EXCEEDED = 25,
  V_INVALID_PURPOSE = 26,
  V_KEYUSAGE_NO_CERTSIGN = 32,
  V_UNHANDLED_CRITICAL_EXTENSION = 34,
  V_KEYUSAGE_NO_CRL_SIGN = 35,
  V_KEYUSAGE_NO_DIGITAL_SIGNATURE = 39,
  V_INVALID_EXTENSION = 41,
  V_PERMITTED_VIOLATION = 47,
  V_EXCLUDED_VIOLATION = 48,
  V_APPLICATION_VERIFICATION = 50, /* a verify callback refused */
  V_UNSUPPORTED_CONSTRAINT_TYPE = 51,
  V_UNSUPPORTED_CONSTRAINT_SYNTAX = 52,
  V_UNSUPPORTED_NAME_SYNTAX = 53,
  V_HOSTNAME_MISMATCH = 62,
  V_IP_ADDRESS_MISMATCH = 64,
  V_OCSP_VERIFY_NEEDED = 73,
  V_OCSP_VERIFY_FAILED = 74,
  V_OCSP_CERT_UNKNOWN = 75,
  V_EE_KEY_TOO_SMALL = 66,
  V_CA_KEY_TOO_SMALL = 67,
  V_CA_MD_TOO_WEAK = 68,
  V_UNSUPPORTED_SIGNATURE_ALGORITHM = 76,
  V_INVALID_CA = 79,
  V_PATHLEN_INVALID_FOR_NON_CA = 80,
  V_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN = 81,
  V_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA = 82,
  V_ISSUER_NAME_EMPTY = 83,
  V_SUBJECT_NAME_EMPTY = 84,
  V_MISSING_AUTHORITY_KEY_IDENTIFIER = 85,
  V_MISSING_SUBJECT_KEY_IDENTIFIER = 86,
  V_EMPTY_SUBJECT_ALT_NAME = 87,
  V_EMPTY_SUBJECT_SAN_NOT_CRITICAL = 88,
  V_CA_BCONS_NOT_CRITICAL = 89,
  V_AUTHORITY_KEY_IDENTIFIER_CRITICAL = 90,
  V_SUBJECT_KEY_IDENTIFIER_CRITICAL = 91,
  V_CA_CERT_MISSING_KEY_USAGE = 92,
};

const char *x509_verify_code_text(long code) {
  switch (code) {
  case V_OK:
    return "ok";
  case V_UNABLE_TO_GET_CRL:
    return "unable to get certificate CRL";
  case V_CERT_SIGNATURE_FAILURE:
    return "certificate signature failure";
  case V_CRL_SIGNATURE_FAILURE:
    return "CRL signature failure";
  case V_CERT_NOT_YET_VALID:
    return "certificate is not yet valid";
  case V_CERT_HAS_EXPIRED:
    return "certificate has expired";
  case V_CRL_NOT_YET_VALID:
    return "CRL is not yet valid";
  case V_CRL_HAS_EXPIRED:
    return "CRL has expired";
  case V_DEPTH_ZERO_SELF_SIGNED:
    return "self-signed certificate";
  case V_SELF_SIGNED_IN_CHAIN:
    return "self-signed certificate in certificate chain";
  case V_UNABLE_TO_GET_ISSUER_LOCALLY:
    return "unable to get local issuer certificate";
  case V_CHAIN_TOO_LONG:
    return "certificate chain too long";
  case V_CERT_REVOKED:
    return "certificate revoked";
  case V_PATH_LENGTH_EXCEEDED:
    return "path length constraint exceeded";
  case V_INVALID_PURPOSE:
    return "unsuitable certificate purpose";
  case V_KEYUSAGE_NO_CERTSIGN:
    return "key usage does not include certificate signing";
  case V_UNHANDLED_CRITICAL_EXTENSION:
    return "unhandled critical extension";
  case V_KEYUSAGE_NO_CRL_SIGN:
    return "key usage does not include CRL signing";
  case V_KEYUSAGE_NO_DIGITAL_SIGNATURE:
    return "key usage does not include digital signature";
  case V_INVALID_EXTENSION:
    return "invalid or inconsistent certificate extension";
  case V_PERMITTED_VIOLATION:
    return "permitted subtree violation";
  case V_EXCLUDED_VIOLATION:
    return "excluded subtree violation";
  case V_APPLICATION_VERIFICATION:
    return "application verification failure";
  case V_UNSUPPORTED_CONSTRAINT_TYPE:
    return "name constraints: unsupported name type";
  case V_UNSUPPORTED_CONSTRAINT_SYNTAX:
    return "name constraints: unsupported or invalid syntax";
  case V_UNSUPPORTED_NAME_SYNTAX:
    return "name constraints: unsupported or invalid name syntax";
  case V_HOSTNAME_MISMATCH:
    return "hostname mismatch";
  case V_IP_ADDRESS_MISMATCH:
    return "IP address mismatch";
  case V_OCSP_VERIFY_NEEDED:
    return "OCSP status needed";
  case V_OCSP_VERIFY_FAILED:
    return "OCSP response refused";
  case V_OCSP_CERT_UNKNOWN:
    return "certificate unknown to the OCSP responder";
  case V_EE_KEY_TOO_SMALL:
    return "EE certificate key too weak";
  case V_CA_KEY_TOO_SMALL:
    return "CA certificate key too weak";
  case V_CA_MD_TOO_WEAK:
    return "signature algorithm too weak (SHA-1 or MD5)";
  case V_UNSUPPORTED_SIGNATURE_ALGORITHM:
    return "cannot verify: unsupported signature algorithm";
  case V_INVALID_CA:
    return "invalid CA certificate";
  case V_PATHLEN_INVALID_FOR_NON_CA:
    return "pathLenConstraint on a non-CA certificate";
  case V_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
    return "pathLenConstraint without keyCertSign";
  case V_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA:
    return "keyCertSign on a non-CA certificate";
  case V_ISSUER_NAME_EMPTY:
    return "issuer name is empty";
  case V_SUBJECT_NAME_EMPTY:
    return "subject name is empty and no critical subjectAltName";
  case V_MISSING_AUTHORITY_KEY_IDENTIFIER:
    return "missing authority key identifier";
  case V_MISSING_SUBJECT_KEY_IDENTIFIER:
    return "missing subject key identifier";
  case V_EMPTY_SUBJECT_ALT_NAME:
    return "empty subject alternative name";
  case V_EMPTY_SUBJECT_SAN_NOT_CRITICAL:
    return "subject is empty and subjectAltName is not critical";
  case V_CA_BCONS_NOT_CRITICAL:
    return "basicConstraints of a CA is not critical";
  case V_AUTHORITY_KEY_IDENTIFIER_CRITICAL:
    return "authority key identifier is critical";
  case V_SUBJECT_KEY_IDENTIFIER_CRITICAL:
    return "subject key identifier is critical";
  case V_CA_CERT_MISSING_KEY_USAGE:
    return "CA certificate has no keyUsage";
  default:
    return "certificate verification failed";
  }
}

typedef struct vcert {
  const uint8_t *der;
  size_t len;
  x509_cert c;
  bool from_store;
} vcert;

typedef struct vctx {
  const x509_store *store;
  const x509_verify_opts *opts;
  int max_inter; /* intermediates allowed between leaf and anchor */
  vcert *pool;   /* the peer's intermediates, sized to how many it sent */
  size_t npool;
  vcert chain[X509_MAX_CHAIN];
  size_t chain_len;
  int sigs_left;
  int nodes_left;
  /* The most relevant failure so far. */
  long code;
  int depth;
  char bad_subject[256];
  bool have_bad;
  char extra[160];
  char missing_issuer[256]; /* for "unable to get local issuer" */
  size_t num_sent;          /* certificates the peer sent */
} vctx;

static void note(vctx *v, long code, int depth, const x509_cert *c,
                 const char *extra) {
  /* Keep the first specific failure; "no issuer" only when nothing better
   * was found. */
  if (v->code != V_OK && v->code != V_UNABLE_TO_GET_ISSUER_LOCALLY &&
      v->code != V_DEPTH_ZERO_SELF_SIGNED &&
      v->code != V_SELF_SIGNED_IN_CHAIN) {
    return;
  }
  if (v->code != V_OK &&
      (code == V_UNABLE_TO_GET_ISSUER_LOCALLY ||
       code == V_DEPTH_ZERO_SELF_SIGNED || code == V_SELF_SIGNED_IN_CHAIN)) {
    return;
  }
  v->code = code;
  v->depth = depth;
  v->have_bad = c != NULL;
  if (c != NULL) {
    /* Copied now: c may be a candidate that goes out of scope. */
    x509_name_text(c->subject, v->bad_subject, sizeof(v->bad_subject));
  }
  snprintf(v->extra, sizeof(v->extra), "%s", extra ? extra : "");
}

static bool time_ok(vctx *v, const x509_cert *c, int depth) {
  char when[40], extra[64];
  if (v->opts->now < c->not_before) {
    der_time_text(c->not_before, when, sizeof(when));
    snprintf(extra, sizeof(extra), "notBefore %s", when);
    note(v, V_CERT_NOT_YET_VALID, depth, c, extra);
    return false;
  }
  if (v->opts->now > c->not_after) {
    der_time_text(c->not_after, when, sizeof(when));
    snprintf(extra, sizeof(extra), "notAfter %s", when);
    note(v, V_CERT_HAS_EXPIRED, depth, c, extra);
    return false;
  }
  return true;
}

long x509_check_signature(pubkey_cache *cache, const x509_sigalg *alg,
                          cursor tbs, cursor sig, cursor spki) {
  pubkey *key = NULL;
  if (!alg->known) {
    return V_UNSUPPORTED_SIGNATURE_ALGORITHM;
  }
  if (alg->weak) {
    return V_CA_MD_TOO_WEAK; /* SHA-1 and MD5 are refused */
  }
  if (pubkey_from_spki_cached(cache, cur_data(&spki), cur_len(&spki), &key,
                              NULL, 0) != MOAT_OK) {
    return V_CERT_SIGNATURE_FAILURE;
  }
  bool ok;
  key_type kt = pubkey_type(key);
  if (alg->kind == SIG_RSA_PSS) {
    ok = pubkey_verify_pss(key, alg->hash, alg->mgf1, alg->salt_len,
                           cur_data(&tbs), cur_len(&tbs), cur_data(&sig),
                           cur_len(&sig));
  } else {
    sig_scheme s = {0, "x509", alg->kind, alg->hash, KEY_NONE, false};
    switch (alg->kind) {
    case SIG_RSA_PKCS1:
      s.key = KEY_RSA;
      break;
    case SIG_ECDSA:
      /* X.509 pairs any ECDSA hash with any curve. */
      s.key = (kt == KEY_EC_P256 || kt == KEY_EC_P384 || kt == KEY_EC_P521)
                  ? kt
                  : KEY_NONE;
      break;
    case SIG_EDDSA:
      s.key = alg->ed448 ? KEY_ED448 : KEY_ED25519;
      break;
    default:
      s.key = KEY_NONE;
      break;
    }
    ok = s.key != KEY_NONE &&
         pubkey_verify(key, &s, cur_data(&tbs), cur_len(&tbs), cur_data(&sig),
                       cur_len(&sig));
  }
  pubkey_free(key);
  return ok ? V_OK : V_CERT_SIGNATURE_FAILURE;
}

/* X509_STRICT checks (as OpenSSL 3 applies them, RFC 5280 4.2). */
static long strict_checks(const x509_cert *c, bool is_ca, bool self_signed,
                          bool anchor) {
  /* RFC 5280 4.2.1.1: a keyIdentifier must be there.  The issuer and
   * serial beside it are refused in a CA (they tie it to one issuer
   * certificate, which cross-signing breaks) and allowed in a leaf, as
   * OpenSSL's strict mode does (CPython's own test certificates carry
   * them). */
  if ((c->exts & EXT_AKI) && (cur_done(&c->aki) || (c->aki_extra && is_ca))) {
    return V_INVALID_EXTENSION;
  }
  if (anchor && self_signed && (c->exts & EXT_AKI) && (c->exts & EXT_SKI) &&
      !(cur_len(&c->aki) == cur_len(&c->ski) &&
        cur_equal(&c->aki, cur_data(&c->ski), cur_len(&c->ski)))) {
    return V_INVALID_EXTENSION;
  }
  if (anchor) {
    /* A configured anchor: only the checks above and below that do not
     * concern how it was issued. */
    if (c->version == 3 && is_ca && !(c->critical & EXT_BC)) {
      return V_CA_BCONS_NOT_CRITICAL;
    }
    if (c->version == 3 && is_ca && !(c->exts & EXT_SKI)) {
      return V_MISSING_SUBJECT_KEY_IDENTIFIER;
    }
    if ((c->critical & EXT_AKI) || (c->critical & EXT_SKI)) {
      return V_INVALID_EXTENSION;
    }
    return V_OK;
  }
  if (c->version < 3 && !(self_signed && is_ca)) {
    return V_INVALID_EXTENSION;
  }
  if (x509_name_empty(c->issuer)) {
    return V_ISSUER_NAME_EMPTY;
  }
  if (x509_name_empty(c->subject) &&
      (!(c->exts & EXT_SAN) || !(c->critical & EXT_SAN))) {
    return V_EMPTY_SUBJECT_SAN_NOT_CRITICAL;
  }
  if ((c->exts & EXT_AKI) && (c->critical & EXT_AKI)) {
    return V_AUTHORITY_KEY_IDENTIFIER_CRITICAL;
  }
  if ((c->exts & EXT_SKI) && (c->critical & EXT_SKI)) {
    return V_SUBJECT_KEY_IDENTIFIER_CRITICAL;
  }
  if (c->version == 3 && !self_signed && !(c->exts & EXT_AKI)) {
    return V_MISSING_AUTHORITY_KEY_IDENTIFIER;
  }
  if (is_ca && c->version == 3) {
    if (!(c->critical & EXT_BC)) {
      return V_CA_BCONS_NOT_CRITICAL;
    }
    if (!(c->exts & EXT_SKI)) {
      return V_MISSING_SUBJECT_KEY_IDENTIFIER;
    }
    if (!(c->exts & EXT_KU)) {
      return V_CA_CERT_MISSING_KEY_USAGE;
    }
  }
  if (!c->ca && c->path_len >= 0) {
    return V_PATHLEN_INVALID_FOR_NON_CA;
  }
  if (c->ca && c->path_len >= 0 && (c->exts & EXT_KU) &&
      !(c->key_usage & KU_KEY_CERT_SIGN)) {
    return V_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN;
  }
  if (!c->ca && (c->key_usage & KU_KEY_CERT_SIGN)) {
    return V_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA;
  }
  /* RFC 5280 4.1.2.2: positive, at most 20 octets. */
  if (cur_len(&c->serial) > 21 ||
      (cur_len(&c->serial) == 21 && cur_data(&c->serial)[0] != 0) ||
      (cur_data(&c->serial)[0] & 0x80) != 0 ||
      (cur_len(&c->serial) == 1 && cur_data(&c->serial)[0] == 0)) {
    return V_INVALID_EXTENSION;
  }
  if ((c->exts & EXT_SAN) && cur_done(&c->san)) {
    return V_EMPTY_SUBJECT_ALT_NAME;
  }
  /* RFC 5280 4.2.1.10: only CAs carry name constraints, and critically. */
  if ((c->exts & EXT_NC) && (!is_ca || !(c->critical & EXT_NC))) {
    return V_INVALID_EXTENSION;
  }
  /* RFC 5280 4.2.2.1, 4.2.1.11: these are non-critical / critical. */
  if ((c->critical & EXT_AIA) || ((c->exts & EXT_POLICY_CONSTRAINTS) &&
                                  !(c->critical & EXT_POLICY_CONSTRAINTS))) {
    return V_INVALID_EXTENSION;
  }
  /* RFC 5280 4.2.1.6: SAN is critical only when the subject is empty. */
  if ((c->critical & EXT_SAN) && !x509_name_empty(c->subject)) {
    return V_INVALID_EXTENSION;
  }
  return V_OK;
}

/* Strict key checks: a key moat can use; RSA of at least 2048 bits in
 * whole octets (CA/B Forum BR 6.1.5).  The key comes from the cache that
 * the signature checks and the handshake's CertificateVerify use, so
 * strict mode builds no key of its own. */
static long key_checks(vctx *v, const x509_cert *c, bool is_ca) {
  pubkey *key = NULL;
  if (pubkey_from_spki_cached(v->opts->key_cache, cur_data(&c->spki),
                              cur_len(&c->spki), &key, NULL, 0) != MOAT_OK) {
    return V_UNSUPPORTED_SIGNATURE_ALGORITHM;
  }
  key_type t = pubkey_type(key);
  int bits = pubkey_bits(key);
  pubkey_free(key);
  if ((t == KEY_RSA || t == KEY_RSA_PSS) && (bits < 2048 || bits % 8 != 0)) {
    return is_ca ? V_CA_KEY_TOO_SMALL : V_EE_KEY_TOO_SMALL;
  }
  return V_OK;
}

/* Strict checks of the leaf's names: dNSName SANs in preferred syntax. */
static long leaf_name_checks(const x509_cert *c) {
  cursor names = c->san, v;
  uint8_t tag;
  while ((c->exts & EXT_SAN) && x509_next_general_name(&names, &tag, &v)) {
    if (tag == GN_DNS && !x509_dns_syntax_ok(cur_data(&v), cur_len(&v))) {
      return V_UNSUPPORTED_NAME_SYNTAX;
    }
  }
  return V_OK;
}

static const uint8_t *purpose_oid(moat_purpose p, size_t *len) {
  if (p == MOAT_PURPOSE_CLIENT_AUTH) {
    *len = sizeof(OID_EKU_CLIENT) - 1;
    return (const uint8_t *)OID_EKU_CLIENT;
  }
  *len = sizeof(OID_EKU_SERVER) - 1;
  return (const uint8_t *)OID_EKU_SERVER;
}

/* Checks of the leaf alone (depth 0). */
static bool leaf_ok(vctx *v, const x509_cert *c) {
  size_t plen;
  const uint8_t *poid = purpose_oid(v->opts->purpose, &plen);
  if (c->unknown_critical) {
    char oid[64], extra[96];
    der_oid_text(&c->unknown_critical_oid, oid, sizeof(oid));
    snprintf(extra, sizeof(extra), "extension %s", oid);
    note(v, V_UNHANDLED_CRITICAL_EXTENSION, 0, c, extra);
    return false;
  }
  if (!time_ok(v, c, 0)) {
    return false;
  }
  /* RFC 5280 4.2.1.12: without the extension any purpose is allowed; with
   * it, the purpose must be listed (anyExtendedKeyUsage alone is not
   * enough for TLS, as in OpenSSL and the CA/B Forum rules). */
  if ((c->exts & EXT_EKU) && !x509_cert_has_eku(c, poid, plen)) {
    note(v, V_INVALID_PURPOSE, 0, c,
         v->opts->purpose == MOAT_PURPOSE_CLIENT_AUTH
             ? "extendedKeyUsage lacks clientAuth"
             : "extendedKeyUsage lacks serverAuth");
    return false;
  }
  /* RFC 8446 4.4.2.2: the key signs handshakes. */
  if (!v->opts->skip_leaf_key_usage && (c->exts & EXT_KU) &&
      !(c->key_usage & KU_DIGITAL_SIGNATURE)) {
    note(v, V_KEYUSAGE_NO_DIGITAL_SIGNATURE, 0, c, NULL);
    return false;
  }
  if (v->opts->flags & MOAT_VERIFY_X509_STRICT) {
    long r = strict_checks(c, c->ca, x509_cert_self_issued(c), false);
    if (r == V_OK) {
      r = key_checks(v, c, false);
    }
    if (r == V_OK) {
      r = leaf_name_checks(c);
    }
    /* CA/B Forum BR 7.1.2.7.10: no anyExtendedKeyUsage in a leaf. */
    if (r == V_OK && x509_cert_has_eku(c, (const uint8_t *)OID_EKU_ANY,
                                       sizeof(OID_EKU_ANY) - 1)) {
      r = V_INVALID_PURPOSE;
    }
    if (r != V_OK) {
      note(v, r, 0, c, NULL);
      return false;
    }
  }
  return true;
}

/* Checks that make cand usable as the issuer at position depth (the cert
 * below it is chain[depth - 1]). */
static bool issuer_ok(vctx *v, const x509_cert *cand, int depth, bool anchor) {
  size_t plen;
  const uint8_t *poid = purpose_oid(v->opts->purpose, &plen);
  bool self_signed = x509_cert_self_issued(cand);
  if (cand->unknown_critical) {
    note(v, V_UNHANDLED_CRITICAL_EXTENSION, depth, cand, NULL);
    return false;
  }
  /* RFC 5280 6.1.4 (k): a CA needs basicConstraints cA; a v1 root that is
   * itself the trust anchor is tolerated. */
  if (!cand->ca && !(anchor && cand->version == 1 && self_signed)) {
    note(v, V_INVALID_CA, depth, cand, "not a CA (basicConstraints)");
    return false;
  }
  /* RFC 5280 6.1.4 (n). */
  if ((cand->exts & EXT_KU) && !(cand->key_usage & KU_KEY_CERT_SIGN)) {
    note(v, V_KEYUSAGE_NO_CERTSIGN, depth, cand, NULL);
    return false;
  }
  /* RFC 5280 6.1.4 (l)-(m): non-self-issued intermediates below. */
  if (cand->path_len >= 0) {
    int below = 0;
    for (int i = 1; i < depth; i++) {
      if (!x509_cert_self_issued(&v->chain[i].c)) {
        below++;
      }
    }
    if (below > cand->path_len) {
      note(v, V_PATH_LENGTH_EXCEEDED, depth, cand, NULL);
      return false;
    }
  }
  if ((cand->exts & EXT_EKU) && !x509_cert_has_eku(cand, poid, plen) &&
      !x509_cert_has_eku(cand, (const uint8_t *)OID_EKU_ANY,
                         sizeof(OID_EKU_ANY) - 1)) {
    note(v, V_INVALID_PURPOSE, depth, cand,
         "CA extendedKeyUsage excludes the purpose");
    return false;
  }
  if (!time_ok(v, cand, depth)) {
    return false;
  }
  /* Trust anchors are taken as configured; the rest meet RFC 5280. */
  if (v->opts->flags & MOAT_VERIFY_X509_STRICT) {
    long r = strict_checks(cand, true, self_signed, anchor);
    if (r == V_OK) {
      r = key_checks(v, cand, true);
    }
    if (r != V_OK) {
      note(v, r, depth, cand, NULL);
      return false;
    }
  }
  return true;
}

/* Once a path reaches an anchor: name constraints of every CA over the
 * certificates below it (RFC 5280 6.1.3 (b)-(c), 6.1.4 (g)). */
static bool path_ok(vctx *v) {
  size_t n = v->chain_len;
  for (size_t i = 1; i < n; i++) {
    const x509_cert *ca = &v->chain[i].c;
    if (!(ca->exts & EXT_NC)) {
      continue;
    }
    for (size_t j = 0; j < i; j++) {
      const x509_cert *c = &v->chain[j].c;
      /* RFC 5280 6.1.3 (b): self-issued intermediates are exempt. */
      if (j > 0 && x509_cert_self_issued(c)) {
        continue;
      }
      long r = x509_nc_check(ca, c, true, j == 0);
      if (r != V_OK) {
        note(v, r, (int)j, c, NULL);
        return false;
      }
    }
  }
  return true;
}

static bool already_in_chain(const vctx *v, const vcert *cand) {
  for (size_t i = 0; i < v->chain_len; i++) {
    const x509_cert *c = &v->chain[i].c;
    /* The same certificate, or the same name and key (a loop through a
     * re-issued or cross-signed copy). */
    if ((v->chain[i].len == cand->len &&
         memcmp(v->chain[i].der, cand->der, cand->len) == 0) ||
        (x509_name_eq(c->subject, cand->c.subject) &&
         cur_len(&c->spki) == cur_len(&cand->c.spki) &&
         cur_equal(&c->spki, cur_data(&cand->c.spki),
                   cur_len(&cand->c.spki)))) {
      return true;
    }
  }
  return false;
}

/* RFC 5280 4.2.1.1: when both key identifiers are present they must agree
 * for cand to be the issuer. */
static bool keyid_fits(const x509_cert *child, const x509_cert *cand) {
  if (!(child->exts & EXT_AKI) || cur_done(&child->aki) ||
      !(cand->exts & EXT_SKI)) {
    return true;
  }
  return cur_len(&child->aki) == cur_len(&cand->ski) &&
         cur_equal(&child->aki, cur_data(&cand->ski), cur_len(&cand->ski));
}

typedef enum { B_FAIL, B_OK, B_STOP } build_res;

static build_res build(vctx *v);

/* Try cand as the issuer of the top of the chain. */
static build_res try_issuer(vctx *v, const vcert *cand, bool anchor) {
  int depth = (int)v->chain_len;
  const vcert *child = &v->chain[depth - 1];
  if (--v->nodes_left < 0) {
    note(v, V_CHAIN_TOO_LONG, depth, &cand->c, "path building budget");
    return B_STOP;
  }
  if (!keyid_fits(&child->c, &cand->c) || already_in_chain(v, cand)) {
    return B_FAIL;
  }
  /* The depth limit counts intermediates; self-issued ones (key
   * rollover) do not add a logical level. */
  int inter = anchor || x509_cert_self_issued(&cand->c) ? 0 : 1;
  for (int i = 1; i < depth; i++) {
    inter += !x509_cert_self_issued(&v->chain[i].c);
  }
  if (depth + 1 > X509_MAX_CHAIN || inter > v->max_inter) {
    note(v, V_CHAIN_TOO_LONG, depth, &cand->c, NULL);
    return B_FAIL;
  }
  if (!issuer_ok(v, &cand->c, depth, anchor)) {
    return B_FAIL;
  }
  if (--v->sigs_left < 0) {
    note(v, V_CHAIN_TOO_LONG, depth, &cand->c, "signature check budget");
    return B_STOP;
  }
  long r = x509_check_signature(v->opts->key_cache, &child->c.sig, child->c.tbs,
                                child->c.signature, cand->c.spki);
  if (r != V_OK) {
    note(v, r, depth - 1, &child->c, NULL);
    return B_FAIL;
  }
  v->chain[v->chain_len++] = *cand;
  build_res res = anchor ? (path_ok(v) ? B_OK : B_FAIL) : build(v);
  if (res != B_OK) {
    v->chain_len--;
  }
  return res;
}

static bool is_anchor(const vctx *v, const x509_cert *c) {
  return (v->opts->flags & MOAT_VERIFY_X509_PARTIAL_CHAIN) ||
         x509_cert_self_issued(c);
}

static build_res build(vctx *v) {
  const x509_cert *top = &v->chain[v->chain_len - 1].c;
  store_iter it = {0, 0};
  const uint8_t *der;
  size_t len;
  build_res r;
  bool any = false;
  /* 1. Trust anchors (and, later, store certificates as intermediates). */
  for (int pass = 0; pass < 2; pass++) {
    memset(&it, 0, sizeof(it));
    while (x509_store_next_subject(v->store, top->issuer, &it, &der, &len)) {
      vcert cand;
      memset(&cand, 0, sizeof(cand));
      cand.der = der;
      cand.len = len;
      cand.from_store = true;
      if (x509_cert_parse(&cand.c, der, len, NULL, 0) != MOAT_OK) {
        continue;
      }
      bool anchor = is_anchor(v, &cand.c);
      if (anchor != (pass == 0)) {
        continue;
      }
      any = true;
      if ((r = try_issuer(v, &cand, anchor)) != B_FAIL) {
        return r;
      }
    }
    if (pass == 0) {
      /* 2. The peer's intermediates. */
      for (size_t i = 0; i < v->npool; i++) {
        /* A self-issued top names itself: that is no issuer, so a
         * self-signed root the peer sent but we do not trust ends here as
         * self-signed in the chain. */
        if (!x509_name_eq(v->pool[i].c.subject, top->issuer) ||
            already_in_chain(v, &v->pool[i])) {
          continue;
        }
        any = true;
        if ((r = try_issuer(v, &v->pool[i], false)) != B_FAIL) {
          return r;
        }
      }
    }
  }
  if (!any) {
    int depth = (int)v->chain_len - 1;
    if (x509_cert_self_issued(top)) {
      note(v, depth == 0 ? V_DEPTH_ZERO_SELF_SIGNED : V_SELF_SIGNED_IN_CHAIN,
           depth, top, NULL);
    } else {
      note(v, V_UNABLE_TO_GET_ISSUER_LOCALLY, depth, top, NULL);
      if (v->code == V_UNABLE_TO_GET_ISSUER_LOCALLY && v->depth == depth) {
        x509_name_text(top->issuer, v->missing_issuer,
                       sizeof(v->missing_issuer));
      }
    }
  }
  return B_FAIL;
}

/* CRL status of chain[i] (RFC 5280 6.3, simplified: complete CRLs issued
 * by the certificate's issuer). */
static long crl_check(vctx *v, size_t i) {
  const x509_cert *c = &v->chain[i].c;
  const x509_cert *issuer = i + 1 < v->chain_len ? &v->chain[i + 1].c : c;
  store_iter it = {0, 0};
  const uint8_t *der;
  size_t len;
  long best = V_UNABLE_TO_GET_CRL;
  while (x509_store_next_crl(v->store, c->issuer, &it, &der, &len)) {
    x509_crl crl;
    int64_t when;
    if (x509_crl_parse(&crl, der, len, NULL, 0) != MOAT_OK ||
        crl.unknown_critical) {
      continue;
    }
    /* RFC 5280 5.2.3: conforming CRLs carry a non-critical cRLNumber. */
    if ((v->opts->flags & MOAT_VERIFY_X509_STRICT) &&
        (!crl.has_number || crl.number_critical)) {
      continue;
    }
    if ((issuer->exts & EXT_KU) && !(issuer->key_usage & KU_CRL_SIGN)) {
      best = V_KEYUSAGE_NO_CRL_SIGN;
      continue;
    }
    if (x509_check_signature(v->opts->key_cache, &crl.sig, crl.tbs,
                             crl.signature, issuer->spki) != V_OK) {
      best = V_CRL_SIGNATURE_FAILURE;
      continue;
    }
    if (crl.this_update > v->opts->now) {
      best = V_CRL_NOT_YET_VALID;
      continue;
    }
    if (crl.has_next_update && crl.next_update < v->opts->now) {
      best = V_CRL_HAS_EXPIRED;
      continue;
    }
    return x509_crl_lists(&crl, c->serial, &when) ? V_CERT_REVOKED : V_OK;
  }
  return best;
}

/* The leaf's names against opts->hostname, once the path is built. */
static void host_ok(vctx *v, const x509_cert *leaf) {
  const char *host = v->opts->hostname;
  cursor cn;
  long code = V_OK;
  char extra[160] = "";
  if (!x509_host_match(leaf, host, v->opts->check_common_name, &cn)) {
    uint8_t ip[16];
    size_t ip_len;
    bool is_ip = x509_parse_ip(host, ip, &ip_len);
    code = is_ip ? V_IP_ADDRESS_MISMATCH : V_HOSTNAME_MISMATCH;
    snprintf(extra, sizeof(extra), "%s %.100s",
             is_ip ? "IP address" : "host name", host);
  }
  /* Named by the CN: path_ok held the CN to the name constraints only
   * when the leaf lists no IP address either. */
  for (size_t i = 1; code == V_OK && !cur_done(&cn) && i < v->chain_len; i++) {
    code = x509_nc_check_dns(&v->chain[i].c, cn);
    snprintf(extra, sizeof(extra),
             "host name %.60s matched the CN, outside the name constraints "
             "at depth %zu",
             host, i);
  }
  if (code != V_OK) {
    v->code = code;
    v->depth = 0;
    v->have_bad = true;
    x509_name_text(leaf->subject, v->bad_subject, sizeof(v->bad_subject));
    snprintf(v->extra, sizeof(v->extra), "%s", extra);
  }
}

static void finish(vctx *v, x509_verify_result *out) {
  char subject[256] = "";
  out->code = v->code;
  out->depth = v->depth;
  if (v->have_bad) {
    snprintf(subject, sizeof(subject), "%s", v->bad_subject);
  }
  snprintf(out->subject, sizeof(out->subject), "%s", subject);
  if (v->code == V_OK) {
    out->err = MOAT_OK;
    snprintf(out->message, sizeof(out->message), "ok");
    return;
  }
  text_buf tb;
  tb_init(&tb, out->message, sizeof(out->message));
  tb_puts(&tb, x509_verify_code_text(v->code));
  if (v->code == V_UNABLE_TO_GET_ISSUER_LOCALLY && v->missing_issuer[0]) {
    /* A missing intermediate and an unknown root read differently: the
     * name says which certificate to look for. */
    tb_printf(&tb,
              ": unable to find the issuer %s of %s (depth %d); the chain "
              "sent had %zu certificate%s",
              v->missing_issuer, subject[0] ? subject : "(empty subject)",
              v->depth, v->num_sent, v->num_sent == 1 ? "" : "s");
    out->err = MOAT_ERR_CERT_VERIFY_FAILED;
    return;
  }
  if (v->extra[0] != '\0') {
    tb_puts(&tb, " (");
    tb_puts(&tb, v->extra);
    tb_puts(&tb, ")");
  }
  tb_puts(&tb, " for ");
  tb_puts(&tb, subject[0] ? subject : "(empty subject)");
  tb_printf(&tb, " at depth %d", v->depth);
  switch (v->code) {
  case V_HOSTNAME_MISMATCH:
  case V_IP_ADDRESS_MISMATCH:
    out->err = MOAT_ERR_HOSTNAME_MISMATCH;
    break;
  default:
    out->err = MOAT_ERR_CERT_VERIFY_FAILED;
    break;
  }
}

moat_err x509_verify_chain(const x509_store *store, const uint8_t *const *ders,
                           const size_t *lens, size_t n,
                           const x509_verify_opts *opts,
                           x509_verify_result *out) {
  vctx *v = moat_calloc(1, sizeof(*v));
  char detail[160];
  memset(out, 0, sizeof(*out));
  if (v == NULL) {
    out->err = MOAT_ERR_NO_MEMORY;
    out->code = 17; /* X509_V_ERR_OUT_OF_MEM */
    snprintf(out->message, sizeof(out->message), "out of memory");
    return out->err;
  }
  v->store = store;
  v->opts = opts;
  v->num_sent = n;
  /* max_depth counts intermediates (as OpenSSL's verify depth); 0 means
   * the default and a negative value allows none. */
  int depth = opts->max_depth > 0   ? opts->max_depth
              : opts->max_depth < 0 ? 0
                                    : VERIFY_DEFAULT_DEPTH;
  v->max_inter = depth;
  v->sigs_left = VERIFY_SIG_BUDGET;
  v->nodes_left = VERIFY_NODE_BUDGET;
  if (n == 0 || ders == NULL) {
    out->err = MOAT_ERR_CERTIFICATE_REQUIRED;
    out->code = V_UNSPECIFIED;
    snprintf(out->message, sizeof(out->message), "no certificate to verify");
    moat_free(v);
    return out->err;
  }
  size_t pool_cap = n - 1 < VERIFY_MAX_POOL ? n - 1 : VERIFY_MAX_POOL;
  if (pool_cap > 0) {
    v->pool = moat_calloc(pool_cap, sizeof(*v->pool));
    if (v->pool == NULL) {
      out->err = MOAT_ERR_NO_MEMORY;
      out->code = 17; /* X509_V_ERR_OUT_OF_MEM */
      snprintf(out->message, sizeof(out->message), "out of memory");
      moat_free(v);
      return out->err;
    }
  }
  vcert *leaf = &v->chain[0];
  leaf->der = ders[0];
  leaf->len = lens[0];
  if (x509_cert_parse(&leaf->c, ders[0], lens[0], detail, sizeof(detail)) !=
      MOAT_OK) {
    out->err = MOAT_ERR_BAD_CERTIFICATE;
    out->code = V_UNSPECIFIED;
    snprintf(out->message, sizeof(out->message), "%s at depth 0", detail);
    moat_free(v->pool);
    moat_free(v);
    return out->err;
  }
  v->chain_len = 1;
  /* The peer's intermediates; unparsable ones are skipped (they may be
   * unrelated extras). */
  for (size_t i = 1; i < n && v->npool < pool_cap; i++) {
    vcert *p = &v->pool[v->npool];
    p->der = ders[i];
    p->len = lens[i];
    if (x509_cert_parse(&p->c, ders[i], lens[i], NULL, 0) == MOAT_OK) {
      v->npool++;
    }
  }
  build_res res = B_FAIL;
  if (leaf_ok(v, &leaf->c)) {
    /* A leaf that is itself trusted (directly, as OpenSSL allows). */
    if (x509_store_contains(store, leaf->der, leaf->len) &&
        is_anchor(v, &leaf->c)) {
      res = B_OK;
    } else {
      res = build(v);
    }
  }
  if (res == B_OK) {
    v->code = V_OK;
    v->have_bad = false;
    v->extra[0] = '\0';
    /* Names (RFC 9525 6.3, RFC 2818 3.1). */
    if (opts->hostname != NULL && opts->hostname[0] != '\0') {
      host_ok(v, &leaf->c);
    }
    /* Revocation: the leaf, or every certificate below the anchor. */
    if (v->code == V_OK && (opts->flags & MOAT_VERIFY_CRL_CHECK_LEAF)) {
      size_t last = (opts->flags & MOAT_VERIFY_CRL_CHECK_CHAIN) ==
                            MOAT_VERIFY_CRL_CHECK_CHAIN
                        ? v->chain_len - 1
                        : 1;
      for (size_t i = 0; i < last && i < v->chain_len; i++) {
        long r = crl_check(v, i);
        if (r != V_OK) {
          v->code = r;
          v->depth = (int)i;
          v->have_bad = true;
          x509_name_text(v->chain[i].c.subject, v->bad_subject,
                         sizeof(v->bad_subject));
          break;
        }
      }
    }
  } else if (v->code == V_OK) {
    v->code = V_UNSPECIFIED;
  }
  finish(v, out);
  if (out->err == MOAT_OK) {
    out->chain_len = v->chain_len;
    for (size_t i = 0; i < v->chain_len; i++) {
      out->chain_der[i] = v->chain[i].der;
      out->chain_der_len[i] = v->chain[i].len;
    }
  }
  moat_free(v->pool);
  moat_free(v);
  return out->err;
}
