/* The public OCSP calls (moat.h "OCSP responses"). */
#include <string.h>

#include "base/clock.h"
#include "base/mem.h"
#include "x509/cert_api.h"
#include "x509/ocsp.h"

struct moat_ocsp_result {
  x509_ocsp_result r;
};

moat_err moat_ocsp_check(const uint8_t *der, size_t len, const moat_cert *leaf,
                         const moat_cert *issuer, int64_t now,
                         moat_ocsp_result **out_result) {
  if (out_result == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  *out_result = NULL;
  if (der == NULL || leaf == NULL || issuer == NULL ||
      leaf->c.dropped_exts > 0 || issuer->c.dropped_exts > 0) {
    return MOAT_ERR_INVALID_ARGUMENT; /* a lenient view decides nothing */
  }
  moat_ocsp_result *res = moat_calloc(1, sizeof(*res));
  if (res == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  if (now == 0) {
    now = moat_default_clock(NULL);
  }
  moat_err err =
      x509_ocsp_check(der, len, &leaf->c, &issuer->c, now, NULL, &res->r);
  *out_result = res;
  return err;
}

void moat_ocsp_result_free(moat_ocsp_result *result) {
  moat_free(result);
}

moat_err moat_ocsp_result_error(const moat_ocsp_result *result) {
  return result->r.err;
}

moat_ocsp_status moat_ocsp_result_status(const moat_ocsp_result *result) {
  return result->r.status;
}

long moat_ocsp_result_code(const moat_ocsp_result *result) {
  return result->r.code;
}

const char *moat_ocsp_result_message(const moat_ocsp_result *result) {
  return result->r.message;
}

int64_t moat_ocsp_result_produced_at(const moat_ocsp_result *result) {
  return result->r.produced_at;
}

int64_t moat_ocsp_result_this_update(const moat_ocsp_result *result) {
  return result->r.this_update;
}

int64_t moat_ocsp_result_next_update(const moat_ocsp_result *result) {
  return result->r.next_update;
}

int64_t moat_ocsp_result_revocation_time(const moat_ocsp_result *result) {
  return result->r.revocation_time;
}

int moat_ocsp_result_revocation_reason(const moat_ocsp_result *result) {
  return result->r.reason;
}

const char *moat_ocsp_reason_name(int reason) {
  return x509_crl_reason_name(reason);
}
