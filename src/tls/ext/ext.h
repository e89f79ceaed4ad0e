/* Extensions (RFC 8446 4.2): one table of codecs (ext.c) and one file per
 * extension.
 *
 * Every function here is a codec: it reads bytes into values and a cause
 * (tls_cause), or writes bytes from parameters.  None of them sees the
 * connection, sets a proof flag, queues an alert or derives a key: the
 * flows do that with what the codecs return (docs/tls13.md, "Codecs"). */
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

/* One index per extension moat knows.  The order is the order on the
 * wire: the table's builders run in it, so a new extension that moat
 * sends goes before X_PRE_SHARED_KEY, which must stay the last one
 * built (RFC 8446 4.2.11). */
typedef enum ext_idx {
  X_SERVER_NAME,
  X_SUPPORTED_VERSIONS,
  X_RENEGOTIATION_INFO,
  X_EXTENDED_MASTER_SECRET,
  X_EC_POINT_FORMATS,
  X_SESSION_TICKET,
  X_SUPPORTED_GROUPS,
  X_SIGNATURE_ALGORITHMS,
  X_KEY_SHARE,
  X_ALPN,
  X_COOKIE,
  X_PSK_KEY_EXCHANGE_MODES,
  X_COMPRESS_CERTIFICATE,
  X_RECORD_SIZE_LIMIT,
  X_STATUS_REQUEST,
  X_PRE_SHARED_KEY,
  /* recognised, not built */
  X_MAX_FRAGMENT_LENGTH,
  X_USE_SRTP,
  X_HEARTBEAT,
  X_SCT,
  X_CLIENT_CERT_TYPE,
  X_SERVER_CERT_TYPE,
  X_PADDING,
  X_EARLY_DATA,
  X_CERTIFICATE_AUTHORITIES,
  X_OID_FILTERS,
  X_POST_HANDSHAKE_AUTH,
  X_SIGNATURE_ALGORITHMS_CERT,
  X__COUNT
} ext_idx;

#define X_BIT(i) ((uint32_t)1 << (i))

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

/* ---- the table's common signature -------------------------------------- */

/* A key share to send: the group and the public value (RFC 8446 4.2.8). */
typedef struct ext_share {
  uint16_t group;
  const uint8_t *data;
  size_t len;
} ext_share;

/* What the builders of one message need, filled once by the flow that
 * sends it.  Each field names the messages it is read for. */
typedef struct ext_params {
  const tls_policy *policy; /* CH: groups, schemes, ALPN; EE, SH12: - */
  bool tls13, tls12;        /* CH: the versions offered */
  const char *host;         /* CH: server_name to send, NULL for none */
  bool ack_sni;             /* EE, SH12: acknowledge the client's name */
  const char *alpn;         /* EE, SH12: the protocol chosen, or NULL */
  const ext_share *shares;  /* CH: our key shares */
  size_t num_shares;
  uint16_t group; /* SH: our share's group; HRR: the group asked for */
  const uint8_t *share;
  size_t share_len;
  const uint8_t *cookie; /* CH: the HelloRetryRequest's, echoed; HRR */
  size_t cookie_len;
  const uint8_t *ticket; /* CH: the TLS 1.3 ticket offered, NULL for none */
  size_t ticket_len;
  uint32_t obfuscated_age; /* CH: RFC 8446 4.2.11.1 */
  size_t binder_len;       /* CH: the PSK's hash length */
  bool psk_accepted;       /* SH: the server accepted identity psk_index */
  uint16_t psk_index;
  bool ems;                /* SH12: extended_master_secret negotiated */
  bool point_formats;      /* SH12: answer the client's ec_point_formats */
  bool tickets12;          /* CH: ask for a TLS 1.2 ticket; SH12: one follows */
  const uint8_t *ticket12; /* CH: the TLS 1.2 ticket offered, or NULL */
  size_t ticket12_len;
  const uint8_t *reneg; /* CH, SH12 read: renegotiated_connection expected */
  size_t reneg_len;     /* (empty: moat never renegotiates, RFC 5746 3.4) */
  /* EE, SH12: the record_size_limit to answer with, 0 for none (the
   * ClientHello's comes from the policy) */
  uint16_t record_size_limit;
  bool status_request; /* CH: ask for OCSP stapling; SH12: a staple
                          follows (RFC 6066 8) */
  const char *peer;    /* read: "client" or "server", for details */
} ext_params;

