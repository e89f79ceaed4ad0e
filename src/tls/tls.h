/* The TLS engine's private types: context, connection, handshake state. */
#ifndef MOAT_TLS_H
#define MOAT_TLS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/builder.h"
#include "base/cursor.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "moat.h"

/* RFC 8446 5.1 content types */
#define CT_CHANGE_CIPHER_SPEC 20
#define CT_ALERT 21
#define CT_HANDSHAKE 22
#define CT_APPLICATION_DATA 23

/* RFC 8446 4 / RFC 5246 7.4 handshake types */
#define HT_HELLO_REQUEST 0
#define HT_CLIENT_HELLO 1
#define HT_SERVER_HELLO 2
#define HT_NEW_SESSION_TICKET 4
#define HT_END_OF_EARLY_DATA 5
#define HT_ENCRYPTED_EXTENSIONS 8
#define HT_CERTIFICATE 11
#define HT_SERVER_KEY_EXCHANGE 12
#define HT_CERTIFICATE_REQUEST 13
#define HT_SERVER_HELLO_DONE 14
#define HT_CERTIFICATE_VERIFY 15
#define HT_CLIENT_KEY_EXCHANGE 16
#define HT_FINISHED 20
#define HT_KEY_UPDATE 24
#define HT_CERTIFICATE_STATUS 22     /* RFC 6066 8 */
#define HT_COMPRESSED_CERTIFICATE 25 /* RFC 8879 4 */
#define HT_MESSAGE_HASH 254

/* RFC 8446 4.2 extension types */
#define EXT_SERVER_NAME 0
#define EXT_MAX_FRAGMENT_LENGTH 1
#define EXT_STATUS_REQUEST 5
#define EXT_SUPPORTED_GROUPS 10
#define EXT_EC_POINT_FORMATS 11
#define EXT_SIGNATURE_ALGORITHMS 13
#define EXT_USE_SRTP 14
#define EXT_HEARTBEAT 15
#define EXT_ALPN 16
#define EXT_SCT 18
#define EXT_CLIENT_CERT_TYPE 19
#define EXT_SERVER_CERT_TYPE 20
#define EXT_PADDING 21
#define EXT_ENCRYPT_THEN_MAC 22
#define EXT_EXTENDED_MASTER_SECRET 23
#define EXT_COMPRESS_CERTIFICATE 27 /* RFC 8879 3 */
#define EXT_RECORD_SIZE_LIMIT 28
#define EXT_SESSION_TICKET 35
#define EXT_PRE_SHARED_KEY 41
#define EXT_EARLY_DATA 42
#define EXT_SUPPORTED_VERSIONS 43
#define EXT_COOKIE 44
#define EXT_PSK_KEY_EXCHANGE_MODES 45
#define EXT_CERTIFICATE_AUTHORITIES 47
#define EXT_OID_FILTERS 48
#define EXT_POST_HANDSHAKE_AUTH 49
#define EXT_SIGNATURE_ALGORITHMS_CERT 50
#define EXT_KEY_SHARE 51
#define EXT_RENEGOTIATION_INFO 0xff01

/* RFC 8446 6 alert descriptions */
#define ALERT_CLOSE_NOTIFY 0
#define ALERT_UNEXPECTED_MESSAGE 10
#define ALERT_BAD_RECORD_MAC 20
#define ALERT_RECORD_OVERFLOW 22
#define ALERT_HANDSHAKE_FAILURE 40
#define ALERT_BAD_CERTIFICATE 42
#define ALERT_UNSUPPORTED_CERTIFICATE 43
#define ALERT_CERTIFICATE_REVOKED 44
#define ALERT_CERTIFICATE_EXPIRED 45
#define ALERT_CERTIFICATE_UNKNOWN 46
#define ALERT_ILLEGAL_PARAMETER 47
#define ALERT_UNKNOWN_CA 48
#define ALERT_ACCESS_DENIED 49
#define ALERT_DECODE_ERROR 50
#define ALERT_DECRYPT_ERROR 51
#define ALERT_PROTOCOL_VERSION 70
#define ALERT_INSUFFICIENT_SECURITY 71
#define ALERT_INTERNAL_ERROR 80
#define ALERT_INAPPROPRIATE_FALLBACK 86
#define ALERT_USER_CANCELED 90
#define ALERT_NO_RENEGOTIATION 100
#define ALERT_MISSING_EXTENSION 109
#define ALERT_UNSUPPORTED_EXTENSION 110
#define ALERT_UNRECOGNIZED_NAME 112
#define ALERT_BAD_CERTIFICATE_STATUS_RESPONSE 113
#define ALERT_UNKNOWN_PSK_IDENTITY 115
#define ALERT_CERTIFICATE_REQUIRED 116
#define ALERT_NO_APPLICATION_PROTOCOL 120

#define TLS_MAX_PLAINTEXT 16384                         /* RFC 8446 5.1 */
#define TLS_MAX_CIPHERTEXT (TLS_MAX_PLAINTEXT + 256)    /* RFC 8446 5.2 */
#define TLS12_MAX_CIPHERTEXT (TLS_MAX_PLAINTEXT + 2048) /* RFC 5246 6.2.3 */
#define TLS_RECORD_HEADER 5
#define TLS_MAX_RECORD (TLS_RECORD_HEADER + TLS12_MAX_CIPHERTEXT)
/* The largest handshake message we accept (certificate chains). */
#define TLS_MAX_HANDSHAKE_MSG (256 * 1024)
#define TLS_RANDOM_LEN 32
#define TLS_MAX_SUITES 16
#define TLS_MAX_GROUPS 8
#define TLS_MAX_SIGALGS 16
#define TLS_MAX_ALPN_WIRE 1024
#define TLS_MAX_CHAIN 16
#define TLS_MAX_CERT_COMP 8 /* certificate compression algorithms */

/* A cipher suite: TLS 1.3 (RFC 8446 B.4) or TLS 1.2 ECDHE with an AEAD
 * (RFC 5289, RFC 7905). */
typedef enum suite_auth {
  AUTH_ANY,   /* TLS 1.3: the suite does not name the key */
  AUTH_ECDSA, /* TLS 1.2 ECDHE_ECDSA */
  AUTH_RSA,   /* TLS 1.2 ECDHE_RSA */
} suite_auth;

typedef struct tls_suite {
  uint16_t code;
  const char *name;         /* IANA */
  const char *openssl_name; /* OpenSSL spelling */
  aead_id aead;
  hash_id hash; /* the HKDF hash (1.3) or the PRF hash (1.2) */
  int bits;
  uint16_t version; /* MOAT_TLS1_3 or MOAT_TLS1_2 */
  suite_auth auth;
} tls_suite;

/* Whether a TLS 1.2 suite can be used with a key of this type. */
bool suite_fits_key(const tls_suite *suite, key_type key);
/* Suites moat recognises only to refuse them by name (CBC, RSA key
 * exchange, ...), or NULL. */
