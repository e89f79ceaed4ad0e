/* Test PKI made with the openssl command-line tool in a temp directory:
 * a CA and leaves of several key types, all for "localhost". */
#ifndef MOAT_TEST_PKI_H
#define MOAT_TEST_PKI_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moat.h"

static char pki_dir[64];

static int pki_run(const char *cmd) {
  char full[2048];
  snprintf(full, sizeof(full), "cd %s && (%s) >/dev/null 2>&1", pki_dir, cmd);
  return system(full);
}

/* key algorithm options for `openssl req -newkey` / genpkey */
static const char *pki_keyopt(const char *kind) {
  if (strcmp(kind, "p256") == 0) {
    return "-algorithm EC -pkeyopt ec_paramgen_curve:P-256";
  }
  if (strcmp(kind, "p384") == 0) {
    return "-algorithm EC -pkeyopt ec_paramgen_curve:P-384";
  }
  if (strcmp(kind, "rsa1024") == 0) {
    return "-algorithm RSA -pkeyopt rsa_keygen_bits:1024";
  }
  if (strcmp(kind, "rsa1024") == 0) {
    return "-algorithm RSA -pkeyopt rsa_keygen_bits:1024";
  }
  if (strcmp(kind, "rsa") == 0) {
    return "-algorithm RSA -pkeyopt rsa_keygen_bits:2048";
  }
  return "-algorithm ED25519";
}

/* Makes ca.pem/ca.key and NAME.pem/NAME.key for a leaf of kind KIND
 * signed by the CA (extra: additional x509 extension lines). */
static int pki_leaf(const char *name, const char *kind, const char *days,
                    const char *eku) {
  char cmd[1536];
  snprintf(cmd, sizeof(cmd),
           "openssl genpkey %s -out %s.key && "
           "openssl req -new -key %s.key -subj /CN=localhost -out %s.csr && "
           "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n"
           "basicConstraints=CA:FALSE\\nkeyUsage=digitalSignature\\n"
           "extendedKeyUsage=%s\\n' > %s.ext && "
           "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key "
           "-CAcreateserial -days %s -extfile %s.ext -out %s.pem",
           pki_keyopt(kind), name, name, name, eku, name, name, days, name,
           name);
  return pki_run(cmd);
}

static int pki_init(void) {
  snprintf(pki_dir, sizeof(pki_dir), "/tmp/moat-test-XXXXXX");
  if (mkdtemp(pki_dir) == NULL) {
    return -1;
  }
  if (pki_run(
          "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
          "-out ca.key && openssl req -x509 -new -key ca.key -days 30 "
          "-subj '/CN=moat test CA' -addext basicConstraints=critical,CA:TRUE "
          "-addext keyUsage=critical,keyCertSign,cRLSign -out ca.pem") != 0) {
    return -1;
  }
  return 0;
}

static void pki_path(char *out, size_t cap, const char *file) {
  snprintf(out, cap, "%s/%s", pki_dir, file);
}

/* A server context with the leaf NAME.pem / NAME.key, or NULL when they
 * do not load; a client context trusting the CA. */
static inline moat_context *pki_server_ctx(const char *name) {
  char cert[256], key[256], c[64], k[64];
  snprintf(c, sizeof(c), "%s.pem", name);
  snprintf(k, sizeof(k), "%s.key", name);
  pki_path(cert, sizeof(cert), c);
  pki_path(key, sizeof(key), k);
  moat_context *ctx = moat_context_new(MOAT_ROLE_SERVER);
  if (ctx != NULL &&
      moat_context_load_cert_chain(ctx, cert, key, NULL) != MOAT_OK) {
    moat_context_free(ctx);
    return NULL;
  }
  return ctx;
}

static inline moat_context *pki_client_ctx(void) {
  char ca[256];
  pki_path(ca, sizeof(ca), "ca.pem");
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  if (ctx != NULL &&
      moat_context_load_verify_locations(ctx, ca, NULL, NULL, 0) != MOAT_OK) {
    moat_context_free(ctx);
    return NULL;
  }
  return ctx;
}

static void pki_cleanup(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", pki_dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "could not remove %s\n", pki_dir);
  }
}

#endif
