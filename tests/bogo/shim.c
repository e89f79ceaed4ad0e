/* The BoGo shim: BoringSSL's TLS test runner starts this program once per
 * test with command-line flags; it connects back to the runner and speaks
 * TLS through moat's public API only (moat.h), as the flags ask.
 *
 * Protocol (../shared/bogo/README.md): connect to 127.0.0.1 or ::1 at
 * -port, send -shim-id as 8 bytes little-endian, then TLS.  After the
 * handshake, echo what is read with every byte XORed with 0xff until the
 * runner closes.  Exit 0 when the test went as the shim sees it, 1 on a
 * failure (its reason on stderr, with moat's error name between colons so
 * that the runner's ErrorMap can match it), 89 for a flag moat has no
 * feature for.  A flag behind -on-initial- applies to the first connection
 * only, -on-resume- to the later ones, -on-retry- to a 0-RTT retry (never
 * made: moat sends no early data), -on-shim- always, -on-handshaker- never.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "moat.h"

#define EXIT_UNIMPLEMENTED 89
#define MAX_LIST 32

typedef struct config {
  int port;
  unsigned long long shim_id;
  bool ipv6, server, async, verify_peer, verify_fail, require_any_cert;
  bool implicit_handshake, shim_writes_first, shim_shuts_down;
  bool check_close_notify, expect_session_miss, expect_hrr, expect_no_hrr;
  bool key_update, no_op_extra_handshake, expect_verify_result;
  const char *cert_file, *key_file, *trust_cert;
  const char *host_name, *expect_server_name, *expect_peer_cert_file;
  const char *advertise_alpn, *expect_alpn, *select_alpn;
  bool has_expect_alpn;
  int resume_count, min_version, max_version, expect_version;
  int expect_curve, expect_peer_sigalg, expect_cipher, read_size;
  int resumption_delay;
  bool no_ticket, expect_ems;
  int max_send_fragment;
  int curves[MAX_LIST], num_curves;
  int signing_prefs[MAX_LIST], num_signing_prefs;
  int verify_prefs[MAX_LIST], num_verify_prefs;
  bool no_tls13, no_tls12;
  int export_len;
  const char *export_label, *export_context;
  bool use_export_context, tls_unique;
  bool install_cert_comp;    /* the runner's three test algorithms */
  int install_one_cert_comp; /* or only this one of them */
} config;

/* ---- flags ----------------------------------------------------------------*/

typedef enum kind { K_BOOL, K_INT, K_STR, K_LIST } kind;

typedef struct flag {
  const char *name;
  kind kind;
  size_t off;     /* into config */
  size_t num_off; /* K_LIST: the count */
  size_t has_off; /* K_STR with presence that matters, else 0 */
} flag;

#define B(n, f)                                                                \
  { n, K_BOOL, offsetof(config, f), 0, 0 }
#define I(n, f)                                                                \
  { n, K_INT, offsetof(config, f), 0, 0 }
#define S(n, f)                                                                \
  { n, K_STR, offsetof(config, f), 0, 0 }
#define SP(n, f, h)                                                            \
  { n, K_STR, offsetof(config, f), 0, offsetof(config, h) }
#define L(n, f, c)                                                             \
  { n, K_LIST, offsetof(config, f), offsetof(config, c), 0 }

static const flag k_flags[] = {
    I("-port", port),
    B("-ipv6", ipv6),
    B("-server", server),
    B("-async", async),
    B("-verify-peer", verify_peer),
    B("-verify-fail", verify_fail),
    B("-require-any-client-certificate", require_any_cert),
    B("-implicit-handshake", implicit_handshake),
    B("-shim-writes-first", shim_writes_first),
    B("-shim-shuts-down", shim_shuts_down),
    B("-check-close-notify", check_close_notify),
    B("-expect-session-miss", expect_session_miss),
    B("-expect-hrr", expect_hrr),
    B("-expect-extended-master-secret", expect_ems),
    I("-max-send-fragment", max_send_fragment),
    B("-install-cert-compression-algs", install_cert_comp),
    I("-install-one-cert-compression-alg", install_one_cert_comp),
    B("-expect-no-hrr", expect_no_hrr),
    B("-key-update", key_update),
    B("-no-op-extra-handshake", no_op_extra_handshake),
    B("-expect-verify-result", expect_verify_result),
    B("-no-tls13", no_tls13),
    B("-no-tls12", no_tls12),
    S("-cert-file", cert_file),
    S("-key-file", key_file),
    S("-trust-cert", trust_cert),
    S("-host-name", host_name),
    S("-expect-server-name", expect_server_name),
    S("-expect-peer-cert-file", expect_peer_cert_file),
    S("-advertise-alpn", advertise_alpn),
    SP("-expect-alpn", expect_alpn, has_expect_alpn),
    S("-select-alpn", select_alpn),
    I("-resume-count", resume_count),
    I("-min-version", min_version),
    I("-max-version", max_version),
    I("-expect-version", expect_version),
    I("-expect-curve-id", expect_curve),
    I("-expect-peer-signature-algorithm", expect_peer_sigalg),
    I("-expect-cipher", expect_cipher),
    I("-read-size", read_size),
    I("-resumption-delay", resumption_delay),
    B("-no-ticket", no_ticket),
    I("-export-keying-material", export_len),
    S("-export-label", export_label),
    S("-export-context", export_context),
    B("-use-export-context", use_export_context),
    B("-tls-unique", tls_unique),
    L("-curves", curves, num_curves),
    L("-signing-prefs", signing_prefs, num_signing_prefs),
    L("-verify-prefs", verify_prefs, num_verify_prefs),
};

