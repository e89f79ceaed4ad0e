/* The client's receive path under arbitrary server bytes.
 *
 * data[0] & 1: verify the server against the embedded CA (else verify
 * mode NONE).  data[0] & 2: "deep" mode: a real moat server answers the
 * client's ClientHello, the client takes the real ServerHello, and the
 * operations (fuzz/common.h) then stand in for the rest of the server's
 * flight, protected with the real handshake keys; otherwise the
 * operations start right after the ClientHello, in the clear.
 * data[0] & 4: the client offers a session the real server issued
 * (RFC 8446 2.2); in deep mode the server accepts it, so the client's
 * PSK and psk_dhe_ke paths run and the operations stand in for the
 * server's EncryptedExtensions and Finished.
 * data[0] & 8: TLS 1.2 (a client limited to it, fz_context12): the
 * operations are the server's bytes from the first one on, in the clear
 * as TLS 1.2 sends its flights until ChangeCipherSpec; the seeds are a
 * real server's recorded streams (full handshakes, with & 1 verified),
 * which replay whole because both sides are deterministic.  With & 4 the
 * client offers a TLS 1.2 session the recording server issued: by ticket,
 * or with & 16 by session ID (a client that does not offer tickets); & 2
 * is not used in this mode. */
#include "common.h"

static moat_context *g_client[2];
static moat_context *g_server;
static moat_session *g_session;
static moat_context *g_client12[2], *g_client12_noticket;
static moat_context *g_server12;
static moat_session *g_session12[2]; /* by ticket, by session ID */

static void setup(void) {
  if (g_server == NULL) {
    g_client[0] = fz_context(MOAT_ROLE_CLIENT, false, NULL);
    g_client[1] = fz_context(MOAT_ROLE_CLIENT, true, NULL);
    g_server = fz_context(MOAT_ROLE_SERVER, false, NULL);
    g_session = fz_session(g_client[1], g_server);
    g_client12[0] = fz_context12(MOAT_ROLE_CLIENT, false, true);
    g_client12[1] = fz_context12(MOAT_ROLE_CLIENT, true, true);
    g_client12_noticket = fz_context12(MOAT_ROLE_CLIENT, true, false);
    g_server12 = fz_context12(MOAT_ROLE_SERVER, false, true);
    g_session12[0] = fz_session(g_client12[1], g_server12);
    g_session12[1] = fz_session(g_client12_noticket, g_server12);
  }
}

static void run12(const uint8_t *data, size_t size) {
  bool verify = data[0] & 1, resume = data[0] & 4, by_id = data[0] & 16;
  moat_context *ctx =
      by_id && resume ? g_client12_noticket : g_client12[verify];
  moat_conn *c = moat_conn_new(ctx);
  if (c == NULL || moat_conn_set_hostname(c, "localhost") != MOAT_OK ||
      (resume && moat_conn_set_session(c, g_session12[by_id]) != MOAT_OK)) {
    abort();
  }
  (void)moat_conn_handshake(c); /* the ClientHello */
  fz_discard_output(c);
  fz_inj in;
  fz_inj_init(&in, c, g_server12->pol->ids[0].key);
  fz_run_ops(&in, cur_make(data + 1, size - 1));
  fz_inj_clear(&in);
  moat_conn_free(c);
}

/* Gives the client the real ServerHello (the first record the server
 * wrote) so that it derives the handshake keys. */
static void real_server_hello(moat_conn *c) {
  moat_conn *s = moat_conn_new(g_server);
  if (s == NULL) {
    abort();
  }
  fz_shuttle(c, s);
  (void)moat_conn_handshake(s);
  static uint8_t flight[65536];
  size_t n = 0;
  moat_conn_take_output(s, flight, sizeof(flight), &n);
  if (n >= TLS_RECORD_HEADER) {
    size_t rec = TLS_RECORD_HEADER + ((size_t)flight[3] << 8 | flight[4]);
    fz_feed(c, flight, rec < n ? rec : n);
  }
  moat_conn_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size < 1) {
    return 0;
  }
  if (data[0] & 8) {
    run12(data, size);
    return 0;
  }
  bool verify = data[0] & 1, deep = data[0] & 2, resume = data[0] & 4;
  moat_conn *c = moat_conn_new(g_client[verify]);
  if (c == NULL || moat_conn_set_hostname(c, "localhost") != MOAT_OK ||
      (resume && moat_conn_set_session(c, g_session) != MOAT_OK)) {
    abort();
  }
  (void)moat_conn_handshake(c); /* the ClientHello */
  if (deep) {
    real_server_hello(c);
  } else {
    fz_discard_output(c);
  }
  fz_inj in;
  fz_inj_init(&in, c, g_server->pol->ids[0].key);
  fz_run_ops(&in, cur_make(data + 1, size - 1));
  fz_inj_clear(&in);
  moat_conn_free(c);
  return 0;
}
