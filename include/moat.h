/* moat: TLS 1.2 / 1.3 in C, modelled on Python's ssl module.
 *
 * This is the whole public C API.  Types are opaque; every _free accepts
 * NULL; functions return a moat_err status (MOAT_OK on success) or data,
 * never both.  A connection never performs I/O itself unless a transport
 * was attached (moat_conn_set_fd, moat_conn_set_transport): it consumes TLS
 * bytes given to moat_conn_feed() and produces TLS bytes taken with
 * moat_conn_take_output(). */
#ifndef MOAT_H
#define MOAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MOAT_API __attribute__((visibility("default")))
#else
#define MOAT_API
#endif

#define MOAT_VERSION_STRING "0.1.0"
#define MOAT_VERSION_NUMBER 0x000100

/* ---- errors ------------------------------------------------------------ */

typedef enum moat_err {
#define X(name, cls, msg) MOAT_ERR_##name,
#include "moat/err_list.h"
#undef X
  MOAT_ERR__COUNT
} moat_err;

#define MOAT_OK MOAT_ERR_OK

typedef enum moat_err_class {
  MOAT_CLASS_NONE,
  MOAT_CLASS_WANT_READ,
  MOAT_CLASS_WANT_WRITE,
  MOAT_CLASS_CLOSED,
  MOAT_CLASS_ALERT_SENT,
  MOAT_CLASS_ALERT_RECEIVED,
  MOAT_CLASS_PROTOCOL,
  MOAT_CLASS_VERIFY,
  MOAT_CLASS_USAGE,
  MOAT_CLASS_INTERNAL,
} moat_err_class;

/* Stable name ("DECODE_ERROR"), class and one-line message of an error. */
MOAT_API const char *moat_err_name(moat_err err);
MOAT_API const char *moat_err_message(moat_err err);
MOAT_API moat_err_class moat_err_get_class(moat_err err);
MOAT_API const char *moat_err_class_name(moat_err_class cls);

/* TLS alert descriptions (RFC 8446 6). */
MOAT_API const char *moat_alert_name(int alert);

/* ---- versions and names --------------------------------------------------*/

#define MOAT_TLS1_2 0x0303
#define MOAT_TLS1_3 0x0304

typedef enum moat_role { MOAT_ROLE_CLIENT, MOAT_ROLE_SERVER } moat_role;

typedef enum moat_purpose {
  MOAT_PURPOSE_SERVER_AUTH, /* a client context that authenticates servers */
  MOAT_PURPOSE_CLIENT_AUTH, /* a server context that may check clients */
} moat_purpose;

typedef enum moat_verify_mode {
  MOAT_VERIFY_NONE,     /* CERT_NONE */
  MOAT_VERIFY_OPTIONAL, /* CERT_OPTIONAL */
  MOAT_VERIFY_REQUIRED, /* CERT_REQUIRED */
} moat_verify_mode;

/* Verify flags (values match Python's ssl.VERIFY_* / OpenSSL's). */
#define MOAT_VERIFY_CRL_CHECK_LEAF 0x4
#define MOAT_VERIFY_CRL_CHECK_CHAIN 0x0c
#define MOAT_VERIFY_X509_STRICT 0x20
#define MOAT_VERIFY_X509_TRUSTED_FIRST 0x8000
#define MOAT_VERIFY_X509_PARTIAL_CHAIN 0x80000

/* ---- process-wide hooks
 * ----------------------------------------------------*/

/* Replace the allocator moat uses for its own memory.  Must be called before
 * any other moat call; returns MOAT_ERR_BAD_STATE afterwards.  (libcrypto's
 * allocations are not routed here.) */
typedef struct moat_allocator {
  void *(*malloc_fn)(size_t size, void *arg);
  void *(*realloc_fn)(void *ptr, size_t size, void *arg);
  void (*free_fn)(void *ptr, void *arg);
  void *arg;
} moat_allocator;
MOAT_API moat_err moat_set_allocator(const moat_allocator *alloc);

/* Time source: seconds since the Unix epoch. */
typedef int64_t (*moat_clock_fn)(void *arg);
/* Randomness source: fill out[0..len) or return false. */
typedef bool (*moat_rng_fn)(void *arg, uint8_t *out, size_t len);

/* ---- contexts -------------------------------------------------------------*/

typedef struct moat_context moat_context;
typedef struct moat_conn moat_conn;
typedef struct moat_cert moat_cert;
typedef struct moat_session moat_session;

/* A bare context: no trust anchors, verify mode NONE for servers and
 * REQUIRED + check_hostname for clients, TLS 1.2..1.3, default suites. */
MOAT_API moat_context *moat_context_new(moat_role role);
/* Like ssl.create_default_context(purpose): SERVER_AUTH makes a client
 * context that loads the system trust store and verifies host names;
 * CLIENT_AUTH makes a server context. */
MOAT_API moat_context *moat_context_new_default(moat_purpose purpose);
MOAT_API void moat_context_free(moat_context *ctx);
MOAT_API moat_role moat_context_role(const moat_context *ctx);
/* What went wrong in the last configuration call on ctx (file, line,
 * reason): each call starts afresh, so this is "" after a call that
 * succeeded, and never an earlier call's detail. */
MOAT_API const char *moat_context_error_detail(const moat_context *ctx);
/* Accept a certificate's common name when it has no DNS names
 * (Python's hostname_checks_common_name; off by default). */
MOAT_API void moat_context_set_hostname_checks_common_name(moat_context *ctx,
                                                           bool on);

/* Password callback for encrypted keys: write at most cap bytes into buf,
 * return the length, or -1 to abort. */
typedef int (*moat_password_fn)(void *arg, char *buf, size_t cap);

/* Load a certificate chain (PEM, leaf first) and its private key (PEM or
 * DER: PKCS#1, SEC1, PKCS#8, encrypted PKCS#8, legacy encrypted PEM).
 * keyfile may be NULL when the key is in certfile.  password may be NULL. */
MOAT_API moat_err moat_context_load_cert_chain(moat_context *ctx,
                                               const char *certfile,
                                               const char *keyfile,
                                               const char *password);
MOAT_API moat_err moat_context_load_cert_chain_mem(
    moat_context *ctx, const uint8_t *cert_pem, size_t cert_pem_len,
    const uint8_t *key, size_t key_len, const char *password);
MOAT_API void moat_context_set_password_cb(moat_context *ctx,
                                           moat_password_fn cb, void *arg);

/* Trust anchors: from a PEM file, an OpenSSL-style directory, and/or
 * memory (PEM text, or DER: one object or several back to back).  Any may
 * be NULL. */
MOAT_API moat_err moat_context_load_verify_locations(moat_context *ctx,
                                                     const char *cafile,
                                                     const char *capath,
                                                     const uint8_t *cadata,
                                                     size_t cadata_len);
MOAT_API moat_err moat_context_load_default_verify_paths(moat_context *ctx);
MOAT_API size_t moat_context_num_trusted(const moat_context *ctx);
/* The index-th trusted certificate (DER), for listing the store
 * (Python's get_ca_certs); valid while ctx lives. */
MOAT_API moat_err moat_context_trusted_cert_der(const moat_context *ctx,
                                                size_t index,
                                                const uint8_t **out_der,
                                                size_t *out_len);
