/* moat-bench: the driver.  See docs/performance.md for the method.
 *
 *   moat-bench [--quick] [--json FILE] [--lib a,b] [--only SUBSTR]
 *   moat-bench --one full|resume --lib NAME [--repeat N]
 *       (one measured handshake for bench/instructions.sh; N of them for
 *       perf record)
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <openssl/crypto.h>

#include "bench.h"

bool bench_quiet;

#define NLIB 3
#define MAX_RUNS 16
#define BULK_UNIT (1024 * 1024)

static const bench_lib *const g_libs[NLIB] = {
    &bench_lib_moat, &bench_lib_openssl, &bench_lib_gnutls};
static bool g_lib_on[NLIB] = {true, true, true};

/* ---- byte queue
 * ------------------------------------------------------------*/

uint8_t *byteq_reserve(byteq *q, size_t n) {
  if (q->off == q->len)
    q->off = q->len = 0;
  if (q->cap - q->len < n) {
    if (q->off > 0) { /* slide the unread bytes to the front */
      memmove(q->buf, q->buf + q->off, q->len - q->off);
      q->len -= q->off;
      q->off = 0;
    }
    if (q->cap - q->len < n) {
      size_t cap = q->cap ? q->cap : 4096;
      while (cap - q->len < n)
        cap *= 2;
      uint8_t *buf = bench_realloc(q->buf, cap);
      if (buf == NULL)
        return NULL;
      q->buf = buf;
      q->cap = cap;
    }
  }
  return q->buf + q->len;
}

bool byteq_push(byteq *q, const uint8_t *data, size_t len) {
  uint8_t *dst = byteq_reserve(q, len);
  if (dst == NULL)
    return false;
  memcpy(dst, data, len);
  q->len += len;
  return true;
}

size_t byteq_pull(byteq *q, uint8_t *out, size_t cap) {
  size_t n = byteq_avail(q) < cap ? byteq_avail(q) : cap;
  memcpy(out, q->buf + q->off, n);
  q->off += n;
  if (q->off == q->len)
    q->off = q->len = 0;
  return n;
}

void byteq_free(byteq *q) {
  bench_free(q->buf);
  memset(q, 0, sizeof(*q));
}

/* ---- figures
 * ---------------------------------------------------------------*/

typedef enum fig_kind {
  K_HS,     /* full handshakes per CPU second */
  K_RESUME, /* resumed handshakes per CPU second */
  K_BULK,   /* MB/s client -> server */
  K_MEM,    /* measured by measure_memory(), not timed */
  K_KEM,    /* one ML-KEM-768 operation (chunk: KEM_*), moat only */
} fig_kind;

typedef enum mem_id {
  M_IDLE_CLIENT,
  M_IDLE_SERVER,
  M_IDLE_CLIENT_BLOCKS,
  M_IDLE_SERVER_BLOCKS,
  M_IDLE_CLIENT_RELEASED,
  M_IDLE_SERVER_RELEASED,
  M_PEAK_HS,
  M_ALLOCS_HS,
  M_ALLOCS_RESUME,
  M_ALLOCS_HS_OWN,
  M_ALLOCS_RESUME_OWN,
  M_ALLOCS_BULK_16K,
  M_ALLOCS_BULK_1K,
  M_IDLE_CLIENT_12,
  M_IDLE_SERVER_12,
  M_ALLOCS_HS_12,
  M_ALLOCS_RESUME_12,
  M_ALLOCS_RESUME_12_OWN,
  M_IDLE_CLIENT_PQ, /* after an X25519MLKEM768 handshake (moat only) */
  M_IDLE_SERVER_PQ,
  M_PEAK_HS_PQ,
  M__COUNT
} mem_id;

typedef struct figure {
  const char *name;
  const char *unit;
  fig_kind kind;
  bench_cfg cfg;
  size_t chunk; /* K_BULK: bytes per write */
  mem_id mem;   /* K_MEM */
  bool has[NLIB];
  double val[NLIB];
  double spread[NLIB]; /* (max - min) / median of the timed runs */
  bool has_floor;
  double floor;
} figure;

#define FIG(n, u, k, c, ch, m)                                                 \
  { .name = (n), .unit = (u), .kind = (k), .cfg = c, .chunk = (ch), .mem = (m) }
#define CFG(c, g, s, t)                                                        \
  { .cert = (c), .group = (g), .suite = (s), .tickets = (t) }
#define CFG12(c, t, sid)                                                       \
  {                                                                            \
    .cert = (c), .group = GROUP_X25519, .suite = SUITE_AES128GCM,              \
    .tickets = (t), .tls12 = true, .session_id = (sid)                         \
  }
/* A TLS 1.2 memory figure: the probe asks whether moat's TLS 1.2 works. */
#define MEM12                                                                  \
  { .tls12 = true }

