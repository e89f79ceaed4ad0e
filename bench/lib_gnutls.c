/* GnuTLS under the bench: client and server joined by two byte queues
 * through custom push/pull functions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "bench.h"

/* TLS 1.2 session IDs: GnuTLS leaves the server's session store to the
 * application; this one keeps the last few sessions (the harness's memory,
 * not counted). */
#define GT_CACHE 8
typedef struct gt_cached {
  uint8_t id[32];
  size_t id_len;
  uint8_t *data;
  size_t data_len;
} gt_cached;

typedef struct gt_env {
  gt_cached cache[GT_CACHE];
  size_t cache_next;
  bool session_id;
  gnutls_certificate_credentials_t ccred;
  gnutls_certificate_credentials_t scred;
  gnutls_priority_t prio;
  gnutls_datum_t ticket_key;
  bool tickets;
  gnutls_datum_t session;
  const char *host;
} gt_env;

typedef struct gt_end {
  gnutls_session_t sess;
  byteq *in;
  byteq *out;
} gt_end;

typedef struct gt_pair {
  gt_end c;
  gt_end s;
  byteq c2s;
  byteq s2c;
} gt_pair;

static ssize_t gt_push(gnutls_transport_ptr_t p, const void *data, size_t len) {
  gt_end *end = p;
  if (!byteq_push(end->out, data, len)) {
    gnutls_transport_set_errno(end->sess, ENOMEM);
    return -1;
  }
  return (ssize_t)len;
}

static ssize_t gt_pull(gnutls_transport_ptr_t p, void *data, size_t len) {
  gt_end *end = p;
  size_t n = byteq_pull(end->in, data, len);
  if (n == 0) {
    gnutls_transport_set_errno(end->sess, EAGAIN);
    return -1;
  }
  return (ssize_t)n;
}

static const char *prio_string(const bench_cfg *cfg) {
  if (cfg->group == GROUP_X25519MLKEM768)
    return NULL;
  if (cfg->tls12) {
    if (cfg->group != GROUP_X25519)
      return NULL;
    return cfg->cert == CERT_RSA
               ? "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:"
                 "-KX-ALL:+ECDHE-RSA:-GROUP-ALL:+GROUP-X25519"
               : "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:"
                 "-KX-ALL:+ECDHE-ECDSA:-GROUP-ALL:+GROUP-X25519";
  }
  switch (cfg->suite * 2 + cfg->group) {
  case SUITE_AES128GCM * 2 + GROUP_X25519:
    return "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:"
           "-GROUP-ALL:+GROUP-X25519";
  case SUITE_AES128GCM * 2 + GROUP_P256:
    return "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:"
           "-GROUP-ALL:+GROUP-SECP256R1";
  case SUITE_AES256GCM * 2 + GROUP_X25519:
    return "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM:"
           "-GROUP-ALL:+GROUP-X25519";
  case SUITE_CHACHA20 * 2 + GROUP_X25519:
    return "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305:"
           "-GROUP-ALL:+GROUP-X25519";
  default:
    return NULL;
  }
}

static int db_store(void *p, gnutls_datum_t key, gnutls_datum_t data) {
  gt_env *env = p;
  if (key.size > sizeof(env->cache[0].id))
    return -1;
  gt_cached *e = &env->cache[env->cache_next++ % GT_CACHE];
  uint8_t *copy = bench_realloc(e->data, data.size);
  if (copy == NULL)
    return -1;
  memcpy(copy, data.data, data.size);
  memcpy(e->id, key.data, key.size);
  e->id_len = key.size;
  e->data = copy;
  e->data_len = data.size;
  return 0;
}

static gt_cached *db_find(gt_env *env, gnutls_datum_t key) {
  for (size_t i = 0; i < GT_CACHE; i++) {
    gt_cached *e = &env->cache[i];
    if (e->data != NULL && e->id_len == key.size &&
        memcmp(e->id, key.data, key.size) == 0)
      return e;
  }
  return NULL;
}

/* GnuTLS frees what this returns with gnutls_free. */
static gnutls_datum_t db_retrieve(void *p, gnutls_datum_t key) {
  gnutls_datum_t out = {NULL, 0};
  gt_cached *e = db_find(p, key);
  if (e != NULL && (out.data = gnutls_malloc(e->data_len)) != NULL) {
    memcpy(out.data, e->data, e->data_len);
    out.size = (unsigned)e->data_len;
  }
  return out;
}

static int db_remove(void *p, gnutls_datum_t key) {
  gt_cached *e = db_find(p, key);
  if (e == NULL)
    return -1;
  bench_free(e->data);
  memset(e, 0, sizeof(*e));
  return 0;
}

