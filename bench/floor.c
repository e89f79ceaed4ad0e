/* The libcrypto floor: the public-key and AEAD operations a TLS 1.3
 * handshake or record cannot avoid, each timed alone with its objects built
 * once outside the loop where a TLS stack could also keep them (fetched
 * algorithms, the long-term key's signing context, AEAD contexts with their
 * key set), and built inside the loop where a stack cannot (a fresh key
 * share, a derive context for it, the peer's share turned into a key). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "bench.h"

double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef bool (*op_fn)(void *arg);

/* Seconds per call of fn, over about `seconds` of CPU; < 0 on failure. */
static double time_op(op_fn fn, void *arg, double seconds) {
  for (int i = 0; i < 3; i++) /* warm-up */
    if (!fn(arg))
      return -1;
  double t0 = cpu_now();
  double t = t0;
  long n = 0;
  while (t - t0 < seconds) {
    for (int i = 0; i < 8; i++)
      if (!fn(arg))
        return -1;
    n += 8;
    t = cpu_now();
  }
  return (t - t0) / (double)n;
}

/* ---- key exchange ---------------------------------------------------------*/

typedef struct kx {
  bool x25519;
  EVP_PKEY_CTX *gen; /* keygen context, kept */
  EVP_PKEY *mine;
  EVP_PKEY *peer_key; /* kept; each derive sets the peer's share into it */
  uint8_t peer[65];
  size_t peer_len;
} kx;

static bool kx_share(EVP_PKEY *key, uint8_t *out, size_t cap, size_t *len) {
  unsigned char *enc = NULL;
  size_t n = EVP_PKEY_get1_encoded_public_key(key, &enc);
  bool ok = n > 0 && n <= cap;
  if (ok) {
    memcpy(out, enc, n);
    *len = n;
  }
  OPENSSL_free(enc);
  return ok;
}

static bool kx_keygen(void *arg) {
  kx *k = arg;
  EVP_PKEY *key = NULL;
  uint8_t share[65];
  size_t len = 0;
  bool ok = EVP_PKEY_keygen(k->gen, &key) == 1 &&
            kx_share(key, share, sizeof(share), &len);
  EVP_PKEY_free(key);
  return ok;
}

/* The peer's share as a key, by the cheapest route libcrypto offers: a
 * key object kept from the last time takes the encoded point in place (no
 * allocation); the first one is an empty key that takes our own key's
 * type and group (building it by name, EVP_PKEY_new_raw_public_key_ex or
 * EVP_PKEY_fromdata, costs about twice as much as that). */
static EVP_PKEY *kx_peer(kx *k) {
  if (k->peer_key == NULL) {
    k->peer_key = EVP_PKEY_new();
    if (k->peer_key == NULL ||
        EVP_PKEY_copy_parameters(k->peer_key, k->mine) != 1) {
      EVP_PKEY_free(k->peer_key);
      k->peer_key = NULL;
      return NULL;
    }
  }
  if (EVP_PKEY_set1_encoded_public_key(k->peer_key, k->peer, k->peer_len) !=
      1) {
    return NULL;
  }
  return k->peer_key;
}

static bool kx_derive(void *arg) {
  kx *k = arg;
  EVP_PKEY *peer = kx_peer(k);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->mine, NULL);
  uint8_t secret[64];
  size_t len = sizeof(secret);
  bool ok = peer != NULL && ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
            /* No second validation of the peer key: decoding the point
             * checked it is on the curve, and with cofactor 1 that is the
             * whole check (EVP_PKEY_derive_set_peer would add a scalar
             * multiplication by the group order). */
            EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1 &&
            EVP_PKEY_derive(ctx, secret, &len) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

static bool kx_setup(kx *k, bool x25519) {
  memset(k, 0, sizeof(*k));
  k->x25519 = x25519;
  k->gen = EVP_PKEY_CTX_new_from_name(NULL, x25519 ? "X25519" : "EC", NULL);
  if (k->gen == NULL || EVP_PKEY_keygen_init(k->gen) != 1)
    return false;
  if (!x25519 && EVP_PKEY_CTX_set_group_name(k->gen, "P-256") != 1)
    return false;
  EVP_PKEY *other = NULL;
  bool ok = EVP_PKEY_keygen(k->gen, &k->mine) == 1 &&
            EVP_PKEY_keygen(k->gen, &other) == 1 &&
            kx_share(other, k->peer, sizeof(k->peer), &k->peer_len);
  EVP_PKEY_free(other);
  return ok;
}

