/* TLS 1.3 handshake negative tests: a moat endpoint faces a peer whose
 * messages were crafted by hand or changed in flight by a man in the
 * middle (plaintext before the keys; after them, re-encrypted with the
 * secrets the key log reveals).  Each case checks the error, the alert
 * sent and that the detail says what was wrong. */
#include <stdlib.h>

#include "base/mem.h"
#include "moat.h"
#include "pair.h"
#include "pki.h"
#include "t.h"
#include "tls/msg/msg.h"
#include "tls/tls.h"

/* ---- plumbing ------------------------------------------------------------ */

#define BUF_MAX 32768

typedef struct buf {
  uint8_t b[BUF_MAX];
  size_t n;
} buf;

static buf *buf_new(void) {
  return calloc(1, sizeof(buf));
}

static void buf_add(buf *o, const uint8_t *p, size_t n) {
  if (o->n + n <= BUF_MAX) {
    memcpy(o->b + o->n, p, n);
    o->n += n;
  }
}

static void take(moat_conn *conn, buf *out) {
  out->n = 0;
  size_t n;
  moat_conn_take_output(conn, out->b, BUF_MAX, &n);
  out->n = n;
}

static void give(moat_conn *conn, const uint8_t *p, size_t n) {
  size_t off = 0, used;
  while (off < n) {
    if (moat_conn_feed(conn, p + off, n - off, &used) != MOAT_OK || used == 0) {
      return;
    }
    off += used;
  }
}

static void add_record(buf *o, uint8_t type, const uint8_t *body, size_t n) {
  uint8_t h[5] = {type, 3, 3, (uint8_t)(n >> 8), (uint8_t)n};
  buf_add(o, h, 5);
  buf_add(o, body, n);
}

/* The next record in c: its type and body. */
static bool next_record(cursor *c, uint8_t *type, cursor *body, cursor *whole) {
  cursor start = *c;
  uint16_t v;
  if (!cur_u8(c, type) || !cur_u16(c, &v) || !cur_prefixed16(c, body)) {
    return false;
  }
  *whole = cur_make(cur_data(&start), cur_len(&start) - cur_len(c));
  return true;
}

/* ---- key log and record protection of the man in the middle ------------ */

typedef struct secrets {
  uint8_t c_hs[32], s_hs[32];
  bool have_hs;
} secrets;

static void keylog_cb(void *arg, const moat_conn *conn, const char *line) {
  (void)conn;
  secrets *s = arg;
  uint8_t *dst = NULL;
  if (strncmp(line, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 32) == 0) {
    dst = s->c_hs;
  } else if (strncmp(line, "SERVER_HANDSHAKE_TRAFFIC_SECRET ", 32) == 0) {
    dst = s->s_hs;
    s->have_hs = true;
  }
  if (dst != NULL) {
    const char *sp = strrchr(line, ' ');
    CHECK_EQ_INT(t_unhex(sp + 1, dst, 32), 32);
  }
}

typedef struct prot {
  aead_ctx *aead;
  uint8_t iv[AEAD_NONCE_LEN];
  uint64_t seq;
} prot;

/* TLS_AES_128_GCM_SHA256 keys from a traffic secret (RFC 8446 7.3). */
static void prot_init(prot *p, const uint8_t *secret, bool encrypt) {
  const hash_alg *h = hash_get(HASH_SHA256);
  hmac_ctx *hmac = hmac_new(h);
  uint8_t key[16];
  CHECK(traffic_key_iv(hmac, h, secret, 16, key, p->iv, NULL));
  p->aead = aead_new(aead_get(AEAD_AES_128_GCM), key, encrypt);
  p->seq = 0;
  hmac_free(hmac);
}