const char *suite_refused_name(uint16_t code);

const tls_suite *suite_by_code(uint16_t code);
const tls_suite *suite_by_name(const char *name);
const tls_suite *const *suite_all(size_t *out_num);

/* ---- certificate chains held by a connection ----------------------------- */

typedef struct der_entry {
  uint8_t *der;
  size_t len;
  bool owned;
} der_entry;

typedef struct der_chain {
  atomic_int refs; /* a session shares its connection's chain */
  size_t num;
  /* Entries neither owned nor the peer's point into this trust store's
   * certificates; the chain holds a reference to it. */
  struct x509_store *store;
  der_entry e[]; /* num entries */
} der_chain;

der_chain *chain_new(size_t num);
void chain_free(der_chain *chain);
/* Another reference (NULL for NULL); chain_free drops one. */
der_chain *chain_ref(der_chain *chain);

typedef struct sess_cache sess_cache;

/* ---- context --------------------------------------------------------------
 */

/* What every policy snapshot of one context shares: objects that are
 * made once with the context and are safe to use from many threads (each
 * has its own lock).  Freed, with the ticket keys wiped, when the context
 * and the last snapshot that refers to it are gone. */
typedef struct ctx_shared {
  atomic_int refs;
  pubkey_cache *key_cache; /* peer and issuer keys by SPKI */
  kex_pool *kex_pool;      /* keygen contexts kept for the next key share */

  /* session tickets: this context's ticket key (RFC 8446 4.6.1) */
  aead_ctx *ticket_aead;      /* seals */
  aead_ctx *ticket_aead_open; /* opens */
  pthread_mutex_t ticket_lock;
  uint8_t ticket_key_id[4];

  /* ctx_options.c: session statistics, counted by every snapshot's
   * connections */
  atomic_uint_least64_t st_connect, st_connect_good, st_accept, st_accept_good,
      st_hits, st_misses;
  sess_cache *sess_cache; /* TLS 1.2 session IDs (server) */
} ctx_shared;

/* An open key log file, shared by the snapshots made while it was set and
 * closed when the last of them is freed. */
typedef struct keylog_sink {
  atomic_int refs;
  FILE *file;
  pthread_mutex_t lock; /* one line at a time */
} keylog_sink;

/* One certificate chain (DER, leaf first, owned by the snapshot) and its
 * key (one reference).  A context holds one per key family (RSA, RSA-PSS,
 * EC, Ed25519, Ed448), as OpenSSL does: loading a chain replaces the one
 * of its key's family.  A server picks the one that fits the client's
 * signature_algorithms (and in TLS 1.2 the suite's authentication); a
 * client the one that fits the CertificateRequest. */
typedef struct tls_identity {
  uint8_t *chain_der[TLS_MAX_CHAIN];
  size_t chain_len[TLS_MAX_CHAIN];
  size_t chain_num;
  privkey *key;
  /* stapling.c: the OCSP response about the leaf to staple (owned), or
   * NULL */
  uint8_t *ocsp_der;
  size_t ocsp_len;
} tls_identity;
#define TLS_MAX_IDS 5

/* The policy a connection reads: an immutable, reference-counted snapshot
 * of its context.  A connection takes the context's current snapshot when
 * it is made (and at moat_conn_set_context) and reads it as conn->ctx; a
 * context setter builds a new snapshot and swaps it in, so no connection
 * ever sees a list change under it.  Nothing here is written after the
 * snapshot is published (policy_commit). */
typedef struct tls_policy {
  atomic_int refs;
  ctx_shared *shared; /* one reference */
  moat_role role;
  int min_version;
  int max_version;
  const tls_suite *suites[TLS_MAX_SUITES];
  size_t num_suites;
  const kex_alg *groups[TLS_MAX_GROUPS];
  size_t num_groups;
  const sig_scheme *sigalgs[TLS_MAX_SIGALGS]; /* what we sign with */
  size_t num_sigalgs;
  /* what we accept from the peer and advertise (signature_algorithms) */
  const sig_scheme *verify_sigalgs[TLS_MAX_SIGALGS];
  size_t num_verify_sigalgs;
  uint8_t alpn_wire[TLS_MAX_ALPN_WIRE]; /* ProtocolNameList contents */
  size_t alpn_wire_len;

  moat_verify_mode verify_mode;
  bool check_hostname;
  bool hostname_checks_common_name;
  uint32_t verify_flags;
  struct x509_store *store; /* one reference; never added to once shared */
  pubkey_cache *key_cache;  /* shared->key_cache */
  kex_pool *kex_pool;       /* shared->kex_pool */

  /* our certificate chains and keys, one per key family, in load order */
  tls_identity ids[TLS_MAX_IDS];
  size_t num_ids;

  moat_keylog_fn keylog_cb;
  void *keylog_arg;
  keylog_sink *keylog; /* one reference, or NULL */

  uint32_t ticket_lifetime;
  moat_sni_fn sni_cb;
  void *sni_arg;
  moat_verify_fn verify_cb;
  void *verify_arg;
  size_t max_fragment; /* plaintext bytes per record we send */
  /* RFC 8449: the record_size_limit we offer as a client (0: none); a
   * server answers a client's with it, or with the version's largest */
  uint16_t record_size_limit;
  size_t num_tickets;
  bool tickets;           /* session tickets: TLS 1.2's (RFC 5077), TLS 1.3's */
  bool require_ems;       /* refuse peers without RFC 7627 */
  sess_cache *sess_cache; /* shared->sess_cache */

  moat_clock_fn clock;
  void *clock_arg;
  moat_rng_fn rng;
  void *rng_arg;

  bool alpn_mismatch_ok; /* moat_context_set_alpn_required(ctx, false) */

  /* Certificate compression (RFC 8879): the algorithms offered and
   * accepted, most preferred first (none: off), and this snapshot's
   * compressed Certificate messages (cert_compression.c), made by the
   * first connection that sends one and reused by the next. */
  uint16_t cert_comp[TLS_MAX_CERT_COMP];
  size_t num_cert_comp;
  /* the application's own (moat_context_add_cert_compressor) */
  moat_cert_compressor cert_comp_custom[TLS_MAX_CERT_COMP];
  size_t num_cert_comp_custom;
  struct cert_comp_cache *cert_comp_cache;
  /* stapling.c: client, whether to ask for a stapled OCSP response and
   * how to treat it (RFC 6066 8, RFC 8446 4.4.2.1) */
  moat_ocsp_stapling ocsp_stapling;
} tls_policy;

/* The context handle: the current snapshot, swapped under lock. */
struct moat_context {
  atomic_int refs;
  moat_role role;
  pthread_mutex_t lock; /* serialises setters; guards pol, detail and the
                           password callback */
  tls_policy *pol;      /* the current snapshot (one reference) */
  ctx_shared *shared;   /* one reference */
  moat_password_fn password_cb;
  void *password_arg;
  char detail[MOAT_DETAIL_MAX];
};

