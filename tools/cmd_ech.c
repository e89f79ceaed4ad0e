/* moat ech keygen | show: Encrypted Client Hello key files (RFC 9849),
 * in the PEM layout OpenSSL 4.0's `openssl ech` writes and reads, through
 * the public moat_ech_keys calls. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moat.h"
#include "tools.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: moat ech keygen --public-name NAME [--config-id N]\n"
          "                       [--max-name-len N] [--out FILE] [--force]\n"
          "       moat ech show FILE\n"
          "keygen makes an X25519 ECH key and an ECHConfigList for it, writes\n"
          "both to FILE (default echconfig.pem, mode 0600; --force "
          "overwrites)\n"
          "and prints the ECHConfigList in base64 on stdout.  show prints "
          "the\n"
          "configs of a key file (moat's or openssl ech's).\n");
}

__attribute__((format(printf, 1, 2))) static int bad_usage(const char *fmt,
                                                           ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "moat ech: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  usage(stderr);
  return 2;
}

static bool is_help(const char *a) {
  return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/* A decimal or 0x number in [0, 255]. */
static bool parse_byte(const char *s, int *out) {
  char *end;
  long v = strtol(s, &end, 0);
  if (*s == '\0' || *end != '\0' || v < 0 || v > 255) {
    return false;
  }
  *out = (int)v;
  return true;
}

/* The base64 list on stdout, then one line per config on stderr. */
static int print_keys(const moat_ech_keys *keys, FILE *describe) {
  size_t n = moat_ech_keys_config_list_base64(keys, NULL, 0);
  char *b64 = malloc(n + 1);
  if (b64 == NULL) {
    fprintf(stderr, "moat ech: out of memory\n");
    return 1;
  }
  moat_ech_keys_config_list_base64(keys, b64, n + 1);
  for (size_t i = 0; i < moat_ech_keys_num_configs(keys); i++) {
    char line[1024];
    moat_ech_keys_config_text(keys, i, line, sizeof(line));
    fprintf(describe, "config %zu: %s\n", i, line);
  }
  printf("%s\n", b64);
  free(b64);
  return 0;
}

static int keygen(int argc, char **argv) {
  const char *name = NULL, *out = "echconfig.pem";
  int config_id = -1, max_name_len = 0;
  bool force = false;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (is_help(a)) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "--force") == 0) {
      force = true;
      continue;
    }
    if (strcmp(a, "--public-name") != 0 && strcmp(a, "--config-id") != 0 &&
        strcmp(a, "--max-name-len") != 0 && strcmp(a, "--out") != 0) {
      return bad_usage("unknown option '%s'", a);
    }
    if (val == NULL) {
      return bad_usage("%s needs a value", a);
    }
    i++;
    if (strcmp(a, "--public-name") == 0) {
      name = val;
    } else if (strcmp(a, "--out") == 0) {
      out = val;
    } else if (!parse_byte(val, strcmp(a, "--config-id") == 0
                                    ? &config_id
                                    : &max_name_len)) {
      return bad_usage("bad %s '%s' (0 to 255)", a, val);
    }
  }
  if (name == NULL) {
    return bad_usage("keygen needs --public-name NAME");
  }
  moat_ech_keys *keys = NULL;
  char detail[256] = "";
  moat_err err = moat_ech_keys_generate(name, config_id, max_name_len, &keys,
                                        detail, sizeof(detail));
  if (err == MOAT_OK) {
    err = moat_ech_keys_write(keys, out, force, detail, sizeof(detail));
    if (err == MOAT_ERR_FILE_ERROR && !force) {
      strncat(detail, " (--force overwrites)",
              sizeof(detail) - strlen(detail) - 1);
    }
  }
  if (err != MOAT_OK) {
    fprintf(stderr, "moat ech keygen: %s: %s\n", moat_err_name(err),
            detail[0] ? detail : moat_err_message(err));
    moat_ech_keys_free(keys);
    return 1;
  }
  fprintf(stderr, "wrote %s (private key and ECHConfigList)\n", out);
  int rc = print_keys(keys, stderr);
  moat_ech_keys_free(keys);
  return rc;
}

static int show(const char *path) {
  moat_ech_keys *keys = NULL;
  char detail[256] = "";
  moat_err err = moat_ech_keys_load(path, &keys, detail, sizeof(detail));
  if (err != MOAT_OK) {
    fprintf(stderr, "moat ech show: %s: %s\n", moat_err_name(err),
            detail[0] ? detail : moat_err_message(err));
    return 1;
  }
  printf("%s: %s, %zu config%s\n", path,
         moat_ech_keys_has_private_key(keys) ? "private key (X25519)"
                                             : "no private key",
         moat_ech_keys_num_configs(keys),
         moat_ech_keys_num_configs(keys) == 1 ? "" : "s");
  int rc = print_keys(keys, stdout);
  moat_ech_keys_free(keys);
  return rc;
}

int cmd_ech(int argc, char **argv) {
  if (argc < 2 || is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "keygen") == 0) {
    return keygen(argc, argv);
  }
  if (strcmp(argv[1], "show") == 0) {
    if (argc == 3 && is_help(argv[2])) {
      usage(stdout);
      return 0;
    }
    if (argc != 3) {
      return bad_usage("show takes one FILE");
    }
    return show(argv[2]);
  }
  return bad_usage("unknown ech command '%s' (keygen or show)", argv[1]);
}
