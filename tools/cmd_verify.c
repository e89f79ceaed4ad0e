/* moat verify: build and check a certificate chain the way a TLS peer
 * would, and print the chain or the reason it failed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "tools.h"
#include "util.h"
#include "x509/der.h"
#include "x509/x509.h"

#define VERIFY_MAX_CERTS 64

static void usage(FILE *f) {
  fprintf(f,
          "usage: moat verify [--cafile F] [--capath D] [--untrusted F]\n"
          "                   [--host NAME | --ip ADDR] [--purpose "
          "server|client]\n"
          "                   [--at TIME] [--crl F] [--crl-check leaf|chain]\n"
          "                   [--strict] [--partial-chain] LEAF.pem\n"
          "TIME is seconds since the epoch or YYYY-MM-DD[THH:MM:SS] (UTC).\n");
}

static bool parse_time(const char *s, int64_t *out) {
  int y, mo, d, h = 0, mi = 0, se = 0;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (*end == '\0' && end != s) {
    *out = v;
    return true;
  }
  int used = 0;
  int n = sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used); /* date, then time */
  if (n == 3 && s[used] == 'T') {
    int more = 0;
    n += sscanf(s + used, "T%2d:%2d:%2d%n", &h, &mi, &se, &more);
    used += more;
  }
  /* A date or a full date and time, nothing after, fields in range. */
  if ((n != 3 && n != 6) || (n == 3 && s[used] != '\0') ||
      (n == 6 && (s[used] != '\0' || used == 0)) || mo < 1 || mo > 12 ||
      d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
      se > 60 || y < 0) {
    return false;
  }
  *out = der_civil_to_time(y, (unsigned)mo, (unsigned)d, (unsigned)h,
                           (unsigned)mi, (unsigned)se);
  return true;
}

struct cert_list {
  const char *path;
  uint8_t *ders[VERIFY_MAX_CERTS];
  size_t lens[VERIFY_MAX_CERTS];
  size_t n;
};

/* Appends one certificate of the file being read. */
static bool add_cert(void *arg, uint8_t *der, size_t len) {
  struct cert_list *l = arg;
  if (l->n == VERIFY_MAX_CERTS) {
    fprintf(stderr, "moat verify: %s: more than %d certificates in all\n",
            l->path, VERIFY_MAX_CERTS);
    moat_free(der);
    return false;
  }
  l->ders[l->n] = der;
  l->lens[l->n++] = len;
  return true;
}

static bool load_certs(const char *path, struct cert_list *l) {
  l->path = path;
  return util_each_cert("verify", path, add_cert, l);
}

/* A usage error: what was wrong, then the usage. */
__attribute__((format(printf, 1, 2))) static int bad_usage(const char *fmt,
                                                           ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "moat verify: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  usage(stderr);
  return 2;
}

