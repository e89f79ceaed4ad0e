/* The bench's test PKI, made at startup with libcrypto: two CAs and two
 * leaves, all in PEM in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bench.h"

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
  if (ext == NULL)
    return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

/* issuer == NULL makes a self-signed CA. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
                       EVP_PKEY *issuer_key, long serial) {
  X509 *cert = X509_new();
  X509_NAME *name = X509_NAME_new();
  bool ok = cert != NULL && name != NULL;
  ok = ok && X509_set_version(cert, 2) == 1;
  ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) == 1;
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL;
  ok = ok && X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 86400) != NULL;
  ok = ok && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                        (const unsigned char *)"moat bench", -1,
                                        -1, 0) == 1;
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  (const unsigned char *)cn, -1, -1, 0) == 1;
  ok = ok && X509_set_subject_name(cert, name) == 1;
  ok = ok && X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer)
                                               : name) == 1;
  ok = ok && X509_set_pubkey(cert, key) == 1;
  X509 *signer = issuer ? issuer : cert;
  ok = ok && add_ext(cert, signer, NID_subject_key_identifier, "hash");
  ok = ok && add_ext(cert, signer, NID_authority_key_identifier, "keyid");
  if (issuer == NULL) {
    ok = ok && add_ext(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
    ok = ok && add_ext(cert, signer, NID_key_usage, "critical,keyCertSign");
  } else {
    ok =
        ok && add_ext(cert, signer, NID_basic_constraints, "critical,CA:FALSE");
    ok =
        ok && add_ext(cert, signer, NID_key_usage, "critical,digitalSignature");
    ok = ok && add_ext(cert, signer, NID_ext_key_usage, "serverAuth");
    ok = ok && add_ext(cert, signer, NID_subject_alt_name, "DNS:localhost");
  }
  ok = ok && X509_sign(cert, issuer ? issuer_key : key, EVP_sha256()) > 0;
  X509_NAME_free(name);
  if (!ok) {
    X509_free(cert);
    return NULL;
  }
  return cert;
}

static bool bio_take(BIO *bio, char **out, size_t *out_len) {
  char *data = NULL;
  long n = BIO_get_mem_data(bio, &data);
  if (n <= 0)
    return false;
  *out = malloc((size_t)n + 1);
  if (*out == NULL)
    return false;
  memcpy(*out, data, (size_t)n);
  (*out)[n] = '\0';
  *out_len = (size_t)n;
  return true;
}

static bool cert_pem(X509 *cert, char **out, size_t *out_len) {
  BIO *bio = BIO_new(BIO_s_mem());
  bool ok = bio != NULL && PEM_write_bio_X509(bio, cert) == 1 &&
            bio_take(bio, out, out_len);
  BIO_free(bio);
  return ok;
}

static bool key_pem(EVP_PKEY *key, char **out, size_t *out_len) {
  BIO *bio = BIO_new(BIO_s_mem());
  bool ok =
      bio != NULL &&
      PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
      bio_take(bio, out, out_len);
  BIO_free(bio);
  return ok;
}

static EVP_PKEY *keygen(int which) {
  if (which == CERT_ECDSA)
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

static bool make_item(pki_item *item, int which) {
  EVP_PKEY *ca_key = keygen(which);
  EVP_PKEY *leaf_key = keygen(which);
  X509 *ca = NULL;
  X509 *leaf = NULL;
  bool ok = ca_key != NULL && leaf_key != NULL;
  ok = ok &&
       (ca = make_cert(ca_key,
                       which == CERT_ECDSA ? "bench ECDSA CA" : "bench RSA CA",
                       NULL, NULL, 1)) != NULL;
  ok = ok && (leaf = make_cert(leaf_key, "localhost", ca, ca_key, 2)) != NULL;
  ok = ok && cert_pem(ca, &item->ca_pem, &item->ca_pem_len);
  ok = ok && cert_pem(leaf, &item->leaf_pem, &item->leaf_pem_len);
  ok = ok && key_pem(leaf_key, &item->key_pem, &item->key_pem_len);
  X509_free(ca);
  X509_free(leaf);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(leaf_key);
  return ok;
}

bool pki_make(bench_pki *pki) {
  memset(pki, 0, sizeof(*pki));
  for (int i = 0; i < CERT__COUNT; i++) {
    if (!make_item(&pki->item[i], i)) {
      fprintf(stderr, "moat-bench: cannot make the test PKI\n");
      pki_free(pki);
      return false;
    }
  }
  return true;
}

void pki_free(bench_pki *pki) {
  for (int i = 0; i < CERT__COUNT; i++) {
    free(pki->item[i].ca_pem);
    free(pki->item[i].leaf_pem);
    free(pki->item[i].key_pem);
  }
  memset(pki, 0, sizeof(*pki));
}
