/* OpenSSL's libssl under the bench: client and server joined by two byte
 * queues through a small custom BIO.  (A BIO pair would do, but its two
 * buffers live inside the SSL objects and would be counted as per-connection
 * memory; here, as for GnuTLS and moat, the wire belongs to the harness.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bench.h"

typedef struct ossl_env {
  SSL_CTX *client;
  SSL_CTX *server;
  SSL_SESSION *session;
  const char *host;
  int group; /* NID of the configured key-exchange group */
} ossl_env;

typedef struct ossl_end {
  byteq *in;
  byteq *out;
} ossl_end;

typedef struct ossl_pair {
  SSL *c;
  SSL *s;
  ossl_end ce;
  ossl_end se;
  byteq c2s;
  byteq s2c;
  int want_group; /* NID of the group a full handshake must use */
} ossl_pair;

static BIO_METHOD *g_method;

static int q_write(BIO *bio, const char *data, int len) {
  ossl_end *end = BIO_get_data(bio);
  BIO_clear_retry_flags(bio);
  if (len < 0 || !byteq_push(end->out, (const uint8_t *)data, (size_t)len))
    return -1;
  return len;
}

static int q_read(BIO *bio, char *out, int cap) {
  ossl_end *end = BIO_get_data(bio);
  BIO_clear_retry_flags(bio);
  if (cap <= 0)
    return 0;
  size_t n = byteq_pull(end->in, (uint8_t *)out, (size_t)cap);
  if (n == 0) {
    BIO_set_retry_read(bio);
    return -1;
  }
  return (int)n;
}

static long q_ctrl(BIO *bio, int cmd, long num, void *ptr) {
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_PENDING: {
    ossl_end *end = BIO_get_data(bio);
    return (long)byteq_avail(end->in);
  }
  default:
    return 0;
  }
}

static int q_create(BIO *bio) {
  BIO_set_init(bio, 1);
  return 1;
}

static BIO *q_bio(ossl_end *end) {
  if (g_method == NULL) {
    g_method =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bench queue");
    if (g_method == NULL || BIO_meth_set_write(g_method, q_write) != 1 ||
        BIO_meth_set_read(g_method, q_read) != 1 ||
        BIO_meth_set_ctrl(g_method, q_ctrl) != 1 ||
        BIO_meth_set_create(g_method, q_create) != 1)
      return NULL;
  }
  BIO *bio = BIO_new(g_method);
  if (bio != NULL)
    BIO_set_data(bio, end);
  return bio;
}

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

static bool common(SSL_CTX *ctx, const bench_cfg *cfg) {
  const char *suite = suite_name(cfg->suite);
  bool ok = suite != NULL && cfg->group != GROUP_X25519MLKEM768;
  int version = cfg->tls12 ? TLS1_2_VERSION : TLS1_3_VERSION;
  ok = ok && SSL_CTX_set_min_proto_version(ctx, version) == 1;
  ok = ok && SSL_CTX_set_max_proto_version(ctx, version) == 1;
  if (cfg->tls12) {
    ok = ok && SSL_CTX_set_cipher_list(ctx, cfg->cert == CERT_RSA
                                                ? "ECDHE-RSA-AES128-GCM-SHA256"
                                                : "ECDHE-ECDSA-AES128-GCM-"
                                                  "SHA256") == 1;
    if (!cfg->tickets)
      SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  } else {
    ok = ok && SSL_CTX_set_ciphersuites(ctx, suite) == 1;
  }
  /* TLS 1.2 (RFC 8422 5.1.1): the client's supported_groups also limit the
   * curve of the server's ECDSA certificate, so P-256 is listed after the
   * key-exchange group. */
  const char *groups = cfg->group == GROUP_X25519
                           ? (cfg->tls12 ? "X25519:P-256" : "X25519")
                           : "P-256";
  ok = ok && SSL_CTX_set1_groups_list(ctx, groups) == 1;
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (cfg->release_buffers)
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return ok;
}

static X509 *pem_cert(const char *pem, size_t len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  return cert;
}

static void ossl_env_free(void *p) {
  ossl_env *env = p;
  if (env == NULL)
    return;
  SSL_CTX_free(env->client);
  SSL_CTX_free(env->server);
  SSL_SESSION_free(env->session);
  bench_free(env);
}