/* What the readers of one message found, one group of fields per
 * extension; `read` has a bit for each extension that was read. */
typedef struct ext_values {
  uint32_t read;
  char host[256];      /* server_name, CH: "" when no host_name */
  bool tls13, tls12;   /* supported_versions, CH */
  uint16_t version;    /* supported_versions, SH / HRR */
  uint16_t groups[32]; /* supported_groups, CH (moat's groups only) */
  size_t num_groups;
  uint16_t sigalgs[64]; /* signature_algorithms, CH (moat's schemes) */
  size_t num_sigalgs;
  uint16_t group;        /* key_share, SH: the server's group (HRR: asked) */
  cursor share;          /* key_share, SH: the server's share */
  cursor alpn;           /* ALPN: CH the list (checked); EE / SH12 the name */
  cursor cookie;         /* cookie, HRR / CH */
  bool psk_dhe;          /* psk_key_exchange_modes, CH: psk_dhe_ke is listed */
  uint16_t psk_selected; /* pre_shared_key, SH */
  /* compress_certificate, CH: the algorithms of moat's the client lists,
   * in its order (RFC 8879 3) */
  uint16_t cert_comp[TLS_MAX_CERT_COMP];
  size_t num_cert_comp;
  uint16_t record_size_limit; /* record_size_limit, CH / EE / SH12 */
  bool status_ocsp;           /* status_request, CH: the client asks for OCSP */
} ext_values;

/* One row of the table per extension moat knows: its code, where it may
 * appear, and (for the extensions moat implements) whether to send it in
 * a message, how to write its extension_data and how to read it.  The
 * callbacks receive the M_* bit of the message. */
typedef struct ext_row {
  uint16_t type;
  unsigned allowed; /* M_* bits */
  bool (*send)(unsigned msg, const ext_params *p);
  bool (*build)(builder *b, unsigned msg, const ext_params *p);
  moat_err (*read)(cursor data, unsigned msg, const ext_params *p,
                   ext_values *out, tls_cause *why);
} ext_row;

/* Writes a message's extensions block: every row allowed in msg whose
 * send says so, in ext_idx order.  False if the builder failed. */
bool ext_build_block(builder *b, unsigned msg, const ext_params *p);

/* Reads the extensions of `want` (bits per ext_idx) that the block
 * holds, in ext_idx order, into out (cleared first). */
moat_err ext_read_block(const ext_set *set, unsigned msg, uint32_t want,
                        const ext_params *p, ext_values *out, tls_cause *why);

/* ---- one file per extension -------------------------------------------- */

/* The row callbacks of each file (ext.c puts them in the table). */
#define EXT_ROW_FNS(name)                                                      \
  bool ext_##name##_send(unsigned msg, const ext_params *p);                   \
  bool ext_##name##_row_build(builder *b, unsigned msg, const ext_params *p);  \
  moat_err ext_##name##_read(cursor data, unsigned msg, const ext_params *p,   \
                             ext_values *out, tls_cause *why)
EXT_ROW_FNS(sni);
EXT_ROW_FNS(versions);
EXT_ROW_FNS(reneg);
EXT_ROW_FNS(ems);
EXT_ROW_FNS(point_formats);
EXT_ROW_FNS(ticket12);
EXT_ROW_FNS(groups);
EXT_ROW_FNS(sigalgs);
EXT_ROW_FNS(key_share);
EXT_ROW_FNS(alpn);
EXT_ROW_FNS(cookie);
EXT_ROW_FNS(psk_modes);
EXT_ROW_FNS(cert_comp);
EXT_ROW_FNS(rsl);
EXT_ROW_FNS(status_request);
EXT_ROW_FNS(psk);
#undef EXT_ROW_FNS

static inline bool ext_code_listed(const uint16_t *list, size_t n, uint16_t v) {
  for (size_t i = 0; i < n; i++) {
    if (list[i] == v) {
      return true;
    }
  }
  return false;
}

/* record_size_limit (RFC 8449 4): a uint16, at least 64. */
#define RSL_MIN 64
#define RSL_MAX13 (TLS_MAX_PLAINTEXT + 1) /* the type byte included */
#define RSL_MAX12 TLS_MAX_PLAINTEXT
bool ext_rsl_build(builder *b, uint16_t limit);
moat_err ext_rsl_parse(cursor data, unsigned msg, uint16_t *out,
                       tls_cause *why);

