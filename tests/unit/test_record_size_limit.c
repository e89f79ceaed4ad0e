/* record_size_limit (RFC 8449) between a moat client and a moat server in
 * memory, TLS 1.3 and TLS 1.2, each side limiting the other: the records
 * on the wire (handshake flight and data), a peer that ignores our limit
 * (record_overflow, seen by that peer as an alert), values below 64
 * refused, the check of the records before EncryptedExtensions, a
 * resumed handshake, and no answer to a client that did not ask. */
#include <stdlib.h>
#include <string.h>

#include "pair.h"
#include "pki.h"
#include "t.h"
#include "tls/msg/msg.h"

typedef struct pair {
  moat_conn *c, *s;
} pair;

static void new_pair(pair *p, moat_context *cc, moat_context *sc) {
  p->c = moat_conn_new(cc);
  p->s = moat_conn_new(sc);
  moat_conn_set_hostname(p->c, "localhost");
}

static void free_pair(pair *p) {
  moat_conn_free(p->c);
  moat_conn_free(p->s);
}

static moat_context *ctx_for(bool server, int version, size_t limit) {
  moat_context *ctx = server ? pki_server_ctx("rsa") : pki_client_ctx();
  CHECK(ctx != NULL);
  CHECK(moat_context_set_max_version(ctx, version) == MOAT_OK);
  CHECK(moat_context_set_record_size_limit(ctx, limit) == MOAT_OK);
  return ctx;
}

typedef struct wire {
  size_t records, protected_records;
  size_t biggest_protected; /* record body */
  size_t biggest_plain;
} wire;

/* The records pending in conn's output, without taking them. */
static wire scan(moat_conn *conn, bool tls13) {
  wire w = {0};
  const uint8_t *data;
  size_t n;
  moat_conn_output_view(conn, &data, &n);
  cursor c = cur_make(data, n), body;
  uint8_t type;
  uint16_t version;
  while (cur_u8(&c, &type) && cur_u16(&c, &version) &&
         cur_prefixed16(&c, &body)) {
    w.records++;
    /* TLS 1.3: protected records are application_data; TLS 1.2 here:
     * the Finished after ChangeCipherSpec, and data */
    bool prot = tls13 ? type == CT_APPLICATION_DATA
                      : type == CT_APPLICATION_DATA || w.protected_records > 0;
    if (type == CT_CHANGE_CIPHER_SPEC) {
      if (!tls13) {
        w.protected_records = 1; /* what follows is protected */
        w.records--;
      }
      continue;
    }
    if (prot) {
      w.protected_records++;
      if (cur_len(&body) > w.biggest_protected) {
        w.biggest_protected = cur_len(&body);
      }
    } else if (cur_len(&body) > w.biggest_plain) {
      w.biggest_plain = cur_len(&body);
    }
  }
  if (!tls13 && w.protected_records > 0) {
    w.protected_records--; /* the marker */
  }
  return w;
}

/* Writes n bytes from a and checks what goes on the wire: records of at
 * most plain bytes of plaintext (overhead: what protection adds), then
 * reads them at b. */
static void check_data(moat_conn *a, moat_conn *b, size_t n, size_t plain,
                       size_t overhead, bool tls13) {
  uint8_t *msg = malloc(n), *got = malloc(n);
  memset(msg, 'd', n);
  size_t w, r, total = 0;
  CHECK(moat_conn_write(a, msg, n, &w) == MOAT_OK && w == n);
  wire s = scan(a, tls13);
  size_t expect = (n + plain - 1) / plain;
  CHECK_EQ_INT(s.records, expect);
  CHECK_EQ_INT(s.biggest_protected, (n < plain ? n : plain) + overhead);
  for (int i = 0; i < 100 && total < n; i++) {
    shuttle(a, b);
    while (total < n &&
           moat_conn_read(b, got + total, n - total, &r) == MOAT_OK) {
      total += r;
    }
  }
  CHECK(total == n && memcmp(got, msg, n) == 0);
  free(msg);
  free(got);
}

/* A record's overhead with the suites moat picks by default between
 * moat peers: TLS 1.3 AES-128-GCM (type byte and tag); TLS 1.2
 * ECDHE-RSA-AES128-GCM (explicit nonce and tag). */
static size_t overhead(bool tls13) {
  return tls13 ? 1 + 16 : 8 + 16;
}