static void kx_clear(kx *k) {
  EVP_PKEY_CTX_free(k->gen);
  EVP_PKEY_free(k->mine);
  EVP_PKEY_free(k->peer_key);
}

/* ---- signatures
 * ------------------------------------------------------------*/

typedef struct sig {
  EVP_PKEY_CTX *sign;
  EVP_PKEY_CTX *verify;
  uint8_t digest[32];
  uint8_t sig[512];
  size_t sig_len;
} sig;

static bool sig_sign(void *arg) {
  sig *s = arg;
  uint8_t out[512];
  size_t len = sizeof(out);
  return EVP_PKEY_sign(s->sign, out, &len, s->digest, sizeof(s->digest)) == 1;
}

static bool sig_verify(void *arg) {
  sig *s = arg;
  return EVP_PKEY_verify(s->verify, s->sig, s->sig_len, s->digest,
                         sizeof(s->digest)) == 1;
}

/* pad: 0 for ECDSA, else RSA_PKCS1_PSS_PADDING or RSA_PKCS1_PADDING. */
static bool sig_setup(sig *s, EVP_PKEY *key, int pad) {
  memset(s, 0, sizeof(*s));
  memset(s->digest, 0x5a, sizeof(s->digest));
  s->sign = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
  s->verify = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
  if (s->sign == NULL || s->verify == NULL ||
      EVP_PKEY_sign_init(s->sign) != 1 || EVP_PKEY_verify_init(s->verify) != 1)
    return false;
  EVP_PKEY_CTX *both[2] = {s->sign, s->verify};
  for (int i = 0; i < 2; i++) {
    if (EVP_PKEY_CTX_set_signature_md(both[i], EVP_sha256()) != 1)
      return false;
    if (pad != 0 && EVP_PKEY_CTX_set_rsa_padding(both[i], pad) != 1)
      return false;
    if (pad == RSA_PKCS1_PSS_PADDING &&
        EVP_PKEY_CTX_set_rsa_pss_saltlen(both[i], RSA_PSS_SALTLEN_DIGEST) != 1)
      return false;
  }
  s->sig_len = sizeof(s->sig);
  return EVP_PKEY_sign(s->sign, s->sig, &s->sig_len, s->digest,
                       sizeof(s->digest)) == 1;
}

static void sig_clear(sig *s) {
  EVP_PKEY_CTX_free(s->sign);
  EVP_PKEY_CTX_free(s->verify);
}

/* ---- AEAD
 * ------------------------------------------------------------------*/

typedef struct aead {
  EVP_CIPHER_CTX *enc;
  EVP_CIPHER_CTX *dec;
  size_t len; /* plaintext of one record, content type byte included */
  uint8_t iv[12];
  uint64_t seq;
  uint8_t *pt;
  uint8_t *ct;
  uint8_t *back;
} aead;

static uint8_t g_rec_pt[16385], g_rec_ct[16385], g_rec_back[16385];

/* One TLS 1.3 record: seal with a per-record nonce and the 5-byte header
 * as AAD, then open and check the tag. */
static bool aead_record(void *arg) {
  aead *a = arg;
  uint8_t nonce[12];
  memcpy(nonce, a->iv, 12);
  for (int i = 0; i < 8; i++)
    nonce[11 - i] ^= (uint8_t)(a->seq >> (8 * i));
  a->seq++;
  uint8_t hdr[5] = {23, 3, 3, (uint8_t)((a->len + 16) >> 8),
                    (uint8_t)(a->len + 16)};
  uint8_t tag[16];
  int n = 0;
  int fin = 0;
  bool ok = EVP_EncryptInit_ex2(a->enc, NULL, NULL, nonce, NULL) == 1 &&
            EVP_EncryptUpdate(a->enc, NULL, &n, hdr, 5) == 1 &&
            EVP_EncryptUpdate(a->enc, a->ct, &n, a->pt, (int)a->len) == 1 &&
            EVP_EncryptFinal_ex(a->enc, a->ct + n, &fin) == 1 &&
            EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1;
  ok = ok && EVP_DecryptInit_ex2(a->dec, NULL, NULL, nonce, NULL) == 1 &&
       EVP_DecryptUpdate(a->dec, NULL, &n, hdr, 5) == 1 &&
       EVP_DecryptUpdate(a->dec, a->back, &n, a->ct, (int)a->len) == 1 &&
       EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1 &&
       EVP_DecryptFinal_ex(a->dec, a->back + n, &fin) == 1;
  return ok;
}