moat_context *context_ref(moat_context *ctx);
/* A reference to ctx's current snapshot (taken under its lock). */
const tls_policy *context_policy(const moat_context *ctx);
/* A setter's private copy of the current snapshot (ctx locked), and its
 * publication (context.c). */
tls_policy *policy_edit(moat_context *ctx);
void policy_commit(moat_context *ctx, tls_policy *p);
void policy_free(const tls_policy *pol);
/* Randomness for values sent in the clear only (the default source is
 * crypto_random_public). */
bool ctx_random(const tls_policy *ctx, uint8_t *out, size_t len);
/* The types of our loaded keys for a message ("RSA", "EC and RSA"). */
void ctx_key_names(const tls_policy *ctx, char *buf, size_t cap);
int64_t ctx_now(const tls_policy *ctx);

/* ---- sessions
 * --------------------------------------------------------------*/

struct moat_session {
  atomic_int refs;
  uint16_t version; /* MOAT_TLS1_3 or MOAT_TLS1_2 */
  const tls_suite *suite;
  int64_t created;   /* seconds since the epoch */
  uint32_t lifetime; /* seconds */
  uint32_t age_add;
  /* TLS 1.3: the resumption PSK; TLS 1.2: the master secret (48 bytes) */
  uint8_t psk[HASH_MAX_LEN];
  size_t psk_len;
  bool ems; /* TLS 1.2: made with the extended master secret (RFC 7627) */
  /* The key-exchange group of the handshake that made the session, or
   * NULL: a resumed TLS 1.2 connection reports it (as OpenSSL and
   * BoringSSL do); TLS 1.3 resumption agrees a fresh one. */
  const kex_alg *group;
  uint8_t session_id[32]; /* TLS 1.2 session-ID resumption */
  size_t session_id_len;
  uint8_t *ticket;
  size_t ticket_len;
  bool ticket_inline; /* the ticket follows the struct in its allocation */
  /* client: the server's chain as sent and its verify result, so that a
   * resumed connection still shows the certificate (getpeercert) */
  struct der_chain *peer;
  long verify_code;
};

/* The TLS 1.2 session-ID cache (session_cache.c). */
sess_cache *sess_cache_new(size_t cap);
void sess_cache_free(sess_cache *c);
void sess_cache_set_size(sess_cache *c, size_t cap);
/* Whether the cache keeps sessions (its size is not 0). */
bool sess_cache_enabled(sess_cache *c);
/* Stores the state under its 32-byte session_id (no ticket is kept). */
bool sess_cache_put(sess_cache *c, const moat_session *s);
/* Copies a live session into *out (counting a hit, miss or timeout). */
bool sess_cache_get(sess_cache *c, const uint8_t *id, size_t id_len,
                    int64_t now, moat_session *out);
/* Fills the cache's counters of *out (number, cache_full, timeouts). */
void sess_cache_stats(sess_cache *c, moat_session_stats *out);
#define SESS_CACHE_DEFAULT 1024

/* Client: the session keeps conn's peer chain, verify result and group (or,
 * for a resumed connection without one, those of the resumed session);
 * false when out of memory. */
bool session_keep_peer(moat_session *s, const moat_conn *conn,
                       const moat_session *resumed);
/* Client, resuming: the session's chain becomes the connection's peer. */
bool session_restore_peer(moat_conn *conn, const moat_session *s);
moat_session *session_new(void);
/* A session whose ticket (len > 0 bytes) is copied into the same
 * allocation. */
moat_session *session_new_ticket(const uint8_t *ticket, size_t len);
moat_session *session_ref(moat_session *s);

/* Server: seal a ticket for the state; open one. */
moat_err ticket_seal(moat_conn *conn, const moat_session *state,
                     const uint8_t nonce[AEAD_NONCE_LEN], uint8_t *out,
                     size_t cap, size_t *out_len);
/* false when the ticket is not ours, damaged or expired. */
bool ticket_open(moat_conn *conn, const uint8_t *ticket, size_t len,
                 moat_session *out);
#define TICKET_MAX 256
#define TLS12_MASTER_LEN 48
#define TLS12_FINISHED_LEN 12 /* RFC 5246 7.4.9: verify_data */
/* Tickets per connection: one per value of the one-byte ticket nonce. */
#define TLS_MAX_TICKETS 256

/* ---- record layer ---------------------------------------------------------*/

/* How a direction protects records once keys are set. */
typedef enum rec_mode {
  REC_TLS13,        /* RFC 8446 5.2: inner type, IV XOR seq, header AAD */
  REC_TLS12_GCM,    /* RFC 5288: 4-byte salt + 8-byte explicit nonce */
  REC_TLS12_CHACHA, /* RFC 7905: IV XOR seq, no explicit nonce */
} rec_mode;

typedef struct rec_dir {
  aead_ctx aead; /* keyed when active */
  const aead_alg *alg;
  uint8_t iv[AEAD_NONCE_LEN];
  uint64_t seq;
  bool active;
  rec_mode mode;
} rec_dir;

/* ---- handshake state (its own allocation, freed when it ends) ------------ */

typedef enum hs_state {
  ST_NONE = 0,
  /* client */
  ST_C_START,
  ST_C_WAIT_SH,
  ST_C_WAIT_EE,
  ST_C_WAIT_CERT_CR,
  ST_C_WAIT_CERT,
  ST_C_WAIT_CV,
  ST_C_WAIT_FINISHED,
  ST_C_SEND_FLIGHT,
  /* server */
  ST_S_WAIT_CH,
  ST_S_SEND_FLIGHT,
  ST_S_WAIT_CERT,
  ST_S_WAIT_CV,
  ST_S_WAIT_FINISHED,
  ST_S_SEND_TICKETS,
  /* TLS 1.2 client (RFC 5246 7.3) */
  ST_C12_WAIT_CERT,
  ST_C12_WAIT_STATUS, /* the ServerHello answered status_request */
  ST_C12_WAIT_SKE,
  ST_C12_WAIT_CR_DONE,
  ST_C12_WAIT_DONE,
  ST_C12_SEND_FLIGHT,
  ST_C12_WAIT_NST,
  ST_C12_WAIT_FINISHED,
  /* TLS 1.2 server */
  ST_S12_WAIT_CERT,
  ST_S12_WAIT_CKE,
  ST_S12_WAIT_CV,
  ST_S12_WAIT_FINISHED,
  /* both */
  ST_CONNECTED,
  ST__COUNT
} hs_state;

