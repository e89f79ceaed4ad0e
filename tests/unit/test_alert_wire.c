/* Fatal alerts after the handshake reach the wire (RFC 8446 6.2, 5.2,
 * 5.4, 4.6.3): a server over a socket fails on a bad record from the
 * client, and the client reads the server's alert from its own socket.
 * Each case is checked from the peer's side, not in the server's output
 * buffer. */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "moat.h"
#include "t.h"
#include "tls/tls.h"

#define PKI MOAT_SOURCE_DIR "/tests/x509/pki/"

static bool want(moat_err e) {
  return e == MOAT_ERR_WANT_READ || e == MOAT_ERR_WANT_WRITE;
}

typedef struct wire {
  int sv[2];
  moat_context *cctx, *sctx;
  moat_conn *c, *s;
} wire;

static bool link_open(wire *l) {
  memset(l, 0, sizeof(*l));
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, l->sv) != 0 ||
      fcntl(l->sv[0], F_SETFL, O_NONBLOCK) != 0 ||
      fcntl(l->sv[1], F_SETFL, O_NONBLOCK) != 0) {
    return false;
  }
  l->sctx = moat_context_new(MOAT_ROLE_SERVER);
  l->cctx = moat_context_new(MOAT_ROLE_CLIENT);
  if (moat_context_load_cert_chain(l->sctx, PKI "server-chain.pem",
                                   PKI "server.key", NULL) != MOAT_OK ||
      moat_context_load_verify_locations(l->cctx, PKI "root.pem", NULL, NULL,
                                         0) != MOAT_OK) {
    return false;
  }
  l->c = moat_conn_new(l->cctx);
  l->s = moat_conn_new(l->sctx);
  moat_conn_set_hostname(l->c, "localhost");
  moat_conn_set_fd(l->c, l->sv[0]);
  moat_conn_set_fd(l->s, l->sv[1]);
  moat_err ce = MOAT_ERR_WANT_READ, se = MOAT_ERR_WANT_READ;
  for (int i = 0; i < 50 && (ce != MOAT_OK || se != MOAT_OK); i++) {
    if (ce != MOAT_OK && !want(ce = moat_conn_handshake(l->c)) &&
        ce != MOAT_OK) {
      return false;
    }
    if (se != MOAT_OK && !want(se = moat_conn_handshake(l->s)) &&
        se != MOAT_OK) {
      return false;
    }
  }
  return ce == MOAT_OK && se == MOAT_OK;
}

static void link_close(wire *l) {
  moat_conn_free(l->c);
  moat_conn_free(l->s);
  moat_context_free(l->cctx);
  moat_context_free(l->sctx);
  close(l->sv[0]);
  close(l->sv[1]);
}

/* The server reads what the client's socket carried and must fail with
 * err; the client must then read `alert` from the server. */
static void expect_alert(const char *name, wire *l, moat_err err, int alert) {
  uint8_t buf[256];
  size_t got = 0;
  moat_err se = moat_conn_read(l->s, buf, sizeof(buf), &got);
  if (se != err) {
    fprintf(stderr, "%s: server read gave %s (%s)\n", name, moat_err_name(se),
            moat_conn_error_detail(l->s));
  }
  CHECK_EQ_INT(se, err);
  /* Nothing may stay behind in the server's buffer: it is on the wire. */
  CHECK_EQ_INT(moat_conn_pending_output(l->s), 0);
  moat_err ce = MOAT_ERR_WANT_READ;
  for (int i = 0; i < 8 && ce != MOAT_ERR_ALERT_RECEIVED; i++) {
    ce = moat_conn_read(l->c, buf, sizeof(buf), &got);
    if (!want(ce) && ce != MOAT_OK) {
      break;
    }
  }
  if (ce != MOAT_ERR_ALERT_RECEIVED) {
    fprintf(stderr, "%s: client read gave %s, not the server's alert\n", name,
            moat_err_name(ce));
  }
  CHECK_EQ_INT(ce, MOAT_ERR_ALERT_RECEIVED);
  int a = -1;
  bool ours = true;
  CHECK(moat_conn_alert(l->c, &a, &ours));
  CHECK_EQ_INT(a, alert);
  CHECK(!ours);
}

