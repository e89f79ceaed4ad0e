/* moat_conn: the public connection API, the buffers behind its four ports,
 * the sticky error state, and the loop that drives a transport. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "base/mem.h"
#include "tls/tls.h"

moat_conn *moat_conn_new(moat_context *ctx) {
  if (ctx == NULL) {
    return NULL;
  }
  moat_conn *conn = moat_calloc(1, sizeof(*conn));
  if (conn == NULL) {
    return NULL;
  }
  conn->context = context_ref(ctx);
  conn->ctx = context_policy(ctx);
  conn->is_server = ctx->role == MOAT_ROLE_SERVER;
  conn->state = conn->is_server ? ST_S_WAIT_CH : ST_C_START;
  return conn;
}

/* The handshake struct, then the transcript's hash state and an HMAC
 * context, each aligned as malloc aligns. */
static size_t hs_align(size_t n) {
  const size_t align = _Alignof(max_align_t);
  return (n + align - 1) / align * align;
}

static size_t hs_block_size(void) {
  return hs_align(sizeof(handshake)) + hs_align(hash_ctx_size()) +
         hmac_ctx_size();
}

handshake *hs_new(void) {
  uint8_t *mem = moat_malloc(hs_block_size());
  if (mem == NULL) {
    return NULL;
  }
  /* The two buffers at the end of the struct and the hash and HMAC
   * states after it are set up where they are used (hash_place,
   * hmac_place, bld_init_buffer, hs_append). */
  memset(mem, 0, offsetof(handshake, msg_inline));
  handshake *hs = (handshake *)mem;
  hs->transcript_mem = mem + hs_align(sizeof(handshake));
  hs->hmac_mem = hs->transcript_mem + hs_align(hash_ctx_size());
  hs->msg = hs->msg_inline;
  hs->msg_cap = sizeof(hs->msg_inline);
  return hs;
}

void hs_builder(handshake *hs, builder *b) {
  if (hs->ch_copy == hs->scratch) {
    bld_init_buffer(b, NULL, 0); /* the heap from the first byte */
  } else {
    bld_init_buffer(b, hs->scratch, sizeof(hs->scratch));
  }
}

static void hs_drop_transcript(handshake *hs) {
  if (hs->transcript != (hash_ctx *)hs->transcript_mem) {
    hash_free(hs->transcript);
  }
  hs->transcript = NULL;
}

void hs_drop_ch_copy(handshake *hs) {
  if (hs->ch_copy == hs->scratch) {
    moat_wipe(hs->scratch, hs->ch_copy_len);
  } else {
    moat_free_wipe(hs->ch_copy, hs->ch_copy_len);
  }
  hs->ch_copy = NULL;
  hs->ch_copy_len = 0;
}

hmac_ctx *hs_prf_hmac(handshake *hs, const hash_alg *h) {
  if (hs->ks.hmac != (hmac_ctx *)hs->hmac_mem) {
    hmac_free(hs->ks.hmac);
  }
  hs->ks.hmac = hmac_place(hs->hmac_mem, h);
  return hs->ks.hmac;
}

void hs_free(handshake *hs) {
  if (hs == NULL) {
    return;
  }
  /* The transcript and the PRF's HMAC live in hs's allocation (the wipe
   * of the whole block below clears them) unless set from elsewhere. */
  hs_drop_transcript(hs);
  hs_drop_ch_copy(hs);
  if (hs->msg != hs->msg_inline) {
    moat_free_wipe(hs->msg, hs->msg_cap);
  }
  if (hs->ks.hmac == (hmac_ctx *)hs->hmac_mem) {
    hs->ks.hmac = NULL;
  }
  for (size_t i = 0; i < hs->num_shares; i++) {
    kex_key_free(hs->share_key[i]);
  }
  moat_free(hs->cookie);
  pubkey_free(hs->peer_key);
  rec_dir_clear(&hs->pending_rd);
  rec_dir_clear(&hs->pending_wr);
  kex_key_free(hs->kex12_key);
  moat_free_wipe(hs->raw, hs->raw_cap);
  moat_session_free(hs->nst_session);
  ks_clear(&hs->ks);
  moat_free_wipe(hs, hs_block_size());
}

void moat_conn_free(moat_conn *conn) {
  if (conn == NULL) {
    return;
  }
  hs_free(conn->hs);
  rec_dir_clear(&conn->rd);
  rec_dir_clear(&conn->wr);
  moat_free_wipe(conn->in, conn->in_used);
  moat_free_wipe(conn->out, conn->out_cap);
  moat_free_wipe(conn->post_msg, conn->post_cap);
  moat_free(conn->alpn);
  (void)conn_set_hostname_copy(conn, NULL);
  hmac_free(conn->hmac);
  chain_free(conn->verified);
  chain_free(conn->peer);
  moat_free(conn->verify_message);
  moat_free(conn->verify_subject);
  moat_free(conn->staple);
  moat_free(conn->detail);
  moat_session_free(conn->session);
  moat_wipe(conn->res_master, sizeof(conn->res_master));
  moat_wipe(conn->master, sizeof(conn->master));
  policy_free(conn->ctx);
  moat_context_free(conn->context);
  moat_free_wipe(conn, sizeof(*conn));
}

