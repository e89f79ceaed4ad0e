/* moat ocsp: check an OCSP response (DER) for a certificate and its
 * issuer with moat_ocsp_check, and print what it says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moat.h"
#include "tools.h"
#include "util.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: moat ocsp --issuer ISSUER.pem [--at TIME] CERT.pem "
          "RESPONSE.der\n"
          "Checks the OCSP response (as openssl ocsp -respout writes it) for\n"
          "CERT, which ISSUER issued; exits 0 when it says good, 1 when it\n"
          "says revoked or unknown or is refused, 2 for usage errors.\n"
          "TIME is seconds since the epoch or YYYY-MM-DD[THH:MM:SS] (UTC).\n");
}

static moat_cert *load_cert(const char *path) {
  uint8_t *data;
  size_t len;
  moat_cert *c = NULL;
  if (!util_read_file("ocsp", path, 1 << 20, &data, &len)) {
    return NULL;
  }
  moat_err e = moat_cert_from_pem(data, len, &c);
  if (e != MOAT_OK) {
    e = moat_cert_from_der(data, len, &c);
  }
  free(data);
  if (e != MOAT_OK) {
    fprintf(stderr, "moat ocsp: %s: no certificate moat can read (%s)\n", path,
            moat_err_name(e));
    return NULL;
  }
  return c;
}

static void print_time(const char *what, int64_t t) {
  time_t tt = (time_t)t;
  struct tm tm;
  char text[64];
  if (t != 0 && gmtime_r(&tt, &tm) != NULL &&
      strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0) {
    printf("%s: %s\n", what, text);
  }
}

int cmd_ocsp(int argc, char **argv) {
  const char *issuer_path = NULL, *cert_path = NULL, *resp_path = NULL;
  int64_t at = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(argv[i], "--issuer") == 0 && i + 1 < argc) {
      issuer_path = argv[++i];
    } else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
      if (!util_parse_time(argv[++i], &at)) {
        fprintf(stderr, "moat ocsp: bad --at '%s'\n", argv[i]);
        usage(stderr);
        return 2;
      }
    } else if (argv[i][0] == '-' || resp_path != NULL) {
      fprintf(stderr, "moat ocsp: unexpected '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    } else if (cert_path == NULL) {
      cert_path = argv[i];
    } else {
      resp_path = argv[i];
    }
  }
  if (issuer_path == NULL || resp_path == NULL) {
    usage(stderr);
    return 2;
  }
  moat_cert *issuer = load_cert(issuer_path);
  moat_cert *cert = issuer != NULL ? load_cert(cert_path) : NULL;
  uint8_t *der = NULL;
  size_t len = 0;
  int rc = 2;
  if (cert != NULL &&
      util_read_file("ocsp", resp_path, (size_t)1 << 20, &der, &len)) {
    moat_ocsp_result *r = NULL;
    moat_err e = moat_ocsp_check(der, len, cert, issuer, at, &r);
    static const char *const st[] = {"none", "good", "revoked", "unknown"};
    if (r == NULL) {
      fprintf(stderr, "moat ocsp: %s\n", moat_err_message(e));
    } else {
      moat_ocsp_status s = moat_ocsp_result_status(r);
      printf("status: %s\n", st[s <= MOAT_OCSP_UNKNOWN ? s : 0]);
      printf("result: %s (%s, code %ld)\n", moat_ocsp_result_message(r),
             moat_err_name(e), moat_ocsp_result_code(r));
      print_time("produced-at", moat_ocsp_result_produced_at(r));
      print_time("this-update", moat_ocsp_result_this_update(r));
      print_time("next-update", moat_ocsp_result_next_update(r));
      if (s == MOAT_OCSP_REVOKED) {
        print_time("revoked-at", moat_ocsp_result_revocation_time(r));
        printf(
            "reason: %s\n",
            moat_ocsp_result_revocation_reason(r) < 0
                ? "none given"
                : moat_ocsp_reason_name(moat_ocsp_result_revocation_reason(r)));
      }
      rc = e == MOAT_OK ? 0 : 1;
    }
    moat_ocsp_result_free(r);
  }
  free(der);
  moat_cert_free(cert);
  moat_cert_free(issuer);
  return rc;
}