/* Number of CRLs loaded with the trust anchors. */
MOAT_API size_t moat_context_num_crls(const moat_context *ctx);

MOAT_API void moat_context_set_verify_mode(moat_context *ctx,
                                           moat_verify_mode mode);
MOAT_API moat_verify_mode moat_context_verify_mode(const moat_context *ctx);
MOAT_API void moat_context_set_check_hostname(moat_context *ctx, bool on);
MOAT_API bool moat_context_check_hostname(const moat_context *ctx);
MOAT_API void moat_context_set_verify_flags(moat_context *ctx, uint32_t flags);
MOAT_API uint32_t moat_context_verify_flags(const moat_context *ctx);

/* The application's word on the peer's certificate (as OpenSSL's verify
 * callback, GnuTLS's verify function, rustls's certificate verifiers):
 * called once per handshake in which the peer sent a chain and the
 * verify mode is not NONE, after moat verified it, with the outcome:
 * code 0 when the chain verified, else its X509_V_ERR-compatible code
 * (moat_conn_verify_code and moat_conn_verify_message say the same; the
 * peer's chain is readable with moat_conn_peer_cert_der).  Return 0 to
 * accept the peer, anything else to refuse it with that code: `code`
 * keeps moat's verdict, MOAT_VERIFY_APPLICATION_REJECTED refuses a chain
 * that verified.  Accepting a chain that did not verify makes the
 * application answerable for the peer's identity; the connection still
 * reports moat's code.  A refusal fails the handshake with
 * MOAT_ERR_CERT_VERIFY_FAILED and the alert for the code
 * (handshake_failure for MOAT_VERIFY_APPLICATION_REJECTED, as OpenSSL). */
#define MOAT_VERIFY_APPLICATION_REJECTED 50
typedef long (*moat_verify_fn)(void *arg, moat_conn *conn, long code);
MOAT_API void moat_context_set_verify_callback(moat_context *ctx,
                                               moat_verify_fn cb, void *arg);

/* The most plaintext bytes a record we send carries, 512 to 16384
 * (default 16384; OpenSSL's SSL_CTX_set_max_send_fragment): smaller
 * records for links where a whole 16 KiB record is slow to arrive.
 * What we accept is not changed. */
MOAT_API moat_err moat_context_set_max_send_fragment(moat_context *ctx,
                                                     size_t n);

/* record_size_limit (RFC 8449): the largest protected record, in bytes of
 * plaintext, this side is willing to receive, 64 to 16385 (TLS 1.3
 * counts the content type byte, so 16385 is its whole record; TLS 1.2
 * uses at most 16384), or 0 (the default) for none.  A client sends it
 * in its ClientHello; a server answers every client that sends one,
 * with this limit or, when 0, the version's largest.  Once negotiated,
 * a protected record from the peer over our limit is record_overflow,
 * and the peer's limit bounds the records we send (with
 * moat_context_set_max_send_fragment: the smaller wins). */
MOAT_API moat_err moat_context_set_record_size_limit(moat_context *ctx,
                                                     size_t n);
/* On a connection, once negotiated (0 when it was not): the peer's
 * record_size_limit, which bounds what we send, and ours, which bounds
 * what we accept, each as it applies to the version agreed (at most
 * 16385 in TLS 1.3, 16384 in TLS 1.2). */
MOAT_API size_t moat_conn_peer_record_size_limit(const moat_conn *conn);
MOAT_API size_t moat_conn_record_size_limit(const moat_conn *conn);

/* Versions: MOAT_TLS1_2 or MOAT_TLS1_3 (0 = no bound).  Older versions are
 * refused with MOAT_ERR_REFUSED_PROTOCOL. */
MOAT_API moat_err moat_context_set_min_version(moat_context *ctx, int version);
MOAT_API moat_err moat_context_set_max_version(moat_context *ctx, int version);

/* Colon-separated lists, in preference order.  Suites take IANA or OpenSSL
 * spellings ("TLS_AES_128_GCM_SHA256"); groups "X25519", "P-256"/"secp256r1",
 * "P-384", "P-521", "X448"; schemes by IANA name ("ecdsa_secp256r1_sha256"). */
MOAT_API moat_err moat_context_set_ciphersuites(moat_context *ctx,
                                                const char *list);
MOAT_API moat_err moat_context_set_groups(moat_context *ctx, const char *list);
/* A server context with its key loaded refuses a list none of whose
 * schemes that key can make. */
MOAT_API moat_err moat_context_set_sigalgs(moat_context *ctx, const char *list);
/* The two halves of that list, apart (as BoringSSL's signing and verify
 * preferences): the schemes we sign with (in our order, among those the
 * peer accepts), and the schemes we accept from the peer, which are what
 * signature_algorithms (and a server's CertificateRequest) advertise.
 * moat_context_set_sigalgs sets both. */
MOAT_API moat_err moat_context_set_signing_sigalgs(moat_context *ctx,
                                                   const char *list);
MOAT_API moat_err moat_context_set_verify_sigalgs(moat_context *ctx,
                                                  const char *list);

/* ALPN protocols in preference order.  A server picks the first of its own
 * list that the client offered; with no overlap it fails the handshake
 * with no_application_protocol. */
MOAT_API moat_err moat_context_set_alpn_protocols(moat_context *ctx,
                                                  const char *const *protos,
                                                  size_t num_protos);

/* Key logging in NSS SSLKEYLOGFILE format: line is one full line without
 * the trailing newline. */
typedef void (*moat_keylog_fn)(void *arg, const moat_conn *conn,
                               const char *line);
MOAT_API void moat_context_set_keylog_cb(moat_context *ctx, moat_keylog_fn cb,
                                         void *arg);
MOAT_API moat_err moat_context_set_keylog_file(moat_context *ctx,
                                               const char *path);

/* Server: called with the client's SNI (NULL when absent) before the
 * server chooses its certificate; may switch the connection's context with
 * moat_conn_set_context().  Return MOAT_OK to continue, anything else to
 * fail with unrecognized_name. */
typedef moat_err (*moat_sni_fn)(void *arg, moat_conn *conn,
                                const char *server_name);
MOAT_API void moat_context_set_sni_cb(moat_context *ctx, moat_sni_fn cb,
                                      void *arg);

/* TLS 1.3 session tickets a server sends (default 2, at most 256). */
MOAT_API void moat_context_set_num_tickets(moat_context *ctx, size_t n);

/* Session resumption.  Tickets (RFC 5077, RFC 8446 4.6.1) are on by
 * default in both roles; off (OpenSSL's OP_NO_TICKET) a server neither
 * issues nor accepts them in either version, and a TLS 1.2 client asks
 * for none.  A TLS 1.2 server also keeps a
 * session-ID cache of `size` sessions (default 1024, 0 turns it off).
 * Sessions made without the extended master secret (RFC 7627) are never
 * resumed; require_ems refuses such peers outright. */
MOAT_API void moat_context_set_session_tickets(moat_context *ctx, bool on);
MOAT_API void moat_context_set_session_cache_size(moat_context *ctx,
                                                  size_t size);
MOAT_API void moat_context_set_require_ems(moat_context *ctx, bool on);

