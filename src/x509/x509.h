/* moat's X.509 stack as the TLS engine and the tools use it: PEM, trust
 * stores, chain verification.  (Parsing details are in cert.h.) */
#ifndef MOAT_X509_H
#define MOAT_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cursor.h"
#include "crypto/crypto.h"
#include "moat.h"

/* ---- PEM (RFC 7468) ------------------------------------------------------ */

/* Iterate blocks in text.  At the end returns MOAT_OK with *out_der ==
 * NULL.  On a block returns MOAT_OK with label copied (NUL-terminated) and
 * *out_der a moat_malloc'd DER buffer the caller frees with moat_free
 * (moat_free_wipe when the block may be a private key).  Bad base64,
 * mismatched BEGIN/END labels, truncated blocks: MOAT_ERR_BAD_PEM with
 * detail saying which line/label (what was decoded is wiped).  Text
 * between blocks is ignored; CRLF and LF both work. */
moat_err pem_next(cursor *text, char *label, size_t label_cap,
                  uint8_t **out_der, size_t *out_len, char *detail,
                  size_t detail_cap);
/* pem_next for the blocks whose label is one of labels (a NULL-terminated
 * list; *out_which is its index); other blocks (private keys among them)
 * are wiped and skipped.  At the end MOAT_OK with *out_der == NULL. */
moat_err pem_next_of(cursor *text, const char *const *labels, size_t *out_which,
                     uint8_t **out_der, size_t *out_len, char *detail,
                     size_t detail_cap);
/* True when the buffer looks like PEM (has "-----BEGIN "). */
bool pem_detect(const uint8_t *data, size_t len);
/* Writes DER as a PEM block with the label (64-column base64, LF line
 * ends); returns the full length needed (a NUL is written when it fits). */
size_t pem_write(const char *label, const uint8_t *der, size_t len, char *out,
                 size_t cap);
/* Base64 (RFC 4648 4) with padding on one line; returns the length
 * (a NUL is written when it fits). */
size_t b64_encode(const uint8_t *data, size_t len, char *out, size_t cap);
/* Strict base64 as in PEM bodies (zero unused bits, padding may be left
 * out, spaces and tabs skipped, nothing else); false when it is not, or when
 * the result would pass cap (len / 4 * 3 + 2 always fits). */
bool b64_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                size_t *out_len);

/* ---- certificates -------------------------------------------------------- */

/* The SubjectPublicKeyInfo element (header included) of a certificate. */
bool x509_cert_spki(const uint8_t *der, size_t len, cursor *out_spki);

/* ---- trust stores ----------------------------------------------------------
 */

typedef struct x509_store x509_store;
x509_store *x509_store_new(void);
x509_store *x509_store_ref(x509_store *s);
void x509_store_free(x509_store *s); /* drops one reference */
/* A new store holding what s holds (the sealed certificate bundles are
 * shared, not copied), for adding to without changing s. */
x509_store *x509_store_dup(const x509_store *s);
/* PEM bundle: certificates and CRLs. */
moat_err x509_store_add_file(x509_store *s, const char *path, char *detail,
                             size_t cap);
/* capath: every regular file in the directory (hashed names and others). */
moat_err x509_store_add_dir(x509_store *s, const char *path, char *detail,
                            size_t cap);
/* PEM text or DER bytes (one certificate or CRL). */
moat_err x509_store_add_mem(x509_store *s, const uint8_t *data, size_t len,
                            char *detail, size_t cap);
/* SSL_CERT_FILE, SSL_CERT_DIR, then Debian's
 * /etc/ssl/certs/ca-certificates.crt and /etc/ssl/certs. */
moat_err x509_store_add_default(x509_store *s, char *detail, size_t cap);
/* Reads a whole file (at most 64 MiB) into a moat_malloc'd buffer. */
moat_err x509_read_file(const char *path, uint8_t **out, size_t *out_len,
                        char *detail, size_t cap);
size_t x509_store_num_certs(const x509_store *s);
size_t x509_store_num_crls(const x509_store *s);
/* Is der one of the store's own certificate buffers (the same bytes at the
 * same address, as x509_verify_chain hands anchors out)?  Such a buffer
 * lives as long as a reference to the store. */
bool x509_store_holds(const x509_store *s, const uint8_t *der, size_t len);
/* i-th trusted certificate's DER (for get_ca_certs). */
bool x509_store_cert_der(const x509_store *s, size_t i, const uint8_t **out,
                         size_t *out_len);

/* ---- verification
 * ------------------------------------------------------------ */

typedef struct x509_verify_opts {
  moat_purpose purpose;   /* SERVER_AUTH: leaf must allow serverAuth;
                             CLIENT_AUTH: clientAuth */
  const char *hostname;   /* DNS name or IP literal (v4/v6), or NULL */
  bool check_common_name; /* hostname_checks_common_name */
  int64_t now;            /* validation time, seconds since the epoch */
  uint32_t flags;         /* MOAT_VERIFY_* */
  int max_depth; /* intermediates allowed: 0 = default (10), <0 = none */
  pubkey_cache *key_cache;  /* parsed issuer keys (may be NULL) */
  bool skip_leaf_key_usage; /* do not require digitalSignature in the
                               leaf's keyUsage (non-TLS uses) */
} x509_verify_opts;

#define X509_MAX_CHAIN 16
typedef struct x509_verify_result {
  moat_err err; /* MOAT_OK, MOAT_ERR_CERT_VERIFY_FAILED,
                   MOAT_ERR_HOSTNAME_MISMATCH, MOAT_ERR_BAD_CERTIFICATE */
  long code;    /* OpenSSL X509_V_ERR_* compatible (0 = ok) */
  int depth;    /* depth of the certificate that failed */
  char message[384];
  char subject[256]; /* subject of the certificate that failed */
  size_t chain_len;  /* the verified chain, leaf first, when err == OK */
  const uint8_t *chain_der[X509_MAX_CHAIN];
  size_t chain_der_len[X509_MAX_CHAIN];
} x509_verify_result;

/* Verify a peer's chain (ders[0] is the leaf; the rest untrusted
 * intermediates in any order).  Always fills *out; returns out->err.
 * When opts->purpose is set the leaf's keyUsage, if present, must allow
 * digitalSignature (RFC 8446 4.4.2.2). */
moat_err x509_verify_chain(const x509_store *store, const uint8_t *const *ders,
                           const size_t *lens, size_t n,
                           const x509_verify_opts *opts,
                           x509_verify_result *out);

/* Text for an X509_V_ERR-compatible code ("certificate has expired"). */
const char *x509_verify_code_text(long code);

/* ---- names (hostname.c)
 * ------------------------------------------------------- */

/* Parses an IPv4 dotted quad or an IPv6 literal; *out_len is 4 or 16. */
bool x509_parse_ip(const char *s, uint8_t out[16], size_t *out_len);
/* RFC 6125 6.4 / RFC 9525 6.3: a DNS-ID pattern from a certificate (may
 * be a leftmost "*" wildcard) against a reference host name. */
bool x509_dns_match(const uint8_t *pattern, size_t pattern_len,
                    const char *host);
/* A dNSName in preferred syntax (letters, digits, hyphens; a leftmost
 * "*" label allowed). */
bool x509_dns_syntax_ok(const uint8_t *name, size_t len);
/* Whether the leaf's names match hostname (DNS name or IP literal). */
bool x509_cert_matches_host(const uint8_t *der, size_t len,
                            const char *hostname, bool check_common_name);

#endif