static void nonce_for(const prot *p, uint8_t *nonce) {
  memcpy(nonce, p->iv, AEAD_NONCE_LEN);
  for (int i = 0; i < 8; i++) {
    nonce[AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(p->seq >> (8 * i));
  }
}

/* Opens a protected record (header + body) into out; returns the content
 * length and sets *type, or returns SIZE_MAX. */
static size_t prot_open(prot *p, cursor whole, uint8_t *out, uint8_t *type) {
  uint8_t nonce[AEAD_NONCE_LEN];
  nonce_for(p, nonce);
  const uint8_t *r = cur_data(&whole);
  size_t body = cur_len(&whole) - 5;
  if (!aead_open(p->aead, nonce, r, 5, r + 5, body, out)) {
    return SIZE_MAX;
  }
  p->seq++;
  size_t n = body - 16;
  while (n > 0 && out[n - 1] == 0) {
    n--;
  }
  *type = out[n - 1];
  return n - 1;
}

static void prot_seal(prot *p, buf *o, uint8_t type, const uint8_t *data,
                      size_t n) {
  uint8_t rec[BUF_MAX];
  size_t body = n + 1 + 16;
  uint8_t h[5] = {CT_APPLICATION_DATA, 3, 3, (uint8_t)(body >> 8),
                  (uint8_t)body};
  memcpy(rec, h, 5);
  if (n > 0) { /* an empty record may come with data NULL */
    memcpy(rec + 5, data, n);
  }
  rec[5 + n] = type;
  uint8_t nonce[AEAD_NONCE_LEN];
  nonce_for(p, nonce);
  CHECK(aead_seal(p->aead, nonce, h, 5, rec + 5, n + 1, rec + 5));
  p->seq++;
  buf_add(o, rec, 5 + body);
}

/* ---- contexts and connections ------------------------------------------ */

typedef struct pair {
  moat_context *cc, *sc;
  moat_conn *c, *s;
  secrets ck, sk;
} pair;

static void pair_init(pair *p, const char *client_groups,
                      const char *server_groups) {
  memset(p, 0, sizeof(*p));
  char cert[256], key[256], ca[256];
  pki_path(cert, sizeof(cert), "p256.pem");
  pki_path(key, sizeof(key), "p256.key");
  pki_path(ca, sizeof(ca), "ca.pem");
  p->sc = moat_context_new(MOAT_ROLE_SERVER);
  p->cc = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK(moat_context_load_cert_chain(p->sc, cert, key, NULL) == MOAT_OK);
  CHECK(moat_context_load_verify_locations(p->cc, ca, NULL, NULL, 0) ==
        MOAT_OK);
  CHECK(moat_context_set_ciphersuites(p->cc, "TLS_AES_128_GCM_SHA256") ==
        MOAT_OK);
  if (client_groups != NULL) {
    CHECK(moat_context_set_groups(p->cc, client_groups) == MOAT_OK);
  }
  if (server_groups != NULL) {
    CHECK(moat_context_set_groups(p->sc, server_groups) == MOAT_OK);
  }
  moat_context_set_keylog_cb(p->cc, keylog_cb, &p->ck);
  moat_context_set_keylog_cb(p->sc, keylog_cb, &p->sk);
  p->c = moat_conn_new(p->cc);
  p->s = moat_conn_new(p->sc);
  moat_conn_set_hostname(p->c, "localhost");
}

/* Both contexts limited to TLS 1.3, with connections made anew from
 * them. */
static void pair_tls13_only(pair *p) {
  CHECK(moat_context_set_min_version(p->cc, MOAT_TLS1_3) == MOAT_OK);
  CHECK(moat_context_set_min_version(p->sc, MOAT_TLS1_3) == MOAT_OK);
  moat_conn_free(p->c);
  moat_conn_free(p->s);
  p->c = moat_conn_new(p->cc);
  p->s = moat_conn_new(p->sc);
  moat_conn_set_hostname(p->c, "localhost");
}

static void pair_free(pair *p) {
  moat_conn_free(p->c);
  moat_conn_free(p->s);
  moat_context_free(p->cc);
  moat_context_free(p->sc);
}

/* Runs the handshake to the end; true when both succeed. */
static bool finish(pair *p) {
  moat_err se, ce = handshake_both(p->c, p->s, &se);
  if (ce != MOAT_OK || se != MOAT_OK) {
    fprintf(stderr, "handshake: client %s (%s), server %s (%s)\n",
            moat_err_name(ce), moat_conn_error_detail(p->c), moat_err_name(se),
            moat_conn_error_detail(p->s));
    return false;
  }
  return true;
}

/* conn failed with err, sent alert, and the detail mentions word. */
static void check_failed(const char *name, moat_conn *conn, moat_err got,
                         moat_err err, int alert, const char *word) {
  int a = -1;
  bool ours = false;
  const char *d = moat_conn_error_detail(conn);
  bool have = moat_conn_alert(conn, &a, &ours);
  bool ok = got == err && moat_conn_error(conn) == err && have && a == alert &&
            ours && moat_conn_pending_output(conn) > 0 && d != NULL &&
            strstr(d, word) != NULL;
  CHECK(ok);
  if (!ok) {
    fprintf(stderr,
            "  %s: got %s (conn %s), alert %d, detail \"%s\"; want %s, "
            "alert %d, \"%s\"\n",
            name, moat_err_name(got), moat_err_name(moat_conn_error(conn)), a,
            d ? d : "", moat_err_name(err), alert, word);
  }
  /* sticky */
  CHECK_EQ_INT(moat_conn_handshake(conn), err);
}

/* ---- editing handshake messages ---------------------------------------- */

/* A handshake message held for editing. */
typedef struct hmsg {
  uint8_t b[16000];
  size_t n;
  size_t ext_off; /* offset of the extensions block's length */
} hmsg;

/* Loads a ClientHello or ServerHello from a record body and finds its
 * extensions. */
static bool hmsg_load(hmsg *m, cursor body) {
  if (cur_len(&body) > sizeof(m->b)) {
    return false;
  }
  memcpy(m->b, cur_data(&body), cur_len(&body));
  m->n = cur_len(&body);
  cursor c = cur_make(m->b, m->n), skip;
  uint8_t type;
  uint32_t len;
  if (!cur_u8(&c, &type) || !cur_u24(&c, &len) || !cur_skip(&c, 2 + 32) ||
      !cur_prefixed8(&c, &skip)) {
    return false;
  }
  if (type == HT_CLIENT_HELLO) {
    if (!cur_prefixed16(&c, &skip) || !cur_prefixed8(&c, &skip)) {
      return false;
    }
  } else if (!cur_skip(&c, 3)) {
    return false;
  }
  m->ext_off = m->n - cur_len(&c);
  return true;
}

static void hmsg_fix_lengths(hmsg *m) {
  size_t body = m->n - 4, ext = m->n - m->ext_off - 2;
  m->b[1] = (uint8_t)(body >> 16);
  m->b[2] = (uint8_t)(body >> 8);
  m->b[3] = (uint8_t)body;
  m->b[m->ext_off] = (uint8_t)(ext >> 8);
  m->b[m->ext_off + 1] = (uint8_t)ext;
}

/* Offset of extension `type` (its type field) or 0. */
static size_t hmsg_find(const hmsg *m, uint16_t type, size_t *out_len) {
  cursor c = cur_make(m->b + m->ext_off + 2, m->n - m->ext_off - 2), data;
  uint16_t t;
  while (cur_u16(&c, &t) && cur_prefixed16(&c, &data)) {
    if (t == type) {
      *out_len = 4 + cur_len(&data);
      return (size_t)(cur_data(&data) - m->b) - 4;
    }
  }
  return 0;
}

static bool hmsg_remove(hmsg *m, uint16_t type) {
  size_t len, off = hmsg_find(m, type, &len);
  if (off == 0) {
    return false;
  }
  memmove(m->b + off, m->b + off + len, m->n - off - len);
  m->n -= len;
  hmsg_fix_lengths(m);
  return true;
}

static void hmsg_append(hmsg *m, uint16_t type, const uint8_t *data, size_t n) {
  uint8_t h[4] = {(uint8_t)(type >> 8), (uint8_t)type, (uint8_t)(n >> 8),
                  (uint8_t)n};
  memcpy(m->b + m->n, h, 4);
  if (n > 0) {
    memcpy(m->b + m->n + 4, data, n);
  }
  m->n += 4 + n;
  hmsg_fix_lengths(m);
}

/* Takes the client's first flight (one ClientHello record). */
static bool take_client_hello(pair *p, hmsg *ch) {
  CHECK_EQ_INT(moat_conn_handshake(p->c), MOAT_ERR_WANT_READ);
  buf *o = buf_new();
  take(p->c, o);
  cursor c = cur_make(o->b, o->n), body, whole;
  uint8_t type;
  bool ok = next_record(&c, &type, &body, &whole) && type == CT_HANDSHAKE &&
            hmsg_load(ch, body);
  free(o);
  CHECK(ok);
  return ok;
}

static moat_err server_gets(pair *p, const hmsg *m) {
  buf *o = buf_new();
  add_record(o, CT_HANDSHAKE, m->b, m->n);
  give(p->s, o->b, o->n);
  free(o);
  return moat_conn_handshake(p->s);
}

/* The client keeps its ClientHello for the transcript: make it the
 * edited one, so the handshake can complete (internal access). */
static void client_uses(pair *p, const hmsg *m) {
  handshake *hs = p->c->hs;
  hs_drop_ch_copy(hs);
  hs->ch_copy = moat_memdup(m->b, m->n);
  hs->ch_copy_len = m->n;
}

/* ---- (a) versions ------------------------------------------------------- */

/* A server limited to TLS 1.3 refuses TLS 1.2 clients. */
static void test_tls12_client_hello(void) {
  pair p;
  pair_init(&p, NULL, NULL);
  pair_tls13_only(&p);
  /* A TLS 1.2 ClientHello made by hand: no supported_versions. */
  builder b;
  CHECK(bld_init_alloc(&b, 256));
  msg_open(&b, HT_CLIENT_HELLO);
  bld_u16(&b, 0x0303);
  bld_zeros(&b, 32);
  bld_u8(&b, 0); /* session id */
  bld_u16(&b, 4);
  bld_u16(&b, 0xc02f);
  bld_u16(&b, 0xc030);
  bld_u8(&b, 1);
  bld_u8(&b, 0);
  bld_open16(&b);
  bld_u16(&b, EXT_SUPPORTED_GROUPS);
  bld_u16(&b, 4);
  bld_u16(&b, 2);
  bld_u16(&b, 0x001d);
  bld_u16(&b, EXT_SIGNATURE_ALGORITHMS);
  bld_u16(&b, 4);
  bld_u16(&b, 2);
  bld_u16(&b, 0x0403);
  bld_u16(&b, 11); /* ec_point_formats, unknown to TLS 1.3: ignored */
  bld_u16(&b, 2);
  bld_u8(&b, 1);
  bld_u8(&b, 0);
  bld_close(&b);
  msg_close(&b);
  CHECK(bld_finish(&b));
  hmsg m;
  memcpy(m.b, bld_data(&b), bld_len(&b));
  m.n = bld_len(&b);
  bld_cleanup(&b);
  moat_err e = server_gets(&p, &m);
  check_failed("TLS 1.2 ClientHello", p.s, e, MOAT_ERR_PROTOCOL_VERSION,
               ALERT_PROTOCOL_VERSION, "TLS 1.2");
  pair_free(&p);

  /* supported_versions that lists only TLS 1.2 */
  pair_init(&p, NULL, NULL);
  pair_tls13_only(&p);
  hmsg ch;
  if (take_client_hello(&p, &ch)) {
    uint8_t v12[3] = {2, 3, 3};
    CHECK(hmsg_remove(&ch, EXT_SUPPORTED_VERSIONS));
    hmsg_append(&ch, EXT_SUPPORTED_VERSIONS, v12, 3);
    e = server_gets(&p, &ch);
    check_failed("versions 1.2 only", p.s, e, MOAT_ERR_PROTOCOL_VERSION,
                 ALERT_PROTOCOL_VERSION, "TLS 1.2");
  }
  pair_free(&p);
}

/* A client limited to TLS 1.3 refuses a TLS 1.2 ServerHello. */
static void test_tls12_server_hello(void) {
  pair p;
  pair_init(&p, NULL, NULL);
  pair_tls13_only(&p);
  hmsg ch;
  if (!take_client_hello(&p, &ch)) {
    pair_free(&p);
    return;
  }
  /* The client's session id, echoed as a TLS 1.2 server would. */
  cursor c = cur_make(ch.b + 4 + 2 + 32, ch.n), sid;
  CHECK(cur_prefixed8(&c, &sid));
  builder b;
  CHECK(bld_init_alloc(&b, 256));
  msg_open(&b, HT_SERVER_HELLO);
  bld_u16(&b, 0x0303);
  for (int i = 0; i < 32; i++) {
    bld_u8(&b, (uint8_t)(i * 7));
  }
  bld_open8(&b);
  bld_bytes(&b, cur_data(&sid), cur_len(&sid));
  bld_close(&b);
  bld_u16(&b, 0xc02f);
  bld_u8(&b, 0);
  bld_u16(&b, 0); /* empty extensions */
  msg_close(&b);
  CHECK(bld_finish(&b));
  buf *o = buf_new();
  add_record(o, CT_HANDSHAKE, bld_data(&b), bld_len(&b));
  bld_cleanup(&b);
  give(p.c, o->b, o->n);
  free(o);
  moat_err e = moat_conn_handshake(p.c);
  check_failed("TLS 1.2 ServerHello", p.c, e, MOAT_ERR_PROTOCOL_VERSION,
               ALERT_PROTOCOL_VERSION, "TLS 1.2");
  pair_free(&p);
}

/* ---- (b) (c) (d) ClientHello contents ------------------------------------ */

static void test_client_hello_edits(void) {
  pair p;
  hmsg ch;
  moat_err e;
  size_t len, off;

  /* (b) a duplicated extension: RFC 8446 4.2 allows one of each */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    off = hmsg_find(&ch, EXT_SUPPORTED_GROUPS, &len);
    CHECK(off != 0);
    uint8_t copy[256];
    memcpy(copy, ch.b + off + 4, len - 4);
    hmsg_append(&ch, EXT_SUPPORTED_GROUPS, copy, len - 4);
    e = server_gets(&p, &ch);
    check_failed("duplicate", p.s, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "appears twice");
  }
  pair_free(&p);

  /* RFC 8446 D.4: the server's change_cipher_spec follows its first
   * message also when the client sent an empty legacy_session_id (no
   * compatibility mode): clients expect it either way */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    size_t sid = 4 + 2 + 32; /* the session ID's length byte */
    CHECK_EQ_INT(ch.b[sid], 32);
    memmove(ch.b + sid + 1, ch.b + sid + 1 + 32, ch.n - sid - 1 - 32);
    ch.b[sid] = 0;
    ch.n -= 32;
    ch.ext_off -= 32;
    hmsg_fix_lengths(&ch);
    CHECK_EQ_INT(server_gets(&p, &ch), MOAT_ERR_WANT_READ);
    buf *o = buf_new();
    take(p.s, o);
    cursor c = cur_make(o->b, o->n), body, whole;
    uint8_t t1 = 0, t2 = 0;
    CHECK(next_record(&c, &t1, &body, &whole) &&
          next_record(&c, &t2, &body, &whole));
    CHECK_EQ_INT(t1, CT_HANDSHAKE);
    CHECK_EQ_INT(t2, CT_CHANGE_CIPHER_SPEC);
    free(o);
  }
  pair_free(&p);

  /* (c) each mandatory extension missing (RFC 8446 9.2) */
  static const uint16_t mandatory[] = {EXT_KEY_SHARE, EXT_SUPPORTED_GROUPS,
                                       EXT_SIGNATURE_ALGORITHMS};
  static const char *const words[] = {"key_share", "supported_groups",
                                      "signature_algorithms"};
  for (size_t i = 0; i < 3; i++) {
    pair_init(&p, NULL, NULL);
    if (take_client_hello(&p, &ch)) {
      CHECK(hmsg_remove(&ch, mandatory[i]));
      e = server_gets(&p, &ch);
      check_failed(words[i], p.s, e, MOAT_ERR_MISSING_EXTENSION,
                   ALERT_MISSING_EXTENSION, words[i]);
    }
    pair_free(&p);
  }

  /* (d) truncated inside the extensions, lengths consistent outside */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    ch.n -= 7;
    size_t body = ch.n - 4;
    ch.b[1] = (uint8_t)(body >> 16);
    ch.b[2] = (uint8_t)(body >> 8);
    ch.b[3] = (uint8_t)body;
    e = server_gets(&p, &ch);
    check_failed("truncated", p.s, e, MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR,
                 "ClientHello");
  }
  pair_free(&p);
  /* (d) trailing garbage after the extensions */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    memcpy(ch.b + ch.n, "\xde\xad\xbe", 3);
    ch.n += 3;
    size_t body = ch.n - 4;
    ch.b[1] = (uint8_t)(body >> 16);
    ch.b[2] = (uint8_t)(body >> 8);
    ch.b[3] = (uint8_t)body;
    e = server_gets(&p, &ch);
    check_failed("trailing", p.s, e, MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR,
                 "ClientHello");
  }
  pair_free(&p);
  /* (d) a ClientHello cut short in the middle of its random */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    ch.n = 4 + 20;
    ch.b[1] = 0;
    ch.b[2] = 0;
    ch.b[3] = 20;
    e = server_gets(&p, &ch);
    check_failed("short", p.s, e, MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR,
                 "malformed ClientHello");
  }
  pair_free(&p);
}

