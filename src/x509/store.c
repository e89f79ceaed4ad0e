/* Trust stores: bundles of certificates and CRLs, indexed by subject (or
 * CRL issuer) name hash.  A bundle is immutable once built and shared by
 * reference; bundles loaded from files and directories are kept in a
 * process-wide cache keyed by path and file identity, so the second
 * context that loads the system store only takes a reference. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/err.h"
#include "base/mem.h"
#include "x509/cert.h"
#include "x509/crl.h"
#include "x509/store.h"

#define STORE_MAX_FILE (64u << 20)
#define STORE_MAX_ITEMS 100000

typedef struct store_item {
  uint64_t hash; /* subject (certificate) or issuer (CRL) name hash */
  const uint8_t *der;
  size_t len;
  cursor name;
} store_item;

typedef struct bundle {
  atomic_int refs;
  uint8_t **bufs;
  size_t nbufs, bufs_cap;
  store_item *certs;
  size_t ncerts, certs_cap;
  store_item *crls;
  size_t ncrls, crls_cap;
} bundle;

struct x509_store {
  atomic_int refs;
  bundle **bundles;
  size_t nbundles;
};

/* ---- bundles ------------------------------------------------------------ */

static bundle *bundle_new(void) {
  bundle *b = moat_calloc(1, sizeof(*b));
  if (b != NULL) {
    atomic_init(&b->refs, 1);
  }
  return b;
}

static void bundle_unref(bundle *b) {
  if (b == NULL || atomic_fetch_sub(&b->refs, 1) != 1) {
    return;
  }
  for (size_t i = 0; i < b->nbufs; i++) {
    moat_free(b->bufs[i]);
  }
  moat_free(b->bufs);
  moat_free(b->certs);
  moat_free(b->crls);
  moat_free(b);
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem) {
  if (n < *cap) {
    return true;
  }
  size_t ncap = *cap ? *cap * 2 : 16;
  void *p = moat_realloc(*arr, ncap * elem);
  if (p == NULL) {
    return false;
  }
  *arr = p;
  *cap = ncap;
  return true;
}

/* Takes ownership of buf (DER of one certificate or CRL).  *out_kind: 1
 * certificate, 2 CRL, 0 neither (buf freed). */
static moat_err bundle_add_der(bundle *b, uint8_t *buf, size_t len,
                               bool want_crl, int *out_kind) {
  x509_cert c;
  x509_crl crl;
  store_item it;
  *out_kind = 0;
  if (b->ncerts + b->ncrls >= STORE_MAX_ITEMS) {
    moat_free(buf);
    return MOAT_OK;
  }
  if (!want_crl && x509_cert_parse(&c, buf, len, NULL, 0) == MOAT_OK) {
    it.name = c.subject;
    *out_kind = 1;
  } else if (x509_crl_parse(&crl, buf, len, NULL, 0) == MOAT_OK) {
    it.name = crl.issuer;
    *out_kind = 2;
  } else {
    moat_free_wipe(buf, len); /* unusable entries are skipped: a DER key? */
    return MOAT_OK;
  }
  it.hash = x509_name_hash(it.name);
  it.der = buf;
  it.len = len;
  /* The same object twice (a bundle and its split copies): keep one. */
  const store_item *have = *out_kind == 1 ? b->certs : b->crls;
  size_t nhave = *out_kind == 1 ? b->ncerts : b->ncrls;
  for (size_t i = 0; i < nhave; i++) {
    if (have[i].hash == it.hash && have[i].len == len &&
        memcmp(have[i].der, buf, len) == 0) {
      moat_free(buf);
      *out_kind = 0;
      return MOAT_OK;
    }
  }
  if (!grow((void **)&b->bufs, &b->bufs_cap, b->nbufs, sizeof(uint8_t *))) {
    moat_free(buf);
    return MOAT_ERR_NO_MEMORY;
  }
  b->bufs[b->nbufs++] = buf;
  if (*out_kind == 1) {
    if (!grow((void **)&b->certs, &b->certs_cap, b->ncerts, sizeof(it))) {
      return MOAT_ERR_NO_MEMORY;
    }
    b->certs[b->ncerts++] = it;
  } else {
    if (!grow((void **)&b->crls, &b->crls_cap, b->ncrls, sizeof(it))) {
      return MOAT_ERR_NO_MEMORY;
    }
    b->crls[b->ncrls++] = it;
  }
  return MOAT_OK;
}