typedef struct key_schedule {
  const hash_alg *hash;
  hmac_ctx *hmac;
  uint8_t secret[HASH_MAX_LEN];  /* the current stage's secret */
  uint8_t derived[HASH_MAX_LEN]; /* its "derived" secret, the next salt */
  bool derived_is_const;         /* that salt is the PSK-less constant */
  uint8_t c_hs[HASH_MAX_LEN];
  uint8_t s_hs[HASH_MAX_LEN];
  /* Finished keys (RFC 8446 4.4.4), made with the handshake traffic keys
   * while c_hs / s_hs are loaded. */
  uint8_t c_fin[HASH_MAX_LEN];
  uint8_t s_fin[HASH_MAX_LEN];
  uint8_t c_ap[HASH_MAX_LEN];
  uint8_t s_ap[HASH_MAX_LEN];
  uint8_t exporter[HASH_MAX_LEN];
  uint8_t resumption[HASH_MAX_LEN];
} key_schedule;

/* What a handshake writes and reads first in its own allocation
 * (hs_new): a flight's messages (hs_builder) and the reassembly of the
 * peer's; only bigger ones (certificate chains, hybrid key shares) go to
 * the heap. */
#define HS_SCRATCH 2048
#define HS_MSG_INLINE 1024

typedef struct handshake {
  hash_ctx *transcript; /* in transcript_mem once started */
  /* Client: ClientHello bytes kept until the hash is known (in scratch,
   * or the heap buffer the ClientHello outgrew it into). */
  uint8_t *ch_copy;
  size_t ch_copy_len;
  /* Server: how many leading bytes of the ClientHello being processed the
   * transcript already holds (checking the PSK binder hashed them). */
  size_t ch_prefix_len;

  /* reassembly of handshake messages from records: msg_inline, or the
   * heap once a message outgrows it */
  uint8_t *msg;
  size_t msg_len;
  size_t msg_cap;
  /* The rest of the handshake's allocation (hs_new): the transcript's
   * hash state and the TLS 1.2 PRF's HMAC context (hs_prf_hmac). */
  uint8_t *transcript_mem;
  uint8_t *hmac_mem;

  uint8_t client_random[TLS_RANDOM_LEN];
  uint8_t server_random[TLS_RANDOM_LEN];
  uint8_t session_id[32];
  size_t session_id_len;

  /* client: our key shares (at most two) */
  const kex_alg *share_alg[2];
  kex_key *share_key[2];
  size_t num_shares;

  /* HelloRetryRequest */
  bool hrr_sent_or_seen;
  bool ch1_psk; /* the first ClientHello offered a PSK (server) */
  uint16_t hrr_group;
  uint8_t *cookie;
  size_t cookie_len;

  /* server: what the client offered */
  uint16_t peer_groups[32];
  size_t num_peer_groups;
  uint16_t peer_sigalgs[64];
  size_t num_peer_sigalgs;
  bool client_sent_early_data;
  bool peer_wants_ocsp; /* server: the ClientHello's status_request asks
                           for OCSP (RFC 6066 8) */
  bool staple12;        /* TLS 1.2: the ServerHello answered status_request,
                           so a CertificateStatus may follow the Certificate */
  size_t early_data_skipped;

  /* certificate request (RFC 8446 4.3.2) */
  bool cert_requested;
  uint8_t cr_context[255];
  size_t cr_context_len;
  uint16_t cr_sigalgs[64];
  size_t num_cr_sigalgs;
  bool peer_sent_empty_cert;

  /* certificate compression (RFC 8879) */
  bool cert_comp_offered;  /* our ClientHello / CertificateRequest listed it */
  uint16_t cert_comp_send; /* client: chosen from the CertificateRequest's */
  uint16_t peer_cert_comp[TLS_MAX_CERT_COMP]; /* server: the client's list */
  size_t num_peer_cert_comp;

  pubkey *peer_key;
  uint8_t transcript_at_cv[HASH_MAX_LEN];

  /* proof flags (STYLE 8): each set only by the code that checked it */
  bool proof_peer_cert;
  bool proof_cert_verify;
  bool proof_finished;

  key_schedule ks;
  bool tickets_sent;

  /* TLS 1.2 */
  uint8_t master[TLS12_MASTER_LEN];
  bool ems;             /* extended master secret negotiated */
  bool ticket_expected; /* client: the server will send NewSessionTicket */
  bool send_ticket;     /* server: send NewSessionTicket */
  bool ccs_allowed;     /* a ChangeCipherSpec may arrive now */
  bool ccs_seen;        /* and it did: the read keys switched */
  rec_dir pending_rd;   /* the read keys the peer's CCS turns on */
  rec_dir pending_wr;   /* the write keys our CCS turns on */
  uint8_t pms[KEX_MAX_SECRET]; /* client: the premaster secret */
  size_t pms_len;
  uint8_t cke_share[KEX_MAX_SHARE]; /* client: our ECDHE share */
  size_t cke_share_len;
  /* client: a session holding the ticket the server just issued, which
   * the end of the handshake completes */
  moat_session *nst_session;
  uint32_t nst_lifetime;
  moat_session state12;        /* server: the resumed session's state */
  const kex_alg *kex12;        /* the ECDHE group */
  kex_key *kex12_key;          /* server: our ephemeral key */
  const sig_scheme *cv_scheme; /* client: for CertificateVerify */
  /* The handshake messages themselves, kept while a TLS 1.2
   * CertificateVerify must sign or check them (RFC 5246 7.4.8). */
  uint8_t *raw;
  size_t raw_len;
  size_t raw_cap;
  bool keep_raw;
  uint8_t fin_sent[TLS12_FINISHED_LEN]; /* our verify_data */
  uint8_t fin_recv[TLS12_FINISHED_LEN]; /* the peer's */
  moat_session *offered12; /* client: the TLS 1.2 session offered */
  bool resumed12;
  bool session_asked12; /* server: the client offered a ticket or an ID */

  /* PSK resumption */
  bool psk_offered;  /* client */
  bool psk_accepted; /* both */
  uint16_t psk_index;
  moat_session psk_state; /* server: the ticket's state */

  /* Last, so that hs_new zeroes only what comes before: buffers that
   * are written before they are read. */
  uint8_t msg_inline[HS_MSG_INLINE];
  uint8_t scratch[HS_SCRATCH];
} handshake;

/* ---- connection
 * ------------------------------------------------------------*/

struct moat_conn {
  /* The policy snapshot this connection reads (see tls_policy), and the
   * context it came from (moat_conn_context), one reference to each. */
  const tls_policy *ctx;
  moat_context *context;
  bool is_server;
  uint16_t version; /* 0 until the hello layer negotiated it */
  hs_state state;
  handshake *hs;

  /* error state: sticky once fatal */
  moat_err err;
  bool failed;
  /* ctx_options.c: the context's statistics counted this handshake */
  bool counted_start;
  char *detail; /* allocated at the first failure */
  bool have_alert;
  bool alert_sent;
  int alert;