/* Injection for tests: clock and randomness. */
MOAT_API void moat_context_set_clock(moat_context *ctx, moat_clock_fn fn,
                                     void *arg);
MOAT_API void moat_context_set_rng(moat_context *ctx, moat_rng_fn fn,
                                   void *arg);

/* ---- connections ----------------------------------------------------------*/

/* The connection keeps a reference to ctx. */
MOAT_API moat_conn *moat_conn_new(moat_context *ctx);
MOAT_API void moat_conn_free(moat_conn *conn);
MOAT_API moat_err moat_conn_set_context(moat_conn *conn, moat_context *ctx);
MOAT_API moat_context *moat_conn_context(const moat_conn *conn);

/* Client: the name sent as SNI and checked against the certificate (a
 * DNS name or an IP address literal; IP literals are not sent as SNI). */
MOAT_API moat_err moat_conn_set_hostname(moat_conn *conn, const char *name);
MOAT_API void moat_conn_set_user_data(moat_conn *conn, void *data);
MOAT_API void *moat_conn_user_data(const moat_conn *conn);

/* The message callback, for debugging and tracing (OpenSSL's
 * SSL_set_msg_callback, Python's SSLContext._msg_callback): called for
 * every record header, TLS 1.3 inner content type, handshake message,
 * alert and change_cipher_spec the connection sends or receives, never
 * for application data.  A received message is reported once it is
 * complete, before it is processed (so also the one that fails the
 * handshake); a sent one once it is written to the output.  The callback
 * runs inside the moat call that moved the bytes: it may read the
 * connection's getters but must not call anything that changes it. */
#define MOAT_MSG_RECORD_HEADER 256 /* data: the 5-byte record header */
#define MOAT_MSG_INNER_TYPE 257    /* data: a TLS 1.3 record's inner type */
typedef struct moat_msg {
  bool sent; /* we sent it (false: the peer did) */
  /* The connection's version (MOAT_TLS1_2 / MOAT_TLS1_3, 0x0303 until
   * one is agreed); for a record header, the header's. */
  int version;
  /* 20 change_cipher_spec, 21 alert, 22 handshake, or
   * MOAT_MSG_RECORD_HEADER / MOAT_MSG_INNER_TYPE */
  int content_type;
  /* handshake: its type (1 ClientHello, ...); alert: the description;
   * change_cipher_spec: 1; record header / inner type: the content type */
  int msg_type;
  const uint8_t *data; /* the whole message (a handshake message with its
                          4-byte header, an alert's 2 bytes, ...) */
  size_t len;
} moat_msg;
typedef void (*moat_msg_fn)(void *arg, moat_conn *conn, const moat_msg *msg);
/* cb NULL turns it off. */
MOAT_API void moat_conn_set_msg_cb(moat_conn *conn, moat_msg_fn cb, void *arg);

/* TLS bytes in: consumes as much as it can buffer and reports how much.
 * TLS bytes out: copies up to cap pending bytes. */
MOAT_API moat_err moat_conn_feed(moat_conn *conn, const uint8_t *data,
                                 size_t len, size_t *out_consumed);
MOAT_API moat_err moat_conn_feed_eof(moat_conn *conn);
MOAT_API size_t moat_conn_pending_output(const moat_conn *conn);
MOAT_API moat_err moat_conn_take_output(moat_conn *conn, uint8_t *out,
                                        size_t cap, size_t *out_len);

/* The same two directions without a copy through a buffer of yours.
 * moat_conn_input_space gives where TLS bytes may be written and how many
 * fit; moat_conn_input_commit(n) then says n of them were written.
 * moat_conn_output_view gives the pending TLS bytes in place;
 * moat_conn_output_consume(n) says n of them were sent.  A view or a space
 * is valid until the next call on the connection; each space takes one
 * commit.  Committing or consuming more than was offered is
 * MOAT_ERR_INVALID_ARGUMENT and changes nothing. */
MOAT_API moat_err moat_conn_input_space(moat_conn *conn, uint8_t **out_at,
                                        size_t *out_room);
MOAT_API moat_err moat_conn_input_commit(moat_conn *conn, size_t n);
MOAT_API moat_err moat_conn_output_view(moat_conn *conn,
                                        const uint8_t **out_data,
                                        size_t *out_len);
MOAT_API moat_err moat_conn_output_consume(moat_conn *conn, size_t n);

/* Drive the handshake.  MOAT_OK when complete; MOAT_ERR_WANT_READ /
 * MOAT_ERR_WANT_WRITE to be called again after feeding / taking bytes;
 * MOAT_ERR_CLOSED (for good) when the peer sent close_notify before the
 * handshake completed. */
MOAT_API moat_err moat_conn_handshake(moat_conn *conn);
MOAT_API bool moat_conn_handshake_done(const moat_conn *conn);

/* Application data.  read returns MOAT_ERR_CLOSED once the peer's
 * close_notify arrived; write accepts all of len or fails.  read decrypts
 * straight into out, so bytes of out past *out_len (within cap) may be
 * overwritten (with zeros) too. */
MOAT_API moat_err moat_conn_read(moat_conn *conn, uint8_t *out, size_t cap,
                                 size_t *out_len);
MOAT_API size_t moat_conn_pending(const moat_conn *conn);
MOAT_API moat_err moat_conn_write(moat_conn *conn, const uint8_t *data,
                                  size_t len, size_t *out_written);

/* Transport mode: push buffered output; MOAT_ERR_WANT_WRITE while the
 * transport would block.  Without a transport: WANT_WRITE while output is
 * waiting to be taken. */
MOAT_API moat_err moat_conn_flush(moat_conn *conn);

/* Free the record buffers while nothing is buffered in them (an idle
 * connection then holds only its keys and state).  Buffers holding data
 * are kept.  moat does this by itself when a handshake ends and when a
 * transport would block. */
MOAT_API moat_err moat_conn_release_buffers(moat_conn *conn);

/* Send close_notify.  MOAT_OK once ours is sent and the peer's has been
 * received; MOAT_ERR_WANT_READ while waiting for the peer's.  Application
 * data the peer sends meanwhile is kept (RFC 8446 6.1: our close does not
 * close its side): while some is waiting, this returns WANT_READ and
 * moat_conn_read returns it. */
MOAT_API moat_err moat_conn_shutdown(moat_conn *conn);

/* TLS 1.3 KeyUpdate (RFC 8446 4.6.3); request_peer asks the peer to update
 * its sending keys too. */
MOAT_API moat_err moat_conn_key_update(moat_conn *conn, bool request_peer);

/* A transport the connection drives itself: handshake/read/write/shutdown
 * then loop until done or until the transport would block.  Return bytes
 * moved, 0 for end of stream (recv only), or -1 with *out_would_block set
 * when it would block. */
typedef struct moat_transport {
  long (*send)(void *arg, const uint8_t *data, size_t len,
               bool *out_would_block);
  long (*recv)(void *arg, uint8_t *out, size_t cap, bool *out_would_block);
} moat_transport;
MOAT_API moat_err moat_conn_set_transport(moat_conn *conn,
                                          const moat_transport *t, void *arg);
/* The attached transport (NULL when none) and its argument. */
MOAT_API const moat_transport *moat_conn_get_transport(const moat_conn *conn,
                                                       void **out_arg);
