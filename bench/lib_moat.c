/* moat under the bench, through its public sans-IO API only: bytes leave a
 * connection through its output view and are copied once, straight into
 * the peer's input space (moat's zero-copy memory ports: the one copy is
 * the wire's).  What the peer has no room for yet waits in the harness's
 * queue (moat_conn_take_output) and is fed later (moat_conn_feed).
 *
 * Every moat function used here is referenced weakly and the bench links
 * the whole moat archive, so moat-bench builds and runs while parts of the
 * engine are still missing: an absent function makes moat's figures null
 * instead of breaking the build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moat.h"

#include "bench.h"

#define WEAK(fn) extern __typeof__(fn) fn __attribute__((weak))
WEAK(moat_err_name);
WEAK(moat_err_get_class);
WEAK(moat_context_new);
WEAK(moat_context_free);
WEAK(moat_context_load_verify_locations);
WEAK(moat_context_load_cert_chain_mem);
WEAK(moat_context_set_min_version);
WEAK(moat_context_set_max_version);
WEAK(moat_context_set_ciphersuites);
WEAK(moat_context_set_groups);
WEAK(moat_context_set_num_tickets);
WEAK(moat_context_set_cipher_list);
WEAK(moat_context_set_session_tickets);
WEAK(moat_context_set_session_cache_size);
WEAK(moat_conn_version);
WEAK(moat_conn_new);
WEAK(moat_conn_free);
WEAK(moat_conn_set_hostname);
WEAK(moat_conn_feed);
WEAK(moat_conn_pending_output);
WEAK(moat_conn_take_output);
WEAK(moat_conn_handshake);
WEAK(moat_conn_read);
WEAK(moat_conn_write);
WEAK(moat_conn_session_reused);
WEAK(moat_conn_error_detail);
WEAK(moat_conn_group_name);
WEAK(moat_conn_get_session);
WEAK(moat_conn_set_session);
WEAK(moat_session_free);
WEAK(moat_set_allocator);
WEAK(moat_conn_output_view);
WEAK(moat_conn_output_consume);
WEAK(moat_conn_input_space);
WEAK(moat_conn_input_commit);

bool bench_moat_linked(void) {
  return moat_err_name && moat_err_get_class && moat_context_new &&
         moat_context_free && moat_context_load_verify_locations &&
         moat_context_load_cert_chain_mem && moat_context_set_min_version &&
         moat_context_set_max_version && moat_context_set_ciphersuites &&
         moat_context_set_groups && moat_context_set_num_tickets &&
         moat_conn_new && moat_conn_free && moat_conn_set_hostname &&
         moat_conn_feed && moat_conn_pending_output && moat_conn_take_output &&
         moat_conn_handshake && moat_conn_read && moat_conn_write &&
         moat_conn_session_reused && moat_conn_error_detail &&
         moat_conn_group_name;
}

void bench_moat_count_own(void) {
  if (!moat_set_allocator)
    return;
  moat_allocator a = {bench_own_alloc.malloc_fn, bench_own_alloc.realloc_fn,
                      bench_own_alloc.free_fn, NULL};
  if (moat_set_allocator(&a) != MOAT_OK)
    BENCH_LOG("moat: moat_set_allocator refused; own allocations not "
              "counted\n");
}

typedef struct mt_env {
  moat_context *client;
  moat_context *server;
  const char *host;
  moat_session *session;
} mt_env;

typedef struct mt_pair {
  moat_conn *c;
  moat_conn *s;
  byteq c2s;
  byteq s2c;
} mt_pair;

static const char *suite_name(int suite) {
  switch (suite) {
  case SUITE_AES128GCM:
    return "TLS_AES_128_GCM_SHA256";
  case SUITE_AES256GCM:
    return "TLS_AES_256_GCM_SHA384";
  case SUITE_CHACHA20:
    return "TLS_CHACHA20_POLY1305_SHA256";
  default:
    return NULL;
  }
}

static bool report(const char *what, moat_err err) {
  BENCH_LOG("moat: %s: %s\n", what, moat_err_name(err));
  return false;
}

/* Is this build's TLS 1.2 there? */
static bool tls12_linked(void) {
  return moat_context_set_cipher_list && moat_context_set_session_tickets &&
         moat_context_set_session_cache_size && moat_conn_version;
}

