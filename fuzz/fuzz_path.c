/* Path building over at most 8 certificates: each is a 2-byte length
 * then DER; the first is the trust anchor, the second the leaf, the rest
 * untrusted intermediates. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cursor in = cur_make(data, size), c;
  const uint8_t *ders[8];
  size_t lens[8], n = 0;
  while (n < 8 && cur_prefixed16(&in, &c)) {
    ders[n] = cur_data(&c);
    lens[n++] = cur_len(&c);
  }
  if (n < 2) {
    return 0;
  }
  x509_store *s = x509_store_new();
  char detail[128];
  if (x509_store_add_mem(s, ders[0], lens[0], detail, sizeof(detail)) ==
      MOAT_OK) {
    x509_verify_opts o;
    memset(&o, 0, sizeof(o));
    o.purpose = MOAT_PURPOSE_SERVER_AUTH;
    o.hostname = "example.com";
    o.check_common_name = true;
    o.now = 1700000000;
    o.flags = MOAT_VERIFY_X509_PARTIAL_CHAIN;
    x509_verify_result r;
    x509_verify_chain(s, ders + 1, lens + 1, n - 1, &o, &r);
  }
  x509_store_free(s);
  return 0;
}
