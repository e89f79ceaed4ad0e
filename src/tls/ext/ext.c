/* The extension block parser: duplicates, placement and unsolicited
 * responses are checked here once for every message (RFC 8446 4.2). */
#include <string.h>

#include "tls/ext/ext.h"

typedef struct ext_info {
  uint16_t type;
  ext_idx idx;
  unsigned allowed; /* M_* bits */
} ext_info;

static const ext_info k_exts[] = {
    {EXT_SERVER_NAME, X_SERVER_NAME, M_CH | M_EE | M_SH12},
    {EXT_MAX_FRAGMENT_LENGTH, X_MAX_FRAGMENT_LENGTH, M_CH | M_EE},
    {EXT_STATUS_REQUEST, X_STATUS_REQUEST, M_CH | M_CR | M_CT},
    {EXT_SUPPORTED_GROUPS, X_SUPPORTED_GROUPS, M_CH | M_EE},
    {EXT_SIGNATURE_ALGORITHMS, X_SIGNATURE_ALGORITHMS, M_CH | M_CR},
    {EXT_USE_SRTP, X_USE_SRTP, M_CH | M_EE},
    {EXT_HEARTBEAT, X_HEARTBEAT, M_CH | M_EE},
    {EXT_ALPN, X_ALPN, M_CH | M_EE | M_SH12},
    {EXT_SCT, X_SCT, M_CH | M_CR | M_CT},
    {EXT_CLIENT_CERT_TYPE, X_CLIENT_CERT_TYPE, M_CH | M_EE},
    {EXT_SERVER_CERT_TYPE, X_SERVER_CERT_TYPE, M_CH | M_EE},
    {EXT_PADDING, X_PADDING, M_CH},
    {EXT_RECORD_SIZE_LIMIT, X_RECORD_SIZE_LIMIT, M_CH | M_EE},
    {EXT_PRE_SHARED_KEY, X_PRE_SHARED_KEY, M_CH | M_SH},
    {EXT_EARLY_DATA, X_EARLY_DATA, M_CH | M_EE | M_NST},
    {EXT_SUPPORTED_VERSIONS, X_SUPPORTED_VERSIONS, M_CH | M_SH | M_HRR},
    {EXT_COOKIE, X_COOKIE, M_CH | M_HRR},
    {EXT_PSK_KEY_EXCHANGE_MODES, X_PSK_KEY_EXCHANGE_MODES, M_CH},
    {EXT_CERTIFICATE_AUTHORITIES, X_CERTIFICATE_AUTHORITIES, M_CH | M_CR},
    {EXT_OID_FILTERS, X_OID_FILTERS, M_CR},
    {EXT_POST_HANDSHAKE_AUTH, X_POST_HANDSHAKE_AUTH, M_CH},
    {EXT_SIGNATURE_ALGORITHMS_CERT, X_SIGNATURE_ALGORITHMS_CERT, M_CH | M_CR},
    {EXT_KEY_SHARE, X_KEY_SHARE, M_CH | M_SH | M_HRR},
    /* TLS 1.2 extensions: a TLS 1.3 ClientHello may carry them too. */
    {EXT_RENEGOTIATION_INFO, X_RENEGOTIATION_INFO, M_CH | M_SH12},
    {EXT_EC_POINT_FORMATS, X_EC_POINT_FORMATS, M_CH | M_SH12},
    {EXT_EXTENDED_MASTER_SECRET, X_EXTENDED_MASTER_SECRET, M_CH | M_SH12},
    {EXT_SESSION_TICKET, X_SESSION_TICKET, M_CH | M_SH12},
};

static const ext_info *ext_lookup(uint16_t type) {
  for (size_t i = 0; i < sizeof(k_exts) / sizeof(k_exts[0]); i++) {
    if (k_exts[i].type == type) {
      return &k_exts[i];
    }
  }
  return NULL;
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
    const ext_info *info = ext_lookup(type);
    if (info == NULL) {
      if (responses) {
        return cause_set(why, MOAT_ERR_UNSUPPORTED_EXTENSION,
                         "the peer sent extension %u in %s, which was not "
                         "offered",
                         type, block_name(msg));
      }
      continue; /* RFC 8446 4.2: ignore unknown extensions */
    }
    if ((info->allowed & msg) == 0) {
      return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                       "extension %u is not allowed in %s", type,
                       block_name(msg));
    }
    if (responses && ((offered >> info->idx) & 1) == 0) {
      return cause_set(why, MOAT_ERR_UNSUPPORTED_EXTENSION,
                       "the peer sent extension %u in %s, which was not "
                       "offered",
                       type, block_name(msg));
    }
    out->present |= 1u << info->idx;
    out->data[info->idx] = data;
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
