/* The record layer: framing, then protection in one of the modes of
 * rec_mode (TLS 1.3, RFC 8446 5; TLS 1.2 AES-GCM, RFC 5288; TLS 1.2
 * ChaCha20-Poly1305, RFC 7905), then dispatch by content type; and the
 * size limits of each version. */
#include <string.h>

#include "base/mem.h"
#include "tls/tls.h"

void rec_dir_clear(rec_dir *dir) {
  aead_clear(&dir->aead);
  moat_wipe(dir, sizeof(*dir));
}

moat_err rec_set_key(moat_conn *conn, rec_dir *dir, const tls_suite *suite,
                     const hash_alg *hash, hmac_ctx *hmac,
                     const uint8_t *secret, bool encrypt, uint8_t *fin_key) {
  if (dir == &conn->wr) {
    TRY(rec_hs_flush(conn)); /* the open record goes under the old key */
  }
  const aead_alg *alg = aead_get(suite->aead);
  uint8_t key[AEAD_MAX_KEY];
  if (alg == NULL || !traffic_key_iv(hmac, hash, secret, alg->key_len, key,
                                     dir->iv, fin_key)) {
    moat_wipe(key, sizeof(key));
    return conn_fail(conn, MOAT_ERR_CRYPTO, "deriving traffic keys failed");
  }
  bool ok;
  if (aead_ready(&dir->aead) && dir->alg == alg) {
    ok = aead_rekey(&dir->aead, key);
  } else {
    aead_clear(&dir->aead);
    ok = aead_init(&dir->aead, alg, key, encrypt);
  }
  moat_wipe(key, sizeof(key));
  if (!ok) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "setting up %s failed", alg->name);
  }
  dir->alg = alg;
  dir->seq = 0;
  dir->active = true;
  dir->mode = REC_TLS13;
  return MOAT_OK;
}

moat_err rec_set_key12(moat_conn *conn, rec_dir *dir, const tls_suite *suite,
                       const uint8_t *key, const uint8_t *iv, bool encrypt) {
  if (dir == &conn->wr) {
    TRY(rec_hs_flush(conn));
  }
  const aead_alg *alg = aead_get(suite->aead);
  aead_clear(&dir->aead);
  if (!aead_init(&dir->aead, alg, key, encrypt)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "setting up %s failed",
                     alg != NULL ? alg->name : "the AEAD");
  }
  dir->alg = alg;
  dir->seq = 0;
  dir->active = true;
  /* RFC 5288 3: a 4-byte implicit salt; RFC 7905 2: a 12-byte IV. */
  dir->mode =
      suite->aead == AEAD_CHACHA20_POLY1305 ? REC_TLS12_CHACHA : REC_TLS12_GCM;
  memset(dir->iv, 0, sizeof(dir->iv));
  memcpy(dir->iv, iv, dir->mode == REC_TLS12_GCM ? 4 : AEAD_NONCE_LEN);
  return MOAT_OK;
}

/* RFC 8446 5.3 and RFC 7905 2: the nonce is the IV XORed with the 64-bit
 * sequence number, left-padded to the IV length.  RFC 5288 3: for TLS 1.2
 * AES-GCM it is the 4-byte salt followed by the 8-byte explicit nonce,
 * which moat sets to the sequence number (RFC 9325 7.2.1: never
 * repeated). */
static void rec_nonce(const rec_dir *dir, uint8_t nonce[AEAD_NONCE_LEN]) {
  memcpy(nonce, dir->iv, AEAD_NONCE_LEN);
  if (dir->mode == REC_TLS12_GCM) {
    for (size_t i = 0; i < 8; i++) {
      nonce[AEAD_NONCE_LEN - 1 - i] = (uint8_t)(dir->seq >> (8 * i));
    }
    return;
  }
  for (size_t i = 0; i < 8; i++) {
    nonce[AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(dir->seq >> (8 * i));
  }
}

/* RFC 5246 6.2.3.3: additional data = seq_num || type || version ||
 * length of the plaintext.  Never sent, so written directly rather than
 * through a builder (twice per record: a builder's setup showed in
 * profiles of bulk transfer). */
static void rec_aad12(const rec_dir *dir, uint8_t type, size_t len,
                      uint8_t aad[13]) {
  for (size_t i = 0; i < 8; i++) {
    aad[i] = (uint8_t)(dir->seq >> (56 - 8 * i));
  }
  aad[8] = type;
  aad[9] = 0x03;
  aad[10] = 0x03;
  aad[11] = (uint8_t)(len >> 8);
  aad[12] = (uint8_t)len;
}

/* Bytes a protected record adds to its plaintext. */
static size_t rec_overhead(const rec_dir *dir) {
  switch (dir->mode) {
  case REC_TLS13:
    return 1 + dir->alg->tag_len;
  case REC_TLS12_GCM:
    return 8 + dir->alg->tag_len;
  case REC_TLS12_CHACHA:
    return dir->alg->tag_len;
  default:
    return 0;
  }
}

/* Room for need more bytes after out_len, by doubling. */
static moat_err out_grow(moat_conn *conn, size_t need) {
  size_t ncap = conn->out_cap ? conn->out_cap : 1024;
  while (ncap - conn->out_len < need) {
    ncap *= 2;
  }
  uint8_t *n = moat_realloc(conn->out, ncap);
  if (n == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "output buffer");
  }
  conn->out = n;
  conn->out_cap = ncap;
  return MOAT_OK;
}

