/* A small cache of parsed public keys keyed by their SPKI bytes (DESIGN:
 * build keys from raw parameters, or cache them by SPKI bytes). */
#include <pthread.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "crypto/crypto.h"

#define PUBKEY_CACHE_SLOTS 32
#define PUBKEY_CACHE_MAX_SPKI 2048

typedef struct cache_slot {
  uint8_t *spki;
  size_t spki_len;
  pubkey *key;
} cache_slot;

struct pubkey_cache {
  pthread_mutex_t lock;
  cache_slot slots[PUBKEY_CACHE_SLOTS];
  size_t next; /* round-robin replacement */
};

pubkey_cache *pubkey_cache_new(void) {
  pubkey_cache *c = moat_calloc(1, sizeof(*c));
  if (c != NULL) {
    pthread_mutex_init(&c->lock, NULL);
  }
  return c;
}

void pubkey_cache_free(pubkey_cache *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i < PUBKEY_CACHE_SLOTS; i++) {
    moat_free(c->slots[i].spki);
    pubkey_free(c->slots[i].key);
  }
  pthread_mutex_destroy(&c->lock);
  moat_free(c);
}

static pubkey *cache_find(pubkey_cache *c, const uint8_t *spki, size_t len) {
  for (size_t i = 0; i < PUBKEY_CACHE_SLOTS; i++) {
    cache_slot *s = &c->slots[i];
    if (s->key != NULL && s->spki_len == len &&
        memcmp(s->spki, spki, len) == 0) {
      return pubkey_ref(s->key);
    }
  }
  return NULL;
}

moat_err pubkey_from_spki_cached(pubkey_cache *c, const uint8_t *spki,
                                 size_t spki_len, pubkey **out, char *detail,
                                 size_t detail_cap) {
  if (c == NULL || spki == NULL || spki_len > PUBKEY_CACHE_MAX_SPKI) {
    return pubkey_from_spki(spki, spki_len, out, detail, detail_cap);
  }
  pthread_mutex_lock(&c->lock);
  pubkey *hit = cache_find(c, spki, spki_len);
  pthread_mutex_unlock(&c->lock);
  if (hit != NULL) {
    *out = hit;
    return MOAT_OK;
  }
  /* Parse outside the lock; two threads may both parse the same key. */
  pubkey *key;
  TRY(pubkey_from_spki(spki, spki_len, &key, detail, detail_cap));
  uint8_t *copy = moat_memdup(spki, spki_len);
  if (copy != NULL) {
    pthread_mutex_lock(&c->lock);
    cache_slot *s = &c->slots[c->next];
    c->next = (c->next + 1) % PUBKEY_CACHE_SLOTS;
    moat_free(s->spki);
    pubkey_free(s->key);
    s->spki = copy;
    s->spki_len = spki_len;
    s->key = pubkey_ref(key);
    pthread_mutex_unlock(&c->lock);
  }
  *out = key;
  return MOAT_OK;
}