/* ---- the man in the middle of the server's first flight ---------------- */

typedef enum edit {
  E_NONE,
  E_DROP_CERT_CV,  /* EE then Finished */
  E_FLIP_CV,       /* a bit of the CertificateVerify signature */
  E_FLIP_FINISHED, /* a bit of the server's verify_data */
} edit;

/* Feeds the client the server's flight after `e`; returns the client's
 * result. */
static moat_err flight_to_client(pair *p, edit e) {
  buf *in = buf_new(), *out = buf_new();
  uint8_t *flight = malloc(BUF_MAX), *plain = malloc(BUF_MAX);
  size_t flight_len = 0;
  take(p->s, in);
  CHECK(p->sk.have_hs);
  prot rd, wr;
  prot_init(&rd, p->sk.s_hs, false);
  prot_init(&wr, p->sk.s_hs, true);
  cursor c = cur_make(in->b, in->n), body, whole;
  uint8_t type;
  while (next_record(&c, &type, &body, &whole)) {
    if (type != CT_APPLICATION_DATA) {
      buf_add(out, cur_data(&whole), cur_len(&whole)); /* SH, CCS */
      continue;
    }
    uint8_t inner;
    size_t n = prot_open(&rd, whole, plain, &inner);
    CHECK(n != SIZE_MAX && inner == CT_HANDSHAKE);
    if (n != SIZE_MAX) {
      memcpy(flight + flight_len, plain, n);
      flight_len += n;
    }
  }
  /* one record per message, edited */
  cursor f = cur_make(flight, flight_len);
  while (!cur_done(&f)) {
    cursor start = f, mbody;
    uint8_t mt;
    uint32_t ml;
    if (!cur_u8(&f, &mt) || !cur_u24(&f, &ml) || !cur_sub(&f, ml, &mbody)) {
      CHECK(false);
      break;
    }
    size_t whole_len = 4 + ml;
    memcpy(plain, cur_data(&start), whole_len);
    if (e == E_DROP_CERT_CV &&
        (mt == HT_CERTIFICATE || mt == HT_CERTIFICATE_VERIFY)) {
      continue;
    }
    if (e == E_FLIP_CV && mt == HT_CERTIFICATE_VERIFY) {
      plain[whole_len - 1] ^= 0x01;
    }
    if (e == E_FLIP_FINISHED && mt == HT_FINISHED) {
      plain[10] ^= 0x80;
    }
    prot_seal(&wr, out, CT_HANDSHAKE, plain, whole_len);
  }
  give(p->c, out->b, out->n);
  aead_free(rd.aead);
  aead_free(wr.aead);
  free(in);
  free(out);
  free(flight);
  free(plain);
  return moat_conn_handshake(p->c);
}

/* Client hello to the server, and the server's answer. */
static void start(pair *p) {
  CHECK_EQ_INT(moat_conn_handshake(p->c), MOAT_ERR_WANT_READ);
  shuttle(p->c, p->s);
  CHECK_EQ_INT(moat_conn_handshake(p->s), MOAT_ERR_WANT_READ);
}

static void test_server_flight_edits(void) {
  pair p;
  moat_err e;
  /* the editor itself changes nothing when asked to change nothing */
  pair_init(&p, NULL, NULL);
  start(&p);
  CHECK_EQ_INT(flight_to_client(&p, E_NONE), MOAT_OK);
  pair_free(&p);
  /* (e) Finished where Certificate is expected */
  pair_init(&p, NULL, NULL);
  start(&p);
  e = flight_to_client(&p, E_DROP_CERT_CV);
  check_failed("Finished for Certificate", p.c, e, MOAT_ERR_UNEXPECTED_MESSAGE,
               ALERT_UNEXPECTED_MESSAGE, "received Finished");
  pair_free(&p);
  /* (f) a tampered CertificateVerify signature */
  pair_init(&p, NULL, NULL);
  start(&p);
  e = flight_to_client(&p, E_FLIP_CV);
  check_failed("CertificateVerify", p.c, e, MOAT_ERR_DECRYPT_ERROR,
               ALERT_DECRYPT_ERROR, "CertificateVerify");
  pair_free(&p);
  /* (f) a tampered server Finished */
  pair_init(&p, NULL, NULL);
  start(&p);
  e = flight_to_client(&p, E_FLIP_FINISHED);
  check_failed("server Finished", p.c, e, MOAT_ERR_DECRYPT_ERROR,
               ALERT_DECRYPT_ERROR, "Finished");
  pair_free(&p);
}

/* The client's second flight (CCS, Finished) with its Finished replaced
 * by `msg` (or tampered when msg is NULL), to the server. */
static moat_err client_flight_to_server(pair *p, const uint8_t *msg,
                                        size_t msg_len) {
  buf *in = buf_new(), *out = buf_new();
  uint8_t plain[512];
  take(p->c, in);
  prot rd, wr;
  prot_init(&rd, p->ck.c_hs, false);
  prot_init(&wr, p->ck.c_hs, true);
  cursor c = cur_make(in->b, in->n), body, whole;
  uint8_t type;
  while (next_record(&c, &type, &body, &whole)) {
    if (type != CT_APPLICATION_DATA) {
      buf_add(out, cur_data(&whole), cur_len(&whole));
      continue;
    }
    uint8_t inner;
    size_t n = prot_open(&rd, whole, plain, &inner);
    CHECK(n == 4 + 32 && plain[0] == HT_FINISHED);
    if (msg != NULL) {
      prot_seal(&wr, out, CT_HANDSHAKE, msg, msg_len);
    } else {
      plain[4 + 31] ^= 0x01;
      prot_seal(&wr, out, CT_HANDSHAKE, plain, n);
    }
  }
  give(p->s, out->b, out->n);
  aead_free(rd.aead);
  aead_free(wr.aead);
  free(in);
  free(out);
  return moat_conn_handshake(p->s);
}