/* PEM text, or DER: one object or several back to back (as Python's
 * cadata takes them), nothing else after them. */
static moat_err bundle_add_data(bundle *b, const uint8_t *data, size_t len,
                                size_t *out_found, char *detail, size_t cap) {
  int kind;
  *out_found = 0;
  if (!pem_detect(data, len)) {
    cursor all = cur_make(data, len), one;
    while (cur_asn1_element(&all, &one, ASN1_SEQUENCE)) {
      uint8_t *copy = moat_memdup(cur_data(&one), cur_len(&one));
      if (copy == NULL) {
        return MOAT_ERR_NO_MEMORY;
      }
      TRY(bundle_add_der(b, copy, cur_len(&one), false, &kind));
      *out_found += kind != 0;
    }
    if (!cur_done(&all)) {
      if (detail != NULL && cap > 0) {
        snprintf(detail, cap,
                 "%zu bytes after the DER objects are not a whole one",
                 cur_len(&all));
      }
      return MOAT_ERR_X509_PARSE;
    }
    return MOAT_OK;
  }
  /* Keys and other blocks are not ours to keep (pem_next_of wipes them). */
  static const char *const labels[] = {"X509 CRL", "CERTIFICATE",
                                       "TRUSTED CERTIFICATE",
                                       "X509 CERTIFICATE", NULL};
  cursor text = cur_make(data, len);
  for (;;) {
    uint8_t *der;
    size_t der_len, which = 0;
    TRY(pem_next_of(&text, labels, &which, &der, &der_len, detail, cap));
    if (der == NULL) {
      return MOAT_OK;
    }
    TRY(bundle_add_der(b, der, der_len, which == 0, &kind));
    *out_found += kind != 0;
  }
}

static int item_cmp(const void *a, const void *b) {
  const store_item *x = a, *y = b;
  return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* Sort for binary search; the bundle is immutable afterwards. */
static void bundle_seal(bundle *b) {
  if (b->ncerts > 1) {
    qsort(b->certs, b->ncerts, sizeof(store_item), item_cmp);
  }
  if (b->ncrls > 1) {
    qsort(b->crls, b->ncrls, sizeof(store_item), item_cmp);
  }
}

static moat_err file_fail(char *detail, size_t cap, const char *what,
                          const char *path, int err) {
  if (detail != NULL && cap > 0) {
    snprintf(detail, cap, "%s %s%s%s", what, path, err ? ": " : "",
             err ? strerror(err) : "");
  }
  return MOAT_ERR_FILE_ERROR;
}

/* The buffer may hold a private key: growing copies and wipes the old one
 * rather than leaving it to realloc. */
moat_err x509_read_file(const char *path, uint8_t **out, size_t *out_len,
                        char *detail, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return file_fail(detail, cap, "cannot open", path, errno);
  }
  uint8_t *buf = NULL;
  size_t len = 0, bcap = 0;
  moat_err err = MOAT_OK;
  for (;;) {
    if (len == bcap) {
      if (bcap >= STORE_MAX_FILE) {
        err = file_fail(detail, cap, "too large:", path, 0);
        break;
      }
      size_t ncap = bcap ? bcap * 2 : 65536;
      uint8_t *p = moat_malloc(ncap);
      if (p == NULL) {
        err = MOAT_ERR_NO_MEMORY;
        break;
      }
      if (len > 0) {
        memcpy(p, buf, len);
      }
      moat_free_wipe(buf, bcap);
      buf = p;
      bcap = ncap;
    }
    size_t got = fread(buf + len, 1, bcap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) {
        err = file_fail(detail, cap, "cannot read", path, errno);
      }
      break;
    }
  }
  fclose(f);
  if (err != MOAT_OK) {
    moat_free_wipe(buf, bcap);
    return err;
  }
  *out = buf;
  *out_len = len;
  return MOAT_OK;
}

/* ---- the process-wide cache of file and directory bundles -------------- */

typedef struct cache_entry {
  char *path;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  bundle *b;
  struct cache_entry *next;
} cache_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry *cache_head;

