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
/* What a ClientHello is made of: the suites of the versions ext.tls13 /
 * ext.tls12 offer come from ext.policy. */
typedef struct ch_params {
  const uint8_t *random;
  const uint8_t *session_id;
  size_t session_id_len;
  ext_params ext;
} ch_params;
/* With a ticket in p->ext, the binder is left zero for the flow. */
moat_err ch_build(builder *b, const ch_params *p, tls_cause *why);
moat_err ch_parse(cursor body, client_hello *out, tls_cause *why);

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
/* offered13 / offered12: the extensions (bits per ext_idx) our
 * ClientHello offered to a TLS 1.3 / a TLS 1.2 server; a ServerHello
 * with supported_versions is read by the first, one without by the
 * second. */
moat_err sh_parse(cursor body, uint32_t offered13, uint32_t offered12,
                  server_hello *out, tls_cause *why);
/* What a ServerHello is made of (random is ignored for a retry, which
 * has k_hrr_random). */
typedef struct sh_params {
  bool hrr;
  const uint8_t *random;
  const uint8_t *session_id;
  size_t session_id_len;
  uint16_t suite;
  ext_params ext;
} sh_params;
/* A TLS 1.3 ServerHello or HelloRetryRequest. */
moat_err sh_build(builder *b, const sh_params *p, tls_cause *why);
/* The TLS 1.2 ServerHello (RFC 5246 7.4.1.3) with its extensions. */
moat_err sh_build12(builder *b, const sh_params *p, tls_cause *why);

/* ---- TLS 1.2 messages (RFC 5246 7.4, RFC 8422 5) ------------------------ */

/* ServerKeyExchange for ECDHE: the parameters and their signature. */
typedef struct server_kex {
  uint16_t group;
  cursor point;
  cursor params; /* ECParameters || ECPoint: what the signature covers */
  uint16_t scheme;
  cursor sig;
} server_kex;
moat_err ske_parse(cursor body, server_kex *out, tls_cause *why);
/* The ServerECDHParams of a named group and our share (RFC 8422 5.4). */
bool ske_params_build(builder *b, uint16_t group, const uint8_t *share,
                      size_t share_len);
/* The whole message: params as ske_params_build wrote them, then the
 * signature over them (auth.c makes it). */
bool ske_build(builder *b, cursor params, uint16_t scheme, const uint8_t *sig,
               size_t sig_len);

/* ClientKeyExchange for ECDHE: the client's point. */
moat_err cke_parse(cursor body, cursor *out_point, tls_cause *why);
bool cke_build(builder *b, const uint8_t *share, size_t share_len);

/* NewSessionTicket in TLS 1.2 (RFC 5077 3.3) */
typedef struct nst12 {
  uint32_t lifetime_hint;
  cursor ticket;
} nst12;
moat_err nst12_parse(cursor body, nst12 *out, tls_cause *why);
bool nst12_build(builder *b, uint32_t lifetime, const uint8_t *ticket,
                 size_t ticket_len);

/* EncryptedExtensions (RFC 8446 4.3.1): p->ack_sni, p->alpn. */
moat_err ee_build(builder *b, const ext_params *p, tls_cause *why);
/* offered: the extensions our ClientHello sent (bits per ext_idx); p:
 * the policy whose ALPN list was offered.  out: what the server sent. */
moat_err ee_parse(cursor body, uint32_t offered, const ext_params *p,
                  ext_values *out, tls_cause *why);

/* CertificateRequest (RFC 8446 4.3.2, RFC 5246 7.4.4): what the flow
 * keeps of it.  In TLS 1.3 the schemes are the ones moat implements, once
 * each (ext_sigalgs_parse); in TLS 1.2 the list as sent, up to 64.  The
 * context is empty in a handshake (1.3) and absent in 1.2; the
 * certificate types and authorities are not used. */
typedef struct cert_request {
  uint16_t sigalgs[64];
  size_t num_sigalgs;
  /* RFC 8879 3 (TLS 1.3): the compress_certificate extension's data,
   * checked (empty when absent) */
  cursor cert_comp;
} cert_request;
moat_err cr_parse(cursor body, cert_request *out, tls_cause *why);
moat_err cr12_parse(cursor body, cert_request *out, tls_cause *why);
/* Both offer the policy's signature schemes. */
bool cr_build(builder *b, const tls_policy *policy);
bool cr12_build(builder *b, const tls_policy *policy);

