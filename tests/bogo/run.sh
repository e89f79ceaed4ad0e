#!/bin/sh
# Runs BoringSSL's TLS test suite (BoGo) against moat through the shim.
#
#   sh tests/bogo/run.sh BUILD_DIR
#
# Builds the runner from ../shared/bogo (offline, Debian's Go), runs every
# test with tests/bogo/config.json, and compares the results with
# tests/bogo/known-failures.txt: the step fails on any failure not listed
# there, and on a listed test that now passes (so the list only shrinks).
# Writes BUILD_DIR/bogo/results.json and prints the pass / fail / skip /
# disabled counts that docs/conformance.md records.
set -eu
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=${MOAT_SHARED:-$ROOT/../shared}
OUT=$(mkdir -p "$BUILD/bogo" && cd "$BUILD/bogo" && pwd)
SHIM=$(cd "$BUILD" && pwd)/tests/bogo/bogo_shim

if [ ! -f "$SHARED/bogo/build.sh" ]; then
	echo "bogo: the runner's source is missing: expected $SHARED/bogo (set MOAT_SHARED)" >&2
	exit 2
fi
if [ ! -x "$SHIM" ]; then
	echo "bogo: the shim is not built: $SHIM (make build)" >&2
	exit 2
fi
sh "$SHARED/bogo/build.sh" "$OUT/runner" >/dev/null

rm -rf "$OUT/tmp" && mkdir -p "$OUT/tmp"
start=$(date +%s)
set +e
TMPDIR="$OUT/tmp" "$OUT/runner/runner.test" -shim-path "$SHIM" \
	-shim-config "$HERE/config.json" -num-workers "${JOBS:-2}" \
	-allow-unimplemented -pipe -json-output "$OUT/results.json" \
	>"$OUT/runner.log" 2>&1
set -e
end=$(date +%s)
python3 "$HERE/check.py" "$OUT/results.json" "$HERE/known-failures.txt" \
	"$HERE/config.json" "$OUT/runner.log" "$((end - start))"
