/* The public certificate object (moat.h "certificates"). */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "crypto/crypto.h"
#include "x509/cert.h"
#include "x509/cert_api.h"
#include "x509/der.h"
#include "x509/x509.h"

bool x509_cert_spki(const uint8_t *der, size_t len, cursor *out_spki) {
  x509_cert c;
  if (x509_cert_parse(&c, der, len, NULL, 0) != MOAT_OK) {
    return false;
  }
  *out_spki = c.spki;
  return true;
}

static moat_err cert_from_der(const uint8_t *der, size_t len, bool lenient,
                              moat_cert **out) {
  *out = NULL;
  if (der == NULL || len == 0) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  moat_cert *mc = moat_calloc(1, sizeof(*mc));
  if (mc == NULL || (mc->der = moat_memdup(der, len)) == NULL) {
    moat_free(mc);
    return MOAT_ERR_NO_MEMORY;
  }
  mc->len = len;
  moat_err err = lenient
                     ? x509_cert_parse_lenient(&mc->c, mc->der, len, NULL, 0)
                     : x509_cert_parse(&mc->c, mc->der, len, NULL, 0);
  if (err != MOAT_OK) {
    moat_cert_free(mc);
    return MOAT_ERR_BAD_CERTIFICATE;
  }
  pubkey *key = NULL;
  if (pubkey_from_spki(cur_data(&mc->c.spki), cur_len(&mc->c.spki), &key, NULL,
                       0) == MOAT_OK) {
    mc->key = pubkey_type(key);
    mc->key_bits = pubkey_bits(key);
    pubkey_free(key);
  }
  *out = mc;
  return MOAT_OK;
}

moat_err moat_cert_from_der(const uint8_t *der, size_t len, moat_cert **out) {
  return cert_from_der(der, len, false, out);
}

moat_err moat_cert_from_der_lenient(const uint8_t *der, size_t len,
                                    moat_cert **out) {
  return cert_from_der(der, len, true, out);
}

size_t moat_cert_dropped_extensions(const moat_cert *cert) {
  return cert->c.dropped_exts;
}

static moat_err cert_from_pem(const uint8_t *pem, size_t len, bool lenient,
                              moat_cert **out) {
  static const char *const labels[] = {"CERTIFICATE", "TRUSTED CERTIFICATE",
                                       NULL};
  cursor text = cur_make(pem, len);
  uint8_t *der;
  size_t der_len, which;
  *out = NULL;
  /* Blocks before the first certificate (a key, say) are wiped. */
  moat_err err = pem_next_of(&text, labels, &which, &der, &der_len, NULL, 0);
  if (err != MOAT_OK) {
    return err;
  }
  if (der == NULL) {
    return MOAT_ERR_NO_CERTIFICATE;
  }
  err = cert_from_der(der, der_len, lenient, out);
  moat_free(der);
  return err;
}

moat_err moat_cert_from_pem(const uint8_t *pem, size_t len, moat_cert **out) {
  return cert_from_pem(pem, len, false, out);
}

moat_err moat_cert_from_pem_lenient(const uint8_t *pem, size_t len,
                                    moat_cert **out) {
  return cert_from_pem(pem, len, true, out);
}

moat_err moat_cert_from_pem_next(const uint8_t *pem, size_t len,
                                 size_t *io_offset, moat_cert **out) {
  static const char *const labels[] = {"CERTIFICATE", "TRUSTED CERTIFICATE",
                                       NULL};
  *out = NULL;
  if (pem == NULL || *io_offset > len) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  cursor text = cur_make(pem + *io_offset, len - *io_offset);
  uint8_t *der;
  size_t der_len, which;
  moat_err err = pem_next_of(&text, labels, &which, &der, &der_len, NULL, 0);
  *io_offset = len - cur_len(&text);
  if (err != MOAT_OK || der == NULL) {
    return err;
  }
  err = moat_cert_from_der(der, der_len, out);
  moat_free(der);
  return err;
}