/* Flags that change nothing for moat: the outcome BoringSSL's shim checks
 * is the same whichever of its APIs it used. */
static const char *const k_ignored[] = {
    "-use-custom-verify-callback",   /* same outcomes as the default path */
    "-use-old-client-cert-callback", /* the certificate comes from a file */
    "-no-tls1",                      /* moat never speaks TLS 1.0 */
};

/* Flags whose value is taken whatever the flag (they take an argument). */
static bool takes_value_unknown(const char *name) {
  static const char *const with_value[] = {
      "-export-keying-material",
      "-export-label",
      "-export-context",
      "-ocsp-response",
      "-quic-transport-params",
      "-expect-quic-transport-params",
      "-quic-use-legacy-codepoint",
      "-application-settings",
      "-psk",
      "-psk-identity",
      "-mtu",
      "-expect-peer-application-settings",
      "-ech-config-list",
      "-ech-server-key",
      "-ech-server-config",
      "-ech-is-retry-config",
      "-expect-early-data-reason",
      "-cipher",
      "-send-channel-id",
      "-expect-channel-id",
      "-expect-ocsp-response",
      "-quic-early-data-context",
      "-expect-msg-callback",
      "-select-next-proto",
      "-advertise-npn",
      "-expect-total-renegotiations",
      "-expect-advertised-alpn",
      "-srtp-profiles",
      "-signed-cert-timestamps",
      "-expect-signed-cert-timestamps",
      "-expect-next-proto",
      "-ticket-key",
      "-expect-ech-retry-configs",
      "-use-client-ca-list",
      "-expect-ticket-age-skew",
      "-expect-ech-name-override",
      "-max-send-fragment",
      "-expect-client-ca-list",
      "-expect-peer-verify-pref",
      "-delegated-credential",
      "-expect-cipher-no-aes",
      "-expect-cipher-aes",
      "-max-cert-list",
      "-initial-timeout-duration-ms",
      "-early-write-after-message",
      "-expect-certificate-types",
      "-handshaker-path",
      "-shim-id",
  };
  for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++) {
    if (strcmp(name, with_value[i]) == 0) {
      return true;
    }
  }
  return false;
}

static void unimplemented(const char *name) {
  fprintf(stderr, "shim: %s is not implemented\n", name);
  exit(EXIT_UNIMPLEMENTED);
}

/* Strips a prefix; returns whether the flag applies to connection conn. */
static bool applies(const char **name, int conn) {
  static const struct {
    const char *prefix;
    int which; /* 0 initial, 1 resume, 2 never, 3 always */
  } prefixes[] = {{"-on-initial-", 0},
                  {"-on-resume-", 1},
                  {"-on-retry-", 2},
                  {"-on-shim-", 3},
                  {"-on-handshaker-", 2}};
  bool ok = true;
  for (bool again = true; again;) {
    again = false;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
      size_t n = strlen(prefixes[i].prefix);
      if (strncmp(*name, prefixes[i].prefix, n) == 0) {
        int w = prefixes[i].which;
        ok = ok && (w == 3 || (w == 0 && conn == 0) || (w == 1 && conn > 0));
        *name += n - 1; /* keep the leading '-' */
        again = true;
        break;
      }
    }
  }
  return ok;
}

