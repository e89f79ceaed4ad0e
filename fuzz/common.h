/* Shared pieces of the TLS fuzz targets: an embedded test PKI, contexts
 * with fixed randomness and a fixed clock, a driver that runs a connection
 * until it stops making progress, and an injector that writes records
 * protected with the keys the target currently reads with, so that fuzzer
 * bytes reach the code behind decryption.
 *
 * Input format shared by the targets that use the injector: a stream of
 * operations, each an opcode byte and, for some, a 16-bit length and that
 * many bytes (fewer when the input ends first):
 *   op & 7 == 0  raw bytes fed to the target as they are
 *   op & 7 == 1  one protected record whose TLSInnerPlaintext is the bytes
 *                exactly (content, type, padding); unprotected without keys
 *   op & 7 == 2  handshake bytes in one record       (op >> 3 zero bytes of
 *   op & 7 == 3  application data in one record       padding when
 *   op & 7 == 4  an alert (two bytes, no length)       protected)
 *   op & 7 == 5  a CertificateVerify signed correctly by the peer's key
 *   op & 7 == 6  a Finished computed correctly from the target's transcript
 *   op & 7 == 7  the target acts: (op >> 3) % 5 picks write, KeyUpdate,
 *                KeyUpdate requesting one, shutdown, end of input
 * After each operation the target is driven until it makes no progress. */
#ifndef MOAT_FUZZ_COMMON_H
#define MOAT_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/builder.h"
#include "base/cursor.h"
#include "base/mem.h"
#include "moat.h"
#include "tls/msg/msg.h"
#include "tls/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Test PKI (P-256 CA, server and client leaves for "localhost", valid
 * 2026-11-22 .. 2126-10-29).  Test data only. */
static const char FZ_CA_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBlTCCATugAwIBAgIUIIJdY0pXI5AplA/itiRZOf6dczIwCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMbW9hdCBmdXp6IENBMCAXDTI2MTEyMjA2NTgxM1oYDzIxMjYx\n"
    "MDI5MDY1ODEzWjAXMRUwEwYDVQQDDAxtb2F0IGZ1enogQ0EwWTATBgcqhkjOPQIB\n"
    "BggqhkjOPQMBBwNCAATuB8inf1PiW8f7C7CdMJWuq4cJlLF0YrRRuSiMAUMMyQ2B\n"
    "nSClCzcSurewIwgNB14cHwxlB1AL/UrwH3u5AgQlo2MwYTAdBgNVHQ4EFgQUwg9S\n"
    "THPprLotT75lNETLCDR7uz8wHwYDVR0jBBgwFoAUwg9STHPprLotT75lNETLCDR7\n"
    "uz8wDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwID\n"
    "SAAwRQIgfgWpaQYHbE7TIojflXxY3fsaYN7OOdUhe8KIl4PKkiQCIQDzk+2BdgJu\n"
    "XwQeondzLoaaBShoGCx6BdMCpY/+pwMtRQ==\n"
    "-----END CERTIFICATE-----\n";

static const char FZ_SERVER_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBtjCCAVygAwIBAgIUDJuIz/TyIfU/zZUdrSKt4e2cChgwCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMbW9hdCBmdXp6IENBMCAXDTI2MTEyMjA2NTgxM1oYDzIxMjYx\n"
    "MDI5MDY1ODEzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggq\n"
    "hkjOPQMBBwNCAASvuiOM93idoWTthKOAsS77gQtzT62n3EMVXvu+1Tg6C7yDnqYp\n"
    "buNqT05RaXRlxOar2bVDoWuOmjzqMTC5PxIGo4GGMIGDMBQGA1UdEQQNMAuCCWxv\n"
    "Y2FsaG9zdDAJBgNVHRMEAjAAMAsGA1UdDwQEAwIHgDATBgNVHSUEDDAKBggrBgEF\n"
    "BQcDATAdBgNVHQ4EFgQUhqEvSmMSINsCsTPenyoIMxuilHkwHwYDVR0jBBgwFoAU\n"
    "wg9STHPprLotT75lNETLCDR7uz8wCgYIKoZIzj0EAwIDSAAwRQIgDt0tH/C8twwD\n"
    "SATjtagTiyYcQM263zAvfYq9vArK+bYCIQD8+FXObnTWjdwg6TdTeFrXf6nRRBxs\n"
    "vvuJxEKM7LTP4A==\n"
    "-----END CERTIFICATE-----\n";

