/* The extension block parser: duplicates, placement and unsolicited
 * responses are checked here once for every message (RFC 8446 4.2). */
#include <string.h>

#include "tls/ext/ext.h"

/* The table: one row per extension moat knows, indexed by ext_idx, so
 * the builders run in wire order.  allowed is where RFC 8446 4.2 (and,
 * for TLS 1.2, RFC 5246 7.4.1.4 and each extension's RFC) lets it
 * appear; a row without callbacks is only recognised (checked for
 * placement and duplicates, then left to the flow or ignored). */
#define ROW(name) ext_##name##_send, ext_##name##_row_build, ext_##name##_read
#define RECOGNISED NULL, NULL, NULL
static const ext_row k_exts[X__COUNT] = {
    [X_SERVER_NAME] = {EXT_SERVER_NAME, M_CH | M_EE | M_SH12, ROW(sni)},
    [X_SUPPORTED_VERSIONS] = {EXT_SUPPORTED_VERSIONS, M_CH | M_SH | M_HRR,
                              ROW(versions)},
    /* TLS 1.2 extensions: a TLS 1.3 ClientHello may carry them too. */
    [X_RENEGOTIATION_INFO] = {EXT_RENEGOTIATION_INFO, M_CH | M_SH12,
                              ROW(reneg)},
    [X_EXTENDED_MASTER_SECRET] = {EXT_EXTENDED_MASTER_SECRET, M_CH | M_SH12,
                                  ROW(ems)},
    [X_EC_POINT_FORMATS] = {EXT_EC_POINT_FORMATS, M_CH | M_SH12,
                            ROW(point_formats)},
    [X_SESSION_TICKET] = {EXT_SESSION_TICKET, M_CH | M_SH12, ROW(ticket12)},
    /* Some TLS 1.2 servers echo supported_groups (RFC 8422 defines no
     * ServerHello form): offered, so not unsolicited; the client does
     * not read it. */
    [X_SUPPORTED_GROUPS] = {EXT_SUPPORTED_GROUPS, M_CH | M_EE | M_SH12,
                            ROW(groups)},
    [X_SIGNATURE_ALGORITHMS] = {EXT_SIGNATURE_ALGORITHMS, M_CH | M_CR,
                                ROW(sigalgs)},
    [X_KEY_SHARE] = {EXT_KEY_SHARE, M_CH | M_SH | M_HRR, ROW(key_share)},
    [X_ALPN] = {EXT_ALPN, M_CH | M_EE | M_SH12, ROW(alpn)},
    [X_COOKIE] = {EXT_COOKIE, M_CH | M_HRR, ROW(cookie)},
    [X_PSK_KEY_EXCHANGE_MODES] = {EXT_PSK_KEY_EXCHANGE_MODES, M_CH,
                                  ROW(psk_modes)},
    [X_COMPRESS_CERTIFICATE] = {EXT_COMPRESS_CERTIFICATE, M_CH | M_CR,
                                ROW(cert_comp)}, /* RFC 8879 3 */
    /* RFC 8449 4: TLS 1.3 answers in EncryptedExtensions, 1.2 in the
     * ServerHello. */
    [X_RECORD_SIZE_LIMIT] = {EXT_RECORD_SIZE_LIMIT, M_CH | M_EE | M_SH12,
                             ROW(rsl)},
    /* RFC 6066 8: the TLS 1.2 server's answer; RFC 8446 4.4.2.1: the
     * TLS 1.3 status in a CertificateEntry (read by cert_parse), and a
     * CertificateRequest's (moat sends no client status). */
    [X_STATUS_REQUEST] = {EXT_STATUS_REQUEST, M_CH | M_CR | M_CT | M_SH12,
                          ROW(status_request)},
    [X_PRE_SHARED_KEY] = {EXT_PRE_SHARED_KEY, M_CH | M_SH, ROW(psk)},
    [X_MAX_FRAGMENT_LENGTH] = {EXT_MAX_FRAGMENT_LENGTH, M_CH | M_EE,
                               RECOGNISED},
    [X_USE_SRTP] = {EXT_USE_SRTP, M_CH | M_EE, RECOGNISED},
    [X_HEARTBEAT] = {EXT_HEARTBEAT, M_CH | M_EE, RECOGNISED},
    [X_SCT] = {EXT_SCT, M_CH | M_CR | M_CT, RECOGNISED},
    [X_CLIENT_CERT_TYPE] = {EXT_CLIENT_CERT_TYPE, M_CH | M_EE, RECOGNISED},
    [X_SERVER_CERT_TYPE] = {EXT_SERVER_CERT_TYPE, M_CH | M_EE, RECOGNISED},
    [X_PADDING] = {EXT_PADDING, M_CH, RECOGNISED},
    [X_EARLY_DATA] = {EXT_EARLY_DATA, M_CH | M_EE | M_NST, RECOGNISED},
    [X_CERTIFICATE_AUTHORITIES] = {EXT_CERTIFICATE_AUTHORITIES, M_CH | M_CR,
                                   RECOGNISED},
    [X_OID_FILTERS] = {EXT_OID_FILTERS, M_CR, RECOGNISED},
    [X_POST_HANDSHAKE_AUTH] = {EXT_POST_HANDSHAKE_AUTH, M_CH, RECOGNISED},
    [X_SIGNATURE_ALGORITHMS_CERT] = {EXT_SIGNATURE_ALGORITHMS_CERT, M_CH | M_CR,
                                     RECOGNISED},
};
#undef ROW
#undef RECOGNISED

