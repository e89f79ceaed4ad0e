/* moat_context: policy shared by connections (Python's SSLContext). */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/mem.h"
#include "tls/tls.h"
#include "x509/x509.h"

/* ctx_random draws only values sent in the clear (randoms, session ids,
 * cookies, ticket nonces and age masks), so the default comes from the
 * public pool; keys come from libcrypto directly. */
static bool default_rng(void *arg, uint8_t *out, size_t len) {
  (void)arg;
  return crypto_random_public(out, len);
}

moat_context *moat_context_new(moat_role role) {
  if (role != MOAT_ROLE_CLIENT && role != MOAT_ROLE_SERVER) {
    return NULL;
  }
  moat_context *ctx = moat_calloc(1, sizeof(*ctx));
  if (ctx == NULL) {
    return NULL;
  }
  atomic_init(&ctx->refs, 1);
  ctx->role = role;
  ctx->min_version = MOAT_TLS1_3;
  ctx->max_version = MOAT_TLS1_3;
  size_t n;
  const tls_suite *const *suites = suite_all(&n);
  for (size_t i = 0; i < n && i < TLS_MAX_SUITES; i++) {
    ctx->suites[ctx->num_suites++] = suites[i];
  }
  const kex_alg *const *groups = kex_all(&n);
  for (size_t i = 0; i < n && i < TLS_MAX_GROUPS; i++) {
    ctx->groups[ctx->num_groups++] = groups[i];
  }
  const sig_scheme *const *schemes = sig_scheme_all(&n);
  for (size_t i = 0; i < n && i < TLS_MAX_SIGALGS; i++) {
    ctx->sigalgs[ctx->num_sigalgs++] = schemes[i];
  }
  if (role == MOAT_ROLE_CLIENT) {
    ctx->verify_mode = MOAT_VERIFY_REQUIRED;
    ctx->check_hostname = true;
  } else {
    ctx->verify_mode = MOAT_VERIFY_NONE;
  }
  ctx->verify_flags = MOAT_VERIFY_X509_TRUSTED_FIRST;
  ctx->num_tickets = 2;
  ctx->clock = moat_default_clock;
  ctx->rng = default_rng;
  pthread_mutex_init(&ctx->keylog_lock, NULL);
  pthread_mutex_init(&ctx->ticket_lock, NULL);
  ctx->ticket_lifetime = 7200;
  ctx->store = x509_store_new();
  ctx->key_cache = pubkey_cache_new();
  ctx->kex_pool = kex_pool_new();
  if (role == MOAT_ROLE_SERVER) {
    /* A fresh ticket key per context (RFC 8446 4.6.1 leaves the format to
     * the server). */
    uint8_t key[32];
    if (crypto_random(key, sizeof(key)) &&
        crypto_random(ctx->ticket_key_id, sizeof(ctx->ticket_key_id))) {
      ctx->ticket_aead = aead_new(aead_get(AEAD_AES_256_GCM), key, true);
      ctx->ticket_aead_open = aead_new(aead_get(AEAD_AES_256_GCM), key, false);
    }
    moat_wipe(key, sizeof(key));
    if (ctx->ticket_aead == NULL || ctx->ticket_aead_open == NULL) {
      moat_context_free(ctx);
      return NULL;
    }
  }
  if (ctx->store == NULL || ctx->key_cache == NULL || ctx->kex_pool == NULL) {
    moat_context_free(ctx);
    return NULL;
  }
  return ctx;
}

moat_context *moat_context_new_default(moat_purpose purpose) {
  moat_role role =
      purpose == MOAT_PURPOSE_SERVER_AUTH ? MOAT_ROLE_CLIENT : MOAT_ROLE_SERVER;
  moat_context *ctx = moat_context_new(role);
  if (ctx != NULL && role == MOAT_ROLE_CLIENT) {
    /* A missing system store leaves the context empty: verification then
     * fails with a clear "unable to get local issuer" rather than here. */
    (void)moat_context_load_default_verify_paths(ctx);
  }
  return ctx;
}

moat_context *context_ref(moat_context *ctx) {
  atomic_fetch_add(&ctx->refs, 1);
  return ctx;
}

