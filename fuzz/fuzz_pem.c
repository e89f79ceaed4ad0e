/* PEM iteration and store loading from memory. */
#include <stddef.h>
#include <stdint.h>

#include "base/mem.h"
#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cursor text = cur_make(data, size);
  char label[64], detail[128];
  for (int i = 0; i < 64; i++) {
    uint8_t *der;
    size_t len;
    if (pem_next(&text, label, sizeof(label), &der, &len, detail,
                 sizeof(detail)) != MOAT_OK ||
        der == NULL) {
      break;
    }
    moat_free(der);
  }
  x509_store *s = x509_store_new();
  (void)x509_store_add_mem(s, data, size, detail, sizeof(detail));
  x509_store_free(s);
  return 0;
}
