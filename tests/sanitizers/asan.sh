#!/usr/bin/env bash
# The unit, integration and end-to-end tests again, built with clang under AddressSanitizer and
# UndefinedBehaviorSanitizer (-fno-sanitize-recover=all) and LeakSanitizer, in a build directory
# of their own (BUILD_DIR-asan, which also holds the fuzzers: fuzz.sh runs them). Any report
# fails the test that caused it.
#   tests/sanitizers/asan.sh BUILD_DIR
# Not yet part of tests/run.sh (issue #23 item 1): it joins tests/suites.d/ once it is green.
#   EPROF_ASAN_ONLY=regex tests/sanitizers/asan.sh build   # only the tests whose names match
# EPROF_QUICK=1 skips it outside CI.
set -euo pipefail
build=$(cd "${1:?usage: asan.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../sanitized_build.sh
source "$root/tests/sanitized_build.sh"
eprof_quick_skip
dir=${EPROF_ASAN_BUILD_DIR:-$build-asan}
start=$(date +%s)
eprof_sanitized_build "$root" "$dir" address || { echo "0 passed, 1 failed"; exit 1; }
echo "built $dir in $(( $(date +%s) - start )) s"
eprof_sanitizer_env
log="$dir/ctest.log"
filter=()
[ -n "${EPROF_ASAN_ONLY:-}" ] && filter=(-R "$EPROF_ASAN_ONLY")
set +e
ctest --test-dir "$dir" -L '^(unit|integration|e2e)$' "${filter[@]}" --output-on-failure \
  -j "$(nproc 2>/dev/null || echo 2)" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
pass=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* +Passed +[0-9.]+ sec$' "$log" || true)
fail=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*Failed|\*\*\*Exception|\*\*\*Timeout|\*\*\*Not Run)' "$log" || true)
[ "$rc" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
echo "$pass passed, $fail failed"
