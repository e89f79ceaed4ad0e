/* moat cert show FILE: print certificates readably, through the public
 * certificate API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moat.h"
#include "tools.h"
#include "util.h"

static void time_text(int64_t t, char *out, size_t cap) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL ||
      strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
    snprintf(out, cap, "%lld", (long long)t);
  }
}

/* Readable labels for the extensions moat decodes. */
static const char *ext_label(const char *name) {
  static const char *const map[][2] = {
      {"basicConstraints", "basic constraints"},
      {"keyUsage", "key usage"},
      {"extKeyUsage", "extended key usage"},
      {"nameConstraints", "name constraints"},
      {"subjectKeyIdentifier", "subject key id"},
      {"authorityKeyIdentifier", "authority key id"},
  };
  for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
    if (strcmp(map[i][0], name) == 0) {
      return map[i][1];
    }
  }
  return NULL;
}

/* The extensions: those with a text value, then those moat does not
 * decode at all (listed, not left out). */
static void show_extensions(const moat_cert *mc) {
  char oid[128], text[1024];
  size_t n = moat_cert_num_extensions(mc);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < n; i++) {
      const char *name = NULL;
      bool critical = false;
      if (moat_cert_extension_at(mc, i, oid, sizeof(oid), &name, &critical) !=
          MOAT_OK) {
        continue;
      }
      const char *label = name != NULL ? ext_label(name) : NULL;
      if (pass == 0 && label != NULL) {
        moat_cert_extension_text(mc, i, text, sizeof(text));
        printf("  %s: %s%s\n", label, text, critical ? " (critical)" : "");
      } else if (pass == 1 && name == NULL) {
        printf("  extension %s: not decoded%s\n", oid,
               critical ? " (critical)" : "");
      }
    }
  }
}

/* Prints one certificate; false when it cannot be parsed. */
static bool show_one(const char *path, const uint8_t *der, size_t len,
                     int index) {
  moat_cert *mc = NULL;
  char detail[256] = "", buf[1024], t1[40], t2[40];
  if (moat_cert_check_der(der, len, detail, sizeof(detail)) != MOAT_OK ||
      moat_cert_from_der(der, len, &mc) != MOAT_OK) {
    fprintf(stderr, "moat cert: %s: certificate %d: cannot parse: %s\n", path,
            index, detail[0] ? detail : "not an X.509 certificate");
    moat_cert_free(mc);
    return false;
  }
  printf("certificate %d:\n", index);
  printf("  version: %d\n", moat_cert_version(mc));
  moat_cert_serial_hex(mc, buf, sizeof(buf));
  printf("  serial: %s\n", buf);
  moat_cert_subject(mc, buf, sizeof(buf));
  printf("  subject: %s\n", buf);
  moat_cert_issuer(mc, buf, sizeof(buf));
  printf("  issuer: %s\n", buf);
  time_text(moat_cert_not_before(mc), t1, sizeof(t1));
  time_text(moat_cert_not_after(mc), t2, sizeof(t2));
  printf("  validity: %s to %s\n", t1, t2);
  printf("  key: %s %d bits\n", moat_cert_key_type(mc), moat_cert_key_bits(mc));
  moat_cert_signature_name(mc, buf, sizeof(buf));
  printf("  signature: %s\n", buf);
  size_t nsan = moat_cert_num_san(mc);
  for (size_t i = 0; i < nsan; i++) {
    moat_cert_san(mc, i, buf, sizeof(buf));
    printf("  subject alt name: %s\n", buf);
  }
  show_extensions(mc);
  uint8_t fp[32];
  if (moat_cert_fingerprint_sha256(mc, fp) == MOAT_OK) {
    size_t off = 0;
    for (size_t i = 0; i < sizeof(fp) && off + 4 < sizeof(buf); i++) {
      off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%02X",
                              i ? ":" : "", fp[i]);
    }
    printf("  SHA-256 fingerprint: %s\n", buf);
  }
  moat_cert_free(mc);
  return true;
}

struct shown {
  const char *path;
  int count;
  bool bad; /* a certificate could not be parsed */
};

static bool show_next(void *arg, uint8_t *der, size_t len) {
  struct shown *sh = arg;
  sh->bad |= !show_one(sh->path, der, len, sh->count++);
  free(der);
  return true;
}

static void cert_usage(FILE *f) {
  fprintf(f, "usage: moat cert show FILE\n"
             "\n"
             "Prints each certificate in FILE (a PEM bundle, or one DER "
             "certificate).\n");
}

static bool is_help(const char *a) {
  return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

int cmd_cert(int argc, char **argv) {
  if ((argc == 2 && is_help(argv[1])) ||
      (argc == 3 && strcmp(argv[1], "show") == 0 && is_help(argv[2]))) {
    cert_usage(stdout);
    return 0;
  }
  if (argc != 3 || strcmp(argv[1], "show") != 0) {
    cert_usage(stderr);
    return 2;
  }
  struct shown sh = {argv[2], 0, false};
  return util_each_cert("cert", argv[2], show_next, &sh) && !sh.bad ? 0 : 1;
}