static figure g_figs[] = {
    FIG("hs.tls13.x25519.ecdsa", "hs/s", K_HS,
        CFG(CERT_ECDSA, GROUP_X25519, SUITE_AES128GCM, false), 0, 0),
    FIG("hs.tls13.x25519.rsa2048", "hs/s", K_HS,
        CFG(CERT_RSA, GROUP_X25519, SUITE_AES128GCM, false), 0, 0),
    FIG("hs.tls13.p256.ecdsa", "hs/s", K_HS,
        CFG(CERT_ECDSA, GROUP_P256, SUITE_AES128GCM, false), 0, 0),
    FIG("hs.tls13.x25519mlkem768.ecdsa", "hs/s", K_HS,
        CFG(CERT_ECDSA, GROUP_X25519MLKEM768, SUITE_AES128GCM, false), 0, 0),
    FIG("resume.tls13.psk_dhe", "hs/s", K_RESUME,
        CFG(CERT_ECDSA, GROUP_X25519, SUITE_AES128GCM, true), 0, 0),
    FIG("resume.tls13.psk_dhe.x25519mlkem768", "hs/s", K_RESUME,
        CFG(CERT_ECDSA, GROUP_X25519MLKEM768, SUITE_AES128GCM, true), 0, 0),
    /* moat's ML-KEM-768; the floor column is libcrypto's X25519 key
     * generation. */
    FIG("kem.mlkem768.keygen", "op/s", K_KEM, CFG(0, 0, 0, false), KEM_KEYGEN,
        0),
    FIG("kem.mlkem768.encaps", "op/s", K_KEM, CFG(0, 0, 0, false), KEM_ENCAPS,
        0),
    FIG("kem.mlkem768.decaps", "op/s", K_KEM, CFG(0, 0, 0, false), KEM_DECAPS,
        0),
    /* TLS 1.2: null for moat until it has TLS 1.2. */
    FIG("hs.tls12.x25519.ecdsa", "hs/s", K_HS, CFG12(CERT_ECDSA, false, false),
        0, 0),
    FIG("hs.tls12.x25519.rsa2048", "hs/s", K_HS, CFG12(CERT_RSA, false, false),
        0, 0),
    FIG("resume.tls12.ticket", "hs/s", K_RESUME, CFG12(CERT_ECDSA, true, false),
        0, 0),
    FIG("resume.tls12.session_id", "hs/s", K_RESUME,
        CFG12(CERT_ECDSA, false, true), 0, 0),
    FIG("bulk.tls13.aes128gcm.16k", "MB/s", K_BULK,
        CFG(CERT_ECDSA, GROUP_X25519, SUITE_AES128GCM, false), 16384, 0),
    FIG("bulk.tls13.aes128gcm.1k", "MB/s", K_BULK,
        CFG(CERT_ECDSA, GROUP_X25519, SUITE_AES128GCM, false), 1024, 0),
    FIG("bulk.tls12.aes128gcm.16k", "MB/s", K_BULK,
        CFG12(CERT_ECDSA, false, false), 16384, 0),
    FIG("bulk.tls12.aes128gcm.1k", "MB/s", K_BULK,
        CFG12(CERT_ECDSA, false, false), 1024, 0),
    FIG("bulk.tls13.aes256gcm.16k", "MB/s", K_BULK,
        CFG(CERT_ECDSA, GROUP_X25519, SUITE_AES256GCM, false), 16384, 0),
    FIG("bulk.tls13.aes256gcm.1k", "MB/s", K_BULK,
        CFG(CERT_ECDSA, GROUP_X25519, SUITE_AES256GCM, false), 1024, 0),
    FIG("bulk.tls13.chacha20.16k", "MB/s", K_BULK,
        CFG(CERT_ECDSA, GROUP_X25519, SUITE_CHACHA20, false), 16384, 0),
    FIG("bulk.tls13.chacha20.1k", "MB/s", K_BULK,
        CFG(CERT_ECDSA, GROUP_X25519, SUITE_CHACHA20, false), 1024, 0),
    FIG("mem.idle.client", "bytes", K_MEM, CFG(0, 0, 0, false), 0,
        M_IDLE_CLIENT),
    FIG("mem.idle.server", "bytes", K_MEM, CFG(0, 0, 0, false), 0,
        M_IDLE_SERVER),
    FIG("mem.idle.client.blocks", "blocks", K_MEM, CFG(0, 0, 0, false), 0,
        M_IDLE_CLIENT_BLOCKS),
    FIG("mem.idle.server.blocks", "blocks", K_MEM, CFG(0, 0, 0, false), 0,
        M_IDLE_SERVER_BLOCKS),
    FIG("mem.idle.client.released", "bytes", K_MEM, CFG(0, 0, 0, false), 0,
        M_IDLE_CLIENT_RELEASED),
    FIG("mem.idle.server.released", "bytes", K_MEM, CFG(0, 0, 0, false), 0,
        M_IDLE_SERVER_RELEASED),
    FIG("mem.idle.client.tls12", "bytes", K_MEM, MEM12, 0, M_IDLE_CLIENT_12),
    FIG("mem.idle.server.tls12", "bytes", K_MEM, MEM12, 0, M_IDLE_SERVER_12),
    FIG("mem.idle.client.x25519mlkem768", "bytes", K_MEM, CFG(0, 0, 0, false),
        0, M_IDLE_CLIENT_PQ),
    FIG("mem.idle.server.x25519mlkem768", "bytes", K_MEM, CFG(0, 0, 0, false),
        0, M_IDLE_SERVER_PQ),
    FIG("mem.peak.hs.tls13.x25519mlkem768.ecdsa", "bytes", K_MEM,
        CFG(0, 0, 0, false), 0, M_PEAK_HS_PQ),
    FIG("mem.peak.hs.tls13.x25519.ecdsa", "bytes", K_MEM, CFG(0, 0, 0, false),
        0, M_PEAK_HS),
    FIG("allocs.hs.tls13.x25519.ecdsa", "allocs", K_MEM, CFG(0, 0, 0, false), 0,
        M_ALLOCS_HS),
    FIG("allocs.resume.tls13.psk_dhe", "allocs", K_MEM, CFG(0, 0, 0, false), 0,
        M_ALLOCS_RESUME),
    FIG("allocs.hs.tls12.x25519.ecdsa", "allocs", K_MEM, MEM12, 0,
        M_ALLOCS_HS_12),
    FIG("allocs.resume.tls12.ticket", "allocs", K_MEM, MEM12, 0,
        M_ALLOCS_RESUME_12),
    FIG("allocs.resume.tls12.ticket.own", "allocs", K_MEM, MEM12, 0,
        M_ALLOCS_RESUME_12_OWN),
    FIG("allocs.hs.tls13.x25519.ecdsa.own", "allocs", K_MEM,
        CFG(0, 0, 0, false), 0, M_ALLOCS_HS_OWN),
    FIG("allocs.resume.tls13.psk_dhe.own", "allocs", K_MEM, CFG(0, 0, 0, false),
        0, M_ALLOCS_RESUME_OWN),
    FIG("allocs.bulk.tls13.aes128gcm.16k", "allocs/MB", K_MEM,
        CFG(0, 0, 0, false), 0, M_ALLOCS_BULK_16K),
    FIG("allocs.bulk.tls13.aes128gcm.1k", "allocs/MB", K_MEM,
        CFG(0, 0, 0, false), 0, M_ALLOCS_BULK_1K),
};
#define NFIG (sizeof(g_figs) / sizeof(g_figs[0]))

/* ---- options
 * ---------------------------------------------------------------*/

typedef struct opts {
  bool quick;
  const char *json;
  const char *only;
  const char *one; /* "full" or "resume" */
  long repeat;     /* --one: measured handshakes (for perf record) */
  int runs;
  double target; /* CPU seconds per timed run */
} opts;

static uint8_t g_data[16384];

/* ---- timed figures
 * ---------------------------------------------------------*/

typedef struct slot {
  void *env;
  void *pair; /* K_BULK: an established pair */
} slot;

static void slot_free(const bench_lib *lib, slot *s) {
  if (s->pair)
    lib->pair_free(s->pair);
  if (s->env)
    lib->env_free(s->env);
  memset(s, 0, sizeof(*s));
}

/* One handshake between fresh connections; resume: offer the saved
 * session and require that it was accepted. */
static bool one_handshake(const bench_lib *lib, void *env, bool resume) {
  void *pair = lib->pair_new(env, resume);
  bool ok = pair != NULL && lib->handshake(pair);
  if (ok && resume)
    ok = lib->resumed(pair);
  if (pair)
    lib->pair_free(pair);
  return ok;
}

