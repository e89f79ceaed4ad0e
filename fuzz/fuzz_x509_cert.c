/* Certificate parsing and every accessor over the parsed view. */
#include <stddef.h>
#include <stdint.h>

#include "moat.h"
#include "x509/cert.h"
#include "x509/nc.h"
#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  moat_cert *mc = NULL;
  char buf[512];
  if (moat_cert_from_der(data, size, &mc) != MOAT_OK) {
    return 0;
  }
  moat_cert_subject(mc, buf, sizeof(buf));
  moat_cert_issuer(mc, buf, sizeof(buf));
  moat_cert_serial_hex(mc, buf, sizeof(buf));
  for (size_t i = 0; i < moat_cert_num_san(mc); i++) {
    moat_cert_san(mc, i, buf, sizeof(buf));
  }
  moat_cert_to_pem(mc, buf, sizeof(buf));
  x509_cert c;
  if (x509_cert_parse(&c, data, size, NULL, 0) == MOAT_OK) {
    /* The certificate against its own name constraints. */
    (void)x509_nc_check(&c, &c, true, true);
    (void)x509_cert_matches_host(data, size, "www.example.com", true);
    (void)x509_cert_matches_host(data, size, "192.0.2.1", false);
  }
  moat_cert_free(mc);
  return 0;
}