/* Reads argv into *c for connection number conn (0 = the first). */
static void parse(int argc, char **argv, int conn, config *c) {
  memset(c, 0, sizeof(*c));
  for (int i = 1; i < argc; i++) {
    const char *name = argv[i];
    bool on = applies(&name, conn);
    const flag *f = NULL;
    for (size_t k = 0; k < sizeof(k_flags) / sizeof(k_flags[0]); k++) {
      if (strcmp(name, k_flags[k].name) == 0) {
        f = &k_flags[k];
        break;
      }
    }
    if (strcmp(name, "-shim-id") == 0) {
      if (i + 1 >= argc) {
        unimplemented(name);
      }
      c->shim_id = strtoull(argv[++i], NULL, 10);
      continue;
    }
    if (f == NULL) {
      bool ignored = false;
      for (size_t k = 0; k < sizeof(k_ignored) / sizeof(k_ignored[0]); k++) {
        ignored = ignored || strcmp(name, k_ignored[k]) == 0;
      }
      if (ignored) {
        continue;
      }
      if (!on) {
        /* Not for this connection: skip it (and its value). */
        if (takes_value_unknown(name) && i + 1 < argc) {
          i++;
        }
        continue;
      }
      unimplemented(name);
    }
    char *base = (char *)c;
    if (f->kind == K_BOOL) {
      if (on) {
        *(bool *)(base + f->off) = true;
      }
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "shim: %s needs a value\n", name);
      exit(1);
    }
    const char *v = argv[++i];
    if (!on) {
      continue;
    }
    if (f->kind == K_INT) {
      *(int *)(base + f->off) = atoi(v);
    } else if (f->kind == K_STR) {
      *(const char **)(base + f->off) = v;
      if (f->has_off != 0) {
        *(bool *)(base + f->has_off) = true;
      }
    } else {
      int *n = (int *)(base + f->num_off);
      if (*n < MAX_LIST) {
        ((int *)(base + f->off))[(*n)++] = atoi(v);
      }
    }
  }
}

/* ---- names of code points -------------------------------------------------*/

static const char *group_name(int id) {
  switch (id) {
  case 29:
    return "X25519";
  case 23:
    return "P-256";
  case 24:
    return "P-384";
  case 25:
    return "P-521";
  case 30:
    return "X448";
  default:
    return NULL;
  }
}

/* The name moat_conn_group_name reports for id. */
static const char *group_conn_name(int id) {
  switch (id) {
  case 23:
    return "secp256r1";
  case 24:
    return "secp384r1";
  case 25:
    return "secp521r1";
  default:
    return group_name(id);
  }
}

static const char *sigalg_name(int id) {
  static const struct {
    int id;
    const char *name;
  } k[] = {{0x0401, "rsa_pkcs1_sha256"},
           {0x0501, "rsa_pkcs1_sha384"},
           {0x0601, "rsa_pkcs1_sha512"},
           {0x0403, "ecdsa_secp256r1_sha256"},
           {0x0503, "ecdsa_secp384r1_sha384"},
           {0x0603, "ecdsa_secp521r1_sha512"},
           {0x0804, "rsa_pss_rsae_sha256"},
           {0x0805, "rsa_pss_rsae_sha384"},
           {0x0806, "rsa_pss_rsae_sha512"},
           {0x0807, "ed25519"},
           {0x0808, "ed448"},
           {0x0809, "rsa_pss_pss_sha256"},
           {0x080a, "rsa_pss_pss_sha384"},
           {0x080b, "rsa_pss_pss_sha512"}};
  for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
    if (k[i].id == id) {
      return k[i].name;
    }
  }
  return NULL;
}

static const char *cipher_name(int id) {
  switch (id) {
  case 0x1301:
    return "TLS_AES_128_GCM_SHA256";
  case 0x1302:
    return "TLS_AES_256_GCM_SHA384";
  case 0x1303:
    return "TLS_CHACHA20_POLY1305_SHA256";
  default:
    return NULL;
  }
}

/* ---- failing --------------------------------------------------------------*/

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "shim: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

/* A failed connection: moat's error name between colons, and for an alert
 * who sent which. */
static void fail_conn(moat_conn *conn, const char *what, moat_err e) {
  int alert = -1;
  bool ours = false;
  char alert_text[96] = "";
  if (moat_conn_alert(conn, &alert, &ours)) {
    snprintf(alert_text, sizeof(alert_text),
             " :%s_ALERT_%s:", ours ? "SENT" : "PEER", moat_alert_name(alert));
  }
  fail("%s failed: :%s:%s %s", what, moat_err_name(e), alert_text,
       moat_conn_error_detail(conn));
}

/* ---- the async transport --------------------------------------------------*/

/* Like BoringSSL's -async: every other call would block, the others move
 * at most one byte. */
typedef struct async_io {
  int fd;
  bool turn_send, turn_recv;
} async_io;

static long async_send(void *arg, const uint8_t *d, size_t n, bool *wb) {
  async_io *a = arg;
  *wb = false;
  a->turn_send = !a->turn_send;
  if (a->turn_send) {
    *wb = true;
    return -1;
  }
  long r = send(a->fd, d, n > 0 ? 1 : 0, MSG_NOSIGNAL);
  return r;
}