static bool save_session(const bench_lib *lib, void *env) {
  void *pair = lib->pair_new(env, false);
  bool ok =
      pair != NULL && lib->handshake(pair) && lib->save_session(env, pair);
  if (pair)
    lib->pair_free(pair);
  return ok;
}

/* Build what a figure needs and check once that it works. */
static bool slot_prepare(const bench_lib *lib, const bench_pki *pki,
                         const figure *f, slot *s) {
  memset(s, 0, sizeof(*s));
  if (f->kind == K_KEM)
    return lib == &bench_lib_moat && bench_kem_op((int)f->chunk);
  s->env = lib->env_new(pki, &f->cfg);
  bool ok = s->env != NULL;
  switch (f->kind) {
  case K_HS:
    ok = ok && one_handshake(lib, s->env, false);
    break;
  case K_RESUME:
    ok = ok && save_session(lib, s->env) && one_handshake(lib, s->env, true);
    break;
  case K_BULK:
    ok = ok && (s->pair = lib->pair_new(s->env, false)) != NULL &&
         lib->handshake(s->pair) &&
         lib->bulk(s->pair, g_data, f->chunk, 64 * 1024);
    break;
  case K_MEM:
  default:
    ok = false;
    break;
  }
  if (!ok)
    slot_free(lib, s);
  return ok;
}

/* Runs for about `target` CPU seconds; the figure's rate, or < 0. */
static double timed_run(const bench_lib *lib, slot *s, const figure *f,
                        double target) {
  double t0 = cpu_now();
  double t = t0;
  double units = 0;
  do {
    switch (f->kind) {
    case K_HS:
    case K_RESUME: {
      void *pair = lib->pair_new(s->env, f->kind == K_RESUME);
      bool ok = pair != NULL && lib->handshake(pair);
      if (pair)
        lib->pair_free(pair);
      if (!ok)
        return -1;
      units += 1;
      break;
    }
    case K_BULK:
      if (!lib->bulk(s->pair, g_data, f->chunk, BULK_UNIT))
        return -1;
      units += BULK_UNIT / 1e6;
      break;
    case K_KEM:
      for (int i = 0; i < 8; i++)
        if (!bench_kem_op((int)f->chunk))
          return -1;
      units += 8;
      break;
    case K_MEM:
    default:
      return -1;
    }
    t = cpu_now();
  } while (t - t0 < target);
  return units / (t - t0);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a;
  double y = *(const double *)b;
  return (x > y) - (x < y);
}

static figure *fig_named(const char *name) {
  for (size_t i = 0; i < NFIG; i++)
    if (strcmp(g_figs[i].name, name) == 0)
      return &g_figs[i];
  return NULL;
}

/* --only takes substrings separated by commas; a figure matching any of
 * them is selected. */
static bool fig_selected(const figure *f, const opts *o) {
  if (o->only == NULL)
    return true;
  for (const char *p = o->only; *p != '\0';) {
    size_t n = strcspn(p, ",");
    char part[64];
    if (n > 0 && n < sizeof(part)) {
      memcpy(part, p, n);
      part[n] = '\0';
      if (strstr(f->name, part) != NULL)
        return true;
    }
    p += n + (p[n] == ',');
  }
  return false;
}

/* moat's engine is young: whether each figure works for moat is found out
 * in a child process first, so that a crash or a hang there costs moat its
 * figures, not the whole run.  ok[i] says figure i may be measured. */
static void probe_moat(const bench_pki *pki, const opts *o, bool ok[NFIG]) {
  memset(ok, 0, NFIG * sizeof(bool));
  if (!g_lib_on[0])
    return;
  if (!bench_moat_linked()) {
    fprintf(stderr, "moat: the engine is not in this build; moat's figures "
                    "are null\n");
    return;
  }
  int fds[2];
  if (pipe(fds) != 0)
    return;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return;
  }
  if (pid == 0) {
    close(fds[0]);
    alarm(60);
    /* Verification must be on: a wrong name and a wrong anchor must fail. */
    figure neg = g_figs[0];
    slot s;
    bench_quiet = true;
    neg.cfg.host = "not-localhost.example";
    bool verifies = !slot_prepare(&bench_lib_moat, pki, &neg, &s);
    if (!verifies)
      slot_free(&bench_lib_moat, &s);
    neg.cfg.host = NULL;
    neg.cfg.trust_other = true;
    if (slot_prepare(&bench_lib_moat, pki, &neg, &s)) {
      slot_free(&bench_lib_moat, &s);
      verifies = false;
    }
    bench_quiet = false;
    if (!verifies)
      fprintf(stderr, "moat: the client accepted a certificate it should "
                      "have refused; moat's figures are null\n");
    /* The memory figures need the full handshake of figure 0, the TLS 1.2
     * ones that of hs.tls12.x25519.ecdsa. */
    bool hs_ok = verifies && slot_prepare(&bench_lib_moat, pki, &g_figs[0], &s);
    if (hs_ok)
      slot_free(&bench_lib_moat, &s);
    bool hs12_ok =
        verifies && slot_prepare(&bench_lib_moat, pki,
                                 fig_named("hs.tls12.x25519.ecdsa"), &s);
    if (hs12_ok)
      slot_free(&bench_lib_moat, &s);
    for (size_t i = 0; i < NFIG; i++) {
      const figure *f = &g_figs[i];
      uint8_t r = 0;
      if (f->kind == K_MEM) {
        r = f->cfg.tls12 ? hs12_ok : hs_ok;
      } else if (verifies && fig_selected(f, o) &&
                 slot_prepare(&bench_lib_moat, pki, f, &s)) {
        r = 1;
        slot_free(&bench_lib_moat, &s);
      }
      if (write(fds[1], &r, 1) != 1)
        _exit(1);
    }
    _exit(0);
  }
  close(fds[1]);
  for (size_t i = 0; i < NFIG; i++) {
    uint8_t r = 0;
    if (read(fds[0], &r, 1) != 1)
      break;
    ok[i] = r == 1;
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) {
    fprintf(stderr,
            "moat: the probe died with signal %d; the figures it "
            "did not reach are null\n",
            WTERMSIG(status));
  }
  for (size_t i = 0; i < NFIG; i++)
    if (!ok[i] && g_figs[i].kind != K_MEM && fig_selected(&g_figs[i], o))
      fprintf(stderr, "moat: %s does not work yet (null)\n", g_figs[i].name);
}

static floor_ctx *g_floor;
static floor_id floor_of(const figure *f);
static double floor_run(floor_ctx *fc, const figure *f, double target);

