/* Writes the seed corpora of the TLS fuzz targets into DIR/<target>/ from
 * real moat<->moat handshakes with the fixed randomness of fuzz/common.h.
 * Built on demand (see docs/fuzzing.md); not part of the normal build. */
#include <stdio.h>
#include <sys/stat.h>

#include "common.h"
#include "compress/compress.h"

static const char *g_dir;
static int g_count;

static void put(const char *target, const char *name, const uint8_t *data,
                size_t len) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", g_dir, target);
  mkdir(path, 0755);
  snprintf(path, sizeof(path), "%s/%s/%s", g_dir, target, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  g_count++;
}

/* An operation stream under construction. */
typedef struct ops {
  uint8_t buf[65536];
  size_t len;
} ops;

static void op_start(ops *o, uint8_t mode) {
  o->len = 0;
  o->buf[o->len++] = mode;
}
static void op_bytes(ops *o, uint8_t op, const uint8_t *d, size_t n) {
  o->buf[o->len++] = op;
  if ((op & 7) <= FZ_OP_APPDATA) {
    o->buf[o->len++] = (uint8_t)(n >> 8);
    o->buf[o->len++] = (uint8_t)n;
  }
  memcpy(o->buf + o->len, d, n);
  o->len += n;
}
static void op_plain(ops *o, uint8_t op) {
  o->buf[o->len++] = op;
}

/* Handshake message: type, 24-bit length, body. */
static size_t hs_msg(uint8_t *out, uint8_t type, const uint8_t *body,
                     size_t n) {
  out[0] = type;
  out[1] = (uint8_t)(n >> 16);
  out[2] = (uint8_t)(n >> 8);
  out[3] = (uint8_t)n;
  memcpy(out + 4, body, n);
  return 4 + n;
}

static size_t take_all(moat_conn *c, uint8_t *out, size_t cap) {
  size_t n = 0, got;
  while (moat_conn_pending_output(c) > 0 && n < cap) {
    moat_conn_take_output(c, out + n, cap - n, &got);
    n += got;
  }
  return n;
}

static size_t cert_body(const moat_context *ctx, uint8_t *out, bool empty) {
  builder b;
  bld_init_fixed(&b, out, 4096);
  bld_u8(&b, 0);
  bld_open24(&b);
  if (!empty) {
    bld_open24(&b);
    bld_bytes(&b, ctx->pol->ids[0].chain_der[0], ctx->pol->ids[0].chain_len[0]);
    bld_close(&b);
    bld_u16(&b, 0);
  }
  bld_close(&b);
  return bld_finish(&b) ? bld_len(&b) : 0;
}

/* Seeds for the TLS 1.2 codec targets from one side's recorded bytes:
 * the handshake messages of its plaintext records, up to its
 * ChangeCipherSpec. */