/* The client limits the server to 256: the server's protected handshake
 * records (TLS 1.3's encrypted flight; TLS 1.2's are not protected
 * until ChangeCipherSpec, so not limited) and its data; the server
 * answers with the version's largest, so the client's records are not
 * limited. */
static void test_client_limits_server(int version) {
  bool tls13 = version == MOAT_TLS1_3;
  moat_context *cc = ctx_for(false, version, 256);
  moat_context *sc = ctx_for(true, version, 0);
  pair p;
  new_pair(&p, cc, sc);
  CHECK(moat_conn_handshake(p.c) == MOAT_ERR_WANT_READ);
  shuttle(p.c, p.s);
  CHECK(moat_conn_handshake(p.s) == MOAT_ERR_WANT_READ);
  wire f = scan(p.s, tls13);
  if (tls13) {
    /* an RSA chain (about 1 KB, compressed): records of 255 bytes of
     * content + type + tag, not one */
    CHECK(f.protected_records >= 4);
    CHECK_EQ_INT(f.biggest_protected, 256 + 16);
  } else {
    /* ServerHello..ServerHelloDone unprotected, in one record */
    CHECK(f.biggest_plain > 1000);
  }
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK_EQ_INT(p.c->rsl_ours, 256);
  CHECK_EQ_INT(p.c->rsl_peer, tls13 ? 16385 : 16384);
  /* RFC 8449 4: TLS 1.3 counts the type byte in the limit */
  check_data(p.s, p.c, 2000, tls13 ? 255 : 256, overhead(tls13), tls13);
  check_data(p.c, p.s, 2000, 2000, overhead(tls13), tls13);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* The server limits the client to 300 (the client offers the largest,
 * so it asked): the client's Finished and data. */
static void test_server_limits_client(int version) {
  bool tls13 = version == MOAT_TLS1_3;
  moat_context *cc = ctx_for(false, version, 16385);
  moat_context *sc = ctx_for(true, version, 300);
  /* with max_send_fragment larger than the peer's limit, the limit wins;
   * smaller, it does */
  CHECK(moat_context_set_max_send_fragment(cc, 1024) == MOAT_OK);
  CHECK(moat_context_set_max_send_fragment(sc, 600) == MOAT_OK);
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK_EQ_INT(p.s->rsl_ours, 300);
  CHECK_EQ_INT(p.c->rsl_peer, 300);
  /* TLS 1.2: the client's 16385 means 2^14 */
  CHECK_EQ_INT(p.s->rsl_peer, tls13 ? 16385 : 16384);
  check_data(p.c, p.s, 2000, tls13 ? 299 : 300, overhead(tls13), tls13);
  check_data(p.s, p.c, 2000, 600, overhead(tls13), tls13);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* A peer that ignores our limit (the limit it learnt is cleared here, as
 * a stack that skips the extension would): its record over our limit is
 * record_overflow, and the peer reads the alert. */
static void test_overflow(int version, bool server_limits) {
  moat_context *cc = ctx_for(false, version, server_limits ? 16385 : 256);
  moat_context *sc = ctx_for(true, version, server_limits ? 256 : 0);
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  moat_conn *limiter = server_limits ? p.s : p.c;
  moat_conn *sender = server_limits ? p.c : p.s;
  sender->rsl_peer = 0;
  uint8_t msg[1000], got[1000];
  memset(msg, 'o', sizeof(msg));
  size_t w, r;
  CHECK(moat_conn_write(sender, msg, sizeof(msg), &w) == MOAT_OK);
  shuttle(sender, limiter);
  CHECK(moat_conn_read(limiter, got, sizeof(got), &r) ==
        MOAT_ERR_RECORD_OVERFLOW);
  const char *detail = moat_conn_error_detail(limiter);
  CHECK(detail != NULL && strstr(detail, "record_size_limit of 256") != NULL);
  shuttle(limiter, sender);
  CHECK(moat_conn_read(sender, got, sizeof(got), &r) ==
        MOAT_ERR_ALERT_RECEIVED);
  int alert = 0;
  bool by_us = true;
  CHECK(moat_conn_alert(sender, &alert, &by_us) && !by_us &&
        alert == ALERT_RECORD_OVERFLOW);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* Replaces the first record_size_limit extension of `limit` in conn's
 * pending output (a hello, unprotected) with `with`. */
static bool patch_limit(moat_conn *conn, uint16_t limit, uint16_t with) {
  const uint8_t *data;
  size_t n;
  moat_conn_output_view(conn, &data, &n);
  uint8_t want[6] = {0, EXT_RECORD_SIZE_LIMIT, 0,
                     2, (uint8_t)(limit >> 8), (uint8_t)limit};
  for (size_t i = 0; i + 6 <= n; i++) {
    if (memcmp(data + i, want, 6) == 0) {
      uint8_t *p = (uint8_t *)data + i + 4;
      p[0] = (uint8_t)(with >> 8);
      p[1] = (uint8_t)with;
      return true;
    }
  }
  return false;
}

/* RFC 8449 4: a limit below 64 is illegal_parameter, from a client (both
 * versions) and from a TLS 1.2 server (its ServerHello is in the clear);
 * the sender reads the alert. */
static void test_below_64(int version, bool from_client) {
  moat_context *cc = ctx_for(false, version, 64);
  moat_context *sc = ctx_for(true, version, 64);
  pair p;
  new_pair(&p, cc, sc);
  CHECK(moat_conn_handshake(p.c) == MOAT_ERR_WANT_READ);
  moat_conn *bad = p.c, *judge = p.s;
  if (!from_client) {
    shuttle(p.c, p.s);
    CHECK(moat_conn_handshake(p.s) == MOAT_ERR_WANT_READ);
    bad = p.s;
    judge = p.c;
  }
  CHECK(patch_limit(bad, 64, 63));
  shuttle(bad, judge);
  CHECK(moat_conn_handshake(judge) == MOAT_ERR_ILLEGAL_PARAMETER);
  const char *detail = moat_conn_error_detail(judge);
  CHECK(detail != NULL && strstr(detail, "below the minimum") != NULL);
  shuttle(judge, bad);
  CHECK(moat_conn_handshake(bad) == MOAT_ERR_ALERT_RECEIVED);
  int alert = 0;
  bool by_us = true;
  CHECK(moat_conn_alert(bad, &alert, &by_us) && !by_us &&
        alert == ALERT_ILLEGAL_PARAMETER);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* TLS 1.3: the server's first protected record, which carries
 * EncryptedExtensions, is already bound by the client's limit; the
 * client learns that the server agreed only from that message.  The
 * client offers 16385, then its policy snapshot is changed to 256 (as if
 * it had offered that and the server ignored it), so the server's flight
 * comes in one large record: the client refuses it at
 * EncryptedExtensions and the server reads the alert. */
static void test_overflow_before_ee(void) {
  moat_context *cc = ctx_for(false, MOAT_TLS1_3, 16385);
  moat_context *sc = ctx_for(true, MOAT_TLS1_3, 0);
  pair p;
  new_pair(&p, cc, sc);
  CHECK(moat_conn_handshake(p.c) == MOAT_ERR_WANT_READ);
  ((tls_policy *)p.c->ctx)->record_size_limit = 256;
  shuttle(p.c, p.s);
  CHECK(moat_conn_handshake(p.s) == MOAT_ERR_WANT_READ);
  shuttle(p.s, p.c);
  CHECK(moat_conn_handshake(p.c) == MOAT_ERR_RECORD_OVERFLOW);
  const char *detail = moat_conn_error_detail(p.c);
  CHECK(detail != NULL && strstr(detail, "record_size_limit of 256") != NULL);
  shuttle(p.c, p.s);
  CHECK(moat_conn_handshake(p.s) == MOAT_ERR_ALERT_RECEIVED);
  int alert = 0;
  bool by_us = true;
  CHECK(moat_conn_alert(p.s, &alert, &by_us) && !by_us &&
        alert == ALERT_RECORD_OVERFLOW);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* A resumed handshake (TLS 1.3 PSK, TLS 1.2 ticket) negotiates the
 * limit again and keeps to it. */
static void test_resumed(int version) {
  bool tls13 = version == MOAT_TLS1_3;
  moat_context *cc = ctx_for(false, version, 300);
  moat_context *sc = ctx_for(true, version, 0);
  pair p;
  new_pair(&p, cc, sc);
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  check_data(p.s, p.c, 100, 100, overhead(tls13), tls13); /* reads tickets */
  moat_session *sess = moat_conn_get_session(p.c);
  CHECK(sess != NULL);
  free_pair(&p);
  new_pair(&p, cc, sc);
  CHECK(moat_conn_set_session(p.c, sess) == MOAT_OK);
  ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK && moat_conn_session_reused(p.c));
  CHECK_EQ_INT(moat_conn_peer_record_size_limit(p.s), 300);
  CHECK_EQ_INT(moat_conn_record_size_limit(p.c), 300);
  check_data(p.s, p.c, 2000, tls13 ? 299 : 300, overhead(tls13), tls13);
  free_pair(&p);
  moat_session_free(sess);
  moat_context_free(cc);
  moat_context_free(sc);
}

/* A client that does not send the extension gets none back (TLS 1.2:
 * none in the ServerHello on the wire), and nothing is limited, however
 * small the server's own limit. */
static void test_not_echoed(int version) {
  bool tls13 = version == MOAT_TLS1_3;
  moat_context *cc = ctx_for(false, version, 0);
  moat_context *sc = ctx_for(true, version, 64);
  pair p;
  new_pair(&p, cc, sc);
  CHECK(moat_conn_handshake(p.c) == MOAT_ERR_WANT_READ);
  CHECK(!patch_limit(p.c, 16385, 16385) && !patch_limit(p.c, 16384, 16384));
  shuttle(p.c, p.s);
  CHECK(moat_conn_handshake(p.s) == MOAT_ERR_WANT_READ);
  if (!tls13) {
    CHECK(!patch_limit(p.s, 64, 64)); /* the ServerHello has none */
  }
  moat_err se, ce = handshake_both(p.c, p.s, &se);
  CHECK(ce == MOAT_OK && se == MOAT_OK);
  CHECK(p.s->rsl_ours == 0 && p.s->rsl_peer == 0);
  CHECK(p.c->rsl_ours == 0 && p.c->rsl_peer == 0);
  check_data(p.c, p.s, 2000, 2000, overhead(tls13), tls13);
  check_data(p.s, p.c, 2000, 2000, overhead(tls13), tls13);
  free_pair(&p);
  moat_context_free(cc);
  moat_context_free(sc);
}

static void test_codec_and_setter(void) {
  static const uint8_t ok[] = {0x00, 0x40}, low[] = {0x00, 0x3f},
                       shrt[] = {0x40}, lng[] = {0x00, 0x40, 0x00};
  uint16_t v = 0;
  tls_cause why;
  CHECK(ext_rsl_parse(cur_make(ok, 2), M_CH, &v, &why) == MOAT_OK && v == 64);
  CHECK(ext_rsl_parse(cur_make(low, 2), M_EE, &v, &why) ==
        MOAT_ERR_ILLEGAL_PARAMETER);
  CHECK(ext_rsl_parse(cur_make(shrt, 1), M_CH, &v, &why) ==
        MOAT_ERR_DECODE_ERROR);
  CHECK(ext_rsl_parse(cur_make(lng, 3), M_SH12, &v, &why) ==
        MOAT_ERR_DECODE_ERROR);
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  CHECK(moat_context_set_record_size_limit(ctx, 63) ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_context_set_record_size_limit(ctx, 16386) ==
        MOAT_ERR_INVALID_ARGUMENT);
  CHECK(moat_context_set_record_size_limit(ctx, 64) == MOAT_OK);
  CHECK(moat_context_set_record_size_limit(ctx, 16385) == MOAT_OK);
  CHECK(moat_context_set_record_size_limit(ctx, 0) == MOAT_OK);
  moat_context_free(ctx);
}

int main(void) {
  if (pki_init() != 0 || pki_leaf("rsa", "rsa", "30", "serverAuth")) {
    fprintf(stderr, "could not make the test PKI with openssl\n");
    return 1;
  }
  test_codec_and_setter();
  int versions[2] = {MOAT_TLS1_3, MOAT_TLS1_2};
  for (int i = 0; i < 2; i++) {
    test_client_limits_server(versions[i]);
    test_server_limits_client(versions[i]);
    test_overflow(versions[i], false);
    test_overflow(versions[i], true);
    test_below_64(versions[i], true);
    test_not_echoed(versions[i]);
    test_resumed(versions[i]);
  }
  test_below_64(MOAT_TLS1_2, false);
  test_overflow_before_ee();
  pki_cleanup();
  return t_done("test_record_size_limit");
}
