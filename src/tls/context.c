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

/* ---- the shared part and the snapshots ----------------------------------*/

static void shared_free(ctx_shared *sh) {
  if (sh == NULL || atomic_fetch_sub(&sh->refs, 1) != 1) {
    return;
  }
  pubkey_cache_free(sh->key_cache);
  kex_pool_free(sh->kex_pool);
  sess_cache_free(sh->sess_cache);
  aead_free(sh->ticket_aead);
  aead_free(sh->ticket_aead_open);
  pthread_mutex_destroy(&sh->ticket_lock);
  moat_free_wipe(sh, sizeof(*sh));
}

static ctx_shared *shared_new(moat_role role) {
  ctx_shared *sh = moat_calloc(1, sizeof(*sh));
  if (sh == NULL) {
    return NULL;
  }
  atomic_init(&sh->refs, 1);
  pthread_mutex_init(&sh->ticket_lock, NULL);
  sh->key_cache = pubkey_cache_new();
  sh->kex_pool = kex_pool_new();
  sh->sess_cache =
      sess_cache_new(role == MOAT_ROLE_SERVER ? SESS_CACHE_DEFAULT : 0);
  if (sh->key_cache == NULL || sh->kex_pool == NULL || sh->sess_cache == NULL) {
    shared_free(sh);
    return NULL;
  }
  if (role == MOAT_ROLE_SERVER) {
    /* A fresh ticket key per context (RFC 8446 4.6.1 leaves the format to
     * the server). */
    uint8_t key[32];
    if (crypto_random(key, sizeof(key)) &&
        crypto_random(sh->ticket_key_id, sizeof(sh->ticket_key_id))) {
      sh->ticket_aead = aead_new(aead_get(AEAD_AES_256_GCM), key, true);
      sh->ticket_aead_open = aead_new(aead_get(AEAD_AES_256_GCM), key, false);
    }
    moat_wipe(key, sizeof(key));
    if (sh->ticket_aead == NULL || sh->ticket_aead_open == NULL) {
      shared_free(sh);
      return NULL;
    }
  }
  return sh;
}

static void keylog_sink_free(keylog_sink *k) {
  if (k == NULL || atomic_fetch_sub(&k->refs, 1) != 1) {
    return;
  }
  fclose(k->file);
  pthread_mutex_destroy(&k->lock);
  moat_free(k);
}

static void identity_clear(tls_identity *id) {
  for (size_t i = 0; i < id->chain_num; i++) {
    moat_free(id->chain_der[i]);
    id->chain_der[i] = NULL;
  }
  id->chain_num = 0;
  privkey_free(id->key);
  id->key = NULL;
  moat_free(id->ocsp_der);
  id->ocsp_der = NULL;
  id->ocsp_len = 0;
}

static void policy_clear_chains(tls_policy *p) {
  for (size_t i = 0; i < p->num_ids; i++) {
    identity_clear(&p->ids[i]);
  }
  p->num_ids = 0;
}

/* A copy of src's chain and another reference to its key into dst. */
static bool identity_copy(tls_identity *dst, const tls_identity *src) {
  *dst = *src;
  privkey_ref(dst->key);
  if (src->ocsp_der != NULL &&
      (dst->ocsp_der = moat_memdup(src->ocsp_der, src->ocsp_len)) == NULL) {
    dst->chain_num = 0; /* nothing copied yet */
    identity_clear(dst);
    return false;
  }
  for (size_t i = 0; i < src->chain_num; i++) {
    dst->chain_der[i] = moat_memdup(src->chain_der[i], src->chain_len[i]);
    if (dst->chain_der[i] == NULL) {
      dst->chain_num = i;
      identity_clear(dst);
      return false;
    }
  }
  return true;
}

/* The slot a key takes: one per family, every EC curve in one (OpenSSL's
 * SSL_PKEY_ECC), so a second EC chain replaces the first. */
static int key_family(key_type kt) {
  switch (kt) {
  case KEY_EC_P256:
  case KEY_EC_P384:
  case KEY_EC_P521:
    return KEY_EC_P256;
  default:
    return (int)kt;
  }
}