/* src/io: a connected socket (blocking or non-blocking). */
MOAT_API moat_err moat_conn_set_fd(moat_conn *conn, int fd);
MOAT_API int moat_conn_fd(const moat_conn *conn);

/* ---- connection state -----------------------------------------------------*/

/* The last error (sticky once fatal), a human-readable detail, and for
 * alerts which alert and who sent it. */
MOAT_API moat_err moat_conn_error(const moat_conn *conn);
MOAT_API const char *moat_conn_error_detail(const moat_conn *conn);
/* Returns true when an alert was sent or received; *out_alert is its
 * description, *out_sent_by_us whether we sent it. */
MOAT_API bool moat_conn_alert(const moat_conn *conn, int *out_alert,
                              bool *out_sent_by_us);

MOAT_API int moat_conn_version(const moat_conn *conn);
MOAT_API const char *moat_conn_version_name(const moat_conn *conn);
MOAT_API const char *moat_conn_cipher_name(const moat_conn *conn);
MOAT_API const char *moat_conn_cipher_openssl_name(const moat_conn *conn);
MOAT_API int moat_conn_cipher_bits(const moat_conn *conn);
MOAT_API const char *moat_conn_group_name(const moat_conn *conn);
/* The signature scheme the peer signed its CertificateVerify with, and the
 * one we used. */
MOAT_API const char *moat_conn_peer_sigalg_name(const moat_conn *conn);
MOAT_API const char *moat_conn_sigalg_name(const moat_conn *conn);
MOAT_API const char *moat_conn_alpn(const moat_conn *conn);
/* Server side: the SNI the client sent, or NULL. */
MOAT_API const char *moat_conn_server_name(const moat_conn *conn);
MOAT_API bool moat_conn_session_reused(const moat_conn *conn);
MOAT_API bool moat_conn_hello_retry(const moat_conn *conn);
/* TLS 1.2: how many renegotiations the peer asked for (a HelloRequest, or
 * a ClientHello after the handshake); each got a no_renegotiation warning
 * and the connection went on (RFC 5746 4.5).  0 for TLS 1.3. */
MOAT_API uint32_t moat_conn_renegotiations_refused(const moat_conn *conn);
/* Whether the connection's keys are bound to its whole handshake: the
 * extended master secret in TLS 1.2 (RFC 7627; a peer without it may be
 * allowed, moat_context_set_require_ems), always in TLS 1.3.  false
 * before the handshake ends. */
MOAT_API bool moat_conn_extended_master_secret(const moat_conn *conn);

/* The peer's chain as sent (index 0 is the leaf). */
MOAT_API size_t moat_conn_peer_chain_len(const moat_conn *conn);
MOAT_API moat_err moat_conn_peer_cert_der(const moat_conn *conn, size_t index,
                                          const uint8_t **out_der,
                                          size_t *out_len);
/* The chain verification built (leaf to anchor); empty when unverified.
 * The bytes stay valid as long as the connection (the anchor's are the
 * trust store's own, which the connection keeps alive). */
MOAT_API size_t moat_conn_verified_chain_len(const moat_conn *conn);
MOAT_API moat_err moat_conn_verified_cert_der(const moat_conn *conn,
                                              size_t index,
                                              const uint8_t **out_der,
                                              size_t *out_len);
/* Verification result: X509_V_ERR-compatible code (0 = ok) and message
 * ("ok" when verification passed or has not run). */
MOAT_API long moat_conn_verify_code(const moat_conn *conn);
MOAT_API const char *moat_conn_verify_message(const moat_conn *conn);
/* When verification refused a certificate: its depth in the chain
 * verification built (0 is the peer's leaf, as OpenSSL's
 * X509_STORE_CTX_get_error_depth) and its subject as text
 * in the certificate's order ("C=US, O=Example, CN=example.com"; "" for an
 * empty subject).  -1 and NULL when
 * verification passed or has not run, and when the verify callback
 * refused a chain with a code of its own. */
MOAT_API int moat_conn_verify_error_depth(const moat_conn *conn);
MOAT_API const char *moat_conn_verify_error_subject(const moat_conn *conn);

/* ---- sessions (TLS 1.3 tickets, RFC 8446 4.6.1 and 2.2)
 * ----------------------*/

/* A client's connection keeps the newest ticket the server sent; take it
 * after the handshake (and after reading, since tickets arrive after the
 * handshake) and offer it on a later connection to resume with
 * PSK + (EC)DHE.  NULL when no ticket arrived.  The caller frees it. */
MOAT_API moat_session *moat_conn_get_session(moat_conn *conn);
/* Client, before the handshake.  The connection keeps a reference. */
MOAT_API moat_err moat_conn_set_session(moat_conn *conn, moat_session *session);
MOAT_API void moat_session_free(moat_session *session);
/* Creation time (seconds since the epoch) and lifetime in seconds. */
MOAT_API int64_t moat_session_time(const moat_session *session);
MOAT_API uint32_t moat_session_lifetime(const moat_session *session);
MOAT_API const char *moat_session_cipher_name(const moat_session *session);
/* Serialise to bytes and back (the bytes hold a secret: keep them safe). */
MOAT_API moat_err moat_session_to_bytes(const moat_session *session,
                                        uint8_t *out, size_t cap,
                                        size_t *out_len);
MOAT_API moat_err moat_session_from_bytes(const uint8_t *data, size_t len,
                                          moat_session **out);

/* ---- certificates ---------------------------------------------------------*/

/* A parsed certificate (an immutable view over its DER). */
MOAT_API moat_err moat_cert_from_der(const uint8_t *der, size_t len,
                                     moat_cert **out);
/* Parses the first certificate in PEM text. */
MOAT_API moat_err moat_cert_from_pem(const uint8_t *pem, size_t len,
                                     moat_cert **out);
/* For showing a certificate (Python's getpeercert / _test_decode_cert):
 * as the two above, but a malformed extension that is not critical is
 * left out instead of refusing the certificate, as OpenSSL shows it
 * (RFC 5280 violations such as an empty GeneralNames or
 * DistributionPoint); moat_cert_dropped_extensions counts them.  Never
 * base trust on such a view: moat's verifier always parses strictly, and
 * moat_ocsp_check refuses certificates with dropped extensions. */
MOAT_API moat_err moat_cert_from_der_lenient(const uint8_t *der, size_t len,
                                             moat_cert **out);
MOAT_API moat_err moat_cert_from_pem_lenient(const uint8_t *pem, size_t len,
                                             moat_cert **out);
MOAT_API size_t moat_cert_dropped_extensions(const moat_cert *cert);
MOAT_API void moat_cert_free(moat_cert *cert);
MOAT_API void moat_cert_der(const moat_cert *cert, const uint8_t **out_der,
                            size_t *out_len);
/* Text accessors write a NUL-terminated string (truncated to cap) and
 * return the full length needed. */
MOAT_API size_t moat_cert_subject(const moat_cert *cert, char *out, size_t cap);
MOAT_API size_t moat_cert_issuer(const moat_cert *cert, char *out, size_t cap);
MOAT_API size_t moat_cert_serial_hex(const moat_cert *cert, char *out,
                                     size_t cap);
