/* EncryptedExtensions (RFC 8446 4.3.1). */
#include <string.h>

#include "tls/msg/msg.h"

moat_err ee_build(builder *b, const ext_params *p, tls_cause *why) {
  msg_open(b, HT_ENCRYPTED_EXTENSIONS);
  ext_build_block(b, M_EE, p);
  msg_close(b);
  if (!bld_finish(b)) {
    return cause_set(why, MOAT_ERR_INTERNAL, "building EncryptedExtensions");
  }
  return MOAT_OK;
}

moat_err ee_parse(cursor body, uint32_t offered, const ext_params *p,
                  ext_values *out, tls_cause *why) {
  cursor exts;
  ext_set set;
  memset(out, 0, sizeof(*out));
  if (!cur_prefixed16(&body, &exts) || !cur_done(&body)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed EncryptedExtensions");
  }
  TRY(ext_parse_block(exts, M_EE, offered, &set, why));
  /* server_name must be empty, ALPN one offered name, supported_groups
   * well-formed (RFC 8446 4.2.7: the client may not act on it). */
  return ext_read_block(&set, M_EE, ~(uint32_t)0, p, out, why);
}
