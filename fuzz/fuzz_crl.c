/* CRL parsing and serial lookup. */
#include <stddef.h>
#include <stdint.h>

#include "x509/crl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  x509_crl crl;
  static const uint8_t serial[] = {0x01};
  int64_t when;
  if (x509_crl_parse(&crl, data, size, NULL, 0) == MOAT_OK) {
    (void)x509_crl_lists(&crl, cur_make(serial, sizeof(serial)), &when);
  }
  return 0;
}
