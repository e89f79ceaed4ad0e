/* moat verify: build and check a certificate chain the way a TLS peer
 * would, and print the chain or the reason it failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "tools.h"
#include "x509/der.h"
#include "x509/x509.h"

#define VERIFY_MAX_CERTS 64

static void usage(void) {
  fprintf(stderr,
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
  int n = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se);
  if (n != 3 && n != 6) {
    return false;
  }
  *out = der_civil_to_time(y, (unsigned)mo, (unsigned)d, (unsigned)h,
                           (unsigned)mi, (unsigned)se);
  return true;
}

/* Appends the certificates of a PEM or DER file. */
static bool load_certs(const char *path, uint8_t **ders, size_t *lens,
                       size_t *n) {
  uint8_t *data;
  size_t len;
  char detail[256] = "";
  if (x509_read_file(path, &data, &len, detail, sizeof(detail)) != MOAT_OK) {
    fprintf(stderr, "moat verify: %s\n", detail);
    return false;
  }
  size_t before = *n;
  if (!pem_detect(data, len)) {
    if (*n < VERIFY_MAX_CERTS) {
      ders[(*n)] = data;
      lens[(*n)++] = len;
      return true;
    }
    moat_free(data);
    return false;
  }
  cursor text = cur_make(data, len);
  for (;;) {
    char label[64];
    uint8_t *der;
    size_t der_len;
    if (pem_next(&text, label, sizeof(label), &der, &der_len, detail,
                 sizeof(detail)) != MOAT_OK) {
      fprintf(stderr, "moat verify: %s: %s\n", path, detail);
      moat_free(data);
      return false;
    }
    if (der == NULL) {
      break;
    }
    if (strcmp(label, "CERTIFICATE") != 0 || *n == VERIFY_MAX_CERTS) {
      moat_free(der);
      continue;
    }
    ders[*n] = der;
    lens[(*n)++] = der_len;
  }
  moat_free(data);
  if (*n == before) {
    fprintf(stderr, "moat verify: %s: no certificate in the file\n", path);
    return false;
  }
  return true;
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
      usage();
      return 0;
    } else if (a[0] != '-') {
      if (leaf != NULL) {
        usage();
        return 2;
      }
      leaf = a;
      takes = false;
    } else if (val == NULL) {
      usage();
      return 2;
    } else if (strcmp(a, "--cafile") == 0) {
      cafile = val;
    } else if (strcmp(a, "--capath") == 0) {
      capath = val;
    } else if (strcmp(a, "--untrusted") == 0 && nuntrusted < 8) {
      untrusted[nuntrusted++] = val;
    } else if (strcmp(a, "--crl") == 0 && ncrls < 8) {
      crls[ncrls++] = val;
    } else if (strcmp(a, "--crl-check") == 0) {
      opts.flags |= strcmp(val, "chain") == 0 ? MOAT_VERIFY_CRL_CHECK_CHAIN
                                              : MOAT_VERIFY_CRL_CHECK_LEAF;
    } else if (strcmp(a, "--host") == 0 || strcmp(a, "--ip") == 0) {
      host = val;
    } else if (strcmp(a, "--purpose") == 0) {
      if (strcmp(val, "server") == 0) {
        opts.purpose = MOAT_PURPOSE_SERVER_AUTH;
      } else if (strcmp(val, "client") == 0) {
        opts.purpose = MOAT_PURPOSE_CLIENT_AUTH;
      } else {
        usage();
        return 2;
      }
    } else if (strcmp(a, "--at") == 0) {
      if (!parse_time(val, &opts.now)) {
        fprintf(stderr, "moat verify: bad time %s\n", val);
        return 2;
      }
    } else {
      usage();
      return 2;
    }
    if (takes) {
      i++;
    }
  }
  if (leaf == NULL) {
    usage();
    return 2;
  }
  opts.hostname = host;
  if (ncrls > 0 && !(opts.flags & MOAT_VERIFY_CRL_CHECK_LEAF)) {
    opts.flags |= MOAT_VERIFY_CRL_CHECK_LEAF; /* --crl implies checking */
  }

  int rc = 1;
  char detail[256] = "";
  uint8_t *ders[VERIFY_MAX_CERTS];
  size_t lens[VERIFY_MAX_CERTS], n = 0;
  x509_store *store = x509_store_new();
  moat_err err = MOAT_OK;
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
  if (!load_certs(leaf, ders, lens, &n)) {
    goto done;
  }
  /* Further certificates in LEAF's file count as untrusted, like a
   * server's chain. */
  for (size_t i = 0; i < nuntrusted; i++) {
    if (!load_certs(untrusted[i], ders, lens, &n)) {
      goto done;
    }
  }
  x509_verify_result res;
  x509_verify_chain(store, (const uint8_t *const *)ders, lens, n, &opts, &res);
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
  for (size_t i = 0; i < n; i++) {
    moat_free(ders[i]);
  }
  x509_store_free(store);
  return rc;
}
