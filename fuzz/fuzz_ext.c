/* The extension codecs (RFC 8446 4.2, RFC 6066 3, RFC 7301) directly, with
 * no connection.  data[0] % 9 picks the codec, the rest is the
 * extension_data; selector 8 runs ext_parse_block on the rest as a whole
 * extensions block for the message kind data[1] picks, then the table's
 * readers on what it accepted.  data[0] >= 128 reads as the other role
 * where both read the extension. */
#include "common.h"

static const unsigned k_kinds[8] = {M_CH, M_SH, M_HRR, M_EE,
                                    M_CT, M_CR, M_NST, M_SH12};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static moat_context *ctx;
  const tls_policy *pol = fz_policy(&ctx, MOAT_ROLE_CLIENT);
  if (size < 1) {
    return 0;
  }
  unsigned sel = data[0] % 9;
  bool other = data[0] >= 128;
  cursor d = cur_make(data + 1, size - 1);
  tls_cause why;
  char host[256];
  uint16_t list[64], version;
  size_t n;
  bool a, b;
  cursor out;
  switch (sel) {
  case 0:
    (void)ext_sni_parse(d, host, sizeof(host), &why);
    (void)ext_sni_parse_ack(d, other ? M_SH12 : M_EE, &why);
    break;
  case 1:
    (void)ext_groups_parse(d, list, 64, &n, &why);
    break;
  case 2:
    (void)ext_sigalgs_parse(d, list, 64, &n, &why);
    break;
  case 3:
    (void)ext_versions_parse_ch(d, &a, &b, &why);
    (void)ext_psk_modes_parse(d, &a, &why);
    break;
  case 4:
    (void)ext_versions_parse_sh(d, &version, &why);
    (void)ext_psk_parse_sh(d, &version, &why);
    (void)ext_key_share_parse_sh(d, other, &version, &out, &why);
    break;
  case 5:
    if (ext_alpn_parse_list(d, &out, &why) == MOAT_OK) {
      (void)ext_alpn_select(out, pol, &out, &why);
    }
    (void)ext_alpn_parse_ee(d, pol, &out, &why);
    break;
  case 6: {
    size_t total;
    (void)ext_key_share_groups(d, list, 64, &n, &total, &why);
    (void)ext_key_share_find(d, 0x001d, &out, &a, &why);
    break;
  }
  case 7:
    (void)ext_cookie_parse(d, &out, &why);
    /* pre_shared_key as the last bytes of a ClientHello */
    fz_psk_offer(d, d);
    break;
  default: {
    ext_set set;
    uint8_t k = 0;
    if (!cur_u8(&d, &k)) {
      break;
    }
    unsigned msg = k_kinds[k % 8];
    if (ext_parse_block(d, msg, k >= 128 ? 0xffffffffu : 0, &set, &why) !=
        MOAT_OK) {
      break;
    }
    if (msg == M_CH) {
      fz_parse_ch_extensions(pol, &set);
    } else {
      ext_params p = {.policy = pol, .peer = "server"};
      ext_values v;
      (void)ext_read_block(&set, msg, ~(uint32_t)0, &p, &v, &why);
    }
    break;
  }
  }
  return 0;
}