void policy_free(const tls_policy *pol) {
  tls_policy *p = (tls_policy *)pol; /* the last reference owns it */
  if (p == NULL || atomic_fetch_sub(&p->refs, 1) != 1) {
    return;
  }
  policy_clear_chains(p);
  cert_comp_cache_free(p->cert_comp_cache);
  x509_store_free(p->store);
  keylog_sink_free(p->keylog);
  shared_free(p->shared);
  moat_free_wipe(p, sizeof(*p));
}

/* A private copy of p (fields, and a reference to each shared object) for
 * a setter to change before it is published; NULL when out of memory. */
static tls_policy *policy_copy(const tls_policy *p) {
  tls_policy *n = moat_malloc(sizeof(*n));
  if (n == NULL) {
    return NULL;
  }
  memcpy(n, p, sizeof(*n));
  atomic_init(&n->refs, 1);
  atomic_fetch_add(&n->shared->refs, 1);
  x509_store_ref(n->store);
  if (n->keylog != NULL) {
    atomic_fetch_add(&n->keylog->refs, 1);
  }
  /* The edit may change the chains: the copy compresses afresh. */
  n->cert_comp_cache = cert_comp_cache_new();
  if (n->cert_comp_cache == NULL) {
    n->num_ids = 0;
    policy_free(n);
    return NULL;
  }
  for (size_t i = 0; i < p->num_ids; i++) {
    if (!identity_copy(&n->ids[i], &p->ids[i])) {
      n->num_ids = i;
      policy_free(n);
      return NULL;
    }
  }
  return n;
}

static moat_err ctx_fail(moat_context *ctx, moat_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A setter's way in: takes ctx->lock and returns a private copy of the
 * current snapshot to change.  NULL (lock released, detail set) when out
 * of memory.  Every edit ends in policy_commit or policy_abort. */
tls_policy *policy_edit(moat_context *ctx) {
  pthread_mutex_lock(&ctx->lock);
  ctx->detail[0] = '\0'; /* a new call: the last one's detail is over */
  tls_policy *p = policy_copy(ctx->pol);
  if (p == NULL) {
    (void)ctx_fail(ctx, MOAT_ERR_NO_MEMORY,
                   "out of memory for a copy of the context's settings");
    pthread_mutex_unlock(&ctx->lock);
  }
  return p;
}

/* Publishes p as the context's current snapshot and releases the lock.
 * Connections made earlier keep the snapshot they hold. */
void policy_commit(moat_context *ctx, tls_policy *p) {
  tls_policy *old = ctx->pol;
  ctx->pol = p;
  pthread_mutex_unlock(&ctx->lock);
  policy_free(old);
}

/* Drops an edit (the setter failed; its detail is set) and releases the
 * lock; returns err. */
static moat_err policy_abort(moat_context *ctx, tls_policy *p, moat_err err) {
  pthread_mutex_unlock(&ctx->lock);
  policy_free(p);
  return err;
}

const tls_policy *context_policy(const moat_context *ctx) {
  moat_context *c = (moat_context *)ctx; /* the lock is not the policy */
  pthread_mutex_lock(&c->lock);
  tls_policy *p = c->pol;
  atomic_fetch_add(&p->refs, 1);
  pthread_mutex_unlock(&c->lock);
  return p;
}

/* The first snapshot: moat's defaults. */
static tls_policy *policy_new(moat_role role, ctx_shared *sh) {
  tls_policy *p = moat_calloc(1, sizeof(*p));
  if (p == NULL) {
    return NULL;
  }
  atomic_init(&p->refs, 1);
  atomic_fetch_add(&sh->refs, 1);
  p->shared = sh;
  p->key_cache = sh->key_cache;
  p->kex_pool = sh->kex_pool;
  p->role = role;
  p->min_version = MOAT_TLS1_2;
  p->max_version = MOAT_TLS1_3;
  p->tickets = true;
  p->sess_cache = sh->sess_cache;
  size_t n;
  const tls_suite *const *suites = suite_all(&n);
  for (size_t i = 0; i < n && i < TLS_MAX_SUITES; i++) {
    p->suites[p->num_suites++] = suites[i];
  }
  const kex_alg *const *groups = kex_all(&n);
  for (size_t i = 0; i < n && i < TLS_MAX_GROUPS; i++) {
    p->groups[p->num_groups++] = groups[i];
  }
  const sig_scheme *const *schemes = sig_scheme_all(&n);
  for (size_t i = 0; i < n && i < TLS_MAX_SIGALGS; i++) {
    p->sigalgs[p->num_sigalgs++] = schemes[i];
    p->verify_sigalgs[p->num_verify_sigalgs++] = schemes[i];
  }
  if (role == MOAT_ROLE_CLIENT) {
    p->verify_mode = MOAT_VERIFY_REQUIRED;
    p->check_hostname = true;
  } else {
    p->verify_mode = MOAT_VERIFY_NONE;
  }
  p->verify_flags = MOAT_VERIFY_X509_TRUSTED_FIRST;
  p->num_tickets = 2;
  p->max_fragment = TLS_MAX_PLAINTEXT;
  p->clock = moat_default_clock;
  p->rng = default_rng;
  p->ticket_lifetime = 7200;
  cert_comp_defaults(p);
  p->cert_comp_cache = cert_comp_cache_new();
  p->store = x509_store_new();
  if (p->store == NULL || p->cert_comp_cache == NULL) {
    policy_free(p);
    return NULL;
  }
  return p;
}

/* ---- the context --------------------------------------------------------*/

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
  pthread_mutex_init(&ctx->lock, NULL);
  ctx->shared = shared_new(role);
  ctx->pol = ctx->shared != NULL ? policy_new(role, ctx->shared) : NULL;
  if (ctx->pol == NULL) {
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
  policy_free(ctx->pol);
  shared_free(ctx->shared);
  pthread_mutex_destroy(&ctx->lock);
  moat_free_wipe(ctx, sizeof(*ctx));
}

moat_role moat_context_role(const moat_context *ctx) {
  return ctx->role;
}

const char *moat_context_error_detail(const moat_context *ctx) {
  return ctx->detail;
}

/* The start of a configuration call that does not go through
 * policy_edit: the previous call's detail no longer applies. */
static void ctx_begin(moat_context *ctx) {
  pthread_mutex_lock(&ctx->lock);
  ctx->detail[0] = '\0';
  pthread_mutex_unlock(&ctx->lock);
}

/* A configuration call refused for its arguments, with the reason. */
static moat_err ctx_refuse(moat_context *ctx, const char *why) {
  pthread_mutex_lock(&ctx->lock);
  moat_err err = ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT, "%s", why);
  pthread_mutex_unlock(&ctx->lock);
  return err;
}