static void seeds12_from(const uint8_t *st, size_t n, bool from_client,
                         const char *name) {
  static uint8_t hs[65536];
  size_t hn = 0, off = 0;
  while (off + 5 <= n && st[off] == CT_HANDSHAKE) {
    size_t len = (size_t)st[off + 3] << 8 | st[off + 4];
    if (off + 5 + len > n || hn + len > sizeof(hs)) {
      break;
    }
    memcpy(hs + hn, st + off + 5, len);
    hn += len;
    off += 5 + len;
  }
  char nm[96];
  static uint8_t one[65536];
  for (size_t at = 0; at + 4 <= hn;) {
    uint8_t type = hs[at];
    size_t len =
        (size_t)hs[at + 1] << 16 | (size_t)hs[at + 2] << 8 | hs[at + 3];
    const uint8_t *body = hs + at + 4;
    if (at + 4 + len > hn) {
      break;
    }
    snprintf(nm, sizeof(nm), "%s_%s", name, from_client ? "c" : "s");
    switch (type) {
    case HT_SERVER_KEY_EXCHANGE:
      put("fuzz_msg_server_key_exchange", nm, body, len);
      break;
    case HT_CLIENT_KEY_EXCHANGE:
      put("fuzz_msg_client_key_exchange", nm, body, len);
      break;
    case HT_CERTIFICATE_REQUEST:
      put("fuzz_msg_certificate_request12", nm, body, len);
      break;
    case HT_NEW_SESSION_TICKET:
      put("fuzz_msg_new_session_ticket12", nm, body, len);
      break;
    case HT_CERTIFICATE:
      one[0] = from_client ? 1 : 0;
      memcpy(one + 1, body, len);
      put("fuzz_msg_certificate12", nm, one, len + 1);
      break;
    case HT_CLIENT_HELLO:
    case HT_SERVER_HELLO: {
      /* version, random, session_id; ClientHello: suites, compression */
      cursor c = cur_make(body, len), sid, suites, comp, ext;
      uint16_t suite;
      uint8_t cm;
      bool ok = cur_skip(&c, 34) && cur_prefixed8(&c, &sid);
      if (type == HT_CLIENT_HELLO) {
        ok = ok && cur_prefixed16(&c, &suites) && cur_prefixed8(&c, &comp);
      } else {
        ok = ok && cur_u16(&c, &suite) && cur_u8(&c, &cm);
        suites = cur_make(NULL, 0);
      }
      if (ok && cur_prefixed16(&c, &ext) && cur_len(&suites) / 2 < 256) {
        one[0] = type == HT_SERVER_HELLO ? 1 : 0;
        one[1] = (uint8_t)(cur_len(&suites) / 2);
        size_t k = 2 + (cur_len(&suites) & ~(size_t)1);
        if (k > 2) {
          memcpy(one + 2, cur_data(&suites), k - 2);
        }
        if (cur_len(&ext) > 0) {
          memcpy(one + k, cur_data(&ext), cur_len(&ext));
        }
        put("fuzz_ext_tls12", nm, one, k + cur_len(&ext));
      }
      break;
    }
    default:
      break;
    }
    at += 4 + len;
  }
}

/* TLS 1.2: one handshake between two fz_context12 contexts (resuming
 * sess when given), then "hello" each way and close_notify each way.
 * What the client wrote becomes a fuzz_server input and what the server
 * wrote a fuzz_client one, each write one raw operation, after the mode
 * byte (fuzz/fuzz_client.c and fuzz_server.c say why they replay). */
static void record12(moat_context *cc, moat_context *sc, moat_session *sess,
                     uint8_t cmode, uint8_t smode, const char *name) {
  static ops co, so;
  static uint8_t buf[65536];
  op_start(&co, smode); /* the client's bytes, for the server target */
  op_start(&so, cmode);
  moat_conn *c = moat_conn_new(cc), *s = moat_conn_new(sc);
  moat_conn_set_hostname(c, "localhost");
  if (sess != NULL && moat_conn_set_session(c, sess) != MOAT_OK) {
    fprintf(stderr, "%s: set_session\n", name);
    exit(1);
  }
  size_t n, used, w;
  uint8_t tmp[64];
  for (int step = 0; step < 12; step++) {
    switch (step) {
    case 0 ... 5:
      (void)moat_conn_handshake(step % 2 ? s : c);
      break;
    case 6:
      (void)moat_conn_write(c, (const uint8_t *)"hello", 5, &w);
      break;
    case 7:
      (void)moat_conn_read(s, tmp, sizeof(tmp), &w);
      (void)moat_conn_write(s, (const uint8_t *)"hello back", 10, &w);
      break;
    case 8:
      (void)moat_conn_read(c, tmp, sizeof(tmp), &w);
      (void)moat_conn_shutdown(c);
      break;
    case 9:
      (void)moat_conn_read(s, tmp, sizeof(tmp), &w);
      (void)moat_conn_shutdown(s);
      break;
    default:
      (void)moat_conn_read(c, tmp, sizeof(tmp), &w);
      break;
    }
    bool from_c = step % 2 == 0;
    moat_conn *from = from_c ? c : s, *to = from_c ? s : c;
    n = take_all(from, buf, sizeof(buf));
    if (n > 0) {
      op_bytes(from_c ? &co : &so, FZ_OP_RAW, buf, n);
      moat_conn_feed(to, buf, n, &used);
    }
  }
  if (!moat_conn_handshake_done(c) || !moat_conn_handshake_done(s) ||
      (sess != NULL && !moat_conn_session_reused(c))) {
    fprintf(stderr, "%s: the recorded TLS 1.2 handshake failed: %s / %s\n",
            name, moat_conn_error_detail(c), moat_conn_error_detail(s));
    exit(1);
  }
  put("fuzz_server", name, co.buf, co.len);
  put("fuzz_client", name, so.buf, so.len);
  /* the messages of each flight (the streams' raw operations: op,
   * length, bytes) */
  for (int side = 0; side < 2; side++) {
    const ops *o = side == 0 ? &co : &so;
    char nm[80];
    int k = 0;
    for (size_t at = 1; at + 3 <= o->len; k++) {
      size_t len = (size_t)o->buf[at + 1] << 8 | o->buf[at + 2];
      snprintf(nm, sizeof(nm), "%s_f%d", name, k);
      seeds12_from(o->buf + at + 3, len, side == 0, nm);
      at += 3 + len;
    }
  }
  moat_conn_free(c);
  moat_conn_free(s);
}

