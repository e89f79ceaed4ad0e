/* moat-bench: moat, OpenSSL's libssl and GnuTLS measured in one process,
 * one thread, client and server joined by memory buffers.
 *
 * Each library is a bench_lib: a table of functions that build a client and
 * a server for one configuration, drive a handshake between them, resume a
 * session and move application data from client to server.  The driver in
 * bench.c only talks to these tables, so every library is measured by the
 * same loop. */
#ifndef MOAT_BENCH_H
#define MOAT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- allocation counters (alloc.c, an interposer on malloc & co.) -------- */

typedef struct alloc_stats {
  uint64_t calls;     /* malloc, calloc, realloc, memalign & co. */
  uint64_t frees;     /* free of a non-NULL pointer */
  int64_t live;       /* bytes held (usable size) */
  int64_t blocks;     /* blocks held */
  int64_t peak;       /* highest `live` since alloc_reset_peak() */
  uint64_t own_calls; /* of those calls, moat's own (not libcrypto's) */
} alloc_stats;

/* The hooks lib_moat.c gives moat_set_allocator. */
typedef struct bench_own_allocator {
  void *(*malloc_fn)(size_t size, void *arg);
  void *(*realloc_fn)(void *ptr, size_t size, void *arg);
  void (*free_fn)(void *ptr, void *arg);
} bench_own_allocator;
extern const bench_own_allocator bench_own_alloc;

void alloc_snapshot(alloc_stats *out);
void alloc_reset_peak(void);

/* The harness's own memory (pairs, environments, the wire queues): straight
 * from glibc, never counted. */
void *bench_calloc(size_t size);
void *bench_realloc(void *p, size_t size);
void bench_free(void *p);

/* ---- test PKI (pki.c) ------------------------------------------------------
 */

enum { CERT_ECDSA, CERT_RSA, CERT__COUNT };

typedef struct pki_item {
  char *ca_pem; /* trust anchor */
  size_t ca_pem_len;
  char *leaf_pem; /* server chain: the leaf alone */
  size_t leaf_pem_len;
  char *key_pem; /* leaf key, PKCS#8 PEM */
  size_t key_pem_len;
} pki_item;

typedef struct bench_pki {
  pki_item item[CERT__COUNT];
} bench_pki;

/* CA (ECDSA P-256) -> leaf ECDSA P-256 and CA (RSA-2048) -> leaf RSA-2048,
 * SAN DNS:localhost, valid from an hour ago for 30 days. */
bool pki_make(bench_pki *pki);
void pki_free(bench_pki *pki);

/* ---- byte queue: one direction of the in-memory wire ----------------------
 */

typedef struct byteq {
  uint8_t *buf;
  size_t off; /* first unread byte */
  size_t len; /* end of data */
  size_t cap;
} byteq;

bool byteq_push(byteq *q, const uint8_t *data, size_t len);
/* Room for n more bytes at q->buf + q->len (the caller then adds what it
 * wrote to q->len), or NULL. */
uint8_t *byteq_reserve(byteq *q, size_t n);
/* Copies up to cap bytes out; returns how many. */
size_t byteq_pull(byteq *q, uint8_t *out, size_t cap);
void byteq_free(byteq *q);
static inline size_t byteq_avail(const byteq *q) {
  return q->len - q->off;
}

/* Failures are reported on stderr unless the bench expects them. */
extern bool bench_quiet;
#define BENCH_LOG(...)                                                         \
  do {                                                                         \
    if (!bench_quiet)                                                          \
      fprintf(stderr, __VA_ARGS__);                                            \
  } while (0)

/* ---- one library under test ---------------------------------------------- */

/* GROUP_X25519MLKEM768: moat only (OpenSSL 3.0's libssl and GnuTLS 3.7
 * have no ML-KEM). */
enum { GROUP_X25519, GROUP_P256, GROUP_X25519MLKEM768 };
enum { SUITE_AES128GCM, SUITE_AES256GCM, SUITE_CHACHA20 };

typedef struct bench_cfg {
  int cert;             /* CERT_* */
  int group;            /* GROUP_* */
  int suite;            /* SUITE_* */
  bool tickets;         /* the server issues one ticket; otherwise none */
  bool release_buffers; /* OpenSSL: SSL_MODE_RELEASE_BUFFERS */
  const char *host;     /* name the client checks; NULL: "localhost" */
  bool trust_other;     /* client trusts the other CA (must fail) */
  bool tls12;      /* TLS 1.2 with ECDHE-ECDSA- or ECDHE-RSA-AES128-GCM-SHA256
                      as cert says (suite ignored) */
  bool session_id; /* TLS 1.2, tickets off: resumption by session ID from
                      the server's session cache */
} bench_cfg;