MOAT_API int64_t moat_cert_not_before(const moat_cert *cert);
MOAT_API int64_t moat_cert_not_after(const moat_cert *cert);
MOAT_API size_t moat_cert_num_san(const moat_cert *cert);
/* SAN i as "DNS:name", "IP:addr", "email:x", "URI:x", "DirName:..." */
MOAT_API size_t moat_cert_san(const moat_cert *cert, size_t i, char *out,
                              size_t cap);
/* "RSA", "EC", "Ed25519", "Ed448", "RSA-PSS" and size in bits */
MOAT_API const char *moat_cert_key_type(const moat_cert *cert);
MOAT_API int moat_cert_key_bits(const moat_cert *cert);
/* SHA-256 fingerprint of the DER (32 bytes). */
MOAT_API moat_err moat_cert_fingerprint_sha256(const moat_cert *cert,
                                               uint8_t out[32]);
MOAT_API size_t moat_cert_to_pem(const moat_cert *cert, char *out, size_t cap);

/* ---- object identifiers (src/x509/oid.c) ----------------------------------
 * moat's table of well-known OIDs with OpenSSL's numbers (NIDs) and names,
 * which Python's ssl reports (txt2obj, nid2obj, getpeercert's keys). */

typedef struct moat_oid_info {
  int nid;                /* OpenSSL's NID */
  const char *short_name; /* "CN", "serverAuth" */
  const char *long_name;  /* "commonName", "TLS Web Server Authentication" */
  const char *dotted;     /* "2.5.4.3" */
} moat_oid_info;
MOAT_API const moat_oid_info *moat_oid_by_nid(int nid);
/* By short or long name. */
MOAT_API const moat_oid_info *moat_oid_by_name(const char *name);
MOAT_API const moat_oid_info *moat_oid_by_dotted(const char *dotted);
/* Whether text is a dotted OID (X.660: first arc 0..2, two arcs or more). */
MOAT_API bool moat_oid_dotted_valid(const char *dotted);
/* Dotted text of OID contents octets; returns the full length needed. */
MOAT_API size_t moat_oid_text(const uint8_t *oid, size_t len, char *out,
                              size_t cap);

/* ---- certificate details (src/x509/cert_info.c) ---------------------------
 * What Python's getpeercert() reports: names as sequences of RDNs, typed
 * subjectAltName entries, authorityInfoAccess and CRL distribution points.
 * Pointers point into the certificate's DER and live as long as it. */

MOAT_API int moat_cert_version(const moat_cert *cert); /* 1, 2 or 3 */
/* basicConstraints cA is true. */
MOAT_API bool moat_cert_is_ca(const moat_cert *cert);
/* The subject / issuer Name elements (DER, header included). */
MOAT_API void moat_cert_subject_der(const moat_cert *cert,
                                    const uint8_t **out_der, size_t *out_len);
MOAT_API void moat_cert_issuer_der(const moat_cert *cert,
                                   const uint8_t **out_der, size_t *out_len);

/* One attribute of a Name. */
typedef struct moat_name_attr {
  size_t rdn;             /* which RDN (SET) of the Name holds it, from 0 */
  char oid[64];           /* dotted */
  const char *long_name;  /* "commonName"; NULL when not in the OID table */
  const char *short_name; /* "CN" */
  char value[1024];       /* UTF-8, NUL-terminated; may hold NULs */
  size_t value_len;
} moat_name_attr;
/* The attributes of a Name element (the DER of moat_cert_subject_der, or a
 * directoryName of moat_cert_san_at), in order. */
MOAT_API size_t moat_name_num_attrs(const uint8_t *name, size_t len);
MOAT_API moat_err moat_name_attr_at(const uint8_t *name, size_t len,
                                    size_t index, moat_name_attr *out);

/* GeneralName kinds (RFC 5280 4.2.1.6). */
typedef enum moat_gn_type {
  MOAT_GN_OTHER,   /* otherName */
  MOAT_GN_EMAIL,   /* rfc822Name: data is the IA5String */
  MOAT_GN_DNS,     /* dNSName */
  MOAT_GN_X400,    /* x400Address */
  MOAT_GN_DIRNAME, /* directoryName: data is a Name element */
  MOAT_GN_EDI,     /* ediPartyName */
  MOAT_GN_URI,     /* uniformResourceIdentifier */
  MOAT_GN_IP,      /* iPAddress: 4 or 16 octets */
  MOAT_GN_RID,     /* registeredID: OID contents (moat_oid_text) */
} moat_gn_type;
typedef struct moat_general_name {
  moat_gn_type type;
  const uint8_t *data;
  size_t len;
} moat_general_name;
/* The index-th subjectAltName entry; MOAT_ERR_INVALID_ARGUMENT past the
 * end. */
MOAT_API moat_err moat_cert_san_at(const moat_cert *cert, size_t index,
                                   moat_general_name *out);
typedef enum moat_aia_method {
  MOAT_AIA_OCSP,
  MOAT_AIA_CA_ISSUERS,
  MOAT_AIA_OTHER,
} moat_aia_method;
/* The index-th authorityInfoAccess AccessDescription (RFC 5280 4.2.2.1). */
MOAT_API moat_err moat_cert_aia_at(const moat_cert *cert, size_t index,
                                   moat_aia_method *out_method,
                                   moat_general_name *out_location);
/* The index-th fullName entry over all CRL distribution points (RFC 5280
 * 4.2.1.13). */
MOAT_API moat_err moat_cert_crldp_at(const moat_cert *cert, size_t index,
                                     moat_general_name *out);

/* ---- ciphers, statistics, verification text (src/tls/ctx_options.c) ------*/

/* A cipher suite as OpenSSL's SSL_CIPHER describes it (Python's
 * get_ciphers()). */
typedef struct moat_cipher_info {
  uint32_t id;              /* 0x0300 << 16 | IANA code, as OpenSSL */
  const char *name;         /* IANA */
  const char *openssl_name; /* "ECDHE-RSA-AES128-GCM-SHA256" */
  const char *protocol;     /* "TLSv1.2" / "TLSv1.3" */
  const char *description;  /* OpenSSL's one-line description */
  int bits;
  bool aead;
  const char *symmetric; /* "aes-128-gcm" */
  const char *digest;    /* NULL for AEAD suites */
  const char *kea;       /* "kx-ecdhe", "kx-any" */
  const char *auth;      /* "auth-rsa", "auth-any" */
} moat_cipher_info;

/* OpenSSL's cipher-string grammar over moat's TLS 1.2 suites (TLS 1.3
 * suites are set with moat_context_set_ciphersuites, as in OpenSSL):
 * names and aliases (DEFAULT, ALL, HIGH, ECDHE, AESGCM, CHACHA20, aRSA,
 * aECDSA, AES128, SHA256, ...) joined with '+', the prefixes '!', '-' and
 * '+', @STRENGTH and @SECLEVEL=n.  MOAT_ERR_INVALID_ARGUMENT ("no cipher
 * can be selected") when nothing is left; nothing changes then. */
MOAT_API moat_err moat_context_set_cipher_list(moat_context *ctx,
                                               const char *spec);
/* The TLS 1.2 suites the last cipher list selected (IANA codes). */
MOAT_API size_t moat_context_tls12_suites(const moat_context *ctx,
                                          uint16_t *out, size_t cap);