void moat_context_free(moat_context *ctx) {
  if (ctx == NULL || atomic_fetch_sub(&ctx->refs, 1) != 1) {
    return;
  }
  for (size_t i = 0; i < ctx->chain_num; i++) {
    moat_free(ctx->chain_der[i]);
  }
  privkey_free(ctx->key);
  x509_store_free(ctx->store);
  pubkey_cache_free(ctx->key_cache);
  kex_pool_free(ctx->kex_pool);
  if (ctx->keylog_file != NULL) {
    fclose(ctx->keylog_file);
  }
  pthread_mutex_destroy(&ctx->keylog_lock);
  aead_free(ctx->ticket_aead);
  aead_free(ctx->ticket_aead_open);
  pthread_mutex_destroy(&ctx->ticket_lock);
  moat_free_wipe(ctx, sizeof(*ctx));
}

moat_role moat_context_role(const moat_context *ctx) {
  return ctx->role;
}

const char *moat_context_error_detail(const moat_context *ctx) {
  return ctx->detail;
}

static moat_err ctx_fail(moat_context *ctx, moat_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static moat_err ctx_fail(moat_context *ctx, moat_err err, const char *fmt,
                         ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->detail, sizeof(ctx->detail), fmt, ap);
  va_end(ap);
  return err;
}

bool ctx_random(const moat_context *ctx, uint8_t *out, size_t len) {
  return ctx->rng(ctx->rng_arg, out, len);
}

int64_t ctx_now(const moat_context *ctx) {
  return ctx->clock(ctx->clock_arg);
}

/* Reads a whole file; the failure is explained in ctx->detail. */
static moat_err read_file(moat_context *ctx, const char *what, const char *path,
                          uint8_t **out, size_t *out_len) {
  char detail[200] = "";
  moat_err err = x509_read_file(path, out, out_len, detail, sizeof(detail));
  if (err != MOAT_OK) {
    return ctx_fail(ctx, err, "%s file: %s", what, detail);
  }
  return MOAT_OK;
}

static void clear_chain(moat_context *ctx) {
  for (size_t i = 0; i < ctx->chain_num; i++) {
    moat_free(ctx->chain_der[i]);
    ctx->chain_der[i] = NULL;
  }
  ctx->chain_num = 0;
}

/* Collects CERTIFICATE blocks from PEM text into the context's chain. */
static moat_err parse_chain(moat_context *ctx, const uint8_t *pem, size_t len,
                            const char *where) {
  cursor text = cur_make(pem, len);
  clear_chain(ctx);
  for (;;) {
    char label[64];
    uint8_t *der;
    size_t der_len;
    char detail[160];
    moat_err err = pem_next(&text, label, sizeof(label), &der, &der_len, detail,
                            sizeof(detail));
    if (err != MOAT_OK) {
      clear_chain(ctx);
      return ctx_fail(ctx, err, "%s: %s", where, detail);
    }
    if (der == NULL) {
      break;
    }
    if (strcmp(label, "CERTIFICATE") != 0 &&
        strcmp(label, "TRUSTED CERTIFICATE") != 0) {
      moat_free_wipe(der, der_len);
      continue;
    }
    if (ctx->chain_num == TLS_MAX_CHAIN) {
      moat_free(der);
      clear_chain(ctx);
      return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                      "%s: more than %d certificates in the chain", where,
                      TLS_MAX_CHAIN);
    }
    ctx->chain_der[ctx->chain_num] = der;
    ctx->chain_len[ctx->chain_num] = der_len;
    ctx->chain_num++;
  }
  if (ctx->chain_num == 0) {
    return ctx_fail(ctx, MOAT_ERR_NO_CERTIFICATE,
                    "%s: no CERTIFICATE block found", where);
  }
  return MOAT_OK;
}