/* Explains a failed setter in ctx->detail; called with ctx->lock held. */
static moat_err ctx_fail(moat_context *ctx, moat_err err, const char *fmt,
                         ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->detail, sizeof(ctx->detail), fmt, ap);
  va_end(ap);
  return err;
}

bool ctx_random(const tls_policy *ctx, uint8_t *out, size_t len) {
  return ctx->rng(ctx->rng_arg, out, len);
}

void ctx_key_names(const tls_policy *ctx, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < ctx->num_ids && n < cap; i++) {
    int w = snprintf(buf + n, cap - n, "%s%s",
                     i == 0                  ? ""
                     : i + 1 == ctx->num_ids ? " and "
                                             : ", ",
                     key_type_name(privkey_type(ctx->ids[i].key)));
    n += w > 0 ? (size_t)w : 0;
  }
}

int64_t ctx_now(const tls_policy *ctx) {
  return ctx->clock(ctx->clock_arg);
}

/* ---- our certificate chain and key ---------------------------------------*/

/* A chain and key being loaded.  Loading runs outside the context's lock
 * (a password callback may take its time, or call into moat); the result
 * is installed in one step, and a failed load changes nothing. */
typedef struct loaded_id {
  uint8_t *der[TLS_MAX_CHAIN];
  size_t len[TLS_MAX_CHAIN];
  size_t num;
  privkey *key;
  char detail[MOAT_DETAIL_MAX];
} loaded_id;

