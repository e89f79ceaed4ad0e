/* Context options that Python's ssl needs from the C library: the
 * cipher-string grammar and cipher descriptions, session statistics,
 * verification text, public randomness, tls-unique and the SNI alert. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "tls/tls.h"
#include "x509/x509.h"

/* ---- the TLS 1.2 suites a cipher string chooses from ----------------------
 * ECDHE with an AEAD only (DESIGN.md: no CBC, RC4, 3DES, NULL, export or
 * static-RSA suites).  The order is the default preference. */

enum { AU_RSA = 1, AU_ECDSA = 2 };
enum { EN_AES128 = 1, EN_AES256 = 2, EN_CHACHA = 4 };

typedef struct tls12_desc {
  uint16_t code;
  const char *iana;
  const char *openssl;
  int auth;      /* AU_* */
  int enc;       /* EN_* */
  int hash_bits; /* PRF hash: 256 or 384 */
  int bits;
  const char *symmetric;
  const char *description;
} tls12_desc;

/* clang-format off */
static const tls12_desc k12[] = {
  {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384",
   AU_ECDSA, EN_AES256, 384, 256, "aes-256-gcm",
   "ECDHE-ECDSA-AES256-GCM-SHA384  TLSv1.2 Kx=ECDH     Au=ECDSA Enc=AESGCM(256)            Mac=AEAD"},
  {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
   AU_RSA, EN_AES256, 384, 256, "aes-256-gcm",
   "ECDHE-RSA-AES256-GCM-SHA384    TLSv1.2 Kx=ECDH     Au=RSA   Enc=AESGCM(256)            Mac=AEAD"},
  {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
   AU_ECDSA, EN_AES128, 256, 128, "aes-128-gcm",
   "ECDHE-ECDSA-AES128-GCM-SHA256  TLSv1.2 Kx=ECDH     Au=ECDSA Enc=AESGCM(128)            Mac=AEAD"},
  {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
   AU_RSA, EN_AES128, 256, 128, "aes-128-gcm",
   "ECDHE-RSA-AES128-GCM-SHA256    TLSv1.2 Kx=ECDH     Au=RSA   Enc=AESGCM(128)            Mac=AEAD"},
  {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
   AU_ECDSA, EN_CHACHA, 256, 256, "chacha20-poly1305",
   "ECDHE-ECDSA-CHACHA20-POLY1305  TLSv1.2 Kx=ECDH     Au=ECDSA Enc=CHACHA20/POLY1305(256) Mac=AEAD"},
  {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
   AU_RSA, EN_CHACHA, 256, 256, "chacha20-poly1305",
   "ECDHE-RSA-CHACHA20-POLY1305    TLSv1.2 Kx=ECDH     Au=RSA   Enc=CHACHA20/POLY1305(256) Mac=AEAD"},
};
/* clang-format on */
#define NUM12 (sizeof(k12) / sizeof(k12[0]))
#define ALL12 ((1u << NUM12) - 1)

static uint32_t match(bool (*pred)(const tls12_desc *)) {
  uint32_t m = 0;
  for (size_t i = 0; i < NUM12; i++) {
    if (pred(&k12[i])) {
      m |= 1u << i;
    }
  }
  return m;
}

static bool p_rsa(const tls12_desc *d) {
  return d->auth == AU_RSA;
}
static bool p_ecdsa(const tls12_desc *d) {
  return d->auth == AU_ECDSA;
}
static bool p_aes128(const tls12_desc *d) {
  return d->enc == EN_AES128;
}
static bool p_aes256(const tls12_desc *d) {
  return d->enc == EN_AES256;
}
static bool p_aesgcm(const tls12_desc *d) {
  return d->enc != EN_CHACHA;
}
static bool p_chacha(const tls12_desc *d) {
  return d->enc == EN_CHACHA;
}
static bool p_sha256(const tls12_desc *d) {
  return d->hash_bits == 256;
}
static bool p_sha384(const tls12_desc *d) {
  return d->hash_bits == 384;
}

