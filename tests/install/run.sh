#!/bin/sh
# tests/install/run.sh BUILD_DIR CC: `cmake --install` BUILD_DIR into a
# temporary prefix, build a program with `pkg-config --cflags --libs moat`
# from there, and run it and the installed moat command with no
# LD_LIBRARY_PATH.  Prints "install: ok".
set -e
build=$1
cc=${2:-cc}
tmp=$(mktemp -d /tmp/moat-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pcdir=$(dirname "$(find "$tmp/prefix" -name moat.pc | head -n 1)")
cat > "$tmp/hello.c" <<'C'
#include <moat.h>
#include <stdio.h>
int main(void) {
  moat_context *ctx = moat_context_new(MOAT_ROLE_CLIENT);
  printf("%s\n", ctx != NULL ? "linked" : "no context");
  moat_context_free(ctx);
  return ctx != NULL ? 0 : 1;
}
C
"$cc" -o "$tmp/hello" "$tmp/hello.c" \
  $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs moat)
unset LD_LIBRARY_PATH
# The program uses the shared library of the prefix (not one elsewhere).
lib=$(ldd "$tmp/hello" | sed -n 's/.*libmoat\.so[^ ]* => \([^ ]*\).*/\1/p')
case "$lib" in
"$tmp"/prefix/*) ;;
*) echo "install: hello resolves libmoat to '$lib', not the prefix"; exit 1 ;;
esac
"$tmp/hello"
"$tmp/prefix/bin/moat" --version
# The library's and the command's own runpath point into the prefix too.
readelf -d "$tmp/prefix/bin/moat" | grep -q 'RUNPATH.*\$ORIGIN' || {
  echo "install: the moat command has no \$ORIGIN runpath"; exit 1; }
echo "install: ok"
