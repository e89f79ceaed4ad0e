/* ML-KEM's polynomial arithmetic in portable C (FIPS 203 4.3): the NTT,
 * its inverse and the products in the NTT domain, over Montgomery
 * (R = 2^16) and Barrett reductions.  Nothing depends on a coefficient's
 * value except arithmetic. */
#include "crypto/mlkem.h"

/* 17^bitrev7(i) mod q in Montgomery form, centred. */
const int16_t mlkem_zetas[128] = {
    -1044, -758,  -359,  -1517, 1493,  1422,  287,   202,  -171,  622,   1577,
    182,   962,   -1202, -1474, 1468,  573,   -1325, 264,  383,   -829,  1458,
    -1602, -130,  -681,  1017,  732,   608,   -1542, 411,  -205,  -1571, 1223,
    652,   -552,  1015,  -1293, 1491,  -282,  -1544, 516,  -8,    -320,  -666,
    -1618, -1162, 126,   1469,  -853,  -90,   -271,  830,  107,   -1421, -247,
    -951,  -398,  961,   -1508, -725,  448,   -1065, 677,  -1275, -1103, 430,
    555,   843,   -1251, 871,   1550,  105,   422,   587,  177,   -235,  -291,
    -460,  1574,  1653,  -246,  778,   1159,  -147,  -777, 1483,  -602,  1119,
    -1590, 644,   -872,  349,   418,   329,   -156,  -75,  817,   1097,  603,
    610,   1322,  -1285, -1465, 384,   -1215, -136,  1218, -1335, -874,  220,
    -1187, -1659, -1185, -1530, -1278, 794,   -1510, -854, -870,  478,   -108,
    -308,  996,   991,   958,   -1460, 1522,  1628,
};

/* FIPS 203 Algorithm 9.  Each layer adds less than q to a coefficient's
 * magnitude: seven layers over |x| <= 2q stay below 9q < 2^15. */
static void ntt_portable(int16_t p[MLKEM_N]) {
  size_t k = 1;
  for (size_t len = 128; len >= 2; len >>= 1) {
    for (size_t start = 0; start < MLKEM_N; start += 2 * len) {
      int16_t zeta = mlkem_zetas[k++];
      for (size_t j = start; j < start + len; j++) {
        int16_t t = mlkem_fqmul(zeta, p[j + len]);
        p[j + len] = (int16_t)(p[j] - t);
        p[j] = (int16_t)(p[j] + t);
      }
    }
  }
  for (size_t i = 0; i < MLKEM_N; i++) {
    p[i] = mlkem_barrett(p[i]);
  }
}

/* FIPS 203 Algorithm 10, the sums reduced at every layer.  The last step
 * multiplies by 1441 = R^2 / 128 mod q: the 1/128 of the algorithm and
 * the R that cancels the products' R^-1. */
static void invntt_portable(int16_t p[MLKEM_N]) {
  size_t k = 127;
  for (size_t len = 2; len <= 128; len <<= 1) {
    for (size_t start = 0; start < MLKEM_N; start += 2 * len) {
      int16_t zeta = mlkem_zetas[k--];
      for (size_t j = start; j < start + len; j++) {
        int16_t t = p[j];
        p[j] = mlkem_barrett((int16_t)(t + p[j + len]));
        p[j + len] = mlkem_fqmul(zeta, (int16_t)(p[j + len] - t));
      }
    }
  }
  for (size_t i = 0; i < MLKEM_N; i++) {
    p[i] = mlkem_fqmul(p[i], 1441);
  }
}

/* FIPS 203 Algorithms 11 and 12: pair i is a degree-one product modulo
 * X^2 - gamma with gamma = 17^(2 bitrev7(i) + 1), which is zetas[64 + i/2]
 * for even i and its negation for odd i. */
static void basemul_acc_portable(int16_t r[MLKEM_N], const int16_t *a,
                                 const int16_t *b, size_t k) {
  for (size_t i = 0; i < MLKEM_N / 2; i++) {
    int16_t gamma = mlkem_zetas[64 + i / 2];
    if (i & 1) {
      gamma = (int16_t)-gamma;
    }
    int16_t c0 = 0, c1 = 0;
    for (size_t v = 0; v < k; v++) {
      const int16_t *x = a + v * MLKEM_N + 2 * i;
      const int16_t *y = b + v * MLKEM_N + 2 * i;
      c0 = (int16_t)(c0 + mlkem_fqmul(x[0], y[0]) +
                     mlkem_fqmul(mlkem_fqmul(x[1], y[1]), gamma));
      c1 = (int16_t)(c1 + mlkem_fqmul(x[0], y[1]) + mlkem_fqmul(x[1], y[0]));
    }
    r[2 * i] = mlkem_barrett(c0);
    r[2 * i + 1] = mlkem_barrett(c1);
  }
}

static const mlkem_ops k_portable = {"portable", ntt_portable, invntt_portable,
                                     basemul_acc_portable};

const mlkem_ops *mlkem_ops_portable(void) {
  return &k_portable;
}