static long async_recv(void *arg, uint8_t *o, size_t n, bool *wb) {
  async_io *a = arg;
  *wb = false;
  a->turn_recv = !a->turn_recv;
  if (a->turn_recv) {
    *wb = true;
    return -1;
  }
  return recv(a->fd, o, n > 0 ? 1 : 0, 0);
}

static const moat_transport k_async = {async_send, async_recv};

static bool want(moat_err e) {
  return e == MOAT_ERR_WANT_READ || e == MOAT_ERR_WANT_WRITE;
}

/* ---- a connection ---------------------------------------------------------*/

static int64_t g_clock_offset;
static int64_t shim_clock(void *arg) {
  (void)arg;
  return (int64_t)time(NULL) + g_clock_offset;
}

static int connect_runner(const config *c) {
  int fd;
  if (c->ipv6) {
    struct sockaddr_in6 a6;
    memset(&a6, 0, sizeof(a6));
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)c->port);
    a6.sin6_addr = in6addr_loopback;
    fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a6, sizeof(a6)) != 0) {
      fail("connect to [::1]:%d: %s", c->port, strerror(errno));
    }
  } else {
    struct sockaddr_in a4;
    memset(&a4, 0, sizeof(a4));
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)c->port);
    a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a4, sizeof(a4)) != 0) {
      fail("connect to 127.0.0.1:%d: %s", c->port, strerror(errno));
    }
  }
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  uint8_t id[8];
  for (int i = 0; i < 8; i++) {
    id[i] = (uint8_t)(c->shim_id >> (8 * i));
  }
  if (send(fd, id, sizeof(id), MSG_NOSIGNAL) != (long)sizeof(id)) {
    fail("sending the shim id: %s", strerror(errno));
  }
  return fd;
}

/* Turns -advertise-alpn's wire list into names. */
static void set_alpn_wire(moat_context *ctx, const char *wire) {
  static char names[MAX_LIST][256];
  const char *protos[MAX_LIST];
  size_t n = 0, len = strlen(wire), off = 0;
  while (off < len && n < MAX_LIST) {
    size_t l = (uint8_t)wire[off++];
    if (l == 0 || off + l > len) {
      unimplemented("-advertise-alpn (malformed list)");
    }
    memcpy(names[n], wire + off, l);
    names[n][l] = '\0';
    protos[n] = names[n];
    n++;
    off += l;
  }
  if (moat_context_set_alpn_protocols(ctx, protos, n) != MOAT_OK) {
    fail("ALPN list refused: %s", moat_context_error_detail(ctx));
  }
}

enum { LIST_GROUPS, LIST_SIGNING, LIST_VERIFY };

static void set_list(moat_context *ctx, const int *ids, int n, int which) {
  bool groups = which == LIST_GROUPS;
  char list[1024] = "";
  for (int i = 0; i < n; i++) {
    const char *name = groups ? group_name(ids[i]) : sigalg_name(ids[i]);
    if (name == NULL) {
      unimplemented(groups ? "-curves (a group moat lacks)"
                           : "-signing-prefs/-verify-prefs (a scheme moat "
                             "lacks)");
    }
    if (i > 0) {
      strcat(list, ":");
    }
    strcat(list, name);
  }
  moat_err e = groups ? moat_context_set_groups(ctx, list)
               : which == LIST_SIGNING
                   ? moat_context_set_signing_sigalgs(ctx, list)
                   : moat_context_set_verify_sigalgs(ctx, list);
  if (e != MOAT_OK) {
    /* e.g. PKCS#1 v1.5 only: moat does not sign with it in TLS 1.3 */
    unimplemented(groups ? "-curves" : "-signing-prefs/-verify-prefs");
  }
}

static int version_of(int v) {
  switch (v) {
  case 0:
    return 0;
  case 771:
    return MOAT_TLS1_2;
  case 772:
    return MOAT_TLS1_3;
  default:
    return -1; /* SSL 3.0 .. TLS 1.1, DTLS */
  }
}

/* Builds a context for config c (a server's is kept across connections
 * for its ticket keys; see main). */
static long refuse_peer(void *arg, moat_conn *conn, long code) {
  (void)arg;
  (void)conn;
  (void)code;
  return MOAT_VERIFY_APPLICATION_REJECTED;
}

/* ---- the runner's certificate compression algorithms (RFC 8879) ----------
 * The three test algorithms of runner.go (addCertCompressionTests), with
 * the same code points and prefixes, through
 * moat_context_add_cert_compressor. */