static moat_err install_key(moat_context *ctx, const uint8_t *key,
                            size_t key_len, const char *password,
                            const char *where) {
  char detail[160] = "";
  privkey *pk = NULL;
  moat_err err = privkey_load(key, key_len, password, ctx->password_cb,
                              ctx->password_arg, &pk, detail, sizeof(detail));
  if (err != MOAT_OK) {
    return ctx_fail(ctx, err, "%s: %s", where, detail);
  }
  cursor spki;
  pubkey *pub = NULL;
  if (!x509_cert_spki(ctx->chain_der[0], ctx->chain_len[0], &spki) ||
      pubkey_from_spki(cur_data(&spki), cur_len(&spki), &pub, detail,
                       sizeof(detail)) != MOAT_OK) {
    privkey_free(pk);
    return ctx_fail(ctx, MOAT_ERR_BAD_CERTIFICATE,
                    "the certificate's public key cannot be used: %s", detail);
  }
  bool match = privkey_matches(pk, pub);
  pubkey_free(pub);
  if (!match) {
    privkey_free(pk);
    return ctx_fail(ctx, MOAT_ERR_KEY_MISMATCH,
                    "%s: the private key does not match the certificate",
                    where);
  }
  privkey_free(ctx->key);
  ctx->key = pk;
  ctx->detail[0] = '\0';
  return MOAT_OK;
}

