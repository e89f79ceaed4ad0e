/* The ECHConfigList codec (RFC 9849 4) and the ECH key file reader.
 * data[0] even: the rest is an ECHConfigList; every version 0xfe0d config
 * that parses is built again from its fields and must come out as the
 * same bytes (when the builder takes its public name).  data[0] odd: the
 * rest is the text of an ECH key file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "tls/ech_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rebuild(const ech_config *c) {
  size_t num_suites = cur_len(&c->cipher_suites) / 4;
  hpke_suite *suites = moat_calloc(num_suites, sizeof(*suites));
  char name[256];
  if (suites == NULL) {
    abort();
  }
  cursor s = c->cipher_suites;
  for (size_t i = 0; i < num_suites; i++) {
    if (!cur_u16(&s, &suites[i].kdf_id) || !cur_u16(&s, &suites[i].aead_id)) {
      abort();
    }
  }
  memcpy(name, cur_data(&c->public_name), cur_len(&c->public_name));
  name[cur_len(&c->public_name)] = '\0';
  ech_config_params p = {c->config_id,
                         c->kem_id,
                         cur_data(&c->public_key),
                         cur_len(&c->public_key),
                         suites,
                         num_suites,
                         c->maximum_name_length,
                         name,
                         cur_data(&c->extensions),
                         cur_len(&c->extensions)};
  builder b;
  tls_cause why;
  if (!bld_init_alloc(&b, cur_len(&c->raw))) {
    abort();
  }
  /* A name with a NUL in it reads shorter through the C string. */
  bool whole_name = strlen(name) == cur_len(&c->public_name);
  moat_err err = ech_config_build(&b, &p, &why);
  /* What the parser calls usable, the builder must take. */
  if (c->usable && (err != MOAT_OK || !whole_name)) {
    fprintf(stderr, "usable ECHConfig %u refused by the builder: %s\n",
            c->config_id, why.detail);
    abort();
  }
  if (err == MOAT_OK && whole_name &&
      (bld_len(&b) != cur_len(&c->raw) ||
       memcmp(bld_data(&b), cur_data(&c->raw), bld_len(&b)) != 0)) {
    fprintf(stderr, "ECHConfig %u does not build back to its bytes\n",
            c->config_id);
    abort();
  }
  bld_cleanup(&b);
  moat_free(suites);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) {
    return 0;
  }
  if ((data[0] & 1) != 0) {
    ech_key_file f;
    char detail[256];
    if (ech_key_file_parse(data + 1, size - 1, &f, detail, sizeof(detail)) ==
        MOAT_OK) {
      size_t num, usable;
      tls_cause why;
      if (ech_config_list_parse(f.config_list, f.config_list_len, &num, &usable,
                                NULL, &why) != MOAT_OK) {
        abort(); /* the reader checked it */
      }
      ech_key_file_clear(&f);
    }
    return 0;
  }
  cursor configs;
  tls_cause why;
  if (ech_config_list_open(cur_make(data + 1, size - 1), &configs, &why) !=
      MOAT_OK) {
    return 0;
  }
  while (!cur_done(&configs)) {
    ech_config c;
    if (ech_config_next(&configs, &c, &why) != MOAT_OK) {
      break;
    }
    if (c.version == ECH_CONFIG_VERSION) {
      rebuild(&c);
    }
  }
  size_t num, usable;
  (void)ech_config_list_parse(data + 1, size - 1, &num, &usable, NULL, &why);
  return 0;
}