/* One word of a cipher string: a suite name or an alias, as a set of
 * k12 indexes.  Words that name only what moat refuses (RC4, DHE, PSK,
 * ...) or nothing at all match nothing, as OpenSSL ignores them. */
static uint32_t word_set(const char *w, size_t n) {
  static const struct {
    const char *name;
    int kind; /* 0 all, 1..8 predicates */
  } aliases[] = {
      {"ALL", 0},
      {"DEFAULT", 0},
      {"HIGH", 0},
      {"ECDHE", 0},
      {"EECDH", 0},
      {"ECDH", 0},
      {"kECDHE", 0},
      {"kEECDH", 0},
      {"AEAD", 0},
      {"TLSv1.2", 0},
      {"FIPS", 0},
      {"aRSA", 1},
      {"RSA", 1},
      {"aECDSA", 2},
      {"ECDSA", 2},
      {"AES128", 3},
      {"AES256", 4},
      {"AES", 5},
      {"AESGCM", 5},
      {"CHACHA20", 6},
      {"SHA256", 7},
      {"SHA384", 8},
      {"COMPLEMENTOFALL", 9},
      {"COMPLEMENTOFDEFAULT", 9},
  };
  static bool (*const preds[])(const tls12_desc *) = {
      NULL,     p_rsa,    p_ecdsa,  p_aes128, p_aes256,
      p_aesgcm, p_chacha, p_sha256, p_sha384};
  for (size_t i = 0; i < NUM12; i++) {
    if ((strlen(k12[i].openssl) == n &&
         strncasecmp(k12[i].openssl, w, n) == 0) ||
        (strlen(k12[i].iana) == n && strncasecmp(k12[i].iana, w, n) == 0)) {
      return 1u << i;
    }
  }
  for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
    if (strlen(aliases[i].name) == n && strncmp(aliases[i].name, w, n) == 0) {
      int k = aliases[i].kind;
      return k == 0 ? ALL12 : k == 9 ? 0 : match(preds[k]);
    }
  }
  return 0;
}

static int by_strength(const void *a, const void *b) {
  /* stable: equal strengths keep their order (index tiebreak) */
  const int *x = a, *y = b;
  int bx = k12[x[0]].bits, by = k12[y[0]].bits;
  if (bx != by) {
    return by - bx;
  }
  return x[1] - y[1];
}