static moat_err id_fail(loaded_id *id, moat_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static moat_err id_fail(loaded_id *id, moat_err err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(id->detail, sizeof(id->detail), fmt, ap);
  va_end(ap);
  return err;
}

static void id_clear(loaded_id *id) {
  for (size_t i = 0; i < id->num; i++) {
    moat_free(id->der[i]);
  }
  id->num = 0;
  privkey_free(id->key);
  id->key = NULL;
}

/* Reads a whole file; the failure is explained in id->detail. */
static moat_err read_file(loaded_id *id, const char *what, const char *path,
                          uint8_t **out, size_t *out_len) {
  char detail[200] = "";
  moat_err err = x509_read_file(path, out, out_len, detail, sizeof(detail));
  if (err != MOAT_OK) {
    return id_fail(id, err, "%s file: %s", what, detail);
  }
  return MOAT_OK;
}

/* Collects CERTIFICATE blocks from PEM text into id's chain. */
static moat_err parse_chain(loaded_id *id, const uint8_t *pem, size_t len,
                            const char *where) {
  cursor text = cur_make(pem, len);
  for (;;) {
    char label[64];
    uint8_t *der;
    size_t der_len;
    char detail[160];
    moat_err err = pem_next(&text, label, sizeof(label), &der, &der_len, detail,
                            sizeof(detail));
    if (err != MOAT_OK) {
      return id_fail(id, err, "%s: %s", where, detail);
    }
    if (der == NULL) {
      break;
    }
    if (strcmp(label, "CERTIFICATE") != 0 &&
        strcmp(label, "TRUSTED CERTIFICATE") != 0) {
      moat_free_wipe(der, der_len);
      continue;
    }
    if (id->num == TLS_MAX_CHAIN) {
      moat_free(der);
      return id_fail(id, MOAT_ERR_INVALID_ARGUMENT,
                     "%s: more than %d certificates in the chain", where,
                     TLS_MAX_CHAIN);
    }
    id->der[id->num] = der;
    id->len[id->num] = der_len;
    id->num++;
  }
  if (id->num == 0) {
    return id_fail(id, MOAT_ERR_NO_CERTIFICATE,
                   "%s: no CERTIFICATE block found", where);
  }
  return MOAT_OK;
}

static moat_err load_key(moat_context *ctx, loaded_id *id, const uint8_t *key,
                         size_t key_len, const char *password,
                         const char *where) {
  pthread_mutex_lock(&ctx->lock);
  moat_password_fn cb = ctx->password_cb;
  void *cb_arg = ctx->password_arg;
  pthread_mutex_unlock(&ctx->lock);
  char detail[160] = "";
  moat_err err = privkey_load(key, key_len, password, cb, cb_arg, &id->key,
                              detail, sizeof(detail));
  if (err != MOAT_OK) {
    return id_fail(id, err, "%s: %s", where, detail);
  }
  cursor spki;
  pubkey *pub = NULL;
  if (!x509_cert_spki(id->der[0], id->len[0], &spki) ||
      pubkey_from_spki(cur_data(&spki), cur_len(&spki), &pub, detail,
                       sizeof(detail)) != MOAT_OK) {
    return id_fail(id, MOAT_ERR_BAD_CERTIFICATE,
                   "the certificate's public key cannot be used: %s", detail);
  }
  bool match = privkey_matches(id->key, pub);
  pubkey_free(pub);
  if (!match) {
    return id_fail(id, MOAT_ERR_KEY_MISMATCH,
                   "%s: the private key does not match the certificate", where);
  }
  return MOAT_OK;
}

/* Installs a loaded chain and key in a new snapshot, or explains why the
 * load failed; id is emptied either way. */
static moat_err install_id(moat_context *ctx, loaded_id *id, moat_err err) {
  if (err != MOAT_OK) {
    id_clear(id);
    pthread_mutex_lock(&ctx->lock);
    (void)ctx_fail(ctx, err, "%s", id->detail);
    pthread_mutex_unlock(&ctx->lock);
    return err;
  }
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    id_clear(id);
    return MOAT_ERR_NO_MEMORY;
  }
  /* The chain of the same key family is replaced; another family's
   * stays beside it. */
  size_t slot = 0;
  while (slot < p->num_ids && key_family(privkey_type(p->ids[slot].key)) !=
                                  key_family(privkey_type(id->key))) {
    slot++;
  }
  if (slot == TLS_MAX_IDS) { /* not reached: one slot per family */
    id_clear(id);
    return policy_abort(ctx, p,
                        ctx_fail(ctx, MOAT_ERR_INTERNAL, "no chain slot"));
  }
  if (slot == p->num_ids) {
    p->num_ids++;
  } else {
    identity_clear(&p->ids[slot]);
  }
  tls_identity *dst = &p->ids[slot];
  for (size_t i = 0; i < id->num; i++) {
    dst->chain_der[i] = id->der[i];
    dst->chain_len[i] = id->len[i];
  }
  dst->chain_num = id->num;
  dst->key = id->key;
  id->num = 0;
  id->key = NULL;
  ctx->detail[0] = '\0';
  policy_commit(ctx, p);
  return MOAT_OK;
}