/* server_name (RFC 6066 3) */
bool ext_sni_build(builder *b, const char *host);
moat_err ext_sni_parse(cursor data, char *out, size_t cap, tls_cause *why);
/* A server's answer must be empty; msg names the message in the detail. */
/* An extension whose body must be empty (an answer that only says yes):
 * decode_error naming it and its message otherwise. */
moat_err ext_parse_empty(cursor data, const char *name, unsigned msg,
                         tls_cause *why);
moat_err ext_sni_parse_ack(cursor data, unsigned msg, tls_cause *why);

/* supported_groups (RFC 8446 4.2.7): the groups moat implements, in the
 * peer's order, each once; unknown ones are skipped.  tls13: the client
 * may speak TLS 1.3 (else groups only 1.3 uses are left out). */
bool ext_groups_build(builder *b, const tls_policy *pol, bool tls13);
moat_err ext_groups_parse(cursor data, uint16_t *out, size_t cap,
                          size_t *out_num, tls_cause *why);

/* signature_algorithms (RFC 8446 4.2.3): the schemes moat implements, in
 * the peer's order, each once; unknown ones are skipped. */
bool ext_sigalgs_build(builder *b, const tls_policy *pol);
moat_err ext_sigalgs_parse(cursor data, uint16_t *out, size_t cap,
                           size_t *out_num, tls_cause *why);

/* supported_versions (RFC 8446 4.2.1) */
bool ext_versions_build_ch(builder *b, bool tls13, bool tls12);
/* Whether the client's list holds TLS 1.3 and TLS 1.2. */
moat_err ext_versions_parse_ch(cursor data, bool *out_tls13, bool *out_tls12,
                               tls_cause *why);
moat_err ext_versions_parse_sh(cursor data, uint16_t *out_version,
                               tls_cause *why);

/* renegotiation_info (RFC 5746): moat never renegotiates, so it sends
 * renegotiated_connection empty and expects the same back (3.4, 3.6);
 * the comparison takes the expected value anyway.  who: "client" or
 * "server", for the detail. */
bool ext_reneg_build(builder *b, const uint8_t *verify, size_t verify_len);
moat_err ext_reneg_check(cursor data, const uint8_t *expect, size_t expect_len,
                         const char *who, tls_cause *why);

/* extended_master_secret (RFC 7627 5.1): always empty. */
moat_err ext_ems_parse(cursor data, unsigned msg, tls_cause *why);

/* ec_point_formats (RFC 8422 5.1.2): uncompressed only. */
bool ext_point_formats_build(builder *b);
moat_err ext_point_formats_parse(cursor data, const char *who, tls_cause *why);

/* session_ticket (RFC 5077 3.2): a ticket or empty from the client; empty
 * from the server. */
bool ext_ticket12_build(builder *b, const uint8_t *ticket, size_t len);
moat_err ext_ticket12_parse_sh(cursor data, tls_cause *why);

/* application_layer_protocol_negotiation (RFC 7301) */
bool ext_alpn_build(builder *b, const uint8_t *wire, size_t wire_len);
/* The server's answer: a list of one name. */
bool ext_alpn_build_one(builder *b, const char *name);
/* RFC 7301 3.1: a non-empty list of non-empty names. */
moat_err ext_alpn_parse_list(cursor data, cursor *out_list, tls_cause *why);
/* Server: the first of the policy's protocols the client's list (as
 * ext_alpn_parse_list returned it) holds; *out_chosen empty when the
 * policy has none or (with alpn_mismatch_ok) none matches. */
moat_err ext_alpn_select(cursor list, const tls_policy *pol, cursor *out_chosen,
                         tls_cause *why);
/* Client: the server's single choice, which must be one the policy
 * offered. */
moat_err ext_alpn_parse_ee(cursor data, const tls_policy *pol,
                           cursor *out_chosen, tls_cause *why);

/* key_share (RFC 8446 4.2.8) */
bool ext_key_share_build_ch(builder *b, const ext_share *shares, size_t num);
/* ServerHello: group and share; HelloRetryRequest: share NULL. */
bool ext_key_share_build_sh(builder *b, uint16_t group, const uint8_t *share,
                            size_t share_len);