static bool aead_setup(aead *a, EVP_CIPHER **out_cipher, const char *name,
                       size_t key_len, size_t record) {
  uint8_t key[32];
  memset(key, 0x11, sizeof(key));
  memset(a, 0, sizeof(*a));
  a->enc = EVP_CIPHER_CTX_new();
  a->dec = EVP_CIPHER_CTX_new();
  a->len = record + 1;
  a->pt = g_rec_pt;
  a->ct = g_rec_ct;
  a->back = g_rec_back;
  memset(a->iv, 0x22, sizeof(a->iv));
  EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
  *out_cipher = cipher;
  return cipher != NULL && a->enc != NULL && a->dec != NULL &&
         EVP_CIPHER_get_key_length(cipher) == (int)key_len &&
         EVP_EncryptInit_ex2(a->enc, cipher, key, a->iv, NULL) == 1 &&
         EVP_DecryptInit_ex2(a->dec, cipher, key, a->iv, NULL) == 1;
}

static void aead_clear(aead *a, EVP_CIPHER *cipher) {
  EVP_CIPHER_CTX_free(a->enc);
  EVP_CIPHER_CTX_free(a->dec);
  EVP_CIPHER_free(cipher);
}

static double aead_time(const char *name, size_t key_len, size_t record,
                        double seconds) {
  EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
  uint8_t key[32];
  memset(key, 0x11, sizeof(key));
  aead a = {EVP_CIPHER_CTX_new(),
            EVP_CIPHER_CTX_new(),
            record + 1,
            {0},
            0,
            g_rec_pt,
            g_rec_ct,
            g_rec_back};
  memset(a.iv, 0x22, sizeof(a.iv));
  double t = -1;
  if (cipher != NULL && a.enc != NULL && a.dec != NULL &&
      EVP_CIPHER_get_key_length(cipher) == (int)key_len &&
      EVP_EncryptInit_ex2(a.enc, cipher, key, a.iv, NULL) == 1 &&
      EVP_DecryptInit_ex2(a.dec, cipher, key, a.iv, NULL) == 1)
    t = time_op(aead_record, &a, seconds);
  EVP_CIPHER_CTX_free(a.enc);
  EVP_CIPHER_CTX_free(a.dec);
  EVP_CIPHER_free(cipher);
  return t;
}

bool floor_measure(floor_ops *out, double seconds) {
  memset(out, 0, sizeof(*out));
  kx x = {0};
  kx p = {0};
  sig es = {0};
  sig rs = {0};
  sig rp = {0};
  EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  bool ok = ec != NULL && rsa != NULL && kx_setup(&x, true) &&
            kx_setup(&p, false) && sig_setup(&es, ec, 0) &&
            sig_setup(&rs, rsa, RSA_PKCS1_PSS_PADDING) &&
            sig_setup(&rp, rsa, RSA_PKCS1_PADDING);
  if (ok) {
    out->x25519_keygen = time_op(kx_keygen, &x, seconds);
    out->x25519_derive = time_op(kx_derive, &x, seconds);
    out->p256_keygen = time_op(kx_keygen, &p, seconds);
    out->p256_derive = time_op(kx_derive, &p, seconds);
    out->ecdsa_sign = time_op(sig_sign, &es, seconds);
    out->ecdsa_verify = time_op(sig_verify, &es, seconds);
    out->rsa_pss_sign = time_op(sig_sign, &rs, seconds);
    out->rsa_pss_verify = time_op(sig_verify, &rs, seconds);
    out->rsa_pkcs1_verify = time_op(sig_verify, &rp, seconds);
    out->aes128gcm_16k = aead_time("AES-128-GCM", 16, 16384, seconds);
    out->aes128gcm_1k = aead_time("AES-128-GCM", 16, 1024, seconds);
    out->aes256gcm_16k = aead_time("AES-256-GCM", 32, 16384, seconds);
    out->aes256gcm_1k = aead_time("AES-256-GCM", 32, 1024, seconds);
    out->chacha20_16k = aead_time("ChaCha20-Poly1305", 32, 16384, seconds);
    out->chacha20_1k = aead_time("ChaCha20-Poly1305", 32, 1024, seconds);
  }
  kx_clear(&x);
  kx_clear(&p);
  sig_clear(&es);
  sig_clear(&rs);
  sig_clear(&rp);
  EVP_PKEY_free(ec);
  EVP_PKEY_free(rsa);
  const double *all = &out->x25519_keygen;
  for (size_t i = 0; ok && i < sizeof(*out) / sizeof(double); i++)
    ok = all[i] > 0;
  if (!ok)
    fprintf(stderr, "moat-bench: the libcrypto floor could not be measured\n");
  return ok;
}