static void test_client_flight_edits(void) {
  pair p;
  moat_err e;
  /* (f) a tampered client Finished */
  pair_init(&p, NULL, NULL);
  start(&p);
  shuttle(p.s, p.c);
  CHECK_EQ_INT(moat_conn_handshake(p.c), MOAT_OK);
  e = client_flight_to_server(&p, NULL, 0);
  check_failed("client Finished", p.s, e, MOAT_ERR_DECRYPT_ERROR,
               ALERT_DECRYPT_ERROR, "Finished");
  pair_free(&p);
  /* (e) a second ClientHello, protected, after the server's flight */
  pair_init(&p, NULL, NULL);
  hmsg ch;
  if (take_client_hello(&p, &ch)) {
    CHECK_EQ_INT(server_gets(&p, &ch), MOAT_ERR_WANT_READ);
    shuttle(p.s, p.c);
    CHECK_EQ_INT(moat_conn_handshake(p.c), MOAT_OK);
    e = client_flight_to_server(&p, ch.b, ch.n);
    check_failed("second ClientHello", p.s, e, MOAT_ERR_UNEXPECTED_MESSAGE,
                 ALERT_UNEXPECTED_MESSAGE, "received ClientHello");
  }
  pair_free(&p);
  /* (e) the same in plaintext */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    CHECK_EQ_INT(server_gets(&p, &ch), MOAT_ERR_WANT_READ);
    e = server_gets(&p, &ch);
    check_failed("plaintext second ClientHello", p.s, e,
                 MOAT_ERR_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                 "unprotected record");
  }
  pair_free(&p);
}

/* ---- ServerHello and HelloRetryRequest edits (plaintext) ----------------- */

/* The server's first record (ServerHello or HRR) and the rest. */
static bool take_server_hello(pair *p, hmsg *sh, buf *rest) {
  buf *o = buf_new();
  take(p->s, o);
  cursor c = cur_make(o->b, o->n), body, whole;
  uint8_t type;
  bool ok = next_record(&c, &type, &body, &whole) && type == CT_HANDSHAKE &&
            hmsg_load(sh, body);
  rest->n = 0;
  buf_add(rest, cur_data(&c), cur_len(&c));
  free(o);
  CHECK(ok);
  return ok;
}

static moat_err client_gets(pair *p, const hmsg *m, const buf *rest) {
  buf *o = buf_new();
  add_record(o, CT_HANDSHAKE, m->b, m->n);
  if (rest != NULL) {
    buf_add(o, rest->b, rest->n);
  }
  give(p->c, o->b, o->n);
  free(o);
  return moat_conn_handshake(p->c);
}

#define SH_SID_OFF (4 + 2 + 32 + 1)

static void test_server_hello_edits(void) {
  pair p;
  hmsg sh;
  buf *rest = buf_new();
  moat_err e;
  size_t len, off;
  /* (i) legacy_session_id not echoed */
  pair_init(&p, NULL, NULL);
  start(&p);
  if (take_server_hello(&p, &sh, rest)) {
    CHECK_EQ_INT(sh.b[SH_SID_OFF - 1], 32);
    sh.b[SH_SID_OFF + 5] ^= 0xff;
    e = client_gets(&p, &sh, rest);
    check_failed("session id", p.c, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "legacy_session_id");
  }
  pair_free(&p);
  /* (h) a cipher suite the client did not offer */
  pair_init(&p, NULL, NULL);
  start(&p);
  if (take_server_hello(&p, &sh, rest)) {
    CHECK(sh.b[SH_SID_OFF + 32] == 0x13 && sh.b[SH_SID_OFF + 33] == 0x01);
    sh.b[SH_SID_OFF + 33] = 0x02;
    e = client_gets(&p, &sh, rest);
    check_failed("suite", p.c, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "0x1302");
  }
  pair_free(&p);
  /* (h) a key share for a group the client did not send */
  pair_init(&p, "X25519", NULL);
  start(&p);
  if (take_server_hello(&p, &sh, rest)) {
    off = hmsg_find(&sh, EXT_KEY_SHARE, &len);
    CHECK(off != 0 && sh.b[off + 4] == 0x00 && sh.b[off + 5] == 0x1d);
    sh.b[off + 5] = 0x17;
    e = client_gets(&p, &sh, rest);
    check_failed("group", p.c, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "0x0017");
  }
  pair_free(&p);
  /* RFC 8446 4.2: an extension the client never offered is
   * unsupported_extension, whether known or not ... */
  static const uint16_t unsolicited[] = {EXT_PRE_SHARED_KEY, 0x1234};
  for (size_t i = 0; i < 2; i++) {
    pair_init(&p, NULL, NULL);
    start(&p);
    if (take_server_hello(&p, &sh, rest)) {
      hmsg_append(&sh, unsolicited[i], (const uint8_t *)"\x00\x00", 2);
      e = client_gets(&p, &sh, rest);
      check_failed("unsolicited", p.c, e, MOAT_ERR_UNSUPPORTED_EXTENSION,
                   ALERT_UNSUPPORTED_EXTENSION, "not offered");
    }
    pair_free(&p);
  }
  /* ... and one that may not appear in a ServerHello is illegal_parameter */
  pair_init(&p, NULL, NULL);
  start(&p);
  if (take_server_hello(&p, &sh, rest)) {
    hmsg_append(&sh, EXT_ALPN, (const uint8_t *)"\x00\x03\x02h2", 5);
    e = client_gets(&p, &sh, rest);
    check_failed("ALPN in ServerHello", p.c, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "not allowed in ServerHello");
  }
  pair_free(&p);

  /* (g) HelloRetryRequest: the server only has P-256, the client sends an
   * X25519 share first. */
  pair_init(&p, "X25519:P-256", "P-256");
  start(&p);
  hmsg hrr;
  if (take_server_hello(&p, &hrr, rest)) {
    CHECK(memcmp(hrr.b + 6, k_hrr_random, 32) == 0);
    /* the genuine retry works, then a second one is refused */
    CHECK_EQ_INT(client_gets(&p, &hrr, rest), MOAT_ERR_WANT_READ);
    buf *ch2 = buf_new();
    take(p.c, ch2);
    CHECK(ch2->n > 0);
    free(ch2);
    e = client_gets(&p, &hrr, NULL);
    check_failed("second HRR", p.c, e, MOAT_ERR_UNEXPECTED_MESSAGE,
                 ALERT_UNEXPECTED_MESSAGE, "second HelloRetryRequest");
  }
  pair_free(&p);
  /* (g) a retry for the group the client already sent a share for */
  pair_init(&p, "X25519:P-256", "P-256");
  start(&p);
  if (take_server_hello(&p, &hrr, rest)) {
    off = hmsg_find(&hrr, EXT_KEY_SHARE, &len);
    CHECK(off != 0 && len == 6 && hrr.b[off + 5] == 0x17);
    hrr.b[off + 5] = 0x1d;
    e = client_gets(&p, &hrr, rest);
    check_failed("HRR group", p.c, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "already offered");
  }
  pair_free(&p);
  /* (g) a retry for a group the client never offered */
  pair_init(&p, "X25519:P-256", "P-256");
  start(&p);
  if (take_server_hello(&p, &hrr, rest)) {
    off = hmsg_find(&hrr, EXT_KEY_SHARE, &len);
    CHECK(off != 0);
    hrr.b[off + 5] = 0x18; /* P-384 */
    e = client_gets(&p, &hrr, rest);
    check_failed("HRR unoffered group", p.c, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "0x0018");
  }
  pair_free(&p);
  free(rest);
}

/* ---- (j) early data
 * ---------------------------------------------------------*/

static void junk_records(buf *o) {
  /* 0-RTT records of any size, shorter than a tag too */
  static const size_t sizes[] = {40, 300, 1200, 4, 0};
  uint8_t junk[1200];
  for (size_t i = 0; i < sizeof(junk); i++) {
    junk[i] = (uint8_t)(i * 131 + 17);
  }
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    add_record(o, CT_APPLICATION_DATA, junk, sizes[i]);
  }
}