/* Median of n sorted values. */
static double median(const double *v, int n) {
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void measure_timed(figure *f, const bench_pki *pki, const opts *o,
                          const bool moat_ok) {
  slot slots[NLIB];
  bool live[NLIB + 1];
  double runs[NLIB + 1][MAX_RUNS];
  int nruns[NLIB + 1] = {0};
  live[NLIB] = g_floor != NULL && floor_of(f) != FL_NONE;
  for (int l = 0; l < NLIB; l++) {
    live[l] = g_lib_on[l] && (l != 0 || moat_ok) &&
              slot_prepare(g_libs[l], pki, f, &slots[l]);
    bool no_mlkem =
        l != 0 && (f->kind == K_KEM || f->cfg.group == GROUP_X25519MLKEM768);
    if (!live[l] && g_lib_on[l] && (l != 0 || moat_ok) && !no_mlkem)
      fprintf(stderr, "%s: %s failed (null)\n", g_libs[l]->name, f->name);
  }
  /* Round 0 is the warm-up; the order of the libraries rotates each round
   * so that drift of the machine hits all of them alike. */
  for (int round = 0; round <= o->runs; round++) {
    for (int j = 0; j <= NLIB; j++) {
      int l = (j + round) % (NLIB + 1);
      if (!live[l])
        continue;
      if (l == NLIB) { /* the floor runs in the same rotation */
        double r = floor_run(g_floor, f, o->target);
        if (r < 0)
          live[l] = false;
        else if (round > 0)
          runs[l][nruns[l]++] = r;
        continue;
      }
      double r = timed_run(g_libs[l], &slots[l], f, o->target);
      if (r < 0) {
        fprintf(stderr, "%s: %s failed during a run (null)\n", g_libs[l]->name,
                f->name);
        live[l] = false;
        nruns[l] = 0;
        slot_free(g_libs[l], &slots[l]);
        continue;
      }
      if (round > 0)
        runs[l][nruns[l]++] = r;
    }
  }
  if (live[NLIB] && nruns[NLIB] > 0) {
    qsort(runs[NLIB], (size_t)nruns[NLIB], sizeof(double), cmp_double);
    f->has_floor = true;
    f->floor = median(runs[NLIB], nruns[NLIB]);
  }
  for (int l = 0; l < NLIB; l++) {
    if (!live[l] || nruns[l] == 0)
      continue;
    qsort(runs[l], (size_t)nruns[l], sizeof(double), cmp_double);
    int n = nruns[l];
    double med = median(runs[l], n);
    f->has[l] = true;
    f->val[l] = med;
    f->spread[l] = med > 0 ? (runs[l][n - 1] - runs[l][0]) / med : 0;
    slot_free(g_libs[l], &slots[l]);
  }
}

/* ---- memory and allocation figures
 * -----------------------------------------*/

typedef struct mem_result {
  bool has[M__COUNT];
  double val[M__COUNT];
} mem_result;

static void set_mem(mem_result *m, mem_id id, double v) {
  m->has[id] = true;
  m->val[id] = v;
}

/* Heap held by one side of an established, drained connection: the drop in
 * live bytes when that side alone is freed.  (Measuring the drop, not the
 * growth, leaves out the harness's wire queues and whatever the other side
 * holds.) */
static bool idle_side(const bench_lib *lib, void *env, bool client,
                      int64_t *out_bytes, int64_t *out_blocks) {
  void *pair = lib->pair_new(env, false);
  if (pair == NULL || !lib->handshake(pair)) {
    if (pair)
      lib->pair_free(pair);
    return false;
  }
  alloc_stats a;
  alloc_stats b;
  alloc_snapshot(&a);
  if (client)
    lib->pair_free_client(pair);
  else
    lib->pair_free_server(pair);
  alloc_snapshot(&b);
  lib->pair_free(pair);
  *out_bytes = a.live - b.live;
  *out_blocks = a.blocks - b.blocks;
  return true;
}

/* Allocations per handshake, all and moat's own, over N of them after a
 * warm-up (lazy process-wide setup is not per connection); resume: the
 * session env saved. */
static bool allocs_per_handshake(const bench_lib *lib, void *env, bool resume,
                                 double *out_calls, double *out_own) {
  enum { N = 8 };
  for (int i = 0; i < (resume ? 2 : 3); i++)
    if (!one_handshake(lib, env, resume))
      return false;
  alloc_stats a;
  alloc_stats b;
  alloc_snapshot(&a);
  for (int i = 0; i < N; i++)
    if (!one_handshake(lib, env, resume))
      return false;
  alloc_snapshot(&b);
  *out_calls = (double)(b.calls - a.calls) / N;
  *out_own = (double)(b.own_calls - a.own_calls) / N;
  return true;
}

/* Idle bytes of each side into the two ids (blocks too, where given). */
static void measure_idle(const bench_lib *lib, void *env, mem_result *m,
                         mem_id client, mem_id server, mem_id client_blocks,
                         mem_id server_blocks) {
  int64_t bytes;
  int64_t blocks;
  if (idle_side(lib, env, true, &bytes, &blocks)) {
    set_mem(m, client, (double)bytes);
    if (client_blocks != M__COUNT)
      set_mem(m, client_blocks, (double)blocks);
  }
  if (idle_side(lib, env, false, &bytes, &blocks)) {
    set_mem(m, server, (double)bytes);
    if (server_blocks != M__COUNT)
      set_mem(m, server_blocks, (double)blocks);
  }
}

/* The TLS 1.3 memory and allocation figures. */
static void measure_memory(const bench_lib *lib, const bench_pki *pki,
                           mem_result *m) {
  bool own = lib == g_libs[0];
  bench_cfg cfg = CFG(CERT_ECDSA, GROUP_X25519, SUITE_AES128GCM, false);
  void *env = lib->env_new(pki, &cfg);
  if (env == NULL)
    return;
  double calls;
  double own_calls;
  if (!allocs_per_handshake(lib, env, false, &calls, &own_calls))
    goto done;
  set_mem(m, M_ALLOCS_HS, calls);
  if (own)
    set_mem(m, M_ALLOCS_HS_OWN, own_calls);

  alloc_stats a;
  alloc_stats b;
  alloc_snapshot(&a);
  alloc_reset_peak();
  void *pair = lib->pair_new(env, false);
  bool ok = pair != NULL && lib->handshake(pair);
  alloc_snapshot(&b);
  if (ok)
    set_mem(m, M_PEAK_HS, (double)(b.peak - a.live));

  /* Allocations per MB of application data, once established. */
  for (int k = 0; ok && k < 2; k++) {
    size_t chunk = k == 0 ? 16384 : 1024;
    size_t total = 4 * BULK_UNIT;
    ok = lib->bulk(pair, g_data, chunk, BULK_UNIT); /* warm */
    alloc_snapshot(&a);
    ok = ok && lib->bulk(pair, g_data, chunk, total);
    alloc_snapshot(&b);
    if (ok)
      set_mem(m, k == 0 ? M_ALLOCS_BULK_16K : M_ALLOCS_BULK_1K,
              (double)(b.calls - a.calls) * 1e6 / (double)total);
  }
  if (pair)
    lib->pair_free(pair);

  measure_idle(lib, env, m, M_IDLE_CLIENT, M_IDLE_SERVER, M_IDLE_CLIENT_BLOCKS,
               M_IDLE_SERVER_BLOCKS);
  lib->env_free(env);
  env = NULL;

  /* The hybrid's peak and what stays of it once idle (moat only: the
   * others have no ML-KEM). */
  cfg.group = GROUP_X25519MLKEM768;
  env = own ? lib->env_new(pki, &cfg) : NULL;
  if (env != NULL) {
    alloc_snapshot(&a);
    alloc_reset_peak();
    pair = lib->pair_new(env, false);
    ok = pair != NULL && lib->handshake(pair);
    alloc_snapshot(&b);
    if (ok)
      set_mem(m, M_PEAK_HS_PQ, (double)(b.peak - a.live));
    if (pair)
      lib->pair_free(pair);
    measure_idle(lib, env, m, M_IDLE_CLIENT_PQ, M_IDLE_SERVER_PQ, M__COUNT,
                 M__COUNT);
    lib->env_free(env);
    env = NULL;
  }
  cfg.group = GROUP_X25519;

  /* With buffers released while idle (an option only OpenSSL has; moat
   * releases them always and GnuTLS never). */
  cfg.release_buffers = true;
  env = lib->env_new(pki, &cfg);
  if (env != NULL && one_handshake(lib, env, false))
    measure_idle(lib, env, m, M_IDLE_CLIENT_RELEASED, M_IDLE_SERVER_RELEASED,
                 M__COUNT, M__COUNT);
  if (env)
    lib->env_free(env);
  env = NULL;

  /* Allocations per resumed handshake. */
  cfg = (bench_cfg)CFG(CERT_ECDSA, GROUP_X25519, SUITE_AES128GCM, true);
  env = lib->env_new(pki, &cfg);
  if (env != NULL && save_session(lib, env) &&
      allocs_per_handshake(lib, env, true, &calls, &own_calls)) {
    set_mem(m, M_ALLOCS_RESUME, calls);
    if (own)
      set_mem(m, M_ALLOCS_RESUME_OWN, own_calls);
  }
done:
  if (env)
    lib->env_free(env);
}

/* The TLS 1.2 ones: allocations per full (ECDHE-ECDSA) and per ticket
 * handshake, idle bytes per side. */
static void measure_memory12(const bench_lib *lib, const bench_pki *pki,
                             mem_result *m) {
  bench_cfg cfg = CFG12(CERT_ECDSA, false, false);
  void *env = lib->env_new(pki, &cfg);
  double calls;
  double own_calls;
  if (env != NULL &&
      allocs_per_handshake(lib, env, false, &calls, &own_calls)) {
    set_mem(m, M_ALLOCS_HS_12, calls);
    measure_idle(lib, env, m, M_IDLE_CLIENT_12, M_IDLE_SERVER_12, M__COUNT,
                 M__COUNT);
  }
  if (env)
    lib->env_free(env);
  cfg = (bench_cfg)CFG12(CERT_ECDSA, true, false);
  env = lib->env_new(pki, &cfg);
  if (env != NULL && save_session(lib, env) &&
      allocs_per_handshake(lib, env, true, &calls, &own_calls)) {
    set_mem(m, M_ALLOCS_RESUME_12, calls);
    if (lib == g_libs[0]) {
      set_mem(m, M_ALLOCS_RESUME_12_OWN, own_calls);
    }
  }
  if (env)
    lib->env_free(env);
}

/* ---- the floor
 * --------------------------------------------------------------*/

static floor_id floor_of(const figure *f) {
  static const struct {
    const char *name;
    floor_id id;
  } map[] = {
      {"hs.tls13.x25519.ecdsa", FL_HS_X25519_ECDSA},
      {"hs.tls13.x25519.rsa2048", FL_HS_X25519_RSA},
      {"hs.tls13.p256.ecdsa", FL_HS_P256_ECDSA},
      {"resume.tls13.psk_dhe", FL_RESUME_X25519},
      {"hs.tls13.x25519mlkem768.ecdsa", FL_HS_X25519MLKEM768_ECDSA},
      {"resume.tls13.psk_dhe.x25519mlkem768", FL_RESUME_X25519MLKEM768},
      {"kem.mlkem768.keygen", FL_X25519_KEYGEN},
      {"kem.mlkem768.encaps", FL_X25519_KEYGEN},
      {"kem.mlkem768.decaps", FL_X25519_KEYGEN},
      /* ECDHE with X25519, the ServerKeyExchange signed and the chain and
       * that signature verified: the same operations as TLS 1.3.  A
       * TLS 1.2 ticket resumption does no public-key operation, so it has
       * no floor. */
      {"hs.tls12.x25519.ecdsa", FL_HS_X25519_ECDSA},
      /* ServerKeyExchange signed with RSA-PSS, the leaf's PKCS#1 signature
       * verified: as in TLS 1.3. */
      {"hs.tls12.x25519.rsa2048", FL_HS_X25519_RSA},
      /* The same AEAD per record; the explicit nonce is 8 bytes more on
       * the wire, no more work. */
      {"bulk.tls12.aes128gcm.16k", FL_AES128GCM_16K},
      {"bulk.tls12.aes128gcm.1k", FL_AES128GCM_1K},
      {"bulk.tls13.aes128gcm.16k", FL_AES128GCM_16K},
      {"bulk.tls13.aes128gcm.1k", FL_AES128GCM_1K},
      {"bulk.tls13.aes256gcm.16k", FL_AES256GCM_16K},
      {"bulk.tls13.aes256gcm.1k", FL_AES256GCM_1K},
      {"bulk.tls13.chacha20.16k", FL_CHACHA20_16K},
      {"bulk.tls13.chacha20.1k", FL_CHACHA20_1K},
  };
  for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
    if (strcmp(f->name, map[i].name) == 0)
      return map[i].id;
  return FL_NONE;
}

/* The floor of a figure, timed like a library: units per CPU second. */
static double floor_run(floor_ctx *fc, const figure *f, double target) {
  floor_id id = floor_of(f);
  double per = f->kind == K_BULK ? (double)f->chunk / 1e6 : 1;
  double t0 = cpu_now();
  double t = t0;
  double units = 0;
  do {
    for (int i = 0; i < 4; i++) {
      if (!floor_unit(fc, id))
        return -1;
      units += per;
    }
    t = cpu_now();
  } while (t - t0 < target);
  return units / (t - t0);
}

static void print_floor_ops(const floor_ops *fl) {
  printf("libcrypto floor, microseconds per operation (CPU):\n");
  printf("  X25519 keygen %.1f  derive %.1f | P-256 ECDH keygen %.1f  derive "
         "%.1f\n",
         fl->x25519_keygen * 1e6, fl->x25519_derive * 1e6,
         fl->p256_keygen * 1e6, fl->p256_derive * 1e6);
  printf("  ECDSA P-256 sign %.1f  verify %.1f | RSA-2048 PSS sign %.1f  "
         "verify %.1f  PKCS#1 verify %.1f\n",
         fl->ecdsa_sign * 1e6, fl->ecdsa_verify * 1e6, fl->rsa_pss_sign * 1e6,
         fl->rsa_pss_verify * 1e6, fl->rsa_pkcs1_verify * 1e6);
  printf("  record seal+open: AES-128-GCM 16K %.2f  1K %.2f | AES-256-GCM "
         "16K %.2f  1K %.2f | ChaCha20-Poly1305 16K %.2f  1K %.2f\n\n",
         fl->aes128gcm_16k * 1e6, fl->aes128gcm_1k * 1e6,
         fl->aes256gcm_16k * 1e6, fl->aes256gcm_1k * 1e6,
         fl->chacha20_16k * 1e6, fl->chacha20_1k * 1e6);
}

/* ---- output
 * -----------------------------------------------------------------*/

static void machine_string(char *out, size_t cap) {
  char model[128] = "unknown CPU";
  FILE *fp = fopen("/proc/cpuinfo", "r");
  char line[256];
  while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
    if (strncmp(line, "model name", 10) == 0) {
      char *p = strchr(line, ':');
      if (p != NULL) {
        p++;
        while (*p == ' ')
          p++;
        p[strcspn(p, "\n")] = '\0';
        snprintf(model, sizeof(model), "%s", p);
      }
      break;
    }
  }
  if (fp != NULL)
    fclose(fp);
  struct utsname u;
  if (uname(&u) != 0)
    snprintf(u.release, sizeof(u.release), "?");
  snprintf(out, cap, "%s, %ld CPUs, Linux %s, %s, GnuTLS %s, moat %s", model,
           sysconf(_SC_NPROCESSORS_ONLN), u.release,
           OpenSSL_version(OPENSSL_VERSION), gnutls_check_version(NULL),
           "0.1.0");
}

