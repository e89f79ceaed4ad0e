/* The ECH key file: a PKCS#8 X25519 "PRIVATE KEY" block and an
 * "ECHCONFIG" block holding an ECHConfigList, the layout of OpenSSL 4.0's
 * `openssl ech` (its PEM form of draft-farrell-tls-pemesni). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "tls/ech_config.h"
#include "x509/x509.h"

#define LABEL_KEY "PRIVATE KEY"
#define LABEL_CONFIG "ECHCONFIG"

/* RFC 8410 3: id-X25519 1.3.101.110, the OID's contents. */
static const uint8_t k_oid_x25519[] = {0x2b, 0x65, 0x6e};
/* Key types `openssl ech` can write, to name them when refusing. */
static const uint8_t k_oid_ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t k_oid_x448[] = {0x2b, 0x65, 0x6f};

__attribute__((format(printf, 4, 5))) static moat_err
fail(char *detail, size_t cap, moat_err err, const char *fmt, ...) {
  if (detail != NULL && cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(detail, cap, "ECH key file: ");
    if (n > 0 && (size_t)n < cap) {
      vsnprintf(detail + n, cap - (size_t)n, fmt, ap);
    }
    va_end(ap);
  }
  return err;
}

/* RFC 5958 2 OneAsymmetricKey with RFC 8410 7's CurvePrivateKey inside:
 * SEQUENCE { INTEGER 0|1, SEQUENCE { OID }, OCTET STRING { OCTET STRING
 * (32) }, [0] attributes OPTIONAL, [1] publicKey OPTIONAL }. */
static moat_err read_pkcs8_x25519(const uint8_t *der, size_t len,
                                  uint8_t *out_key, char *detail, size_t cap) {
  cursor in = cur_make(der, len), seq, alg, oid, octets, key, skip;
  uint64_t version;
  bool present;
  if (!cur_asn1(&in, &seq, ASN1_SEQUENCE) || !cur_done(&in) ||
      !cur_asn1_u64(&seq, &version) || version > 1 ||
      !cur_asn1(&seq, &alg, ASN1_SEQUENCE) || !cur_asn1(&alg, &oid, ASN1_OID)) {
    return fail(detail, cap, MOAT_ERR_BAD_KEY,
                "the PRIVATE KEY block is not a PKCS#8 private key");
  }
  if (!cur_equal(&oid, k_oid_x25519, sizeof(k_oid_x25519))) {
    const char *what = cur_equal(&oid, k_oid_ec, sizeof(k_oid_ec)) ? "an EC"
                       : cur_equal(&oid, k_oid_x448, sizeof(k_oid_x448))
                           ? "an X448"
                           : "a non-X25519";
    return fail(detail, cap, MOAT_ERR_UNSUPPORTED,
                "the private key is %s key; moat's ECH has the X25519 KEM "
                "(0x0020) only",
                what);
  }
  /* RFC 8410 3: the parameters are absent. */
  if (!cur_done(&alg) || !cur_asn1(&seq, &octets, ASN1_OCTET_STRING) ||
      !cur_asn1(&octets, &key, ASN1_OCTET_STRING) || !cur_done(&octets) ||
      cur_len(&key) != HPKE_X25519_LEN ||
      !cur_asn1_optional(&seq, &skip, &present, ASN1_CONTEXT_CONS(0)) ||
      !cur_asn1_optional(&seq, &skip, &present, ASN1_CONTEXT(1)) ||
      !cur_done(&seq)) {
    return fail(detail, cap, MOAT_ERR_BAD_KEY,
                "the X25519 PKCS#8 key is malformed (RFC 8410 7)");
  }
  memcpy(out_key, cur_data(&key), HPKE_X25519_LEN);
  return MOAT_OK;
}

/* Whether some config of the list carries public_key. */
static bool list_has_key(const uint8_t *list, size_t len, const uint8_t *pk,
                         size_t pk_len) {
  cursor configs;
  tls_cause why;
  if (ech_config_list_open(cur_make(list, len), &configs, &why) != MOAT_OK) {
    return false;
  }
  while (!cur_done(&configs)) {
    ech_config c;
    if (ech_config_next(&configs, &c, &why) != MOAT_OK) {
      return false;
    }
    if (c.version == ECH_CONFIG_VERSION && cur_len(&c.public_key) == pk_len &&
        memcmp(cur_data(&c.public_key), pk, pk_len) == 0) {
      return true;
    }
  }
  return false;
}

static moat_err take_block(ech_key_file *out, size_t which, uint8_t *der,
                           size_t len, char *detail, size_t cap) {
  moat_err err = MOAT_OK;
  if (which == 0) {
    if (out->has_private_key) {
      err = fail(detail, cap, MOAT_ERR_BAD_PEM,
                 "more than one PRIVATE KEY block");
    } else {
      err = read_pkcs8_x25519(der, len, out->private_key, detail, cap);
      out->has_private_key = err == MOAT_OK;
      out->private_key_len = err == MOAT_OK ? HPKE_X25519_LEN : 0;
    }
    moat_free_wipe(der, len);
    return err;
  }
  if (out->config_list != NULL) {
    moat_free(der);
    return fail(detail, cap, MOAT_ERR_BAD_PEM, "more than one ECHCONFIG block");
  }
  out->config_list = der;
  out->config_list_len = len;
  return MOAT_OK;
}