size_t rec_align_lead(const uint8_t *buf, const rec_dir *dir) {
  if (!dir->active) {
    return 0;
  }
  size_t head = TLS_RECORD_HEADER + (dir->mode == REC_TLS12_GCM ? 8 : 0);
  return (REC_ALIGN - ((uintptr_t)buf + head) % REC_ALIGN) % REC_ALIGN;
}

/* Room for need bytes after out_len; the open handshake record (hs_open
 * bytes after out_len) is kept where it is relative to out_len. */
static moat_err out_reserve(moat_conn *conn, size_t need) {
  if (conn->out_off == conn->out_len && conn->hs_open == 0) {
    /* Empty: the record starts where its ciphertext is aligned (room for
     * that included, so a reallocation cannot move it off). */
    conn->out_off = conn->out_len = 0;
    need += conn->wr.active ? REC_ALIGN - 1 : 0;
    if (conn->out_cap < need) {
      TRY(out_grow(conn, need));
    }
    conn->out_off = conn->out_len = rec_align_lead(conn->out, &conn->wr);
    return MOAT_OK;
  }
  if (conn->out_cap - conn->out_len >= need) {
    return MOAT_OK;
  }
  if (conn->out_off > 0) {
    memmove(conn->out, conn->out + conn->out_off,
            conn->out_len - conn->out_off + conn->hs_open);
    conn->out_len -= conn->out_off;
    conn->out_off = 0;
    if (conn->out_cap - conn->out_len >= need) {
      return MOAT_OK;
    }
  }
  return out_grow(conn, need);
}

/* RFC 8446 5.1: a client's first ClientHello may carry 0x0301, which old
 * servers that reject a higher record version need; every other record
 * says 0x0303 (RFC 5246 E.1). */
static uint16_t rec_version(const moat_conn *conn, uint8_t type) {
  bool first_hello =
      !conn->is_server && !conn->got_record && type == CT_HANDSHAKE;
  return first_hello ? 0x0301 : 0x0303;
}

/* Bytes before a protected record's plaintext: the header, and TLS 1.2
 * AES-GCM's explicit nonce (RFC 5288 3). */
static size_t rec_prefix(const rec_dir *wr) {
  return TLS_RECORD_HEADER + (wr->active && wr->mode == REC_TLS12_GCM ? 8 : 0);
}

/* Writes the record that starts at rec: its header, and data (len bytes)
 * protected with the write key, or as it is before there is one.  data
 * may be the caller's bytes or already sit where the record's plaintext
 * goes (rec + rec_prefix): sealing works in place.  *out_len gets the
 * record's whole length. */