/* Certificate (RFC 8446 4.4.2, RFC 5246 7.4.2): the DER of each entry,
 * leaf first, as slices of the message body (the flow copies what it
 * keeps: hs_take_peer_chain).  num 0 is an empty list. */
typedef struct cert_list {
  size_t num;
  cursor der[TLS_MAX_CHAIN];
  cursor status; /* the leaf's OCSPResponse (RFC 8446 4.4.2.1), or empty */
} cert_list;
/* context: the certificate_request_context the message must carry. */
moat_err cert_parse(cursor body, const uint8_t *context, size_t context_len,
                    cert_list *out, tls_cause *why);
/* The same, accepting a status_request in the entries when the client
 * asked for one (status_offered). */
moat_err cert_parse_status(cursor body, const uint8_t *context,
                           size_t context_len, bool status_offered,
                           cert_list *out, tls_cause *why);
moat_err cert12_parse(cursor body, cert_list *out, tls_cause *why);
/* chain NULL/0 sends an empty list. */
bool cert_build(builder *b, const uint8_t *context, size_t context_len,
                uint8_t *const *chain, const size_t *chain_len,
                size_t chain_num);
/* The same with an OCSP response about the leaf (status NULL: none). */
bool cert_build_status(builder *b, const uint8_t *context, size_t context_len,
                       uint8_t *const *chain, const size_t *chain_len,
                       size_t chain_num, const uint8_t *status,
                       size_t status_len);
bool cert12_build(builder *b, uint8_t *const *chain, const size_t *chain_len,
                  size_t chain_num);

/* CertificateVerify (RFC 8446 4.4.3, RFC 5246 7.4.8): the same body in
 * both versions, a scheme and a signature.  Which content is signed, and
 * whether the signature holds, is auth.c's business. */
typedef struct cert_verify {
  uint16_t scheme;
  cursor sig;
} cert_verify;
moat_err cv_parse(cursor body, cert_verify *out, tls_cause *why);
bool cv_build(builder *b, uint16_t scheme, const uint8_t *sig, size_t sig_len);

/* Finished (RFC 8446 4.4.4, RFC 5246 7.4.9): verify_data of the length
 * the suite fixes (the hash length in 1.3, 12 bytes in 1.2).  auth.c
 * computes and compares it. */
moat_err fin_parse(cursor body, size_t expected_len, cursor *out_verify_data,
                   tls_cause *why);
bool fin_build(builder *b, const uint8_t *verify_data, size_t len);

/* KeyUpdate (RFC 8446 4.6.3) */
bool ku_build(builder *b, bool request_update);
moat_err ku_parse(cursor body, bool *out_request, tls_cause *why);

/* NewSessionTicket (RFC 8446 4.6.1): its fields as slices of the body;
 * the flow turns them into a session (tls13_take_ticket).  The server
 * builds tickets in session.c. */
typedef struct nst13 {
  uint32_t lifetime;
  uint32_t age_add;
  cursor nonce;
  cursor ticket;
  ext_set ext;
} nst13;
moat_err nst_parse(cursor body, nst13 *out, tls_cause *why);

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
/* The same message around data already compressed (by an application's
 * algorithm) from uncompressed_len bytes. */
bool ccert_build_raw(builder *b, uint16_t alg, size_t uncompressed_len,
                     const uint8_t *data, size_t len);

/* CertificateStatus { ocsp(1), OCSPResponse<1..2^24-1> } (RFC 6066 8):
 * the TLS 1.2 message's body, and in TLS 1.3 the data of the leaf
 * CertificateEntry's status_request (RFC 8446 4.4.2.1). */
bool cert_status_build(builder *b, const uint8_t *response, size_t len);
moat_err cert_status_parse(cursor data, cursor *out_response, tls_cause *why);
/* The TLS 1.2 handshake message around it. */
bool cert_status12_build(builder *b, const uint8_t *response, size_t len);

#endif
