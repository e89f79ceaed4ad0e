/* The server's TLS 1.2 session-ID cache (RFC 5246 7.4.1.2): bounded,
 * shared by a context's connections under one lock, with the cache's
 * share of SSLContext.session_stats() (number, cache_full, timeouts). */
#include <string.h>

#include "base/mem.h"
#include "tls/tls.h"

typedef struct cache_slot {
  bool used;
  uint8_t id[32];
  moat_session state; /* no ticket: version, suite, master, times */
} cache_slot;

struct sess_cache {
  pthread_mutex_t lock;
  size_t cap;
  cache_slot *slots; /* made on the first insert */
  uint64_t number, cache_full, timeouts;
};

sess_cache *sess_cache_new(size_t cap) {
  sess_cache *c = moat_calloc(1, sizeof(*c));
  if (c != NULL) {
    pthread_mutex_init(&c->lock, NULL);
    c->cap = cap;
  }
  return c;
}

void sess_cache_free(sess_cache *c) {
  if (c == NULL) {
    return;
  }
  moat_free_wipe(c->slots, c->slots ? c->cap * sizeof(cache_slot) : 0);
  pthread_mutex_destroy(&c->lock);
  moat_free_wipe(c, sizeof(*c));
}

void sess_cache_set_size(sess_cache *c, size_t cap) {
  pthread_mutex_lock(&c->lock);
  moat_free_wipe(c->slots, c->slots ? c->cap * sizeof(cache_slot) : 0);
  c->slots = NULL;
  c->cap = cap;
  c->number = 0;
  pthread_mutex_unlock(&c->lock);
}

/* Session IDs are random: their first bytes index the table directly. */
static size_t slot_of(const sess_cache *c, const uint8_t *id) {
  uint32_t h = (uint32_t)id[0] | (uint32_t)id[1] << 8 | (uint32_t)id[2] << 16 |
               (uint32_t)id[3] << 24;
  return h % c->cap;
}

bool sess_cache_enabled(sess_cache *c) {
  if (c == NULL) {
    return false;
  }
  pthread_mutex_lock(&c->lock);
  bool on = c->cap > 0;
  pthread_mutex_unlock(&c->lock);
  return on;
}

bool sess_cache_put(sess_cache *c, const moat_session *s) {
  if (c == NULL || s->session_id_len != 32) {
    return false;
  }
  bool ok = false;
  pthread_mutex_lock(&c->lock);
  if (c->cap > 0 && c->slots == NULL) {
    c->slots = moat_calloc(c->cap, sizeof(cache_slot));
  }
  if (c->slots != NULL) {
    cache_slot *slot = &c->slots[slot_of(c, s->session_id)];
    if (slot->used) {
      c->cache_full++; /* the older session makes room */
    } else {
      c->number++;
    }
    slot->used = true;
    memcpy(slot->id, s->session_id, 32);
    slot->state = *s;
    slot->state.ticket = NULL;
    slot->state.ticket_len = 0;
    slot->state.ticket_inline = false;
    slot->state.peer = NULL;
    ok = true;
  }
  pthread_mutex_unlock(&c->lock);
  return ok;
}

bool sess_cache_get(sess_cache *c, const uint8_t *id, size_t id_len,
                    int64_t now, moat_session *out) {
  if (c == NULL || id_len == 0) {
    return false;
  }
  bool found = false;
  pthread_mutex_lock(&c->lock);
  cache_slot *slot =
      c->slots != NULL && id_len == 32 ? &c->slots[slot_of(c, id)] : NULL;
  if (slot != NULL && slot->used && memcmp(slot->id, id, 32) == 0) {
    const moat_session *st = &slot->state;
    if (now < st->created || now - st->created > (int64_t)st->lifetime) {
      c->timeouts++;
      moat_wipe(slot, sizeof(*slot));
      c->number--;
    } else {
      *out = *st;
      found = true;
    }
  }
  pthread_mutex_unlock(&c->lock);
  return found;
}

void sess_cache_stats(sess_cache *c, moat_session_stats *out) {
  if (c == NULL) {
    return;
  }
  pthread_mutex_lock(&c->lock);
  out->number = c->number;
  out->cache_full = c->cache_full;
  out->timeouts += c->timeouts;
  pthread_mutex_unlock(&c->lock);
}
