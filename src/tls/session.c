/* Sessions and tickets (RFC 8446 4.6.1, 2.2).  A server's ticket is its
 * own state sealed with the context's ticket key (AES-256-GCM); a client's
 * session is the ticket plus the PSK it stands for. */
#include <string.h>

#include "base/mem.h"
#include "tls/tls.h"

/* 2: version, EMS flag and session ID added for TLS 1.2.
 * 3: the key-exchange group (0: none) after the suite.  Format 2 is still
 * read, as a session without a group. */
#define SESSION_FORMAT 3
#define SESSION_FORMAT_NO_GROUP 2

moat_session *session_new(void) {
  moat_session *s = moat_calloc(1, sizeof(*s));
  if (s != NULL) {
    atomic_init(&s->refs, 1);
  }
  return s;
}

/* The ticket goes right after the struct, aligned as malloc aligns. */
static size_t session_head_size(void) {
  const size_t align = _Alignof(max_align_t);
  return (sizeof(moat_session) + align - 1) / align * align;
}

moat_session *session_new_ticket(const uint8_t *ticket, size_t len) {
  uint8_t *mem = moat_calloc(1, session_head_size() + len);
  if (mem == NULL) {
    return NULL;
  }
  moat_session *s = (moat_session *)mem;
  atomic_init(&s->refs, 1);
  s->ticket = mem + session_head_size();
  s->ticket_len = len;
  s->ticket_inline = true;
  memcpy(s->ticket, ticket, len);
  return s;
}

moat_session *session_ref(moat_session *s) {
  atomic_fetch_add(&s->refs, 1);
  return s;
}

void moat_session_free(moat_session *s) {
  if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1) {
    return;
  }
  chain_free(s->peer);
  if (s->ticket_inline) {
    moat_free_wipe(s, session_head_size() + s->ticket_len);
    return;
  }
  moat_free(s->ticket);
  moat_free_wipe(s, sizeof(*s));
}

int64_t moat_session_time(const moat_session *s) {
  return s->created;
}
uint32_t moat_session_lifetime(const moat_session *s) {
  return s->lifetime;
}
const char *moat_session_cipher_name(const moat_session *s) {
  return s->suite->name;
}

/* A session can resume when it has a ticket, or (TLS 1.2) a session ID. */
static bool session_usable(const moat_session *s) {
  return s->ticket != NULL ||
         (s->version == MOAT_TLS1_2 && s->session_id_len > 0);
}

moat_session *moat_conn_get_session(moat_conn *conn) {
  if (conn->is_server || conn->session == NULL ||
      !session_usable(conn->session)) {
    return NULL;
  }
  return session_ref(conn->session);
}

moat_err moat_conn_set_session(moat_conn *conn, moat_session *session) {
  if (conn->is_server || conn->state != ST_C_START) {
    return MOAT_ERR_BAD_STATE;
  }
  if (session != NULL && !session_usable(session)) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  moat_session_free(conn->session);
  conn->session = session ? session_ref(session) : NULL;
  return MOAT_OK;
}

/* The state both formats share. */
static bool state_build(builder *b, const moat_session *s) {
  bld_u8(b, SESSION_FORMAT);
  bld_u16(b, s->version);
  bld_u8(b, s->ems ? 1 : 0);
  bld_open8(b);
  bld_bytes(b, s->session_id, s->session_id_len);
  bld_close(b);
  bld_u16(b, s->suite->code);
  bld_u16(b, s->group != NULL ? s->group->group : 0);
  bld_u64(b, (uint64_t)s->created);
  bld_u32(b, s->lifetime);
  bld_u32(b, s->age_add);
  bld_open8(b);
  bld_bytes(b, s->psk, s->psk_len);
  return bld_close(b);
}

static bool state_parse(cursor *c, moat_session *s) {
  uint8_t format, ems;
  uint16_t suite, group = 0;
  uint64_t created;
  cursor psk, id;
  if (!cur_u8(c, &format) ||
      (format != SESSION_FORMAT && format != SESSION_FORMAT_NO_GROUP) ||
      !cur_u16(c, &s->version) || !cur_u8(c, &ems) || ems > 1 ||
      !cur_prefixed8(c, &id) || cur_len(&id) > sizeof(s->session_id) ||
      !cur_u16(c, &suite) ||
      (format == SESSION_FORMAT && !cur_u16(c, &group)) ||
      !cur_u64(c, &created) || !cur_u32(c, &s->lifetime) ||
      !cur_u32(c, &s->age_add) || !cur_prefixed8(c, &psk)) {
    return false;
  }
  s->suite = suite_by_code(suite);
  s->group = group != 0 ? kex_by_group(group) : NULL;
  /* TLS 1.3 keeps a PSK of the hash's length, TLS 1.2 the master
   * secret; a group is one moat has, and for TLS 1.2 one with an ECDHE
   * form. */
  if (s->suite == NULL || s->suite->version != s->version ||
      (group != 0 && (s->group == NULL ||
                      (s->version == MOAT_TLS1_2 && s->group->tls13_only))) ||
      cur_len(&psk) != (s->version == MOAT_TLS1_2
                            ? TLS12_MASTER_LEN
                            : hash_get(s->suite->hash)->len)) {
    return false;
  }
  s->ems = ems == 1;
  s->session_id_len = cur_len(&id);
  memcpy(s->session_id, cur_data(&id), s->session_id_len);
  s->created = (int64_t)created;
  s->psk_len = cur_len(&psk);
  memcpy(s->psk, cur_data(&psk), s->psk_len);
  return true;
}

