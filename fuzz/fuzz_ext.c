/* The extension parsers (RFC 8446 4.2, RFC 6066 3, RFC 7301) directly.
 * data[0] % 9 picks the parser, the rest is the extension_data; selector
 * 8 runs ext_parse_block on the rest as a whole extensions block for the
 * message kind data[1] picks, then every parser on what it accepted. */
#include "common.h"

static moat_context *g_ctx[2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (g_ctx[0] == NULL) {
    g_ctx[0] = fz_context(MOAT_ROLE_CLIENT, false, NULL);
    g_ctx[1] = fz_context(MOAT_ROLE_SERVER, false, NULL);
    const char *alpn[] = {"h2", "http/1.1"};
    if (moat_context_set_alpn_protocols(g_ctx[0], alpn, 2) != MOAT_OK ||
        moat_context_set_alpn_protocols(g_ctx[1], alpn, 2) != MOAT_OK) {
      abort();
    }
  }
  if (size < 1) {
    return 0;
  }
  unsigned sel = data[0] % 9;
  moat_conn *conn = fz_bare_conn(g_ctx[data[0] >= 128], false);
  cursor d = cur_make(data + 1, size - 1);
  char host[256];
  uint16_t list[64], version;
  size_t n;
  bool a, b;
  cursor out;
  switch (sel) {
  case 0:
    (void)ext_sni_parse(conn, d, host, sizeof(host));
    break;
  case 1:
    (void)ext_groups_parse(conn, d, list, 64, &n);
    break;
  case 2:
    (void)ext_sigalgs_parse(conn, d, list, 64, &n);
    break;
  case 3:
    (void)ext_versions_parse_ch(conn, d, &a, &b);
    break;
  case 4:
    (void)ext_versions_parse_sh(conn, d, &version);
    break;
  case 5:
    (void)ext_alpn_select(conn, d, &out);
    (void)ext_alpn_parse_ee(conn, d, &out);
    break;
  case 6: {
    size_t total;
    (void)ext_key_share_groups(conn, d, list, 64, &n, &total);
    (void)ext_key_share_find(conn, d, 0x001d, &out, &a);
    break;
  }
  case 7:
    (void)ext_cookie_parse(conn, d, &out);
    break;
  default: {
    static const unsigned kinds[7] = {M_CH, M_SH, M_HRR, M_EE,
                                      M_CT, M_CR, M_NST};
    ext_set set;
    tls_cause why;
    uint8_t k = 0;
    if (cur_u8(&d, &k) &&
        ext_parse_block(d, kinds[k % 7], k >= 128 ? 0xffffffffu : 0, &set,
                        &why) == MOAT_OK) {
      fz_parse_ch_extensions(conn, &set);
    }
    break;
  }
  }
  moat_conn_free(conn);
  return 0;
}