/* The index-th enabled suite: TLS 1.3 ones first, then TLS 1.2.  false
 * past the end. */
MOAT_API bool moat_context_cipher(const moat_context *ctx, size_t index,
                                  moat_cipher_info *out);
/* Server, after the handshake: the index-th suite both sides enable. */
MOAT_API bool moat_conn_shared_cipher(const moat_conn *conn, size_t index,
                                      moat_cipher_info *out);

/* Session statistics of a context (OpenSSL's SSL_CTX_sess_* counters). */
typedef struct moat_session_stats {
  uint64_t connect;      /* client handshakes started */
  uint64_t connect_good; /* client handshakes completed */
  uint64_t accept;       /* server handshakes started */
  uint64_t accept_good;  /* server handshakes completed */
  uint64_t hits;         /* handshakes that resumed a session */
  uint64_t misses;       /* offered sessions that were not resumed */
  uint64_t timeouts;     /* offered sessions that had expired */
  uint64_t number;       /* sessions in the TLS 1.2 session-ID cache */
  uint64_t cache_full;   /* cached sessions pushed out by newer ones */
} moat_session_stats;
MOAT_API void moat_context_session_stats(const moat_context *ctx,
                                         moat_session_stats *out);

/* OpenSSL's text for an X509_V_ERR code ("certificate has expired"). */
MOAT_API const char *moat_verify_code_text(long code);

/* Fill out with len bytes from the system's CSPRNG (via libcrypto). */
MOAT_API moat_err moat_random_bytes(uint8_t *out, size_t len);

/* tls-unique (RFC 5929): the first Finished of the handshake.  RFC 9266
 * leaves it undefined for TLS 1.3 (use tls-exporter there); moat gives
 * OpenSSL's value, which Python's ssl reports: the client's Finished of a
 * full handshake, the server's of a resumed one.  MOAT_ERR_BAD_STATE
 * before the handshake. */
MOAT_API moat_err moat_conn_tls_unique(const moat_conn *conn, uint8_t *out,
                                       size_t cap, size_t *out_len);

/* Keying material exporter: RFC 8446 7.5 for TLS 1.3, RFC 5705 for
 * TLS 1.2 (as OpenSSL's SSL_export_keying_material; use_context false
 * leaves the context out, which TLS 1.3 treats as empty).  out_len bytes
 * into out.  RFC 9266's tls-exporter is label "EXPORTER-Channel-Binding",
 * no context, 32 bytes. */
MOAT_API moat_err moat_conn_export_keying_material(
    moat_conn *conn, const char *label, const uint8_t *context,
    size_t context_len, bool use_context, uint8_t *out, size_t out_len);

/* Server: request a certificate after the handshake (RFC 8446 4.6.2).
 * MOAT_ERR_UNSUPPORTED: post-handshake authentication is not in the
 * engine yet. */
MOAT_API moat_err moat_conn_verify_client_post_handshake(moat_conn *conn);

/* A session's identity (Python's SSLSession.id): the TLS 1.2 session ID,
 * or for a ticket its SHA-256.  A TLS 1.2 session resumed by ticket keeps
 * the name it had (moat_conn_get_session after the resumption), though
 * the server may have sent a new ticket. */
MOAT_API moat_err moat_session_id(const moat_session *session, uint8_t out[32],
                                  size_t *out_len);

/* Server: whether a client's ALPN list with nothing in common with ours
 * fails the handshake with no_application_protocol (RFC 7301 3.2; the
 * default) or goes on without ALPN (what Python's ssl does on OpenSSL). */
MOAT_API void moat_context_set_alpn_required(moat_context *ctx, bool required);

/* Certificate compression (RFC 8879, TLS 1.3 only): the algorithms this
 * context offers and accepts, most preferred first, as names separated by
 * ':' from "zstd", "brotli" and "zlib".  A client lists them in its
 * ClientHello, a server that requests client certificates in its
 * CertificateRequest; the peer then may send its certificate compressed
 * with one of them, and moat compresses its own with the first of its
 * list that the peer offered.  The default is every algorithm moat was
 * built with ("zlib:brotli:zstd"); "" or NULL turns compression off.  A
 * name moat does not know or was built without is MOAT_ERR_UNSUPPORTED
 * and leaves the setting as it was. */
MOAT_API moat_err moat_context_set_cert_compression(moat_context *ctx,
                                                    const char *algs);
/* An algorithm of the application's own (RFC 8879 7.3 code point alg),
 * offered and accepted after the context's others.  compress writes the
 * compressed form of in into out[0..cap) (cap is in_len + 1024) and
 * returns its length, or 0 to send that certificate uncompressed;
 * decompress must fill exactly out[0..out_len) (the length the peer
 * announced, at most 256 KiB) from in, or return false, which fails the
 * handshake with bad_certificate.  Both may be called from any thread;
 * a server calls compress once per chain and context setting (the result
 * is kept).  A code point already listed, or a ninth algorithm, is
 * MOAT_ERR_INVALID_ARGUMENT; moat_context_set_cert_compression drops the
 * added ones. */
typedef struct moat_cert_compressor {
  uint16_t alg;
  size_t (*compress)(void *arg, const uint8_t *in, size_t in_len, uint8_t *out,
                     size_t cap);
  bool (*decompress)(void *arg, const uint8_t *in, size_t in_len, uint8_t *out,
                     size_t out_len);
  void *arg;
} moat_cert_compressor;
MOAT_API moat_err moat_context_add_cert_compressor(
    moat_context *ctx, const moat_cert_compressor *c);
/* The algorithms moat was built with, in its order of preference, as the
 * setter takes them ("zlib:brotli:zstd"; "" with none). */
MOAT_API const char *moat_cert_compression_available(void);
/* The RFC 8879 code point (1 zlib, 2 brotli, 3 zstd) the peer's
 * certificate came compressed with on this connection, or 0 when it came
 * uncompressed or not at all. */
MOAT_API uint16_t moat_conn_peer_cert_compression(const moat_conn *conn);
/* The same for the certificate this side sent. */
MOAT_API uint16_t moat_conn_cert_compression(const moat_conn *conn);
/* "zlib", "brotli", "zstd", or NULL for any other code point. */
MOAT_API const char *moat_cert_compression_name(uint16_t alg);

/* The libcrypto under moat: its version text ("OpenSSL 3.0.19 27 Jan 2026")
 * and number (OpenSSL's 0xMNN00PP0L layout). */
MOAT_API const char *moat_crypto_version(void);
MOAT_API unsigned long moat_crypto_version_number(void);

/* From inside an SNI callback: the alert the handshake fails with when
 * the callback returns an error (unrecognized_name when not set). */
MOAT_API void moat_conn_set_sni_alert(moat_conn *conn, int alert);

/* The signature algorithm with its hash: "ECDSA with SHA-256", "RSA
 * PKCS#1 v1.5 with SHA-256", "RSASSA-PSS with SHA-256 (MGF1 SHA-256, salt
 * 32)", "Ed25519", or "unsupported algorithm OID"; returns the length
 * needed, like the other text accessors. */
MOAT_API size_t moat_cert_signature_name(const moat_cert *cert, char *out,
                                         size_t cap);
