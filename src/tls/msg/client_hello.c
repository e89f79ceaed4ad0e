/* ClientHello (RFC 8446 4.1.2). */
#include <string.h>

#include "tls/msg/msg.h"

bool msg_open(builder *b, uint8_t type) {
  bld_u8(b, type);
  return bld_open24(b);
}

bool msg_close(builder *b) {
  return bld_close(b);
}

moat_err ch_build(builder *b, const ch_params *p, tls_cause *why) {
  const tls_policy *pol = p->ext.policy;
  msg_open(b, HT_CLIENT_HELLO);
  bld_u16(b, 0x0303); /* legacy_version */
  bld_bytes(b, p->random, TLS_RANDOM_LEN);
  bld_open8(b);
  bld_bytes(b, p->session_id, p->session_id_len);
  bld_close(b);
  /* The suites of each version we offer, TLS 1.3's first.  RFC 8446
   * 4.1.2: a second ClientHello (after a HelloRetryRequest) is the first
   * one with only key_share, cookie, early_data and pre_shared_key
   * changed, so it keeps the TLS 1.2 suites and extensions too. */
  bld_open16(b);
  for (size_t i = 0; i < pol->num_suites; i++) {
    uint16_t v = pol->suites[i]->version;
    if ((v == MOAT_TLS1_3 && p->ext.tls13) ||
        (v == MOAT_TLS1_2 && p->ext.tls12)) {
      bld_u16(b, pol->suites[i]->code);
    }
  }
  bld_close(b);
  bld_u8(b, 1); /* legacy_compression_methods: null only */
  bld_u8(b, 0);
  ext_build_block(b, M_CH, &p->ext);
  msg_close(b);
  if (!bld_finish(b)) {
    return cause_set(why, MOAT_ERR_INTERNAL, "building the ClientHello");
  }
  return MOAT_OK;
}

moat_err ch_parse(cursor body, client_hello *out, tls_cause *why) {
  memset(out, 0, sizeof(*out));
  if (!cur_u16(&body, &out->legacy_version) ||
      !cur_bytes(&body, TLS_RANDOM_LEN, &out->random) ||
      !cur_prefixed8(&body, &out->session_id) ||
      !cur_prefixed16(&body, &out->suites) ||
      !cur_prefixed8(&body, &out->compression)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed ClientHello");
  }
  if (cur_len(&out->session_id) > 32 || cur_len(&out->suites) < 2 ||
      cur_len(&out->suites) % 2 != 0 || cur_len(&out->compression) < 1) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed ClientHello (session id, suites or "
                     "compression methods)");
  }
  if (cur_done(&body)) {
    return MOAT_OK; /* no extensions: an old client */
  }
  cursor exts;
  if (!cur_prefixed16(&body, &exts) || !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed ClientHello extensions");
  }
  out->has_extensions = true;
  return ext_parse_block(exts, M_CH, 0, &out->ext, why);
}
