#!/bin/sh
# Instruction counts of one full and one resumed TLS 1.3 handshake (X25519,
# ECDSA P-256, client and server together) for each library, split into
# "public-key and AEAD math" and "everything else".
#
#   sh bench/instructions.sh BUILD_DIR
#
# callgrind collects only inside bench_measured(), which moat-bench --one
# calls once after warm-up handshakes.  The math share is the sum of the
# inclusive counts of these entry points, chosen so that none calls another:
#   libcrypto (OpenSSL, moat): EVP_PKEY_generate and
#     EVP_PKEY_new_raw_private_key_ex (key shares), EVP_PKEY_derive
#     (ECDH), ECDSA_do_sign_ex / ECDSA_do_verify, RSA_private_encrypt /
#     RSA_public_decrypt, EVP_EncryptUpdate / EVP_DecryptUpdate /
#     EVP_EncryptFinal_ex / EVP_DecryptFinal_ex (AEAD);
#   nettle (GnuTLS): nettle_curve25519_mul(_g), nettle_ecc_point_mul(_g),
#     nettle_ecdsa_sign / _verify / _generate_keypair, the nettle RSA and
#     GCM / ChaCha-Poly1305 calls.
set -eu
BUILD=${1:-build-bench}
BIN=$BUILD/bench/moat-bench
OUT=$BUILD/callgrind
if ! command -v valgrind >/dev/null 2>&1; then
  echo "bench-instructions needs valgrind: apt-get install valgrind" >&2
  exit 1
fi
[ -x "$BIN" ] || { echo "no $BIN: run make bench-instructions" >&2; exit 1; }
mkdir -p "$OUT"

ROOTS='EVP_PKEY_generate|EVP_PKEY_new_raw_private_key_ex|EVP_PKEY_derive|ECDSA_do_sign_ex|ECDSA_do_verify|RSA_private_encrypt|RSA_public_decrypt|EVP_EncryptUpdate|EVP_DecryptUpdate|EVP_EncryptFinal_ex|EVP_DecryptFinal_ex|nettle_curve25519_mul|nettle_curve25519_mul_g|nettle_ecc_point_mul|nettle_ecc_point_mul_g|nettle_ecdsa_sign|nettle_ecdsa_verify|nettle_ecdsa_generate_keypair|nettle_rsa_[a-z0-9_]*|nettle_gcm_[a-z0-9_]*|nettle_chacha_poly1305_[a-z0-9_]*'

printf '%-8s %-7s %14s %14s %14s %6s\n' library kind total math other "math%"
for lib in moat openssl gnutls; do
  for kind in full resume; do
    f=$OUT/$lib.$kind.out
    if ! valgrind --tool=callgrind --callgrind-out-file="$f" \
        --collect-atstart=no --toggle-collect=bench_measured \
        "$BIN" --one "$kind" --lib "$lib" >"$OUT/$lib.$kind.log" 2>&1; then
      printf '%-8s %-7s %14s\n' "$lib" "$kind" "failed (see $OUT/$lib.$kind.log)"
      continue
    fi
    callgrind_annotate --inclusive=yes --threshold=100 "$f" \
      >"$OUT/$lib.$kind.txt" 2>/dev/null || true
    # Lines look like "123,456 (12.34%)  file:function [object]".
    awk -v roots="^($ROOTS)\$" -v lib="$lib" -v kind="$kind" '
      /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
      /^ *[0-9,]+ / {
        n = $1; gsub(",", "", n)
        fn = ""
        for (i = 2; i <= NF; i++) if ($i ~ /:/) { fn = $i; break }
        sub(/^.*:/, "", fn)
        if (fn ~ roots) math += n
      }
      END {
        pct = total > 0 ? 100 * math / total : 0
        printf "%-8s %-7s %14d %14d %14d %5.1f%%\n", lib, kind, total, math,
               total - math, pct
      }' "$OUT/$lib.$kind.txt"
  done
done
echo
echo "Per-function inclusive counts: $OUT/<lib>.<kind>.txt"