static void *ossl_env_new(const bench_pki *pki, const bench_cfg *cfg) {
  const pki_item *item = &pki->item[cfg->cert];
  const pki_item *anchor =
      &pki->item[cfg->trust_other ? 1 - cfg->cert : cfg->cert];
  ossl_env *env = bench_calloc(sizeof(*env));
  if (env == NULL)
    return NULL;
  env->host = cfg->host ? cfg->host : "localhost";
  env->group = cfg->group == GROUP_X25519 ? NID_X25519 : NID_X9_62_prime256v1;
  env->client = SSL_CTX_new(TLS_client_method());
  env->server = SSL_CTX_new(TLS_server_method());
  bool ok = env->client != NULL && env->server != NULL;
  ok = ok && common(env->client, cfg) && common(env->server, cfg);

  X509 *ca = ok ? pem_cert(anchor->ca_pem, anchor->ca_pem_len) : NULL;
  X509 *leaf = ok ? pem_cert(item->leaf_pem, item->leaf_pem_len) : NULL;
  BIO *kb = BIO_new_mem_buf(item->key_pem, (int)item->key_pem_len);
  EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
  ok = ok && ca != NULL && leaf != NULL && key != NULL;
  ok = ok && X509_STORE_add_cert(SSL_CTX_get_cert_store(env->client), ca) == 1;
  SSL_CTX_set_verify(env->client, SSL_VERIFY_PEER, NULL);
  ok = ok && SSL_CTX_use_certificate(env->server, leaf) == 1;
  ok = ok && SSL_CTX_use_PrivateKey(env->server, key) == 1;
  ok = ok && SSL_CTX_set_num_tickets(env->server, cfg->tickets ? 1 : 0) == 1;
  if (cfg->session_id) {
    /* TLS 1.2 session IDs: the server keeps its sessions in its cache
     * (tickets are off); the client offers the one the bench saved. */
    static const unsigned char sid_ctx[] = "moat-bench";
    SSL_CTX_set_session_cache_mode(env->server, SSL_SESS_CACHE_SERVER);
    ok = ok && SSL_CTX_set_session_id_context(env->server, sid_ctx,
                                              sizeof(sid_ctx) - 1) == 1;
  }
  X509_free(ca);
  X509_free(leaf);
  EVP_PKEY_free(key);
  BIO_free(kb);
  if (!ok) {
    if (!bench_quiet)
      ERR_print_errors_fp(stderr);
    ERR_clear_error();
    ossl_env_free(env);
    return NULL;
  }
  return env;
}

/* Free as after a clean close: SSL_free() of a connection that never sent
 * close_notify marks its session unresumable. */
static void ssl_close(SSL *ssl) {
  if (ssl == NULL)
    return;
  SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(ssl);
}

static void ossl_pair_free(void *p) {
  ossl_pair *pair = p;
  if (pair == NULL)
    return;
  ssl_close(pair->c);
  ssl_close(pair->s);
  byteq_free(&pair->c2s);
  byteq_free(&pair->s2c);
  bench_free(pair);
}

static void ossl_free_client(void *p) {
  ossl_pair *pair = p;
  ssl_close(pair->c);
  pair->c = NULL;
}

static void ossl_free_server(void *p) {
  ossl_pair *pair = p;
  ssl_close(pair->s);
  pair->s = NULL;
}

static void *ossl_pair_new(void *e, bool resume) {
  ossl_env *env = e;
  ossl_pair *pair = bench_calloc(sizeof(*pair));
  if (pair == NULL)
    return NULL;
  pair->c = SSL_new(env->client);
  pair->s = SSL_new(env->server);
  pair->want_group = env->group;
  pair->ce = (ossl_end){&pair->s2c, &pair->c2s};
  pair->se = (ossl_end){&pair->c2s, &pair->s2c};
  BIO *bc = q_bio(&pair->ce);
  BIO *bs = q_bio(&pair->se);
  bool ok = pair->c != NULL && pair->s != NULL && bc != NULL && bs != NULL;
  if (!ok) {
    BIO_free(bc);
    BIO_free(bs);
    ossl_pair_free(pair);
    return NULL;
  }
  SSL_set_bio(pair->c, bc, bc);
  SSL_set_bio(pair->s, bs, bs);
  SSL_set_connect_state(pair->c);
  SSL_set_accept_state(pair->s);
  ok = SSL_set_tlsext_host_name(pair->c, env->host) == 1 &&
       SSL_set1_host(pair->c, env->host) == 1;
  if (ok && resume)
    ok = env->session != NULL && SSL_set_session(pair->c, env->session) == 1;
  if (!ok) {
    ossl_pair_free(pair);
    return NULL;
  }
  return pair;
}

