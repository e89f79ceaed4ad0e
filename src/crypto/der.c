/* DER the adapter parses itself with the cursor: SubjectPublicKeyInfo,
 * ECDSA signatures, and the shape of an encrypted PKCS#8 key. */
#include <stdio.h>

#include "base/cursor.h"
#include "crypto/ossl_der.h"

static const uint8_t k_oid_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                    0x0d, 0x01, 0x01, 0x01};
static const uint8_t k_oid_rsa_pss[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                        0x0d, 0x01, 0x01, 0x0a};
static const uint8_t k_oid_ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t k_oid_p256[] = {0x2a, 0x86, 0x48, 0xce,
                                     0x3d, 0x03, 0x01, 0x07};
static const uint8_t k_oid_p384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t k_oid_p521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};
static const uint8_t k_oid_ed25519[] = {0x2b, 0x65, 0x70};
static const uint8_t k_oid_ed448[] = {0x2b, 0x65, 0x71};

#define OID_IS(c, oid) cur_equal((c), (oid), sizeof(oid))

static moat_err fail(moat_err err, char *detail, size_t cap, const char *msg) {
  if (detail != NULL && cap > 0) {
    (void)snprintf(detail, cap, "%s", msg);
  }
  return err;
}

size_t ec_field_len(key_type t) {
  switch (t) {
  case KEY_EC_P256:
    return 32;
  case KEY_EC_P384:
    return 48;
  case KEY_EC_P521:
    return 66;
  default:
    return 0;
  }
}

static int bit_length(const cursor *v) {
  if (cur_len(v) == 0) {
    return 0;
  }
  int top = 0;
  for (uint8_t b = cur_data(v)[0]; b != 0; b >>= 1) {
    top++;
  }
  return (int)(cur_len(v) - 1) * 8 + top;
}

/* RFC 8017 A.1.1: RSAPublicKey ::= SEQUENCE { modulus INTEGER,
 * publicExponent INTEGER }. */
static moat_err parse_rsa(cursor *key, spki_info *out, char *detail,
                          size_t cap) {
  cursor seq, n, e;
  if (!cur_asn1(key, &seq, ASN1_SEQUENCE) || !cur_done(key)) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "RSA public key: RSAPublicKey is not a DER SEQUENCE");
  }
  if (!cur_asn1_integer(&seq, &n) || !cur_asn1_integer(&seq, &e) ||
      !cur_done(&seq)) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "RSA public key: expected two minimally encoded INTEGERs "
                "(modulus, exponent) and nothing else");
  }
  if ((cur_data(&n)[0] & 0x80) != 0) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "RSA public key: the modulus is negative");
  }
  if ((cur_data(&e)[0] & 0x80) != 0) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "RSA public key: the exponent is negative");
  }
  if (cur_len(&n) > 1 && cur_data(&n)[0] == 0) {
    (void)cur_skip(&n, 1);
  }
  if (cur_len(&e) > 1 && cur_data(&e)[0] == 0) {
    (void)cur_skip(&e, 1);
  }
  int bits = bit_length(&n);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    if (detail != NULL && cap > 0) {
      (void)snprintf(detail, cap,
                     "RSA public key: modulus of %d bits is outside the "
                     "accepted range %d..%d",
                     bits, RSA_MIN_BITS, RSA_MAX_BITS);
    }
    return bits < RSA_MIN_BITS ? MOAT_ERR_UNSUPPORTED_CERTIFICATE
                               : MOAT_ERR_BAD_CERTIFICATE;
  }
  if ((cur_data(&n)[cur_len(&n) - 1] & 1) == 0) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "RSA public key: the modulus is even");
  }
  const uint8_t *ep = cur_data(&e);
  size_t elen = cur_len(&e);
  if ((ep[elen - 1] & 1) == 0) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "RSA public key: the exponent is even (must be odd)");
  }
  if (elen == 1 && ep[0] <= 1) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "RSA public key: the exponent must be greater than 1");
  }
  if (elen > 8) {
    return fail(MOAT_ERR_UNSUPPORTED_CERTIFICATE, detail, cap,
                "RSA public key: exponents longer than 64 bits are not "
                "supported");
  }
  out->rsa_n = cur_data(&n);
  out->rsa_n_len = cur_len(&n);
  out->rsa_e = ep;
  out->rsa_e_len = elen;
  out->rsa_bits = bits;
  return MOAT_OK;
}

static moat_err parse_ec(cursor *params, cursor *key, spki_info *out,
                         char *detail, size_t cap) {
  cursor curve;
  /* RFC 5480 2.1.1: ECParameters is a CHOICE; only namedCurve is
   * accepted (RFC 5480 2.1.1 says implicitCurve and specifiedCurve MUST
   * NOT be used). */
  if (!cur_asn1(params, &curve, ASN1_OID) || !cur_done(params)) {
    return fail(MOAT_ERR_UNSUPPORTED_CERTIFICATE, detail, cap,
                "EC public key: only named curves are supported (explicit "
                "or implicit curve parameters are refused)");
  }
  if (OID_IS(&curve, k_oid_p256)) {
    out->type = KEY_EC_P256;
  } else if (OID_IS(&curve, k_oid_p384)) {
    out->type = KEY_EC_P384;
  } else if (OID_IS(&curve, k_oid_p521)) {
    out->type = KEY_EC_P521;
  } else {
    return fail(MOAT_ERR_UNSUPPORTED_CERTIFICATE, detail, cap,
                "EC public key: the named curve is not one of P-256, P-384, "
                "P-521");
  }
  size_t fl = ec_field_len(out->type);
  uint8_t form;
  if (!cur_peek_u8(key, &form)) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "EC public key: the point is empty");
  }
  /* RFC 5480 2.2: uncompressed (0x04) or compressed (0x02/0x03). */
  bool ok = (form == 0x04 && cur_len(key) == 1 + 2 * fl) ||
            ((form == 0x02 || form == 0x03) && cur_len(key) == 1 + fl);
  if (!ok) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "EC public key: the point encoding has the wrong form or "
                "length for its curve");
  }
  out->key = cur_data(key);
  out->key_len = cur_len(key);
  return MOAT_OK;
}