static const char FZ_SERVER_KEY[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgke5QUERrRqWNoQmj\n"
    "WwUhhQNXdi0ZisA8rHfY+ymY4BahRANCAASvuiOM93idoWTthKOAsS77gQtzT62n\n"
    "3EMVXvu+1Tg6C7yDnqYpbuNqT05RaXRlxOar2bVDoWuOmjzqMTC5PxIG\n"
    "-----END PRIVATE KEY-----\n";

static const char FZ_CLIENT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBtjCCAVygAwIBAgIUDJuIz/TyIfU/zZUdrSKt4e2cChkwCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMbW9hdCBmdXp6IENBMCAXDTI2MTEyMjA2NTgxM1oYDzIxMjYx\n"
    "MDI5MDY1ODEzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggq\n"
    "hkjOPQMBBwNCAATiaA+xP8GBOzQfcRXt9HA9UIjw9/O51tJphTzMtPmfn0d3m9DZ\n"
    "rrPrpn5wS6yNbdvezi2Le7rhJ1wcBE9CTG+8o4GGMIGDMBQGA1UdEQQNMAuCCWxv\n"
    "Y2FsaG9zdDAJBgNVHRMEAjAAMAsGA1UdDwQEAwIHgDATBgNVHSUEDDAKBggrBgEF\n"
    "BQcDAjAdBgNVHQ4EFgQUqoh2ZTue9mjMSpNyp9PRDnM18H4wHwYDVR0jBBgwFoAU\n"
    "wg9STHPprLotT75lNETLCDR7uz8wCgYIKoZIzj0EAwIDSAAwRQIgO9JrwiawEv4a\n"
    "dG1sW7fMvNMcbF4KPOvpMsjfOAVvCYECIQCqtHpvoPeLGeaLCtQMqHQHdRX04CXO\n"
    "phE70YHdMLSRRg==\n"
    "-----END CERTIFICATE-----\n";

static const char FZ_CLIENT_KEY[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgClopbZszhu+Z56TT\n"
    "uUdNeAj9UmTTOYwaaphAKq9CigGhRANCAATiaA+xP8GBOzQfcRXt9HA9UIjw9/O5\n"
    "1tJphTzMtPmfn0d3m9DZrrPrpn5wS6yNbdvezi2Le7rhJ1wcBE9CTG+8\n"
    "-----END PRIVATE KEY-----\n";
/* The fixed time every context sees: 2030-03-17T17:46:40Z. */
#define FZ_NOW INT64_C(1900000000)

#define FZ_OP_RAW 0
#define FZ_OP_INNER 1
#define FZ_OP_HANDSHAKE 2
#define FZ_OP_APPDATA 3
#define FZ_OP_ALERT 4
#define FZ_OP_CERT_VERIFY 5
#define FZ_OP_FINISHED 6
#define FZ_OP_ACT 7

static inline int64_t fz_clock(void *arg) {
  (void)arg;
  return FZ_NOW;
}

/* Deterministic "randomness": the same bytes for the same length, so every
 * run of an input takes the same path. */
static inline bool fz_rng(void *arg, uint8_t *out, size_t len) {
  (void)arg;
  for (size_t i = 0; i < len; i++) {
    out[i] = (uint8_t)(i * 151u + 17u);
  }
  return true;
}

static inline void fz_die(const char *what, const moat_context *ctx) {
  fprintf(stderr, "fuzz setup: %s: %s\n", what,
          ctx ? moat_context_error_detail(ctx) : "");
  abort();
}

static inline moat_context *fz_context(moat_role role, bool verify,
                                       const char *suites) {
  moat_context *ctx = moat_context_new(role);
  if (ctx == NULL) {
    fz_die("moat_context_new", NULL);
  }
  moat_context_set_rng(ctx, fz_rng, NULL);
  moat_context_set_clock(ctx, fz_clock, NULL);
  const char *cert = role == MOAT_ROLE_SERVER ? FZ_SERVER_PEM : FZ_CLIENT_PEM;
  const char *key = role == MOAT_ROLE_SERVER ? FZ_SERVER_KEY : FZ_CLIENT_KEY;
  if (moat_context_load_cert_chain_mem(ctx, (const uint8_t *)cert, strlen(cert),
                                       (const uint8_t *)key, strlen(key),
                                       NULL) != MOAT_OK) {
    fz_die("load_cert_chain_mem", ctx);
  }
  if (suites != NULL && moat_context_set_ciphersuites(ctx, suites) != MOAT_OK) {
    fz_die("set_ciphersuites", ctx);
  }
  if (verify) {
    if (moat_context_load_verify_locations(ctx, NULL, NULL,
                                           (const uint8_t *)FZ_CA_PEM,
                                           strlen(FZ_CA_PEM)) != MOAT_OK) {
      fz_die("load_verify_locations", ctx);
    }
    moat_context_set_verify_mode(ctx, MOAT_VERIFY_REQUIRED);
  } else {
    moat_context_set_check_hostname(ctx, false);
    moat_context_set_verify_mode(ctx, MOAT_VERIFY_NONE);
  }
  return ctx;
}

/* A fixed ticket key in place of the context's random one, so that the
 * tickets a TLS 1.2 server issues, and so the byte streams of handshakes
 * that carry them, are the same in every run (test key only). */
static inline void fz_fixed_ticket_key(moat_context *ctx) {
  static const uint8_t key[32] = {'m', 'o', 'a', 't', ' ', 'f', 'u', 'z', 'z'};
  ctx_shared *sh = ctx->shared;
  aead_free(sh->ticket_aead);
  aead_free(sh->ticket_aead_open);
  sh->ticket_aead = aead_new(aead_get(AEAD_AES_256_GCM), key, true);
  sh->ticket_aead_open = aead_new(aead_get(AEAD_AES_256_GCM), key, false);
  memcpy(sh->ticket_key_id, "fz12", 4);
  if (sh->ticket_aead == NULL || sh->ticket_aead_open == NULL) {
    fz_die("fixed ticket key", ctx);
  }
}

/* A TLS 1.2-only context.  With the fixed randomness and clock, a fixed
 * ticket key (servers) and nothing random elsewhere, a handshake between
 * two of them is the same bytes every time: the TLS 1.2 modes of
 * fuzz_client and fuzz_server replay recorded streams of the peer
 * (fuzz/gen_corpus.c), whose signatures, Finished and records then verify,
 * and mutate them.  tickets false: session IDs only (RFC 5077 off). */
static inline moat_context *fz_context12(moat_role role, bool verify,
                                         bool tickets) {
  moat_context *ctx = fz_context(role, verify, NULL);
  if (moat_context_set_max_version(ctx, MOAT_TLS1_2) != MOAT_OK) {
    fz_die("set_max_version", ctx);
  }
  moat_context_set_session_tickets(ctx, tickets);
  if (role == MOAT_ROLE_SERVER) {
    fz_fixed_ticket_key(ctx);
  }
  return ctx;
}

static inline void fz_discard_output(moat_conn *conn) {
  uint8_t buf[4096];
  size_t n;
  while (moat_conn_pending_output(conn) > 0) {
    moat_conn_take_output(conn, buf, sizeof(buf), &n);
  }
}

/* Runs the handshake, then reads, until the connection stops making
 * progress; everything it writes is thrown away.  Reads take turns with
 * buffers of several sizes, so records are opened whole into the buffer,
 * split between it and the record buffer, or in place. */
static inline moat_err fz_drive(moat_conn *conn) {
  static const size_t caps[] = {4096, 1, 17, 300};
  moat_err e = MOAT_OK;
  for (int i = 0; i < 256; i++) {
    uint8_t buf[4096];
    size_t n = 0;
    if (!moat_conn_handshake_done(conn)) {
      e = moat_conn_handshake(conn);
    } else {
      e = moat_conn_read(conn, buf, caps[i % 4], &n);
    }
    fz_discard_output(conn);
    if (e != MOAT_OK || (moat_conn_handshake_done(conn) && n == 0 && i > 0)) {
      break;
    }
  }
  return e;
}

/* Feeds all of data, driving the connection whenever its buffer is full. */
static inline void fz_feed(moat_conn *conn, const uint8_t *data, size_t len) {
  while (len > 0) {
    size_t used = 0;
    if (moat_conn_feed(conn, data, len, &used) != MOAT_OK) {
      return;
    }
    data += used;
    len -= used;
    fz_drive(conn);
    if (used == 0 && moat_conn_error(conn) != MOAT_OK) {
      return;
    }
    if (used == 0) {
      size_t again = 0;
      if (moat_conn_feed(conn, data, len, &again) != MOAT_OK || again == 0) {
        return;
      }
      data += again;
      len -= again;
      fz_drive(conn);
    }
  }
}

/* Moves everything from one connection to the other. */
static inline void fz_shuttle(moat_conn *from, moat_conn *to) {
  uint8_t buf[4096];
  size_t n;
  while (moat_conn_pending_output(from) > 0) {
    moat_conn_take_output(from, buf, sizeof(buf), &n);
    size_t off = 0;
    while (off < n) {
      size_t used = 0;
      if (moat_conn_feed(to, buf + off, n - off, &used) != MOAT_OK ||
          used == 0) {
        return;
      }
      off += used;
    }
  }
}

/* A full handshake between c and s in memory; true when both finished. */
static inline bool fz_handshake_pair(moat_conn *c, moat_conn *s) {
  moat_err ce = MOAT_ERR_WANT_READ, se = MOAT_ERR_WANT_READ;
  for (int i = 0; i < 16; i++) {
    if (ce != MOAT_OK) {
      ce = moat_conn_handshake(c);
    }
    fz_shuttle(c, s);
    if (se != MOAT_OK) {
      se = moat_conn_handshake(s);
    }
    fz_shuttle(s, c);
    if (ce == MOAT_OK && se == MOAT_OK) {
      break;
    }
    if ((ce != MOAT_OK && ce != MOAT_ERR_WANT_READ) ||
        (se != MOAT_OK && se != MOAT_ERR_WANT_READ)) {
      return false;
    }
  }
  /* Tickets and anything else still in flight. */
  fz_shuttle(c, s);
  fz_shuttle(s, c);
  fz_drive(c);
  fz_drive(s);
  return ce == MOAT_OK && se == MOAT_OK && moat_conn_handshake_done(c) &&
         moat_conn_handshake_done(s);
}

/* A session (ticket and PSK) from one full handshake between client and
 * server, for the targets' resumption modes; the ticket opens only with
 * server's ticket key, so it is made once per server context. */
static inline moat_session *fz_session(moat_context *client,
                                       moat_context *server) {
  moat_conn *c = moat_conn_new(client);
  moat_conn *s = moat_conn_new(server);
  if (c == NULL || s == NULL ||
      moat_conn_set_hostname(c, "localhost") != MOAT_OK ||
      !fz_handshake_pair(c, s)) {
    fz_die("the handshake that makes a session", client);
  }
  moat_session *sess = moat_conn_get_session(c);
  if (sess == NULL) {
    fz_die("the server sent no ticket", server);
  }
  moat_conn_free(c);
  moat_conn_free(s);
  return sess;
}

/* ---- injector
 * --------------------------------------------------------------*/

typedef struct fz_inj {
  moat_conn *target;
  const privkey *peer_key; /* signs CertificateVerify as the peer */
  rec_dir wr;
  uint8_t secret[HASH_MAX_LEN];
  const hash_alg *hash;
  hmac_ctx *hmac;
} fz_inj;

static inline void fz_inj_init(fz_inj *in, moat_conn *target,
                               const privkey *peer_key) {
  memset(in, 0, sizeof(*in));
  in->target = target;
  in->peer_key = peer_key;
}

static inline void fz_inj_clear(fz_inj *in) {
  rec_dir_clear(&in->wr);
  hmac_free(in->hmac);
  moat_wipe(in, sizeof(*in));
}

/* The secret the target reads with now, or NULL while it reads plaintext. */
static inline const uint8_t *fz_read_secret(const moat_conn *t) {
  bool srv = t->is_server;
  if (t->version == MOAT_TLS1_2) {
    return NULL; /* TLS 1.2 inputs are recorded byte streams (fz_context12) */
  }
  if (t->handshake_done) {
    return srv ? t->c_ap : t->s_ap;
  }
  if (t->hs == NULL || !t->rd.active || t->hs->ks.hash == NULL) {
    return NULL;
  }
  if (t->hs->proof_finished) {
    return srv ? t->hs->ks.c_ap : t->hs->ks.s_ap;
  }
  return srv ? t->hs->ks.c_hs : t->hs->ks.s_hs;
}

/* Keys our writer with the target's read secret when it changed. */
static inline bool fz_inj_sync(fz_inj *in) {
  moat_conn *t = in->target;
  const uint8_t *sec = fz_read_secret(t);
  if (sec == NULL || t->suite == NULL) {
    return false;
  }
  const hash_alg *h = hash_get(t->suite->hash);
  if (h == NULL) {
    return false;
  }
  if (in->wr.active && in->hash == h && memcmp(sec, in->secret, h->len) == 0) {
    return true;
  }
  if (in->hmac == NULL || in->hash != h) {
    hmac_free(in->hmac);
    in->hmac = hmac_new(h);
    in->hash = h;
    if (in->hmac == NULL) {
      return false;
    }
  }
  memcpy(in->secret, sec, h->len);
  /* rec_set_key reports failure on the target; that ends the input. */
  return rec_set_key(t, &in->wr, t->suite, h, in->hmac, sec, true, NULL) ==
         MOAT_OK;
}

/* One record holding content of the given type: protected (content, type,
 * pad zero bytes) when the target has read keys, else in the clear.
 * type 0 with pad 0 writes content as the whole TLSInnerPlaintext. */
static inline void fz_inj_record(fz_inj *in, uint8_t type,
                                 const uint8_t *content, size_t len,
                                 size_t pad) {
  static uint8_t rec[TLS_RECORD_HEADER + 65536 + 64];
  moat_conn *t = in->target;
  if (!fz_inj_sync(in)) {
    if (len > 65535) {
      len = 65535;
    }
    rec[0] = type == 0 ? CT_HANDSHAKE : type;
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = (uint8_t)(len >> 8);
    rec[4] = (uint8_t)len;
    if (len > 0) {
      memcpy(rec + TLS_RECORD_HEADER, content, len);
    }
    fz_feed(t, rec, TLS_RECORD_HEADER + len);
    return;
  }
  size_t tag = in->wr.alg->tag_len;
  size_t extra = (type != 0 ? 1 : 0) + pad;
  if (len + extra + tag > 65535) {
    len = 65535 - extra - tag;
  }
  uint8_t *p = rec + TLS_RECORD_HEADER;
  if (len > 0) {
    memcpy(p, content, len);
  }
  size_t n = len;
  if (type != 0) {
    p[n++] = type;
  }
  memset(p + n, 0, pad);
  n += pad;
  size_t body = n + tag;
  rec[0] = CT_APPLICATION_DATA;
  rec[1] = 3;
  rec[2] = 3;
  rec[3] = (uint8_t)(body >> 8);
  rec[4] = (uint8_t)body;
  uint8_t nonce[AEAD_NONCE_LEN];
  memcpy(nonce, in->wr.iv, AEAD_NONCE_LEN);
  for (size_t i = 0; i < 8; i++) {
    nonce[AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(in->wr.seq >> (8 * i));
  }
  if (!aead_seal(&in->wr.aead, nonce, rec, TLS_RECORD_HEADER, p, n, p)) {
    return;
  }
  in->wr.seq++;
  fz_feed(t, rec, TLS_RECORD_HEADER + body);
}

/* A Finished the target will accept: the peer's finished key over the
 * target's transcript so far (RFC 8446 4.4.4). */
static inline void fz_inj_finished(fz_inj *in) {
  moat_conn *t = in->target;
  handshake *hs = t->hs;
  if (hs == NULL || hs->transcript == NULL || hs->ks.hash == NULL) {
    return;
  }
  uint8_t th[HASH_MAX_LEN], msg[4 + HASH_MAX_LEN];
  const uint8_t *base = t->is_server ? hs->ks.c_hs : hs->ks.s_hs;
  size_t n = hs->ks.hash->len;
  if (!hs_transcript_hash(t, th) || !ks_finished(&hs->ks, base, th, msg + 4)) {
    return;
  }
  msg[0] = HT_FINISHED;
  msg[1] = 0;
  msg[2] = 0;
  msg[3] = (uint8_t)n;
  fz_inj_record(in, CT_HANDSHAKE, msg, 4 + n, 0);
}

/* A CertificateVerify signed by the peer's key (ecdsa_secp256r1_sha256)
 * over the target's transcript so far (RFC 8446 4.4.3). */
static inline void fz_inj_cert_verify(fz_inj *in) {
  moat_conn *t = in->target;
  handshake *hs = t->hs;
  const sig_scheme *scheme = sig_scheme_by_code(0x0403);
  if (hs == NULL || hs->transcript == NULL || in->peer_key == NULL ||
      scheme == NULL) {
    return;
  }
  uint8_t th[HASH_MAX_LEN], content[64 + 34 + HASH_MAX_LEN];
  if (!hs_transcript_hash(t, th)) {
    return;
  }
  size_t n =
      cv_content(!t->is_server, th, hash_ctx_alg(hs->transcript)->len, content);
  uint8_t msg[8 + 512];
  size_t sig_len = sizeof(msg) - 8;
  if (privkey_max_sig_len(in->peer_key) > sig_len ||
      !privkey_sign(in->peer_key, scheme, content, n, msg + 8, &sig_len)) {
    return;
  }
  size_t body = 4 + sig_len;
  msg[0] = HT_CERTIFICATE_VERIFY;
  msg[1] = 0;
  msg[2] = (uint8_t)(body >> 8);
  msg[3] = (uint8_t)body;
  msg[4] = 0x04;
  msg[5] = 0x03;
  msg[6] = (uint8_t)(sig_len >> 8);
  msg[7] = (uint8_t)sig_len;
  fz_inj_record(in, CT_HANDSHAKE, msg, 8 + sig_len, 0);
}

static inline void fz_act(moat_conn *t, unsigned what) {
  size_t w;
  switch (what % 5) {
  case 0:
    if (moat_conn_handshake_done(t)) {
      (void)moat_conn_write(t, (const uint8_t *)"ping", 4, &w);
    }
    break;
  case 1:
  case 2:
    if (moat_conn_handshake_done(t)) {
      (void)moat_conn_key_update(t, what % 5 == 2);
    }
    break;
  case 3:
    (void)moat_conn_shutdown(t);
    break;
  default:
    (void)moat_conn_feed_eof(t);
    break;
  }
  fz_discard_output(t);
}

/* Runs the operation stream described at the top of this file. */
static inline void fz_run_ops(fz_inj *in, cursor c) {
  moat_conn *t = in->target;
  uint8_t op;
  while (cur_u8(&c, &op) && moat_conn_error(t) == MOAT_OK) {
    unsigned kind = op & 7, hi = op >> 3;
    cursor arg = cur_make(NULL, 0);
    if (kind <= FZ_OP_APPDATA) {
      uint16_t len = 0;
      if (!cur_u16(&c, &len) || !cur_sub(&c, len, &arg)) {
        arg = c;
        cur_skip(&c, cur_len(&c));
      }
    } else if (kind == FZ_OP_ALERT) {
      if (!cur_sub(&c, 2, &arg)) {
        arg = c;
        cur_skip(&c, cur_len(&c));
      }
    }
    switch (kind) {
    case FZ_OP_RAW:
      fz_feed(t, cur_data(&arg), cur_len(&arg));
      break;
    case FZ_OP_INNER:
      fz_inj_record(in, 0, cur_data(&arg), cur_len(&arg), 0);
      break;
    case FZ_OP_HANDSHAKE:
      fz_inj_record(in, CT_HANDSHAKE, cur_data(&arg), cur_len(&arg), hi);
      break;
    case FZ_OP_APPDATA:
      fz_inj_record(in, CT_APPLICATION_DATA, cur_data(&arg), cur_len(&arg), hi);
      break;
    case FZ_OP_ALERT:
      fz_inj_record(in, CT_ALERT, cur_data(&arg), cur_len(&arg), hi);
      break;
    case FZ_OP_CERT_VERIFY:
      fz_inj_cert_verify(in);
      break;
    case FZ_OP_FINISHED:
      fz_inj_finished(in);
      break;
    default:
      fz_act(t, hi);
      break;
    }
    fz_drive(t);
  }
}

/* ---- bare connections for the message and extension parsers -------------*/

/* A fresh connection on ctx; with_hs also gives it handshake state: a
 * SHA-256 transcript and, as the peer's key, the key of the embedded
 * server certificate (client role) or client certificate (server role). */
static inline moat_conn *fz_bare_conn(moat_context *ctx, bool with_hs) {
  moat_conn *conn = moat_conn_new(ctx);
  if (conn == NULL) {
    abort();
  }
  if (!with_hs) {
    return conn;
  }
  static moat_context *peer[2];
  int i = conn->is_server ? 1 : 0;
  if (peer[i] == NULL) {
    peer[i] = fz_context(conn->is_server ? MOAT_ROLE_CLIENT : MOAT_ROLE_SERVER,
                         false, NULL);
  }
  conn->hs = hs_new();
  if (conn->hs == NULL) {
    abort();
  }
  conn->hs->transcript = hash_new(hash_get(HASH_SHA256));
  if (conn->hs->transcript == NULL ||
      cert_leaf_pubkey(conn, peer[i]->pol->ids[0].chain_der[0],
                       peer[i]->pol->ids[0].chain_len[0],
                       &conn->hs->peer_key) != MOAT_OK) {
    abort();
  }
  return conn;
}

/* The connection for one input of a message-parser target: a bare
 * connection (as fz_bare_conn) on a context of the given role, made on the
 * first call and kept in *ctx. */
static inline moat_conn *fz_msg_conn(moat_context **ctx, moat_role role,
                                     bool with_hs) {
  if (*ctx == NULL) {
    *ctx = fz_context(role, false, NULL);
  }
  return fz_bare_conn(*ctx, with_hs);
}

/* A context's policy, made on the first call and kept in *ctx, for the
 * codec targets, which need no connection. */
static inline const tls_policy *fz_policy(moat_context **ctx, moat_role role) {
  if (*ctx == NULL) {
    *ctx = fz_context(role, false, NULL);
    const char *alpn[] = {"h2", "http/1.1"};
    if (moat_context_set_alpn_protocols(*ctx, alpn, 2) != MOAT_OK) {
      abort();
    }
  }
  return context_policy(*ctx);
}

/* The PSK offer of a ClientHello (whole) read to its end, as the server
 * flow walks it. */
static inline void fz_psk_offer(cursor data, cursor whole) {
  ext_psk_offer offer;
  tls_cause why;
  if (ext_psk_parse_ch(data, whole, &offer, &why) != MOAT_OK) {
    return;
  }
  uint32_t age;
  cursor id, binder;
  bool end = false;
  for (uint16_t i = 0; !end; i++) {
    if (ext_psk_next(&offer, i, &id, &age, &binder, &end, &why) != MOAT_OK) {
      return;
    }
  }
}

/* The extension codecs a server runs on a ClientHello's extensions: the
 * table's readers, then those the flows call themselves. */
static inline void fz_parse_ch_extensions(const tls_policy *pol,
                                          const ext_set *e) {
  ext_params p = {.policy = pol, .peer = "client"};
  ext_values v;
  tls_cause why;
  uint16_t list[64];
  size_t n, total;
  bool found;
  cursor out;
  if (ext_read_block(e, M_CH, ~(uint32_t)0, &p, &v, &why) == MOAT_OK &&
      ext_has(e, X_ALPN)) {
    (void)ext_alpn_select(v.alpn, pol, &out, &why);
  }
  if (ext_has(e, X_SIGNATURE_ALGORITHMS_CERT)) {
    (void)ext_sigalgs_parse(e->data[X_SIGNATURE_ALGORITHMS_CERT], list, 64, &n,
                            &why);
  }
  if (ext_has(e, X_KEY_SHARE)) {
    (void)ext_key_share_groups(e->data[X_KEY_SHARE], list, 64, &n, &total,
                               &why);
    (void)ext_key_share_find(e->data[X_KEY_SHARE], 0x001d, &out, &found, &why);
    (void)ext_key_share_find(e->data[X_KEY_SHARE], 0x0017, &out, &found, &why);
  }
}

#endif