/* TLS 1.2 (RFC 8422 5.1.1): the client's supported_groups also bound the
 * curve of the server's ECDSA certificate, so P-256 is listed after the
 * key-exchange group, as for OpenSSL. */
static const char *groups_for(const bench_cfg *cfg) {
  if (cfg->group == GROUP_X25519)
    return cfg->tls12 ? "X25519:P-256" : "X25519";
  return cfg->group == GROUP_P256 ? "P-256" : "X25519MLKEM768";
}

static bool common(moat_context *ctx, const bench_cfg *cfg) {
  int version = cfg->tls12 ? MOAT_TLS1_2 : MOAT_TLS1_3;
  moat_err err = moat_context_set_min_version(ctx, version);
  if (err == MOAT_OK)
    err = moat_context_set_max_version(ctx, version);
  if (err == MOAT_OK && cfg->tls12)
    err = moat_context_set_cipher_list(ctx, cfg->cert == CERT_RSA
                                                ? "ECDHE-RSA-AES128-GCM-SHA256"
                                                : "ECDHE-ECDSA-AES128-GCM-"
                                                  "SHA256");
  if (err == MOAT_OK && !cfg->tls12)
    err = moat_context_set_ciphersuites(ctx, suite_name(cfg->suite));
  if (err == MOAT_OK)
    err = moat_context_set_groups(ctx, groups_for(cfg));
  return err == MOAT_OK || report("context setup", err);
}

static void mt_env_free(void *p) {
  mt_env *env = p;
  if (env == NULL)
    return;
  if (env->session != NULL)
    moat_session_free(env->session);
  moat_context_free(env->client);
  moat_context_free(env->server);
  bench_free(env);
}

static void *mt_env_new(const bench_pki *pki, const bench_cfg *cfg) {
  /* A build without TLS 1.2 has those figures null. */
  if (!bench_moat_linked() || (cfg->tls12 && !tls12_linked()))
    return NULL;
  const pki_item *item = &pki->item[cfg->cert];
  const pki_item *anchor =
      &pki->item[cfg->trust_other ? 1 - cfg->cert : cfg->cert];
  mt_env *env = bench_calloc(sizeof(*env));
  if (env == NULL)
    return NULL;
  env->host = cfg->host ? cfg->host : "localhost";
  env->client = moat_context_new(MOAT_ROLE_CLIENT);
  env->server = moat_context_new(MOAT_ROLE_SERVER);
  bool ok = env->client != NULL && env->server != NULL;
  ok = ok && common(env->client, cfg) && common(env->server, cfg);
  if (ok) {
    moat_err err = moat_context_load_verify_locations(
        env->client, NULL, NULL, (const uint8_t *)anchor->ca_pem,
        anchor->ca_pem_len);
    ok = err == MOAT_OK || report("load_verify_locations", err);
  }
  if (ok) {
    moat_err err = moat_context_load_cert_chain_mem(
        env->server, (const uint8_t *)item->leaf_pem, item->leaf_pem_len,
        (const uint8_t *)item->key_pem, item->key_pem_len, NULL);
    ok = err == MOAT_OK || report("load_cert_chain_mem", err);
  }
  if (!ok) {
    mt_env_free(env);
    return NULL;
  }
  moat_context_set_num_tickets(env->server, cfg->tickets ? 1 : 0);
  if (tls12_linked()) {
    /* TLS 1.2 as the other libraries run it: tickets only where the
     * figure resumes by ticket, the server's session-ID cache only where
     * it resumes by session ID. */
    moat_context_set_session_tickets(env->client, cfg->tickets);
    moat_context_set_session_tickets(env->server, cfg->tickets);
    moat_context_set_session_cache_size(env->server,
                                        cfg->session_id ? 1024 : 0);
  }
  return env;
}