static moat_err rec_seal(moat_conn *conn, uint8_t type, uint8_t *rec,
                         const uint8_t *data, size_t len, size_t *out_len) {
  rec_dir *wr = &conn->wr;
  size_t body = wr->active ? len + rec_overhead(wr) : len;
  /* RFC 8446 5.1/5.2: protected TLS 1.3 records travel as
   * application_data; TLS 1.2 records keep their type. */
  bool hide = wr->active && wr->mode == REC_TLS13;
  uint16_t version = rec_version(conn, type);
  rec[0] = hide ? CT_APPLICATION_DATA : type;
  rec[1] = (uint8_t)(version >> 8);
  rec[2] = (uint8_t)version;
  rec[3] = (uint8_t)(body >> 8);
  rec[4] = (uint8_t)body;
  *out_len = TLS_RECORD_HEADER + body;
  uint8_t *p = rec + TLS_RECORD_HEADER;
  msgcb_header(conn, true, rec);
  if (hide) {
    msgcb_inner_type(conn, true, type);
  }
  if (!wr->active) {
    if (len > 0 && data != p) {
      memcpy(p, data, len);
    }
    return MOAT_OK;
  }
  if (wr->seq == UINT64_MAX) {
    return conn_fail(conn, MOAT_ERR_SEQUENCE_LIMIT,
                     "write sequence number exhausted");
  }
  uint8_t nonce[AEAD_NONCE_LEN];
  rec_nonce(wr, nonce);
  bool ok;
  if (wr->mode == REC_TLS13) {
    /* TLSInnerPlaintext = data || type, no padding. */
    ok = aead_seal_parts(&wr->aead, nonce, rec, TLS_RECORD_HEADER, data, len,
                         &type, 1, p);
  } else {
    uint8_t aad[13];
    rec_aad12(wr, type, len, aad);
    size_t explicit_len = wr->mode == REC_TLS12_GCM ? 8 : 0;
    memcpy(p, nonce + AEAD_NONCE_LEN - explicit_len, explicit_len);
    ok = aead_seal(&wr->aead, nonce, aad, sizeof(aad), data, len,
                   p + explicit_len);
  }
  if (!ok) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "record encryption failed");
  }
  wr->seq++;
  return MOAT_OK;
}

/* Plaintext bytes per record we write: the context's max_fragment and,
 * for protected records once negotiated, the peer's record_size_limit
 * (RFC 8449 4: in TLS 1.3 the limit counts the content type byte). */
static size_t rec_fragment(const moat_conn *conn) {
  size_t max = conn->ctx->max_fragment;
  if (conn->rsl_peer != 0 && conn->wr.active) {
    size_t peer = conn->wr.mode == REC_TLS13 ? conn->rsl_peer - 1u
                                             : (size_t)conn->rsl_peer;
    max = peer < max ? peer : max;
  }
  return max;
}

moat_err rec_hs_flush(moat_conn *conn) {
  if (conn->hs_open == 0) {
    return MOAT_OK;
  }
  size_t len = conn->hs_open - rec_prefix(&conn->wr), whole;
  conn->hs_open = 0;
  uint8_t *rec = conn->out + conn->out_len;
  TRY(rec_seal(conn, CT_HANDSHAKE, rec, rec + rec_prefix(&conn->wr), len,
               &whole));
  conn->out_len += whole;
  return MOAT_OK;
}

moat_err rec_write_hs(moat_conn *conn, const uint8_t *data, size_t len) {
  const uint8_t *start = data;
  size_t total = len;
  const rec_dir *wr = &conn->wr;
  size_t pre = rec_prefix(wr);
  /* what the seal adds after the plaintext: tag (and 1.3's type byte) */
  size_t tail = wr->active ? rec_overhead(wr) - (pre - TLS_RECORD_HEADER) : 0;
  while (len > 0) {
    size_t have = conn->hs_open > 0 ? conn->hs_open - pre : 0;
    size_t max = rec_fragment(conn);
    if (have >= max) {
      TRY(rec_hs_flush(conn));
      have = 0;
    }
    size_t n = len < max - have ? len : max - have;
    TRY(out_reserve(conn, pre + have + n + tail));
    memcpy(conn->out + conn->out_len + pre + have, data, n);
    conn->hs_open = pre + have + n;
    data += n;
    len -= n;
  }
  msgcb_content(conn, true, CT_HANDSHAKE, start, total);
  return MOAT_OK;
}

static moat_err rec_write_one(moat_conn *conn, uint8_t type,
                              const uint8_t *data, size_t len) {
  TRY(rec_hs_flush(conn));
  const rec_dir *wr = &conn->wr;
  size_t whole;
  TRY(out_reserve(conn, TLS_RECORD_HEADER +
                            (wr->active ? len + rec_overhead(wr) : len)));
  TRY(rec_seal(conn, type, conn->out + conn->out_len, data, len, &whole));
  conn->out_len += whole;
  return MOAT_OK;
}

moat_err rec_write(moat_conn *conn, uint8_t type, const uint8_t *data,
                   size_t len) {
  const uint8_t *start = data;
  size_t total = len;
  /* RFC 8446 5.1: fragments of at most 2^14 bytes (or the context's
   * max_fragment, or the peer's record_size_limit). */
  do {
    size_t max = rec_fragment(conn);
    size_t n = len > max ? max : len;
    TRY(rec_write_one(conn, type, data, n));
    data += n;
    len -= n;
  } while (len > 0);
  msgcb_content(conn, true, type, start, total);
  return MOAT_OK;
}