moat_err moat_context_set_cipher_list(moat_context *ctx, const char *spec) {
  if (spec == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  int order[NUM12];
  size_t num = 0;
  uint32_t killed = 0;
  const char *p = spec;
  while (*p != '\0') {
    while (*p == ':' || *p == ',' || *p == ' ' || *p == ';') {
      p++;
    }
    if (*p == '\0') {
      break;
    }
    const char *end = p;
    while (*end != '\0' && *end != ':' && *end != ',' && *end != ' ' &&
           *end != ';') {
      end++;
    }
    char op = 0;
    if (*p == '!' || *p == '-' || *p == '+') {
      op = *p++;
    }
    size_t n = (size_t)(end - p);
    if (n == 9 && strncmp(p, "@STRENGTH", 9) == 0) {
      int keyed[NUM12][2];
      for (size_t i = 0; i < num; i++) {
        keyed[i][0] = order[i];
        keyed[i][1] = (int)i;
      }
      qsort(keyed, num, sizeof(keyed[0]), by_strength);
      for (size_t i = 0; i < num; i++) {
        order[i] = keyed[i][0];
      }
    } else if (n > 10 && strncmp(p, "@SECLEVEL=", 10) == 0) {
      /* every moat suite meets level 3 (128-bit security, no SHA-1) */
    } else {
      uint32_t set = ALL12;
      const char *w = p;
      while (w < end) {
        const char *we = w;
        while (we < end && *we != '+') {
          we++;
        }
        set &= word_set(w, (size_t)(we - w));
        w = we < end ? we + 1 : we;
      }
      size_t keep = 0;
      switch (op) {
      case '!':
        killed |= set;
        /* fallthrough is not used: remove below */
        for (size_t i = 0; i < num; i++) {
          if (!(set & (1u << order[i]))) {
            order[keep++] = order[i];
          }
        }
        num = keep;
        break;
      case '-':
        for (size_t i = 0; i < num; i++) {
          if (!(set & (1u << order[i]))) {
            order[keep++] = order[i];
          }
        }
        num = keep;
        break;
      case '+': {
        int moved[NUM12];
        size_t nm = 0;
        for (size_t i = 0; i < num; i++) {
          if (set & (1u << order[i])) {
            moved[nm++] = order[i];
          } else {
            order[keep++] = order[i];
          }
        }
        memcpy(order + keep, moved, nm * sizeof(int));
        break;
      }
      default:
        for (size_t i = 0; i < NUM12; i++) {
          bool active = false;
          for (size_t j = 0; j < num; j++) {
            active |= order[j] == (int)i;
          }
          if ((set & (1u << i)) && !(killed & (1u << i)) && !active) {
            order[num++] = (int)i;
          }
        }
        break;
      }
    }
    p = end;
  }
  if (num == 0) {
    pthread_mutex_lock(&ctx->lock);
    snprintf(ctx->detail, sizeof(ctx->detail),
             "no cipher can be selected from \"%.200s\"", spec);
    pthread_mutex_unlock(&ctx->lock);
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  tls_policy *pol = policy_edit(ctx);
  if (pol == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  /* The TLS 1.3 suites stay as they are (OpenSSL sets them apart, with
   * moat_context_set_ciphersuites); the TLS 1.2 ones are replaced. */
  size_t keep = 0;
  for (size_t i = 0; i < pol->num_suites; i++) {
    if (pol->suites[i]->version == MOAT_TLS1_3) {
      pol->suites[keep++] = pol->suites[i];
    }
  }
  for (size_t i = 0; i < num && keep < TLS_MAX_SUITES; i++) {
    const tls_suite *su = suite_by_code(k12[order[i]].code);
    if (su != NULL) {
      pol->suites[keep++] = su;
    }
  }
  pol->num_suites = keep;
  policy_commit(ctx, pol);
  return MOAT_OK;
}

size_t moat_context_tls12_suites(const moat_context *handle, uint16_t *out,
                                 size_t cap) {
  const tls_policy *ctx = context_policy(handle);
  size_t n = 0;
  for (size_t i = 0; i < ctx->num_suites; i++) {
    if (ctx->suites[i]->version == MOAT_TLS1_2) {
      if (n < cap) {
        out[n] = ctx->suites[i]->code;
      }
      n++;
    }
  }
  policy_free(ctx);
  return n;
}

static void info12(const tls12_desc *d, moat_cipher_info *out) {
  out->id = 0x03000000u | d->code;
  out->name = d->iana;
  out->openssl_name = d->openssl;
  out->protocol = "TLSv1.2";
  out->description = d->description;
  out->bits = d->bits;
  out->aead = true;
  out->symmetric = d->symmetric;
  out->digest = NULL;
  out->kea = "kx-ecdhe";
  out->auth = d->auth == AU_RSA ? "auth-rsa" : "auth-ecdsa";
}

static void info13(const tls_suite *s, moat_cipher_info *out) {
  out->id = 0x03000000u | s->code;
  out->name = s->name;
  out->openssl_name = s->openssl_name;
  out->protocol = "TLSv1.3";
  out->bits = s->bits;
  out->aead = true;
  out->digest = NULL;
  out->kea = "kx-any";
  out->auth = "auth-any";
  switch (s->code) {
  case 0x1301:
    out->symmetric = "aes-128-gcm";
    out->description = "TLS_AES_128_GCM_SHA256         TLSv1.3 Kx=any      "
                       "Au=any   Enc=AESGCM(128)            Mac=AEAD";
    break;
  case 0x1302:
    out->symmetric = "aes-256-gcm";
    out->description = "TLS_AES_256_GCM_SHA384         TLSv1.3 Kx=any      "
                       "Au=any   Enc=AESGCM(256)            Mac=AEAD";
    break;
  default:
    out->symmetric = "chacha20-poly1305";
    out->description = "TLS_CHACHA20_POLY1305_SHA256   TLSv1.3 Kx=any      "
                       "Au=any   Enc=CHACHA20/POLY1305(256) Mac=AEAD";
    break;
  }
}

static bool suite_info(const tls_suite *su, moat_cipher_info *out) {
  if (su->version == MOAT_TLS1_3) {
    info13(su, out);
    return true;
  }
  for (size_t i = 0; i < NUM12; i++) {
    if (k12[i].code == su->code) {
      info12(&k12[i], out);
      return true;
    }
  }
  return false;
}

/* The index-th suite, TLS 1.3 ones first (as OpenSSL lists them). */
static bool policy_cipher(const tls_policy *ctx, size_t index,
                          moat_cipher_info *out) {
  for (int pass = 0; pass < 2; pass++) {
    uint16_t want = pass == 0 ? MOAT_TLS1_3 : MOAT_TLS1_2;
    for (size_t i = 0; i < ctx->num_suites; i++) {
      if (ctx->suites[i]->version == want && index-- == 0) {
        return suite_info(ctx->suites[i], out);
      }
    }
  }
  return false;
}

bool moat_context_cipher(const moat_context *handle, size_t index,
                         moat_cipher_info *out) {
  const tls_policy *ctx = context_policy(handle);
  bool ok = policy_cipher(ctx, index, out);
  policy_free(ctx);
  return ok;
}

bool moat_conn_shared_cipher(const moat_conn *conn, size_t index,
                             moat_cipher_info *out) {
  /* The client's offer is not kept after the handshake; the suite both
   * sides agreed on is shared by definition. */
  if (!conn->is_server || !conn->handshake_done || conn->suite == NULL ||
      index > 0) {
    return false;
  }
  return suite_info(conn->suite, out);
}

/* ---- session statistics
 * ----------------------------------------------------*/

void ctx_count_start(moat_conn *conn) {
  ctx_shared *ctx = conn->ctx->shared;
  if (conn->counted_start) {
    return;
  }
  conn->counted_start = true;
  atomic_fetch_add(conn->is_server ? &ctx->st_accept : &ctx->st_connect, 1);
}

void ctx_count_done(moat_conn *conn, bool offered) {
  ctx_shared *ctx = conn->ctx->shared;
  atomic_fetch_add(
      conn->is_server ? &ctx->st_accept_good : &ctx->st_connect_good, 1);
  if (conn->resumed) {
    atomic_fetch_add(&ctx->st_hits, 1);
  } else if (offered) {
    atomic_fetch_add(&ctx->st_misses, 1);
  }
}

void moat_context_session_stats(const moat_context *handle,
                                moat_session_stats *out) {
  const ctx_shared *ctx = handle->shared;
  memset(out, 0, sizeof(*out));
  out->connect = atomic_load(&ctx->st_connect);
  out->connect_good = atomic_load(&ctx->st_connect_good);
  out->accept = atomic_load(&ctx->st_accept);
  out->accept_good = atomic_load(&ctx->st_accept_good);
  out->hits = atomic_load(&ctx->st_hits);
  out->misses = atomic_load(&ctx->st_misses);
  sess_cache_stats(ctx->sess_cache, out);
}

/* ---- small calls
 * ----------------------------------------------------------------*/

const char *moat_verify_code_text(long code) {
  return x509_verify_code_text(code);
}

moat_err moat_random_bytes(uint8_t *out, size_t len) {
  if (out == NULL && len > 0) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  return crypto_random(out, len) ? MOAT_OK : MOAT_ERR_CRYPTO;
}

/* RFC 5929 3.1: tls-unique is the first Finished of the latest handshake;
 * for TLS 1.3 (where RFC 9266 leaves it undefined) moat gives what
 * OpenSSL gives, which Python's ssl reports: the client's Finished of a
 * full handshake, the server's of a resumed one. */
void conn_note_finished(moat_conn *conn, bool client_fin, const uint8_t *vd,
                        size_t len) {
  bool resumed =
      conn->hs != NULL && (conn->hs->psk_accepted || conn->hs->resumed12);
  if (client_fin != resumed && len <= sizeof(conn->tls_unique)) {
    memcpy(conn->tls_unique, vd, len);
    conn->tls_unique_len = len;
  }
}

moat_err moat_conn_tls_unique(const moat_conn *conn, uint8_t *out, size_t cap,
                              size_t *out_len) {
  *out_len = 0;
  if (!conn->handshake_done || conn->tls_unique_len == 0) {
    return MOAT_ERR_BAD_STATE;
  }
  if (cap < conn->tls_unique_len) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  memcpy(out, conn->tls_unique, conn->tls_unique_len);
  *out_len = conn->tls_unique_len;
  return MOAT_OK;
}

/* RFC 8446 7.5: HKDF-Expand-Label(Derive-Secret(exporter_master_secret,
 * label, ""), "exporter", Hash(context), length).  TLS 1.2: RFC 5705. */
moat_err moat_conn_export_keying_material(moat_conn *conn, const char *label,
                                          const uint8_t *context,
                                          size_t context_len, bool use_context,
                                          uint8_t *out, size_t out_len) {
  if (!conn->handshake_done || conn->failed) {
    return MOAT_ERR_BAD_STATE;
  }
  if (label == NULL || strlen(label) > 249 || out_len == 0 ||
      (context_len > 0 && context == NULL)) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  if (conn->version == MOAT_TLS1_2) {
    /* RFC 5705 4: labels reserved by the protocol itself. */
    static const char *const reserved[] = {"client finished", "server finished",
                                           "master secret", "key expansion",
                                           "extended master secret"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
      if (strcmp(label, reserved[i]) == 0) {
        return MOAT_ERR_INVALID_ARGUMENT;
      }
    }
    return tls12_export(conn, label, context, context_len, use_context, out,
                        out_len);
  }
  const hash_alg *h = hash_get(conn->suite->hash);
  hmac_ctx *hmac = conn_hmac(conn);
  uint8_t secret[HASH_MAX_LEN], ctx_hash[HASH_MAX_LEN];
  const uint8_t *empty = ks_empty_hash(h);
  /* RFC 8446 7.5: no context and an empty one are the same. */
  bool ok =
      hmac != NULL && empty != NULL &&
      hash_oneshot(h, context, use_context ? context_len : 0, ctx_hash) &&
      derive_secret(h, hmac, conn->exporter_secret, label, empty, secret) &&
      hkdf_expand_label(hmac, secret, h->len, "exporter", ctx_hash, h->len, out,
                        out_len);
  moat_wipe(secret, sizeof(secret));
  return ok ? MOAT_OK : MOAT_ERR_CRYPTO;
}

moat_err moat_conn_verify_client_post_handshake(moat_conn *conn) {
  if (!conn->is_server) {
    return MOAT_ERR_BAD_STATE;
  }
  return MOAT_ERR_UNSUPPORTED;
}

void moat_conn_set_sni_alert(moat_conn *conn, int alert) {
  conn->sni_alert = alert;
}

void moat_context_set_alpn_required(moat_context *ctx, bool required) {
  tls_policy *p = policy_edit(ctx);
  if (p != NULL) {
    p->alpn_mismatch_ok = !required;
    policy_commit(ctx, p);
  }
}

moat_err moat_session_id(const moat_session *session, uint8_t out[32],
                         size_t *out_len) {
  *out_len = 0;
  if (session->session_id_len > 0 && session->session_id_len <= 32) {
    memcpy(out, session->session_id, session->session_id_len);
    *out_len = session->session_id_len;
    return MOAT_OK;
  }
  /* A TLS 1.3 ticket: a digest of the ticket names it without showing
   * the ticket itself. */
  const hash_alg *h = hash_get(HASH_SHA256);
  if (session->ticket == NULL || h == NULL ||
      !hash_oneshot(h, session->ticket, session->ticket_len, out)) {
    return MOAT_ERR_BAD_STATE;
  }
  *out_len = 32;
  return MOAT_OK;
}
