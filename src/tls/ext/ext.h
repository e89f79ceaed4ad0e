/* Extensions (RFC 8446 4.2): the block parser and one file per extension. */
#ifndef MOAT_TLS_EXT_H
#define MOAT_TLS_EXT_H

#include "tls/tls.h"

/* The messages an extension may appear in (RFC 8446 4.2 table). */
#define M_CH 0x01
#define M_SH 0x02
#define M_HRR 0x04
#define M_EE 0x08
#define M_CT 0x10
#define M_CR 0x20
#define M_NST 0x40
#define M_SH12 0x80 /* a TLS 1.2 ServerHello (RFC 5246 7.4.1.4) */

typedef enum ext_idx {
  X_SERVER_NAME,
  X_MAX_FRAGMENT_LENGTH,
  X_STATUS_REQUEST,
  X_SUPPORTED_GROUPS,
  X_SIGNATURE_ALGORITHMS,
  X_USE_SRTP,
  X_HEARTBEAT,
  X_ALPN,
  X_SCT,
  X_CLIENT_CERT_TYPE,
  X_SERVER_CERT_TYPE,
  X_PADDING,
  X_RECORD_SIZE_LIMIT,
  X_PRE_SHARED_KEY,
  X_EARLY_DATA,
  X_SUPPORTED_VERSIONS,
  X_COOKIE,
  X_PSK_KEY_EXCHANGE_MODES,
  X_CERTIFICATE_AUTHORITIES,
  X_OID_FILTERS,
  X_POST_HANDSHAKE_AUTH,
  X_SIGNATURE_ALGORITHMS_CERT,
  X_KEY_SHARE,
  X_RENEGOTIATION_INFO,
  X_EC_POINT_FORMATS,
  X_EXTENDED_MASTER_SECRET,
  X_SESSION_TICKET,
  X__COUNT
} ext_idx;

typedef struct ext_set {
  uint32_t present; /* bit per ext_idx */
  cursor data[X__COUNT];
  bool psk_not_last; /* pre_shared_key was not the last extension */
} ext_set;

static inline bool ext_has(const ext_set *s, ext_idx i) {
  return (s->present >> i) & 1;
}

/* Parses an extensions block for message kind `msg` (one M_* bit).
 * offered: for server messages, the extensions the client sent (bit per
 * ext_idx); anything else is unsupported_extension.  A duplicate is
 * illegal_parameter (RFC 8446 4.2 forbids duplicates without naming the
 * alert); a known extension in the wrong message is illegal_parameter;
 * malformed framing is decode_error. */
moat_err ext_parse_block(cursor block, unsigned msg, uint32_t offered,
                         ext_set *out, tls_cause *why);

/* Whether a block holds an extension of this type (framing is checked
 * by ext_parse_block). */
bool ext_block_has(cursor block, uint16_t type);

/* ---- per-extension builders and parsers ---------------------------------*/

/* server_name (RFC 6066 3) */
bool ext_sni_build(builder *b, const char *host);
moat_err ext_sni_parse(moat_conn *conn, cursor data, char *out, size_t cap);

static inline bool ext_code_listed(const uint16_t *list, size_t n, uint16_t v) {
  for (size_t i = 0; i < n; i++) {
    if (list[i] == v) {
      return true;
    }
  }
  return false;
}

/* supported_groups (RFC 8446 4.2.7): the groups moat implements, in the
 * peer's order, each once; unknown ones are skipped. */
bool ext_groups_build(builder *b, const tls_policy *ctx);
moat_err ext_groups_parse(moat_conn *conn, cursor data, uint16_t *out,
                          size_t cap, size_t *out_num);

/* signature_algorithms (RFC 8446 4.2.3): the schemes moat implements, in
 * the peer's order, each once; unknown ones are skipped. */
bool ext_sigalgs_build(builder *b, const tls_policy *ctx, uint16_t type);
moat_err ext_sigalgs_parse(moat_conn *conn, cursor data, uint16_t *out,
                           size_t cap, size_t *out_num);