static bool same_file(const cache_entry *e, const char *path,
                      const struct stat *st) {
  return strcmp(e->path, path) == 0 && e->dev == st->st_dev &&
         e->ino == st->st_ino && e->size == st->st_size &&
         e->mtime.tv_sec == st->st_mtim.tv_sec &&
         e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static bundle *cache_get(const char *path, const struct stat *st) {
  bundle *found = NULL;
  pthread_mutex_lock(&cache_lock);
  for (cache_entry *e = cache_head; e != NULL; e = e->next) {
    if (same_file(e, path, st)) {
      found = e->b;
      atomic_fetch_add(&found->refs, 1);
      break;
    }
  }
  pthread_mutex_unlock(&cache_lock);
  return found;
}

static void cache_put(const char *path, const struct stat *st, bundle *b) {
  cache_entry *e = moat_calloc(1, sizeof(*e));
  if (e == NULL || (e->path = moat_strdup(path)) == NULL) {
    moat_free(e);
    return; /* no cache entry: the next load parses again */
  }
  e->dev = st->st_dev;
  e->ino = st->st_ino;
  e->size = st->st_size;
  e->mtime = st->st_mtim;
  e->b = b;
  atomic_fetch_add(&b->refs, 1); /* the cache's own reference */
  pthread_mutex_lock(&cache_lock);
  /* Replace a stale entry for the same path. */
  for (cache_entry **pp = &cache_head; *pp != NULL; pp = &(*pp)->next) {
    if (strcmp((*pp)->path, path) == 0) {
      cache_entry *old = *pp;
      *pp = old->next;
      bundle_unref(old->b);
      moat_free(old->path);
      moat_free(old);
      break;
    }
  }
  e->next = cache_head;
  cache_head = e;
  pthread_mutex_unlock(&cache_lock);
}

/* ---- stores -------------------------------------------------------------- */

x509_store *x509_store_new(void) {
  x509_store *s = moat_calloc(1, sizeof(*s));
  if (s != NULL) {
    atomic_init(&s->refs, 1);
  }
  return s;
}

x509_store *x509_store_ref(x509_store *s) {
  if (s != NULL) {
    atomic_fetch_add(&s->refs, 1);
  }
  return s;
}

void x509_store_free(x509_store *s) {
  if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1) {
    return;
  }
  for (size_t i = 0; i < s->nbundles; i++) {
    bundle_unref(s->bundles[i]);
  }
  moat_free(s->bundles);
  moat_free(s);
}

x509_store *x509_store_dup(const x509_store *s) {
  x509_store *d = x509_store_new();
  if (d == NULL) {
    return NULL;
  }
  if (s->nbundles > 0) {
    d->bundles = moat_malloc(s->nbundles * sizeof(*d->bundles));
    if (d->bundles == NULL) {
      x509_store_free(d);
      return NULL;
    }
  }
  for (size_t i = 0; i < s->nbundles; i++) {
    atomic_fetch_add(&s->bundles[i]->refs, 1);
    d->bundles[d->nbundles++] = s->bundles[i];
  }
  return d;
}

/* Takes over one reference to b. */
static moat_err store_attach(x509_store *s, bundle *b) {
  bundle **p = moat_realloc(s->bundles, (s->nbundles + 1) * sizeof(*p));
  if (p == NULL) {
    bundle_unref(b);
    return MOAT_ERR_NO_MEMORY;
  }
  s->bundles = p;
  s->bundles[s->nbundles++] = b;
  return MOAT_OK;
}