static void gt_env_free(void *p) {
  gt_env *env = p;
  if (env == NULL)
    return;
  for (size_t i = 0; i < GT_CACHE; i++)
    bench_free(env->cache[i].data);
  if (env->ccred)
    gnutls_certificate_free_credentials(env->ccred);
  if (env->scred)
    gnutls_certificate_free_credentials(env->scred);
  if (env->prio)
    gnutls_priority_deinit(env->prio);
  if (env->ticket_key.data)
    gnutls_free(env->ticket_key.data);
  if (env->session.data)
    gnutls_free(env->session.data);
  bench_free(env);
}

static void *gt_env_new(const bench_pki *pki, const bench_cfg *cfg) {
  const pki_item *item = &pki->item[cfg->cert];
  const pki_item *anchor =
      &pki->item[cfg->trust_other ? 1 - cfg->cert : cfg->cert];
  const char *prio = prio_string(cfg);
  if (prio == NULL)
    return NULL;
  gt_env *env = bench_calloc(sizeof(*env));
  if (env == NULL)
    return NULL;
  env->tickets = cfg->tickets;
  env->session_id = cfg->session_id;
  env->host = cfg->host ? cfg->host : "localhost";
  gnutls_datum_t ca = {(unsigned char *)anchor->ca_pem,
                       (unsigned)anchor->ca_pem_len};
  gnutls_datum_t leaf = {(unsigned char *)item->leaf_pem,
                         (unsigned)item->leaf_pem_len};
  gnutls_datum_t key = {(unsigned char *)item->key_pem,
                        (unsigned)item->key_pem_len};
  int rc = gnutls_certificate_allocate_credentials(&env->ccred);
  if (rc >= 0)
    rc = gnutls_certificate_allocate_credentials(&env->scred);
  if (rc >= 0)
    rc = gnutls_certificate_set_x509_trust_mem(env->ccred, &ca,
                                               GNUTLS_X509_FMT_PEM);
  if (rc >= 0)
    rc = gnutls_certificate_set_x509_key_mem2(env->scred, &leaf, &key,
                                              GNUTLS_X509_FMT_PEM, NULL, 0);
  if (rc >= 0)
    rc = gnutls_priority_init(&env->prio, prio, NULL);
  if (rc >= 0 && cfg->tickets)
    rc = gnutls_session_ticket_key_generate(&env->ticket_key);
  if (rc < 0) {
    BENCH_LOG("gnutls: %s\n", gnutls_strerror(rc));
    gt_env_free(env);
    return NULL;
  }
  return env;
}

static void gt_free_client(void *p) {
  gt_pair *pair = p;
  if (pair->c.sess)
    gnutls_deinit(pair->c.sess);
  pair->c.sess = NULL;
}

static void gt_free_server(void *p) {
  gt_pair *pair = p;
  if (pair->s.sess)
    gnutls_deinit(pair->s.sess);
  pair->s.sess = NULL;
}

static void gt_pair_free(void *p) {
  gt_pair *pair = p;
  if (pair == NULL)
    return;
  gt_free_client(pair);
  gt_free_server(pair);
  byteq_free(&pair->c2s);
  byteq_free(&pair->s2c);
  bench_free(pair);
}

static void attach(gt_end *end, byteq *in, byteq *out) {
  end->in = in;
  end->out = out;
  gnutls_transport_set_ptr(end->sess, end);
  gnutls_transport_set_push_function(end->sess, gt_push);
  gnutls_transport_set_pull_function(end->sess, gt_pull);
}