void conn_release_buffers(moat_conn *conn) {
  if (conn->in != NULL && conn->in_off == conn->in_len && conn->app_len == 0) {
    moat_free_wipe(conn->in, conn->in_used);
    conn->in = NULL;
    conn->in_cap = conn->in_len = conn->in_off = conn->app_off = 0;
    conn->in_used = 0;
    conn->in_granted = 0;
  }
  if (conn->out != NULL && conn->out_off == conn->out_len) {
    moat_free(conn->out);
    conn->out = NULL;
    conn->out_cap = conn->out_len = conn->out_off = 0;
  }
}

/* Appends handshake bytes to the reassembly buffer (the handshake's, or
 * after it the post-handshake one).  Both grow by doubling: a message sent
 * a byte per record must not cost a reallocation and copy per record. */
static moat_err hs_append(moat_conn *conn, const uint8_t *data, size_t len) {
  bool post = conn->hs == NULL;
  uint8_t **buf = post ? &conn->post_msg : &conn->hs->msg;
  size_t *blen = post ? &conn->post_len : &conn->hs->msg_len;
  size_t *cap = post ? &conn->post_cap : &conn->hs->msg_cap;
  if (len > TLS_MAX_HANDSHAKE_MSG + 4 - *blen) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "handshake data exceeds %d bytes", TLS_MAX_HANDSHAKE_MSG);
  }
  size_t need = *blen + len;
  if (need > *cap) {
    size_t ncap = *cap ? *cap : (post ? 256 : 1024);
    while (ncap < need) {
      ncap *= 2;
    }
    /* The handshake's first buffer is part of its own allocation. */
    bool inline_buf = !post && *buf == conn->hs->msg_inline;
    uint8_t *n = inline_buf ? moat_malloc(ncap) : moat_realloc(*buf, ncap);
    if (n == NULL) {
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "handshake buffer");
    }
    if (inline_buf) {
      memcpy(n, *buf, *blen);
      moat_wipe(*buf, *blen);
    }
    *buf = n;
    *cap = ncap;
  }
  memcpy(*buf + *blen, data, len);
  *blen += len;
  return MOAT_OK;
}

moat_err rec_count_idle(moat_conn *conn, const char *what) {
  if (++conn->idle_records > TLS_MAX_IDLE_RECORDS) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "more than %d records in a row carry no data (the "
                     "last: %s)",
                     TLS_MAX_IDLE_RECORDS, what);
  }
  return MOAT_OK;
}

static moat_err rec_alert(moat_conn *conn, cursor *body) {
  uint8_t level, desc;
  if (!cur_u8(body, &level) || !cur_u8(body, &desc) || !cur_done(body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "an alert record must be exactly two bytes");
  }
  if (desc == ALERT_CLOSE_NOTIFY) {
    conn->close_received = true;
    return MOAT_OK;
  }
  /* RFC 8446 6: the level is warning (1) or fatal (2). */
  if (level != 1 && level != 2) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "alert level %u is neither warning nor fatal (alert %s)",
                     level, moat_alert_name(desc));
  }
  /* RFC 8446 6.1: user_canceled is followed by close_notify.  RFC 5246
   * 7.2: in TLS 1.2 a warning (no_renegotiation, unrecognized_name, ...)
   * leaves the connection up, also one before the hellos agreed on a
   * version when 1.2 may be agreed (as OpenSSL and BoringSSL, whatever
   * the description).  A run of them with nothing else is
   * refused, so a peer cannot keep us reading warnings for ever. */
  bool tls12_warning =
      level == 1 &&
      (conn->version == MOAT_TLS1_2 ||
       (conn->version == 0 && ctx_allows(conn->ctx, MOAT_TLS1_2)));
  if (desc == ALERT_USER_CANCELED || tls12_warning) {
    if (++conn->warnings_in_row > 4) {
      return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                       "more than 4 warning alerts in a row (the last: %s)",
                       moat_alert_name(desc));
    }
    return desc == ALERT_USER_CANCELED ? rec_count_idle(conn, "user_canceled")
                                       : MOAT_OK;
  }
  /* RFC 8446 6.2: every other alert is fatal, whatever its level; we
   * answer none. */
  moat_err err = conn_fail_alert(conn, MOAT_ERR_ALERT_RECEIVED, -1,
                                 "the peer sent a fatal alert: %s (%u)",
                                 moat_alert_name(desc), desc);
  if (err == MOAT_ERR_ALERT_RECEIVED) {
    conn->have_alert = true;
    conn->alert_sent = false;
    conn->alert = desc;
  }
  return err;
}

/* RFC 8446 4.2.10: a server that rejected early data skips records it
 * cannot decrypt, up to a limit. */
