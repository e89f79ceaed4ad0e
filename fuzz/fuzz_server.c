/* The server's receive path under arbitrary client bytes.
 *
 * data[0] & 1: the server requires a client certificate and verifies it
 * against the embedded CA (else verify mode NONE).  data[0] & 2: "deep"
 * mode: a real moat client sends the ClientHello, the server answers with
 * its flight, and the operations (fuzz/common.h) then stand in for the
 * client's second flight, protected with the real handshake keys;
 * otherwise the operations are the client's first bytes (a ClientHello in
 * a handshake record, op 2, is the usual start).  data[0] & 4 with deep:
 * the real client resumes a session this server issued (RFC 8446 2.2), so
 * the server's ticket, PSK binder and psk_dhe_ke paths run, and the
 * operations stand in for the client's Finished and what follows.
 * data[0] & 8: TLS 1.2 (fz_context12 servers, & 1 requiring a client
 * certificate): the operations are the client's bytes, seeded with a
 * real client's recorded streams (full handshakes, resumption by ticket
 * and by session ID, with and without a client certificate), which replay
 * whole because both sides are deterministic; each server already holds
 * the sessions those clients resume (its fixed ticket key opens the
 * tickets, its cache has the ID). */
#include "common.h"

static moat_context *g_server[2];
static moat_context *g_client;
static moat_session *g_session[2]; /* issued by g_server[i] */
static moat_context *g_server12[2];

static void setup(void) {
  if (g_client == NULL) {
    g_server[0] = fz_context(MOAT_ROLE_SERVER, false, NULL);
    g_server[1] = fz_context(MOAT_ROLE_SERVER, true, NULL);
    g_client = fz_context(MOAT_ROLE_CLIENT, false, NULL);
    g_session[0] = fz_session(g_client, g_server[0]);
    g_session[1] = fz_session(g_client, g_server[1]);
    /* The recording's sessions, in its order, so that the session ID
     * cache holds them (gen_corpus.c makes the same ones). */
    moat_context *c12 = fz_context12(MOAT_ROLE_CLIENT, false, true);
    moat_context *c12n = fz_context12(MOAT_ROLE_CLIENT, false, false);
    for (int v = 0; v < 2; v++) {
      g_server12[v] = fz_context12(MOAT_ROLE_SERVER, v == 1, true);
      moat_session_free(fz_session(c12, g_server12[v]));
      moat_session_free(fz_session(c12n, g_server12[v]));
    }
    moat_context_free(c12);
    moat_context_free(c12n);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size < 1) {
    return 0;
  }
  bool verify = data[0] & 1, deep = data[0] & 2, resume = data[0] & 4;
  if (data[0] & 8) {
    moat_conn *s = moat_conn_new(g_server12[verify]);
    if (s == NULL) {
      abort();
    }
    fz_inj in;
    fz_inj_init(&in, s, g_client->pol->ids[0].key);
    fz_run_ops(&in, cur_make(data + 1, size - 1));
    fz_inj_clear(&in);
    moat_conn_free(s);
    return 0;
  }
  moat_conn *s = moat_conn_new(g_server[verify]);
  if (s == NULL) {
    abort();
  }
  if (deep) {
    moat_conn *c = moat_conn_new(g_client);
    if (c == NULL || moat_conn_set_hostname(c, "localhost") != MOAT_OK ||
        (resume && moat_conn_set_session(c, g_session[verify]) != MOAT_OK)) {
      abort();
    }
    (void)moat_conn_handshake(c);
    fz_shuttle(c, s);
    fz_drive(s);
    moat_conn_free(c);
  }
  fz_inj in;
  fz_inj_init(&in, s, g_client->pol->ids[0].key);
  fz_run_ops(&in, cur_make(data + 1, size - 1));
  fz_inj_clear(&in);
  moat_conn_free(s);
  return 0;
}
