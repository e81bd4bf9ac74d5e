#!/usr/bin/env bash
# The fuzzers (fuzz/README.md): builds them with clang under ASan and UBSan in the sanitizer build
# directory asan.sh uses (BUILD_DIR-asan), then runs each for a bounded time over its seed
# corpus, its committed regression inputs and the corpus earlier runs grew. A crash, a sanitizer
# report, a timeout or a leak fails the fuzzer; its input is left in BUILD_DIR-asan/artifacts/.
#   tests/suites.d/fuzz.sh BUILD_DIR
#   EPROF_FUZZ_SECONDS=3600 tests/suites.d/fuzz.sh build     # an hour each
#   EPROF_FUZZ_ONLY=tokenizer tests/suites.d/fuzz.sh build   # one of them
# EPROF_QUICK=1 skips the suite outside CI (CI never skips it).
# Each run appends "fuzzer executions exec/s seconds" lines to BUILD_DIR-asan/executions.tsv.
set -euo pipefail
build=$(cd "${1:?usage: fuzz.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../sanitized_build.sh
source "$root/tests/sanitized_build.sh"
eprof_quick_skip
fb=${EPROF_FUZZ_BUILD_DIR:-${EPROF_ASAN_BUILD_DIR:-$build-asan}}
seconds=${EPROF_FUZZ_SECONDS:-20}
eprof_sanitized_build "$root" "$fb" address fuzzers || { echo "0 passed, 1 failed"; exit 1; }

# Seeds from the real captures where a fuzzer reads their format (the large stream left out).
extra_seeds() {
  case $1 in
    powermetrics|replay)
      find "$root/../shared/fixtures/powermetrics" -maxdepth 1 -type f -name '*plist*' -size -300k \
        2>/dev/null | sort ;;
  esac
}
dict_of() {
  case $1 in
    powermetrics|replay) echo "$root/fuzz/dict/plist.dict" ;;
    checkpoint|model_config|tokenizer) echo "$root/fuzz/dict/json.dict" ;;
  esac
}

pass=0
fail=0
for bin in "$fb"/fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  if [ -n "${EPROF_FUZZ_ONLY:-}" ] && [ "$name" != "$EPROF_FUZZ_ONLY" ]; then continue; fi
  work="$fb/corpus/$name"
  seeds="$fb/seeds/$name"
  mkdir -p "$work" "$seeds" "$fb/artifacts/$name"
  rm -f "$seeds"/*
  for f in "$root/fuzz/corpus/$name"/* "$root/fuzz/regressions/$name"/* $(extra_seeds "$name"); do
    [ -f "$f" ] && cp "$f" "$seeds/"
  done
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$fb/artifacts/$name/")
  dict=$(dict_of "$name")
  [ -n "$dict" ] && args+=(-dict="$dict")
  log="$fb/$name.log"
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      timeout $((seconds + 120)) "$bin" "${args[@]}" "$work" "$seeds" >"$log" 2>&1; then
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
    rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
    printf '%s\t%s\t%s\t%s\n' "$name" "${execs:-0}" "${rate:-0}" "$seconds" >>"$fb/executions.tsv"
    echo "ok   $name: ${execs:-?} executions, ${rate:-?}/s in ${seconds} s"
    pass=$((pass + 1))
  else
    echo "FAIL $name (log: $log; inputs: $fb/artifacts/$name/)"
    grep -E "ERROR:|SUMMARY:|runtime error" "$log" | head -5 || true
    fail=$((fail + 1))
  fi
done
if [ -f "$fb/executions.tsv" ]; then
  echo "executions so far in $fb (every run):"
  awk -F'\t' '{ n[$1] += $2 } END { for (f in n) printf "  %-14s %d\n", f, n[f] }' \
    "$fb/executions.tsv" | sort
fi
echo "$pass passed, $fail failed"