#define ALG_SHRINKING 0xff01 /* drops the Certificate's first two bytes */
#define ALG_EXPANDING 0xff02 /* prepends 1 2 3 4 */
#define ALG_RANDOM 0xff03    /* prepends one random byte */

static const uint8_t k_shrinking_prefix[2] = {0, 0};
static const uint8_t k_expanding_prefix[4] = {1, 2, 3, 4};

static size_t shrink(void *arg, const uint8_t *in, size_t in_len, uint8_t *out,
                     size_t cap) {
  (void)arg;
  if (in_len < 2 || memcmp(in, k_shrinking_prefix, 2) != 0 ||
      in_len - 2 > cap || in_len == 2) {
    return 0;
  }
  memcpy(out, in + 2, in_len - 2);
  return in_len - 2;
}

static bool unshrink(void *arg, const uint8_t *in, size_t in_len, uint8_t *out,
                     size_t out_len) {
  (void)arg;
  if (out_len != in_len + 2) {
    return false;
  }
  memcpy(out, k_shrinking_prefix, 2);
  memcpy(out + 2, in, in_len);
  return true;
}

static size_t expand(void *arg, const uint8_t *in, size_t in_len, uint8_t *out,
                     size_t cap) {
  (void)arg;
  if (in_len + 4 > cap) {
    return 0;
  }
  memcpy(out, k_expanding_prefix, 4);
  memcpy(out + 4, in, in_len);
  return in_len + 4;
}

static bool unexpand(void *arg, const uint8_t *in, size_t in_len, uint8_t *out,
                     size_t out_len) {
  (void)arg;
  if (in_len != out_len + 4 || memcmp(in, k_expanding_prefix, 4) != 0) {
    return false;
  }
  memcpy(out, in + 4, out_len);
  return true;
}

static size_t randomize(void *arg, const uint8_t *in, size_t in_len,
                        uint8_t *out, size_t cap) {
  (void)arg;
  if (in_len + 1 > cap) {
    return 0;
  }
  out[0] = (uint8_t)rand();
  memcpy(out + 1, in, in_len);
  return in_len + 1;
}

static bool unrandomize(void *arg, const uint8_t *in, size_t in_len,
                        uint8_t *out, size_t out_len) {
  (void)arg;
  if (in_len != out_len + 1) {
    return false;
  }
  memcpy(out, in + 1, out_len);
  return true;
}

static void install_cert_compressors(moat_context *ctx, const config *c) {
  /* The server's preference is this order (CertCompressionPriority
   * wants the expanding one over the shrinking one). */
  static const moat_cert_compressor k_algs[3] = {
      {ALG_EXPANDING, expand, unexpand, NULL},
      {ALG_SHRINKING, shrink, unshrink, NULL},
      {ALG_RANDOM, randomize, unrandomize, NULL},
  };
  for (size_t i = 0; i < 3; i++) {
    if ((c->install_cert_comp ||
         c->install_one_cert_comp == (int)k_algs[i].alg) &&
        moat_context_add_cert_compressor(ctx, &k_algs[i]) != MOAT_OK) {
      fail("moat_context_add_cert_compressor: %s",
           moat_context_error_detail(ctx));
    }
  }
}

