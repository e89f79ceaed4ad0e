/* moat verify: build and check a certificate chain the way a TLS peer
 * would (moat_verify_chain, the public API a handshake's verification
 * shares), and print the chain or the reason it failed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moat.h"
#include "tools.h"
#include "util.h"

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

/* The validation time --at asks for (or now), for the context's clock. */
static int64_t at_time;

static int64_t clock_at(void *arg) {
  (void)arg;
  return at_time;
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
    free(der);
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
  struct {
    moat_purpose purpose;
    int64_t now;
    uint32_t flags;
    bool check_common_name;
    const char *hostname;
  } opts;
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
    } else if (!util_parse_time(val, &opts.now)) { /* --at */
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

  /* A client context checks a server's certificate, a server context a
   * client's: the purpose is the context's role. */
  moat_context *ctx = moat_context_new(opts.purpose == MOAT_PURPOSE_SERVER_AUTH
                                           ? MOAT_ROLE_CLIENT
                                           : MOAT_ROLE_SERVER);
  struct cert_list certs = {.n = 0};
  moat_verify_result *res = NULL;
  int rc = 1;
  moat_err err = MOAT_OK;
  const char *what = NULL, *file = NULL;
  if (ctx == NULL) {
    fprintf(stderr, "moat verify: cannot create a context\n");
    return 1;
  }
  at_time = opts.now;
  moat_context_set_clock(ctx, clock_at, NULL);
  moat_context_set_verify_flags(ctx, opts.flags);
  moat_context_set_hostname_checks_common_name(ctx, opts.check_common_name);
  if (cafile != NULL) {
    what = "cannot load CA file", file = cafile;
    err = moat_context_load_verify_locations(ctx, cafile, NULL, NULL, 0);
  }
  if (err == MOAT_OK && capath != NULL) {
    what = "cannot load CA directory", file = capath;
    err = moat_context_load_verify_locations(ctx, NULL, capath, NULL, 0);
  }
  if (err == MOAT_OK && cafile == NULL && capath == NULL) {
    what = "cannot load the system trust store", file = NULL;
    err = moat_context_load_default_verify_paths(ctx);
  }
  for (size_t i = 0; err == MOAT_OK && i < ncrls; i++) {
    what = "cannot load CRL file", file = crls[i];
    err = moat_context_load_verify_locations(ctx, crls[i], NULL, NULL, 0);
  }
  if (err != MOAT_OK) {
    util_setup_fail("verify", ctx, what, file, err);
    goto done;
  }
  /* Every file is read and every certificate parsed before verifying: a
   * file that cannot be read is a usage problem (stderr), not a verdict. */
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
  err = moat_verify_chain(ctx, (const uint8_t *const *)certs.ders, certs.lens,
                          certs.n, opts.hostname, &res);
  if (res == NULL) {
    fprintf(stderr, "moat verify: %s (%s)\n", moat_err_message(err),
            moat_err_name(err));
    goto done;
  }
  if (err != MOAT_OK) {
    long code = moat_verify_result_code(res);
    printf("%s: verification failed: %s\n", leaf,
           moat_verify_result_message(res));
    printf("  code %ld (%s), depth %d\n", code, moat_verify_code_text(code),
           moat_verify_result_depth(res));
    goto done;
  }
  printf("%s: OK\n", leaf);
  for (size_t i = 0; i < moat_verify_result_chain_len(res); i++) {
    const uint8_t *der;
    size_t len;
    char subject[512], issuer[512];
    if (moat_verify_result_cert_der(res, i, &der, &len) == MOAT_OK) {
      util_cert_subject(der, len, false, subject, sizeof(subject));
      util_cert_subject(der, len, true, issuer, sizeof(issuer));
      printf("  depth %zu: %s\n           issuer: %s\n", i, subject, issuer);
    }
  }
  rc = 0;
done:
  for (size_t i = 0; i < certs.n; i++) {
    free(certs.ders[i]);
  }
  moat_verify_result_free(res);
  moat_context_free(ctx);
  return rc;
}
