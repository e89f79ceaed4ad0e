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

/* The TLS 1.2 ServerHello (RFC 5246 7.4.1.3) with its extensions. */
typedef struct sh12_params {
  const uint8_t *session_id;
  size_t session_id_len;
  bool ems;
  bool ec_point_formats;
  bool ticket; /* a NewSessionTicket follows */
  bool ack_sni;
} sh12_params;
moat_err sh_build12(moat_conn *conn, builder *b, const sh12_params *p);

/* ---- TLS 1.2 messages (RFC 5246 7.4, RFC 8422 5) ------------------------ */

/* ServerKeyExchange for ECDHE: the parameters and their signature. */
typedef struct server_kex {
  uint16_t group;
  cursor point;
  cursor params; /* ECParameters || ECPoint: what the signature covers */
  uint16_t scheme;
  cursor sig;
} server_kex;
moat_err ske_parse(moat_conn *conn, cursor body, server_kex *out);
/* Writes the ServerKeyExchange for our share, signed with scheme. */
moat_err ske_build(moat_conn *conn, builder *b, uint16_t group,
                   const uint8_t *share, size_t share_len,
                   const sig_scheme *scheme);
/* The bytes a ServerKeyExchange signature covers (RFC 8422 5.4):
 * client_random || server_random || params. */
size_t ske_signed_content(const moat_conn *conn, cursor params, uint8_t *out,
                          size_t cap);

/* ClientKeyExchange for ECDHE: the client's point. */
moat_err cke_parse(moat_conn *conn, cursor body, cursor *out_point);
bool cke_build(builder *b, const uint8_t *share, size_t share_len);

/* CertificateRequest in TLS 1.2 (RFC 5246 7.4.4): certificate types,
 * signature schemes, authorities (ignored). */
moat_err cr12_build(moat_conn *conn, builder *b);
moat_err cr12_parse(moat_conn *conn, cursor body);

/* Certificate in TLS 1.2 (RFC 5246 7.4.2): a list of DER certificates. */
moat_err cert12_build(moat_conn *conn, builder *b, uint8_t *const *chain,
                      const size_t *chain_len, size_t chain_num);
moat_err cert12_parse(moat_conn *conn, cursor body, bool *out_empty);

/* CertificateVerify in TLS 1.2 (RFC 5246 7.4.8): a signature over the
 * handshake messages so far (hs->raw). */
moat_err cv12_build(moat_conn *conn, builder *b, const sig_scheme *scheme);
moat_err cv12_check(moat_conn *conn, cursor body);
/* Our scheme for a TLS 1.2 signature from the peer's list. */
const sig_scheme *sig12_choose(const moat_conn *conn, const uint16_t *peer,
                               size_t num_peer);
moat_err sig12_verify(moat_conn *conn, uint16_t code, const uint8_t *msg,
                      size_t msg_len, cursor sig, const char *what);
/* Whether a scheme we offered may sign in TLS 1.2 with this key. */
bool sig12_fits(const sig_scheme *s, key_type key);

/* Finished in TLS 1.2 (RFC 5246 7.4.9): 12 bytes of verify_data. */
moat_err fin12_compute(moat_conn *conn, bool client, uint8_t out[12]);

/* NewSessionTicket in TLS 1.2 (RFC 5077 3.3) */
typedef struct nst12 {
  uint32_t lifetime_hint;
  cursor ticket;
} nst12;
moat_err nst12_parse(moat_conn *conn, cursor body, nst12 *out);
bool nst12_build(builder *b, uint32_t lifetime, const uint8_t *ticket,
                 size_t ticket_len);

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

/* CompressedCertificate (RFC 8879 4) */
typedef struct compressed_cert {
  uint16_t algorithm;
  uint32_t uncompressed_len;
  cursor data; /* compressed_certificate_message */
} compressed_cert;
/* Reads the message's fields.  Malformed or empty data is decode_error;
 * an algorithm not among offered[0..num_offered) (what we listed in our
 * compress_certificate extension) is illegal_parameter; an
 * uncompressed_length that cannot hold a Certificate message or exceeds
 * TLS_MAX_HANDSHAKE_MSG is bad_certificate, before anything is
 * allocated. */
moat_err ccert_parse(cursor body, const uint16_t *offered, size_t num_offered,
                     compressed_cert *out, tls_cause *why);
/* Decompresses a parsed message into a fresh buffer of exactly
 * m->uncompressed_len bytes (*out_body, moat_free it): the Certificate
 * message's body.  A stream that is not exactly that long, or is not a
 * valid stream, is bad_certificate (RFC 8879 4). */
moat_err ccert_expand(const compressed_cert *m, uint8_t **out_body,
                      tls_cause *why);
/* Writes a whole CompressedCertificate handshake message carrying
 * cert_body (a Certificate message's body) compressed with alg. */
moat_err ccert_build(builder *b, uint16_t alg, const uint8_t *cert_body,
                     size_t len, tls_cause *why);

#endif
