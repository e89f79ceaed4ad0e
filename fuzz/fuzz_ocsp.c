/* OCSP responses: parsing, and verification against a certificate and
 * its issuer.  Input: a 2-byte length and the issuer's DER, a 2-byte
 * length and the leaf's DER, then the response (seeds from
 * tests/x509/make_ocsp.sh DIR CORPUS).  When the certificates do not
 * parse, the whole input is parsed as a response. */
#include <stddef.h>
#include <stdint.h>

#include "x509/ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cursor in = cur_make(data, size), issuer_der, leaf_der;
  x509_cert issuer, leaf;
  x509_ocsp_result r;
  if (cur_prefixed16(&in, &issuer_der) && cur_prefixed16(&in, &leaf_der) &&
      x509_cert_parse(&issuer, cur_data(&issuer_der), cur_len(&issuer_der),
                      NULL, 0) == MOAT_OK &&
      x509_cert_parse(&leaf, cur_data(&leaf_der), cur_len(&leaf_der), NULL,
                      0) == MOAT_OK) {
    /* The clock at the first thisUpdate, so that checks go past the
     * validity period whenever the seeds were made. */
    x509_ocsp o;
    x509_ocsp_single s;
    int64_t now = 0;
    if (x509_ocsp_parse(&o, cur_data(&in), cur_len(&in), NULL, 0) == MOAT_OK &&
        x509_ocsp_next_single(&o.responses, &s)) {
      now = s.this_update + 60;
    }
    (void)x509_ocsp_check(cur_data(&in), cur_len(&in), &leaf, &issuer, now,
                          NULL, &r);
    return 0;
  }
  x509_ocsp o;
  char detail[128];
  if (x509_ocsp_parse(&o, data, size, detail, sizeof(detail)) == MOAT_OK) {
    cursor pos = o.responses;
    x509_ocsp_single s;
    while (x509_ocsp_next_single(&pos, &s)) {
    }
  }
  return 0;
}