#define EARLY_DATA_SKIP_LIMIT (16 * TLS_MAX_CIPHERTEXT)

static bool skipping_early_data(const moat_conn *conn) {
  return conn->is_server && conn->hs != NULL &&
         conn->hs->client_sent_early_data &&
         (conn->state == ST_S_WAIT_CERT || conn->state == ST_S_WAIT_FINISHED ||
          conn->state == ST_S_WAIT_CV || conn->state == ST_S_WAIT_CH);
}

/* Skips a record that did not decrypt (or could not: too short) while
 * rejected 0-RTT data may be arriving, within the limit. */
static bool skip_early_record(moat_conn *conn, size_t len) {
  if (!skipping_early_data(conn) ||
      conn->hs->early_data_skipped + len > EARLY_DATA_SKIP_LIMIT) {
    return false;
  }
  conn->hs->early_data_skipped += len;
  return true;
}

/* RFC 8446 5.4: the inner plaintext is content || type || zeros.  It may
 * sit in two parts (head, then tail); returns the length up to and
 * including its last non-zero byte, 0 when it is all zeros. */
static size_t rec_unpad(const uint8_t *head, size_t head_len,
                        const uint8_t *tail, size_t tail_len) {
  size_t n = tail_len;
  while (n > 0 && tail[n - 1] == 0) {
    n--;
  }
  if (n > 0) {
    return head_len + n;
  }
  n = head_len;
  while (n > 0 && head[n - 1] == 0) {
    n--;
  }
  return n;
}

/* Where a protected record's plaintext goes.  Without one it is opened in
 * place in conn->in; with one (moat_conn_read after the handshake) its
 * first head_len bytes are opened straight into the caller's buffer and
 * only the rest in place. */
typedef struct rec_dest {
  uint8_t *buf;
  size_t cap;
  size_t head_len;  /* plaintext bytes now in buf */
  size_t delivered; /* of those, application data for the caller */
} rec_dest;

/* The first bytes from the peer are no TLS record.  When they are text
 * (an HTTP server's "HTTP/1.1 400 Bad Request", an SMTP banner) the
 * detail quotes their first line, so the reader sees what is on the
 * other end rather than a content type number. */
static moat_err rec_not_tls(moat_conn *conn, uint8_t type) {
  cursor c = cur_make(conn->in + conn->in_off, conn->in_len - conn->in_off);
  char text[64];
  size_t n = 0;
  uint8_t b;
  bool printable = true;
  while (n < sizeof(text) - 1 && cur_u8(&c, &b) && b != '\r' && b != '\n') {
    printable &= b >= 0x20 && b < 0x7f;
    text[n++] = (char)b;
  }
  text[n] = '\0';
  if (!printable || n < 4) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "the peer is not speaking TLS: its first record has "
                     "the unknown content type %u",
                     type);
  }
  return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                   "the peer is not speaking TLS: it sent text, \"%s\"", text);
}

/* RFC 8446 5: in TLS 1.3 change_cipher_spec is one byte 0x01, allowed
 * only while the handshake runs, and ignored. */
static moat_err rec_ccs13(moat_conn *conn, cursor body) {
  uint8_t v;
  if (conn->handshake_done || conn->hs == NULL || !cur_u8(&body, &v) ||
      v != 0x01 || !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "change_cipher_spec is only allowed as one byte 0x01 "
                     "during the handshake");
  }
  return MOAT_OK;
}

/* RFC 5246 7.1: in TLS 1.2 change_cipher_spec switches the read keys to
 * the pending ones, once, right before the peer's Finished. */
static moat_err rec_ccs12(moat_conn *conn, cursor body) {
  handshake *hs = conn->hs;
  uint8_t v;
  if (!cur_u8(&body, &v) || v != 0x01 || !cur_done(&body)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "change_cipher_spec must be one byte 0x01");
  }
  if (hs == NULL || !hs->ccs_allowed) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "change_cipher_spec while %s", hs_state_name(conn->state));
  }
  if (hs->msg_len != 0) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "handshake data continues across change_cipher_spec");
  }
  rec_dir_clear(&conn->rd);
  conn->rd = hs->pending_rd;
  memset(&hs->pending_rd, 0, sizeof(hs->pending_rd));
  hs->ccs_allowed = false;
  hs->ccs_seen = true;
  return MOAT_OK;
}

/* RFC 8449 4: a protected record's plaintext (TLS 1.3: the whole
 * TLSInnerPlaintext) is within the record_size_limit we advertised, once
 * negotiated. */