static void fmt_val(char *out, size_t cap, bool has, double v) {
  if (!has)
    snprintf(out, cap, "-");
  else if (v >= 100 || v == floor(v))
    snprintf(out, cap, "%.0f", v);
  else
    snprintf(out, cap, "%.1f", v);
}

static void fmt_ratio(char *out, size_t cap, bool has, double a, double b) {
  if (!has || b <= 0)
    snprintf(out, cap, "-");
  else
    snprintf(out, cap, "%.2f", a / b);
}

static double max_spread(const figure *f) {
  double s = 0;
  for (int l = 0; l < NLIB; l++)
    if (f->has[l] && f->spread[l] > s)
      s = f->spread[l];
  return s;
}

/* The post-quantum targets (issue: hybrid handshakes at almost no cost):
 * ML-KEM-768 KeyGen + Encaps + Decaps within two X25519 key generations,
 * the hybrid handshake at >= 0.88 of X25519's and >= 0.90 of its floor. */
static void print_pq_targets(void) {
  const figure *kg = fig_named("kem.mlkem768.keygen");
  const figure *en = fig_named("kem.mlkem768.encaps");
  const figure *de = fig_named("kem.mlkem768.decaps");
  const figure *hy = fig_named("hs.tls13.x25519mlkem768.ecdsa");
  const figure *cl = fig_named("hs.tls13.x25519.ecdsa");
  const figure *rh = fig_named("resume.tls13.psk_dhe.x25519mlkem768");
  const figure *rc = fig_named("resume.tls13.psk_dhe");
  printf("\npost-quantum (ML-KEM-768 %s):\n", bench_kem_impl());
  if (kg->has[0] && en->has[0] && de->has[0] && kg->has_floor) {
    double us = 1e6 / kg->val[0] + 1e6 / en->val[0] + 1e6 / de->val[0];
    double x = 1e6 / kg->floor;
    printf("  keygen %.1f + encaps %.1f + decaps %.1f = %.1f us; X25519 "
           "keygen %.1f us: %.2f x two X25519 keygens (target <= 1.00)\n",
           1e6 / kg->val[0], 1e6 / en->val[0], 1e6 / de->val[0], us, x,
           us / (2 * x));
  }
  if (hy->has[0] && cl->has[0])
    printf("  hybrid full handshake: %.2f of X25519's (target >= 0.88)",
           hy->val[0] / cl->val[0]);
  if (hy->has[0] && hy->has_floor)
    printf(", %.2f of its floor (target >= 0.90)", hy->val[0] / hy->floor);
  if (rh->has[0] && rc->has[0])
    printf("\n  hybrid psk_dhe resumption: %.2f of X25519's",
           rh->val[0] / rc->val[0]);
  printf("\n");
}