static void test_early_data(void) {
  pair p;
  hmsg ch;
  /* RFC 8446 4.2.10: a server that does not accept early data skips the
   * client's 0-RTT records and completes the handshake. */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    hmsg_append(&ch, EXT_EARLY_DATA, NULL, 0);
    client_uses(&p, &ch);
    buf *o = buf_new();
    add_record(o, CT_HANDSHAKE, ch.b, ch.n);
    junk_records(o);
    give(p.s, o->b, o->n);
    free(o);
    CHECK(finish(&p));
    CHECK(moat_conn_handshake_done(p.s) && moat_conn_handshake_done(p.c));
    size_t w, got;
    uint8_t rb[16];
    CHECK(moat_conn_write(p.c, (const uint8_t *)"1-RTT", 5, &w) == MOAT_OK);
    shuttle(p.c, p.s);
    CHECK(moat_conn_read(p.s, rb, sizeof(rb), &got) == MOAT_OK && got == 5 &&
          memcmp(rb, "1-RTT", 5) == 0);
  }
  pair_free(&p);
  /* RFC 8446 4.2.10: after a HelloRetryRequest the client's 0-RTT
   * records arrive as application data before the second ClientHello:
   * skipped when it offered early data, unexpected when it did not */
  for (int offered = 1; offered >= 0; offered--) {
    pair_init(&p, "X25519:P-256", "P-256");
    if (take_client_hello(&p, &ch)) {
      if (offered) {
        hmsg_append(&ch, EXT_EARLY_DATA, NULL, 0);
        client_uses(&p, &ch);
      }
      buf *o = buf_new();
      add_record(o, CT_HANDSHAKE, ch.b, ch.n);
      junk_records(o);
      give(p.s, o->b, o->n);
      free(o);
      moat_err e = moat_conn_handshake(p.s);
      if (offered) {
        CHECK_EQ_INT(e, MOAT_ERR_WANT_READ);
        CHECK(finish(&p));
        CHECK(moat_conn_hello_retry(p.s) && moat_conn_hello_retry(p.c));
      } else {
        check_failed("application data after HRR without early_data", p.s, e,
                     MOAT_ERR_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "before the handshake finished");
      }
    }
    pair_free(&p);
  }
  /* RFC 8446 4.2.10: skipping has a limit (moat's: 16 records of the
   * largest size); 16 records of 16000 bytes are skipped, the 17th is
   * bad_record_mac */
  static uint8_t big_junk[16000];
  memset(big_junk, 0x5a, sizeof(big_junk));
  for (int num = 16; num <= 17; num++) {
    pair_init(&p, NULL, NULL);
    if (take_client_hello(&p, &ch)) {
      hmsg_append(&ch, EXT_EARLY_DATA, NULL, 0);
      client_uses(&p, &ch);
      buf *o = buf_new();
      add_record(o, CT_HANDSHAKE, ch.b, ch.n);
      give(p.s, o->b, o->n);
      moat_err e = moat_conn_handshake(p.s);
      for (int i = 0; i < num && e == MOAT_ERR_WANT_READ; i++) {
        o->n = 0;
        add_record(o, CT_APPLICATION_DATA, big_junk, sizeof(big_junk));
        give(p.s, o->b, o->n);
        e = moat_conn_handshake(p.s);
      }
      free(o);
      if (num == 16) {
        CHECK_EQ_INT(e, MOAT_ERR_WANT_READ);
        CHECK(finish(&p));
      } else {
        check_failed("early data past the skip limit", p.s, e,
                     MOAT_ERR_BAD_RECORD_MAC, ALERT_BAD_RECORD_MAC,
                     "authentication failed");
      }
    }
    pair_free(&p);
  }
  /* without early_data in the ClientHello the same records are an
   * attack: bad_record_mac */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    buf *o = buf_new();
    add_record(o, CT_HANDSHAKE, ch.b, ch.n);
    junk_records(o);
    give(p.s, o->b, o->n);
    free(o);
    moat_err e = moat_conn_handshake(p.s);
    check_failed("junk without early_data", p.s, e, MOAT_ERR_BAD_RECORD_MAC,
                 ALERT_BAD_RECORD_MAC, "authentication failed");
  }
  pair_free(&p);
}

/* ---- (h) pre_shared_key from a hostile client ---------------------------- */

/* Fresh connections on p's contexts, the client offering ticket s. */
static void psk_conns(pair *p, moat_session *s) {
  moat_conn_free(p->c);
  moat_conn_free(p->s);
  memset(&p->ck, 0, sizeof(p->ck));
  memset(&p->sk, 0, sizeof(p->sk));
  p->c = moat_conn_new(p->cc);
  p->s = moat_conn_new(p->sc);
  moat_conn_set_hostname(p->c, "localhost");
  CHECK(moat_conn_set_session(p->c, s) == MOAT_OK);
}

/* A full handshake on p's contexts; the client's ticket from it. */
static moat_session *psk_ticket(pair *p) {
  if (!finish(p)) {
    return NULL;
  }
  shuttle(p->s, p->c); /* NewSessionTicket */
  uint8_t b[16];
  size_t got;
  CHECK_EQ_INT(moat_conn_read(p->c, b, sizeof(b), &got), MOAT_ERR_WANT_READ);
  moat_session *s = moat_conn_get_session(p->c);
  CHECK(s != NULL);
  return s;
}

/* Replaces the ClientHello's pre_shared_key (its last extension) with
 * num_ids identities, the offered ticket at index `real` and made-up ones
 * elsewhere, then num_binders binders of binder_len zero bytes. */
static void psk_replace(hmsg *ch, size_t num_ids, size_t real,
                        size_t num_binders, size_t binder_len) {
  size_t len, off = hmsg_find(ch, EXT_PRE_SHARED_KEY, &len);
  CHECK(off != 0 && off + len == ch->n);
  cursor c = cur_make(ch->b + off + 4, len - 4), ids, id;
  uint32_t age = 0;
  CHECK(cur_prefixed16(&c, &ids) && cur_prefixed16(&ids, &id) &&
        cur_u32(&ids, &age));
  uint8_t ticket[512];
  size_t ticket_len = cur_len(&id);
  CHECK(ticket_len <= sizeof(ticket));
  memcpy(ticket, cur_data(&id), ticket_len);
  CHECK(hmsg_remove(ch, EXT_PRE_SHARED_KEY));
  uint8_t data[2048];
  builder b;
  bld_init_fixed(&b, data, sizeof(data));
  bld_open16(&b);
  for (size_t i = 0; i < num_ids; i++) {
    bld_open16(&b);
    if (i == real) {
      bld_bytes(&b, ticket, ticket_len);
    } else {
      bld_zeros(&b, 40); /* no ticket of ours */
    }
    bld_close(&b);
    bld_u32(&b, age);
  }
  bld_close(&b);
  bld_open16(&b);
  for (size_t i = 0; i < num_binders; i++) {
    bld_open8(&b);
    bld_zeros(&b, binder_len);
    bld_close(&b);
  }
  bld_close(&b);
  CHECK(bld_finish(&b));
  hmsg_append(ch, EXT_PRE_SHARED_KEY, data, bld_len(&b));
}

/* Fills in binder `which` of num (each 32 bytes, SHA-256) for ticket s
 * over the edited hello (RFC 8446 4.2.11.2). */
static void psk_sign(hmsg *ch, const moat_session *s, size_t which,
                     size_t num) {
  const hash_alg *h = hash_get(HASH_SHA256);
  size_t tail = 2 + num * 33;
  uint8_t th[32];
  key_schedule ks;
  memset(&ks, 0, sizeof(ks));
  CHECK(ks_init(&ks, h, s->psk, s->psk_len) &&
        hash_oneshot(h, ch->b, ch->n - tail, th) &&
        psk_binder(&ks, th, ch->b + ch->n - tail + 2 + which * 33 + 1));
  ks_clear(&ks);
}

/* The server answered hello ch: its Finished must be the MAC over
 * ClientHello || ServerHello || EncryptedExtensions exactly (RFC 8446
 * 4.4.1, a resumed handshake), whatever the pre_shared_key looked like. */
static bool server_finished_over(pair *p, const hmsg *ch) {
  const hash_alg *h = hash_get(HASH_SHA256);
  buf *in = buf_new();
  uint8_t *plain = malloc(BUF_MAX);
  hash_ctx *t = hash_new(h);
  hmac_ctx *hm = hmac_new(h);
  bool ok = false, seen_fin = false;
  take(p->s, in);
  CHECK(p->sk.have_hs);
  prot rd;
  prot_init(&rd, p->sk.s_hs, false);
  CHECK(hash_update(t, ch->b, ch->n));
  cursor c = cur_make(in->b, in->n), body, whole;
  uint8_t type;
  while (next_record(&c, &type, &body, &whole)) {
    if (type == CT_HANDSHAKE) {
      CHECK(hash_update(t, cur_data(&body), cur_len(&body))); /* SH */
      continue;
    }
    if (type != CT_APPLICATION_DATA) {
      continue; /* change_cipher_spec */
    }
    uint8_t inner;
    size_t n = prot_open(&rd, whole, plain, &inner);
    cursor f = cur_make(plain, n == SIZE_MAX ? 0 : n);
    while (!cur_done(&f)) {
      cursor start = f, mbody;
      uint8_t mt;
      uint32_t ml;
      if (!cur_u8(&f, &mt) || !cur_u24(&f, &ml) || !cur_sub(&f, ml, &mbody)) {
        break;
      }
      if (mt == HT_FINISHED) {
        uint8_t fkey[32], th[32], want[32];
        seen_fin = true;
        ok = cur_len(&mbody) == 32 && hash_peek(t, th) &&
             hkdf_expand_label(hm, p->sk.s_hs, 32, "finished", NULL, 0, fkey,
                               32) &&
             hmac_oneshot(hm, fkey, 32, th, 32, want) &&
             memcmp(want, cur_data(&mbody), 32) == 0;
      }
      CHECK(hash_update(t, cur_data(&start), 4 + ml));
    }
  }
  CHECK(seen_fin);
  aead_free(rd.aead);
  hmac_free(hm);
  hash_free(t);
  free(plain);
  free(in);
  return ok;
}