static void mt_free_client(void *p) {
  mt_pair *pair = p;
  moat_conn_free(pair->c);
  pair->c = NULL;
}

static void mt_free_server(void *p) {
  mt_pair *pair = p;
  moat_conn_free(pair->s);
  pair->s = NULL;
}

static void mt_pair_free(void *p) {
  mt_pair *pair = p;
  if (pair == NULL)
    return;
  mt_free_client(pair);
  mt_free_server(pair);
  byteq_free(&pair->c2s);
  byteq_free(&pair->s2c);
  bench_free(pair);
}

static void *mt_pair_new(void *e, bool resume) {
  mt_env *env = e;
  if (resume && (moat_conn_set_session == NULL || env->session == NULL))
    return NULL;
  mt_pair *pair = bench_calloc(sizeof(*pair));
  if (pair == NULL)
    return NULL;
  pair->c = moat_conn_new(env->client);
  pair->s = moat_conn_new(env->server);
  if (pair->c == NULL || pair->s == NULL ||
      moat_conn_set_hostname(pair->c, env->host) != MOAT_OK ||
      (resume && moat_conn_set_session(pair->c, env->session) != MOAT_OK)) {
    mt_pair_free(pair);
    return NULL;
  }
  return pair;
}

static bool wants(moat_err err) {
  moat_err_class cls = moat_err_get_class(err);
  return cls == MOAT_CLASS_WANT_READ || cls == MOAT_CLASS_WANT_WRITE;
}

/* Copy what `from` has to send straight into `to`'s input, as far as it
 * has room; nothing moves while older bytes still wait in q. */
static bool pass(moat_conn *from, byteq *q, moat_conn *to) {
  if (!moat_conn_output_view || !moat_conn_output_consume ||
      !moat_conn_input_space || !moat_conn_input_commit)
    return true;
  while (byteq_avail(q) == 0) {
    const uint8_t *data = NULL;
    size_t len = 0;
    moat_err err = moat_conn_output_view(from, &data, &len);
    if (err != MOAT_OK)
      return report("output_view", err);
    if (len == 0)
      return true;
    uint8_t *at = NULL;
    size_t room = 0;
    err = moat_conn_input_space(to, &at, &room);
    if (err != MOAT_OK && !wants(err))
      return report("input_space", err);
    if (err != MOAT_OK || room == 0)
      return true; /* the rest goes through q */
    size_t n = len < room ? len : room;
    memcpy(at, data, n);
    err = moat_conn_input_commit(to, n);
    if (err == MOAT_OK)
      err = moat_conn_output_consume(from, n);
    if (err != MOAT_OK)
      return report("input_commit/output_consume", err);
  }
  return true;
}

/* Move everything `from` has to send to `to`, or into q when `to` has no
 * room. */
static bool take(moat_conn *from, byteq *q, moat_conn *to) {
  if (!pass(from, q, to))
    return false;
  size_t want;
  while ((want = moat_conn_pending_output(from)) > 0) {
    uint8_t *dst = byteq_reserve(q, want);
    if (dst == NULL)
      return false;
    size_t n = 0;
    moat_err err = moat_conn_take_output(from, dst, want, &n);
    if (err != MOAT_OK || n == 0)
      return report("take_output", err);
    q->len += n;
  }
  return true;
}

/* Offer q's bytes to `to`; it may take only part of them. */
static bool give(moat_conn *to, byteq *q) {
  if (byteq_avail(q) == 0)
    return true;
  size_t used = 0;
  moat_err err = moat_conn_feed(to, q->buf + q->off, byteq_avail(q), &used);
  if (err != MOAT_OK && !wants(err))
    return report("feed", err);
  q->off += used;
  if (q->off == q->len)
    q->off = q->len = 0;
  return true;
}

static bool fail(moat_conn *conn, const char *who, moat_err err) {
  const char *detail = moat_conn_error_detail(conn);
  BENCH_LOG("moat %s handshake: %s%s%s\n", who, moat_err_name(err),
            detail && *detail ? ": " : "", detail ? detail : "");
  return false;
}