moat_err moat_context_load_cert_chain(moat_context *ctx, const char *certfile,
                                      const char *keyfile,
                                      const char *password) {
  if (ctx == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  ctx_begin(ctx);
  if (certfile == NULL) {
    return ctx_refuse(ctx, "no certificate file given");
  }
  loaded_id id = {.num = 0};
  uint8_t *cert = NULL, *key = NULL;
  size_t cert_len = 0, key_len = 0;
  moat_err err = read_file(&id, "certificate", certfile, &cert, &cert_len);
  if (err == MOAT_OK) {
    err = parse_chain(&id, cert, cert_len, certfile);
  }
  if (err == MOAT_OK) {
    if (keyfile != NULL) {
      err = read_file(&id, "key", keyfile, &key, &key_len);
      if (err == MOAT_OK) {
        err = load_key(ctx, &id, key, key_len, password, keyfile);
      }
    } else {
      err = load_key(ctx, &id, cert, cert_len, password, certfile);
    }
  }
  if (cert != NULL) {
    moat_free_wipe(cert, cert_len);
  }
  if (key != NULL) {
    moat_free_wipe(key, key_len);
  }
  return install_id(ctx, &id, err);
}

moat_err moat_context_load_cert_chain_mem(moat_context *ctx,
                                          const uint8_t *cert_pem,
                                          size_t cert_pem_len,
                                          const uint8_t *key, size_t key_len,
                                          const char *password) {
  if (ctx == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  ctx_begin(ctx);
  if (cert_pem == NULL) {
    return ctx_refuse(ctx, "no certificate data given");
  }
  loaded_id id = {.num = 0};
  moat_err err = parse_chain(&id, cert_pem, cert_pem_len, "certificate data");
  if (err == MOAT_OK) {
    err = key != NULL ? load_key(ctx, &id, key, key_len, password, "key data")
                      : load_key(ctx, &id, cert_pem, cert_pem_len, password,
                                 "certificate data");
  }
  return install_id(ctx, &id, err);
}

void moat_context_set_password_cb(moat_context *ctx, moat_password_fn cb,
                                  void *arg) {
  pthread_mutex_lock(&ctx->lock);
  ctx->password_cb = cb;
  ctx->password_arg = arg;
  pthread_mutex_unlock(&ctx->lock);
}

/* ---- trust ----------------------------------------------------------------*/

typedef enum trust_source { TRUST_GIVEN, TRUST_DEFAULT } trust_source;

/* Adds to a copy of the store (connections keep reading the one they
 * have).  What was added before a failure stays, as it always has: the
 * store only grows. */
static moat_err add_trust(moat_context *ctx, trust_source src,
                          const char *cafile, const char *capath,
                          const uint8_t *cadata, size_t cadata_len) {
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  x509_store *store = x509_store_dup(p->store);
  if (store == NULL) {
    return policy_abort(
        ctx, p,
        ctx_fail(ctx, MOAT_ERR_NO_MEMORY, "out of memory for a trust store"));
  }
  char detail[200] = "";
  moat_err err = MOAT_OK;
  if (src == TRUST_DEFAULT) {
    err = x509_store_add_default(store, detail, sizeof(detail));
  }
  if (cafile != NULL) {
    err = x509_store_add_file(store, cafile, detail, sizeof(detail));
  }
  if (err == MOAT_OK && capath != NULL) {
    err = x509_store_add_dir(store, capath, detail, sizeof(detail));
  }
  if (err == MOAT_OK && cadata != NULL) {
    err = x509_store_add_mem(store, cadata, cadata_len, detail, sizeof(detail));
  }
  if (err != MOAT_OK) {
    (void)ctx_fail(ctx, err, "%s", detail);
  }
  x509_store_free(p->store);
  p->store = store;
  policy_commit(ctx, p);
  return err;
}

moat_err moat_context_load_verify_locations(moat_context *ctx,
                                            const char *cafile,
                                            const char *capath,
                                            const uint8_t *cadata,
                                            size_t cadata_len) {
  ctx_begin(ctx);
  if (cafile == NULL && capath == NULL && cadata == NULL) {
    pthread_mutex_lock(&ctx->lock);
    moat_err err = ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                            "cafile, capath and cadata are all missing");
    pthread_mutex_unlock(&ctx->lock);
    return err;
  }
  return add_trust(ctx, TRUST_GIVEN, cafile, capath, cadata, cadata_len);
}

moat_err moat_context_load_default_verify_paths(moat_context *ctx) {
  return add_trust(ctx, TRUST_DEFAULT, NULL, NULL, NULL, 0);
}

size_t moat_context_num_trusted(const moat_context *ctx) {
  const tls_policy *p = context_policy(ctx);
  size_t n = x509_store_num_certs(p->store);
  policy_free(p);
  return n;
}

moat_err moat_context_trusted_cert_der(const moat_context *ctx, size_t index,
                                       const uint8_t **out_der,
                                       size_t *out_len) {
  /* The bytes belong to a sealed bundle, which every later copy of the
   * store shares: they live as long as the context. */
  const tls_policy *p = context_policy(ctx);
  bool ok = x509_store_cert_der(p->store, index, out_der, out_len);
  policy_free(p);
  return ok ? MOAT_OK : MOAT_ERR_INVALID_ARGUMENT;
}

size_t moat_context_num_crls(const moat_context *ctx) {
  const tls_policy *p = context_policy(ctx);
  size_t n = x509_store_num_crls(p->store);
  policy_free(p);
  return n;
}

/* ---- plain settings -------------------------------------------------------
 * Each setter is policy_edit, a change, policy_commit; a void setter that
 * runs out of memory leaves the context as it was (the detail says so). */

void moat_context_set_verify_mode(moat_context *ctx, moat_verify_mode mode) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->verify_mode = mode;
    policy_commit(ctx, p);
  }
}
moat_verify_mode moat_context_verify_mode(const moat_context *ctx) {
  const tls_policy *p = context_policy(ctx);
  moat_verify_mode mode = p->verify_mode;
  policy_free(p);
  return mode;
}
void moat_context_set_check_hostname(moat_context *ctx, bool on) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->check_hostname = on;
    policy_commit(ctx, p);
  }
}
bool moat_context_check_hostname(const moat_context *ctx) {
  const tls_policy *p = context_policy(ctx);
  bool on = p->check_hostname;
  policy_free(p);
  return on;
}
void moat_context_set_hostname_checks_common_name(moat_context *ctx, bool on) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->hostname_checks_common_name = on;
    policy_commit(ctx, p);
  }
}
void moat_context_set_verify_flags(moat_context *ctx, uint32_t flags) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->verify_flags = flags;
    policy_commit(ctx, p);
  }
}
uint32_t moat_context_verify_flags(const moat_context *ctx) {
  const tls_policy *p = context_policy(ctx);
  uint32_t flags = p->verify_flags;
  policy_free(p);
  return flags;
}

