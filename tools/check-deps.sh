#!/bin/sh
# Checks that the packages the build needs are present and says which
# Debian package to install when one is missing.
missing=""
command -v cmake >/dev/null 2>&1 || missing="$missing cmake"
command -v cc >/dev/null 2>&1 || missing="$missing build-essential"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
[ -f /usr/include/openssl/evp.h ] || [ -f /usr/local/include/openssl/evp.h ] || missing="$missing libssl-dev"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v xz >/dev/null 2>&1 || missing="$missing xz-utils"
# valgrind/memcheck.h: the ML-KEM constant-time test (ct.mlkem)
[ -f /usr/include/valgrind/memcheck.h ] || missing="$missing valgrind"
# Certificate compression (RFC 8879): moat builds without an algorithm
# whose library is missing, and says so here and when CMake configures.
for lib in zlib:zlib1g-dev libbrotlienc:libbrotli-dev libbrotlidec:libbrotli-dev libzstd:libzstd-dev; do
  if command -v pkg-config >/dev/null 2>&1; then
    pkg-config --exists "${lib%%:*}" ||
      echo "note: ${lib%%:*} is missing (apt-get install ${lib#*:}); moat will be built without that certificate compression algorithm"
  fi
done
command -v pkg-config >/dev/null 2>&1 ||
  echo "note: pkg-config is missing (apt-get install pkg-config); moat will be built without certificate compression"
# Interop peers the suite skips without (each case says so): say it here.
for tool in gnutls-cli:gnutls-bin curl:curl tshark:tshark; do
  command -v "${tool%%:*}" >/dev/null 2>&1 ||
    echo "note: ${tool%%:*} is missing (apt-get install ${tool#*:}); the interop cases that use it will skip"
done
if [ -n "$missing" ]; then
  echo "moat needs these Debian packages:$missing"
  echo "install them with: apt-get install -y$missing"
  exit 1
fi
exit 0