/* The index of a type moat knows, or X__COUNT. */
static ext_idx ext_lookup(uint16_t type) {
  for (size_t i = 0; i < X__COUNT; i++) {
    if (k_exts[i].type == type) {
      return (ext_idx)i;
    }
  }
  return X__COUNT;
}

/* For error details: the message an extension block belongs to. */
static const char *block_name(unsigned msg) {
  switch (msg) {
  case M_CH:
    return "ClientHello";
  case M_SH:
    return "ServerHello";
  case M_HRR:
    return "HelloRetryRequest";
  case M_EE:
    return "EncryptedExtensions";
  case M_CT:
    return "a CertificateEntry";
  case M_CR:
    return "CertificateRequest";
  case M_NST:
    return "NewSessionTicket";
  case M_SH12:
    return "the TLS 1.2 ServerHello";
  default:
    return "an extension block";
  }
}

moat_err ext_parse_block(cursor block, unsigned msg, uint32_t offered,
                         ext_set *out, tls_cause *why) {
  /* RFC 8446 4.2: one extension of each type per block, known or not.
   * One bit per type keeps the check linear however many extensions
   * there are (4.1.2: unknown ones are ignored, not counted). */
  uint64_t seen[65536 / 64];
  memset(seen, 0, sizeof(seen));
  memset(out, 0, sizeof(*out));
  /* Messages from the peer that answer ours may only carry what we asked
   * for (RFC 8446 4.2), a CertificateEntry's included (4.4.2: its
   * extensions answer the ClientHello's or the CertificateRequest's);
   * ClientHello, CertificateRequest and NewSessionTicket may carry
   * anything. */
  bool responses = (msg & (M_SH | M_HRR | M_EE | M_CT | M_SH12)) != 0;
  while (!cur_done(&block)) {
    uint16_t type;
    cursor data;
    if (!cur_u16(&block, &type) || !cur_prefixed16(&block, &data)) {
      return cause_set(why, MOAT_ERR_DECODE_ERROR,
                       "malformed extension list in %s", block_name(msg));
    }
    if (ext_has(out, X_PRE_SHARED_KEY)) {
      out->psk_not_last = true;
    }
    uint64_t bit = (uint64_t)1 << (type % 64);
    if ((seen[type / 64] & bit) != 0) {
      return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                       "extension %u appears twice in %s", type,
                       block_name(msg));
    }
    seen[type / 64] |= bit;
    ext_idx idx = ext_lookup(type);
    if (idx == X__COUNT) {
      if (responses) {
        return cause_set(why, MOAT_ERR_UNSUPPORTED_EXTENSION,
                         "the peer sent extension %u in %s, which was not "
                         "offered",
                         type, block_name(msg));
      }
      continue; /* RFC 8446 4.2: ignore unknown extensions */
    }
    if ((k_exts[idx].allowed & msg) == 0) {
      return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                       "extension %u is not allowed in %s", type,
                       block_name(msg));
    }
    if (responses && ((offered >> idx) & 1) == 0) {
      return cause_set(why, MOAT_ERR_UNSUPPORTED_EXTENSION,
                       "the peer sent extension %u in %s, which was not "
                       "offered",
                       type, block_name(msg));
    }
    out->present |= X_BIT(idx);
    out->data[idx] = data;
  }
  return MOAT_OK;
}

moat_err ext_parse_empty(cursor data, const char *name, unsigned msg,
                         tls_cause *why) {
  if (!cur_done(&data)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "%s in %s must be empty", name,
                     block_name(msg));
  }
  return MOAT_OK;
}

bool ext_block_has(cursor block, uint16_t want) {
  uint16_t type;
  cursor data;
  while (cur_u16(&block, &type) && cur_prefixed16(&block, &data)) {
    if (type == want) {
      return true;
    }
  }
  return false;
}

bool ext_build_block(builder *b, unsigned msg, const ext_params *p) {
  bld_open16(b);
  for (size_t i = 0; i < X__COUNT; i++) {
    const ext_row *r = &k_exts[i];
    if ((r->allowed & msg) == 0 || r->build == NULL || !r->send(msg, p)) {
      continue;
    }
    bld_u16(b, r->type);
    bld_open16(b);
    r->build(b, msg, p);
    bld_close(b);
  }
  return bld_close(b);
}

moat_err ext_read_block(const ext_set *set, unsigned msg, uint32_t want,
                        const ext_params *p, ext_values *out, tls_cause *why) {
  memset(out, 0, sizeof(*out));
  uint32_t todo = set->present & want;
  for (size_t i = 0; todo != 0 && i < X__COUNT; i++) {
    if (((todo >> i) & 1) == 0 || k_exts[i].read == NULL) {
      continue;
    }
    todo &= ~X_BIT(i);
    TRY(k_exts[i].read(set->data[i], msg, p, out, why));
    out->read |= X_BIT(i);
  }
  return MOAT_OK;
}