static void test_psk_edits(void) {
  pair p;
  hmsg ch;
  moat_err e;
  pair_init(&p, NULL, NULL);
  moat_session *s = psk_ticket(&p);
  if (s == NULL) {
    pair_free(&p);
    return;
  }

  /* the editor: the hello as sent is accepted, and the server's Finished
   * covers it once */
  psk_conns(&p, s);
  if (take_client_hello(&p, &ch)) {
    CHECK_EQ_INT(server_gets(&p, &ch), MOAT_ERR_WANT_READ);
    CHECK(p.s->hs != NULL && p.s->hs->psk_accepted && p.s->hs->psk_index == 0);
    CHECK(server_finished_over(&p, &ch));
  }

  /* the ticket second, after one the server cannot open: accepted as
   * identity 1, the truncated hello hashed in place with its own length */
  for (size_t real = 0; real < 2; real++) {
    psk_conns(&p, s);
    if (take_client_hello(&p, &ch)) {
      psk_replace(&ch, 2, real, 2, 32);
      psk_sign(&ch, s, real, 2);
      CHECK_EQ_INT(server_gets(&p, &ch), MOAT_ERR_WANT_READ);
      CHECK(p.s->hs != NULL && p.s->hs->psk_accepted &&
            p.s->hs->psk_index == real);
      CHECK(server_finished_over(&p, &ch));
    }
  }

  /* a binder that does not verify is fatal (RFC 8446 4.2.11) */
  psk_conns(&p, s);
  if (take_client_hello(&p, &ch)) {
    ch.b[ch.n - 1] ^= 0x01;
    e = server_gets(&p, &ch);
    check_failed("bad binder", p.s, e, MOAT_ERR_DECRYPT_ERROR,
                 ALERT_DECRYPT_ERROR, "binder for identity 0");
  }
  /* the right binder for the wrong identity */
  psk_conns(&p, s);
  if (take_client_hello(&p, &ch)) {
    psk_replace(&ch, 2, 1, 2, 32);
    psk_sign(&ch, s, 0, 2);
    e = server_gets(&p, &ch);
    check_failed("binder of another identity", p.s, e, MOAT_ERR_DECRYPT_ERROR,
                 ALERT_DECRYPT_ERROR, "binder for identity 1");
  }
  /* a binder longer than the ticket's hash */
  psk_conns(&p, s);
  if (take_client_hello(&p, &ch)) {
    psk_replace(&ch, 1, 0, 1, 48);
    e = server_gets(&p, &ch);
    check_failed("long binder", p.s, e, MOAT_ERR_DECRYPT_ERROR,
                 ALERT_DECRYPT_ERROR, "binder for identity 0");
  }
  /* one shorter than any hash */
  psk_conns(&p, s);
  if (take_client_hello(&p, &ch)) {
    psk_replace(&ch, 1, 0, 1, 31);
    e = server_gets(&p, &ch);
    check_failed("short binder", p.s, e, MOAT_ERR_DECODE_ERROR,
                 ALERT_DECODE_ERROR, "binder 0");
  }
  /* no identities */
  psk_conns(&p, s);
  if (take_client_hello(&p, &ch)) {
    psk_replace(&ch, 0, 0, 1, 32);
    e = server_gets(&p, &ch);
    check_failed("no identities", p.s, e, MOAT_ERR_DECODE_ERROR,
                 ALERT_DECODE_ERROR, "malformed pre_shared_key");
  }
  /* more binders than identities, and fewer */
  psk_conns(&p, s);
  if (take_client_hello(&p, &ch)) {
    psk_replace(&ch, 1, 0, 2, 32);
    psk_sign(&ch, s, 0, 2);
    e = server_gets(&p, &ch);
    check_failed("extra binder", p.s, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "more binders than identities");
  }
  psk_conns(&p, s);
  if (take_client_hello(&p, &ch)) {
    psk_replace(&ch, 3, 3, 2, 32);
    e = server_gets(&p, &ch);
    check_failed("missing binder", p.s, e, MOAT_ERR_DECODE_ERROR,
                 ALERT_DECODE_ERROR, "binder 2");
  }
  /* many identities, none ours: a full handshake */
  psk_conns(&p, s);
  if (take_client_hello(&p, &ch)) {
    psk_replace(&ch, 20, 20, 20, 32);
    CHECK_EQ_INT(server_gets(&p, &ch), MOAT_ERR_WANT_READ);
    CHECK(p.s->hs != NULL && !p.s->hs->psk_accepted);
  }
  /* pre_shared_key not last */
  psk_conns(&p, s);
  if (take_client_hello(&p, &ch)) {
    hmsg_append(&ch, 0x1234, NULL, 0);
    e = server_gets(&p, &ch);
    check_failed("not last", p.s, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "not the last extension");
  }
  moat_session_free(s);
  pair_free(&p);
}

/* ---- found by an outside conformance suite (RFC 8446) ------------------ */

/* Replaces extension `type` with data (moved to the end of the list). */
static void hmsg_replace(hmsg *m, uint16_t type, const uint8_t *data,
                         size_t n) {
  CHECK(hmsg_remove(m, type));
  hmsg_append(m, type, data, n);
}

/* The server answers ch with a ServerHello (no retry) and the handshake
 * completes with the client using the edited ClientHello. */
static void check_served(const char *name, pair *p, const hmsg *ch) {
  client_uses(p, ch);
  moat_err e = server_gets(p, ch);
  if (e != MOAT_ERR_WANT_READ) {
    fprintf(stderr, "  %s: server %s (%s)\n", name, moat_err_name(e),
            moat_conn_error_detail(p->s));
  }
  CHECK_EQ_INT(e, MOAT_ERR_WANT_READ);
  CHECK(!moat_conn_hello_retry(p->s));
  CHECK(finish(p));
}

/* RFC 8446 4.1.2: after a HelloRetryRequest the client may update its
 * pre_shared_key, not drop it. */
static void test_psk_after_retry(void) {
  pair p;
  hmsg ch;
  pair_init(&p, "X25519:P-256", "P-256");
  moat_session *s = psk_ticket(&p);
  if (s == NULL) {
    pair_free(&p);
    return;
  }
  psk_conns(&p, s);
  CHECK_EQ_INT(moat_conn_handshake(p.c), MOAT_ERR_WANT_READ);
  shuttle(p.c, p.s);
  CHECK_EQ_INT(moat_conn_handshake(p.s), MOAT_ERR_WANT_READ); /* the HRR */
  CHECK(moat_conn_hello_retry(p.s));
  shuttle(p.s, p.c);
  /* the second ClientHello, after the client's change_cipher_spec */
  CHECK_EQ_INT(moat_conn_handshake(p.c), MOAT_ERR_WANT_READ);
  buf *o = buf_new();
  take(p.c, o);
  cursor c = cur_make(o->b, o->n), body, whole;
  uint8_t type = 0;
  bool found = false;
  while (!found && next_record(&c, &type, &body, &whole)) {
    found = type == CT_HANDSHAKE && hmsg_load(&ch, body);
  }
  free(o);
  CHECK(found);
  if (found) {
    CHECK(hmsg_remove(&ch, EXT_PRE_SHARED_KEY));
    moat_err e = server_gets(&p, &ch);
    check_failed("PSK dropped after HRR", p.s, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "dropped");
  }
  moat_session_free(s);
  pair_free(&p);
}

