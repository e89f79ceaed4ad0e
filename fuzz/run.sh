#!/bin/sh
# Runs every fuzz_* binary in a build directory over its seed corpus.
#   sh fuzz/run.sh BUILD_DIR [SECONDS] [--merge]
# Each target runs SECONDS seconds (default 10) over a scratch copy of
# fuzz/corpus/<target>/ (an empty one when there is none), so runs never
# write into the repository.  Prints "fuzz_x: N runs, ok" per target, or
# the reproducer of a crash, leak or timeout, then "fuzz: N passed, N
# failed"; exits 1 when any target failed.
# With --merge (make fuzz-long), the inputs a run found are merged back
# into fuzz/corpus/<target>/ when they add coverage (libFuzzer's -merge=1,
# which keeps the smallest input for each new feature), and the summary
# says how many were added.
set -u
build=${1:?usage: sh fuzz/run.sh BUILD_DIR [SECONDS] [--merge]}
secs=${2:-10}
merge=0
[ "${3:-}" = "--merge" ] && merge=1
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/moat-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
passed=0
failed=0
found=0
total_runs=0
total_added=0
for bin in "$build"/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  found=1
  name=$(basename "$bin")
  corpus="$scratch/$name/corpus"
  art="$scratch/$name/artifacts/"
  mkdir -p "$corpus" "$art"
  if [ -d "$here/corpus/$name" ]; then
    cp -R "$here/corpus/$name/." "$corpus/"
  fi
  # Larger inputs only where a whole flight or certificate chain matters.
  case $name in
    fuzz_client|fuzz_server|fuzz_record) maxlen=16384 ;;
    fuzz_privkey|fuzz_spki|fuzz_msg_certificate*) maxlen=8192 ;;
    *) maxlen=4096 ;;
  esac
  log="$scratch/$name/log"
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$maxlen" -artifact_prefix="$art" -print_final_stats=1 \
    "$corpus" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  repro=$(ls "$art" 2>/dev/null | head -1)
  total_runs=$((total_runs + ${runs:-0}))
  if [ $rc -eq 0 ] && [ -z "$repro" ]; then
    added=""
    if [ $merge -eq 1 ]; then
      dest="$here/corpus/$name"
      mkdir -p "$dest"
      before=$(ls "$dest" | wc -l)
      "$bin" -merge=1 -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
        "$dest" "$corpus" >"$scratch/$name/merge.log" 2>&1
      after=$(ls "$dest" | wc -l)
      total_added=$((total_added + after - before))
      added=", $((after - before)) new inputs merged into fuzz/corpus/$name"
    fi
    echo "$name: ${runs:-0} runs, ok$added"
    passed=$((passed + 1))
  else
    keep="${TMPDIR:-/tmp}/moat-fuzz-failures/$name"
    mkdir -p "$keep"
    [ -n "$repro" ] && cp "$art/$repro" "$keep/"
    cp "$log" "$keep/log"
    grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error)" "$log" | head -3
    if [ -n "$repro" ]; then
      echo "$name: FAILED (exit $rc), reproducer $keep/$repro, log $keep/log"
    else
      echo "$name: FAILED (exit $rc), log $keep/log"
    fi
    failed=$((failed + 1))
  fi
done
if [ $found -eq 0 ]; then
  echo "fuzz: no fuzz_* binaries in $build (configure with -DMOAT_FUZZ=ON)"
  exit 1
fi
if [ $merge -eq 1 ]; then
  echo "fuzz: $passed passed, $failed failed; $total_runs runs of ${secs} s per target; $total_added inputs added to fuzz/corpus/"
else
  echo "fuzz: $passed passed, $failed failed"
fi
[ $failed -eq 0 ]
