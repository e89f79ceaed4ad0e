/* moat's own ML-KEM-768, one operation at a time, for the kem.mlkem768.*
 * figures and the hybrid floors: KeyGen from a fresh seed, Encaps to a
 * fixed key with a fresh m, Decaps of a fixed ciphertext.  The code the
 * TLS hybrids run (the best implementation for this CPU). */
#include <string.h>

#include "bench.h"
#include "crypto/mlkem.h"

static mlkem768_key g_kgen, g_key;
static uint8_t g_ek[MLKEM768_EK_LEN], g_ct[MLKEM768_CT_LEN];
static uint8_t g_seed[MLKEM_SEED_LEN], g_m[MLKEM_MSG_LEN];
static bool g_ready;

static void bump(uint8_t *b, size_t n) {
  for (size_t i = 0; i < n && ++b[i] == 0; i++) {
  }
}

bool bench_kem_op(int op) {
  uint8_t ek[MLKEM768_EK_LEN], ct[MLKEM768_CT_LEN], ss[MLKEM_SS_LEN];
  if (!g_ready) {
    memset(g_seed, 0x3c, sizeof(g_seed));
    g_ready = mlkem768_keygen(NULL, g_seed, &g_key, g_ek) &&
              mlkem768_encaps(NULL, g_ek, sizeof(g_ek), g_m, g_ct, ss);
    if (!g_ready)
      return false;
  }
  switch (op) {
  case KEM_KEYGEN:
    bump(g_seed, sizeof(g_seed));
    return mlkem768_keygen(NULL, g_seed, &g_kgen, ek);
  case KEM_ENCAPS:
    bump(g_m, sizeof(g_m));
    return mlkem768_encaps(NULL, g_ek, sizeof(g_ek), g_m, ct, ss);
  case KEM_DECAPS:
    return mlkem768_decaps(NULL, &g_key, g_ct, sizeof(g_ct), ss);
  default:
    return false;
  }
}

const char *bench_kem_impl(void) {
  return mlkem_ops_best()->name;
}
