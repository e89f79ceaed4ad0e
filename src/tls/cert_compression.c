/* Certificate compression in the engine (RFC 8879): the context setting,
 * the per-snapshot cache of our compressed Certificate, and the steps the
 * TLS 1.3 flows take to send and receive a CompressedCertificate.  The
 * wire formats are the codecs' (msg/compressed_certificate.c,
 * ext/compress_certificate.c); the algorithms are the adapter's
 * (src/compress). */
#include <pthread.h>
#include <string.h>

#include "base/mem.h"
#include "compress/compress.h"
#include "tls/msg/msg.h"

_Static_assert(TLS_MAX_CERT_COMP <= CERT_COMP_MAX,
               "the extension codec keeps as many algorithms as a policy");

/* ---- the cache ------------------------------------------------------------*/

/* One slot per identity (the policy's chains, one per key family) and
 * algorithm (by code point): the Certificate body it was made from and
 * the whole CompressedCertificate message.  A connection whose
 * Certificate differs from the slot's (per-connection certificate
 * extensions would make it so) replaces the slot. */
typedef struct cert_comp_slot {
  uint8_t *body;
  size_t body_len;
  uint8_t *msg;
  size_t msg_len;
} cert_comp_slot;

struct cert_comp_cache {
  pthread_mutex_t lock;
  cert_comp_slot slot[TLS_MAX_IDS][TLS_MAX_CERT_COMP];
  unsigned made; /* compressions done for this snapshot */
};

cert_comp_cache *cert_comp_cache_new(void) {
  cert_comp_cache *c = moat_calloc(1, sizeof(*c));
  if (c != NULL) {
    pthread_mutex_init(&c->lock, NULL);
  }
  return c;
}

static void slot_clear(cert_comp_slot *s) {
  moat_free(s->body);
  moat_free(s->msg);
  memset(s, 0, sizeof(*s));
}

void cert_comp_cache_free(cert_comp_cache *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i < TLS_MAX_IDS; i++) {
    for (size_t j = 0; j < TLS_MAX_CERT_COMP; j++) {
      slot_clear(&c->slot[i][j]);
    }
  }
  pthread_mutex_destroy(&c->lock);
  moat_free(c);
}

/* The slot of alg: its place in the policy's list, or -1. */
static int slot_of(const tls_policy *p, uint16_t alg) {
  for (size_t i = 0; i < p->num_cert_comp; i++) {
    if (p->cert_comp[i] == alg) {
      return (int)i;
    }
  }
  return -1;
}

/* The application's algorithm alg, or NULL (a built-in one). */
static const moat_cert_compressor *custom_get(const tls_policy *p,
                                              uint16_t alg) {
  for (size_t i = 0; i < p->num_cert_comp_custom; i++) {
    if (p->cert_comp_custom[i].alg == alg) {
      return &p->cert_comp_custom[i];
    }
  }
  return NULL;
}

/* Compresses body with alg (the application's or moat's) into z: false
 * with *why set on a failure; true with nothing in z when the
 * application's compressor declined. */
static bool compress_with(const tls_policy *p, uint16_t alg,
                          const uint8_t *body, size_t body_len, builder *z,
                          tls_cause *why) {
  const moat_cert_compressor *c = custom_get(p, alg);
  if (c == NULL) {
    return ccert_build(z, alg, body, body_len, why) == MOAT_OK;
  }
  size_t cap = body_len + 1024;
  uint8_t *out = moat_malloc(cap);
  if (out == NULL) {
    cause_set(why, MOAT_ERR_NO_MEMORY, "no memory to compress a certificate");
    return false;
  }
  size_t n = c->compress(c->arg, body, body_len, out, cap);
  bool ok = n == 0 || (n <= cap && ccert_build_raw(z, alg, body_len, out, n));
  moat_free(out);
  if (!ok) {
    cause_set(why, MOAT_ERR_INTERNAL,
              "the application's certificate compressor %u returned %zu "
              "bytes of %zu",
              alg, n, cap);
  }
  return ok;
}

/* ---- policy -------------------------------------------------------------- */

void cert_comp_defaults(tls_policy *p) {
  p->num_cert_comp = 0;
  for (size_t i = 0;
       compress_builtin(i) != NULL && p->num_cert_comp < TLS_MAX_CERT_COMP;
       i++) {
    p->cert_comp[p->num_cert_comp++] = compress_builtin(i)->code;
  }
}

uint16_t cert_comp_choose(const tls_policy *p, const uint16_t *peer,
                          size_t num_peer) {
  for (size_t i = 0; i < p->num_cert_comp; i++) {
    if (ext_code_listed(peer, num_peer, p->cert_comp[i])) {
      return p->cert_comp[i];
    }
  }
  return 0;
}

/* A setter's refusal, explained in the context's detail: a name moat
 * does not know, or (known) one it was built without. */