/* One step of SSL_do_handshake: 1 done, 0 wants more, -1 failed. */
static int step(SSL *ssl) {
  int rc = SSL_do_handshake(ssl);
  if (rc == 1)
    return 1;
  int err = SSL_get_error(ssl, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
    return 0;
  return -1;
}

/* Let the client read whatever is in flight (tickets). */
static bool drain_client(ossl_pair *pair) {
  uint8_t buf[256];
  SSL *c = pair->c;
  while (byteq_avail(&pair->s2c) > 0) {
    int rc = SSL_read(c, buf, sizeof(buf));
    if (rc > 0)
      return false; /* no application data expected */
    if (SSL_get_error(c, rc) != SSL_ERROR_WANT_READ)
      return false;
  }
  return true;
}

static bool ossl_handshake(void *p) {
  ossl_pair *pair = p;
  int dc = 0;
  int ds = 0;
  for (int i = 0; i < 32 && (dc != 1 || ds != 1); i++) {
    if (dc != 1 && (dc = step(pair->c)) < 0)
      break;
    if (ds != 1 && (ds = step(pair->s)) < 0)
      break;
  }
  if (dc != 1 || ds != 1) {
    if (!bench_quiet)
      ERR_print_errors_fp(stderr);
    ERR_clear_error();
    return false;
  }
  if (SSL_get_verify_result(pair->c) != X509_V_OK)
    return false;
  /* A full handshake used the configured group (TLS 1.2 lists P-256 too,
   * for the certificate). */
  if (SSL_session_reused(pair->c) != 1 &&
      SSL_get_negotiated_group(pair->c) != pair->want_group) {
    BENCH_LOG("openssl: negotiated group %ld, not %d\n",
              (long)SSL_get_negotiated_group(pair->c), pair->want_group);
    return false;
  }
  return drain_client(pair) && byteq_avail(&pair->c2s) == 0;
}

static bool ossl_resumed(void *p) {
  ossl_pair *pair = p;
  /* TLS 1.3: psk_dhe_ke, so a group was negotiated (RFC 8446 4.2.9);
   * a TLS 1.2 ticket resumption has no key exchange. */
  return SSL_session_reused(pair->c) == 1 && SSL_session_reused(pair->s) == 1 &&
         (SSL_version(pair->c) == TLS1_2_VERSION ||
          SSL_get_negotiated_group(pair->c) != 0);
}

static bool ossl_save_session(void *e, void *p) {
  ossl_env *env = e;
  ossl_pair *pair = p;
  SSL_SESSION *sess = SSL_get1_session(pair->c);
  if (sess == NULL || SSL_SESSION_is_resumable(sess) != 1) {
    BENCH_LOG("openssl: the client has no resumable session\n");
    SSL_SESSION_free(sess);
    return false;
  }
  SSL_SESSION_free(env->session);
  env->session = sess;
  return true;
}

static bool ossl_bulk(void *p, const uint8_t *data, size_t chunk,
                      size_t total) {
  ossl_pair *pair = p;
  static uint8_t buf[16384];
  size_t got = 0;
  for (size_t sent = 0; sent < total;) {
    size_t n = total - sent < chunk ? total - sent : chunk;
    if (SSL_write(pair->c, data, (int)n) != (int)n)
      return false;
    sent += n;
    for (;;) {
      int rc = SSL_read(pair->s, buf, sizeof(buf));
      if (rc > 0) {
        got += (size_t)rc;
        continue;
      }
      if (SSL_get_error(pair->s, rc) != SSL_ERROR_WANT_READ)
        return false;
      break;
    }
  }
  return got == total;
}

const bench_lib bench_lib_openssl = {
    .name = "openssl",
    .env_new = ossl_env_new,
    .env_free = ossl_env_free,
    .pair_new = ossl_pair_new,
    .pair_free = ossl_pair_free,
    .pair_free_client = ossl_free_client,
    .pair_free_server = ossl_free_server,
    .handshake = ossl_handshake,
    .resumed = ossl_resumed,
    .save_session = ossl_save_session,
    .bulk = ossl_bulk,
};