/* Raw bytes into the client's socket, past its TLS layer. */
static void raw(wire *l, const uint8_t *p, size_t n) {
  CHECK_EQ_INT(write(l->sv[0], p, n), (long)n);
}

/* A record protected with the client's own keys, sent through it. */
static void sealed(wire *l, uint8_t type, const uint8_t *p, size_t n) {
  CHECK_EQ_INT(rec_write(l->c, type, p, n), MOAT_OK);
  CHECK_EQ_INT(moat_conn_flush(l->c), MOAT_OK);
}

static void test_bad_tag(void) {
  wire l;
  CHECK(link_open(&l));
  uint8_t rec[5 + 32] = {CT_APPLICATION_DATA, 3, 3, 0, 32};
  memset(rec + 5, 0x5a, 32);
  raw(&l, rec, sizeof(rec));
  expect_alert("bad tag", &l, MOAT_ERR_BAD_RECORD_MAC, ALERT_BAD_RECORD_MAC);
  link_close(&l);
}

static void test_too_long(void) {
  wire l;
  CHECK(link_open(&l));
  /* RFC 8446 5.2: at most 2^14 + 256 bytes of ciphertext. */
  uint16_t len = TLS_MAX_CIPHERTEXT + 1;
  uint8_t hdr[5] = {CT_APPLICATION_DATA, 3, 3, (uint8_t)(len >> 8),
                    (uint8_t)len};
  raw(&l, hdr, sizeof(hdr));
  expect_alert("too long", &l, MOAT_ERR_RECORD_OVERFLOW, ALERT_RECORD_OVERFLOW);
  link_close(&l);
}

static void test_content_types(void) {
  static const uint8_t types[] = {0, 99};
  for (size_t i = 0; i < sizeof(types); i++) {
    wire l;
    CHECK(link_open(&l));
    uint8_t rec[6] = {types[i], 3, 3, 0, 1, 0};
    raw(&l, rec, sizeof(rec));
    expect_alert("content type", &l, MOAT_ERR_UNEXPECTED_MESSAGE,
                 ALERT_UNEXPECTED_MESSAGE);
    link_close(&l);
  }
}

static void test_change_cipher_spec_after_finished(void) {
  wire l;
  CHECK(link_open(&l));
  static const uint8_t ccs[6] = {CT_CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1};
  raw(&l, ccs, sizeof(ccs));
  expect_alert("late ccs", &l, MOAT_ERR_UNEXPECTED_MESSAGE,
               ALERT_UNEXPECTED_MESSAGE);
  link_close(&l);
}

static void test_key_update_value(void) {
  wire l;
  CHECK(link_open(&l));
  /* RFC 8446 4.6.3: request_update is 0 or 1. */
  static const uint8_t ku[5] = {HT_KEY_UPDATE, 0, 0, 1, 2};
  sealed(&l, CT_HANDSHAKE, ku, sizeof(ku));
  expect_alert("key update", &l, MOAT_ERR_ILLEGAL_PARAMETER,
               ALERT_ILLEGAL_PARAMETER);
  link_close(&l);
}

static void test_malformed_alert(void) {
  wire l;
  CHECK(link_open(&l));
  static const uint8_t one[1] = {2};
  sealed(&l, CT_ALERT, one, sizeof(one));
  expect_alert("one-byte alert", &l, MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR);
  link_close(&l);
}

int main(void) {
  test_bad_tag();
  test_too_long();
  test_content_types();
  test_change_cipher_spec_after_finished();
  test_key_update_value();
  test_malformed_alert();
  return t_done("test_alert_wire");
}