moat_err moat_conn_set_context(moat_conn *conn, moat_context *ctx) {
  if (conn == NULL || ctx == NULL || ctx->role != conn->context->role) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  if (conn->handshake_done) {
    return MOAT_ERR_BAD_STATE;
  }
  /* What the flow read from the old policy (suites, groups, ...) are
   * pointers to constant tables, so dropping it here is safe. */
  const tls_policy *old_pol = conn->ctx;
  moat_context *old = conn->context;
  conn->context = context_ref(ctx);
  conn->ctx = context_policy(ctx);
  conn->id = NULL; /* pointed into the old policy */
  policy_free(old_pol);
  moat_context_free(old);
  return MOAT_OK;
}

moat_context *moat_conn_context(const moat_conn *conn) {
  return conn->context;
}

moat_err moat_conn_set_hostname(moat_conn *conn, const char *name) {
  if (conn == NULL || conn->is_server || conn->state != ST_C_START) {
    return MOAT_ERR_BAD_STATE;
  }
  if (name != NULL && (name[0] == '\0' || strlen(name) > 253)) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  return conn_set_hostname_copy(conn, name) ? MOAT_OK : MOAT_ERR_NO_MEMORY;
}

bool conn_set_hostname_copy(moat_conn *conn, const char *name) {
  size_t len = name != NULL ? strlen(name) + 1 : 0;
  char *copy = NULL;
  if (len > sizeof(conn->hostname_inline) &&
      (copy = moat_memdup(name, len)) == NULL) {
    return false;
  }
  if (conn->hostname != conn->hostname_inline) {
    moat_free(conn->hostname);
  }
  conn->hostname = copy;
  if (name != NULL && copy == NULL) {
    memcpy(conn->hostname_inline, name, len);
    conn->hostname = conn->hostname_inline;
  }
  return true;
}

void moat_conn_set_user_data(moat_conn *conn, void *data) {
  conn->user_data = data;
}
void *moat_conn_user_data(const moat_conn *conn) {
  return conn->user_data;
}

/* ---- errors
 * ----------------------------------------------------------------*/

/* The one place a connection enters the failed state (STYLE 5): the
 * first error stays; alert >= 0 is queued as a fatal alert. */
__attribute__((format(printf, 4, 0))) static moat_err
conn_fail_v(moat_conn *conn, moat_err err, int alert, const char *fmt,
            va_list ap) {
  if (conn->failed) {
    return conn->err;
  }
  conn->failed = true;
  conn->err = err;
  if (conn->detail == NULL) {
    conn->detail = moat_malloc(MOAT_DETAIL_MAX);
  }
  if (conn->detail != NULL) {
    vsnprintf(conn->detail, MOAT_DETAIL_MAX, fmt, ap);
  }
  if (alert >= 0 && !conn->close_sent) {
    uint8_t a[2] = {2, (uint8_t)alert}; /* fatal */
    conn->close_sent = true;
    conn->have_alert = true;
    conn->alert_sent = true;
    conn->alert = alert;
    (void)rec_write(conn, CT_ALERT, a, sizeof(a));
  }
  return err;
}