static bool mt_handshake(void *p) {
  mt_pair *pair = p;
  bool dc = false;
  bool ds = false;
  for (int i = 0; i < 64; i++) {
    if (!dc) {
      moat_err err = moat_conn_handshake(pair->c);
      if (err == MOAT_OK)
        dc = true;
      else if (!wants(err))
        return fail(pair->c, "client", err);
    }
    if (!take(pair->c, &pair->c2s, pair->s) || !give(pair->s, &pair->c2s))
      return false;
    if (!ds) {
      moat_err err = moat_conn_handshake(pair->s);
      if (err == MOAT_OK)
        ds = true;
      else if (!wants(err))
        return fail(pair->s, "server", err);
    }
    if (!take(pair->s, &pair->s2c, pair->c) || !give(pair->c, &pair->s2c))
      return false;
    if (dc && ds)
      break;
  }
  if (!dc || !ds) {
    BENCH_LOG("moat: handshake made no progress\n");
    return false;
  }
  /* The client reads what is still in flight (tickets). */
  uint8_t buf[256];
  for (int i = 0; i < 16 && (i == 0 || byteq_avail(&pair->s2c) > 0); i++) {
    if (!give(pair->c, &pair->s2c))
      return false;
    size_t n = 0;
    moat_err err = moat_conn_read(pair->c, buf, sizeof(buf), &n);
    if (err == MOAT_OK && n > 0)
      return false; /* no application data expected */
    if (err != MOAT_OK && !wants(err))
      return fail(pair->c, "client read", err);
  }
  return byteq_avail(&pair->c2s) == 0 && byteq_avail(&pair->s2c) == 0;
}

static bool mt_resumed(void *p) {
  mt_pair *pair = p;
  /* TLS 1.3: psk_dhe_ke, so a group was negotiated (RFC 8446 4.2.9);
   * a TLS 1.2 resumption has no key exchange. */
  return moat_conn_session_reused(pair->c) &&
         moat_conn_session_reused(pair->s) &&
         ((moat_conn_version && moat_conn_version(pair->c) == MOAT_TLS1_2) ||
          moat_conn_group_name(pair->c) != NULL);
}

static bool mt_save_session(void *e, void *p) {
  mt_env *env = e;
  mt_pair *pair = p;
  if (moat_conn_get_session == NULL)
    return false;
  moat_session *s = moat_conn_get_session(pair->c);
  if (s == NULL) {
    BENCH_LOG("moat: the client has no session (no ticket arrived)\n");
    return false;
  }
  if (env->session != NULL)
    moat_session_free(env->session);
  env->session = s;
  return true;
}

static bool mt_bulk(void *p, const uint8_t *data, size_t chunk, size_t total) {
  mt_pair *pair = p;
  static uint8_t buf[16384];
  size_t got = 0;
  for (size_t sent = 0; sent < total;) {
    size_t n = total - sent < chunk ? total - sent : chunk;
    size_t w = 0;
    moat_err err = moat_conn_write(pair->c, data, n, &w);
    if (err != MOAT_OK || w != n)
      return fail(pair->c, "client write", err);
    sent += n;
    if (!take(pair->c, &pair->c2s, pair->s))
      return false;
    for (int i = 0; i < 1024; i++) {
      if (!give(pair->s, &pair->c2s))
        return false;
      size_t r = 0;
      err = moat_conn_read(pair->s, buf, sizeof(buf), &r);
      if (err == MOAT_OK && r > 0) {
        got += r;
        continue;
      }
      if (err != MOAT_OK && !wants(err))
        return fail(pair->s, "server read", err);
      if (byteq_avail(&pair->c2s) == 0)
        break;
    }
  }
  return got == total;
}

const bench_lib bench_lib_moat = {
    .name = "moat",
    .env_new = mt_env_new,
    .env_free = mt_env_free,
    .pair_new = mt_pair_new,
    .pair_free = mt_pair_free,
    .pair_free_client = mt_free_client,
    .pair_free_server = mt_free_server,
    .handshake = mt_handshake,
    .resumed = mt_resumed,
    .save_session = mt_save_session,
    .bulk = mt_bulk,
};
