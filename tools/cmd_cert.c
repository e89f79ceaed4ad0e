/* moat cert show FILE: print certificates readably. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "tools.h"
#include "util.h"
#include "x509/cert.h"
#include "x509/der.h"
#include "x509/x509.h"

static void print_eku(const x509_cert *c) {
  cursor e = c->eku, oid;
  printf("  extended key usage:");
  while (der_read_oid(&e, &oid)) {
    char text[64];
    if (OID_IS(&oid, OID_EKU_SERVER)) {
      printf(" serverAuth");
    } else if (OID_IS(&oid, OID_EKU_CLIENT)) {
      printf(" clientAuth");
    } else if (OID_IS(&oid, OID_EKU_ANY)) {
      printf(" anyExtendedKeyUsage");
    } else {
      der_oid_text(&oid, text, sizeof(text));
      printf(" %s", text);
    }
  }
  printf("%s\n", (c->critical & EXT_EKU) ? " (critical)" : "");
}

static void print_ku(uint16_t ku, bool critical) {
  static const char *const names[] = {
      "digitalSignature", "nonRepudiation", "keyEncipherment",
      "dataEncipherment", "keyAgreement",   "keyCertSign",
      "cRLSign",          "encipherOnly",   "decipherOnly"};
  printf("  key usage:");
  for (int i = 0; i < 9; i++) {
    if (ku & (1u << i)) {
      printf(" %s", names[i]);
    }
  }
  printf("%s\n", critical ? " (critical)" : "");
}

/* Prints one certificate; false when it cannot be parsed. */
static bool show_one(const char *path, const uint8_t *der, size_t len,
                     int index) {
  moat_cert *mc = NULL;
  x509_cert c;
  char detail[256] = "", buf[1024], t1[40], t2[40];
  if (x509_cert_parse(&c, der, len, detail, sizeof(detail)) != MOAT_OK ||
      moat_cert_from_der(der, len, &mc) != MOAT_OK) {
    fprintf(stderr, "moat cert: %s: certificate %d: cannot parse: %s\n", path,
            index, detail[0] ? detail : "not an X.509 certificate");
    moat_cert_free(mc);
    return false;
  }
  printf("certificate %d:\n", index);
  printf("  version: %d\n", c.version);
  moat_cert_serial_hex(mc, buf, sizeof(buf));
  printf("  serial: %s\n", buf);
  moat_cert_subject(mc, buf, sizeof(buf));
  printf("  subject: %s\n", buf);
  moat_cert_issuer(mc, buf, sizeof(buf));
  printf("  issuer: %s\n", buf);
  der_time_text(c.not_before, t1, sizeof(t1));
  der_time_text(c.not_after, t2, sizeof(t2));
  printf("  validity: %s to %s\n", t1, t2);
  printf("  key: %s %d bits\n", moat_cert_key_type(mc), moat_cert_key_bits(mc));
  moat_cert_signature_name(mc, buf, sizeof(buf));
  printf("  signature: %s\n", buf);
  if (c.exts & EXT_BC) {
    printf("  basic constraints: CA:%s", c.ca ? "TRUE" : "FALSE");
    if (c.path_len >= 0) {
      printf(", pathlen:%d", c.path_len);
    }
    printf("%s\n", (c.critical & EXT_BC) ? " (critical)" : "");
  }
  if (c.exts & EXT_KU) {
    print_ku(c.key_usage, (c.critical & EXT_KU) != 0);
  }
  if (c.exts & EXT_EKU) {
    print_eku(&c);
  }
  size_t nsan = moat_cert_num_san(mc);
  for (size_t i = 0; i < nsan; i++) {
    moat_cert_san(mc, i, buf, sizeof(buf));
    printf("  subject alt name: %s\n", buf);
  }
  if (c.exts & EXT_NC) {
    printf("  name constraints:%s%s\n", c.has_permitted ? " permitted" : "",
           c.has_excluded ? " excluded" : "");
  }
  if (c.exts & EXT_SKI) {
    text_buf tb;
    tb_init(&tb, buf, sizeof(buf));
    tb_hex(&tb, cur_data(&c.ski), cur_len(&c.ski), ':');
    printf("  subject key id: %s\n", buf);
  }
  if ((c.exts & EXT_AKI) && !cur_done(&c.aki)) {
    text_buf tb;
    tb_init(&tb, buf, sizeof(buf));
    tb_hex(&tb, cur_data(&c.aki), cur_len(&c.aki), ':');
    printf("  authority key id: %s\n", buf);
  }
  /* Extensions moat does not decode are listed, not left out. */
  for (size_t i = 0; i < moat_cert_num_extensions(mc); i++) {
    const char *name = NULL;
    bool critical = false;
    if (moat_cert_extension_at(mc, i, buf, sizeof(buf), &name, &critical) ==
            MOAT_OK &&
        name == NULL) {
      printf("  extension %s: not decoded%s\n", buf,
             critical ? " (critical)" : "");
    }
  }
  uint8_t fp[32];
  if (moat_cert_fingerprint_sha256(mc, fp) == MOAT_OK) {
    text_buf tb;
    tb_init(&tb, buf, sizeof(buf));
    tb_hex(&tb, fp, sizeof(fp), ':');
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
