/* The public certificate object's layout, shared by the files that
 * implement moat.h's certificate calls. */
#ifndef MOAT_X509_CERT_API_H
#define MOAT_X509_CERT_API_H

#include "crypto/crypto.h"
#include "moat.h"
#include "x509/cert.h"

struct moat_cert {
  uint8_t *der;
  size_t len;
  x509_cert c;
  key_type key;
  int key_bits;
};

#endif