moat_err moat_context_load_cert_chain(moat_context *ctx, const char *certfile,
                                      const char *keyfile,
                                      const char *password) {
  if (ctx == NULL || certfile == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  uint8_t *cert = NULL, *key = NULL;
  size_t cert_len = 0, key_len = 0;
  TRY(read_file(ctx, "certificate", certfile, &cert, &cert_len));
  moat_err err = parse_chain(ctx, cert, cert_len, certfile);
  if (err == MOAT_OK) {
    if (keyfile != NULL) {
      err = read_file(ctx, "key", keyfile, &key, &key_len);
      if (err == MOAT_OK) {
        err = install_key(ctx, key, key_len, password, keyfile);
      }
    } else {
      err = install_key(ctx, cert, cert_len, password, certfile);
    }
  }
  if (err != MOAT_OK) {
    clear_chain(ctx);
  }
  moat_free_wipe(cert, cert_len);
  if (key != NULL) {
    moat_free_wipe(key, key_len);
  }
  return err;
}

moat_err moat_context_load_cert_chain_mem(moat_context *ctx,
                                          const uint8_t *cert_pem,
                                          size_t cert_pem_len,
                                          const uint8_t *key, size_t key_len,
                                          const char *password) {
  if (ctx == NULL || cert_pem == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  TRY(parse_chain(ctx, cert_pem, cert_pem_len, "certificate data"));
  moat_err err = key != NULL
                     ? install_key(ctx, key, key_len, password, "key data")
                     : install_key(ctx, cert_pem, cert_pem_len, password,
                                   "certificate data");
  if (err != MOAT_OK) {
    clear_chain(ctx);
  }
  return err;
}

void moat_context_set_password_cb(moat_context *ctx, moat_password_fn cb,
                                  void *arg) {
  ctx->password_cb = cb;
  ctx->password_arg = arg;
}

moat_err moat_context_load_verify_locations(moat_context *ctx,
                                            const char *cafile,
                                            const char *capath,
                                            const uint8_t *cadata,
                                            size_t cadata_len) {
  if (cafile == NULL && capath == NULL && cadata == NULL) {
    return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                    "cafile, capath and cadata are all missing");
  }
  char detail[200] = "";
  moat_err err = MOAT_OK;
  if (cafile != NULL) {
    err = x509_store_add_file(ctx->store, cafile, detail, sizeof(detail));
  }
  if (err == MOAT_OK && capath != NULL) {
    err = x509_store_add_dir(ctx->store, capath, detail, sizeof(detail));
  }
  if (err == MOAT_OK && cadata != NULL) {
    err = x509_store_add_mem(ctx->store, cadata, cadata_len, detail,
                             sizeof(detail));
  }
  if (err != MOAT_OK) {
    return ctx_fail(ctx, err, "%s", detail);
  }
  return MOAT_OK;
}

moat_err moat_context_load_default_verify_paths(moat_context *ctx) {
  char detail[200] = "";
  moat_err err = x509_store_add_default(ctx->store, detail, sizeof(detail));
  if (err != MOAT_OK) {
    return ctx_fail(ctx, err, "%s", detail);
  }
  return MOAT_OK;
}

size_t moat_context_num_trusted(const moat_context *ctx) {
  return x509_store_num_certs(ctx->store);
}

moat_err moat_context_trusted_cert_der(const moat_context *ctx, size_t index,
                                       const uint8_t **out_der,
                                       size_t *out_len) {
  if (!x509_store_cert_der(ctx->store, index, out_der, out_len)) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  return MOAT_OK;
}

size_t moat_context_num_crls(const moat_context *ctx) {
  return x509_store_num_crls(ctx->store);
}

void moat_context_set_verify_mode(moat_context *ctx, moat_verify_mode mode) {
  ctx->verify_mode = mode;
}
moat_verify_mode moat_context_verify_mode(const moat_context *ctx) {
  return ctx->verify_mode;
}
void moat_context_set_check_hostname(moat_context *ctx, bool on) {
  ctx->check_hostname = on;
}
bool moat_context_check_hostname(const moat_context *ctx) {
  return ctx->check_hostname;
}
void moat_context_set_hostname_checks_common_name(moat_context *ctx, bool on) {
  ctx->hostname_checks_common_name = on;
}
void moat_context_set_verify_flags(moat_context *ctx, uint32_t flags) {
  ctx->verify_flags = flags;
}
uint32_t moat_context_verify_flags(const moat_context *ctx) {
  return ctx->verify_flags;
}

static moat_err check_version(moat_context *ctx, int version) {
  if (version == 0 || version == MOAT_TLS1_3) {
    return MOAT_OK;
  }
  if (version == MOAT_TLS1_2) {
    return ctx_fail(ctx, MOAT_ERR_UNSUPPORTED,
                    "TLS 1.2 is not implemented in this version of moat");
  }
  return ctx_fail(ctx, MOAT_ERR_REFUSED_PROTOCOL,
                  "protocol version 0x%04x is refused: moat speaks TLS 1.3 "
                  "(SSL 3.0, TLS 1.0 and TLS 1.1 are refused on purpose)",
                  (unsigned)version);
}

moat_err moat_context_set_min_version(moat_context *ctx, int version) {
  TRY(check_version(ctx, version));
  ctx->min_version = version ? version : MOAT_TLS1_3;
  return MOAT_OK;
}

moat_err moat_context_set_max_version(moat_context *ctx, int version) {
  TRY(check_version(ctx, version));
  ctx->max_version = version ? version : MOAT_TLS1_3;
  return MOAT_OK;
}

/* Parses a colon- or comma-separated list of names into out[] with
 * lookup, dropping repeats.  Nothing is changed on failure. */
static moat_err parse_names(moat_context *ctx, const char *list,
                            const char *what,
                            const void *(*lookup)(const char *name),
                            const void **out, size_t max, size_t *out_num) {
  if (list == NULL) {
    return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT, "no %s list given", what);
  }
  size_t n = 0;
  char item[64];
  for (const char *p = list; *p != '\0';) {
    size_t len = strcspn(p, ":,");
    if (len == 0 || len >= sizeof(item)) {
      return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                      "empty or overlong %s name in \"%s\"", what, list);
    }
    memcpy(item, p, len);
    item[len] = '\0';
    const void *found = lookup(item);
    if (found == NULL) {
      return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                      "unknown or unsupported %s \"%s\"", what, item);
    }
    bool repeat = false;
    for (size_t k = 0; k < n; k++) {
      repeat |= out[k] == found;
    }
    if (!repeat) {
      if (n == max) {
        return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                        "more than %zu %s names in \"%s\"", max, what, list);
      }
      out[n++] = found;
    }
    p += len;
    if (*p != '\0') {
      p++;
    }
  }
  if (n == 0) {
    return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT, "no %s given", what);
  }
  *out_num = n;
  return MOAT_OK;
}

static const void *lookup_suite(const char *name) {
  return suite_by_name(name);
}
static const void *lookup_group(const char *name) {
  return kex_by_name(name);
}
static const void *lookup_sigalg(const char *name) {
  return sig_scheme_by_name(name);
}

