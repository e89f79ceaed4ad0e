/* Name constraints: input is two DER certificates, a 2-byte big-endian
 * length of the first, then both; the first constrains the second. */
#include <stddef.h>
#include <stdint.h>

#include "x509/cert.h"
#include "x509/nc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cursor in = cur_make(data, size), a;
  x509_cert ca, leaf;
  if (!cur_prefixed16(&in, &a) ||
      x509_cert_parse(&ca, cur_data(&a), cur_len(&a), NULL, 0) != MOAT_OK ||
      x509_cert_parse(&leaf, cur_data(&in), cur_len(&in), NULL, 0) != MOAT_OK) {
    return 0;
  }
  (void)x509_nc_check(&ca, &leaf, true, true);
  (void)x509_nc_check(&ca, &leaf, false, false);
  return 0;
}