/* TLS 1.2 ClientHello extensions: renegotiation_info (RFC 5746),
 * extended_master_secret (RFC 7627), ec_point_formats (RFC 8422 5.1.2),
 * session_ticket (RFC 5077) with the ticket or empty. */
bool ext_tls12_build_ch(moat_conn *conn, builder *b);
/* Client: checks the TLS 1.2 ServerHello's renegotiation_info and
 * ec_point_formats. */
moat_err ext_tls12_check_sh(moat_conn *conn, const ext_set *ext);
/* Server: checks the client's renegotiation_info / SCSV. */
moat_err ext_tls12_check_ch(moat_conn *conn, const ext_set *ext, cursor suites);

/* supported_versions (RFC 8446 4.2.1) */
bool ext_versions_build_ch(builder *b, const tls_policy *ctx);
/* Whether the client's list holds TLS 1.3 and TLS 1.2. */
moat_err ext_versions_parse_ch(moat_conn *conn, cursor data, bool *out_tls13,
                               bool *out_tls12);
moat_err ext_versions_parse_sh(moat_conn *conn, cursor data,
                               uint16_t *out_version);

/* application_layer_protocol_negotiation (RFC 7301) */
bool ext_alpn_build(builder *b, const uint8_t *wire, size_t wire_len);
/* Server: choose from the client's list; *out_chosen empty when no ALPN. */
moat_err ext_alpn_select(moat_conn *conn, cursor data, cursor *out_chosen);
/* Client: the server's single choice, which must be one we offered. */
moat_err ext_alpn_parse_ee(moat_conn *conn, cursor data, cursor *out_chosen);

/* key_share (RFC 8446 4.2.8) */
moat_err ext_key_share_build_ch(moat_conn *conn, builder *b);
/* Server: finds the client's share for group; *out_found false if none. */
moat_err ext_key_share_find(moat_conn *conn, cursor data, uint16_t group,
                            cursor *out_share, bool *out_found);
/* Server: the groups moat implements that the client sent shares for,
 * and how many shares it sent in all (to check HRR rules). */
moat_err ext_key_share_groups(moat_conn *conn, cursor data, uint16_t *out,
                              size_t cap, size_t *out_num, size_t *out_total);

/* RFC 8446 4.2.9: the one PSK mode moat uses, PSK with (EC)DHE. */
#define PSK_DHE_KE 1

/* cookie (RFC 8446 4.2.2) */
bool ext_cookie_build(builder *b, const uint8_t *cookie, size_t len);
moat_err ext_cookie_parse(moat_conn *conn, cursor data, cursor *out_cookie);

/* pre_shared_key + psk_key_exchange_modes (RFC 8446 4.2.9, 4.2.11) */
bool ext_psk_build_ch(moat_conn *conn, builder *b);
/* Client: fill in the binder of a built ClientHello (msg is the whole
 * message). */
moat_err ext_psk_patch_binder(moat_conn *conn, uint8_t *msg, size_t len);
/* Server: accept the first identity whose ticket opens and whose binder
 * verifies; sets hs->psk_accepted and leaves the early secret in hs->ks. */
/* Server: reads psk_key_exchange_modes; *out_dhe says psk_dhe_ke is in
 * it. */
moat_err ext_psk_modes_parse(moat_conn *conn, cursor data, bool *out_dhe);
moat_err ext_psk_accept(moat_conn *conn, const ext_set *ext, cursor whole,
                        const tls_suite *suite);

/* compress_certificate (RFC 8879 3): CertificateCompressionAlgorithm
 * algorithms<2..2^8-2>.  The builder writes the extension's data for the
 * given code points.  The parser refuses as decode_error an empty, odd or
 * overlong list and one naming an algorithm twice, and keeps the ones
 * moat has built in (src/compress), in the peer's order, up to cap. */
#define CERT_COMP_MAX 8
bool ext_cert_comp_build(builder *b, const uint16_t *algs, size_t num);
moat_err ext_cert_comp_parse(cursor data, uint16_t *out, size_t cap,
                             size_t *out_num, tls_cause *why);

#endif