/* Server: finds the client's share for group; *out_found false if none. */
moat_err ext_key_share_find(cursor data, uint16_t group, cursor *out_share,
                            bool *out_found, tls_cause *why);
/* Server: the groups moat implements that the client sent shares for,
 * and how many shares it sent in all (to check HRR rules). */
moat_err ext_key_share_groups(cursor data, uint16_t *out, size_t cap,
                              size_t *out_num, size_t *out_total,
                              tls_cause *why);
/* Client: the ServerHello's share, or (hrr) the group a retry asks for. */
moat_err ext_key_share_parse_sh(cursor data, bool hrr, uint16_t *out_group,
                                cursor *out_share, tls_cause *why);

/* cookie (RFC 8446 4.2.2) */
bool ext_cookie_build(builder *b, const uint8_t *cookie, size_t len);
moat_err ext_cookie_parse(cursor data, cursor *out_cookie, tls_cause *why);

/* psk_key_exchange_modes (RFC 8446 4.2.9): moat uses PSK with (EC)DHE. */
#define PSK_DHE_KE 1
bool ext_psk_modes_build(builder *b);
/* *out_dhe says psk_dhe_ke is in the list. */
moat_err ext_psk_modes_parse(cursor data, bool *out_dhe, tls_cause *why);

/* pre_shared_key (RFC 8446 4.2.11): one identity with a zeroed binder of
 * binder_len bytes, which the flow fills in (psk_binder) once the whole
 * ClientHello is built; it is the last extension. */
bool ext_psk_build_ch(builder *b, const uint8_t *ticket, size_t ticket_len,
                      uint32_t obfuscated_age, size_t binder_len);
/* The bytes of one identity's binders list at the end of the ClientHello
 * (2-byte length, 1-byte length, binder). */
static inline size_t ext_psk_binders_len(size_t binder_len) {
  return 2 + 1 + binder_len;
}
bool ext_psk_build_sh(builder *b, uint16_t index);
moat_err ext_psk_parse_sh(cursor data, uint16_t *out_selected, tls_cause *why);
/* Server: the client's offer.  whole is the ClientHello, which the
 * binders must end (RFC 8446 4.2.11). */
typedef struct ext_psk_offer {
  cursor ids;
  cursor binders;
  size_t binders_len; /* the binders list with its length: the tail */
} ext_psk_offer;
moat_err ext_psk_parse_ch(cursor data, cursor whole, ext_psk_offer *out,
                          tls_cause *why);
/* The next identity and its binder; *out_end when none is left (and then
 * there must be no binder left either).  index counts from 0. */
moat_err ext_psk_next(ext_psk_offer *o, uint16_t index, cursor *out_id,
                      uint32_t *out_age, cursor *out_binder, bool *out_end,
                      tls_cause *why);

/* compress_certificate (RFC 8879 3): CertificateCompressionAlgorithm
 * algorithms<2..2^8-2>.  The builder writes the extension's data for the
 * given code points.  The parser refuses as decode_error an empty, odd or
 * overlong list and one naming an algorithm twice, and keeps the ones
 * among known[0..num_known) (the policy's), in the peer's order, up to
 * cap. */
#define CERT_COMP_MAX 8
bool ext_cert_comp_build(builder *b, const uint16_t *algs, size_t num);
moat_err ext_cert_comp_parse(cursor data, const uint16_t *known,
                             size_t num_known, uint16_t *out, size_t cap,
                             size_t *out_num, tls_cause *why);

/* status_request (RFC 6066 8, RFC 8446 4.4.2.1); the CertificateStatus it
 * asks for is in msg.h. */
#define STATUS_TYPE_OCSP 1

/* ClientHello: CertificateStatusRequest for ocsp with no responder IDs
 * and no request extensions. */
bool ext_status_request_build_ch(builder *b);
/* Server: reads the client's request; *out_ocsp says it asks for OCSP
 * (another status_type is not an error: the request is ignored). */
moat_err ext_status_request_parse_ch(cursor data, bool *out_ocsp,
                                     tls_cause *why);
/* Client: the server's TLS 1.2 ServerHello answer (RFC 6066 8: empty). */
moat_err ext_status_request_parse_sh12(cursor data, tls_cause *why);

#endif
