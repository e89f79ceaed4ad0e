/* Encrypted Client Hello configurations (RFC 9849 4): the ECHConfigList
 * codec, and the PEM file that carries an ECH private key with its
 * ECHConfigList (the layout OpenSSL's `openssl ech` writes).
 *
 * The codec is pure: bytes -> structs (slices into the input) + a cause,
 * and parameters -> bytes through a builder.  It never touches a
 * connection. */
#ifndef MOAT_TLS_ECH_CONFIG_H
#define MOAT_TLS_ECH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/builder.h"
#include "base/cursor.h"
#include "crypto/hpke.h"
#include "tls/tls.h"

/* RFC 9849 4: the one ECHConfig version there is (also the code point of
 * the encrypted_client_hello extension). */
#define ECH_CONFIG_VERSION 0xfe0d
/* RFC 9849 4.2: an extension type with the high bit set is mandatory. */
#define ECH_EXT_MANDATORY 0x8000
/* RFC 9849 4: cipher_suites<4..2^16-4>. */
#define ECH_MAX_SUITES 16383

/* One ECHConfig of a list.  The cursors point into the parsed bytes. */
typedef struct ech_config {
  uint16_t version;
  /* The whole ECHConfig, version and length included: what RFC 9849 6.1
   * puts after "tls ech" || 0x00 in the HPKE info. */
  cursor raw;
  /* The ECHConfigContents fields, for version 0xfe0d only. */
  uint8_t config_id;
  uint16_t kem_id;
  cursor public_key;
  cursor cipher_suites; /* HpkeSymmetricCipherSuite: kdf_id, aead_id pairs */
  uint8_t maximum_name_length;
  cursor public_name;
  cursor extensions; /* the ECHConfigExtension list, without its length */
  /* Whether moat can encrypt to it: a known version, a KEM and at least
   * one (KDF, AEAD) pair its HPKE implements, a valid public name (RFC
   * 9849 6.1.7), no mandatory extension it does not know (4.2).  suite is
   * the first such pair, in the server's order; unusable says why not. */
  bool usable;
  hpke_suite suite;
  char unusable[96];
} ech_config;

/* Reads the ECHConfigList<4..2^16-1> framing: *out_configs is its
 * contents, to walk with ech_config_next.  Nothing may follow the list. */
moat_err ech_config_list_open(cursor in, cursor *out_configs, tls_cause *why);
/* The next ECHConfig of a list (cur_done(configs) when there are no more).
 * A version other than 0xfe0d is skipped over by its length and comes back
 * with usable false (RFC 9849 4: clients ignore it).  A malformed 0xfe0d
 * config, a length that overruns the list, or an extension type twice is
 * refused with a cause. */
moat_err ech_config_next(cursor *configs, ech_config *out, tls_cause *why);
/* The whole list at once: every config parsed (as above), their count and
 * how many are usable; out_first_usable (may be NULL) receives the first
 * usable one, the client's choice (RFC 9849 6.1: in the server's order of
 * preference). */
moat_err ech_config_list_parse(const uint8_t *data, size_t len, size_t *out_num,
                               size_t *out_num_usable,
                               ech_config *out_first_usable, tls_cause *why);

/* What ech_config_build writes: one version 0xfe0d ECHConfig. */
typedef struct ech_config_params {
  uint8_t config_id;
  uint16_t kem_id;
  const uint8_t *public_key;
  size_t public_key_len;
  const hpke_suite *suites; /* kdf_id and aead_id are used */
  size_t num_suites;
  uint8_t maximum_name_length;
  const char *public_name;
  /* The ECHConfigExtension list's contents (type, length, data ...), or
   * NULL. */
  const uint8_t *extensions;
  size_t extensions_len;
} ech_config_params;

/* Appends one ECHConfig.  Refuses (MOAT_ERR_INVALID_ARGUMENT) an empty or
 * too long public key, no suites, and a public name RFC 9849 6.1.7 would
 * have a client ignore. */
moat_err ech_config_build(builder *b, const ech_config_params *p,
                          tls_cause *why);
/* An ECHConfigList of num configs. */
moat_err ech_config_list_build(builder *b, const ech_config_params *p,
                               size_t num, tls_cause *why);

/* RFC 9849 6.1.7: a dot-separated sequence of LDH labels (RFC 5890
 * 2.3.1) of at most 63 octets each, neither beginning nor ending with a
 * dot, whose last label cannot be read as an IPv4 number (all digits, or
 * 0x and hex digits). */
bool ech_public_name_ok(const uint8_t *name, size_t len);

/* ---- the ECH key file ------------------------------------------------------
 *
 * PEM, as `openssl ech` (OpenSSL 4.0) writes it: a "PRIVATE KEY" block
 * (PKCS#8, RFC 5958, of an X25519 key, RFC 8410) and then an "ECHCONFIG"
 * block whose contents are an ECHConfigList (with its 2-byte length).  A
 * file with the ECHCONFIG block alone carries configs without a key. */

typedef struct ech_key_file {
  bool has_private_key;
  uint8_t private_key[HPKE_MAX_PRIVATE_KEY]; /* the raw X25519 key */
  size_t private_key_len;
  uint8_t public_key[HPKE_MAX_PUBLIC_KEY]; /* derived from private_key */
  size_t public_key_len;
  uint8_t *config_list; /* ECHConfigList, moat_malloc'd */
  size_t config_list_len;
} ech_key_file;

/* Reads the text of a key file.  The ECHConfigList must parse and hold at
 * least one config; when there is a private key, at least one config must
 * carry its public key.  Errors: MOAT_ERR_BAD_PEM (no ECHCONFIG block,
 * two of one kind, broken PEM), MOAT_ERR_BAD_KEY (a key that is not
 * PKCS#8), MOAT_ERR_UNSUPPORTED (a key that is not X25519),
 * MOAT_ERR_DECODE_ERROR (a malformed ECHConfigList), MOAT_ERR_KEY_MISMATCH
 * (no config for the key); detail says which. */
moat_err ech_key_file_parse(const uint8_t *text, size_t len, ech_key_file *out,
                            char *detail, size_t detail_cap);
moat_err ech_key_file_load(const char *path, ech_key_file *out, char *detail,
                           size_t detail_cap);
/* Wipes the key and frees the list. */
void ech_key_file_clear(ech_key_file *f);
/* The file's text for an X25519 private key (may be NULL: configs only)
 * and an ECHConfigList, into a moat_malloc'd NUL-terminated string the
 * caller frees with moat_free_wipe (it holds the key). */
moat_err ech_key_file_write(const uint8_t *private_key, size_t private_key_len,
                            const uint8_t *config_list, size_t config_list_len,
                            char **out_text, size_t *out_len);

#endif
