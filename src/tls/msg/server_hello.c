/* ServerHello and HelloRetryRequest (RFC 8446 4.1.3, 4.1.4), and the
 * TLS 1.2 ServerHello (RFC 5246 7.4.1.3). */
#include <string.h>

#include "tls/msg/msg.h"

/* RFC 8446 4.1.3: SHA-256("HelloRetryRequest") */
const uint8_t k_hrr_random[TLS_RANDOM_LEN] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
    0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

moat_err sh_parse(cursor body, uint32_t offered13, uint32_t offered12,
                  server_hello *out, tls_cause *why) {
  memset(out, 0, sizeof(*out));
  if (!cur_u16(&body, &out->legacy_version) ||
      !cur_bytes(&body, TLS_RANDOM_LEN, &out->random) ||
      !cur_prefixed8(&body, &out->session_id) || !cur_u16(&body, &out->suite) ||
      !cur_u8(&body, &out->compression)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed ServerHello");
  }
  if (cur_len(&out->session_id) > 32) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "ServerHello session ID of %zu bytes (at most 32)",
                     cur_len(&out->session_id));
  }
  out->is_hrr = memcmp(out->random, k_hrr_random, TLS_RANDOM_LEN) == 0;
  if (cur_done(&body)) {
    return MOAT_OK;
  }
  cursor exts;
  if (!cur_prefixed16(&body, &exts) || !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed ServerHello extensions");
  }
  out->has_extensions = true;
  /* RFC 8446 4.1.3: supported_versions marks a TLS 1.3 ServerHello; the
   * block is read by the rules of the version it belongs to. */
  if (!ext_block_has(exts, EXT_SUPPORTED_VERSIONS)) {
    return ext_parse_block(exts, M_SH12, offered12, &out->ext, why);
  }
  return ext_parse_block(exts, out->is_hrr ? M_HRR : M_SH, offered13, &out->ext,
                         why);
}

/* The fields both versions share, then the extensions of msg. */
static moat_err build(builder *b, unsigned msg, const sh_params *p,
                      tls_cause *why) {
  msg_open(b, HT_SERVER_HELLO);
  bld_u16(b, 0x0303); /* legacy_version */
  bld_bytes(b, msg == M_HRR ? k_hrr_random : p->random, TLS_RANDOM_LEN);
  bld_open8(b);
  bld_bytes(b, p->session_id, p->session_id_len);
  bld_close(b);
  bld_u16(b, p->suite);
  bld_u8(b, 0); /* compression: null */
  ext_build_block(b, msg, &p->ext);
  msg_close(b);
  if (!bld_finish(b)) {
    return cause_set(why, MOAT_ERR_INTERNAL, "building the ServerHello");
  }
  return MOAT_OK;
}

moat_err sh_build(builder *b, const sh_params *p, tls_cause *why) {
  return build(b, p->hrr ? M_HRR : M_SH, p, why);
}

moat_err sh_build12(builder *b, const sh_params *p, tls_cause *why) {
  return build(b, M_SH12, p, why);
}
