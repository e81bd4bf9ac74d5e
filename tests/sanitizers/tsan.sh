#!/usr/bin/env bash
# The tests that exercise eprof's threads (eprof_cc_test ... THREADS, in thread_tests.txt: the
# engine's pool, the profiler and its store writer, the run manager and service, the power client
# and the helper's service), built with clang under ThreadSanitizer in a build directory of their
# own (BUILD_DIR-tsan) and run there. A data race or lock-order report fails the test.
#   tests/sanitizers/tsan.sh BUILD_DIR
# Not yet part of tests/run.sh (issue #23 item 1): it joins tests/suites.d/ once it is green.
#   EPROF_TSAN_ONLY=GemvPool.* tests/sanitizers/tsan.sh build   # a gtest filter
# EPROF_QUICK=1 skips it outside CI.
set -euo pipefail
build=$(cd "${1:?usage: tsan.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../sanitized_build.sh
source "$root/tests/sanitized_build.sh"
eprof_quick_skip
dir=${EPROF_TSAN_BUILD_DIR:-$build-tsan}
start=$(date +%s)
eprof_sanitized_build "$root" "$dir" thread thread_tests || { echo "0 passed, 1 failed"; exit 1; }
echo "built $dir in $(( $(date +%s) - start )) s"
eprof_sanitizer_env
pass=0
fail=0
while read -r bin; do
  [ -n "$bin" ] || continue
  log="$dir/$(basename "$bin").tsan.log"
  args=()
  [ -n "${EPROF_TSAN_ONLY:-}" ] && args=(--gtest_filter="$EPROF_TSAN_ONLY")
  if timeout 1800 "$bin" "${args[@]}" >"$log" 2>&1; then
    echo "ok   $(basename "$bin")"
  else
    echo "FAIL $(basename "$bin") (log: $log)"
    grep -E "WARNING: ThreadSanitizer|SUMMARY:|\[  FAILED  \]" "$log" | head -10 || true
    fail=$((fail + 1))
  fi
  n=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\..*/\1/p' "$log" | tail -1)
  pass=$((pass + ${n:-0}))
done <"$dir/thread_tests.txt"
echo "$pass passed, $fail failed"