int cmd_verify(int argc, char **argv) {
  const char *cafile = NULL, *capath = NULL, *leaf = NULL, *host = NULL;
  const char *untrusted[8], *crls[8];
  size_t nuntrusted = 0, ncrls = 0;
  x509_verify_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.purpose = MOAT_PURPOSE_SERVER_AUTH;
  opts.now = (int64_t)time(NULL);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = true;
    if (strcmp(a, "--strict") == 0) {
      opts.flags |= MOAT_VERIFY_X509_STRICT;
      takes = false;
    } else if (strcmp(a, "--partial-chain") == 0) {
      opts.flags |= MOAT_VERIFY_X509_PARTIAL_CHAIN;
      takes = false;
    } else if (strcmp(a, "--cn") == 0) {
      opts.check_common_name = true;
      takes = false;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (a[0] != '-') {
      if (leaf != NULL) {
        return bad_usage("unexpected argument '%s' (one LEAF only)", a);
      }
      leaf = a;
      takes = false;
    } else if (strcmp(a, "--cafile") != 0 && strcmp(a, "--capath") != 0 &&
               strcmp(a, "--untrusted") != 0 && strcmp(a, "--crl") != 0 &&
               strcmp(a, "--crl-check") != 0 && strcmp(a, "--host") != 0 &&
               strcmp(a, "--ip") != 0 && strcmp(a, "--purpose") != 0 &&
               strcmp(a, "--at") != 0) {
      return bad_usage("unknown option '%s'", a);
    } else if (val == NULL) {
      return bad_usage("%s needs a value", a);
    } else if (strcmp(a, "--cafile") == 0) {
      cafile = val;
    } else if (strcmp(a, "--capath") == 0) {
      capath = val;
    } else if (strcmp(a, "--untrusted") == 0) {
      if (nuntrusted == 8) {
        return bad_usage("too many %s files (at most 8)", a);
      }
      untrusted[nuntrusted++] = val;
    } else if (strcmp(a, "--crl") == 0) {
      if (ncrls == 8) {
        return bad_usage("too many %s files (at most 8)", a);
      }
      crls[ncrls++] = val;
    } else if (strcmp(a, "--crl-check") == 0) {
      if (strcmp(val, "chain") == 0) {
        opts.flags |= MOAT_VERIFY_CRL_CHECK_CHAIN;
      } else if (strcmp(val, "leaf") == 0) {
        opts.flags |= MOAT_VERIFY_CRL_CHECK_LEAF;
      } else {
        return bad_usage("bad --crl-check '%s' (leaf or chain)", val);
      }
    } else if (strcmp(a, "--host") == 0 || strcmp(a, "--ip") == 0) {
      host = val;
    } else if (strcmp(a, "--purpose") == 0) {
      if (strcmp(val, "server") == 0) {
        opts.purpose = MOAT_PURPOSE_SERVER_AUTH;
      } else if (strcmp(val, "client") == 0) {
        opts.purpose = MOAT_PURPOSE_CLIENT_AUTH;
      } else {
        return bad_usage("bad --purpose '%s' (server or client)", val);
      }
    } else if (!parse_time(val, &opts.now)) { /* --at */
      return bad_usage("bad --at '%s' (seconds since the epoch or "
                       "YYYY-MM-DD[THH:MM:SS])",
                       val);
    }
    if (takes) {
      i++;
    }
  }
  if (leaf == NULL) {
    return bad_usage("%s", "missing LEAF.pem");
  }
  opts.hostname = host;
  if (ncrls > 0 && !(opts.flags & MOAT_VERIFY_CRL_CHECK_LEAF)) {
    opts.flags |= MOAT_VERIFY_CRL_CHECK_LEAF; /* --crl implies checking */
  }

  int rc = 1;
  char detail[256] = "";
  struct cert_list certs = {.n = 0};
  x509_store *store = x509_store_new();
  moat_err err = MOAT_OK;
  if (store == NULL) {
    fprintf(stderr, "moat verify: cannot allocate a trust store\n");
    return 1;
  }
  if (cafile != NULL) {
    err = x509_store_add_file(store, cafile, detail, sizeof(detail));
  }
  if (err == MOAT_OK && capath != NULL) {
    err = x509_store_add_dir(store, capath, detail, sizeof(detail));
  }
  if (err == MOAT_OK && cafile == NULL && capath == NULL) {
    err = x509_store_add_default(store, detail, sizeof(detail));
  }
  for (size_t i = 0; err == MOAT_OK && i < ncrls; i++) {
    err = x509_store_add_file(store, crls[i], detail, sizeof(detail));
  }
  if (err != MOAT_OK) {
    fprintf(stderr, "moat verify: %s (%s)\n", detail, moat_err_name(err));
    goto done;
  }
  if (!load_certs(leaf, &certs)) {
    goto done;
  }
  /* Further certificates in LEAF's file count as untrusted, like a
   * server's chain. */
  for (size_t i = 0; i < nuntrusted; i++) {
    if (!load_certs(untrusted[i], &certs)) {
      goto done;
    }
  }
  x509_verify_result res;
  x509_verify_chain(store, (const uint8_t *const *)certs.ders, certs.lens,
                    certs.n, &opts, &res);
  if (res.err != MOAT_OK) {
    printf("%s: verification failed: %s\n", leaf, res.message);
    printf("  code %ld (%s), depth %d\n", res.code,
           x509_verify_code_text(res.code), res.depth);
    goto done;
  }
  printf("%s: OK\n", leaf);
  for (size_t i = 0; i < res.chain_len; i++) {
    moat_cert *c = NULL;
    char subject[512], issuer[512];
    if (moat_cert_from_der(res.chain_der[i], res.chain_der_len[i], &c) ==
        MOAT_OK) {
      moat_cert_subject(c, subject, sizeof(subject));
      moat_cert_issuer(c, issuer, sizeof(issuer));
      printf("  depth %zu: %s\n           issuer: %s\n", i, subject, issuer);
      moat_cert_free(c);
    }
  }
  rc = 0;
done:
  for (size_t i = 0; i < certs.n; i++) {
    moat_free(certs.ders[i]);
  }
  x509_store_free(store);
  return rc;
}