static void print_table(const opts *o) {
  printf("%-32s %-9s %9s %9s %9s %9s %6s %6s %6s %6s %6s %6s\n", "figure",
         "unit", "moat", "openssl", "gnutls", "floor", "m/ossl", "m/gnu",
         "m/flr", "o/flr", "g/flr", "sprd%");
  for (size_t i = 0; i < NFIG; i++) {
    const figure *f = &g_figs[i];
    if (!fig_selected(f, o))
      continue;
    char v[NLIB][32];
    char fl[32];
    char r[5][16];
    char sp[16];
    for (int l = 0; l < NLIB; l++)
      fmt_val(v[l], sizeof(v[l]), f->has[l], f->val[l]);
    fmt_val(fl, sizeof(fl), f->has_floor, f->floor);
    fmt_ratio(r[0], 16, f->has[0] && f->has[1], f->val[0], f->val[1]);
    fmt_ratio(r[1], 16, f->has[0] && f->has[2], f->val[0], f->val[2]);
    fmt_ratio(r[2], 16, f->has[0] && f->has_floor, f->val[0], f->floor);
    fmt_ratio(r[3], 16, f->has[1] && f->has_floor, f->val[1], f->floor);
    fmt_ratio(r[4], 16, f->has[2] && f->has_floor, f->val[2], f->floor);
    if (f->kind == K_MEM)
      snprintf(sp, sizeof(sp), "-");
    else
      snprintf(sp, sizeof(sp), "%.1f", 100 * max_spread(f));
    printf("%-32s %-9s %9s %9s %9s %9s %6s %6s %6s %6s %6s %6s\n", f->name,
           f->unit, v[0], v[1], v[2], fl, r[0], r[1], r[2], r[3], r[4], sp);
  }
  printf("\nm/ossl, m/gnu: moat divided by OpenSSL, by GnuTLS (rates: higher "
         "is better; bytes and counts: lower is better).\n"
         "m/flr, o/flr, g/flr: fraction of the libcrypto floor (for "
         "allocs: the count libcrypto's own floor\noperations make, so "
         "1.00 is the least possible).  *.own: moat's own allocations, "
         "not libcrypto's.\nsprd%%: largest (max-min)/median of the timed "
         "runs.\n");
}