static moat_err check_version(moat_context *ctx, int version) {
  if (version == 0 || version == MOAT_TLS1_3 || version == MOAT_TLS1_2) {
    return MOAT_OK;
  }
  return ctx_fail(ctx, MOAT_ERR_REFUSED_PROTOCOL,
                  "protocol version 0x%04x is refused: moat speaks TLS 1.2 "
                  "and 1.3 (SSL 3.0, TLS 1.0 and TLS 1.1 are refused on "
                  "purpose)",
                  (unsigned)version);
}

/* A bound of 0 means "none": TLS 1.2 below, TLS 1.3 above.  A minimum
 * above the maximum leaves no version: handshakes then fail with a
 * clear protocol_version. */
moat_err moat_context_set_min_version(moat_context *ctx, int version) {
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  moat_err err = check_version(ctx, version);
  if (err != MOAT_OK) {
    return policy_abort(ctx, p, err);
  }
  p->min_version = version ? version : MOAT_TLS1_2;
  policy_commit(ctx, p);
  return MOAT_OK;
}

moat_err moat_context_set_max_version(moat_context *ctx, int version) {
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  moat_err err = check_version(ctx, version);
  if (err != MOAT_OK) {
    return policy_abort(ctx, p, err);
  }
  p->max_version = version ? version : MOAT_TLS1_3;
  policy_commit(ctx, p);
  return MOAT_OK;
}

