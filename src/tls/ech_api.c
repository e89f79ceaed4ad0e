/* The public moat_ech_keys calls: ECH key files made, read, written and
 * described, over the ECHConfigList codec and the key file reader
 * (ech_config.c, ech_keyfile.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "tls/ech_config.h"
#include "x509/der.h"
#include "x509/x509.h"

struct moat_ech_keys {
  ech_key_file file;
};

static void set_detail(char *detail, size_t cap, const char *msg) {
  if (detail != NULL && cap > 0) {
    snprintf(detail, cap, "%s", msg);
  }
}

static moat_err keys_from_text(const uint8_t *text, size_t len,
                               moat_ech_keys **out, char *detail, size_t cap) {
  *out = NULL;
  moat_ech_keys *k = moat_calloc(1, sizeof(*k));
  if (k == NULL) {
    return MOAT_ERR_NO_MEMORY;
  }
  moat_err err = ech_key_file_parse(text, len, &k->file, detail, cap);
  if (err != MOAT_OK) {
    moat_free_wipe(k, sizeof(*k));
    return err;
  }
  *out = k;
  return MOAT_OK;
}

moat_err moat_ech_keys_from_pem(const uint8_t *pem, size_t len,
                                moat_ech_keys **out, char *detail,
                                size_t detail_cap) {
  if (out == NULL || (pem == NULL && len > 0)) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  return keys_from_text(pem, len, out, detail, detail_cap);
}

moat_err moat_ech_keys_load(const char *path, moat_ech_keys **out, char *detail,
                            size_t detail_cap) {
  uint8_t *text = NULL;
  size_t len = 0;
  if (out == NULL || path == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  *out = NULL;
  TRY(x509_read_file(path, &text, &len, detail, detail_cap));
  moat_err err = keys_from_text(text, len, out, detail, detail_cap);
  moat_free_wipe(text, len);
  return err;
}

moat_err moat_ech_keys_generate(const char *public_name, int config_id,
                                int max_name_len, moat_ech_keys **out,
                                char *detail, size_t detail_cap) {
  static const hpke_suite suites[] = {
      {HPKE_KEM_X25519_SHA256, HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM},
      {HPKE_KEM_X25519_SHA256, HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_256_GCM},
      {HPKE_KEM_X25519_SHA256, HPKE_KDF_HKDF_SHA256,
       HPKE_AEAD_CHACHA20_POLY1305},
  };
  uint8_t sk[HPKE_MAX_PRIVATE_KEY], pk[HPKE_MAX_PUBLIC_KEY], id = 0;
  size_t sk_len = 0, pk_len = 0;
  if (out == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  *out = NULL;
  if (config_id < -1 || config_id > 255 || max_name_len < 0 ||
      max_name_len > 255) {
    set_detail(detail, detail_cap,
               "the config id and maximum name length must be 0 to 255");
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  if (config_id >= 0) {
    id = (uint8_t)config_id;
  } else if (!crypto_random_public(&id, 1)) {
    return MOAT_ERR_CRYPTO;
  }
  moat_err err =
      hpke_generate_key_pair(HPKE_KEM_X25519_SHA256, sk, &sk_len, pk, &pk_len);
  if (err != MOAT_OK) {
    set_detail(detail, detail_cap, "the X25519 key could not be made");
    return err;
  }
  ech_config_params p = {id,
                         HPKE_KEM_X25519_SHA256,
                         pk,
                         pk_len,
                         suites,
                         sizeof(suites) / sizeof(suites[0]),
                         (uint8_t)max_name_len,
                         public_name,
                         NULL,
                         0};
  builder b;
  tls_cause why;
  char *text = NULL;
  size_t text_len = 0;
  if (!bld_init_alloc(&b, 512)) {
    moat_wipe(sk, sizeof(sk));
    return MOAT_ERR_NO_MEMORY;
  }
  err = ech_config_list_build(&b, &p, 1, &why);
  if (err != MOAT_OK) {
    set_detail(detail, detail_cap, why.detail);
  } else {
    err = ech_key_file_write(sk, sk_len, bld_data(&b), bld_len(&b), &text,
                             &text_len);
  }
  moat_wipe(sk, sizeof(sk));
  bld_cleanup(&b);
  if (err == MOAT_OK) {
    /* Read back what was written: the object is what a load would give. */
    err = keys_from_text((const uint8_t *)text, text_len, out, detail,
                         detail_cap);
    moat_free_wipe(text, text_len + 1);
  }
  return err;
}

void moat_ech_keys_free(moat_ech_keys *keys) {
  if (keys != NULL) {
    ech_key_file_clear(&keys->file);
    moat_free_wipe(keys, sizeof(*keys));
  }
}

bool moat_ech_keys_has_private_key(const moat_ech_keys *keys) {
  return keys != NULL && keys->file.has_private_key;
}

/* The file's text, moat_malloc'd. */
static moat_err keys_text(const moat_ech_keys *keys, char **out_text,
                          size_t *out_len) {
  const ech_key_file *f = &keys->file;
  return ech_key_file_write(f->has_private_key ? f->private_key : NULL,
                            f->private_key_len, f->config_list,
                            f->config_list_len, out_text, out_len);
}

size_t moat_ech_keys_pem(const moat_ech_keys *keys, char *out, size_t cap) {
  char *text = NULL;
  size_t len = 0;
  if (keys == NULL || keys_text(keys, &text, &len) != MOAT_OK) {
    if (out != NULL && cap > 0) {
      out[0] = '\0';
    }
    return 0;
  }
  if (out != NULL && cap > len) {
    memcpy(out, text, len + 1);
  } else if (out != NULL && cap > 0) {
    out[0] = '\0';
  }
  moat_free_wipe(text, len + 1);
  return len;
}