/* A figure, or null when it is missing or not a number (JSON has no
 * NaN or infinity). */
static void json_num(FILE *fp, bool has, double v) {
  if (has && isfinite(v))
    fprintf(fp, "%.6g", v);
  else
    fprintf(fp, "null");
}

/* a / b, null unless both exist and b > 0 (an allocation floor of 0 has
 * no ratio). */
static void json_ratio(FILE *fp, bool has, double a, double b) {
  json_num(fp, has && b > 0, has && b > 0 ? a / b : 0);
}

static bool write_json(const char *path, const char *machine, const opts *o,
                       const wire_row *wire, size_t num_wire) {
  FILE *fp = fopen(path, "w");
  if (fp == NULL) {
    fprintf(stderr, "moat-bench: cannot write %s: %s\n", path, strerror(errno));
    return false;
  }
  char date[64];
  time_t now = time(NULL);
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  fprintf(fp, "{\n  \"machine\": \"%s\",\n  \"date\": \"%s\",\n", machine,
          date);
  fprintf(fp, "  \"mode\": \"%s\",\n  \"runs\": %d,\n  \"figures\": [",
          o->quick ? "quick" : "full", o->runs);
  bool first = true;
  for (size_t i = 0; i < NFIG; i++) {
    const figure *f = &g_figs[i];
    if (!fig_selected(f, o))
      continue;
    fprintf(fp, "%s\n    {\"name\": \"%s\", \"unit\": \"%s\", \"moat\": ",
            first ? "" : ",", f->name, f->unit);
    first = false;
    json_num(fp, f->has[0], f->val[0]);
    fprintf(fp, ", \"openssl\": ");
    json_num(fp, f->has[1], f->val[1]);
    fprintf(fp, ", \"gnutls\": ");
    json_num(fp, f->has[2], f->val[2]);
    fprintf(fp, ", \"floor\": ");
    json_num(fp, f->has_floor, f->floor);
    fprintf(fp, ", \"spread\": ");
    bool any = f->kind != K_MEM && (f->has[0] || f->has[1] || f->has[2]);
    json_num(fp, any, max_spread(f));
    fprintf(fp, ",\n     \"moat_vs_openssl\": ");
    json_ratio(fp, f->has[0] && f->has[1], f->val[0], f->val[1]);
    fprintf(fp, ", \"moat_vs_gnutls\": ");
    json_ratio(fp, f->has[0] && f->has[2], f->val[0], f->val[2]);
    static const char *const vs[NLIB] = {"moat_vs_floor", "openssl_vs_floor",
                                         "gnutls_vs_floor"};
    for (int l = 0; l < NLIB; l++) {
      fprintf(fp, ", \"%s\": ", vs[l]);
      json_ratio(fp, f->has[l] && f->has_floor, f->val[l], f->floor);
    }
    fprintf(fp, "}");
  }
  fprintf(fp, "\n  ],\n  \"handshake_bytes\": [");
  for (size_t i = 0; i < num_wire; i++) {
    const wire_row *w = &wire[i];
    fprintf(fp,
            "%s\n    {\"chain\": \"%s\", \"cert_compression\": \"%s\", "
            "\"client_to_server\": ",
            i == 0 ? "" : ",", w->chain, w->alg);
    json_num(fp, w->ok, (double)w->up);
    fprintf(fp, ", \"server_to_client\": ");
    json_num(fp, w->ok, (double)w->down);
    fprintf(fp, "}");
  }
  fprintf(fp, "\n  ]\n}\n");
  bool ok = fclose(fp) == 0;
  if (ok)
    fprintf(stderr, "moat-bench: wrote %s\n", path);
  return ok;
}

/* ---- --one: for callgrind -------------------------------------------------*/

/* The one handshake bench/instructions.sh counts: callgrind collects only
 * inside this function. */
__attribute__((noinline)) bool bench_measured(const bench_lib *lib, void *env,
                                              bool resume);
__attribute__((noinline)) bool bench_measured(const bench_lib *lib, void *env,
                                              bool resume) {
  return one_handshake(lib, env, resume);
}

static int run_one(const bench_pki *pki, const char *what, long repeat,
                   const bench_lib *lib) {
  bool resume = strcmp(what, "resume") == 0;
  if (!resume && strcmp(what, "full") != 0) {
    fprintf(stderr, "moat-bench: --one takes full or resume\n");
    return 2;
  }
  bench_cfg cfg = CFG(CERT_ECDSA, GROUP_X25519, SUITE_AES128GCM, resume);
  void *env = lib->env_new(pki, &cfg);
  /* Warm-up outside the count: process-wide lazy setup is not part of a
   * handshake. */
  bool ok = env != NULL && one_handshake(lib, env, false) &&
            one_handshake(lib, env, false);
  if (ok && resume)
    ok = save_session(lib, env) && one_handshake(lib, env, true);
  for (long i = 0; ok && i < repeat; i++)
    ok = bench_measured(lib, env, resume);
  if (env)
    lib->env_free(env);
  if (!ok) {
    fprintf(stderr, "moat-bench: %s %s handshake failed\n", lib->name, what);
    return 1;
  }
  printf("%s: %ld %s handshake(s) done\n", lib->name, repeat, what);
  return 0;
}

/* ---- main -----------------------------------------------------------------*/

static int lib_index(const char *name) {
  for (int l = 0; l < NLIB; l++)
    if (strcmp(g_libs[l]->name, name) == 0)
      return l;
  return -1;
}

static bool parse_libs(const char *list) {
  for (int l = 0; l < NLIB; l++)
    g_lib_on[l] = false;
  char buf[128];
  snprintf(buf, sizeof(buf), "%s", list);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL;
       t = strtok_r(NULL, ",", &save)) {
    int l = lib_index(t);
    if (l < 0) {
      fprintf(stderr,
              "moat-bench: unknown library %s (moat, openssl, "
              "gnutls)\n",
              t);
      return false;
    }
    g_lib_on[l] = true;
  }
  return true;
}