/* ---- the floor of one figure, run in the same rounds as the libraries -----
 */

struct floor_ctx {
  kx x;
  kx p;
  sig es;
  sig rs;
  sig rp;
  EVP_PKEY *ec;
  EVP_PKEY *rsa;
  aead a[6];
  EVP_CIPHER *c[6];
};

floor_ctx *floor_new(void) {
  floor_ctx *f = bench_calloc(sizeof(*f));
  if (f == NULL)
    return NULL;
  f->ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  f->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  bool ok = f->ec != NULL && f->rsa != NULL && kx_setup(&f->x, true) &&
            kx_setup(&f->p, false) && sig_setup(&f->es, f->ec, 0) &&
            sig_setup(&f->rs, f->rsa, RSA_PKCS1_PSS_PADDING) &&
            sig_setup(&f->rp, f->rsa, RSA_PKCS1_PADDING) &&
            aead_setup(&f->a[0], &f->c[0], "AES-128-GCM", 16, 16384) &&
            aead_setup(&f->a[1], &f->c[1], "AES-128-GCM", 16, 1024) &&
            aead_setup(&f->a[2], &f->c[2], "AES-256-GCM", 32, 16384) &&
            aead_setup(&f->a[3], &f->c[3], "ChaCha20-Poly1305", 32, 16384) &&
            aead_setup(&f->a[4], &f->c[4], "AES-256-GCM", 32, 1024) &&
            aead_setup(&f->a[5], &f->c[5], "ChaCha20-Poly1305", 32, 1024);
  if (!ok) {
    floor_free(f);
    return NULL;
  }
  return f;
}

void floor_free(floor_ctx *f) {
  if (f == NULL)
    return;
  kx_clear(&f->x);
  kx_clear(&f->p);
  sig_clear(&f->es);
  sig_clear(&f->rs);
  sig_clear(&f->rp);
  EVP_PKEY_free(f->ec);
  EVP_PKEY_free(f->rsa);
  for (int i = 0; i < 6; i++)
    aead_clear(&f->a[i], f->c[i]);
  bench_free(f);
}

/* Both sides' key shares and shared secrets. */
static bool kx_both(kx *k) {
  return kx_keygen(k) && kx_keygen(k) && kx_derive(k) && kx_derive(k);
}

bool floor_unit(floor_ctx *f, floor_id id) {
  switch (id) {
  case FL_HS_X25519_ECDSA:
    return kx_both(&f->x) && sig_sign(&f->es) && sig_verify(&f->es) &&
           sig_verify(&f->es);
  case FL_HS_X25519_RSA:
    return kx_both(&f->x) && sig_sign(&f->rs) && sig_verify(&f->rs) &&
           sig_verify(&f->rp);
  case FL_HS_P256_ECDSA:
    return kx_both(&f->p) && sig_sign(&f->es) && sig_verify(&f->es) &&
           sig_verify(&f->es);
  case FL_RESUME_X25519:
    return kx_both(&f->x);
  case FL_HS_X25519MLKEM768_ECDSA:
    return kx_both(&f->x) && bench_kem_op(KEM_KEYGEN) &&
           bench_kem_op(KEM_ENCAPS) && bench_kem_op(KEM_DECAPS) &&
           sig_sign(&f->es) && sig_verify(&f->es) && sig_verify(&f->es);
  case FL_RESUME_X25519MLKEM768:
    return kx_both(&f->x) && bench_kem_op(KEM_KEYGEN) &&
           bench_kem_op(KEM_ENCAPS) && bench_kem_op(KEM_DECAPS);
  case FL_X25519_KEYGEN:
    return kx_keygen(&f->x);
  case FL_AES128GCM_16K:
    return aead_record(&f->a[0]);
  case FL_AES128GCM_1K:
    return aead_record(&f->a[1]);
  case FL_AES256GCM_16K:
    return aead_record(&f->a[2]);
  case FL_CHACHA20_16K:
    return aead_record(&f->a[3]);
  case FL_AES256GCM_1K:
    return aead_record(&f->a[4]);
  case FL_CHACHA20_1K:
    return aead_record(&f->a[5]);
  case FL_NONE:
  default:
    return false;
  }
}