void conn_set_detail(moat_conn *conn, const char *fmt, ...) {
  if (conn->detail == NULL) {
    conn->detail = moat_malloc(MOAT_DETAIL_MAX);
    if (conn->detail == NULL) {
      return;
    }
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(conn->detail, MOAT_DETAIL_MAX, fmt, ap);
  va_end(ap);
}

moat_err conn_fail(moat_conn *conn, moat_err err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int alert = alert_for_error(err);
  /* certificate_required is TLS 1.3's (RFC 8446 6.2); TLS 1.2 says
   * handshake_failure (RFC 5246 7.4.6). */
  if (alert == ALERT_CERTIFICATE_REQUIRED && conn->version == MOAT_TLS1_2) {
    alert = ALERT_HANDSHAKE_FAILURE;
  }
  moat_err r = conn_fail_v(conn, err, alert, fmt, ap);
  va_end(ap);
  return r;
}

moat_err conn_fail_alert(moat_conn *conn, moat_err err, int alert,
                         const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  moat_err r = conn_fail_v(conn, err, alert, fmt, ap);
  va_end(ap);
  return r;
}

moat_err cause_set(tls_cause *why, moat_err err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  why->err = err;
  vsnprintf(why->detail, sizeof(why->detail), fmt, ap);
  va_end(ap);
  return err;
}

moat_err conn_fail_cause(moat_conn *conn, const tls_cause *why) {
  return conn_fail(conn, why->err, "%s", why->detail);
}

moat_err moat_conn_error(const moat_conn *conn) {
  return conn->err;
}

const char *moat_conn_error_detail(const moat_conn *conn) {
  if (conn->detail == NULL || conn->detail[0] == '\0') {
    return moat_err_message(conn->err);
  }
  return conn->detail;
}

bool moat_conn_alert(const moat_conn *conn, int *out_alert,
                     bool *out_sent_by_us) {
  if (!conn->have_alert) {
    return false;
  }
  if (out_alert != NULL) {
    *out_alert = conn->alert;
  }
  if (out_sent_by_us != NULL) {
    *out_sent_by_us = conn->alert_sent;
  }
  return true;
}

/* ---- the four ports
 * ---------------------------------------------------------*/

static void conn_idle_release(moat_conn *conn);

/* The input buffer holds record bytes and, decrypted in place,
 * plaintext: releasing it wipes every byte ever written, which is up to
 * the highest in_len (far less than the 16 KiB buffer for a handshake). */
static void in_grown(moat_conn *conn) {
  if (conn->in_len > conn->in_used) {
    conn->in_used = conn->in_len;
  }
}

/* Makes room at the end of the input buffer: allocates it when released
 * and moves undelivered data to the front.  Returns where new bytes go
 * and how many fit. */
static moat_err in_room(moat_conn *conn, uint8_t **out_at, size_t *out_room) {
  conn->in_granted = 0; /* what was offered before may move now */
  if (conn->in == NULL) {
    /* A whole record fits after the lead of rec_align_lead. */
    conn->in = moat_malloc(TLS_MAX_RECORD + REC_ALIGN);
    if (conn->in == NULL) {
      return MOAT_ERR_NO_MEMORY;
    }
    conn->in_cap = TLS_MAX_RECORD + REC_ALIGN;
    conn->in_len = conn->in_off = conn->app_off = conn->app_len = 0;
    conn->in_used = 0;
  }
  /* What is not yet delivered moves to the front, or just after it where
   * the next record's ciphertext is then aligned. */
  size_t base = conn->app_len > 0 ? conn->app_off : conn->in_off;
  size_t to = conn->in_len == base || base > 0
                  ? rec_align_lead(conn->in, &conn->rd)
                  : base;
  if (to > base && conn->in_len - base + to > conn->in_cap) {
    to = 0; /* no room to move forward: to the front, as ever */
  }
  if (base != to) {
    memmove(conn->in + to, conn->in + base, conn->in_len - base);
    conn->in_len = conn->in_len - base + to;
    conn->in_off = conn->in_off - base + to;
    if (conn->app_len > 0) {
      conn->app_off = conn->app_off - base + to;
    }
    in_grown(conn);
  }
  *out_at = conn->in + conn->in_len;
  *out_room = conn->in_cap - conn->in_len;
  return MOAT_OK;
}

moat_err moat_conn_feed(moat_conn *conn, const uint8_t *data, size_t len,
                        size_t *out_consumed) {
  *out_consumed = 0;
  if (conn->failed) {
    return conn->err;
  }
  uint8_t *at;
  size_t room;
  TRY(moat_conn_input_space(conn, &at, &room));
  size_t n = len < room ? len : room;
  if (n > 0) {
    memcpy(at, data, n);
  }
  *out_consumed = n;
  return moat_conn_input_commit(conn, n);
}

moat_err moat_conn_input_space(moat_conn *conn, uint8_t **out_at,
                               size_t *out_room) {
  *out_at = NULL;
  *out_room = 0;
  if (conn->failed) {
    return conn->err;
  }
  TRY(in_room(conn, out_at, out_room));
  conn->in_granted = *out_room;
  return MOAT_OK;
}

moat_err moat_conn_input_commit(moat_conn *conn, size_t n) {
  /* One commit per offer, refused or not. */
  size_t granted = conn->in_granted;
  conn->in_granted = 0;
  if (n > granted || conn->in == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  conn->in_len += n;
  in_grown(conn);
  return MOAT_OK;
}

moat_err moat_conn_feed_eof(moat_conn *conn) {
  conn->got_eof = true;
  return MOAT_OK;
}

size_t moat_conn_pending_output(const moat_conn *conn) {
  return conn->out_len - conn->out_off;
}

moat_err moat_conn_take_output(moat_conn *conn, uint8_t *out, size_t cap,
                               size_t *out_len) {
  size_t avail = conn->out_len - conn->out_off;
  size_t n = avail < cap ? avail : cap;
  if (n > 0) {
    memcpy(out, conn->out + conn->out_off, n);
  }
  *out_len = n;
  return moat_conn_output_consume(conn, n);
}

moat_err moat_conn_output_view(moat_conn *conn, const uint8_t **out_data,
                               size_t *out_len) {
  *out_len = conn->out_len - conn->out_off;
  *out_data = *out_len > 0 ? conn->out + conn->out_off : NULL;
  return MOAT_OK;
}

moat_err moat_conn_output_consume(moat_conn *conn, size_t n) {
  if (n > conn->out_len - conn->out_off) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  conn->out_off += n;
  if (conn->out_off == conn->out_len) {
    conn->out_off = conn->out_len = 0;
    conn_idle_release(conn);
  }
  return MOAT_OK;
}

/* After the handshake the big buffers go as soon as nothing is in them;
 * in steady traffic they are kept (no allocation per record) until the
 * caller or the transport layer says the connection is idle. */
static void conn_idle_release(moat_conn *conn) {
  if (!conn->release_when_idle) {
    return;
  }
  bool in_empty =
      conn->in == NULL || (conn->in_off == conn->in_len && conn->app_len == 0);
  bool out_empty = conn->out_off == conn->out_len;
  if (in_empty && out_empty) {
    conn_release_buffers(conn);
    hmac_free(conn->hmac);
    conn->hmac = NULL;
    conn->release_when_idle = false;
  }
}

moat_err moat_conn_release_buffers(moat_conn *conn) {
  conn_release_buffers(conn);
  return MOAT_OK;
}

/* ---- transport
 * ----------------------------------------------------------------*/

moat_err moat_conn_set_transport(moat_conn *conn, const moat_transport *t,
                                 void *arg) {
  if (t != NULL && (t->send == NULL || t->recv == NULL)) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  conn->transport = t;
  conn->transport_arg = arg;
  return MOAT_OK;
}

const moat_transport *moat_conn_get_transport(const moat_conn *conn,
                                              void **out_arg) {
  if (out_arg != NULL) {
    *out_arg = conn->transport_arg;
  }
  return conn->transport;
}

/* Push pending output through the transport. */
static moat_err conn_flush(moat_conn *conn) {
  TRY(rec_hs_flush(conn));
  while (conn->out_off < conn->out_len) {
    bool wb = false;
    long n =
        conn->transport->send(conn->transport_arg, conn->out + conn->out_off,
                              conn->out_len - conn->out_off, &wb);
    if (n < 0) {
      int why = errno;
      if (wb) {
        return MOAT_ERR_WANT_WRITE;
      }
      /* A transport error sends no alert (alert_for_error). */
      return conn_fail(conn, MOAT_ERR_SYSCALL,
                       "sending on the transport failed%s%s", why ? ": " : "",
                       why ? strerror(why) : "");
    }
    if (n == 0) {
      /* Only recv may return 0: a send that takes nothing would have this
       * loop spin for ever. */
      return conn_fail(conn, MOAT_ERR_SYSCALL,
                       "the transport's send took none of %zu bytes",
                       conn->out_len - conn->out_off);
    }
    conn->out_off += (size_t)n;
  }
  conn->out_off = conn->out_len = 0;
  return MOAT_OK;
}

moat_err moat_conn_flush(moat_conn *conn) {
  if (conn->transport == NULL) {
    return moat_conn_pending_output(conn) ? MOAT_ERR_WANT_WRITE : MOAT_OK;
  }
  return conn_flush(conn);
}

/* After a want-read: flush, then read more from the transport.  Returns
 * MOAT_OK when new bytes arrived. */
static moat_err conn_pump(moat_conn *conn, moat_err want) {
  if (conn->transport == NULL) {
    return want;
  }
  moat_err e = conn_flush(conn);
  if (e != MOAT_OK) {
    return e;
  }
  if (want == MOAT_ERR_WANT_WRITE) {
    return MOAT_OK;
  }
  /* Receive straight into the record buffer: no copy on the way in. */
  uint8_t *at;
  size_t room;
  TRY(in_room(conn, &at, &room));
  if (room == 0) {
    return MOAT_ERR_WANT_READ; /* a full record waits to be read */
  }
  bool wb = false;
  errno = 0;
  long n = conn->transport->recv(conn->transport_arg, at, room, &wb);
  if (n < 0) {
    int why = errno;
    if (wb) {
      if (conn->handshake_done) {
        conn_release_buffers(conn);
      }
      return MOAT_ERR_WANT_READ;
    }
    return conn_fail(conn, MOAT_ERR_SYSCALL,
                     "receiving on the transport failed%s%s", why ? ": " : "",
                     why ? strerror(why) : "");
  }
  if (n == 0) {
    conn->got_eof = true;
    return MOAT_OK;
  }
  conn->in_len += (size_t)n > room ? room : (size_t)n;
  in_grown(conn);
  return MOAT_OK;
}

static moat_err conn_eof_error(moat_conn *conn) {
  /* Nothing to send: the transport is gone. */
  return conn_fail_alert(conn, MOAT_ERR_EOF, -1,
                         "the transport ended without close_notify%s",
                         conn->handshake_done ? "" : " during the handshake");
}

static moat_err conn_post_handshake(moat_conn *conn);

/* A failed connection with a transport pushes out what it still holds,
 * which ends with its fatal alert (RFC 8446 6.2: the alert is sent before
 * the connection closes, after the handshake as during it).  Called again
 * by every later call while a non-blocking send leaves some behind. */
static moat_err conn_failed(moat_conn *conn) {
  if (conn->transport != NULL && conn->out_off < conn->out_len) {
    (void)conn_flush(conn);
  }
  return conn->err;
}

static moat_err conn_receive_step(moat_conn *conn, uint8_t *out, size_t cap,
                                  size_t *out_len) {
  bool progress = false;
  *out_len = 0;
  if (conn->in != NULL) {
    TRY(rec_read_into(conn, out, cap, out_len, &progress));
  }
  if (progress) {
    return conn_post_handshake(conn);
  }
  if (conn->got_eof) {
    return conn_eof_error(conn);
  }
  return conn_pump(conn, MOAT_ERR_WANT_READ);
}

/* One step of the receive path after the handshake: handle a buffered
 * record (and the post-handshake messages it completes), or pull bytes
 * from the transport.  MOAT_OK after progress.  With a buffer (out, cap),
 * application data is opened straight into it and *out_len says how much
 * landed there. */
static moat_err conn_receive(moat_conn *conn, uint8_t *out, size_t cap,
                             size_t *out_len) {
  moat_err e = conn_receive_step(conn, out, cap, out_len);
  return conn->failed ? conn_failed(conn) : e;
}

/* ---- handshake
 * -------------------------------------------------------------*/

moat_err moat_conn_handshake(moat_conn *conn) {
  ctx_count_start(conn);
  for (;;) {
    if (conn->failed) {
      return conn_failed(conn); /* deliver our alert */
    }
    if (conn->handshake_done) {
      TRY(rec_hs_flush(conn));
      if (conn->transport != NULL) {
        TRY(conn_flush(conn));
      }
      conn_idle_release(conn);
      return MOAT_OK;
    }
    /* The hello states belong to the TLS 1.3 files; once the hello layer
     * chose TLS 1.2 the 1.2 flow runs. */
    moat_err e = conn->version == MOAT_TLS1_2
                     ? (conn->is_server ? tls12_server_step(conn)
                                        : tls12_client_step(conn))
                 : conn->is_server ? tls13_server_step(conn)
                                   : tls13_client_step(conn);
    if (e == MOAT_OK) {
      continue;
    }
    /* The flight so far leaves in its records before we wait or fail. */
    moat_err flushed = rec_hs_flush(conn);
    e = flushed != MOAT_OK ? flushed : e;
    if (e != MOAT_ERR_WANT_READ) {
      if (conn->transport != NULL) {
        (void)conn_flush(conn);
      }
      return e;
    }
    if (conn->close_received) {
      /* Nothing after close_notify is read: waiting for the rest of the
       * handshake would wait for ever. */
      return conn_fail(conn, MOAT_ERR_CLOSED,
                       "the peer sent close_notify during the handshake "
                       "(while %s)",
                       hs_state_name(conn->state));
    }
    if (conn->got_eof) {
      return conn_eof_error(conn);
    }
    e = conn_pump(conn, MOAT_ERR_WANT_READ);
    if (e != MOAT_OK) {
      return e;
    }
  }
}

bool moat_conn_handshake_done(const moat_conn *conn) {
  return conn->handshake_done;
}

/* ---- handshake message reassembly and transcript --------------------------*/

moat_err hs_next_message(moat_conn *conn, uint8_t *out_type, cursor *out_body,
                         cursor *out_whole, bool *out_ok) {
  *out_ok = false;
  for (;;) {
    const uint8_t *buf = conn->hs ? conn->hs->msg : conn->post_msg;
    size_t len = conn->hs ? conn->hs->msg_len : conn->post_len;
    cursor c = cur_make(buf, len);
    uint8_t type;
    uint32_t mlen;
    if (cur_u8(&c, &type) && cur_u24(&c, &mlen)) {
      if (mlen > TLS_MAX_HANDSHAKE_MSG) {
        return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                         "handshake message of %u bytes is too large", mlen);
      }
      if (cur_sub(&c, mlen, out_body)) {
        *out_type = type;
        *out_whole = cur_make(buf, 4 + (size_t)mlen);
        *out_ok = true;
        return MOAT_OK;
      }
    }
    bool progress;
    TRY(rec_read_one(conn, &progress));
    if (!progress || conn->app_len > 0) {
      return MOAT_OK;
    }
  }
}

void hs_consume_message(moat_conn *conn, size_t whole_len) {
  uint8_t *buf = conn->hs ? conn->hs->msg : conn->post_msg;
  size_t *len = conn->hs ? &conn->hs->msg_len : &conn->post_len;
  memmove(buf, buf + whole_len, *len - whole_len);
  *len -= whole_len;
  msgcb_consumed(conn, whole_len);
}

moat_err hs_absorb(moat_conn *conn, cursor whole) {
  TRY(hs_transcript_add(conn, cur_data(&whole), cur_len(&whole)));
  hs_consume_message(conn, cur_len(&whole));
  return MOAT_OK;
}

/* A TLS 1.2 CertificateVerify signs the messages themselves: while one
 * may still be signed or checked they are kept beside the hash. */
static moat_err raw_add(moat_conn *conn, const uint8_t *msg, size_t len) {
  handshake *hs = conn->hs;
  if (len > TLS_MAX_HANDSHAKE_MSG * 2 - hs->raw_len) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "the handshake exceeds %d bytes",
                     TLS_MAX_HANDSHAKE_MSG * 2);
  }
  if (hs->raw_len + len > hs->raw_cap) {
    size_t ncap = hs->raw_cap ? hs->raw_cap : 2048;
    while (ncap < hs->raw_len + len) {
      ncap *= 2;
    }
    uint8_t *n = moat_malloc(ncap);
    if (n == NULL) {
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "handshake messages");
    }
    if (hs->raw_len > 0) {
      memcpy(n, hs->raw, hs->raw_len);
    }
    moat_free_wipe(hs->raw, hs->raw_cap);
    hs->raw = n;
    hs->raw_cap = ncap;
  }
  memcpy(hs->raw + hs->raw_len, msg, len);
  hs->raw_len += len;
  return MOAT_OK;
}

