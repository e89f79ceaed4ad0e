/* ML-KEM-768 in constant time, checked by valgrind's memcheck: the
 * secrets (KeyGen's seed d || z, Encaps' m, the decapsulation key) are
 * marked undefined, so any branch or memory index that depends on them,
 * or on anything computed from them, is reported ("Conditional jump or
 * move depends on uninitialised value(s)"); the code declassifies only
 * what it publishes (rho, ek, the ciphertext).  KeyGen, Encaps, Decaps of
 * a valid ciphertext and Decaps of a changed one (the implicit-rejection
 * path) run through every implementation the CPU has.
 *
 * ctest runs it under valgrind as ct.mlkem (with --require-valgrind, so it
 * fails outside valgrind); as a plain unit test it checks only results. */
#include <string.h>
#include <valgrind/memcheck.h>

#include "crypto/mlkem.h"
#include "t.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static mlkem768_key key;

static void run(const mlkem_ops *ops) {
  uint8_t seed[MLKEM_SEED_LEN], m[MLKEM_MSG_LEN], ek[MLKEM768_EK_LEN];
  uint8_t ct[MLKEM768_CT_LEN], ss1[32], ss2[32], ss3[32];
  for (size_t i = 0; i < sizeof(seed); i++) {
    seed[i] = (uint8_t)(i * 31 + 7);
  }
  memset(m, 0xa5, sizeof(m));
  SECRET(seed, sizeof(seed));
  CHECK(mlkem768_keygen(ops, seed, &key, ek));
  SECRET(m, sizeof(m));
  CHECK(mlkem768_encaps(ops, ek, sizeof(ek), m, ct, ss1));
  /* The whole decapsulation key is secret from here. */
  SECRET(&key, sizeof(key));
  CHECK(mlkem768_decaps(ops, &key, ct, sizeof(ct), ss2));
  ct[100] ^= 1;
  CHECK(mlkem768_decaps(ops, &key, ct, sizeof(ct), ss3));
  /* The test's own comparisons look at the results. */
  PUBLIC(ss1, 32);
  PUBLIC(ss2, 32);
  PUBLIC(ss3, 32);
  CHECK_MEM(ss1, ss2, 32);
  CHECK(memcmp(ss1, ss3, 32) != 0);
}

int main(int argc, char **argv) {
  bool require = argc > 1 && strcmp(argv[1], "--require-valgrind") == 0;
  if (require) {
    CHECK(RUNNING_ON_VALGRIND);
  } else if (!RUNNING_ON_VALGRIND) {
    printf("test_mlkem_ct: not under valgrind: results only (ctest's "
           "ct.mlkem runs the timing check)\n");
  }
  run(mlkem_ops_portable());
  if (mlkem_ops_avx2() != NULL) {
    run(mlkem_ops_avx2());
  }
  return t_done("test_mlkem_ct");
}