static void test_outside_findings(void) {
  pair p;
  hmsg ch;
  size_t len, off;
  moat_err e;

  /* A peer cannot keep us reading records that carry nothing: 32 empty
   * data records (or KeyUpdates) in a row pass, the 33rd is
   * unexpected_message; data in between starts the count again (16,
   * data, 32 pass).  user_canceled alerts are warnings: 4 in a row pass,
   * the 5th is refused (3, data, 4 pass) */
  for (int kind = 0; kind < 3; kind++) {
    int limit = kind == 2 ? 4 : 32, before = kind == 2 ? 3 : 16;
    pair_init(&p, NULL, NULL);
    CHECK(finish(&p));
    static const uint8_t uc[2] = {1, ALERT_USER_CANCELED};
    size_t w, got;
    uint8_t rb[16];
    for (int i = 0; i < before + limit + 1; i++) {
      if (i == before) {
        CHECK(moat_conn_write(p.c, (const uint8_t *)"x", 1, &w) == MOAT_OK);
      }
      if (i == before + limit) {
        shuttle(p.c, p.s);
        for (int r = 0; r < 3; r++) {
          e = moat_conn_read(p.s, rb, sizeof(rb), &got);
        }
        CHECK_EQ_INT(e, MOAT_ERR_WANT_READ); /* 32 after the data: fine */
      }
      if (kind == 0) {
        CHECK_EQ_INT(rec_write(p.c, CT_APPLICATION_DATA, NULL, 0), MOAT_OK);
      } else if (kind == 1) {
        CHECK_EQ_INT(moat_conn_key_update(p.c, false), MOAT_OK);
      } else {
        CHECK_EQ_INT(rec_write(p.c, CT_ALERT, uc, 2), MOAT_OK);
      }
    }
    shuttle(p.c, p.s);
    e = moat_conn_read(p.s, rb, sizeof(rb), &got);
    check_failed("idle records", p.s, e, MOAT_ERR_UNEXPECTED_MESSAGE,
                 ALERT_UNEXPECTED_MESSAGE,
                 kind == 2 ? "more than 4 warning alerts" : "carry no data");
    pair_free(&p);
  }

  /* RFC 8017 9.1.1: a 1024-bit RSA key cannot sign rsa_pss_rsae_sha512
   * (salt of 64 bytes): with only that scheme offered the server says
   * handshake_failure, not internal_error; with SHA-256 too it uses it */
  for (int with256 = 0; with256 <= 1; with256++) {
    pair_init(&p, NULL, NULL);
    char cert[256], key[256];
    pki_path(cert, sizeof(cert), "rsa1024.pem");
    pki_path(key, sizeof(key), "rsa1024.key");
    CHECK(moat_context_load_cert_chain(p.sc, cert, key, NULL) == MOAT_OK);
    CHECK(moat_context_set_sigalgs(
              p.cc, with256 ? "rsa_pss_rsae_sha512:rsa_pss_rsae_sha256"
                            : "rsa_pss_rsae_sha512") == MOAT_OK);
    moat_conn_free(p.c);
    moat_conn_free(p.s);
    p.c = moat_conn_new(p.cc);
    p.s = moat_conn_new(p.sc);
    moat_conn_set_hostname(p.c, "localhost");
    if (with256) {
      CHECK(finish(&p));
      const char *sig = moat_conn_sigalg_name(p.s);
      CHECK(sig != NULL && strcmp(sig, "rsa_pss_rsae_sha256") == 0);
    } else {
      if (take_client_hello(&p, &ch)) {
        e = server_gets(&p, &ch);
        check_failed("PSS-SHA512 with a 1024-bit key", p.s, e,
                     MOAT_ERR_HANDSHAKE_FAILURE, ALERT_HANDSHAKE_FAILURE,
                     "no signature scheme");
      }
    }
    pair_free(&p);
  }

  /* RFC 8446 4.2.9: a first ClientHello (no session) lists
   * psk_key_exchange_modes (psk_dhe_ke), or a server sends no ticket */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    off = hmsg_find(&ch, EXT_PSK_KEY_EXCHANGE_MODES, &len);
    CHECK(off != 0 && len == 4 + 2 && ch.b[off + 4] == 1 &&
          ch.b[off + 5] == PSK_DHE_KE);
    CHECK(hmsg_find(&ch, EXT_PRE_SHARED_KEY, &len) == 0);
  }
  pair_free(&p);

  /* RFC 8446 4.2.9: no ticket for a client that did not list psk_dhe_ke
   * (it lists modes moat does not resume with, or none) */
  for (int modes = 0; modes < 3; modes++) {
    pair_init(&p, NULL, NULL);
    if (take_client_hello(&p, &ch)) {
      static const uint8_t ke_only[2] = {1, 0}; /* psk_ke */
      if (modes == 0) {
        CHECK(hmsg_remove(&ch, EXT_PSK_KEY_EXCHANGE_MODES));
      } else if (modes == 1) {
        hmsg_replace(&ch, EXT_PSK_KEY_EXCHANGE_MODES, ke_only, 2);
      }
      client_uses(&p, &ch);
      CHECK_EQ_INT(server_gets(&p, &ch), MOAT_ERR_WANT_READ);
      CHECK(finish(&p));
      uint8_t rb[16];
      size_t got;
      shuttle(p.s, p.c);
      CHECK_EQ_INT(moat_conn_read(p.c, rb, sizeof(rb), &got),
                   MOAT_ERR_WANT_READ);
      moat_session *sess = moat_conn_get_session(p.c);
      CHECK((sess != NULL) == (modes == 2));
      moat_session_free(sess);
    }
    pair_free(&p);
  }

  /* RFC 8446 4.1.2: after a HelloRetryRequest with a cookie and no
   * key_share, the second ClientHello repeats the first one's shares */
  pair_init(&p, "X25519:P-256", "P-256");
  if (take_client_hello(&p, &ch)) {
    size_t l1;
    off = hmsg_find(&ch, EXT_KEY_SHARE, &l1);
    uint8_t ks1[512];
    CHECK(off != 0 && l1 <= sizeof(ks1));
    memcpy(ks1, ch.b + off, l1);
    CHECK_EQ_INT(server_gets(&p, &ch), MOAT_ERR_WANT_READ);
    hmsg hrr;
    buf *rest = buf_new();
    if (take_server_hello(&p, &hrr, rest)) {
      CHECK(hmsg_remove(&hrr, EXT_KEY_SHARE));
      CHECK(hmsg_find(&hrr, EXT_COOKIE, &len) != 0);
      CHECK_EQ_INT(client_gets(&p, &hrr, NULL), MOAT_ERR_WANT_READ);
      buf *o = buf_new();
      take(p.c, o);
      cursor c = cur_make(o->b, o->n), body, whole;
      uint8_t type = 0;
      hmsg ch2;
      while (next_record(&c, &type, &body, &whole) && type != CT_HANDSHAKE) {
      }
      CHECK(type == CT_HANDSHAKE && hmsg_load(&ch2, body));
      size_t l2;
      size_t off2 = hmsg_find(&ch2, EXT_KEY_SHARE, &l2);
      CHECK(off2 != 0 && l2 == l1 && memcmp(ch2.b + off2, ks1, l1) == 0);
      /* and the same suites (TLS 1.2's too) and the same extensions, in
       * the same order, but for the cookie it adds */
      size_t sid = ch.b[4 + 2 + 32];
      size_t at = 4 + 2 + 32 + 1 + sid;
      CHECK(ch2.b[4 + 2 + 32] == sid && at < ch.n &&
            memcmp(ch.b + at, ch2.b + at,
                   2 + ((ch.b[at] << 8) | ch.b[at + 1])) == 0);
      CHECK(hmsg_remove(&ch2, EXT_COOKIE));
      cursor e1 = cur_make(ch.b + ch.ext_off + 2, ch.n - ch.ext_off - 2);
      cursor e2 = cur_make(ch2.b + ch2.ext_off + 2, ch2.n - ch2.ext_off - 2);
      uint16_t t1, t2;
      cursor d1, d2;
      bool same = true;
      while (cur_u16(&e1, &t1) && cur_prefixed16(&e1, &d1)) {
        same =
            same && cur_u16(&e2, &t2) && cur_prefixed16(&e2, &d2) && t1 == t2;
      }
      CHECK(same && cur_done(&e2));
      free(o);
    }
    free(rest);
  }
  pair_free(&p);

  /* RFC 8446 D.5: legacy_version 0x0300 is protocol_version, even with
   * TLS 1.3 in supported_versions */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    ch.b[4] = 3;
    ch.b[5] = 0;
    e = server_gets(&p, &ch);
    check_failed("SSL 3.0 legacy_version", p.s, e, MOAT_ERR_PROTOCOL_VERSION,
                 ALERT_PROTOCOL_VERSION, "SSL 3.0");
  }
  pair_free(&p);

  /* RFC 8446 4.2.8: 40 shares for unknown groups before the known one are
   * skipped; without a known one, a HelloRetryRequest asks for one */
  for (int with_known = 1; with_known >= 0; with_known--) {
    pair_init(&p, "X25519", NULL); /* one small share */
    if (take_client_hello(&p, &ch)) {
      off = hmsg_find(&ch, EXT_KEY_SHARE, &len);
      CHECK(off != 0);
      uint8_t ks[2 + 40 * 6 + 256];
      size_t kn = 2;
      for (unsigned i = 0; i < 40; i++) {
        uint8_t e6[6] = {0x7a, (uint8_t)i, 0, 2, 0xab, 0xcd};
        memcpy(ks + kn, e6, 6);
        kn += 6;
      }
      if (with_known) {
        CHECK(len - 6 <= 256);
        memcpy(ks + kn, ch.b + off + 6, len - 6); /* the real entries */
        kn += len - 6;
      }
      ks[0] = (uint8_t)((kn - 2) >> 8);
      ks[1] = (uint8_t)(kn - 2);
      hmsg_replace(&ch, EXT_KEY_SHARE, ks, kn);
      if (with_known) {
        check_served("40 unknown key shares", &p, &ch);
      } else {
        client_uses(&p, &ch);
        e = server_gets(&p, &ch);
        CHECK_EQ_INT(e, MOAT_ERR_WANT_READ);
        CHECK(moat_conn_hello_retry(p.s));
      }
    }
    pair_free(&p);
  }

  /* RFC 8446 4.2.3, 4.2.7: the whole lists count: the usable scheme after
   * 300 unknown ones, the usable group after 100 unknown ones */
  pair_init(&p, "X25519", NULL); /* one small share */
  if (take_client_hello(&p, &ch)) {
    uint8_t sa[2 + 2 * 301];
    size_t sn = 2;
    for (unsigned i = 0; i < 300; i++) {
      sa[sn++] = (uint8_t)(0xe0 + i / 256);
      sa[sn++] = (uint8_t)i;
    }
    sa[sn++] = 0x04; /* ecdsa_secp256r1_sha256, for the P-256 key */
    sa[sn++] = 0x03;
    sa[0] = (uint8_t)((sn - 2) >> 8);
    sa[1] = (uint8_t)(sn - 2);
    hmsg_replace(&ch, EXT_SIGNATURE_ALGORITHMS, sa, sn);
    uint8_t sg[2 + 2 * 101];
    size_t gn = 2;
    for (unsigned i = 0; i < 100; i++) {
      sg[gn++] = 0x7b;
      sg[gn++] = (uint8_t)i;
    }
    sg[gn++] = 0x00; /* x25519, the group of the client's share */
    sg[gn++] = 0x1d;
    sg[0] = (uint8_t)((gn - 2) >> 8);
    sg[1] = (uint8_t)(gn - 2);
    hmsg_replace(&ch, EXT_SUPPORTED_GROUPS, sg, gn);
    check_served("long signature_algorithms and supported_groups", &p, &ch);
  }
  pair_free(&p);

  /* RFC 8446 4.1.2: 3000 unknown extensions, the key share among them */
  pair_init(&p, "X25519", NULL); /* one small share */
  if (take_client_hello(&p, &ch)) {
    off = hmsg_find(&ch, EXT_KEY_SHARE, &len);
    uint8_t share[256];
    CHECK(off != 0 && len - 4 <= sizeof(share));
    memcpy(share, ch.b + off + 4, len - 4);
    CHECK(hmsg_remove(&ch, EXT_KEY_SHARE));
    for (unsigned i = 0; i < 3000; i++) {
      if (i == 1500) {
        hmsg_append(&ch, EXT_KEY_SHARE, share, len - 4);
      }
      hmsg_append(&ch, (uint16_t)(0x5000 + i), NULL, 0);
    }
    CHECK(ch.n > 12000 && ch.n < sizeof(ch.b));
    check_served("3000 unknown extensions", &p, &ch);
  }
  pair_free(&p);

  /* RFC 8446 5.4: an empty alert record under handshake keys is
   * unexpected_message */
  pair_init(&p, NULL, NULL);
  CHECK_EQ_INT(moat_conn_handshake(p.c), MOAT_ERR_WANT_READ);
  shuttle(p.c, p.s);
  CHECK_EQ_INT(moat_conn_handshake(p.s), MOAT_ERR_WANT_READ);
  if (p.sk.have_hs) {
    prot cp;
    prot_init(&cp, p.sk.c_hs, true);
    buf *o = buf_new();
    prot_seal(&cp, o, CT_ALERT, NULL, 0);
    give(p.s, o->b, o->n);
    free(o);
    aead_free(cp.aead);
    e = moat_conn_handshake(p.s);
    check_failed("empty alert record", p.s, e, MOAT_ERR_UNEXPECTED_MESSAGE,
                 ALERT_UNEXPECTED_MESSAGE, "empty alert");
  } else {
    CHECK(false);
  }
  pair_free(&p);

  /* RFC 8446 4.2.10: after a HelloRetryRequest, records that do not
   * decrypt after the second ClientHello are bad_record_mac (it carries
   * no early data), even when the first offered early data */
  pair_init(&p, "X25519:P-256", "P-256");
  if (take_client_hello(&p, &ch)) {
    hmsg_append(&ch, EXT_EARLY_DATA, NULL, 0);
    client_uses(&p, &ch);
    e = server_gets(&p, &ch);
    CHECK_EQ_INT(e, MOAT_ERR_WANT_READ);
    CHECK(moat_conn_hello_retry(p.s));
    shuttle(p.s, p.c);
    CHECK_EQ_INT(moat_conn_handshake(p.c), MOAT_ERR_WANT_READ);
    buf *o = buf_new();
    take(p.c, o); /* the second ClientHello */
    junk_records(o);
    give(p.s, o->b, o->n);
    free(o);
    e = moat_conn_handshake(p.s);
    check_failed("junk after the second ClientHello", p.s, e,
                 MOAT_ERR_BAD_RECORD_MAC, ALERT_BAD_RECORD_MAC,
                 "authentication failed");
  }
  pair_free(&p);
}