moat_err hs_transcript_add(moat_conn *conn, const uint8_t *msg, size_t len) {
  if (conn->hs->transcript == NULL ||
      !hash_update(conn->hs->transcript, msg, len)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "transcript hash");
  }
  return conn->hs->keep_raw ? raw_add(conn, msg, len) : MOAT_OK;
}

moat_err hs_transcript_start(moat_conn *conn, const hash_alg *h,
                             const uint8_t *first, size_t len,
                             bool as_message_hash) {
  handshake *hs = conn->hs;
  hs_drop_transcript(hs);
  hs->transcript = hash_place(hs->transcript_mem, h);
  if (hs->transcript == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "transcript");
  }
  if (first == NULL) {
    return MOAT_OK;
  }
  if (!as_message_hash) {
    return hs_transcript_add(conn, first, len);
  }
  /* RFC 8446 4.4.1: after a HelloRetryRequest, ClientHello1 is replaced
   * by message_hash || 00 00 Hash.length || Hash(ClientHello1). */
  uint8_t mh[4 + HASH_MAX_LEN] = {HT_MESSAGE_HASH, 0, 0, (uint8_t)h->len};
  if (!hash_oneshot(h, first, len, mh + 4)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "hashing ClientHello1");
  }
  return hs_transcript_add(conn, mh, 4 + h->len);
}

