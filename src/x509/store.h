/* Trust store lookups used by the path builder. */
#ifndef MOAT_X509_STORE_H
#define MOAT_X509_STORE_H

#include "x509/x509.h"

typedef struct store_iter {
  size_t bundle;
  size_t item;
} store_iter;

/* Next trusted certificate whose subject equals name (start with a
 * zeroed iterator). */
bool x509_store_next_subject(const x509_store *s, cursor name, store_iter *it,
                             const uint8_t **out_der, size_t *out_len);
/* Next CRL whose issuer equals name. */
bool x509_store_next_crl(const x509_store *s, cursor name, store_iter *it,
                         const uint8_t **out_der, size_t *out_len);
/* True when exactly this certificate is in the store. */
bool x509_store_contains(const x509_store *s, const uint8_t *der, size_t len);

#endif
