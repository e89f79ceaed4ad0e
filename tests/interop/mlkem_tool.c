/* ML-KEM-768 on the command line, for the cross-check against Node.js's
 * (OpenSSL 3.5's) ML-KEM in tests/interop/node_pq.py.  One request per
 * line on stdin, one answer per line on stdout, everything in hex:
 *   keygen SEED        -> EK            (SEED = d || z)
 *   encaps EK M        -> CT SS         ("refused" when EK fails 7.2)
 *   decaps SEED CT     -> SS
 * Every request runs through each implementation this CPU has; they must
 * agree, or the answer is "mismatch". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mlkem.h"

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  unsigned v;
  while (s[0] && s[1] && n < cap && sscanf(s, "%2x", &v) == 1) {
    out[n++] = (uint8_t)v;
    s += 2;
  }
  return n;
}

static void put_hex(const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    printf("%02x", b[i]);
  }
}

static const mlkem_ops *impls[4];
static size_t num_impls;
static mlkem768_key key;

static void keygen(const char *seed_hex) {
  uint8_t seed[MLKEM_SEED_LEN], ek[2][MLKEM768_EK_LEN];
  if (unhex(seed_hex, seed, sizeof(seed)) != sizeof(seed)) {
    puts("bad-input");
    return;
  }
  for (size_t i = 0; i < num_impls; i++) {
    if (!mlkem768_keygen(impls[i], seed, &key, ek[i != 0])) {
      puts("failed");
      return;
    }
    if (i > 0 && memcmp(ek[0], ek[1], sizeof(ek[0])) != 0) {
      puts("mismatch");
      return;
    }
  }
  put_hex(ek[0], sizeof(ek[0]));
  putchar('\n');
}

static void encaps(const char *ek_hex, const char *m_hex) {
  static uint8_t ek[MLKEM768_EK_LEN + 1];
  uint8_t m[MLKEM_MSG_LEN], ct[2][MLKEM768_CT_LEN], ss[2][MLKEM_SS_LEN];
  size_t ek_len = unhex(ek_hex, ek, sizeof(ek));
  if (unhex(m_hex, m, sizeof(m)) != sizeof(m)) {
    puts("bad-input");
    return;
  }
  for (size_t i = 0; i < num_impls; i++) {
    if (!mlkem768_encaps(impls[i], ek, ek_len, m, ct[i != 0], ss[i != 0])) {
      puts("refused");
      return;
    }
    if (i > 0 && (memcmp(ct[0], ct[1], sizeof(ct[0])) != 0 ||
                  memcmp(ss[0], ss[1], sizeof(ss[0])) != 0)) {
      puts("mismatch");
      return;
    }
  }
  put_hex(ct[0], sizeof(ct[0]));
  putchar(' ');
  put_hex(ss[0], sizeof(ss[0]));
  putchar('\n');
}

static void decaps(const char *seed_hex, const char *ct_hex) {
  static uint8_t ct[MLKEM768_CT_LEN + 1];
  uint8_t seed[MLKEM_SEED_LEN], ek[MLKEM768_EK_LEN], ss[2][MLKEM_SS_LEN];
  size_t ct_len = unhex(ct_hex, ct, sizeof(ct));
  if (unhex(seed_hex, seed, sizeof(seed)) != sizeof(seed)) {
    puts("bad-input");
    return;
  }
  for (size_t i = 0; i < num_impls; i++) {
    if (!mlkem768_keygen(impls[i], seed, &key, ek) ||
        !mlkem768_decaps(impls[i], &key, ct, ct_len, ss[i != 0])) {
      puts("refused");
      return;
    }
    if (i > 0 && memcmp(ss[0], ss[1], sizeof(ss[0])) != 0) {
      puts("mismatch");
      return;
    }
  }
  put_hex(ss[0], sizeof(ss[0]));
  putchar('\n');
}

int main(void) {
  impls[num_impls++] = mlkem_ops_portable();
  if (mlkem_ops_best() != mlkem_ops_portable()) {
    impls[num_impls++] = mlkem_ops_best();
  }
  static char line[8192];
  while (fgets(line, sizeof(line), stdin) != NULL) {
    char *save = NULL;
    char *cmd = strtok_r(line, " \n", &save);
    char *a = strtok_r(NULL, " \n", &save);
    char *b = strtok_r(NULL, " \n", &save);
    if (cmd == NULL || a == NULL) {
      puts("bad-input");
    } else if (strcmp(cmd, "keygen") == 0) {
      keygen(a);
    } else if (strcmp(cmd, "encaps") == 0 && b != NULL) {
      encaps(a, b);
    } else if (strcmp(cmd, "decaps") == 0 && b != NULL) {
      decaps(a, b);
    } else {
      puts("bad-input");
    }
    fflush(stdout);
  }
  mlkem768_key_wipe(&key);
  return 0;
}