moat_err ech_key_file_parse(const uint8_t *text, size_t len, ech_key_file *out,
                            char *detail, size_t detail_cap) {
  static const char *const labels[] = {LABEL_KEY, LABEL_CONFIG, NULL};
  cursor c = cur_make(text, len);
  moat_err err = MOAT_OK;
  memset(out, 0, sizeof(*out));
  for (;;) {
    uint8_t *der = NULL;
    size_t der_len = 0, which = 0;
    err = pem_next_of(&c, labels, &which, &der, &der_len, detail, detail_cap);
    if (err != MOAT_OK || der == NULL) {
      break;
    }
    err = take_block(out, which, der, der_len, detail, detail_cap);
    if (err != MOAT_OK) {
      break;
    }
  }
  if (err == MOAT_OK && out->config_list == NULL) {
    err = fail(detail, detail_cap, MOAT_ERR_BAD_PEM,
               "no \"-----BEGIN " LABEL_CONFIG "-----\" block");
  }
  if (err == MOAT_OK) {
    size_t num, usable;
    tls_cause why;
    err = ech_config_list_parse(out->config_list, out->config_list_len, &num,
                                &usable, NULL, &why);
    if (err != MOAT_OK) {
      err =
          fail(detail, detail_cap, err, "the ECHCONFIG block: %s", why.detail);
    }
  }
  if (err == MOAT_OK && out->has_private_key) {
    err = hpke_public_key(HPKE_KEM_X25519_SHA256, out->private_key,
                          out->private_key_len, out->public_key,
                          &out->public_key_len);
    if (err == MOAT_OK && !list_has_key(out->config_list, out->config_list_len,
                                        out->public_key, out->public_key_len)) {
      err = fail(detail, detail_cap, MOAT_ERR_KEY_MISMATCH,
                 "no ECHConfig in the file carries the private key's public "
                 "key");
    }
  }
  if (err != MOAT_OK) {
    ech_key_file_clear(out);
  }
  return err;
}

moat_err ech_key_file_load(const char *path, ech_key_file *out, char *detail,
                           size_t detail_cap) {
  uint8_t *text = NULL;
  size_t len = 0;
  memset(out, 0, sizeof(*out));
  TRY(x509_read_file(path, &text, &len, detail, detail_cap));
  moat_err err = ech_key_file_parse(text, len, out, detail, detail_cap);
  moat_free_wipe(text, len);
  return err;
}

void ech_key_file_clear(ech_key_file *f) {
  moat_free(f->config_list);
  moat_wipe(f, sizeof(*f));
}

moat_err ech_key_file_write(const uint8_t *private_key, size_t private_key_len,
                            const uint8_t *config_list, size_t config_list_len,
                            char **out_text, size_t *out_len) {
  uint8_t der[64];
  size_t der_len = 0;
  *out_text = NULL;
  if (private_key != NULL) {
    if (private_key_len != HPKE_X25519_LEN) {
      return MOAT_ERR_INVALID_ARGUMENT;
    }
    /* RFC 8410 7: version 0, id-X25519 without parameters, the key as an
     * OCTET STRING inside the privateKey OCTET STRING. */
    builder b;
    bld_init_fixed(&b, der, sizeof(der));
    bld_open_asn1(&b, ASN1_SEQUENCE);
    bld_open_asn1(&b, ASN1_INTEGER);
    bld_u8(&b, 0);
    bld_close_asn1(&b);
    bld_open_asn1(&b, ASN1_SEQUENCE);
    bld_open_asn1(&b, ASN1_OID);
    bld_bytes(&b, k_oid_x25519, sizeof(k_oid_x25519));
    bld_close_asn1(&b);
    bld_close_asn1(&b);
    bld_open_asn1(&b, ASN1_OCTET_STRING);
    bld_open_asn1(&b, ASN1_OCTET_STRING);
    bld_bytes(&b, private_key, private_key_len);
    bld_close_asn1(&b);
    bld_close_asn1(&b);
    bld_close_asn1(&b);
    if (!bld_finish(&b)) {
      moat_wipe(der, sizeof(der));
      return MOAT_ERR_INTERNAL;
    }
    der_len = bld_len(&b);
  }
  size_t key_len =
      der_len > 0 ? pem_write(LABEL_KEY, der, der_len, NULL, 0) : 0;
  size_t cfg_len =
      pem_write(LABEL_CONFIG, config_list, config_list_len, NULL, 0);
  char *text = moat_malloc(key_len + cfg_len + 1);
  if (text == NULL) {
    moat_wipe(der, sizeof(der));
    return MOAT_ERR_NO_MEMORY;
  }
  if (der_len > 0) {
    pem_write(LABEL_KEY, der, der_len, text, key_len + 1);
  }
  pem_write(LABEL_CONFIG, config_list, config_list_len, text + key_len,
            cfg_len + 1);
  moat_wipe(der, sizeof(der));
  *out_text = text;
  *out_len = key_len + cfg_len;
  return MOAT_OK;
}