/* The TLS 1.2 recordings, with the contexts and sessions the targets make
 * in their setup, in the same order. */
static void tls12_seeds(void) {
  moat_context *c12 = fz_context12(MOAT_ROLE_CLIENT, false, true);
  moat_context *c12v = fz_context12(MOAT_ROLE_CLIENT, true, true);
  moat_context *c12n = fz_context12(MOAT_ROLE_CLIENT, true, false);
  moat_context *s12[2];
  for (int v = 0; v < 2; v++) {
    s12[v] = fz_context12(MOAT_ROLE_SERVER, v == 1, true);
  }
  /* fuzz_client's sessions (its server is s12[0]) */
  moat_session *tkt = fz_session(c12v, s12[0]);
  moat_session *sid = fz_session(c12n, s12[0]);
  static const char *suites[] = {
      NULL, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"};
  char name[64];
  /* First, while the server's cache holds the session of sid (every
   * session ID is the same bytes under the fixed randomness, so the full
   * handshakes below replace it, as inputs do in the target). */
  record12(c12n, s12[0], sid, 8 | 16 | 4 | 1, 8, "tls12_resume_id");
  record12(c12v, s12[0], tkt, 8 | 4 | 1, 8, "tls12_resume_ticket");
  for (int v = 0; v < 2; v++) {
    for (size_t i = 0; i < 3; i++) {
      moat_context *cc = fz_context12(MOAT_ROLE_CLIENT, v == 1, true);
      if (suites[i] != NULL &&
          moat_context_set_ciphersuites(cc, suites[i]) != MOAT_OK) {
        exit(1);
      }
      snprintf(name, sizeof(name), "tls12_full_s%zu_v%d", i, v);
      /* the server target's mode: & 1 is a server that asks for the
       * client certificate; the client target's: & 1 verifies */
      record12(cc, s12[v], NULL, (uint8_t)(8 | v), (uint8_t)(8 | v), name);
      moat_context_free(cc);
    }
  }
  moat_session_free(tkt);
  moat_session_free(sid);
  moat_context_free(c12);
  moat_context_free(c12v);
  moat_context_free(c12n);
  moat_context_free(s12[0]);
  moat_context_free(s12[1]);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gen_corpus DIR\n");
    return 2;
  }
  g_dir = argv[1];
  mkdir(g_dir, 0755);
  moat_context *cctx = fz_context(MOAT_ROLE_CLIENT, false, NULL);
  moat_context *sctx = fz_context(MOAT_ROLE_SERVER, false, NULL);
  static uint8_t buf[65536], msg[8192], body[8192];
  char name[64];
  ops o;

  /* Real ClientHellos in several shapes, and the server flights that
   * answer them. */
  /* The last two: the hybrids (a 1216-byte X25519MLKEM768 share with an
   * X25519 one, as moat's default ClientHello, and SecP256r1MLKEM768). */
  static const char *groups[] = {
      "X25519",           "P-256",      "X25519:P-256:P-384",
      "P-384:X25519",     "X448:P-521", "X25519MLKEM768:X25519",
      "SecP256r1MLKEM768"};
  static const char *suites[] = {NULL, "TLS_AES_256_GCM_SHA384",
                                 "TLS_CHACHA20_POLY1305_SHA256"};
  for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
    for (size_t s = 0; s < 3; s++) {
      moat_context *cc = fz_context(MOAT_ROLE_CLIENT, false, suites[s]);
      if (moat_context_set_groups(cc, groups[g]) != MOAT_OK) {
        fprintf(stderr, "groups %s\n", groups[g]);
        return 1;
      }
      if (g == 2) {
        const char *alpn[] = {"h2", "http/1.1"};
        moat_context_set_alpn_protocols(cc, alpn, 2);
      }
      moat_conn *c = moat_conn_new(cc);
      if (g != 4) {
        moat_conn_set_hostname(c, "localhost");
      }
      (void)moat_conn_handshake(c);
      size_t n = take_all(c, buf, sizeof(buf));
      /* message bodies for the parsers */
      snprintf(name, sizeof(name), "ch_g%zu_s%zu", g, s);
      put("fuzz_msg_client_hello", name, buf + 9, n - 9);
      put("fuzz_ext", name, (const uint8_t[]){8, 0}, 2);
      /* the server, in the clear and as a handshake op */
      for (uint8_t mode = 0; mode < 2; mode++) {
        op_start(&o, mode);
        op_bytes(&o, FZ_OP_RAW, buf, n);
        snprintf(name, sizeof(name), "raw_g%zu_s%zu_m%u", g, s, mode);
        put("fuzz_server", name, o.buf, o.len);
      }
      op_start(&o, 0);
      op_bytes(&o, FZ_OP_HANDSHAKE, buf + 5, n - 5);
      snprintf(name, sizeof(name), "hs_g%zu_s%zu", g, s);
      put("fuzz_server", name, o.buf, o.len);
      /* the server's answer, for the client */
      moat_conn *sv = moat_conn_new(sctx);
      size_t used;
      moat_conn_feed(sv, buf, n, &used);
      (void)moat_conn_handshake(sv);
      size_t m = take_all(sv, buf, sizeof(buf));
      if (m > 9 && buf[0] == CT_HANDSHAKE) {
        size_t rec = 5 + ((size_t)buf[3] << 8 | buf[4]);
        snprintf(name, sizeof(name), "sh_g%zu_s%zu", g, s);
        put("fuzz_msg_server_hello", name, buf + 9, rec - 9);
        for (uint8_t mode = 0; mode < 2; mode++) {
          op_start(&o, mode);
          op_bytes(&o, FZ_OP_RAW, buf, m);
          snprintf(name, sizeof(name), "raw_g%zu_s%zu_m%u", g, s, mode);
          put("fuzz_client", name, o.buf, o.len);
        }
      }
      moat_conn_free(sv);
      moat_conn_free(c);
      moat_context_free(cc);
    }
  }

  /* Plaintext messages of the server's flight and after it. */
  static const uint8_t ee_empty[] = {0, 0};
  static const uint8_t ee_alpn[] = {0, 9, 0, 16, 0, 5, 0, 3, 2, 'h', '2'};
  static const uint8_t ee_sni_groups[] = {0, 10, 0, 0, 0, 0,
                                          0, 10, 0, 2, 0, 0x1d};
  static const uint8_t cr_body[] = {0, 0, 10, 0, 13, 0, 6, 0, 4, 4, 3, 8, 4};
  static const uint8_t nst_body[] = {0, 0, 0x0e, 0x10, 1,   2,   3,   4, 1,
                                     0, 0, 4,    't',  'k', 't', '!', 0, 0};
  static const uint8_t ku0[] = {0}, ku1[] = {1};
  static const uint8_t close_notify[] = {1, 0}, bad_alert[] = {2, 40};
  size_t cert_n = cert_body(sctx, body, false);
  uint8_t ccert[4096];
  size_t ccert_n = cert_body(cctx, ccert, false);
  uint8_t empty_cert[16];
  size_t empty_n = cert_body(cctx, empty_cert, true);
  put("fuzz_msg_encrypted_extensions", "empty", ee_empty, sizeof(ee_empty));
  put("fuzz_msg_encrypted_extensions", "alpn", ee_alpn, sizeof(ee_alpn));
  put("fuzz_msg_encrypted_extensions", "sni_groups", ee_sni_groups,
      sizeof(ee_sni_groups));
  put("fuzz_msg_certificate_request", "sigalgs", cr_body, sizeof(cr_body));
  put("fuzz_msg_new_session_ticket", "ticket", nst_body, sizeof(nst_body));
  /* A session as moat_session_to_bytes writes it: format 1,
   * TLS_AES_128_GCM_SHA256, created, lifetime, age_add, a 32-byte PSK and
   * a 4-byte ticket. */
  uint8_t sess[1 + 2 + 8 + 4 + 4 + 1 + 32 + 2 + 4] = {1, 0x13, 0x01};
  sess[10] = 100;                   /* created */
  sess[14] = 0x10;                  /* lifetime */
  sess[19] = 32;                    /* PSK length */
  memset(sess + 20, 0xa5, 32);      /* PSK */
  memcpy(sess + 52, "\0\4tkt!", 6); /* ticket */
  put("fuzz_session", "aes128", sess, sizeof(sess));
  put("fuzz_msg_key_update", "0", ku0, 1);
  put("fuzz_msg_key_update", "1", ku1, 1);
  buf[0] = 0;
  memcpy(buf + 1, body, cert_n);
  put("fuzz_msg_certificate", "server", buf, cert_n + 1);
  memcpy(buf + 1, ccert, ccert_n);
  put("fuzz_msg_certificate", "client", buf, ccert_n + 1);
  put("fuzz_msg_certificate", "empty", (const uint8_t[]){0, 0, 0, 0, 0}, 5);
  /* RFC 8879: the server's Certificate compressed with each algorithm
   * built in, and the extension's lists */
  for (size_t i = 0; compress_builtin(i) != NULL; i++) {
    const compress_alg *alg = compress_builtin(i);
    builder cb;
    tls_cause why;
    if (bld_init_alloc(&cb, 256) &&
        ccert_build(&cb, alg->code, body, cert_n, &why) == MOAT_OK) {
      put("fuzz_msg_compressed_certificate", alg->name, bld_data(&cb) + 4,
          bld_len(&cb) - 4);
    }
    bld_cleanup(&cb);
  }
  put("fuzz_ext_compress_certificate", "all",
      (const uint8_t[]){6, 0, 3, 0, 2, 0, 1}, 7);
  put("fuzz_ext_compress_certificate", "unknown",
      (const uint8_t[]){4, 0xff, 1, 0, 2}, 5);
  put("fuzz_msg_certificate_verify", "ecdsa",
      (const uint8_t[]){4, 3, 0, 8, 0x30, 6, 2, 1, 1, 2, 1, 1}, 12);
  put("fuzz_msg_certificate_verify", "ed25519",
      (const uint8_t[]){8, 7, 0, 2, 0, 0}, 6);
  /* extension data for fuzz_ext, selector first */
  put("fuzz_ext", "sni",
      (const uint8_t[]){0, 0, 12, 0, 0, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o',
                        's', 't'},
      15);
  put("fuzz_ext", "groups", (const uint8_t[]){1, 0, 4, 0, 0x1d, 0, 0x17}, 7);
  put("fuzz_ext", "sigalgs", (const uint8_t[]){2, 0, 4, 4, 3, 8, 4}, 7);
  put("fuzz_ext", "versions_ch", (const uint8_t[]){3, 4, 3, 4, 3, 3}, 6);
  put("fuzz_ext", "versions_sh", (const uint8_t[]){4, 3, 4}, 3);
  put("fuzz_ext", "alpn",
      (const uint8_t[]){5, 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1',
                        '.', '1'},
      15);
  put("fuzz_ext", "key_share",
      (const uint8_t[]){6, 0, 8, 0, 0x1d, 0, 4, 1, 2, 3, 4}, 11);
  put("fuzz_ext", "cookie", (const uint8_t[]){7, 0, 3, 'c', 'k', 'i'}, 6);
  put("fuzz_ext", "block_ee",
      (const uint8_t[]){8, 3, 0, 0, 0, 0, 0, 16, 0, 5, 0, 3, 2, 'h', '2'}, 15);

  /* Client, deep: the rest of the server's flight. */
  size_t ee_m = hs_msg(msg, HT_ENCRYPTED_EXTENSIONS, ee_empty, 2);
  uint8_t cert_m[4096], cr_m[64], nst_m[64], ku_m[8], ku_req_m[8];
  size_t cert_mn = hs_msg(cert_m, HT_CERTIFICATE, body, cert_n);
  size_t cr_mn = hs_msg(cr_m, HT_CERTIFICATE_REQUEST, cr_body, sizeof(cr_body));
  size_t nst_mn =
      hs_msg(nst_m, HT_NEW_SESSION_TICKET, nst_body, sizeof(nst_body));
  size_t ku_mn = hs_msg(ku_m, HT_KEY_UPDATE, ku0, 1);
  size_t ku_req_mn = hs_msg(ku_req_m, HT_KEY_UPDATE, ku1, 1);
  for (uint8_t mode = 2; mode < 4; mode++) {
    for (int v = 0; v < 4; v++) {
      op_start(&o, mode);
      if (v == 1) {
        /* everything in one record */
        uint8_t all[8192];
        memcpy(all, msg, ee_m);
        memcpy(all + ee_m, cert_m, cert_mn);
        op_bytes(&o, FZ_OP_HANDSHAKE, all, ee_m + cert_mn);
      } else {
        op_bytes(&o, FZ_OP_HANDSHAKE | (v == 2 ? 0x18 : 0), msg, ee_m);
        if (v == 3) {
          op_bytes(&o, FZ_OP_HANDSHAKE, cr_m, cr_mn);
        }
        /* the certificate in two records */
        op_bytes(&o, FZ_OP_HANDSHAKE, cert_m, 100);
        op_bytes(&o, FZ_OP_HANDSHAKE, cert_m + 100, cert_mn - 100);
      }
      op_plain(&o, FZ_OP_CERT_VERIFY);
      op_plain(&o, FZ_OP_FINISHED);
      op_bytes(&o, FZ_OP_HANDSHAKE, nst_m, nst_mn);
      op_plain(&o, FZ_OP_ACT);
      op_bytes(&o, FZ_OP_APPDATA, (const uint8_t *)"hello", 5);
      op_bytes(&o, FZ_OP_HANDSHAKE, v & 1 ? ku_req_m : ku_m,
               v & 1 ? ku_req_mn : ku_mn);
      op_bytes(&o, FZ_OP_APPDATA | 0x20, (const uint8_t *)"after", 5);
      op_bytes(&o, FZ_OP_ALERT, v == 2 ? bad_alert : close_notify, 2);
      snprintf(name, sizeof(name), "deep_m%u_v%d", mode, v);
      put("fuzz_client", name, o.buf, o.len);
    }
  }

  /* Client, deep, resuming (mode bit 4): a PSK handshake's server flight
   * is EncryptedExtensions and Finished (RFC 8446 2.2). */
  for (uint8_t mode = 6; mode < 8; mode++) {
    op_start(&o, mode);
    op_bytes(&o, FZ_OP_HANDSHAKE, msg, ee_m);
    op_plain(&o, FZ_OP_FINISHED);
    op_bytes(&o, FZ_OP_HANDSHAKE, nst_m, nst_mn);
    op_bytes(&o, FZ_OP_APPDATA, (const uint8_t *)"hello", 5);
    op_bytes(&o, FZ_OP_HANDSHAKE, ku_req_m, ku_req_mn);
    op_bytes(&o, FZ_OP_ALERT, close_notify, 2);
    snprintf(name, sizeof(name), "resume_m%u", mode);
    put("fuzz_client", name, o.buf, o.len);
  }

  /* Server, deep, resuming: the client's second flight is its Finished
   * alone, with or without a client certificate asked for. */
  for (uint8_t mode = 6; mode < 8; mode++) {
    op_start(&o, mode);
    op_plain(&o, FZ_OP_FINISHED);
    op_bytes(&o, FZ_OP_APPDATA, (const uint8_t *)"hello", 5);
    op_plain(&o, FZ_OP_ACT | 0x08);
    op_bytes(&o, FZ_OP_HANDSHAKE, ku_req_m, ku_req_mn);
    op_bytes(&o, FZ_OP_ALERT, close_notify, 2);
    snprintf(name, sizeof(name), "resume_m%u", mode);
    put("fuzz_server", name, o.buf, o.len);
  }

  /* Server, deep: the client's second flight. */
  for (uint8_t mode = 2; mode < 4; mode++) {
    for (int v = 0; v < 3; v++) {
      op_start(&o, mode);
      if (mode == 3 && v != 2) {
        uint8_t cm[4096];
        size_t cmn = hs_msg(cm, HT_CERTIFICATE, ccert, ccert_n);
        op_bytes(&o, FZ_OP_HANDSHAKE, cm, cmn);
        op_plain(&o, FZ_OP_CERT_VERIFY);
      } else if (mode == 3) {
        uint8_t cm[64];
        size_t cmn = hs_msg(cm, HT_CERTIFICATE, empty_cert, empty_n);
        op_bytes(&o, FZ_OP_HANDSHAKE, cm, cmn);
      }
      op_plain(&o, FZ_OP_FINISHED);
      op_bytes(&o, FZ_OP_APPDATA, (const uint8_t *)"hello", 5);
      op_plain(&o, FZ_OP_ACT | 0x08);
      op_bytes(&o, FZ_OP_HANDSHAKE, v == 1 ? ku_req_m : ku_m,
               v == 1 ? ku_req_mn : ku_mn);
      op_bytes(&o, FZ_OP_APPDATA, (const uint8_t *)"after", 5);
      op_plain(&o, FZ_OP_ACT | 0x18);
      op_bytes(&o, FZ_OP_ALERT, close_notify, 2);
      snprintf(name, sizeof(name), "deep_m%u_v%d", mode, v);
      put("fuzz_server", name, o.buf, o.len);
    }
  }

  /* Record layer after the handshake, each receiver and suite. */
  for (uint8_t mode = 0; mode < 6; mode++) {
    for (int v = 0; v < 3; v++) {
      op_start(&o, mode);
      op_bytes(&o, FZ_OP_APPDATA, (const uint8_t *)"hello", 5);
      if (v == 0) {
        op_bytes(&o, FZ_OP_HANDSHAKE, ku_req_m, ku_req_mn);
        op_bytes(&o, FZ_OP_APPDATA | 0xf8, (const uint8_t *)"padded", 6);
        if (!(mode & 1)) {
          op_bytes(&o, FZ_OP_HANDSHAKE, nst_m, nst_mn);
        }
      } else if (v == 1) {
        /* inner plaintext given whole: "hi", type 23, two zero bytes */
        op_bytes(&o, FZ_OP_INNER,
                 (const uint8_t[]){'h', 'i', CT_APPLICATION_DATA, 0, 0}, 5);
        op_bytes(&o, FZ_OP_HANDSHAKE, ku_m, 2);
        op_bytes(&o, FZ_OP_HANDSHAKE, ku_m + 2, ku_mn - 2);
        op_plain(&o, FZ_OP_ACT | 0x10);
      } else {
        op_bytes(&o, FZ_OP_RAW,
                 (const uint8_t[]){23, 3, 3, 0, 17, 0, 0, 0, 0, 0, 0,
                                   0,  0, 0, 0, 0,  0, 0, 0, 0, 0, 0},
                 22);
      }
      op_bytes(&o, FZ_OP_ALERT, close_notify, 2);
      snprintf(name, sizeof(name), "rec_m%u_v%d", mode, v);
      put("fuzz_record", name, o.buf, o.len);
    }
  }
  tls12_seeds();
  moat_context_free(cctx);
  moat_context_free(sctx);
  printf("gen_corpus: %d files in %s\n", g_count, g_dir);
  return 0;
}