typedef struct bench_lib {
  const char *name;
  /* Client and server contexts for cfg. NULL when the library cannot. */
  void *(*env_new)(const bench_pki *pki, const bench_cfg *cfg);
  void (*env_free)(void *env);
  /* A client and a server connection joined by memory; resume: the client
   * offers the session saved by the last save_session. */
  void *(*pair_new)(void *env, bool resume);
  void (*pair_free)(void *pair);
  /* Free only one side (memory attribution); the other is freed by
   * pair_free. */
  void (*pair_free_client)(void *pair);
  void (*pair_free_server)(void *pair);
  /* Drive both sides until the handshake is complete and every byte in
   * flight (tickets included) has been consumed. */
  bool (*handshake)(void *pair);
  /* Was the last handshake a resumption? */
  bool (*resumed)(void *pair);
  /* Keep the client's session in env for later pair_new(env, true). */
  bool (*save_session)(void *env, void *pair);
  /* Client writes total bytes in writes of chunk bytes; server reads them
   * all. */
  bool (*bulk)(void *pair, const uint8_t *data, size_t chunk, size_t total);
} bench_lib;

extern const bench_lib bench_lib_moat;
extern const bench_lib bench_lib_openssl;
extern const bench_lib bench_lib_gnutls;

/* Does this build's moat have a working engine?  (The bench links even
 * while parts of the engine are missing; see lib_moat.c.) */
bool bench_moat_linked(void);
/* Routes moat's own allocations through bench_own_alloc; call first. */
void bench_moat_count_own(void);

/* ---- the libcrypto floor (floor.c) ----------------------------------------
 */

typedef struct floor_ops {
  /* seconds per operation */
  double x25519_keygen, x25519_derive;
  double p256_keygen, p256_derive;
  double ecdsa_sign, ecdsa_verify;
  double rsa_pss_sign, rsa_pss_verify, rsa_pkcs1_verify;
  /* seconds per record, seal + open */
  double aes128gcm_16k, aes128gcm_1k, aes256gcm_16k, aes256gcm_1k;
  double chacha20_16k, chacha20_1k;
} floor_ops;

/* Measure each for about `seconds` of CPU. */
bool floor_measure(floor_ops *out, double seconds);

/* The floor of one figure as a unit of work: one handshake's public-key
 * operations (both sides), or one record sealed and opened. */
typedef enum floor_id {
  FL_NONE,
  FL_HS_X25519_ECDSA, /* 2 X25519 keygen + 2 derive, ECDSA sign + 2 verify */
  FL_HS_X25519_RSA,   /* 2 X25519 keygen + 2 derive, PSS sign + verify,
                         PKCS#1 verify */
  FL_HS_P256_ECDSA,   /* 2 P-256 keygen + 2 ECDH, ECDSA sign + 2 verify */
  FL_RESUME_X25519,   /* 2 X25519 keygen + 2 derive */
  /* The hybrid: the X25519 floor plus ML-KEM-768 KeyGen + Encaps + Decaps,
   * moat's own (libcrypto 3.0 has none). */
  FL_HS_X25519MLKEM768_ECDSA,
  FL_RESUME_X25519MLKEM768,
  FL_X25519_KEYGEN, /* beside each kem.mlkem768.* figure */
  FL_AES128GCM_16K,
  FL_AES128GCM_1K,
  FL_AES256GCM_16K,
  FL_AES256GCM_1K,
  FL_CHACHA20_16K,
  FL_CHACHA20_1K,
} floor_id;

typedef struct floor_ctx floor_ctx;
floor_ctx *floor_new(void);
void floor_free(floor_ctx *f);
bool floor_unit(floor_ctx *f, floor_id id);

/* ---- moat's ML-KEM-768 (kem.c) ---------------------------------------- */

enum { KEM_KEYGEN, KEM_ENCAPS, KEM_DECAPS };
bool bench_kem_op(int op);
const char *bench_kem_impl(void); /* "avx2" or "portable" */

/* ---- handshake bytes with and without certificate compression (wire.c) */

typedef struct wire_row {
  const char *chain; /* "rsa2048", "ecdsa-p256" */
  const char *alg;   /* "none", "zstd", "brotli", "zlib" */
  size_t up, down;   /* client->server, server->client bytes */
  bool ok;           /* false: the algorithm is not built in */
} wire_row;
size_t wire_measure(const bench_pki *pki, wire_row *rows, size_t cap);
void wire_print(const wire_row *rows, size_t n);

/* CPU seconds of the calling thread. */
double cpu_now(void);

#endif