static moat_context *make_context(const config *c) {
  moat_context *ctx =
      moat_context_new(c->server ? MOAT_ROLE_SERVER : MOAT_ROLE_CLIENT);
  if (ctx == NULL) {
    fail("moat_context_new");
  }
  moat_context_set_clock(ctx, shim_clock, NULL);
  install_cert_compressors(ctx, c);
  if (c->cert_file != NULL &&
      moat_context_load_cert_chain(ctx, c->cert_file, c->key_file, NULL) !=
          MOAT_OK) {
    fail("loading %s: %s", c->cert_file, moat_context_error_detail(ctx));
  }
  /* The runner's certificates are for the name "test"; BoringSSL's shim
   * checks no host name. */
  moat_context_set_check_hostname(ctx, false);
  moat_verify_mode mode = MOAT_VERIFY_NONE;
  if (c->server) {
    if (c->require_any_cert) {
      mode = MOAT_VERIFY_REQUIRED;
    } else if (c->verify_peer) {
      mode = MOAT_VERIFY_OPTIONAL;
    }
  } else if (c->verify_peer) {
    mode = MOAT_VERIFY_REQUIRED;
  }
  if (c->verify_fail) {
    /* BoringSSL's verify callback reports failure: moat's refuses.
     * Without -verify-peer BoringSSL goes on and only records the
     * failure (a soft failure); moat's callback runs only when moat
     * verifies, and a refusal ends the handshake. */
    if (mode == MOAT_VERIFY_NONE) {
      unimplemented("-verify-fail without -verify-peer (a soft failure)");
    }
    moat_context_set_verify_callback(ctx, refuse_peer, NULL);
  }
  if (mode != MOAT_VERIFY_NONE && c->trust_cert != NULL &&
      moat_context_load_verify_locations(ctx, c->trust_cert, NULL, NULL, 0) !=
          MOAT_OK) {
    fail("loading %s: %s", c->trust_cert, moat_context_error_detail(ctx));
  }
  /* The runner's chains are self-signed leaves or short chains whose root
   * is the trust anchor; either is an anchor here. */
  moat_context_set_verify_flags(ctx, MOAT_VERIFY_X509_PARTIAL_CHAIN);
  moat_context_set_verify_mode(ctx, mode);
  int minv = version_of(c->min_version), maxv = version_of(c->max_version);
  if (c->no_tls13) {
    maxv = MOAT_TLS1_2;
  }
  if (c->no_tls12 && (minv == 0 || minv == MOAT_TLS1_2)) {
    minv = MOAT_TLS1_3;
  }
  if (minv < 0 || maxv < 0) {
    unimplemented("-min-version/-max-version below TLS 1.2");
  }
  if ((minv != 0 && moat_context_set_min_version(ctx, minv) != MOAT_OK) ||
      (maxv != 0 && moat_context_set_max_version(ctx, maxv) != MOAT_OK)) {
    unimplemented("a version moat does not build");
  }
  if (c->num_curves > 0) {
    set_list(ctx, c->curves, c->num_curves, LIST_GROUPS);
  }
  if (c->num_signing_prefs > 0) {
    set_list(ctx, c->signing_prefs, c->num_signing_prefs, LIST_SIGNING);
  }
  if (c->num_verify_prefs > 0) {
    set_list(ctx, c->verify_prefs, c->num_verify_prefs, LIST_VERIFY);
  }
  if (!c->server && c->advertise_alpn != NULL) {
    set_alpn_wire(ctx, c->advertise_alpn);
  }
  if (c->server && c->select_alpn != NULL) {
    const char *one[1] = {c->select_alpn};
    if (c->select_alpn[0] == '\0') {
      unimplemented("-select-alpn \"\"");
    }
    if (moat_context_set_alpn_protocols(ctx, one, 1) != MOAT_OK) {
      fail("ALPN refused: %s", moat_context_error_detail(ctx));
    }
  }
  if (c->max_send_fragment != 0 &&
      moat_context_set_max_send_fragment(ctx, (size_t)c->max_send_fragment) !=
          MOAT_OK) {
    fail("-max-send-fragment: %s", moat_context_error_detail(ctx));
  }
  return ctx;
}

static void check_peer_cert_file(moat_conn *conn, const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fail("opening %s", path);
  }
  static uint8_t pem[65536];
  size_t n = fread(pem, 1, sizeof(pem) - 1, f);
  fclose(f);
  pem[n] = '\0';
  /* Each certificate of the file, in order, against the peer's chain. */
  size_t idx = 0;
  const char *p = (const char *)pem;
  while ((p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL) {
    moat_cert *cert = NULL;
    if (moat_cert_from_pem((const uint8_t *)p, strlen(p), &cert) != MOAT_OK) {
      fail("parsing %s", path);
    }
    const uint8_t *want_der, *got_der;
    size_t want_len, got_len;
    moat_cert_der(cert, &want_der, &want_len);
    if (moat_conn_peer_cert_der(conn, idx, &got_der, &got_len) != MOAT_OK ||
        got_len != want_len || memcmp(got_der, want_der, got_len) != 0) {
      moat_cert_free(cert);
      fail("peer certificate %zu differs from %s", idx, path);
    }
    moat_cert_free(cert);
    idx++;
    p++;
  }
  if (idx != moat_conn_peer_chain_len(conn)) {
    fail("the peer sent %zu certificates, %s holds %zu",
         moat_conn_peer_chain_len(conn), path, idx);
  }
}