void moat_context_set_session_tickets(moat_context *ctx, bool on) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->tickets = on;
    policy_commit(ctx, p);
  }
}
void moat_context_set_session_cache_size(moat_context *ctx, size_t size) {
  sess_cache_set_size(ctx->shared->sess_cache, size);
}
void moat_context_set_require_ems(moat_context *ctx, bool on) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->require_ems = on;
    policy_commit(ctx, p);
  }
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
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  const void *items[TLS_MAX_SUITES];
  size_t n = 0;
  moat_err err = parse_names(ctx, list, "cipher suite", lookup_suite, items,
                             TLS_MAX_SUITES, &n);
  if (err != MOAT_OK) {
    return policy_abort(ctx, p, err);
  }
  for (size_t i = 0; i < n; i++) {
    p->suites[i] = items[i];
  }
  p->num_suites = n;
  policy_commit(ctx, p);
  return MOAT_OK;
}

moat_err moat_context_set_groups(moat_context *ctx, const char *list) {
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  const void *items[TLS_MAX_GROUPS];
  size_t n = 0;
  moat_err err =
      parse_names(ctx, list, "group", lookup_group, items, TLS_MAX_GROUPS, &n);
  if (err != MOAT_OK) {
    return policy_abort(ctx, p, err);
  }
  for (size_t i = 0; i < n; i++) {
    p->groups[i] = items[i];
  }
  p->num_groups = n;
  policy_commit(ctx, p);
  return MOAT_OK;
}

#define SIGALGS_SIGN 1
#define SIGALGS_VERIFY 2

/* The signature-scheme lists: `which` of what we sign with and what we
 * accept (and advertise). */
static moat_err set_sigalgs(moat_context *ctx, const char *list, int which) {
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  const void *items[TLS_MAX_SIGALGS];
  size_t n = 0;
  moat_err err = parse_names(ctx, list, "signature scheme", lookup_sigalg,
                             items, TLS_MAX_SIGALGS, &n);
  if (err != MOAT_OK) {
    return policy_abort(ctx, p, err);
  }
  /* A server signs with its own keys: a list with no scheme any of them
   * can make would fail every handshake, so it is refused now. */
  bool fits = (which & SIGALGS_SIGN) == 0 || p->role != MOAT_ROLE_SERVER ||
              p->num_ids == 0;
  for (size_t k = 0; !fits && k < p->num_ids; k++) {
    key_type kt = privkey_type(p->ids[k].key);
    for (size_t i = 0; i < n; i++) {
      fits |= ((const sig_scheme *)items[i])->key == kt;
    }
  }
  if (!fits) {
    char keys[64];
    ctx_key_names(p, keys, sizeof(keys));
    return policy_abort(
        ctx, p,
        ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                 "none of the signature schemes \"%s\" can be made with "
                 "the loaded %s key",
                 list, keys));
  }
  for (size_t i = 0; i < n; i++) {
    if (which & SIGALGS_SIGN) {
      p->sigalgs[i] = items[i];
    }
    if (which & SIGALGS_VERIFY) {
      p->verify_sigalgs[i] = items[i];
    }
  }
  if (which & SIGALGS_SIGN) {
    p->num_sigalgs = n;
  }
  if (which & SIGALGS_VERIFY) {
    p->num_verify_sigalgs = n;
  }
  policy_commit(ctx, p);
  return MOAT_OK;
}

moat_err moat_context_set_sigalgs(moat_context *ctx, const char *list) {
  return set_sigalgs(ctx, list, SIGALGS_SIGN | SIGALGS_VERIFY);
}

moat_err moat_context_set_signing_sigalgs(moat_context *ctx, const char *list) {
  return set_sigalgs(ctx, list, SIGALGS_SIGN);
}

moat_err moat_context_set_verify_sigalgs(moat_context *ctx, const char *list) {
  return set_sigalgs(ctx, list, SIGALGS_VERIFY);
}

