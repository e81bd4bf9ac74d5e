# Shared by tests/sanitizers/asan.sh and tsan.sh and tests/suites.d/fuzz.sh (sourced, not run):
# configures and builds a clang build directory under sanitizers. Optimised lightly (-O1) with line tables only, which
# is what the sanitizers' reports need and what builds quickest.
#
#   eprof_sanitized_build ROOT DIR KIND [TARGET...]
#     KIND: address (ASan + UBSan, with the fuzzers) or thread (TSan). Configures DIR when it has
#     no build.ninja yet, then builds the TARGETs (default: everything). Output goes to
#     DIR/configure.log and DIR/build.log; on failure their tails are printed and it returns 1.
#
#   eprof_sanitizer_env: exports the sanitizers' options for the programs run after it.
#
#   eprof_quick_skip: ends the calling suite as skipped ("0 passed, 0 failed") when EPROF_QUICK=1
#     outside CI (CI never skips).

eprof_quick_skip() {
  if [ "${EPROF_QUICK:-}" = 1 ] && [ -z "${CI:-}" ]; then
    echo "skipped: EPROF_QUICK=1"
    echo "0 passed, 0 failed"
    exit 0
  fi
}

eprof_sanitized_build() {
  local root=$1 dir=$2 kind=$3
  shift 3
  local jobs fuzz=OFF
  jobs=$(nproc 2>/dev/null || echo 2)
  [ "$kind" = address ] && fuzz=ON
  mkdir -p "$dir"
  if [ ! -f "$dir/build.ninja" ]; then
    CC=clang CXX=clang++ cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
      -DEPROF_SANITIZE="$kind" -DEPROF_FUZZ="$fuzz" -DEPROF_BUILD_TESTS=ON \
      -DEPROF_BUILD_BENCHMARKS=OFF >"$dir/configure.log" 2>&1 ||
      { tail -40 "$dir/configure.log"; echo "configuring $dir failed"; rm -f "$dir/build.ninja"; return 1; }
  fi
  local targets=()
  [ $# -gt 0 ] && targets=(--target "$@")
  if ! cmake --build "$dir" -j "$jobs" "${targets[@]}" >"$dir/build.log" 2>&1; then
    grep -E "error:|FAILED:" "$dir/build.log" | head -20
    tail -20 "$dir/build.log"
    echo "building $dir failed (log: $dir/build.log)"
    return 1
  fi
}

eprof_sanitizer_env() {
  # Every report ends the program with a non-zero exit, so the test that ran it fails. Leaks are
  # reported (LeakSanitizer, with ASan). Suppressions, if ever needed, live in
  # tests/sanitizers/*.supp, each with a comment proving it is in a library eprof does not own.
  local supp
  supp=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sanitizers
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  [ -f "$supp/lsan.supp" ] && export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
  [ -f "$supp/tsan.supp" ] && TSAN_OPTIONS+=":suppressions=$supp/tsan.supp"
  return 0
}