static void *gt_pair_new(void *e, bool resume) {
  gt_env *env = e;
  gt_pair *pair = bench_calloc(sizeof(*pair));
  if (pair == NULL)
    return NULL;
  unsigned sflags = GNUTLS_SERVER | (env->tickets ? 0 : GNUTLS_NO_TICKETS);
  /* Session IDs: the client asks for no ticket either. */
  unsigned cflags = GNUTLS_CLIENT | (env->session_id ? GNUTLS_NO_TICKETS : 0);
  int rc = gnutls_init(&pair->c.sess, cflags);
  if (rc >= 0)
    rc = gnutls_init(&pair->s.sess, sflags);
  if (rc >= 0)
    rc = gnutls_credentials_set(pair->c.sess, GNUTLS_CRD_CERTIFICATE,
                                env->ccred);
  if (rc >= 0)
    rc = gnutls_credentials_set(pair->s.sess, GNUTLS_CRD_CERTIFICATE,
                                env->scred);
  if (rc >= 0)
    rc = gnutls_priority_set(pair->c.sess, env->prio);
  if (rc >= 0)
    rc = gnutls_priority_set(pair->s.sess, env->prio);
  if (rc >= 0)
    rc = gnutls_server_name_set(pair->c.sess, GNUTLS_NAME_DNS, env->host,
                                strlen(env->host));
  if (rc >= 0 && env->tickets)
    rc = gnutls_session_ticket_enable_server(pair->s.sess, &env->ticket_key);
  if (rc >= 0 && env->session_id) {
    gnutls_db_set_ptr(pair->s.sess, env);
    gnutls_db_set_store_function(pair->s.sess, db_store);
    gnutls_db_set_retrieve_function(pair->s.sess, db_retrieve);
    gnutls_db_set_remove_function(pair->s.sess, db_remove);
  }
  if (rc >= 0 && resume)
    rc = env->session.data != NULL
             ? gnutls_session_set_data(pair->c.sess, env->session.data,
                                       env->session.size)
             : GNUTLS_E_INVALID_SESSION;
  if (rc < 0) {
    BENCH_LOG("gnutls: %s\n", gnutls_strerror(rc));
    gt_pair_free(pair);
    return NULL;
  }
  gnutls_session_set_verify_cert(pair->c.sess, env->host, 0);
  attach(&pair->c, &pair->s2c, &pair->c2s);
  attach(&pair->s, &pair->c2s, &pair->s2c);
  return pair;
}

/* 1 done, 0 wants more, -1 failed. */
static int step(gnutls_session_t sess) {
  int rc = gnutls_handshake(sess);
  if (rc == GNUTLS_E_SUCCESS)
    return 1;
  if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
    return 0;
  BENCH_LOG("gnutls handshake: %s\n", gnutls_strerror(rc));
  return -1;
}

static bool gt_handshake(void *p) {
  gt_pair *pair = p;
  int dc = 0;
  int ds = 0;
  for (int i = 0; i < 32 && (dc != 1 || ds != 1); i++) {
    if (dc != 1 && (dc = step(pair->c.sess)) < 0)
      return false;
    if (ds != 1 && (ds = step(pair->s.sess)) < 0)
      return false;
  }
  if (dc != 1 || ds != 1)
    return false;
  /* The client reads what is still in flight (tickets). */
  uint8_t buf[256];
  while (byteq_avail(&pair->s2c) > 0) {
    ssize_t rc = gnutls_record_recv(pair->c.sess, buf, sizeof(buf));
    if (rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED)
      return false;
  }
  return byteq_avail(&pair->c2s) == 0;
}

static bool gt_resumed(void *p) {
  gt_pair *pair = p;
  /* TLS 1.3: psk_dhe_ke, so a group was negotiated (RFC 8446 4.2.9);
   * a TLS 1.2 ticket resumption has no key exchange. */
  return gnutls_session_is_resumed(pair->c.sess) != 0 &&
         gnutls_session_is_resumed(pair->s.sess) != 0 &&
         (gnutls_protocol_get_version(pair->c.sess) == GNUTLS_TLS1_2 ||
          gnutls_group_get(pair->c.sess) != GNUTLS_GROUP_INVALID);
}

static bool gt_save_session(void *e, void *p) {
  gt_env *env = e;
  gt_pair *pair = p;
  gnutls_datum_t d = {NULL, 0};
  if (gnutls_session_get_data2(pair->c.sess, &d) < 0)
    return false;
  if (env->session.data)
    gnutls_free(env->session.data);
  env->session = d;
  return true;
}

static bool gt_bulk(void *p, const uint8_t *data, size_t chunk, size_t total) {
  gt_pair *pair = p;
  static uint8_t buf[16384];
  size_t got = 0;
  for (size_t sent = 0; sent < total;) {
    size_t n = total - sent < chunk ? total - sent : chunk;
    if (gnutls_record_send(pair->c.sess, data, n) != (ssize_t)n)
      return false;
    sent += n;
    for (;;) {
      ssize_t rc = gnutls_record_recv(pair->s.sess, buf, sizeof(buf));
      if (rc > 0) {
        got += (size_t)rc;
        continue;
      }
      if (rc != GNUTLS_E_AGAIN)
        return false;
      break;
    }
  }
  return got == total;
}

const bench_lib bench_lib_gnutls = {
    .name = "gnutls",
    .env_new = gt_env_new,
    .env_free = gt_env_free,
    .pair_new = gt_pair_new,
    .pair_free = gt_pair_free,
    .pair_free_client = gt_free_client,
    .pair_free_server = gt_free_server,
    .handshake = gt_handshake,
    .resumed = gt_resumed,
    .save_session = gt_save_session,
    .bulk = gt_bulk,
};
