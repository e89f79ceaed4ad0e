/* Opens the encrypted_client_hello extension of a recorded ClientHello
 * with moat's HPKE, for tests/interop/ech_keygen.sh: an OpenSSL 4.0
 * s_client encrypts its inner ClientHello to a config moat made, and this
 * decrypts it with the key file moat wrote (RFC 9849 5, 5.2, 6.1, 7.1).
 *   ech_tool KEYFILE RECORD [flip]
 * RECORD is the first TLS record the client sent.  With "flip", one byte
 * of the outer ClientHello's random is changed first (it is in the aad,
 * so opening must fail).  Prints "inner server_name NAME" (exit 0), or
 * what failed (exit 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"
#include "base/mem.h"
#include "crypto/hpke.h"
#include "tls/ech_config.h"
#include "x509/x509.h"

#define EXT_SNI 0x0000
#define EXT_ECH 0xfe0d

static int die(const char *msg) {
  printf("ech_tool: %s\n", msg);
  return 1;
}

/* The extensions block of a ClientHello body (RFC 8446 4.1.2). */
static bool ch_extensions(cursor ch, cursor *out) {
  cursor sid, suites, comp;
  return cur_skip(&ch, 2 + 32) && cur_prefixed8(&ch, &sid) &&
         cur_prefixed16(&ch, &suites) && cur_prefixed8(&ch, &comp) &&
         cur_prefixed16(&ch, out);
}

static bool find_ext(cursor exts, uint16_t want, cursor *out) {
  uint16_t type;
  cursor data;
  while (cur_u16(&exts, &type) && cur_prefixed16(&exts, &data)) {
    if (type == want) {
      *out = data;
      return true;
    }
  }
  return false;
}

static int open_inner(const ech_key_file *keys, uint8_t *ch, size_t ch_len) {
  cursor exts, ech;
  if (!ch_extensions(cur_make(ch, ch_len), &exts) ||
      !find_ext(exts, EXT_ECH, &ech)) {
    return die("no encrypted_client_hello extension in the ClientHello");
  }
  /* RFC 9849 5: outer(0), cipher_suite, config_id, enc, payload. */
  uint8_t type, config_id;
  hpke_suite suite = {HPKE_KEM_X25519_SHA256, 0, 0};
  cursor enc, payload;
  if (!cur_u8(&ech, &type) || type != 0 || !cur_u16(&ech, &suite.kdf_id) ||
      !cur_u16(&ech, &suite.aead_id) || !cur_u8(&ech, &config_id) ||
      !cur_prefixed16(&ech, &enc) || !cur_prefixed16(&ech, &payload) ||
      !cur_done(&ech)) {
    return die("malformed outer encrypted_client_hello");
  }
  /* The config it names (RFC 9849 7.1). */
  cursor configs;
  tls_cause why;
  ech_config c;
  bool found = false;
  if (ech_config_list_open(cur_make(keys->config_list, keys->config_list_len),
                           &configs, &why) != MOAT_OK) {
    return die(why.detail);
  }
  while (!found && !cur_done(&configs)) {
    if (ech_config_next(&configs, &c, &why) != MOAT_OK) {
      return die(why.detail);
    }
    found = c.usable && c.config_id == config_id;
  }
  if (!found) {
    return die("no config in the key file has the client's config_id");
  }
  /* RFC 9849 6.1: info = "tls ech" || 0x00 || ECHConfig. */
  uint8_t info[8 + 1024];
  if (cur_len(&c.raw) > sizeof(info) - 8) {
    return die("config too long");
  }
  memcpy(info, "tls ech", 8); /* the NUL is the 0x00 */
  memcpy(info + 8, cur_data(&c.raw), cur_len(&c.raw));
  char detail[256] = "";
  hpke_ctx *ctx = NULL;
  moat_err err =
      hpke_setup_base_r(suite, cur_data(&enc), cur_len(&enc), keys->private_key,
                        keys->private_key_len, info, 8 + cur_len(&c.raw), &ctx,
                        detail, sizeof(detail));
  if (err != MOAT_OK) {
    return die(detail);
  }
  /* RFC 9849 5.2: the aad is the outer ClientHello with the payload
   * replaced by zeros; the ciphertext is the payload. */
  size_t ct_len = cur_len(&payload);
  uint8_t *ct = moat_memdup(cur_data(&payload), ct_len);
  uint8_t *pt = moat_malloc(ct_len);
  if (ct == NULL || pt == NULL || ct_len < HPKE_TAG_LEN) {
    return die("no memory or short payload");
  }
  memset(ch + (cur_data(&payload) - ch), 0, ct_len);
  err = hpke_open(ctx, ch, ch_len, ct, ct_len, pt);
  hpke_free(ctx);
  moat_free(ct);
  if (err != MOAT_OK) {
    moat_free(pt);
    printf("ech_tool: the payload does not open: %s\n", moat_err_name(err));
    return 1;
  }
  /* EncodedClientHelloInner: a ClientHello, then zeros (RFC 9849 5.1). */
  cursor inner_exts, sni, names, name;
  uint8_t name_type;
  int rc = 0;
  if (!ch_extensions(cur_make(pt, ct_len - HPKE_TAG_LEN), &inner_exts) ||
      !find_ext(inner_exts, EXT_SNI, &sni) || !cur_prefixed16(&sni, &names) ||
      !cur_u8(&names, &name_type) || !cur_prefixed16(&names, &name)) {
    rc = die("the inner ClientHello has no server_name");
  } else {
    printf("inner server_name %.*s\n", (int)cur_len(&name),
           (const char *)cur_data(&name));
  }
  moat_free(pt);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: ech_tool KEYFILE RECORD [flip]\n");
    return 2;
  }
  ech_key_file keys;
  char detail[256] = "";
  if (ech_key_file_load(argv[1], &keys, detail, sizeof(detail)) != MOAT_OK) {
    return die(detail);
  }
  if (!keys.has_private_key) {
    return die("the key file has no private key");
  }
  uint8_t *rec = NULL;
  size_t rec_len = 0;
  if (x509_read_file(argv[2], &rec, &rec_len, detail, sizeof(detail)) !=
      MOAT_OK) {
    return die(detail);
  }
  /* A handshake record holding the whole ClientHello (RFC 8446 5.1, 4). */
  cursor r = cur_make(rec, rec_len), frag, body;
  uint8_t ct, ht;
  uint16_t version;
  uint32_t len;
  if (!cur_u8(&r, &ct) || ct != 22 || !cur_u16(&r, &version) ||
      !cur_prefixed16(&r, &frag) || !cur_u8(&frag, &ht) || ht != 1 ||
      !cur_u24(&frag, &len) || !cur_sub(&frag, len, &body)) {
    return die("RECORD does not start with a whole ClientHello record");
  }
  uint8_t *ch = moat_memdup(cur_data(&body), cur_len(&body));
  if (argc == 4 && strcmp(argv[3], "flip") == 0) {
    ch[2 + 5] ^= 0x01; /* a byte of the random */
  }
  int rc = open_inner(&keys, ch, cur_len(&body));
  moat_free(ch);
  moat_free(rec);
  ech_key_file_clear(&keys);
  return rc;
}