moat_err spki_parse(const uint8_t *spki, size_t spki_len, spki_info *out,
                    char *detail, size_t cap) {
  cursor in = cur_make(spki, spki_len), seq, alg, oid, key;
  *out = (spki_info){0};
  if (!cur_asn1(&in, &seq, ASN1_SEQUENCE) || !cur_done(&in) ||
      !cur_asn1(&seq, &alg, ASN1_SEQUENCE) ||
      !cur_asn1_bitstring_bytes(&seq, &key) || !cur_done(&seq)) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "SubjectPublicKeyInfo: not SEQUENCE { AlgorithmIdentifier, "
                "BIT STRING } in DER");
  }
  if (!cur_asn1(&alg, &oid, ASN1_OID)) {
    return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                "SubjectPublicKeyInfo: the algorithm is not an OBJECT "
                "IDENTIFIER");
  }
  /* alg now holds the parameters, if any. */
  if (OID_IS(&oid, k_oid_rsa)) {
    /* RFC 3279 2.3.1: parameters NULL; absent is tolerated. */
    cursor null;
    if (!cur_done(&alg) && (!cur_asn1(&alg, &null, ASN1_NULL) ||
                            !cur_done(&null) || !cur_done(&alg))) {
      return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                  "RSA public key: rsaEncryption parameters must be NULL");
    }
    out->type = KEY_RSA;
    return parse_rsa(&key, out, detail, cap);
  }
  if (OID_IS(&oid, k_oid_rsa_pss)) {
    /* RFC 4055 3.1: RSASSA-PSS-params optional; when present they must at
     * least be a SEQUENCE.  (They restrict the key's use; TLS picks the
     * parameters from the scheme.) */
    cursor pss;
    if (!cur_done(&alg) &&
        (!cur_asn1(&alg, &pss, ASN1_SEQUENCE) || !cur_done(&alg))) {
      return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                  "RSA-PSS public key: parameters are not a SEQUENCE");
    }
    out->type = KEY_RSA_PSS;
    return parse_rsa(&key, out, detail, cap);
  }
  if (OID_IS(&oid, k_oid_ec)) {
    return parse_ec(&alg, &key, out, detail, cap);
  }
  if (OID_IS(&oid, k_oid_ed25519) || OID_IS(&oid, k_oid_ed448)) {
    bool is448 = OID_IS(&oid, k_oid_ed448);
    /* RFC 8410 3: the parameters MUST be absent. */
    if (!cur_done(&alg)) {
      return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                  "EdDSA public key: parameters must be absent");
    }
    if (cur_len(&key) != (is448 ? 57u : 32u)) {
      return fail(MOAT_ERR_BAD_CERTIFICATE, detail, cap,
                  is448 ? "Ed448 public key: must be 57 bytes"
                        : "Ed25519 public key: must be 32 bytes");
    }
    out->type = is448 ? KEY_ED448 : KEY_ED25519;
    out->key = cur_data(&key);
    out->key_len = cur_len(&key);
    return MOAT_OK;
  }
  return fail(MOAT_ERR_UNSUPPORTED_CERTIFICATE, detail, cap,
              "SubjectPublicKeyInfo: the key algorithm is not one moat "
              "supports (RSA, RSA-PSS, EC P-256/384/521, Ed25519, Ed448)");
}

/* One ECDSA-Sig-Value INTEGER: minimal DER, positive, no longer than the
 * field (plus one leading zero octet). */
static bool ecdsa_int_ok(cursor *c, size_t field_len) {
  cursor v;
  if (!cur_asn1_integer(c, &v) || (cur_data(&v)[0] & 0x80) != 0) {
    return false;
  }
  return cur_len(&v) <= field_len + 1;
}

/* RFC 5480 2.2 / SEC 1 C.5: Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER,
 * s INTEGER } in strict DER, nothing before or after. */
bool ecdsa_sig_der_ok(const uint8_t *sig, size_t sig_len, size_t field_len) {
  cursor c = cur_make(sig, sig_len), seq;
  return field_len > 0 && cur_asn1(&c, &seq, ASN1_SEQUENCE) && cur_done(&c) &&
         ecdsa_int_ok(&seq, field_len) && ecdsa_int_ok(&seq, field_len) &&
         cur_done(&seq);
}

bool der_is_encrypted_pkcs8(const uint8_t *der, size_t len) {
  cursor c = cur_make(der, len), seq, alg, data;
  return cur_asn1(&c, &seq, ASN1_SEQUENCE) &&
         cur_asn1(&seq, &alg, ASN1_SEQUENCE) &&
         cur_asn1(&seq, &data, ASN1_OCTET_STRING) && cur_done(&seq);
}