static moat_err setting_refused(moat_context *ctx, const char *name,
                                size_t name_len, bool known) {
  int n = name_len > 64 ? 64 : (int)name_len;
  pthread_mutex_lock(&ctx->lock);
  snprintf(ctx->detail, sizeof(ctx->detail),
           known ? "certificate compression with %.*s: moat was built "
                   "without it (it has \"%s\")"
                 : "unknown certificate compression algorithm \"%.*s\" "
                   "(this moat has \"%s\")",
           n, name, moat_cert_compression_available());
  pthread_mutex_unlock(&ctx->lock);
  return MOAT_ERR_UNSUPPORTED;
}

moat_err moat_context_set_cert_compression(moat_context *ctx,
                                           const char *algs) {
  uint16_t list[TLS_MAX_CERT_COMP] = {0};
  size_t num = 0;
  const char *s = algs != NULL ? algs : "";
  while (*s != '\0') {
    const char *end = strchr(s, ':');
    size_t n = end != NULL ? (size_t)(end - s) : strlen(s);
    bool last = end == NULL;
    uint16_t code = 0;
    for (uint16_t c = COMPRESS_ZLIB; c <= COMPRESS_ZSTD; c++) {
      const char *name = moat_cert_compression_name(c);
      if (strlen(name) == n && memcmp(name, s, n) == 0) {
        code = c;
      }
    }
    if (code == 0) {
      return setting_refused(ctx, s, n, false);
    }
    if (compress_get(code) == NULL) {
      return setting_refused(ctx, s, n, true);
    }
    if (!ext_code_listed(list, num, code)) {
      list[num++] = code; /* three names at most, each once */
    }
    if (last) {
      break;
    }
    s = end + 1;
    if (*s == '\0') {
      return setting_refused(ctx, s, 0, false); /* "zlib:" */
    }
  }
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  memcpy(p->cert_comp, list, sizeof(list));
  p->num_cert_comp = num;
  p->num_cert_comp_custom = 0;
  policy_commit(ctx, p);
  return MOAT_OK;
}

moat_err moat_context_add_cert_compressor(moat_context *ctx,
                                          const moat_cert_compressor *c) {
  if (c == NULL || c->compress == NULL || c->decompress == NULL ||
      c->alg == 0) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  tls_policy *p = policy_edit(ctx);
  if (p == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  if (slot_of(p, c->alg) >= 0 || compress_get(c->alg) != NULL ||
      p->num_cert_comp == TLS_MAX_CERT_COMP) {
    snprintf(ctx->detail, sizeof(ctx->detail),
             "certificate compression algorithm %u: %s", c->alg,
             p->num_cert_comp == TLS_MAX_CERT_COMP
                 ? "the context has as many algorithms as it can hold"
                 : "that code point is taken");
    pthread_mutex_unlock(&ctx->lock);
    policy_free(p);
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  p->cert_comp[p->num_cert_comp++] = c->alg;
  p->cert_comp_custom[p->num_cert_comp_custom++] = *c;
  policy_commit(ctx, p);
  return MOAT_OK;
}

static char g_available[32];
static pthread_once_t g_available_once = PTHREAD_ONCE_INIT;

static void available_init(void) {
  size_t n = 0;
  for (size_t i = 0; compress_builtin(i) != NULL; i++) {
    n += (size_t)snprintf(g_available + n, sizeof(g_available) - n, "%s%s",
                          i > 0 ? ":" : "", compress_builtin(i)->name);
  }
}

const char *moat_cert_compression_available(void) {
  (void)pthread_once(&g_available_once, available_init);
  return g_available;
}

const char *moat_cert_compression_name(uint16_t alg) {
  switch (alg) {
  case COMPRESS_ZLIB:
    return "zlib";
  case COMPRESS_BROTLI:
    return "brotli";
  case COMPRESS_ZSTD:
    return "zstd";
  default:
    return NULL;
  }
}

uint16_t moat_conn_peer_cert_compression(const moat_conn *conn) {
  return conn->cert_comp_received;
}

uint16_t moat_conn_cert_compression(const moat_conn *conn) {
  return conn->cert_comp_sent;
}

/* ---- sending and receiving ------------------------------------------------*/

moat_err cert_comp_apply(moat_conn *conn, builder *b, uint16_t alg,
                         bool cacheable) {
  const tls_policy *pol = conn->ctx;
  int at = slot_of(pol, alg);
  if (alg == 0 || at < 0 || !bld_finish(b) || bld_len(b) < 4) {
    return MOAT_OK;
  }
  const uint8_t *body = bld_data(b) + 4;
  size_t body_len = bld_len(b) - 4;
  cert_comp_cache *cache = pol->cert_comp_cache;
  /* conn->id is one of the policy's identities when a chain is sent */
  size_t idx = 0;
  while (idx < pol->num_ids && &pol->ids[idx] != conn->id) {
    idx++;
  }
  cacheable = cacheable && idx < pol->num_ids;
  cert_comp_slot *slot = &cache->slot[idx < TLS_MAX_IDS ? idx : 0][at];
  builder z;
  if (!bld_init_alloc(&z, body_len / 2 + 64)) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "CompressedCertificate");
  }
  tls_cause why;
  bool ok = true;
  pthread_mutex_lock(&cache->lock);
  if (slot->msg != NULL && slot->body_len == body_len &&
      memcmp(slot->body, body, body_len) == 0) {
    bld_bytes(&z, slot->msg, slot->msg_len);
  } else {
    ok = compress_with(pol, alg, body, body_len, &z, &why);
    cache->made++;
    if (ok && bld_len(&z) > 0 && cacheable) {
      uint8_t *kb = moat_memdup(body, body_len);
      uint8_t *km = moat_memdup(bld_data(&z), bld_len(&z));
      if (kb != NULL && km != NULL) {
        slot_clear(slot);
        slot->body = kb;
        slot->body_len = body_len;
        slot->msg = km;
        slot->msg_len = bld_len(&z);
      } else {
        moat_free(kb);
        moat_free(km);
      }
    }
  }
  pthread_mutex_unlock(&cache->lock);
  if (!ok) {
    bld_cleanup(&z);
    return conn_fail_cause(conn, &why);
  }
  if (bld_len(&z) == 0) {
    bld_cleanup(&z); /* the application's compressor declined */
    return MOAT_OK;
  }
  bld_reset(b);
  bld_bytes(b, bld_data(&z), bld_len(&z));
  bld_cleanup(&z);
  conn->cert_comp_sent = alg;
  return MOAT_OK;
}