bool hs_transcript_hash(moat_conn *conn, uint8_t *out) {
  return hash_peek(conn->hs->transcript, out);
}

moat_err hs_send_codec(moat_conn *conn, builder *b, bool built,
                       const char *what) {
  if (!built) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building %s", what);
  }
  return hs_send(conn, b);
}

moat_err hs_send(moat_conn *conn, builder *b) {
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building a handshake message");
  }
  if (conn->hs->transcript != NULL) {
    TRY(hs_transcript_add(conn, bld_data(b), bld_len(b)));
  }
  return rec_write_hs(conn, bld_data(b), bld_len(b));
}

/* ---- application data
 * ---------------------------------------------------------*/

/* Handle complete post-handshake messages (RFC 8446 4.6). */
static moat_err conn_post_handshake(moat_conn *conn) {
  for (;;) {
    uint8_t type;
    cursor body, whole;
    cursor c = cur_make(conn->post_msg, conn->post_len);
    uint32_t mlen;
    if (!cur_u8(&c, &type) || !cur_u24(&c, &mlen)) {
      return MOAT_OK;
    }
    if (mlen > TLS_MAX_HANDSHAKE_MSG) {
      return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                       "post-handshake message of %u bytes is too large", mlen);
    }
    if (!cur_sub(&c, mlen, &body)) {
      return MOAT_OK;
    }
    whole = cur_make(conn->post_msg, 4 + (size_t)mlen);
    TRY(conn->version == MOAT_TLS1_2 ? tls12_post_handshake(conn, type, &body)
                                     : tls13_post_handshake(conn, type, &body));
    hs_consume_message(conn, cur_len(&whole));
    if (conn->post_len == 0) {
      moat_free_wipe(conn->post_msg, conn->post_cap);
      conn->post_msg = NULL;
      conn->post_cap = 0;
    }
  }
}

