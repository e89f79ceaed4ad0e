/* DER walking: every element, recursively, through the cursor, plus the
 * time and OID readers. */
#include <stddef.h>
#include <stdint.h>

#include "x509/der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(cursor c, int depth) {
  while (!cur_done(&c) && depth < 32) {
    cursor inner = c, v;
    uint8_t tag;
    int64_t t;
    if (der_read_time(&inner, &t)) {
      char text[40];
      der_time_text(t, text, sizeof(text));
    }
    if (!cur_asn1_any(&c, &v, &tag)) {
      return;
    }
    if (tag == ASN1_OID && der_oid_valid(&v)) {
      char text[128];
      der_oid_text(&v, text, sizeof(text));
    }
    if (tag & 0x20) {
      walk(v, depth + 1);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  walk(cur_make(data, size), 0);
  return 0;
}