moat_err moat_ech_keys_write(const moat_ech_keys *keys, const char *path,
                             bool overwrite, char *detail, size_t detail_cap) {
  char *text = NULL;
  size_t len = 0;
  char msg[300];
  if (keys == NULL || path == NULL) {
    return MOAT_ERR_INVALID_ARGUMENT;
  }
  TRY(keys_text(keys, &text, &len));
  int fd = open(path,
                O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL),
                0600);
  moat_err err = MOAT_OK;
  if (fd < 0) {
    snprintf(msg, sizeof(msg), "%.200s: %s", path, strerror(errno));
    err = MOAT_ERR_FILE_ERROR;
  } else {
    /* An existing file keeps its mode through O_TRUNC: narrow it. */
    size_t done = 0;
    bool ok = fchmod(fd, 0600) == 0;
    while (ok && done < len) {
      ssize_t n = write(fd, text + done, len - done);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      ok = n > 0;
      done += ok ? (size_t)n : 0;
    }
    if (!ok || close(fd) != 0) {
      snprintf(msg, sizeof(msg), "%.200s: %s", path, strerror(errno));
      err = MOAT_ERR_FILE_ERROR;
    }
  }
  if (err != MOAT_OK) {
    set_detail(detail, detail_cap, msg);
  }
  moat_free_wipe(text, len + 1);
  return err;
}

const uint8_t *moat_ech_keys_config_list(const moat_ech_keys *keys,
                                         size_t *out_len) {
  if (keys == NULL) {
    *out_len = 0;
    return NULL;
  }
  *out_len = keys->file.config_list_len;
  return keys->file.config_list;
}

size_t moat_ech_keys_config_list_base64(const moat_ech_keys *keys, char *out,
                                        size_t cap) {
  if (keys == NULL) {
    return 0;
  }
  return b64_encode(keys->file.config_list, keys->file.config_list_len, out,
                    cap);
}

/* The index-th config of the list (the reader checked the list). */
static bool config_at(const moat_ech_keys *keys, size_t index,
                      ech_config *out) {
  cursor configs;
  tls_cause why;
  if (keys == NULL || ech_config_list_open(cur_make(keys->file.config_list,
                                                    keys->file.config_list_len),
                                           &configs, &why) != MOAT_OK) {
    return false;
  }
  for (size_t i = 0; !cur_done(&configs); i++) {
    if (ech_config_next(&configs, out, &why) != MOAT_OK) {
      return false;
    }
    if (i == index) {
      return true;
    }
  }
  return false;
}

size_t moat_ech_keys_num_configs(const moat_ech_keys *keys) {
  size_t n = 0;
  ech_config c;
  while (config_at(keys, n, &c)) {
    n++;
  }
  return n;
}

static void id_name(text_buf *tb, uint16_t id, const char *name) {
  if (name != NULL) {
    tb_puts(tb, name);
  } else {
    tb_printf(tb, "0x%04x", id);
  }
}

size_t moat_ech_keys_config_text(const moat_ech_keys *keys, size_t index,
                                 char *out, size_t cap) {
  ech_config c;
  text_buf tb;
  tb_init(&tb, out, out != NULL ? cap : 0);
  if (!config_at(keys, index, &c)) {
    return 0;
  }
  if (c.version != ECH_CONFIG_VERSION) {
    tb_printf(&tb, "version 0x%04x: not usable: %s", c.version, c.unusable);
    return tb.len;
  }
  tb_printf(&tb, "config_id %u (0x%02x), version 0x%04x, KEM 0x%04x",
            c.config_id, c.config_id, c.version, c.kem_id);
  if (hpke_kem_name(c.kem_id) != NULL) {
    tb_printf(&tb, " %s", hpke_kem_name(c.kem_id));
  }
  tb_puts(&tb, ", public key ");
  for (size_t i = 0; i < cur_len(&c.public_key); i++) {
    tb_printf(&tb, "%02x", cur_data(&c.public_key)[i]);
  }
  tb_puts(&tb, ", suites [");
  cursor s = c.cipher_suites;
  uint16_t kdf, aead;
  for (bool first = true; cur_u16(&s, &kdf) && cur_u16(&s, &aead);
       first = false) {
    tb_puts(&tb, first ? "" : ", ");
    id_name(&tb, kdf, hpke_kdf_name(kdf));
    tb_putc(&tb, ' ');
    id_name(&tb, aead, hpke_aead_name(aead));
  }
  tb_printf(&tb, "], maximum_name_length %u, public_name ",
            c.maximum_name_length);
  /* The name as it is, with anything outside printable ASCII escaped. */
  for (size_t i = 0; i < cur_len(&c.public_name); i++) {
    uint8_t ch = cur_data(&c.public_name)[i];
    if (ch >= 0x21 && ch < 0x7f && ch != '\\') {
      tb_putc(&tb, (char)ch);
    } else {
      tb_printf(&tb, "\\x%02x", ch);
    }
  }
  cursor exts = c.extensions;
  uint16_t type;
  cursor data;
  tb_puts(&tb, cur_done(&exts) ? ", no extensions" : ", extensions");
  for (bool first = true; cur_u16(&exts, &type) && cur_prefixed16(&exts, &data);
       first = false) {
    tb_printf(&tb, "%s 0x%04x%s", first ? "" : ",", type,
              (type & ECH_EXT_MANDATORY) != 0 ? " (mandatory)" : "");
  }
  if (c.usable) {
    tb_puts(&tb, ": usable");
  } else {
    tb_printf(&tb, ": not usable: %s", c.unusable);
  }
  return tb.len;
}