moat_err moat_context_set_ciphersuites(moat_context *ctx, const char *list) {
  const void *items[TLS_MAX_SUITES];
  size_t n = 0;
  TRY(parse_names(ctx, list, "cipher suite", lookup_suite, items,
                  TLS_MAX_SUITES, &n));
  for (size_t i = 0; i < n; i++) {
    ctx->suites[i] = items[i];
  }
  ctx->num_suites = n;
  return MOAT_OK;
}

moat_err moat_context_set_groups(moat_context *ctx, const char *list) {
  const void *items[TLS_MAX_GROUPS];
  size_t n = 0;
  TRY(parse_names(ctx, list, "group", lookup_group, items, TLS_MAX_GROUPS, &n));
  for (size_t i = 0; i < n; i++) {
    ctx->groups[i] = items[i];
  }
  ctx->num_groups = n;
  return MOAT_OK;
}

moat_err moat_context_set_sigalgs(moat_context *ctx, const char *list) {
  const void *items[TLS_MAX_SIGALGS];
  size_t n = 0;
  TRY(parse_names(ctx, list, "signature scheme", lookup_sigalg, items,
                  TLS_MAX_SIGALGS, &n));
  for (size_t i = 0; i < n; i++) {
    ctx->sigalgs[i] = items[i];
  }
  ctx->num_sigalgs = n;
  return MOAT_OK;
}

moat_err moat_context_set_alpn_protocols(moat_context *ctx,
                                         const char *const *protos,
                                         size_t num_protos) {
  uint8_t wire[TLS_MAX_ALPN_WIRE];
  builder b;
  bld_init_fixed(&b, wire, sizeof(wire));
  for (size_t i = 0; i < num_protos; i++) {
    size_t n = protos[i] ? strlen(protos[i]) : 0;
    /* RFC 7301 3.1: each name is 1..255 bytes. */
    if (n == 0 || n > 255) {
      return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                      "ALPN protocol %zu must be 1 to 255 bytes long", i);
    }
    bld_u8(&b, (uint8_t)n);
    bld_bytes(&b, (const uint8_t *)protos[i], n);
  }
  if (!bld_finish(&b)) {
    return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                    "the ALPN list is longer than %d bytes", TLS_MAX_ALPN_WIRE);
  }
  memcpy(ctx->alpn_wire, wire, bld_len(&b));
  ctx->alpn_wire_len = bld_len(&b);
  return MOAT_OK;
}

void moat_context_set_keylog_cb(moat_context *ctx, moat_keylog_fn cb,
                                void *arg) {
  ctx->keylog_cb = cb;
  ctx->keylog_arg = arg;
}

moat_err moat_context_set_keylog_file(moat_context *ctx, const char *path) {
  if (ctx->keylog_file != NULL) {
    fclose(ctx->keylog_file);
    ctx->keylog_file = NULL;
  }
  if (path == NULL) {
    return MOAT_OK;
  }
  ctx->keylog_file = fopen(path, "a");
  if (ctx->keylog_file == NULL) {
    return ctx_fail(ctx, MOAT_ERR_FILE_ERROR, "cannot open key log %s: %s",
                    path, strerror(errno));
  }
  return MOAT_OK;
}

void moat_context_set_sni_cb(moat_context *ctx, moat_sni_fn cb, void *arg) {
  ctx->sni_cb = cb;
  ctx->sni_arg = arg;
}

void moat_context_set_num_tickets(moat_context *ctx, size_t n) {
  /* RFC 8446 4.6.1: each ticket of a connection has its own nonce; ours
   * is one byte, so at most 256 tickets. */
  ctx->num_tickets = n > TLS_MAX_TICKETS ? TLS_MAX_TICKETS : n;
}

void moat_context_set_clock(moat_context *ctx, moat_clock_fn fn, void *arg) {
  ctx->clock = fn ? fn : moat_default_clock;
  ctx->clock_arg = arg;
}

void moat_context_set_rng(moat_context *ctx, moat_rng_fn fn, void *arg) {
  ctx->rng = fn ? fn : default_rng;
  ctx->rng_arg = arg;
}