static moat_err rec_check_limit(moat_conn *conn, size_t plain) {
  if (plain > conn->rd_max_plain) {
    conn->rd_max_plain = plain;
  }
  if (conn->rsl_ours != 0 && plain > conn->rsl_ours) {
    return conn_fail(conn, MOAT_ERR_RECORD_OVERFLOW,
                     "the %s sent a protected record of %zu bytes%s, over "
                     "the record_size_limit of %u we advertised",
                     conn->is_server ? "client" : "server", plain,
                     conn->rd.mode == REC_TLS13 ? " (content and type)" : "",
                     conn->rsl_ours);
  }
  return MOAT_OK;
}

/* Opens a TLS 1.2 record in place (RFC 5288 3, RFC 7905 2); application
 * data after the handshake opens its first bytes straight into dst.
 * *out_body is the plaintext. */
static moat_err rec_open12(moat_conn *conn, rec_dest *dst, uint8_t type,
                           const uint8_t *hdr, uint8_t *p, size_t len,
                           cursor *out_body) {
  rec_dir *rd = &conn->rd;
  (void)hdr;
  size_t explicit_len = rd->mode == REC_TLS12_GCM ? 8 : 0;
  if (len < explicit_len + rd->alg->tag_len) {
    return conn_fail(conn, MOAT_ERR_BAD_RECORD_MAC,
                     "protected record too short (%zu bytes)", len);
  }
  size_t plain = len - explicit_len - rd->alg->tag_len;
  uint8_t nonce[AEAD_NONCE_LEN];
  rec_nonce(rd, nonce);
  memcpy(nonce + AEAD_NONCE_LEN - explicit_len, p, explicit_len);
  uint8_t aad[13];
  rec_aad12(rd, type, plain, aad);
  size_t head_len = 0;
  uint8_t *head = NULL;
  if (dst != NULL && dst->buf != NULL && conn->handshake_done &&
      type == CT_APPLICATION_DATA) {
    head_len = plain < dst->cap ? plain : dst->cap;
    head = dst->buf;
  }
  if (!aead_open_split(&rd->aead, nonce, aad, sizeof(aad), p + explicit_len,
                       len - explicit_len, head, head_len)) {
    return conn_fail(conn, MOAT_ERR_BAD_RECORD_MAC,
                     "record authentication failed (sequence %llu)",
                     (unsigned long long)rd->seq);
  }
  if (dst != NULL) {
    dst->head_len = head_len; /* wiped by rec_read_into on failure */
  }
  /* RFC 5246 6.2.3: the plaintext is at most 2^14 bytes. */
  if (plain > TLS_MAX_PLAINTEXT) {
    return conn_fail(conn, MOAT_ERR_RECORD_OVERFLOW,
                     "decrypted record of %zu bytes exceeds 2^14", plain);
  }
  TRY(rec_check_limit(conn, plain));
  if (rd->seq == UINT64_MAX) {
    return conn_fail(conn, MOAT_ERR_SEQUENCE_LIMIT,
                     "read sequence number exhausted");
  }
  rd->seq++;
  *out_body = cur_make(p + explicit_len, plain);
  return MOAT_OK;
}

/* Opens a TLS 1.3 record (RFC 8446 5.2): the outer type must be
 * application_data, the inner type is the last non-zero byte.  Records
 * that a server skipping rejected 0-RTT data cannot open set *out_skip.
 * Application data after the handshake opens its first bytes straight
 * into dst. */