/* The checks BoringSSL's shim makes after a handshake. */
static void check_handshake(const config *c, moat_conn *conn, bool resume) {
  bool reused = moat_conn_session_reused(conn);
  if (resume && reused == c->expect_session_miss) {
    fail("session %s, expected %s", reused ? "reused" : "not reused",
         c->expect_session_miss ? "a miss" : "resumption");
  }
  if (!resume && reused) {
    fail("the first connection resumed a session");
  }
  if (c->expect_ems && !moat_conn_extended_master_secret(conn)) {
    fail("no extended master secret");
  }
  if (c->expect_hrr && !moat_conn_hello_retry(conn)) {
    fail("expected a HelloRetryRequest");
  }
  if (c->expect_no_hrr && moat_conn_hello_retry(conn)) {
    fail("expected no HelloRetryRequest");
  }
  if (c->expect_version != 0 && moat_conn_version(conn) != c->expect_version) {
    fail("version 0x%04x, expected %d", moat_conn_version(conn),
         c->expect_version);
  }
  if (c->expect_curve != 0) {
    const char *got = moat_conn_group_name(conn);
    const char *want_name = group_conn_name(c->expect_curve);
    if (got == NULL || want_name == NULL || strcmp(got, want_name) != 0) {
      fail("group %s, expected %d", got ? got : "(none)", c->expect_curve);
    }
  }
  /* moat reports the peer's signature scheme for the connection that
   * checked one; a resumed one (PSK) checked none. */
  if (c->expect_peer_sigalg != 0 && !reused) {
    const char *got = moat_conn_peer_sigalg_name(conn);
    const char *want_name = sigalg_name(c->expect_peer_sigalg);
    if (got == NULL || want_name == NULL || strcmp(got, want_name) != 0) {
      fail("peer signature algorithm %s, expected 0x%04x", got ? got : "(none)",
           c->expect_peer_sigalg);
    }
  }
  if (c->expect_cipher != 0) {
    const char *got = moat_conn_cipher_name(conn);
    const char *want_name = cipher_name(c->expect_cipher);
    if (got == NULL || want_name == NULL || strcmp(got, want_name) != 0) {
      fail("cipher %s, expected 0x%04x", got ? got : "(none)",
           c->expect_cipher);
    }
  }
  const char *alpn = moat_conn_alpn(conn);
  if (!c->server || c->has_expect_alpn) {
    const char *want_alpn = c->has_expect_alpn ? c->expect_alpn : "";
    if (strcmp(alpn ? alpn : "", want_alpn) != 0) {
      fail("ALPN \"%s\", expected \"%s\"", alpn ? alpn : "", want_alpn);
    }
  }
  if (c->expect_server_name != NULL) {
    const char *sni = moat_conn_server_name(conn);
    if (sni == NULL || strcmp(sni, c->expect_server_name) != 0) {
      fail("server name \"%s\", expected \"%s\"", sni ? sni : "(none)",
           c->expect_server_name);
    }
  }
  if (c->expect_peer_cert_file != NULL) {
    check_peer_cert_file(conn, c->expect_peer_cert_file);
  }
  if (c->expect_verify_result && c->verify_peer &&
      (moat_conn_verify_code(conn) != 0) != c->verify_fail) {
    fail("verify result %ld", moat_conn_verify_code(conn));
  }
}

static void flush_all(moat_conn *conn) {
  moat_err e;
  while ((e = moat_conn_flush(conn)) == MOAT_ERR_WANT_WRITE) {
  }
  if (e != MOAT_OK) {
    fail_conn(conn, "flush", e);
  }
}

static void write_all(moat_conn *conn, const uint8_t *d, size_t n) {
  size_t w = 0;
  moat_err e;
  while ((e = moat_conn_write(conn, d, n, &w)) != MOAT_OK) {
    if (!want(e)) {
      fail_conn(conn, "write", e);
    }
  }
  flush_all(conn);
}