moat_err moat_session_to_bytes(const moat_session *session, uint8_t *out,
                               size_t cap, size_t *out_len) {
  builder b;
  bld_init_fixed(&b, out, cap);
  state_build(&b, session);
  bld_open16(&b);
  bld_bytes(&b, session->ticket, session->ticket_len);
  bld_close(&b);
  /* the server's chain as sent, and its verify result */
  bld_u32(&b, (uint32_t)session->verify_code);
  const der_chain *peer = session->peer;
  bld_u8(&b, peer != NULL ? (uint8_t)peer->num : 0);
  for (size_t i = 0; peer != NULL && i < peer->num; i++) {
    bld_open24(&b);
    bld_bytes(&b, peer->e[i].der, peer->e[i].len);
    bld_close(&b);
  }
  if (!bld_finish(&b)) {
    return MOAT_ERR_INVALID_ARGUMENT; /* too small */
  }
  *out_len = bld_len(&b);
  return MOAT_OK;
}

moat_err moat_session_from_bytes(const uint8_t *data, size_t len,
                                 moat_session **out) {
  cursor c = cur_make(data, len), ticket;
  moat_session *s = session_new();
  if (s == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  uint32_t code;
  uint8_t num;
  if (!state_parse(&c, s) || !cur_prefixed16(&c, &ticket) ||
      !cur_u32(&c, &code) || !cur_u8(&c, &num) || num > TLS_MAX_CHAIN ||
      (cur_len(&ticket) == 0 &&
       (s->version != MOAT_TLS1_2 || s->session_id_len == 0))) {
    moat_session_free(s);
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  s->verify_code = (long)(int32_t)code;
  if (num > 0 && (s->peer = chain_new(num)) == NULL) {
    moat_session_free(s);
    return MOAT_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < num; i++) {
    cursor der;
    if (!cur_prefixed24(&c, &der) || cur_done(&der)) {
      moat_session_free(s);
      return MOAT_ERR_INVALID_ARGUMENT;
    }
    s->peer->e[i].der = moat_memdup(cur_data(&der), cur_len(&der));
    s->peer->e[i].len = cur_len(&der);
    s->peer->e[i].owned = true;
    if (s->peer->e[i].der == NULL) {
      moat_session_free(s);
      return MOAT_ERR_NO_MEMORY;
    }
  }
  if (!cur_done(&c)) {
    moat_session_free(s);
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  if (cur_len(&ticket) > 0) {
    s->ticket = moat_memdup(cur_data(&ticket), cur_len(&ticket));
    if (s->ticket == NULL) {
      moat_session_free(s);
      return MOAT_ERR_NO_MEMORY;
    }
    s->ticket_len = cur_len(&ticket);
  }
  *out = s;
  return MOAT_OK;
}

/* ticket = key_id(4) || nonce(12) || AEAD(state) || tag */
moat_err ticket_seal(moat_conn *conn, const moat_session *state,
                     const uint8_t nonce[AEAD_NONCE_LEN], uint8_t *out,
                     size_t cap, size_t *out_len) {
  ctx_shared *tk = conn->ctx->shared;
  uint8_t plain[128];
  builder b;
  bld_init_fixed(&b, plain, sizeof(plain));
  if (!state_build(&b, state) || !bld_finish(&b) ||
      cap < 4 + AEAD_NONCE_LEN + bld_len(&b) + AEAD_TAG_LEN) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "ticket state");
  }
  memcpy(out, tk->ticket_key_id, 4);
  memcpy(out + 4, nonce, AEAD_NONCE_LEN);
  pthread_mutex_lock(&tk->ticket_lock);
  bool ok = aead_seal(tk->ticket_aead, nonce, out, 4, plain, bld_len(&b),
                      out + 4 + AEAD_NONCE_LEN);
  pthread_mutex_unlock(&tk->ticket_lock);
  moat_wipe(plain, sizeof(plain));
  if (!ok) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "sealing a ticket");
  }
  *out_len = 4 + AEAD_NONCE_LEN + bld_len(&b) + AEAD_TAG_LEN;
  return MOAT_OK;
}

