/* ext_rsl_parse on arbitrary record_size_limit extension data (RFC 8449
 * 4): an accepted limit is at least 64 and builds back to the same two
 * bytes. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const unsigned msgs[3] = {M_CH, M_EE, M_SH12};
  uint16_t limit = 0;
  tls_cause why;
  if (ext_rsl_parse(cur_make(data, size), msgs[size % 3], &limit, &why) !=
      MOAT_OK) {
    return 0;
  }
  uint8_t buf[2];
  builder b;
  bld_init_fixed(&b, buf, sizeof(buf));
  if (limit < RSL_MIN || size != 2 || !ext_rsl_build(&b, limit) ||
      !bld_finish(&b) || bld_len(&b) != 2 || memcmp(buf, data, 2) != 0) {
    abort();
  }
  return 0;
}