moat_err moat_conn_read(moat_conn *conn, uint8_t *out, size_t cap,
                        size_t *out_len) {
  *out_len = 0;
  if (!conn->handshake_done) {
    TRY(moat_conn_handshake(conn));
  }
  for (;;) {
    if (conn->failed) {
      return conn_failed(conn);
    }
    if (conn->app_len > 0) {
      size_t n = conn->app_len < cap ? conn->app_len : cap;
      memcpy(out, conn->in + conn->app_off, n);
      conn->app_off += n;
      conn->app_len -= n;
      *out_len = n;
      return MOAT_OK;
    }
    if (conn->close_received) {
      return MOAT_ERR_CLOSED;
    }
    /* Nothing buffered: the next record opens straight into out (no copy
     * through the input buffer).  An empty record delivers nothing and
     * the loop goes on. */
    size_t got = 0;
    TRY(conn_receive(conn, out, cap, &got));
    if (got > 0) {
      *out_len = got;
      return MOAT_OK;
    }
  }
}

size_t moat_conn_pending(const moat_conn *conn) {
  return conn->app_len;
}

moat_err moat_conn_write(moat_conn *conn, const uint8_t *data, size_t len,
                         size_t *out_written) {
  *out_written = 0;
  if (!conn->handshake_done) {
    TRY(moat_conn_handshake(conn));
  }
  if (conn->failed) {
    return conn_failed(conn);
  }
  if (conn->close_sent) {
    return MOAT_ERR_BAD_STATE;
  }
  if (conn->key_update_pending) {
    conn->key_update_pending = false;
    TRY(tls13_send_key_update(conn, false));
  }
  if (len > 0) {
    TRY(rec_write(conn, CT_APPLICATION_DATA, data, len));
    conn->key_update_answered = false;
  }
  *out_written = len;
  if (conn->transport != NULL) {
    moat_err e = conn_flush(conn);
    if (e != MOAT_OK && e != MOAT_ERR_WANT_WRITE) {
      return e;
    }
  }
  return MOAT_OK;
}