bool ticket_open(moat_conn *conn, const uint8_t *ticket, size_t len,
                 moat_session *out) {
  ctx_shared *tk = conn->ctx->shared;
  uint8_t plain[TICKET_MAX];
  if (tk->ticket_aead_open == NULL || len < 4 + AEAD_NONCE_LEN + AEAD_TAG_LEN ||
      len > TICKET_MAX || memcmp(ticket, tk->ticket_key_id, 4) != 0) {
    return false;
  }
  size_t clen = len - 4 - AEAD_NONCE_LEN;
  pthread_mutex_lock(&tk->ticket_lock);
  bool ok = aead_open(tk->ticket_aead_open, ticket + 4, ticket, 4,
                      ticket + 4 + AEAD_NONCE_LEN, clen, plain);
  pthread_mutex_unlock(&tk->ticket_lock);
  if (!ok) {
    return false;
  }
  cursor c = cur_make(plain, clen - AEAD_TAG_LEN);
  ok = state_parse(&c, out) && cur_done(&c);
  moat_wipe(plain, sizeof(plain));
  if (!ok) {
    return false;
  }
  int64_t now = ctx_now(conn->ctx);
  /* RFC 8446 4.6.1: never use a ticket past its lifetime. */
  return now >= out->created && now - out->created <= (int64_t)out->lifetime;
}

/* RFC 8446 4.6.1: send tickets after the client's Finished. */
moat_err tls13_send_tickets(moat_conn *conn) {
  const hash_alg *h = hash_get(conn->suite->hash);
  for (size_t i = 0; i < conn->ctx->num_tickets; i++) {
    moat_session st;
    memset(&st, 0, sizeof(st));
    st.version = MOAT_TLS1_3;
    st.suite = conn->suite;
    st.group = conn->group;
    st.created = ctx_now(conn->ctx);
    st.lifetime = conn->ctx->ticket_lifetime;
    uint8_t nonce = conn->ticket_nonce++;
    /* One draw for the age mask and the ticket's AEAD nonce. */
    uint8_t rnd[sizeof(st.age_add) + AEAD_NONCE_LEN];
    if (!ctx_random(conn->ctx, rnd, sizeof(rnd))) {
      return conn_fail(conn, MOAT_ERR_CRYPTO, "no randomness");
    }
    memcpy(&st.age_add, rnd, sizeof(st.age_add));
    if (conn_hmac(conn) == NULL ||
        !hkdf_expand_label(conn->hmac, conn->res_master, h->len, "resumption",
                           &nonce, 1, st.psk, h->len)) {
      return conn_fail(conn, MOAT_ERR_CRYPTO, "ticket PSK");
    }
    st.psk_len = h->len;
    uint8_t ticket[TICKET_MAX];
    size_t ticket_len;
    moat_err err = ticket_seal(conn, &st, rnd + sizeof(st.age_add), ticket,
                               sizeof(ticket), &ticket_len);
    uint32_t age_add = st.age_add; /* the state (with its PSK) goes now */
    moat_wipe(&st, sizeof(st));
    TRY(err);
    uint8_t msg[TICKET_MAX + 32];
    builder b;
    bld_init_fixed(&b, msg, sizeof(msg));
    bld_u8(&b, HT_NEW_SESSION_TICKET);
    bld_open24(&b);
    bld_u32(&b, conn->ctx->ticket_lifetime);
    bld_u32(&b, age_add);
    bld_open8(&b);
    bld_u8(&b, nonce);
    bld_close(&b);
    bld_open16(&b);
    bld_bytes(&b, ticket, ticket_len);
    bld_close(&b);
    bld_u16(&b, 0); /* no extensions */
    bld_close(&b);
    if (!bld_finish(&b)) {
      return conn_fail(conn, MOAT_ERR_INTERNAL, "building NewSessionTicket");
    }
    TRY(rec_write_hs(conn, msg, bld_len(&b)));
  }
  return rec_hs_flush(conn); /* the tickets share one record */
}

/* RFC 8446 4.2.11.2: binder_key = Derive-Secret(Early Secret, "res binder",
 * ""); the binder is the Finished computation with it.  ks holds the early
 * secret (ks_init with the PSK). */
bool psk_binder(key_schedule *ks, const uint8_t *transcript_hash,
                uint8_t *out) {
  const hash_alg *h = ks->hash;
  const uint8_t *empty = ks_empty_hash(h);
  uint8_t binder_key[HASH_MAX_LEN];
  bool ok =
      empty != NULL &&
      derive_secret(h, ks->hmac, ks->secret, "res binder", empty, binder_key) &&
      ks_finished(ks, binder_key, transcript_hash, out);
  moat_wipe(binder_key, sizeof(binder_key));
  return ok;
}