/* Every extension, in order: its OID in dotted form, the name of those
 * moat decodes ("basicConstraints"; NULL for one it does not) and its
 * critical flag.  MOAT_ERR_INVALID_ARGUMENT past the last. */
MOAT_API size_t moat_cert_num_extensions(const moat_cert *cert);
MOAT_API moat_err moat_cert_extension_at(const moat_cert *cert, size_t index,
                                         char *oid_out, size_t oid_cap,
                                         const char **out_name,
                                         bool *out_critical);

/* The value of extension index as text, for those moat renders: basic
 * constraints ("CA:TRUE, pathlen:0"), key usage ("digitalSignature
 * keyCertSign"), extended key usage ("serverAuth clientAuth"), name
 * constraints ("permitted excluded"), the key identifiers (hex); "" for
 * the others (subjectAltName has moat_cert_san). */
MOAT_API size_t moat_cert_extension_text(const moat_cert *cert, size_t index,
                                         char *out, size_t cap);

/* Reads the next certificate of PEM text: the first CERTIFICATE block at
 * or after *io_offset, which then moves past it (other blocks, such as a
 * private key kept in the same file, are skipped).  At the end of the text
 * *out is NULL and the call returns MOAT_OK.  A damaged block is
 * MOAT_ERR_BAD_PEM; a block that holds no parsable certificate is
 * MOAT_ERR_BAD_CERTIFICATE, with *io_offset past it so reading can go on. */
MOAT_API moat_err moat_cert_from_pem_next(const uint8_t *pem, size_t len,
                                          size_t *io_offset, moat_cert **out);
/* Whether der is a certificate moat can parse: MOAT_OK, or the error
 * (MOAT_ERR_BAD_CERTIFICATE, MOAT_ERR_INVALID_ARGUMENT for no bytes) with
 * the reason in out (NUL-terminated, truncated to cap). */
MOAT_API moat_err moat_cert_check_der(const uint8_t *der, size_t len, char *out,
                                      size_t cap);

/* ---- verifying a chain outside a handshake --------------------------------*/

typedef struct moat_verify_result moat_verify_result;

/* Verifies a chain as a handshake on a connection of ctx would verify the
 * peer's: certs[0] is the leaf, the others untrusted intermediates in any
 * order; ctx's trust anchors and CRLs, verify flags, clock and
 * hostname_checks_common_name apply, and the purpose follows ctx's role (a
 * client context checks a server certificate, a server context a client
 * certificate).  hostname (a DNS name or an IP literal), when not NULL,
 * must match the leaf; NULL checks no name.  The verify mode is not
 * consulted: the chain is always checked.
 *
 * Returns MOAT_OK when the chain verifies, or the error a handshake would
 * fail with (MOAT_ERR_CERT_VERIFY_FAILED, MOAT_ERR_HOSTNAME_MISMATCH, ...);
 * either way *out_result explains (free it with moat_verify_result_free).
 * Bad arguments and running out of memory leave *out_result NULL. */
MOAT_API moat_err moat_verify_chain(const moat_context *ctx,
                                    const uint8_t *const *certs,
                                    const size_t *cert_lens, size_t num_certs,
                                    const char *hostname,
                                    moat_verify_result **out_result);
MOAT_API void moat_verify_result_free(moat_verify_result *result);
/* The status moat_verify_chain returned. */
MOAT_API moat_err moat_verify_result_error(const moat_verify_result *result);
/* X509_V_ERR-compatible code (0 = ok), as moat_conn_verify_code. */
MOAT_API long moat_verify_result_code(const moat_verify_result *result);
/* "ok", or what failed, with the certificate and its depth: the text a
 * failed handshake's detail gives after "certificate verify failed: ". */
MOAT_API const char *
moat_verify_result_message(const moat_verify_result *result);
/* Depth of the certificate that failed (0 = the leaf). */
MOAT_API int moat_verify_result_depth(const moat_verify_result *result);
/* The chain that verified, leaf to anchor (empty when it failed); the
 * bytes live as long as the result. */
MOAT_API size_t moat_verify_result_chain_len(const moat_verify_result *result);
MOAT_API moat_err moat_verify_result_cert_der(const moat_verify_result *result,
                                              size_t index,
                                              const uint8_t **out_der,
                                              size_t *out_len);

/* ---- OCSP responses (src/x509/ocsp.c) -------------------------------------
 * An OCSP response (RFC 6960, the DER a responder sends or a server
 * staples) checked for one certificate: signed by its issuer or by a
 * responder certificate the issuer made for OCSP signing, current, and
 * about that certificate. */

typedef enum moat_ocsp_status {
  MOAT_OCSP_NO_STATUS, /* the response was refused: see the message */
  MOAT_OCSP_GOOD,
  MOAT_OCSP_REVOKED,
  MOAT_OCSP_UNKNOWN, /* the responder does not know the certificate */
} moat_ocsp_status;

typedef struct moat_ocsp_result moat_ocsp_result;

/* Checks the response der about leaf, which issuer issued (pass the
 * issuer of a verified chain: the response is checked against its name
 * and key), as of now (seconds since the epoch; 0 for the current time).
 * Returns MOAT_OK when the certificate is good;
 * MOAT_ERR_CERT_VERIFY_FAILED when it is revoked (code 23, the message
 * gives the revocation time and reason) or unknown to the responder
 * (code 75); MOAT_ERR_BAD_OCSP_RESPONSE (code 74) when the response is
 * refused: malformed (the message says where), not successful, not
 * signed by the issuer or an authorised responder, not yet valid, expired,
 * about another certificate, or with an unhandled critical extension;
 * MOAT_ERR_INVALID_ARGUMENT when issuer's subject is not leaf's issuer
 * or either came from a lenient decode that dropped an extension.
 * *out_result explains (free it with moat_ocsp_result_free); bad
 * arguments and running out of memory leave it NULL. */
MOAT_API moat_err moat_ocsp_check(const uint8_t *der, size_t len,
                                  const moat_cert *leaf,
                                  const moat_cert *issuer, int64_t now,
                                  moat_ocsp_result **out_result);
MOAT_API void moat_ocsp_result_free(moat_ocsp_result *result);
/* The status moat_ocsp_check returned. */
MOAT_API moat_err moat_ocsp_result_error(const moat_ocsp_result *result);
MOAT_API moat_ocsp_status
moat_ocsp_result_status(const moat_ocsp_result *result);
/* X509_V_ERR-compatible code: 0, 23 revoked, 74 refused, 75 unknown. */
MOAT_API long moat_ocsp_result_code(const moat_ocsp_result *result);
/* "ok", or what was found or refused. */
MOAT_API const char *moat_ocsp_result_message(const moat_ocsp_result *result);
/* Times of the SingleResponse used (seconds since the epoch); 0 when the
 * response was refused before it was found, and nextUpdate 0 when the
 * response has none. */
MOAT_API int64_t moat_ocsp_result_produced_at(const moat_ocsp_result *result);
MOAT_API int64_t moat_ocsp_result_this_update(const moat_ocsp_result *result);
MOAT_API int64_t moat_ocsp_result_next_update(const moat_ocsp_result *result);
/* For a revoked certificate: when, and the CRLReason (RFC 5280 5.3.1;
 * 1 = keyCompromise), -1 when the response gives none.  0 and -1 for
 * other results. */