moat_err moat_conn_shutdown(moat_conn *conn) {
  if (conn->failed && conn->err != MOAT_ERR_CLOSED) {
    return conn_failed(conn);
  }
  if (!conn->close_sent) {
    static const uint8_t a[2] = {1, ALERT_CLOSE_NOTIFY};
    conn->close_sent = true;
    TRY(rec_write(conn, CT_ALERT, a, sizeof(a)));
  }
  if (conn->transport != NULL) {
    TRY(conn_flush(conn));
  }
  while (!conn->close_received) {
    /* RFC 8446 6.1: closing our side leaves the peer's open.  Data still
     * arriving stays readable: the caller drains it with moat_conn_read. */
    if (conn->app_len > 0) {
      return MOAT_ERR_WANT_READ;
    }
    size_t none;
    TRY(conn_receive(conn, NULL, 0, &none));
  }
  return MOAT_OK;
}

moat_err moat_conn_key_update(moat_conn *conn, bool request_peer) {
  if (!conn->handshake_done || conn->close_sent) {
    return MOAT_ERR_BAD_STATE;
  }
  if (conn->version != MOAT_TLS1_3) {
    return MOAT_ERR_UNSUPPORTED; /* KeyUpdate is TLS 1.3's (RFC 8446 4.6.3) */
  }
  if (conn->failed) {
    return conn_failed(conn);
  }
  TRY(tls13_send_key_update(conn, request_peer));
  if (conn->transport != NULL) {
    moat_err e = conn_flush(conn);
    if (e != MOAT_OK && e != MOAT_ERR_WANT_WRITE) {
      return e;
    }
  }
  return MOAT_OK;
}

/* ---- key logging (NSS SSLKEYLOGFILE format) -------------------------------*/