  /* record layer */
  rec_dir rd;
  rec_dir wr;
  uint8_t *in; /* raw TLS bytes not yet processed */
  size_t in_len;
  size_t in_cap;
  size_t in_used;    /* the most of in ever written: what a wipe must cover */
  size_t in_off;     /* start of unprocessed bytes */
  size_t in_granted; /* room moat_conn_input_space last offered */
  uint8_t *out;      /* TLS bytes waiting to be taken */
  size_t out_len;
  size_t out_off;
  size_t out_cap;
  size_t hs_open; /* bytes of the open handshake record after out_len (its
                     header included), 0 if none: record.c */
  /* decrypted application data (a slice of `in`) */
  size_t app_off;
  size_t app_len;
  bool got_eof;
  bool close_received;
  bool got_record; /* a record header has been accepted */
  bool close_sent;

  /* post-handshake message reassembly */
  uint8_t *post_msg;
  size_t post_len;
  size_t post_cap;

  /* negotiated */
  const tls_suite *suite;
  const kex_alg *group;
  const sig_scheme *peer_sig;
  const sig_scheme *our_sig;
  /* our chain and key for this handshake, one of ctx->ids (NULL until
   * chosen) */
  const tls_identity *id;
  char *alpn;
  char *hostname; /* client: what we asked for; server: SNI received */
  /* where hostname points when it is short (most are): no allocation,
   * and no more memory than the smallest heap block it replaces */
  char hostname_inline[24];
  bool hello_retry;
  bool resumed;
  /* Server: the client listed psk_dhe_ke (RFC 8446 4.2.9), so tickets
   * may be sent. */
  bool peer_psk_dhe;
  bool handshake_done;
  uint8_t c_ap[HASH_MAX_LEN]; /* current traffic secrets (KeyUpdate) */
  uint8_t s_ap[HASH_MAX_LEN];
  hmac_ctx *hmac;                   /* made when needed after the handshake */
  uint8_t res_master[HASH_MAX_LEN]; /* resumption_master_secret */
  /* Kept for exporters (RFC 8446 7.5; RFC 5705 4 for TLS 1.2 with the
   * master secret and both randoms). */
  uint8_t exporter_secret[HASH_MAX_LEN];
  uint8_t randoms[2 * TLS_RANDOM_LEN]; /* client_random || server_random */
  uint8_t ticket_nonce;                /* server: next ticket's nonce */
  moat_session *session; /* client: offered, then the newest ticket */
  bool key_update_pending;
  /* We answered a KeyUpdate request and have sent no data since: further
   * requests share that answer (RFC 8446 4.6.3). */
  bool key_update_answered;
  /* Release record buffers once drained (set when the handshake ends). */
  bool release_when_idle;
  /* TLS 1.2 */
  uint8_t master[TLS12_MASTER_LEN]; /* for exporters and the key log */
  bool ems;
  uint8_t warnings_in_row; /* warning alerts without other records */
  uint8_t idle_records;    /* records in a row that carry nothing */
  uint32_t renegotiations_refused;
  const char *proof_waiver; /* why the peer was not authenticated, or NULL */

  /* peer chain as sent, and the verified chain (which shares the peer's
   * buffers where it can) */
  der_chain *peer;
  der_chain *verified;
  long verify_code;
  char *verify_message;
  /* the certificate verification refused: its depth in the chain built
   * and its subject (verify_subject NULL when none was refused) */
  int verify_depth;
  char *verify_subject;
  /* stapling.c: the OCSP response the server stapled (client; owned) and
   * what checking it found */
  uint8_t *staple;
  size_t staple_len;
  moat_ocsp_status staple_status;

  const moat_transport *transport;
  void *transport_arg;
  void *user_data;

  /* msg_cb.c: the message callback, and how many leading bytes of the
   * handshake reassembly buffer it has reported */
  moat_msg_fn msg_cb;
  void *msg_arg;
  size_t msg_reported;

  /* ctx_options.c */
  int sni_alert; /* moat_conn_set_sni_alert (0: unrecognized_name) */
  uint8_t tls_unique[HASH_MAX_LEN]; /* moat_conn_tls_unique */
  size_t tls_unique_len;
  /* RFC 8879 code points our certificate went and the peer's came
   * compressed with (0: not compressed) */
  uint16_t cert_comp_sent;
  uint16_t cert_comp_received;
  /* RFC 8449, once negotiated (0 until then): the peer's record size
   * limit, which bounds the protected records we write, and ours, which
   * bounds those we read (record.c; both clamped to the version's
   * largest).  rd_max_plain: the longest plaintext (TLS 1.3: inner
   * plaintext) of a protected record read so far, for the limit a TLS 1.3
   * client learns inside the records it already holds. */
  uint16_t rsl_peer;
  uint16_t rsl_ours;
  size_t rd_max_plain;
};

/* Sets conn->hostname to a copy of name (NULL: none), in the
 * connection's own room when it fits.  false when out of memory (the
 * old name stays). */
bool conn_set_hostname_copy(moat_conn *conn, const char *name);

/* ctx_options.c: the session statistics at the start and the end of a
 * handshake (offered: the client offered a session). */
void ctx_count_start(moat_conn *conn);
void ctx_count_done(moat_conn *conn, bool offered);
/* A Finished value sent or checked (client_fin: the client's), kept for
 * moat_conn_tls_unique. */
void conn_note_finished(moat_conn *conn, bool client_fin, const uint8_t *vd,
                        size_t len);

/* ---- certificate compression (cert_compression.c, RFC 8879) ------------- */

typedef struct cert_comp_cache cert_comp_cache;
cert_comp_cache *cert_comp_cache_new(void);
void cert_comp_cache_free(cert_comp_cache *c);
/* The policy's default: every algorithm built in. */
void cert_comp_defaults(tls_policy *p);
/* Ours of the peer's list (the first of the policy's that the peer
 * offered), or 0. */
uint16_t cert_comp_choose(const tls_policy *p, const uint16_t *peer,
                          size_t num_peer);
/* b holds our Certificate message (type and body); when alg is not 0 its
 * contents become the CompressedCertificate carrying it, taken from the
 * snapshot's cache when that holds the same Certificate (cacheable: an
 * empty certificate_request_context, as in every handshake). */
moat_err cert_comp_apply(moat_conn *conn, builder *b, uint16_t alg,
                         bool cacheable);
/* A received CompressedCertificate body: checked against what the policy
 * offered, decompressed into *out_body (moat_free it), the Certificate
 * body to parse.  Failures fail the connection (bad_certificate for a
 * stream that does not decompress to its announced length). */
moat_err cert_comp_receive(moat_conn *conn, cursor body, uint8_t **out_body,
                           size_t *out_len);
/* The flows' step for a received Certificate or CompressedCertificate
 * (type): *body becomes the Certificate body to parse, in *out_plain
 * (moat_free it; NULL for a plain Certificate).  A CompressedCertificate
 * we did not offer to accept is unexpected_message. */
moat_err cert_comp_body(moat_conn *conn, uint8_t type, cursor *body,
                        uint8_t **out_plain);