static moat_err rec_open13(moat_conn *conn, rec_dest *dst, uint8_t *io_type,
                           const uint8_t *hdr, uint8_t *p, size_t len,
                           cursor *out_body, bool *out_skip) {
  *out_skip = false;
  if (*io_type != CT_APPLICATION_DATA) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "unprotected record of type %u after keys were set",
                     *io_type);
  }
  if (len < conn->rd.alg->tag_len + 1) {
    /* RFC 8446 4.2.10: 0-RTT records of any length are skipped */
    if (skip_early_record(conn, len)) {
      *out_skip = true;
      return MOAT_OK;
    }
    return conn_fail(conn, MOAT_ERR_BAD_RECORD_MAC,
                     "protected record too short (%zu bytes)", len);
  }
  size_t inner = len - conn->rd.alg->tag_len;
  size_t head_len = 0;
  uint8_t *head = NULL;
  if (dst != NULL && dst->buf != NULL && conn->handshake_done &&
      !skipping_early_data(conn)) {
    head_len = inner < dst->cap ? inner : dst->cap;
    head = dst->buf;
  }
  uint8_t nonce[AEAD_NONCE_LEN];
  rec_nonce(&conn->rd, nonce);
  if (!aead_open_split(&conn->rd.aead, nonce, hdr, TLS_RECORD_HEADER, p, len,
                       head, head_len)) {
    if (skip_early_record(conn, len)) {
      *out_skip = true;
      return MOAT_OK;
    }
    return conn_fail(conn, MOAT_ERR_BAD_RECORD_MAC,
                     "record authentication failed (sequence %llu)",
                     (unsigned long long)conn->rd.seq);
  }
  if (dst != NULL) {
    dst->head_len = head_len; /* wiped by rec_read_into on failure */
  }
  /* RFC 8446 5.2, 5.4: the whole TLSInnerPlaintext (content, type and
   * padding) is at most 2^14 + 1 bytes; the ciphertext limit leaves
   * room for more, which padding must not use. */
  if (inner > TLS_MAX_PLAINTEXT + 1) {
    return conn_fail(conn, MOAT_ERR_RECORD_OVERFLOW,
                     "decrypted record of %zu bytes (content, type and "
                     "padding) exceeds 2^14 + 1",
                     inner);
  }
  TRY(rec_check_limit(conn, inner));
  if (conn->rd.seq == UINT64_MAX) {
    return conn_fail(conn, MOAT_ERR_SEQUENCE_LIMIT,
                     "read sequence number exhausted");
  }
  conn->rd.seq++;
  if (conn->hs != NULL) {
    conn->hs->client_sent_early_data = false; /* decryptable: done */
  }
  /* RFC 8446 5.4: strip zero padding; the last non-zero byte is the
   * content type.  Byte i of the inner plaintext is head[i] below
   * head_len and p[i] from there on. */
  size_t n = rec_unpad(head, head_len, p + head_len, inner - head_len);
  if (n == 0) {
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "protected record holds no content type");
  }
  uint8_t type = n > head_len ? p[n - 1] : head[n - 1];
  n--;
  if (head_len > 0 && type != CT_APPLICATION_DATA) {
    /* Not for the caller: put the head back and go on in place. */
    memcpy(p, head, head_len);
    moat_wipe(head, head_len);
    dst->head_len = 0;
  }
  /* With a head in the caller's buffer, the first dst->head_len bytes
   * here are still ciphertext: only the offset and length are used. */
  *io_type = type;
  *out_body = cur_make(p, n);
  return MOAT_OK;
}

