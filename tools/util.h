/* Helpers shared by the moat subcommands: sockets, option lists, printing
 * a connection's parameters and errors, and driving a connection over a
 * non-blocking socket with a deadline. */
#ifndef MOAT_TOOLS_UTIL_H
#define MOAT_TOOLS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "moat.h"

/* Splits "host:port", "[v6]:port"; returns false on a malformed address. */
bool util_split_hostport(const char *in, char *host, size_t host_cap,
                         char *port, size_t port_cap);

/* A connected TCP socket, or -1 with a message in err. */
int util_tcp_connect(const char *host, const char *port, int timeout_ms,
                     char *err, size_t err_cap);

/* A listening TCP socket bound to host:port (port 0 picks one); the bound
 * port is stored in *out_port.  -1 with a message in err. */
int util_tcp_listen(const char *host, int port, int *out_port, char *err,
                    size_t err_cap);

bool util_set_nonblocking(int fd, bool on);

/* What is wrong with a comma-separated ALPN list ("h2,http/1.1"): an
 * empty list or name, more than 16 names; NULL when its shape is right. */
const char *util_alpn_problem(const char *csv);

/* Applies a comma-separated ALPN list; MOAT_ERR_INVALID_ARGUMENT when
 * util_alpn_problem() finds one. */
moat_err util_set_alpn(moat_context *ctx, const char *csv);

/* Milliseconds from a monotonic clock. */
int64_t util_now_ms(void);

/* Runs one step of a connection (handshake, read, shutdown, ...) on a
 * non-blocking socket until it returns something other than want-read /
 * want-write, waiting with poll() in between.  Gives up with
 * MOAT_ERR_WANT_READ once deadline_ms (util_now_ms() time, 0 = none)
 * passes. */
typedef moat_err (*util_step_fn)(moat_conn *conn, void *arg);
moat_err util_drive(moat_conn *conn, int fd, util_step_fn step, void *arg,
                    int64_t deadline_ms);

/* Ready-made steps. */
moat_err util_step_handshake(moat_conn *conn, void *arg);
moat_err util_step_shutdown(moat_conn *conn, void *arg);

/* Sends close_notify without reading: unlike moat_conn_shutdown(), which
 * discards application data that arrives while it waits for the peer's
 * close_notify, this leaves the socket's unread bytes for moat_conn_read(),
 * so a client can half-close and still receive the rest of the answer
 * (RFC 8446 6.1: closing the write side does not affect the read side).
 * Call it only after moat_conn_read() reported want-read.  Returns MOAT_OK
 * (the peer's close_notify had already come) or MOAT_ERR_WANT_READ. */
moat_err util_send_close_notify(moat_conn *conn);

/* Writes all of data: the socket is blocking for the duration. */
moat_err util_write_all(moat_conn *conn, int fd, const uint8_t *data,
                        size_t len);

/* Prints the negotiated parameters and the peer chain, one "key: value"
 * per line, each prefixed with indent.  When the context verifies nothing
 * (verify mode NONE), the verify line says so and what verifying the chain
 * for name (NULL: no name) would have found. */
void util_print_params(FILE *f, const moat_conn *conn, const char *name,
                       const char *indent);

/* The peer's chain as sent: a count, then each certificate's subject and
 * issuer. */
void util_print_chain(FILE *f, const moat_conn *conn, const char *indent);

/* A certificate's subject (or issuer) from DER into out; "?" on failure. */
void util_cert_subject(const uint8_t *der, size_t len, bool issuer, char *out,
                       size_t cap);

/* One line describing why conn failed with err: name, class, detail and
 * the alert if there was one. */
void util_describe_error(const moat_conn *conn, moat_err err, char *out,
                         size_t cap);

/* Clears memory that held secrets or plaintext (not optimised away). */
void util_wipe(void *p, size_t len);

/* A value for printing: the string or "-" for NULL / empty. */
const char *util_or_dash(const char *s);

/* Command-line options: a table of names, each filling a string (takes a
 * value) or setting a flag. */
typedef struct util_opt {
  const char *name;   /* "--cafile" */
  const char **value; /* set for options with a value */
  bool *flag;         /* set for flags */
} util_opt;

/* Parses argv[1..] against opts; a bare argument goes to *positional (at
 * most one; NULL when none is allowed).  Prints what was wrong, prefixed
 * with cmd, and returns false on an unknown option or a missing value. */
bool util_parse_opts(const char *cmd, int argc, char **argv,
                     const util_opt *opts, size_t num_opts,
                     const char **positional);

/* Reports a failed setup call with the context's explanation; returns
 * false. */