moat_err cert_comp_receive(moat_conn *conn, cursor body, uint8_t **out_body,
                           size_t *out_len) {
  compressed_cert m;
  tls_cause why;
  *out_body = NULL;
  *out_len = 0;
  if (ccert_parse(body, conn->ctx->cert_comp, conn->ctx->num_cert_comp, &m,
                  &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  const moat_cert_compressor *c = custom_get(conn->ctx, m.algorithm);
  if (c == NULL && ccert_expand(&m, out_body, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  if (c != NULL) {
    /* ccert_parse held the length to TLS_MAX_HANDSHAKE_MSG */
    *out_body = moat_malloc(m.uncompressed_len);
    if (*out_body == NULL) {
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "CompressedCertificate");
    }
    if (!c->decompress(c->arg, cur_data(&m.data), cur_len(&m.data), *out_body,
                       m.uncompressed_len)) {
      moat_free(*out_body);
      *out_body = NULL;
      return conn_fail(conn, MOAT_ERR_BAD_CERTIFICATE,
                       "CompressedCertificate (algorithm %u, %u bytes "
                       "announced): the application's decompressor refused "
                       "it",
                       m.algorithm, (unsigned)m.uncompressed_len);
    }
  }
  *out_len = m.uncompressed_len;
  conn->cert_comp_received = m.algorithm;
  return MOAT_OK;
}

moat_err cert_comp_body(moat_conn *conn, uint8_t type, cursor *body,
                        uint8_t **out_plain) {
  *out_plain = NULL;
  if (type != HT_COMPRESSED_CERTIFICATE) {
    return MOAT_OK;
  }
  /* RFC 8879 3: only a peer that was offered compression may use it. */
  if (!conn->hs->cert_comp_offered) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "received a CompressedCertificate, but certificate "
                     "compression was not offered");
  }
  size_t len;
  TRY(cert_comp_receive(conn, *body, out_plain, &len));
  *body = cur_make(*out_plain, len);
  return MOAT_OK;
}

/* ---- for tests ----------------------------------------------------------- */

unsigned cert_comp_made(const tls_policy *p) {
  pthread_mutex_lock(&p->cert_comp_cache->lock);
  unsigned n = p->cert_comp_cache->made;
  pthread_mutex_unlock(&p->cert_comp_cache->lock);
  return n;
}

bool cert_comp_cache_swap(const tls_policy *p, uint16_t alg, const uint8_t *msg,
                          size_t len) {
  cert_comp_cache *c = p->cert_comp_cache;
  int at = slot_of(p, alg);
  if (at < 0) {
    return false;
  }
  uint8_t *m = moat_memdup(msg, len);
  pthread_mutex_lock(&c->lock);
  cert_comp_slot *s = &c->slot[0][at];
  bool ok = m != NULL && s->msg != NULL;
  if (ok) {
    moat_free(s->msg);
    s->msg = m;
    s->msg_len = len;
  }
  pthread_mutex_unlock(&c->lock);
  if (!ok) {
    moat_free(m);
  }
  return ok;
}

bool cert_comp_cached(const tls_policy *p, uint16_t alg, uint8_t *out,
                      size_t cap, size_t *out_len) {
  cert_comp_cache *c = p->cert_comp_cache;
  int at = slot_of(p, alg);
  if (at < 0) {
    return false;
  }
  pthread_mutex_lock(&c->lock);
  cert_comp_slot *s = &c->slot[0][at];
  bool ok = s->msg != NULL && s->msg_len <= cap;
  if (ok) {
    memcpy(out, s->msg, s->msg_len);
    *out_len = s->msg_len;
  }
  pthread_mutex_unlock(&c->lock);
  return ok;
}