moat_err moat_cert_check_der(const uint8_t *der, size_t len, char *out,
                             size_t cap) {
  x509_cert c;
  if (cap > 0) {
    out[0] = '\0';
  }
  if (der == NULL || len == 0) {
    snprintf(out, cap, "no bytes");
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  if (x509_cert_parse(&c, der, len, out, cap) != MOAT_OK) {
    if (cap > 0 && out[0] == '\0') {
      snprintf(out, cap, "not an X.509 certificate");
    }
    return MOAT_ERR_BAD_CERTIFICATE;
  }
  return MOAT_OK;
}

void moat_cert_free(moat_cert *cert) {
  if (cert == NULL) {
    return;
  }
  moat_free(cert->der);
  moat_free(cert);
}

void moat_cert_der(const moat_cert *cert, const uint8_t **out_der,
                   size_t *out_len) {
  *out_der = cert->der;
  *out_len = cert->len;
}

size_t moat_cert_subject(const moat_cert *cert, char *out, size_t cap) {
  return x509_name_text(cert->c.subject, out, cap);
}

size_t moat_cert_issuer(const moat_cert *cert, char *out, size_t cap) {
  return x509_name_text(cert->c.issuer, out, cap);
}

size_t moat_cert_serial_hex(const moat_cert *cert, char *out, size_t cap) {
  text_buf tb;
  cursor s = cert->c.serial;
  tb_init(&tb, out, cap);
  /* Drop the sign octet of a positive serial, as OpenSSL prints it. */
  if (cur_len(&s) > 1 && cur_data(&s)[0] == 0) {
    (void)cur_skip(&s, 1);
  }
  tb_hex(&tb, cur_data(&s), cur_len(&s), 0);
  return tb.len;
}

int64_t moat_cert_not_before(const moat_cert *cert) {
  return cert->c.not_before;
}

int64_t moat_cert_not_after(const moat_cert *cert) {
  return cert->c.not_after;
}

size_t moat_cert_num_san(const moat_cert *cert) {
  size_t n = 0;
  cursor names = cert->c.san, v;
  uint8_t tag;
  while ((cert->c.exts & EXT_SAN) && x509_next_general_name(&names, &tag, &v)) {
    n++;
  }
  return n;
}

static void ip_text(text_buf *tb, cursor v) {
  const uint8_t *p = cur_data(&v);
  if (cur_len(&v) == 4) {
    tb_printf(tb, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
    return;
  }
  /* RFC 5952-ish: full groups without zero compression, like Python. */
  for (size_t i = 0; i + 1 < cur_len(&v); i += 2) {
    tb_printf(tb, "%s%X", i ? ":" : "", (unsigned)(p[i] << 8 | p[i + 1]));
  }
}

static void safe_text(text_buf *tb, cursor v) {
  for (size_t i = 0; i < cur_len(&v); i++) {
    uint8_t b = cur_data(&v)[i];
    if (b < 0x20 || b >= 0x7f) {
      tb_printf(tb, "\\x%02X", b);
    } else {
      tb_putc(tb, (char)b);
    }
  }
}

size_t moat_cert_san(const moat_cert *cert, size_t i, char *out, size_t cap) {
  text_buf tb;
  cursor names = cert->c.san, v;
  uint8_t tag;
  tb_init(&tb, out, cap);
  while ((cert->c.exts & EXT_SAN) && x509_next_general_name(&names, &tag, &v)) {
    if (i-- > 0) {
      continue;
    }
    switch (tag) {
    case GN_DNS:
      tb_puts(&tb, "DNS:");
      safe_text(&tb, v);
      break;
    case GN_IP:
      tb_puts(&tb, "IP:");
      ip_text(&tb, v);
      break;
    case GN_EMAIL:
      tb_puts(&tb, "email:");
      safe_text(&tb, v);
      break;
    case GN_URI:
      tb_puts(&tb, "URI:");
      safe_text(&tb, v);
      break;
    case GN_DIRNAME: {
      char name[512];
      x509_name_text(v, name, sizeof(name));
      tb_puts(&tb, "DirName:");
      tb_puts(&tb, name);
      break;
    }
    case GN_RID:
      tb_puts(&tb, "Registered ID:");
      tb_hex(&tb, cur_data(&v), cur_len(&v), 0);
      break;
    default:
      tb_puts(&tb, "othername:<unsupported>");
      break;
    }
    return tb.len;
  }
  return 0;
}

const char *moat_cert_key_type(const moat_cert *cert) {
  switch (cert->key) {
  case KEY_RSA:
    return "RSA";
  case KEY_RSA_PSS:
    return "RSA-PSS";
  case KEY_EC_P256:
  case KEY_EC_P384:
  case KEY_EC_P521:
    return "EC";
  case KEY_ED25519:
    return "Ed25519";
  case KEY_ED448:
    return "Ed448";
  default:
    return "unknown";
  }
}

int moat_cert_key_bits(const moat_cert *cert) {
  return cert->key_bits;
}

moat_err moat_cert_fingerprint_sha256(const moat_cert *cert, uint8_t out[32]) {
  const hash_alg *h = hash_get(HASH_SHA256);
  if (h == NULL || !hash_oneshot(h, cert->der, cert->len, out)) {
    return MOAT_ERR_CRYPTO;
  }
  return MOAT_OK;
}

size_t moat_cert_to_pem(const moat_cert *cert, char *out, size_t cap) {
  return pem_write("CERTIFICATE", cert->der, cert->len, out, cap);
}