bool util_setup_fail(const char *cmd, const moat_context *ctx, const char *what,
                     const char *arg, moat_err e);

/* The policy options client and server share (NULL = not given). */
typedef struct util_tls_opts {
  const char *ciphers;
  const char *groups;
  const char *sigalgs;
  const char *alpn;
  const char *keylog;      /* $SSLKEYLOGFILE when NULL */
  const char *min_version; /* "1.2" or "1.3" */
  const char *max_version;
  bool tls12_only; /* --tls1.2 */
  bool tls13_only; /* --tls1.3 */
  bool no_ticket;  /* --no-ticket: TLS 1.2 without session tickets */
  const char *cert_compression;  /* --cert-compression L ("none": off) */
  const char *record_size_limit; /* --record-size-limit N (RFC 8449) */
} util_tls_opts;

/* The shared options' rows for util_parse_opts, and their help lines. */
#define UTIL_TLS_VERSION_OPTS(t)                                               \
  {"--tls1.2", NULL, &(t)->tls12_only}, {"--tls1.3", NULL, &(t)->tls13_only},  \
      {"--min-version", &(t)->min_version, NULL},                              \
      {"--max-version", &(t)->max_version, NULL},                              \
      {"--no-ticket", NULL, &(t)->no_ticket},                                  \
      {"--cert-compression", &(t)->cert_compression, NULL}, {                  \
    "--record-size-limit", &(t)->record_size_limit, NULL                       \
  }
#define UTIL_TLS_VERSION_HELP                                                  \
  "  --tls1.2 | --tls1.3  speak only that version (default: both)\n"           \
  "  --min-version V   lowest version, 1.2 or 1.3\n"                           \
  "  --max-version V   highest version, 1.2 or 1.3\n"                          \
  "  --no-ticket       no TLS 1.2 session tickets (session IDs only)\n"        \
  "  --cert-compression L  TLS 1.3 certificate compression (RFC 8879): "       \
  "the\n"                                                                      \
  "                    algorithms, e.g. zlib:brotli:zstd (the default: all\n"  \
  "                    built in), or none\n"                                   \
  "  --record-size-limit N  the largest record to receive (RFC 8449), 64\n"    \
  "                    to 16385 bytes of plaintext (default: not sent)\n"

/* Where the password of an encrypted private key comes from: a file's
 * first line, an environment variable, or else a prompt on the terminal
 * (/dev/tty, echo off) when there is one. */
typedef struct util_password {
  const char *cmd;     /* "client", for messages */
  const char *file;    /* --password-file */
  const char *env;     /* --password-env */
  const char *keyfile; /* named in the prompt */
  char got[1024];      /* read once, wiped by util_password_clear */
  int got_len;         /* -1 before the first ask, then its result */
} util_password;

/* Checks the options (not both), and installs the source as ctx's password
 * callback; false after printing what was wrong. */
bool util_password_setup(moat_context *ctx, util_password *pw);
void util_password_clear(util_password *pw);

/* Loads a certificate chain and key with the password from pw (set up by
 * util_password_setup), then forgets the password; false after printing
 * what was wrong. */
bool util_load_cert_chain(const char *cmd, moat_context *ctx, const char *cert,
                          const char *key, util_password *pw);

/* Applies o to ctx; on failure prints which option and value were refused
 * (prefixed with cmd) and returns false. */
bool util_configure_tls(const char *cmd, moat_context *ctx,
                        const util_tls_opts *o);

/* Reads a whole file (at most max bytes) into a malloc'd buffer (free it
 * with free()); false after printing what was wrong. */
bool util_read_file(const char *cmd, const char *path, size_t max,
                    uint8_t **out, size_t *out_len);

/* Calls fn with each certificate's DER in the file at path (a PEM bundle,
 * or one DER certificate); fn owns der (free it with free()) and
 * returns false to stop.  Returns false, after printing what was wrong
 * ("moat CMD: PATH: ..."), when the file cannot be read or is empty, a
 * PEM block is damaged or holds no certificate, a file that is not PEM
 * is no DER certificate either, the file holds no certificate, and when
 * fn stopped.  Only the public API is used. */
typedef bool (*util_cert_fn)(void *arg, uint8_t *der, size_t len);
bool util_each_cert(const char *cmd, const char *path, util_cert_fn fn,
                    void *arg);

/* Sends a KeyUpdate that asks the peer to update its keys too, on the
 * non-blocking socket fd (blocking for the duration of the write). */
moat_err util_key_update(moat_conn *conn, int fd);

/* TIME as seconds since the epoch or YYYY-MM-DD[THH:MM:SS] (UTC). */
bool util_parse_time(const char *s, int64_t *out);

#endif