moat_err x509_store_add_mem(x509_store *s, const uint8_t *data, size_t len,
                            char *detail, size_t cap) {
  size_t found;
  bundle *b = bundle_new();
  if (b == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  moat_err err = bundle_add_data(b, data, len, &found, detail, cap);
  if (err == MOAT_OK && found == 0) {
    if (detail != NULL && cap > 0) {
      snprintf(detail, cap, "no certificate or CRL found in the data");
    }
    err = pem_detect(data, len) ? MOAT_ERR_BAD_PEM : MOAT_ERR_X509_PARSE;
  }
  if (err != MOAT_OK) {
    bundle_unref(b);
    return err;
  }
  bundle_seal(b);
  return store_attach(s, b);
}

moat_err x509_store_add_file(x509_store *s, const char *path, char *detail,
                             size_t cap) {
  struct stat st;
  uint8_t *data = NULL;
  size_t len, found;
  if (stat(path, &st) != 0) {
    return file_fail(detail, cap, "cannot open", path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return file_fail(detail, cap, "not a regular file:", path, 0);
  }
  bundle *b = cache_get(path, &st);
  if (b != NULL) {
    return store_attach(s, b);
  }
  TRY(x509_read_file(path, &data, &len, detail, cap));
  /* The file may hold a private key beside the certificates. */
  b = bundle_new();
  if (b == NULL) {
    moat_free_wipe(data, len);
    return MOAT_ERR_NO_MEMORY;
  }
  moat_err err = bundle_add_data(b, data, len, &found, detail, cap);
  moat_free_wipe(data, len);
  if (err == MOAT_OK && found == 0) {
    if (detail != NULL && cap > 0) {
      snprintf(detail, cap, "%s: no certificate or CRL in the file", path);
    }
    err = MOAT_ERR_BAD_PEM;
  }
  if (err != MOAT_OK) {
    bundle_unref(b);
    return err;
  }
  bundle_seal(b);
  cache_put(path, &st, b);
  return store_attach(s, b);
}

static moat_err load_dir(bundle *b, const char *path, char *detail,
                         size_t cap) {
  DIR *d = opendir(path);
  struct dirent *de;
  struct {
    dev_t dev;
    ino_t ino;
  } *seen = NULL;
  size_t nseen = 0, seen_cap = 0;
  moat_err err = MOAT_OK;
  if (d == NULL) {
    return file_fail(detail, cap, "cannot open directory", path, errno);
  }
  while ((de = readdir(d)) != NULL && err == MOAT_OK) {
    char full[4096];
    struct stat st;
    if (de->d_name[0] == '.') {
      continue;
    }
    if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, de->d_name) >=
            sizeof(full) ||
        stat(full, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > (off_t)STORE_MAX_FILE) {
      continue;
    }
    /* Hashed names are links to the same files: read each file once. */
    bool dup = false;
    for (size_t i = 0; i < nseen && !dup; i++) {
      dup = seen[i].dev == st.st_dev && seen[i].ino == st.st_ino;
    }
    if (dup) {
      continue;
    }
    if (!grow((void **)&seen, &seen_cap, nseen, sizeof(*seen))) {
      err = MOAT_ERR_NO_MEMORY;
      break;
    }
    seen[nseen].dev = st.st_dev;
    seen[nseen].ino = st.st_ino;
    nseen++;
    uint8_t *data;
    size_t len, found;
    if (x509_read_file(full, &data, &len, NULL, 0) != MOAT_OK) {
      continue;
    }
    /* Files that are not certificates are ignored, as OpenSSL does. */
    err = bundle_add_data(b, data, len, &found, NULL, 0);
    if (err == MOAT_ERR_BAD_PEM || err == MOAT_ERR_X509_PARSE) {
      err = MOAT_OK;
    }
    moat_free_wipe(data, len); /* a key file in the directory, perhaps */
  }
  closedir(d);
  moat_free(seen);
  return err;
}

moat_err x509_store_add_dir(x509_store *s, const char *path, char *detail,
                            size_t cap) {
  struct stat st;
  if (stat(path, &st) != 0) {
    return file_fail(detail, cap, "cannot open directory", path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return file_fail(detail, cap, "not a directory:", path, 0);
  }
  bundle *b = cache_get(path, &st);
  if (b != NULL) {
    return store_attach(s, b);
  }
  b = bundle_new();
  if (b == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  moat_err err = load_dir(b, path, detail, cap);
  if (err != MOAT_OK) {
    bundle_unref(b);
    return err;
  }
  bundle_seal(b);
  cache_put(path, &st, b);
  return store_attach(s, b);
}

moat_err x509_store_add_default(x509_store *s, char *detail, size_t cap) {
  const char *file = getenv("SSL_CERT_FILE");
  const char *dir = getenv("SSL_CERT_DIR");
  bool loaded = false;
  if (file != NULL && file[0] != '\0') {
    loaded = x509_store_add_file(s, file, detail, cap) == MOAT_OK || loaded;
  }
  /* A directory is read only when no bundle file was loaded: on Debian
   * (and with both variables pointing there) it holds the same roots. */
  if (!loaded && dir != NULL && dir[0] != '\0') {
    /* A colon-separated list, as OpenSSL reads it. */
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", dir);
    char *save = NULL;
    for (char *p = strtok_r(buf, ":", &save); p != NULL;
         p = strtok_r(NULL, ":", &save)) {
      loaded = x509_store_add_dir(s, p, detail, cap) == MOAT_OK || loaded;
    }
  }
  if (loaded) {
    return MOAT_OK;
  }
  /* Debian's bundle holds every root of /etc/ssl/certs: the directory is
   * read only when the bundle is missing. */
  if (x509_store_add_file(s, "/etc/ssl/certs/ca-certificates.crt", detail,
                          cap) == MOAT_OK) {
    return MOAT_OK;
  }
  return x509_store_add_dir(s, "/etc/ssl/certs", detail, cap);
}

size_t x509_store_num_certs(const x509_store *s) {
  size_t n = 0;
  for (size_t i = 0; s != NULL && i < s->nbundles; i++) {
    n += s->bundles[i]->ncerts;
  }
  return n;
}

size_t x509_store_num_crls(const x509_store *s) {
  size_t n = 0;
  for (size_t i = 0; s != NULL && i < s->nbundles; i++) {
    n += s->bundles[i]->ncrls;
  }
  return n;
}

bool x509_store_holds(const x509_store *s, const uint8_t *der, size_t len) {
  for (size_t b = 0; s != NULL && b < s->nbundles; b++) {
    const bundle *bu = s->bundles[b];
    for (size_t i = 0; i < bu->ncerts; i++) {
      if (bu->certs[i].der == der && bu->certs[i].len == len) {
        return true;
      }
    }
  }
  return false;
}

bool x509_store_cert_der(const x509_store *s, size_t i, const uint8_t **out,
                         size_t *out_len) {
  for (size_t b = 0; s != NULL && b < s->nbundles; b++) {
    if (i < s->bundles[b]->ncerts) {
      *out = s->bundles[b]->certs[i].der;
      *out_len = s->bundles[b]->certs[i].len;
      return true;
    }
    i -= s->bundles[b]->ncerts;
  }
  return false;
}

/* First index with item hash >= h. */
static size_t lower_bound(const store_item *items, size_t n, uint64_t h) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (items[mid].hash < h) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

static bool next_match(const x509_store *s, cursor name, store_iter *it,
                       bool crls, const uint8_t **out_der, size_t *out_len) {
  uint64_t h = x509_name_hash(name);
  while (s != NULL && it->bundle < s->nbundles) {
    const bundle *b = s->bundles[it->bundle];
    const store_item *items = crls ? b->crls : b->certs;
    size_t n = crls ? b->ncrls : b->ncerts;
    if (it->item == 0) {
      it->item = lower_bound(items, n, h) + 1; /* item is index + 1 */
    }
    while (it->item - 1 < n && items[it->item - 1].hash == h) {
      const store_item *e = &items[it->item - 1];
      it->item++;
      if (x509_name_eq(e->name, name)) {
        *out_der = e->der;
        *out_len = e->len;
        return true;
      }
    }
    it->bundle++;
    it->item = 0;
  }
  return false;
}

bool x509_store_next_subject(const x509_store *s, cursor name, store_iter *it,
                             const uint8_t **out_der, size_t *out_len) {
  return next_match(s, name, it, false, out_der, out_len);
}

bool x509_store_next_crl(const x509_store *s, cursor name, store_iter *it,
                         const uint8_t **out_der, size_t *out_len) {
  return next_match(s, name, it, true, out_der, out_len);
}

bool x509_store_contains(const x509_store *s, const uint8_t *der, size_t len) {
  x509_cert c;
  store_iter it = {0, 0};
  const uint8_t *d;
  size_t n;
  if (x509_cert_parse(&c, der, len, NULL, 0) != MOAT_OK) {
    return false;
  }
  while (x509_store_next_subject(s, c.subject, &it, &d, &n)) {
    if (n == len && memcmp(d, der, len) == 0) {
      return true;
    }
  }
  return false;
}