void keylog(moat_conn *conn, const char *label, const uint8_t *secret,
            size_t len) {
  const tls_policy *ctx = conn->ctx;
  if (ctx->keylog_cb == NULL && ctx->keylog == NULL) {
    return;
  }
  static const char hex[] = "0123456789abcdef";
  char line[64 + 1 + 2 * TLS_RANDOM_LEN + 1 + 2 * HASH_MAX_LEN + 1];
  size_t n = (size_t)snprintf(line, sizeof(line), "%s ", label);
  for (size_t i = 0; i < TLS_RANDOM_LEN; i++) {
    line[n++] = hex[conn->hs->client_random[i] >> 4];
    line[n++] = hex[conn->hs->client_random[i] & 15];
  }
  line[n++] = ' ';
  for (size_t i = 0; i < len; i++) {
    line[n++] = hex[secret[i] >> 4];
    line[n++] = hex[secret[i] & 15];
  }
  line[n] = '\0';
  if (ctx->keylog_cb != NULL) {
    ctx->keylog_cb(ctx->keylog_arg, conn, line);
  }
  if (ctx->keylog != NULL) {
    pthread_mutex_lock(&ctx->keylog->lock);
    fprintf(ctx->keylog->file, "%s\n", line);
    fflush(ctx->keylog->file);
    pthread_mutex_unlock(&ctx->keylog->lock);
  }
  moat_wipe(line, sizeof(line));
}

/* ---- accessors
 * -----------------------------------------------------------------*/

int moat_conn_version(const moat_conn *conn) {
  return conn->handshake_done ? conn->version : 0;
}
const char *moat_conn_version_name(const moat_conn *conn) {
  if (!conn->handshake_done) {
    return NULL;
  }
  return conn->version == MOAT_TLS1_3 ? "TLSv1.3" : "TLSv1.2";
}
const char *moat_conn_cipher_name(const moat_conn *conn) {
  return conn->suite ? conn->suite->name : NULL;
}
const char *moat_conn_cipher_openssl_name(const moat_conn *conn) {
  return conn->suite ? conn->suite->openssl_name : NULL;
}
int moat_conn_cipher_bits(const moat_conn *conn) {
  return conn->suite ? conn->suite->bits : 0;
}
const char *moat_conn_group_name(const moat_conn *conn) {
  return conn->group ? conn->group->name : NULL;
}
const char *moat_conn_peer_sigalg_name(const moat_conn *conn) {
  return conn->peer_sig ? conn->peer_sig->name : NULL;
}
const char *moat_conn_sigalg_name(const moat_conn *conn) {
  return conn->our_sig ? conn->our_sig->name : NULL;
}
const char *moat_conn_alpn(const moat_conn *conn) {
  return conn->alpn;
}
const char *moat_conn_server_name(const moat_conn *conn) {
  return conn->is_server ? conn->hostname : NULL;
}
bool moat_conn_session_reused(const moat_conn *conn) {
  return conn->resumed;
}
bool moat_conn_extended_master_secret(const moat_conn *conn) {
  return conn->handshake_done && (conn->version == MOAT_TLS1_3 || conn->ems);
}

uint32_t moat_conn_renegotiations_refused(const moat_conn *conn) {
  return conn->renegotiations_refused;
}
size_t moat_conn_peer_record_size_limit(const moat_conn *conn) {
  return conn->rsl_peer;
}

size_t moat_conn_record_size_limit(const moat_conn *conn) {
  return conn->rsl_ours;
}

bool moat_conn_hello_retry(const moat_conn *conn) {
  return conn->hello_retry;
}

static moat_err chain_get(const der_chain *c, size_t index,
                          const uint8_t **out_der, size_t *out_len) {
  if (c == NULL || index >= c->num) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  *out_der = c->e[index].der;
  *out_len = c->e[index].len;
  return MOAT_OK;
}

size_t moat_conn_peer_chain_len(const moat_conn *conn) {
  return conn->peer ? conn->peer->num : 0;
}
moat_err moat_conn_peer_cert_der(const moat_conn *conn, size_t index,
                                 const uint8_t **out_der, size_t *out_len) {
  return chain_get(conn->peer, index, out_der, out_len);
}
size_t moat_conn_verified_chain_len(const moat_conn *conn) {
  return conn->verified ? conn->verified->num : 0;
}
moat_err moat_conn_verified_cert_der(const moat_conn *conn, size_t index,
                                     const uint8_t **out_der, size_t *out_len) {
  return chain_get(conn->verified, index, out_der, out_len);
}
long moat_conn_verify_code(const moat_conn *conn) {
  return conn->verify_code;
}
int moat_conn_verify_error_depth(const moat_conn *conn) {
  return conn->verify_subject != NULL ? conn->verify_depth : -1;
}

const char *moat_conn_verify_error_subject(const moat_conn *conn) {
  return conn->verify_subject;
}

const char *moat_conn_verify_message(const moat_conn *conn) {
  if (conn->verify_message != NULL) {
    return conn->verify_message;
  }
  /* No message is kept after a success; after a failure only when
   * copying it ran out of memory. */
  return conn->verify_code == 0 ? "ok" : "certificate verify failed";
}