moat_err moat_context_set_alpn_protocols(moat_context *ctx,
                                         const char *const *protos,
                                         size_t num_protos) {
  uint8_t wire[TLS_MAX_ALPN_WIRE];
  builder b;
  bld_init_fixed(&b, wire, sizeof(wire));
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < num_protos; i++) {
    size_t n = protos[i] ? strlen(protos[i]) : 0;
    /* RFC 7301 3.1: each name is 1..255 bytes. */
    if (n == 0 || n > 255) {
      return policy_abort(
          ctx, p,
          ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                   "ALPN protocol %zu must be 1 to 255 bytes long", i));
    }
    bld_u8(&b, (uint8_t)n);
    bld_bytes(&b, (const uint8_t *)protos[i], n);
  }
  if (!bld_finish(&b)) {
    return policy_abort(ctx, p,
                        ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                                 "the ALPN list is longer than %d bytes",
                                 TLS_MAX_ALPN_WIRE));
  }
  memcpy(p->alpn_wire, wire, bld_len(&b));
  p->alpn_wire_len = bld_len(&b);
  policy_commit(ctx, p);
  return MOAT_OK;
}

void moat_context_set_keylog_cb(moat_context *ctx, moat_keylog_fn cb,
                                void *arg) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->keylog_cb = cb;
    p->keylog_arg = arg;
    policy_commit(ctx, p);
  }
}

moat_err moat_context_set_keylog_file(moat_context *ctx, const char *path) {
  keylog_sink *sink = NULL;
  int open_errno = 0;
  ctx_begin(ctx);
  if (path != NULL) {
    sink = moat_calloc(1, sizeof(*sink));
    if (sink == NULL) {
      return MOAT_ERR_NO_MEMORY;
    }
    sink->file = fopen(path, "a");
    open_errno = errno;
    if (sink->file == NULL) {
      moat_free(sink);
      pthread_mutex_lock(&ctx->lock);
      moat_err err =
          ctx_fail(ctx, MOAT_ERR_FILE_ERROR, "cannot open key log %s: %s", path,
                   strerror(open_errno));
      pthread_mutex_unlock(&ctx->lock);
      return err;
    }
    atomic_init(&sink->refs, 1);
    pthread_mutex_init(&sink->lock, NULL);
  }
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    keylog_sink_free(sink);
    return MOAT_ERR_NO_MEMORY;
  }
  /* The old file closes when the last connection that logs to it goes. */
  keylog_sink_free(p->keylog);
  p->keylog = sink;
  policy_commit(ctx, p);
  return MOAT_OK;
}

void moat_context_set_sni_cb(moat_context *ctx, moat_sni_fn cb, void *arg) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->sni_cb = cb;
    p->sni_arg = arg;
    policy_commit(ctx, p);
  }
}

moat_err moat_context_set_max_send_fragment(moat_context *ctx, size_t n) {
  if (n < 512 || n > TLS_MAX_PLAINTEXT) {
    return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                    "a record fragment of %zu bytes: it must be 512 to 16384",
                    n);
  }
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  p->max_fragment = n;
  policy_commit(ctx, p);
  return MOAT_OK;
}

moat_err moat_context_set_record_size_limit(moat_context *ctx, size_t n) {
  /* RFC 8449 4: at least 64; at most TLS 1.3's 2^14 + 1 */
  if (n != 0 && (n < 64 || n > TLS_MAX_PLAINTEXT + 1)) {
    return ctx_fail(ctx, MOAT_ERR_INVALID_ARGUMENT,
                    "a record_size_limit of %zu bytes: it must be 64 to "
                    "16385, or 0 for none",
                    n);
  }
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  p->record_size_limit = (uint16_t)n;
  policy_commit(ctx, p);
  return MOAT_OK;
}

void moat_context_set_verify_callback(moat_context *ctx, moat_verify_fn cb,
                                      void *arg) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->verify_cb = cb;
    p->verify_arg = arg;
    policy_commit(ctx, p);
  }
}

void moat_context_set_num_tickets(moat_context *ctx, size_t n) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    /* RFC 8446 4.6.1: each ticket of a connection has its own nonce; ours
     * is one byte, so at most 256 tickets. */
    p->num_tickets = n > TLS_MAX_TICKETS ? TLS_MAX_TICKETS : n;
    policy_commit(ctx, p);
  }
}

void moat_context_set_clock(moat_context *ctx, moat_clock_fn fn, void *arg) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->clock = fn ? fn : moat_default_clock;
    p->clock_arg = arg;
    policy_commit(ctx, p);
  }
}

void moat_context_set_rng(moat_context *ctx, moat_rng_fn fn, void *arg) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->rng = fn ? fn : default_rng;
    p->rng_arg = arg;
    policy_commit(ctx, p);
  }
}
