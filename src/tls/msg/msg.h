/* Handshake messages (RFC 8446 4): one file each, parse and build. */
#ifndef MOAT_TLS_MSG_H
#define MOAT_TLS_MSG_H

#include "tls/ext/ext.h"
#include "tls/tls.h"

/* Opens a handshake message: type and a 24-bit length closed by
 * msg_close. */
bool msg_open(builder *b, uint8_t type);
bool msg_close(builder *b);

/* ClientHello (RFC 8446 4.1.2) */
typedef struct client_hello {
  uint16_t legacy_version;
  const uint8_t *random;
  cursor session_id;
  cursor suites;
  cursor compression;
  bool has_extensions;
  ext_set ext;
} client_hello;
moat_err ch_build(moat_conn *conn, builder *b);
moat_err ch_parse(moat_conn *conn, cursor body, client_hello *out);

/* ServerHello and HelloRetryRequest (RFC 8446 4.1.3, 4.1.4) */
typedef struct server_hello {
  uint16_t legacy_version;
  const uint8_t *random;
  bool is_hrr;
  cursor session_id;
  uint16_t suite;
  uint8_t compression;
  bool has_extensions;
  ext_set ext;
} server_hello;
extern const uint8_t k_hrr_random[TLS_RANDOM_LEN];
moat_err sh_parse(moat_conn *conn, cursor body, server_hello *out);
/* share NULL for a HelloRetryRequest (then cookie may be set). */
moat_err sh_build(moat_conn *conn, builder *b, bool hrr, uint16_t group,
                  const uint8_t *share, size_t share_len, const uint8_t *cookie,
                  size_t cookie_len);

/* EncryptedExtensions (RFC 8446 4.3.1) */
moat_err ee_build(moat_conn *conn, builder *b, bool ack_sni);
moat_err ee_parse(moat_conn *conn, cursor body, uint32_t offered);

/* CertificateRequest (RFC 8446 4.3.2) */
moat_err cr_build(moat_conn *conn, builder *b);
moat_err cr_parse(moat_conn *conn, cursor body);

/* Certificate (RFC 8446 4.4.2): chain NULL/0 sends an empty list. */
moat_err cert_build(moat_conn *conn, builder *b, const uint8_t *context,
                    size_t context_len, uint8_t *const *chain,
                    const size_t *chain_len, size_t chain_num);
/* Stores the chain in conn->peer; *out_empty when no certificate. */
moat_err cert_parse(moat_conn *conn, cursor body, const uint8_t *context,
                    size_t context_len, bool *out_empty);

/* CertificateVerify (RFC 8446 4.4.3) */
moat_err cv_build(moat_conn *conn, builder *b, const sig_scheme *scheme);
moat_err cv_check(moat_conn *conn, cursor body);
/* Picks our scheme for CertificateVerify from the peer's list. */
const sig_scheme *cv_choose_scheme(const moat_conn *conn, const uint16_t *peer,
                                   size_t num_peer);

/* Finished (RFC 8446 4.4.4) */
/* fin_key: the sender's Finished key (key_schedule c_fin / s_fin). */
moat_err fin_build(moat_conn *conn, builder *b, const uint8_t *fin_key);
moat_err fin_check(moat_conn *conn, cursor body, const uint8_t *fin_key);

/* KeyUpdate (RFC 8446 4.6.3) */
bool ku_build(builder *b, bool request_update);
moat_err ku_parse(moat_conn *conn, cursor body, bool *out_request);

/* NewSessionTicket (RFC 8446 4.6.1) */
moat_err nst_parse(moat_conn *conn, cursor body);

#endif