static moat_err rec_process(moat_conn *conn, rec_dest *dst,
                            bool *out_progress) {
  *out_progress = false;
  if (conn->app_len > 0 || conn->close_received || conn->in == NULL) {
    return MOAT_OK; /* nothing fed yet: no buffer to offset into */
  }
  cursor in = cur_make(conn->in + conn->in_off, conn->in_len - conn->in_off);
  uint8_t type;
  uint16_t version, len;
  if (!cur_u8(&in, &type) || !cur_u16(&in, &version) || !cur_u16(&in, &len)) {
    return MOAT_OK; /* header incomplete */
  }
  if (type < CT_CHANGE_CIPHER_SPEC || type > CT_APPLICATION_DATA) {
    if (!conn->got_record) {
      return rec_not_tls(conn, type);
    }
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "record of unknown content type %u", type);
  }
  if ((version >> 8) != 0x03) {
    return conn_fail(conn, MOAT_ERR_PROTOCOL_VERSION,
                     "record with version 0x%04x is not TLS", version);
  }
  /* RFC 5246 6.2.1, E.1: once TLS 1.2 is agreed, every record carries
   * its version. */
  if (conn->version == MOAT_TLS1_2 && version != 0x0303) {
    return conn_fail(conn, MOAT_ERR_PROTOCOL_VERSION,
                     "TLS 1.2 record with version 0x%04x", version);
  }
  bool protect = conn->rd.active && type != CT_CHANGE_CIPHER_SPEC;
  size_t limit = !protect                     ? TLS_MAX_PLAINTEXT
                 : conn->rd.mode == REC_TLS13 ? TLS_MAX_CIPHERTEXT
                                              : TLS12_MAX_CIPHERTEXT;
  if (len > limit) {
    return conn_fail(conn, MOAT_ERR_RECORD_OVERFLOW,
                     "record of %u bytes exceeds the limit of %zu", len, limit);
  }
  uint8_t *hdr = conn->in + conn->in_off;
  cursor body;
  if (!cur_sub(&in, len, &body)) {
    return MOAT_OK; /* body incomplete */
  }
  size_t body_off = conn->in_off + TLS_RECORD_HEADER;
  conn->in_off += TLS_RECORD_HEADER + len;
  conn->got_record = true;
  *out_progress = true;
  msgcb_header(conn, false, hdr);

  if (type == CT_CHANGE_CIPHER_SPEC) {
    msgcb_content(conn, false, type, cur_data(&body), cur_len(&body));
    TRY(rec_count_idle(conn, "change_cipher_spec"));
    return conn->version == MOAT_TLS1_2 ? rec_ccs12(conn, body)
                                        : rec_ccs13(conn, body);
  }

  if (protect && conn->rd.mode != REC_TLS13) {
    TRY(rec_open12(conn, dst, type, hdr, conn->in + body_off, len, &body));
  } else if (protect) {
    bool skip;
    TRY(rec_open13(conn, dst, &type, hdr, conn->in + body_off, len, &body,
                   &skip));
    if (skip) {
      return MOAT_OK;
    }
    msgcb_inner_type(conn, false, type);
  } else if (type == CT_APPLICATION_DATA) {
    /* After a HelloRetryRequest, a client's 0-RTT records arrive before the
     * second ClientHello (RFC 8446 4.2.10). */
    if (conn->is_server && conn->hs != NULL && conn->hs->hrr_sent_or_seen &&
        conn->hs->client_sent_early_data && conn->state == ST_S_WAIT_CH &&
        conn->hs->early_data_skipped + len <= EARLY_DATA_SKIP_LIMIT) {
      conn->hs->early_data_skipped += len;
      return MOAT_OK;
    }
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "application data before the handshake finished");
  }

  switch (type) {
  case CT_HANDSHAKE:
    if (cur_len(&body) == 0) {
      return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                       "empty handshake record");
    }
    conn->warnings_in_row = 0;
    if (conn->hs != NULL) {
      conn->idle_records = 0; /* the handshake goes on */
    }
    TRY(hs_append(conn, cur_data(&body), cur_len(&body)));
    msgcb_handshake_received(conn);
    return MOAT_OK;
  case CT_ALERT:
    /* RFC 8446 5.4 (and 5.1 for plaintext): a record of zero length of a
     * type other than application_data is unexpected_message, not a
     * malformed alert. */
    if (cur_len(&body) == 0) {
      return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE, "empty alert record");
    }
    msgcb_content(conn, false, type, cur_data(&body), cur_len(&body));
    return rec_alert(conn, &body);
  case CT_APPLICATION_DATA: {
    if (!conn->handshake_done) {
      return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                       "application data before the handshake finished");
    }
    if (conn->post_len > 0) {
      /* RFC 8446 5.1: handshake messages must not interleave. */
      return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                       "application data inside a fragmented handshake "
                       "message");
    }
    /* The caller's buffer keeps what the head holds of the content (not
     * the type byte or padding); the rest waits in conn->in. */
    size_t content = cur_len(&body);
    size_t mine = 0;
    if (content > 0) {
      conn->warnings_in_row = 0;
      conn->idle_records = 0;
    } else {
      TRY(rec_count_idle(conn, "an empty application data record"));
    }
    if (dst != NULL && dst->head_len > 0) {
      mine = content < dst->head_len ? content : dst->head_len;
      moat_wipe(dst->buf + mine, dst->head_len - mine);
      dst->delivered = mine;
    }
    conn->app_off = (size_t)(cur_data(&body) - conn->in) + mine;
    conn->app_len = content - mine;
    return MOAT_OK;
  }
  case CT_CHANGE_CIPHER_SPEC:
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "protected change_cipher_spec");
  default:
    return conn_fail(conn, MOAT_ERR_UNEXPECTED_MESSAGE,
                     "inner content type %u unknown", type);
  }
}

moat_err rec_read_one(moat_conn *conn, bool *out_progress) {
  return rec_process(conn, NULL, out_progress);
}

moat_err rec_read_into(moat_conn *conn, uint8_t *out, size_t cap,
                       size_t *out_len, bool *out_progress) {
  rec_dest dst = {out, cap, 0, 0};
  moat_err e = rec_process(conn, &dst, out_progress);
  if (e != MOAT_OK) {
    /* A record that failed after opening leaves nothing with the caller. */
    if (dst.head_len > 0) {
      moat_wipe(out, dst.head_len);
    }
    dst.delivered = 0;
  }
  *out_len = dst.delivered;
  return e;
}

moat_err rec_send_warning(moat_conn *conn, int alert) {
  const uint8_t a[2] = {1, (uint8_t)alert};
  return rec_write(conn, CT_ALERT, a, sizeof(a));
}