MOAT_API int64_t
moat_ocsp_result_revocation_time(const moat_ocsp_result *result);
MOAT_API int moat_ocsp_result_revocation_reason(const moat_ocsp_result *result);
/* "keyCompromise", ...; "unknown reason" for a value with no name. */
MOAT_API const char *moat_ocsp_reason_name(int reason);

/* ---- Encrypted Client Hello keys (RFC 9849; src/tls/ech_api.c) -----------
 *
 * ECH keys and their ECHConfigLists, made, read and written in the PEM
 * layout of OpenSSL 4.0's `openssl ech` (a "PRIVATE KEY" block, PKCS#8 of
 * an X25519 key, then an "ECHCONFIG" block holding the ECHConfigList), so
 * a file made by either tool loads in the other.  The handshake does not
 * offer or accept ECH yet (docs/ech.md). */

typedef struct moat_ech_keys moat_ech_keys;

/* A fresh X25519 key (HPKE KEM 0x0020) and an ECHConfigList of one
 * version 0xfe0d config for it, offering HKDF-SHA256 with AES-128-GCM,
 * AES-256-GCM and ChaCha20-Poly1305 and no extensions.  config_id is 0 to
 * 255, or -1 for a random one; max_name_len (0 to 255) is the config's
 * maximum_name_length (0: unknown).  A public_name a client would have to
 * ignore (RFC 9849 6.1.7: not a DNS name of LDH labels, or ending in a
 * label that reads as an IPv4 number) is MOAT_ERR_INVALID_ARGUMENT, with
 * the reason in detail. */
MOAT_API moat_err moat_ech_keys_generate(const char *public_name, int config_id,
                                         int max_name_len, moat_ech_keys **out,
                                         char *detail, size_t detail_cap);
/* Reads a key file (or its text): a PRIVATE KEY block and an ECHCONFIG
 * block, or the ECHCONFIG block alone (configs without a key).
 * MOAT_ERR_FILE_ERROR, MOAT_ERR_BAD_PEM, MOAT_ERR_BAD_KEY,
 * MOAT_ERR_UNSUPPORTED (a key that is not X25519), MOAT_ERR_DECODE_ERROR
 * (a malformed ECHConfigList), MOAT_ERR_KEY_MISMATCH (no config carries the
 * key's public key); detail says which. */
MOAT_API moat_err moat_ech_keys_load(const char *path, moat_ech_keys **out,
                                     char *detail, size_t detail_cap);
MOAT_API moat_err moat_ech_keys_from_pem(const uint8_t *pem, size_t len,
                                         moat_ech_keys **out, char *detail,
                                         size_t detail_cap);
MOAT_API void moat_ech_keys_free(moat_ech_keys *keys);
MOAT_API bool moat_ech_keys_has_private_key(const moat_ech_keys *keys);
/* The key file's text; returns its length and writes it with a NUL when
 * cap is larger.  It holds the private key: wipe what you copy. */
MOAT_API size_t moat_ech_keys_pem(const moat_ech_keys *keys, char *out,
                                  size_t cap);
/* Writes the key file text to a new file of mode 0600 (an existing path is
 * MOAT_ERR_FILE_ERROR unless overwrite). */
MOAT_API moat_err moat_ech_keys_write(const moat_ech_keys *keys,
                                      const char *path, bool overwrite,
                                      char *detail, size_t detail_cap);
/* The ECHConfigList (its 2-byte length included), valid while keys is. */
MOAT_API const uint8_t *moat_ech_keys_config_list(const moat_ech_keys *keys,
                                                  size_t *out_len);
/* The same as one line of base64, the form ECH configs are handed to
 * clients in; returns the length and writes it with a NUL when cap is
 * larger. */
MOAT_API size_t moat_ech_keys_config_list_base64(const moat_ech_keys *keys,
                                                 char *out, size_t cap);
/* The configs in the list, and a line about one of them: "config_id 88
 * (0x58), version 0xfe0d, KEM 0x0020 DHKEM(X25519, HKDF-SHA256), public
 * key c858..., suites [HKDF-SHA256 AES-128-GCM], maximum_name_length 0,
 * public_name example.com, no extensions: usable" (or "not usable: why").
 * Returns the length as moat_ech_keys_pem does; 0 for an index past the
 * end. */
MOAT_API size_t moat_ech_keys_num_configs(const moat_ech_keys *keys);
MOAT_API size_t moat_ech_keys_config_text(const moat_ech_keys *keys,
                                          size_t index, char *out, size_t cap);
/* ---- OCSP stapling (src/tls/stapling.c) -----------------------------------
 * RFC 6066 8 (TLS 1.2 CertificateStatus) and RFC 8446 4.4.2.1 (TLS 1.3
 * status_request in the leaf's CertificateEntry). */

typedef enum moat_ocsp_stapling {
  MOAT_OCSP_STAPLING_OFF,     /* client: do not ask (the default) */
  MOAT_OCSP_STAPLING_REQUEST, /* ask; a stapled response that is refused
                                 or says revoked fails the handshake, none
                                 or one that says unknown does not */
  MOAT_OCSP_STAPLING_REQUIRE, /* ask, and fail the handshake unless the
                                 server staples a response saying good */
} moat_ocsp_stapling;
/* Client: whether to ask servers for a stapled OCSP response and how to
 * treat it.  The response is checked as moat_ocsp_check would against
 * the verified chain's leaf and its issuer, at the context's clock; not
 * at all with MOAT_VERIFY_NONE.  Failures: MOAT_ERR_CERT_VERIFY_FAILED
 * with code 23 and the certificate_revoked alert for a revoked
 * certificate; MOAT_ERR_BAD_OCSP_RESPONSE with the
 * bad_certificate_status_response alert for a refused response, or
 * (REQUIRE) none, or one that does not say good. */
MOAT_API void moat_context_set_ocsp_stapling(moat_context *ctx,
                                             moat_ocsp_stapling mode);
/* Server: an OCSP response (DER) to staple when a client asks.  It goes
 * with the loaded chain whose leaf it is about (serial number and issuer
 * name), so load the chains first; loading a chain of the same key type
 * again drops it.  MOAT_ERR_BAD_OCSP_RESPONSE (the reason in
 * moat_context_error_detail) when it does not parse, is not successful or
 * is about none of the loaded certificates.  Whether it is current and
 * properly signed is for the client to judge: refresh it before its
 * nextUpdate. */
MOAT_API moat_err moat_context_set_ocsp_response(moat_context *ctx,
                                                 const uint8_t *der,
                                                 size_t len);
/* Server: staple nothing any more. */
MOAT_API moat_err moat_context_clear_ocsp_responses(moat_context *ctx);
/* Client, after the certificate arrived: what the stapled response said
 * (MOAT_OCSP_NO_STATUS when there was none, it was not checked or it was
 * refused), and its bytes (MOAT_ERR_BAD_STATE when none was stapled; they
 * live as long as the connection). */
MOAT_API moat_ocsp_status moat_conn_ocsp_status(const moat_conn *conn);
MOAT_API moat_err moat_conn_ocsp_response(const moat_conn *conn,
                                          const uint8_t **out_der,
                                          size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
