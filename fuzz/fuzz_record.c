/* The record layer after a completed handshake: decryption, padding
 * stripping, content types, alerts, KeyUpdate, NewSessionTicket and the
 * other post-handshake messages, application data, close_notify.
 *
 * data[0] & 1 picks the receiver (server, else client); (data[0] >> 1) % 3
 * the cipher suite.  A real moat client and server complete a handshake,
 * then the operations (fuzz/common.h) are fed to the receiver, protected
 * with the sender's real traffic keys (and following KeyUpdates). */
#include "common.h"

static const char *const k_suites[3] = {"TLS_AES_128_GCM_SHA256",
                                        "TLS_AES_256_GCM_SHA384",
                                        "TLS_CHACHA20_POLY1305_SHA256"};
static moat_context *g_client[3];
static moat_context *g_server;

static void setup(void) {
  if (g_server == NULL) {
    for (size_t i = 0; i < 3; i++) {
      g_client[i] = fz_context(MOAT_ROLE_CLIENT, false, k_suites[i]);
    }
    g_server = fz_context(MOAT_ROLE_SERVER, false, NULL);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size < 1) {
    return 0;
  }
  bool to_server = data[0] & 1;
  moat_conn *c = moat_conn_new(g_client[(data[0] >> 1) % 3]);
  moat_conn *s = moat_conn_new(g_server);
  if (c == NULL || s == NULL || !fz_handshake_pair(c, s)) {
    fprintf(stderr, "fuzz_record: the in-memory handshake failed: %s / %s\n",
            c ? moat_conn_error_detail(c) : "",
            s ? moat_conn_error_detail(s) : "");
    abort();
  }
  moat_conn *t = to_server ? s : c;
  fz_inj in;
  fz_inj_init(&in, t, NULL);
  fz_run_ops(&in, cur_make(data + 1, size - 1));
  fz_inj_clear(&in);
  moat_conn_free(c);
  moat_conn_free(s);
  return 0;
}