/* ---- the hybrid groups ------------------------------------------------- */

/* The default ClientHello carries X25519MLKEM768 first in supported_groups
 * and two shares, the hybrid's (1216 bytes) then X25519's; each part of a
 * hybrid share is checked by the server, and each part of the server's by
 * the client. */
static void test_hybrid_edits(void) {
  pair p;
  hmsg ch, sh;
  buf *rest = buf_new();
  size_t len, off;
  moat_err e;
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    off = hmsg_find(&ch, EXT_SUPPORTED_GROUPS, &len);
    CHECK(off != 0 && ch.b[off + 6] == 0x11 && ch.b[off + 7] == 0xec &&
          ch.b[off + 8] == 0x00 && ch.b[off + 9] == 0x1d);
    off = hmsg_find(&ch, EXT_KEY_SHARE, &len);
    CHECK(off != 0 && len == 4 + 2 + 4 + 1216 + 4 + 32);
    CHECK(ch.b[off + 6] == 0x11 && ch.b[off + 7] == 0xec &&
          ch.b[off + 8] == 0x04 && ch.b[off + 9] == 0xc0);
    CHECK(ch.b[off + 10 + 1216] == 0x00 && ch.b[off + 11 + 1216] == 0x1d);
    CHECK(ch.n > 1300);
  }
  pair_free(&p);
  /* An ML-KEM encapsulation key with a coefficient equal to q (FIPS 203
   * 7.2): illegal_parameter. */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    off = hmsg_find(&ch, EXT_KEY_SHARE, &len) + 10;
    ch.b[off] = 0x01;
    ch.b[off + 1] = (uint8_t)((ch.b[off + 1] & 0xf0) | 0x0d);
    e = server_gets(&p, &ch);
    check_failed("ML-KEM key", p.s, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER,
                 "X25519MLKEM768 key share is "
                 "invalid: its ML-KEM-768");
  }
  pair_free(&p);
  /* The hybrid's X25519 part set to the all-zero point. */
  pair_init(&p, NULL, NULL);
  if (take_client_hello(&p, &ch)) {
    off = hmsg_find(&ch, EXT_KEY_SHARE, &len) + 10 + 1184;
    memset(ch.b + off, 0, 32);
    e = server_gets(&p, &ch);
    check_failed("hybrid X25519", p.s, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "all-zero");
  }
  pair_free(&p);
  /* SecP256r1MLKEM768's P-256 part (first) off the curve. */
  pair_init(&p, "SecP256r1MLKEM768", NULL);
  if (take_client_hello(&p, &ch)) {
    off = hmsg_find(&ch, EXT_KEY_SHARE, &len) + 10;
    CHECK(ch.b[off - 4] == 0x11 && ch.b[off - 3] == 0xeb && ch.b[off] == 4);
    ch.b[off + 64] ^= 1;
    e = server_gets(&p, &ch);
    check_failed("hybrid P-256", p.s, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "not a valid point");
  }
  pair_free(&p);
  /* The server's share: ciphertext (1088 bytes) then X25519. */
  pair_init(&p, NULL, NULL);
  start(&p);
  if (take_server_hello(&p, &sh, rest)) {
    off = hmsg_find(&sh, EXT_KEY_SHARE, &len);
    CHECK(off != 0 && len == 4 + 4 + 1120 && sh.b[off + 4] == 0x11 &&
          sh.b[off + 5] == 0xec);
    memset(sh.b + off + 8 + 1088, 0, 32);
    e = client_gets(&p, &sh, rest);
    check_failed("server hybrid X25519", p.c, e, MOAT_ERR_ILLEGAL_PARAMETER,
                 ALERT_ILLEGAL_PARAMETER, "all-zero");
  }
  pair_free(&p);
  /* A changed ciphertext decapsulates (implicit rejection) to another
   * secret: the client cannot read the server's next record. */
  pair_init(&p, NULL, NULL);
  start(&p);
  if (take_server_hello(&p, &sh, rest)) {
    off = hmsg_find(&sh, EXT_KEY_SHARE, &len);
    sh.b[off + 8 + 500] ^= 0x04;
    e = client_gets(&p, &sh, rest);
    check_failed("ciphertext", p.c, e, MOAT_ERR_BAD_RECORD_MAC,
                 ALERT_BAD_RECORD_MAC, "");
  }
  pair_free(&p);
  free(rest);
}

int main(void) {
  if (pki_init() != 0 || pki_leaf("p256", "p256", "30", "serverAuth") ||
      pki_leaf("rsa1024", "rsa1024", "30", "serverAuth")) {
    fprintf(stderr, "could not make the test PKI with openssl\n");
    return 1;
  }
  test_tls12_client_hello();
  test_tls12_server_hello();
  test_client_hello_edits();
  test_server_flight_edits();
  test_client_flight_edits();
  test_server_hello_edits();
  test_early_data();
  test_psk_edits();
  test_psk_after_retry();
  test_outside_findings();
  test_hybrid_edits();
  pki_cleanup();
  return t_done("tls13_negative");
}