/* For tests: how many certificates the snapshot has compressed; a copy
 * of its cached message for alg (of its first chain); and replacing that
 * message (the Certificate it stands for stays), to make a peer that
 * sends bad data. */
unsigned cert_comp_made(const tls_policy *p);
bool cert_comp_cached(const tls_policy *p, uint16_t alg, uint8_t *out,
                      size_t cap, size_t *out_len);
bool cert_comp_cache_swap(const tls_policy *p, uint16_t alg, const uint8_t *msg,
                          size_t len);

/* ---- engine internals shared between files -------------------------------*/

/* Fail the connection: records err and detail, picks the alert (alert.c)
 * and queues it.  Returns err so callers can `return conn_fail(...)`. */
moat_err conn_fail(moat_conn *conn, moat_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records the detail text of a failure (without sending anything). */
void conn_set_detail(moat_conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* stapling.c: keeps the OCSP response a server stapled (client). */
moat_err conn_keep_staple(moat_conn *conn, cursor response);
/* stapling.c: checks the kept staple against the verified chain under the
 * policy's moat_ocsp_stapling mode, once the chain verified; fails the
 * connection when the mode says so. */
moat_err conn_check_staple(moat_conn *conn);
/* The same with an explicit alert (certificate failures). */
moat_err conn_fail_alert(moat_conn *conn, moat_err err, int alert,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* What a codec (msg/, ext/) reports when it refuses input or cannot
 * build: the error, which names the alert (alert.c), and a sentence that
 * says what was wrong and where.  Codecs fill one and return its err;
 * they never touch the connection.  The flow that called them fails the
 * connection with it (conn_fail_cause), so the failed state and the alert
 * are still written in one place. */
typedef struct tls_cause {
  moat_err err;
  char detail[MOAT_DETAIL_MAX];
} tls_cause;
/* Fills why and returns err, so codecs can `return cause_set(...)`. */
moat_err cause_set(tls_cause *why, moat_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fails the connection with a codec's cause; returns why->err. */
moat_err conn_fail_cause(moat_conn *conn, const tls_cause *why);
/* The alert that reports a cause (RFC 8446 6.2). */
int alert_for_error(moat_err err);
moat_err error_for_alert(int alert);

/* msg_cb.c: the message callback's hooks (each does nothing without a
 * callback).  A record header (5 bytes at hdr); a TLS 1.3 record's inner
 * content type; the content of a record of type 20, 21 or 22 we sent (a
 * handshake record's every message) or a change_cipher_spec or alert we
 * received; and the handshake messages completed in the reassembly
 * buffer since the last call. */
void msgcb_header(moat_conn *conn, bool sent, const uint8_t *hdr);
void msgcb_inner_type(moat_conn *conn, bool sent, uint8_t type);
void msgcb_content(moat_conn *conn, bool sent, uint8_t type,
                   const uint8_t *data, size_t len);
void msgcb_handshake_received(moat_conn *conn);
/* A handshake message left the reassembly buffer. */
void msgcb_consumed(moat_conn *conn, size_t len);

/* record.c */
/* Counts a record that carries nothing for the application (an empty
 * data record, change_cipher_spec, user_canceled, a KeyUpdate); more than
 * TLS_MAX_IDLE_RECORDS in a row fail the connection, so a peer cannot keep
 * us busy for ever without sending data. */
#define TLS_MAX_IDLE_RECORDS 32
moat_err rec_count_idle(moat_conn *conn, const char *what);
moat_err rec_write(moat_conn *conn, uint8_t type, const uint8_t *data,
                   size_t len);
/* Handshake messages share records (RFC 8446 5.1, RFC 5246 6.2.1): they
 * go into an open record that rec_hs_flush seals, so a flight takes as
 * few records as the key changes and 2^14 allow.  Every other write and
 * every write key change flush it first; moat_conn_handshake flushes it
 * before it returns, so callers never see it. */
moat_err rec_write_hs(moat_conn *conn, const uint8_t *data, size_t len);
moat_err rec_hs_flush(moat_conn *conn);
/* Keys dir from a traffic secret; fin_key, when not NULL, also gets the
 * secret's Finished key (RFC 8446 4.4.4), made while the secret is
 * loaded. */
moat_err rec_set_key(moat_conn *conn, rec_dir *dir, const tls_suite *suite,
                     const hash_alg *hash, hmac_ctx *hmac,
                     const uint8_t *secret, bool encrypt, uint8_t *fin_key);
void rec_dir_clear(rec_dir *dir);
/* Process at most one record from the input; sets *out_progress. */
moat_err rec_read_one(moat_conn *conn, bool *out_progress);
/* The same, but after the handshake a protected record is opened with its
 * first min(cap, plaintext) bytes straight into out: *out_len is how many
 * bytes of application data landed there (0 for any other record, whose
 * plaintext goes back to the input buffer; content beyond cap stays
 * buffered as app_off/app_len).  out past *out_len may be wiped.  On
 * error out holds nothing of the record. */
/* Where, in a buffer that is empty, a record protected by dir starts so
 * that its ciphertext (after the header and, in TLS 1.2 AES-GCM, the
 * explicit nonce) begins on a REC_ALIGN boundary: AES-GCM with 512-bit
 * vectors writes whole cache lines then (about 3% of a 16 KiB record on
 * OpenSSL 3.5).  0 for plaintext records.  Less than REC_ALIGN. */
#define REC_ALIGN 64
size_t rec_align_lead(const uint8_t *buf, const rec_dir *dir);
moat_err rec_read_into(moat_conn *conn, uint8_t *out, size_t cap,
                       size_t *out_len, bool *out_progress);
void conn_release_buffers(moat_conn *conn);

/* keysched.c (RFC 8446 7.1) */
bool hkdf_expand_label(hmac_ctx *hmac, const uint8_t *secret, size_t secret_len,
                       const char *label, const uint8_t *context,
                       size_t context_len, uint8_t *out, size_t out_len);
bool derive_secret(const hash_alg *hash, hmac_ctx *hmac, const uint8_t *secret,
                   const char *label, const uint8_t *transcript_hash,
                   uint8_t *out);
/* Hash("") for a TLS 1.3 hash (computed once), or NULL. */
const uint8_t *ks_empty_hash(const hash_alg *hash);
bool ks_init(key_schedule *ks, const hash_alg *hash, const uint8_t *psk,
             size_t psk_len);
bool ks_handshake(key_schedule *ks, const uint8_t *shared, size_t shared_len,
                  const uint8_t *transcript_hash);
bool ks_master(key_schedule *ks, const uint8_t *transcript_hash);
bool ks_resumption(key_schedule *ks, const uint8_t *transcript_hash);
/* verify_data from a base key (RFC 8446 4.4.4): the finished key, then the
 * MAC over transcript_hash. */
bool ks_finished(key_schedule *ks, const uint8_t *base_key,
                 const uint8_t *transcript_hash, uint8_t *out);
/* verify_data from a finished key already made (ks->c_fin / ks->s_fin). */
bool ks_verify_data(key_schedule *ks, const uint8_t *fin_key,
                    const uint8_t *transcript_hash, uint8_t *out);
void ks_clear(key_schedule *ks);
/* RFC 8446 7.3: the traffic key and IV of a secret, and when fin_key is
 * not NULL its Finished key (4.4.4) as well, with the secret loaded
 * once. */
bool traffic_key_iv(hmac_ctx *hmac, const hash_alg *hash, const uint8_t *secret,
                    size_t key_len, uint8_t *key, uint8_t *iv,
                    uint8_t *fin_key);

/* The transcript (one object for both versions): a hash started once the
 * suite names it, fed every handshake message, peeked for snapshots
 * (Finished, CertificateVerify, binders, the EMS session hash), and in
 * TLS 1.2 also keeping the messages while keep_raw is set. */
/* (Re)starts it with hash h and, when first is not NULL, its first
 * message, or that message's message_hash after a HelloRetryRequest. */
moat_err hs_transcript_start(moat_conn *conn, const hash_alg *h,
                             const uint8_t *first, size_t len,
                             bool as_message_hash);
moat_err hs_transcript_add(moat_conn *conn, const uint8_t *msg, size_t len);
bool hs_transcript_hash(moat_conn *conn, uint8_t *out);
/* RFC 8446 4.2.11.2: Transcript-Hash over what precedes a truncated
 * ClientHello (after a HelloRetryRequest: message_hash and the retry) and
 * the truncated ClientHello itself.  in_place: the transcript itself
 * takes the truncated bytes, so that the ClientHello is hashed once; the
 * caller then adds only the rest. */
bool hs_truncated_hash(moat_conn *conn, const hash_alg *h, const uint8_t *msg,
                       size_t trunc_len, uint8_t *out, bool in_place);

/* A handshake state in one allocation with room for its transcript
 * hash and one HMAC context; NULL when out of memory. */
handshake *hs_new(void);
void hs_free(handshake *hs);
/* A builder for one message or flight: in hs->scratch while the
 * ClientHello copy does not hold it, growing to the heap if needed;
 * bld_cleanup after. */
void hs_builder(handshake *hs, builder *b);
/* Drops the ClientHello copy (wherever it lives). */
void hs_drop_ch_copy(handshake *hs);
/* The TLS 1.2 PRF's HMAC over h, in the handshake's own allocation;
 * becomes hs->ks.hmac (freeing one that was on the heap). */
hmac_ctx *hs_prf_hmac(handshake *hs, const hash_alg *h);
/* handshake messages: send one built in b (type + body) */
moat_err hs_send(moat_conn *conn, builder *b);
/* hs_send for a codec's builder: built is what it returned, what names
 * the message in the internal error when it is false. */
moat_err hs_send_codec(moat_conn *conn, builder *b, bool built,
                       const char *what);
/* next complete handshake message; *out_ok false when more input needed */
moat_err hs_next_message(moat_conn *conn, uint8_t *out_type, cursor *out_body,
                         cursor *out_whole, bool *out_ok);
void hs_consume_message(moat_conn *conn, size_t whole_len);
/* The next message for the current state (legal table enforced), or
 * MOAT_ERR_WANT_READ. */
moat_err hs_expect(moat_conn *conn, uint8_t *out_type, cursor *out_body,
                   cursor *out_whole);
/* Our key share and, for a responder, the shared secret: kex_generate
 * and kex_respond_why, except in fuzzing builds (handshake.c). */
bool hs_kex_generate(const moat_conn *conn, const kex_alg *alg,
                     kex_key **out_key, uint8_t *out_share,
                     size_t *out_share_len);
bool hs_kex_respond(const moat_conn *conn, const kex_alg *alg,
                    const uint8_t *peer, size_t peer_len, uint8_t *out_share,
                    size_t *out_share_len, uint8_t *out_secret,
                    size_t *out_secret_len, const char **out_why);
moat_err hs_key_change_boundary(moat_conn *conn);
/* Adds a received message to the transcript and drops it from the
 * reassembly buffer. */
moat_err hs_absorb(moat_conn *conn, cursor whole);
moat_err hs_recv_cert_verify(moat_conn *conn, hs_state next);
/* RFC 8446 7.1: the application traffic and exporter secrets over the
 * transcript through the server's Finished, logged for the key log. */
moat_err hs_derive_app_secrets(moat_conn *conn);
/* Certificate with our chain and CertificateVerify with scheme, each
 * written in turn into the heap builder b; with scheme NULL an empty
 * Certificate alone (RFC 8446 4.4.2). */
moat_err hs_send_cert_and_cv(moat_conn *conn, builder *b,
                             const uint8_t *context, size_t context_len,
                             const sig_scheme *scheme);

void keylog(moat_conn *conn, const char *label, const uint8_t *secret,
            size_t len);

/* The hello layer (hello.c): version negotiation for both roles and the
 * downgrade sentinels (RFC 8446 4.1.3). */
typedef struct client_hello client_hello;
typedef struct server_hello server_hello;
/* Server: the version to speak with this ClientHello, or a failure. */
moat_err hello_server_version(moat_conn *conn, const client_hello *ch,
                              uint16_t *out_version);
/* Client: the version the ServerHello chose, checked against our offer
 * and the downgrade sentinel. */
moat_err hello_client_version(moat_conn *conn, const server_hello *sh,
                              uint16_t *out_version);
/* Server: what the first ClientHello offers (groups, signature schemes,
 * PSK modes, SNI with the SNI callback, ALPN) into the handshake state. */
moat_err hello_take_offers(moat_conn *conn, const client_hello *ch);
/* RFC 8449: record_size_limit negotiated, the peer's and ours (0: none
 * set, the version's largest), for the version agreed. */
void hello_set_record_limits(moat_conn *conn, uint16_t peer, uint16_t ours);
/* Keeps the protocol ALPN settled on (conn->alpn). */
moat_err hello_set_alpn(moat_conn *conn, cursor name);
/* Server: writes the downgrade sentinel into a TLS 1.2 server random when
 * this server could have spoken TLS 1.3. */
void hello_mark_downgrade(const moat_conn *conn, uint8_t *random);
/* The suites of one version in the context's order. */
bool suite_offered(const tls_policy *ctx, uint16_t code, uint16_t version);
bool ctx_allows(const tls_policy *ctx, uint16_t version);
/* The NamedGroup of an ECDSA key's curve (RFC 8422 5.1), 0 for others. */
uint16_t key_curve_group(key_type kt);

/* TLS 1.2 flows (tls12_client.c, tls12_server.c, tls12.c) */
moat_err tls12_client_server_hello(moat_conn *conn, const server_hello *sh,
                                   cursor whole);
moat_err tls12_server_client_hello(moat_conn *conn, const client_hello *ch,
                                   cursor whole);
moat_err tls12_client_step(moat_conn *conn);
moat_err tls12_server_step(moat_conn *conn);
moat_err tls12_post_handshake(moat_conn *conn, uint8_t type, cursor *body);
/* RFC 5246 6.3: the key block from the master secret; writes the keys
 * for our direction into conn->wr's pending state and the peer's into
 * hs->pending_rd. */
moat_err tls12_derive_keys(moat_conn *conn, rec_dir *our, rec_dir *peer);
moat_err tls12_send_ccs_finished(moat_conn *conn);
moat_err tls12_recv_finished(moat_conn *conn, cursor body);
moat_err tls12_enter_traffic(moat_conn *conn);
moat_err tls12_master_secret(moat_conn *conn, const uint8_t *pms,
                             size_t pms_len);
moat_err tls12_export(moat_conn *conn, const char *label,
                      const uint8_t *context, size_t context_len,
                      bool use_context, uint8_t *out, size_t out_len);
/* Keys a rec_dir for TLS 1.2 from raw key and IV bytes. */
moat_err rec_set_key12(moat_conn *conn, rec_dir *dir, const tls_suite *suite,
                       const uint8_t *key, const uint8_t *iv, bool encrypt);
/* The one place a proof is waived rather than checked (STYLE 8): a
 * resumed session (its certificate was checked when it was made), or no
 * client certificate by policy.  why names the reason in a failure. */
void hs_waive_auth_proofs(moat_conn *conn, const char *why);
/* Sends a warning alert (TLS 1.2 no_renegotiation). */
moat_err rec_send_warning(moat_conn *conn, int alert);

/* prf.c: the TLS 1.2 PRF (RFC 5246 5) with HMAC-hash; seed is the
 * concatenation of seed_a and seed_b. */
bool tls12_prf(const hash_alg *hash, hmac_ctx *hmac, const uint8_t *secret,
               size_t secret_len, const char *label, const uint8_t *seed_a,
               size_t seed_a_len, const uint8_t *seed_b, size_t seed_b_len,
               uint8_t *out, size_t out_len);

/* flows */
moat_err tls13_client_step(moat_conn *conn);
moat_err tls13_server_step(moat_conn *conn);
moat_err tls13_post_handshake(moat_conn *conn, uint8_t type, cursor *body);
moat_err tls13_send_key_update(moat_conn *conn, bool request_peer);
moat_err tls13_enter_traffic(moat_conn *conn);
moat_err tls13_send_tickets(moat_conn *conn);
/* The HMAC context for post-handshake derivations, made on demand and
 * dropped when the connection goes idle. */
hmac_ctx *conn_hmac(moat_conn *conn);
/* PSK binder (RFC 8446 4.2.11.2) over Transcript-Hash(truncated). */
bool psk_binder(key_schedule *ks, const uint8_t *transcript_hash, uint8_t *out);

/* the legal-message table (STYLE 4) */
bool hs_message_legal(hs_state state, uint8_t type);
const char *hs_state_name(hs_state state);
const char *hs_type_name(uint8_t type);

/* peer key from a certificate */
moat_err cert_leaf_pubkey(moat_conn *conn, const uint8_t *der, size_t len,
                          pubkey **out);
/* Keeps a copy of the chain a Certificate carried as conn->peer (none
 * for an empty list). */
struct cert_list;
moat_err hs_take_peer_chain(moat_conn *conn, const struct cert_list *list);
/* The peer's Certificate, TLS 1.3 (with the context it must carry) and
 * TLS 1.2: parsed, the chain kept; *out_empty for an empty list. */
moat_err hs_recv_certificate(moat_conn *conn, cursor body,
                             const uint8_t *context, size_t context_len,
                             bool *out_empty);
moat_err tls12_recv_certificate(moat_conn *conn, cursor body, bool *out_empty);
/* Records a CertificateRequest's schemes for our answer. */
struct cert_request;
void hs_take_cert_request(handshake *hs, const struct cert_request *cr);
/* A TLS 1.3 NewSessionTicket becomes the client's session (RFC 8446
 * 4.6.1); a lifetime of 0 is ignored. */
struct nst13;
moat_err tls13_take_ticket(moat_conn *conn, const struct nst13 *t);
/* chain verification after the peer's Certificate */
moat_err conn_verify_peer(moat_conn *conn);

/* auth.c: the handshake's proofs for both versions.  The codecs in msg/
 * carry the bytes; these make and check what the bytes prove, and only
 * they set proof_cert_verify and proof_finished. */
/* Our scheme for CertificateVerify (TLS 1.3) from the peer's list and
 * the chain and key that sign with it (*out_id, one of the context's);
 * NULL when none fits our keys. */
const sig_scheme *cv_choose_scheme(const moat_conn *conn, const uint16_t *peer,
                                   size_t num_peer,
                                   const tls_identity **out_id);
/* The same for a TLS 1.2 signature, with one of the keys
 * ids[0..num_ids). */
const sig_scheme *sig12_choose(const moat_conn *conn, const tls_identity *ids,
                               size_t num_ids, const uint16_t *peer,
                               size_t num_peer, const tls_identity **out_id);
/* Whether a scheme may sign in TLS 1.2 with this key. */
bool sig12_fits(const sig_scheme *s, key_type key);
/* The content a TLS 1.3 CertificateVerify signs (RFC 8446 4.4.3). */
size_t cv_content(bool server, const uint8_t *hash, size_t hash_len,
                  uint8_t *out);
/* CertificateVerify: ours signed with scheme over the transcript (1.3) or
 * the handshake messages (1.2, RFC 5246 7.4.8), and the peer's checked
 * against its certificate key. */
moat_err auth_cv_build(moat_conn *conn, builder *b, const sig_scheme *scheme);
moat_err auth_cv_check(moat_conn *conn, cursor body);
moat_err auth_cv12_build(moat_conn *conn, builder *b, const sig_scheme *scheme);
moat_err auth_cv12_check(moat_conn *conn, cursor body);
/* The TLS 1.2 ServerKeyExchange (RFC 8422 5.4): ours for our share,
 * signed with scheme; the server's signature checked (alg names the
 * group in errors). */
struct server_kex;
moat_err auth_ske_build(moat_conn *conn, builder *b, uint16_t group,
                        const uint8_t *share, size_t share_len,
                        const sig_scheme *scheme);
moat_err auth_ske_check(moat_conn *conn, const struct server_kex *ske,
                        const kex_alg *alg);
/* Finished: TLS 1.3 with the sender's Finished key (RFC 8446 4.4.4),
 * TLS 1.2 from the master secret (RFC 5246 7.4.9).  The check compares
 * in constant time. */
moat_err auth_fin_build(moat_conn *conn, builder *b, const uint8_t *fin_key);
moat_err auth_fin_check(moat_conn *conn, cursor body, const uint8_t *fin_key);
moat_err auth_fin12_build(moat_conn *conn, builder *b);
moat_err auth_fin12_check(moat_conn *conn, cursor body);

#endif