/* One connection; returns the session a client got, for the next. */
static moat_session *run_conn(const config *c, moat_context *ctx,
                              moat_session *session, bool resume) {
  int fd = connect_runner(c);
  moat_conn *conn = moat_conn_new(ctx);
  async_io aio = {fd, false, false};
  if (conn == NULL) {
    fail("moat_conn_new");
  }
  if (c->async) {
    moat_conn_set_transport(conn, &k_async, &aio);
  } else {
    moat_conn_set_fd(conn, fd);
  }
  if (!c->server) {
    if (c->host_name != NULL &&
        moat_conn_set_hostname(conn, c->host_name) != MOAT_OK) {
      fail("host name \"%s\" refused", c->host_name);
    }
    if (session != NULL) {
      moat_conn_set_session(conn, session);
    }
  }
  moat_err e = MOAT_ERR_WANT_READ;
  if (!c->implicit_handshake) {
    while (want(e = moat_conn_handshake(conn))) {
    }
    if (e != MOAT_OK) {
      fail_conn(conn, "handshake", e);
    }
    if (c->no_op_extra_handshake &&
        (e = moat_conn_handshake(conn)) != MOAT_OK) {
      fail_conn(conn, "extra handshake", e);
    }
  }
  uint8_t buf[16384];
  size_t got = 0;
  if (c->implicit_handshake && !c->shim_writes_first) {
    /* The first read drives the handshake. */
    while (want(e = moat_conn_read(conn, buf, 1, &got))) {
    }
    if (e != MOAT_OK && e != MOAT_ERR_CLOSED) {
      fail_conn(conn, "read", e);
    }
  }
  check_handshake(c, conn, resume);
  if (c->export_len > 0) {
    static uint8_t ekm[16384];
    const char *ctx_text = c->export_context ? c->export_context : "";
    size_t n = (size_t)c->export_len < sizeof(ekm) ? (size_t)c->export_len
                                                   : sizeof(ekm);
    e = moat_conn_export_keying_material(
        conn, c->export_label ? c->export_label : "", (const uint8_t *)ctx_text,
        strlen(ctx_text), c->use_export_context, ekm, n);
    if (e != MOAT_OK) {
      fail_conn(conn, "failed to export keying material", e);
    }
    write_all(conn, ekm, n);
  }
  if (c->tls_unique) {
    uint8_t tu[64];
    size_t n = 0;
    e = moat_conn_tls_unique(conn, tu, sizeof(tu), &n);
    if (e != MOAT_OK) {
      fail_conn(conn, "failed to get tls-unique", e);
    }
    write_all(conn, tu, n);
  }
  if (c->shim_writes_first) {
    write_all(conn, (const uint8_t *)"hello", 5);
  }
  if (c->key_update) {
    while (want(e = moat_conn_key_update(conn, false))) {
    }
    if (e != MOAT_OK) {
      fail_conn(conn, "KeyUpdate", e);
    }
    flush_all(conn);
  }
  size_t max_read = c->read_size > 0 && c->read_size < (int)sizeof(buf)
                        ? (size_t)c->read_size
                        : 512;
  bool closed = e == MOAT_ERR_CLOSED;
  if (got > 0) {
    buf[0] ^= 0xff;
    write_all(conn, buf, got);
  }
  while (!c->shim_shuts_down && !closed) {
    e = moat_conn_read(conn, buf, max_read, &got);
    if (want(e)) {
      continue;
    }
    if (e == MOAT_ERR_CLOSED) {
      break;
    }
    if (e != MOAT_OK) {
      fail_conn(conn, "read", e);
    }
    for (size_t i = 0; i < got; i++) {
      buf[i] ^= 0xff;
    }
    write_all(conn, buf, got);
  }
  if (c->shim_shuts_down || c->check_close_notify) {
    e = moat_conn_shutdown(conn);
    if (c->check_close_notify) {
      while (want(e)) {
        e = moat_conn_shutdown(conn);
        if (e == MOAT_ERR_WANT_READ && moat_conn_pending(conn) > 0) {
          /* data after our close_notify: read it and go on waiting */
          (void)moat_conn_read(conn, buf, sizeof(buf), &got);
        }
      }
      if (e != MOAT_OK && e != MOAT_ERR_CLOSED) {
        fail_conn(conn, "shutdown", e);
      }
    } else if (e != MOAT_OK && !want(e)) {
      fail_conn(conn, "shutdown", e);
    }
  }
  moat_session *next = c->server ? NULL : moat_conn_get_session(conn);
  /* stdout is shown only when a test fails */
  printf("connection %s: %s, %s%s\n", resume ? "resumed" : "first",
         moat_conn_version_name(conn) ? moat_conn_version_name(conn) : "-",
         moat_conn_session_reused(conn) ? "reused" : "full handshake",
         c->server      ? ""
         : next != NULL ? ", got a ticket"
                        : ", no ticket");
  moat_conn_free(conn);
  close(fd);
  return next;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-is-handshaker-supported") == 0) {
      printf("No\n");
      return 0;
    }
  }
  config c0;
  parse(argc, argv, 0, &c0);
  moat_context *server_ctx = NULL;
  moat_session *session = NULL;
  for (int i = 0; i <= c0.resume_count; i++) {
    config c;
    parse(argc, argv, i, &c);
    if (i > 0) {
      g_clock_offset += c.resumption_delay;
    }
    /* A server keeps its first context (ticket keys); a client makes one
     * per connection, as the flags for it say. */
    moat_context *ctx;
    if (c.server) {
      if (server_ctx == NULL) {
        server_ctx = make_context(&c);
      }
      ctx = server_ctx;
    } else {
      ctx = make_context(&c);
    }
    /* SSL_OP_NO_TICKET, per connection (a server's context is kept) */
    moat_context_set_session_tickets(ctx, !c.no_ticket);
    moat_session *next = run_conn(&c, ctx, session, i > 0);
    moat_session_free(session);
    session = next;
    if (!c.server) {
      moat_context_free(ctx);
    }
  }
  moat_session_free(session);
  moat_context_free(server_ctx);
  return 0;
}
