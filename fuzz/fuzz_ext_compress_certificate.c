/* ext_cert_comp_parse on arbitrary compress_certificate extension data
 * (RFC 8879 3); an accepted list is built again and must read back the
 * same. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint16_t algs[CERT_COMP_MAX], again[CERT_COMP_MAX];
  size_t num = 0, num2 = 0;
  tls_cause why;
  static const uint16_t known[4] = {1, 2, 3, 0xff01};
  if (ext_cert_comp_parse(cur_make(data, size), known, 4, algs, CERT_COMP_MAX,
                          &num, &why) != MOAT_OK ||
      num == 0) {
    return 0;
  }
  uint8_t buf[64];
  builder b;
  bld_init_fixed(&b, buf, sizeof(buf));
  if (!ext_cert_comp_build(&b, algs, num) || !bld_finish(&b) ||
      ext_cert_comp_parse(cur_make(buf, bld_len(&b)), known, 4, again,
                          CERT_COMP_MAX, &num2, &why) != MOAT_OK ||
      num2 != num || memcmp(algs, again, num * sizeof(algs[0])) != 0) {
    abort();
  }
  return 0;
}
