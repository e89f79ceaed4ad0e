/* Certificate revocation lists (RFC 5280 5). */
#ifndef MOAT_X509_CRL_H
#define MOAT_X509_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cursor.h"
#include "moat.h"
#include "x509/cert.h"

typedef struct x509_crl {
  cursor der;
  cursor tbs; /* signed bytes */
  x509_sigalg sig;
  cursor signature;
  cursor issuer; /* Name element */
  int64_t this_update;
  int64_t next_update;
  bool has_next_update;
  cursor revoked;  /* revokedCertificates contents (may be empty) */
  cursor aki;      /* authorityKeyIdentifier keyIdentifier, may be empty */
  bool has_number; /* cRLNumber present (RFC 5280 5.2.3) */
  bool number_critical;
  bool unknown_critical; /* includes issuingDistributionPoint and delta CRLs */
} x509_crl;

moat_err x509_crl_parse(x509_crl *out, const uint8_t *der, size_t len,
                        char *detail, size_t cap);
/* True when serial (INTEGER contents) is listed; *out_date gets the
 * revocation date. */
bool x509_crl_lists(const x509_crl *crl, cursor serial, int64_t *out_date);

#endif