static void usage(void) {
  fprintf(stderr,
          "usage: moat-bench [--quick] [--json FILE] [--lib moat,openssl,"
          "gnutls] [--only SUBSTR]\n"
          "       moat-bench --one full|resume --lib NAME [--repeat N]\n");
}

/* A peer library that accepts what it should refuse makes its numbers
 * meaningless (and means the harness is wrong). */
static bool check_refusals(const bench_pki *pki) {
  bool ok = true;
  for (int l = 1; l < NLIB; l++) {
    if (!g_lib_on[l])
      continue;
    figure neg = g_figs[0];
    slot s;
    bench_quiet = true;
    neg.cfg.host = "not-localhost.example";
    bool bad_name = slot_prepare(g_libs[l], pki, &neg, &s);
    if (bad_name)
      slot_free(g_libs[l], &s);
    neg.cfg.host = NULL;
    neg.cfg.trust_other = true;
    bool bad_anchor = slot_prepare(g_libs[l], pki, &neg, &s);
    if (bad_anchor)
      slot_free(g_libs[l], &s);
    bench_quiet = false;
    if (bad_name || bad_anchor) {
      fprintf(stderr, "moat-bench: %s accepted a %s\n", g_libs[l]->name,
              bad_name ? "wrong host name" : "chain from the wrong CA");
      ok = false;
    }
  }
  return ok;
}

/* The allocations libcrypto itself makes for the floor's operations (the
 * same interposer counts them): no TLS stack on this libcrypto can make
 * fewer than these per handshake or per MB. */
static void floor_allocs(floor_ctx *fc) {
  for (size_t i = 0; fc != NULL && i < NFIG; i++) {
    figure *f = &g_figs[i];
    floor_id id = FL_NONE;
    double per = 1; /* units per reported figure */
    if (f->kind != K_MEM)
      continue;
    switch (f->mem) {
    case M_ALLOCS_HS:
    case M_ALLOCS_HS_12:
      id = FL_HS_X25519_ECDSA;
      break;
    case M_ALLOCS_RESUME:
      id = FL_RESUME_X25519;
      break;
    case M_ALLOCS_BULK_16K:
      id = FL_AES128GCM_16K;
      per = 1e6 / 16384;
      break;
    case M_ALLOCS_BULK_1K:
      id = FL_AES128GCM_1K;
      per = 1e6 / 1024;
      break;
    default:
      continue;
    }
    enum { N = 16 };
    bool ok = true;
    for (int k = 0; ok && k < 3; k++)
      ok = floor_unit(fc, id);
    alloc_stats a;
    alloc_stats b;
    alloc_snapshot(&a);
    for (int k = 0; ok && k < N; k++)
      ok = floor_unit(fc, id);
    alloc_snapshot(&b);
    if (ok) {
      f->has_floor = true;
      f->floor = (double)(b.calls - a.calls) * per / N;
    }
  }
}

int main(int argc, char **argv) {
  bench_moat_count_own();
  opts o = {.runs = 9, .target = 0.35, .repeat = 1};
  const char *lib_list = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      o.quick = true;
    } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      o.json = argv[++i];
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      o.only = argv[++i];
    } else if (strcmp(argv[i], "--lib") == 0 && i + 1 < argc) {
      lib_list = argv[++i];
    } else if (strcmp(argv[i], "--one") == 0 && i + 1 < argc) {
      o.one = argv[++i];
    } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      char *end;
      o.repeat = strtol(argv[++i], &end, 10);
      if (*end != '\0' || o.repeat < 1 || o.repeat > 10000000) {
        fprintf(stderr, "moat-bench: --repeat takes 1 to 10000000\n");
        return 2;
      }
    } else {
      usage();
      return 2;
    }
  }
  if (o.quick) {
    o.runs = 3;
    o.target = 0.08;
  }
  if (lib_list != NULL && !parse_libs(lib_list))
    return 2;
  for (size_t i = 0; i < sizeof(g_data); i++)
    g_data[i] = (uint8_t)(i * 7 + 1);

  bench_pki pki;
  if (!pki_make(&pki))
    return 1;

  if (o.one != NULL) {
    int l = lib_list != NULL ? lib_index(lib_list) : -1;
    if (l < 0) {
      usage();
      return 2;
    }
    if (l == 0 && !bench_moat_linked()) {
      fprintf(stderr, "moat-bench: the moat engine is not in this build\n");
      return 1;
    }
    int rc = run_one(&pki, o.one, o.repeat, g_libs[l]);
    pki_free(&pki);
    return rc;
  }

  char machine[512];
  machine_string(machine, sizeof(machine));
  printf("moat-bench (%s run): %s\n", o.quick ? "quick" : "full", machine);
  double t_start = cpu_now();
  if (!check_refusals(&pki))
    return 1;

  bool moat_ok[NFIG];
  probe_moat(&pki, &o, moat_ok);

  floor_ops fl;
  if (floor_measure(&fl, o.quick ? 0.02 : 0.1))
    print_floor_ops(&fl);
  g_floor = floor_new();

  for (size_t i = 0; i < NFIG; i++) {
    figure *f = &g_figs[i];
    if (f->kind == K_MEM || !fig_selected(f, &o))
      continue;
    fprintf(stderr, "  measuring %s\n", f->name);
    measure_timed(f, &pki, &o, moat_ok[i]);
  }

  fprintf(stderr, "  measuring memory and allocations\n");
  const figure *mem13 = fig_named("mem.idle.client");
  const figure *mem12 = fig_named("mem.idle.client.tls12");
  for (int l = 0; l < NLIB; l++) {
    if (!g_lib_on[l])
      continue;
    mem_result m;
    memset(&m, 0, sizeof(m));
    if (l != 0 || moat_ok[mem13 - g_figs])
      measure_memory(g_libs[l], &pki, &m);
    if (l != 0 || moat_ok[mem12 - g_figs])
      measure_memory12(g_libs[l], &pki, &m);
    for (size_t i = 0; i < NFIG; i++) {
      figure *f = &g_figs[i];
      if (f->kind == K_MEM && m.has[f->mem]) {
        f->has[l] = true;
        f->val[l] = m.val[f->mem];
      }
    }
  }

  floor_allocs(g_floor);
  floor_free(g_floor);
  printf("\n");
  print_table(&o);
  print_pq_targets();
  wire_row wire[8];
  size_t num_wire = bench_moat_linked() ? wire_measure(&pki, wire, 8) : 0;
  wire_print(wire, num_wire);
  printf("\n(%.0f CPU seconds in this thread)\n", cpu_now() - t_start);
  bool ok = true;
  if (o.json != NULL)
    ok = write_json(o.json, machine, &o, wire, num_wire);
  pki_free(&pki);
  return ok ? 0 : 1;
}
