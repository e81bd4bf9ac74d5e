#!/usr/bin/env bash
# The quick start's time to its printed summary on a machine that already has the dependencies
# and the build (target < 20 s). Each round uses a home of its own (data, runtime directory,
# ports), so it never touches a real installation, and times two runs in turn:
#   first   nothing of eprof's there yet: makes the demo model, starts the helper, eprofd and
#           eprof-web, profiles 32 tokens
#   again   the stack already running: checks, then profiles 32 tokens
# then stops the stack. Prints each round and the medians with their spread.
#   tests/bench/quickstart_bench.sh [BUILD_DIR (./build)] [ROUNDS (3)]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rounds=${2:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "quickstart_bench: ROUNDS must be a positive whole number" >&2; exit 2; }

# now: seconds since the epoch, with a fraction (bash 5's $EPOCHREALTIME; python3 on bash 3.2).
now() { if [ -n "${EPOCHREALTIME:-}" ]; then echo "$EPOCHREALTIME"; else python3 -c 'import time; print(time.time())'; fi; }
qs() {
  env HOME="$home" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home/run" EPROF_WEB_PORT="$port" \
    EPROF_METRICS_PORT="$((port + 1))" EPROF_BUILD_DIR="$build" "$root/deploy/quickstart.sh" "$@"
}
# A round that fails still stops its stack and removes its home.
home=
cleanup() { [ -z "$home" ] || { qs stop >/dev/null 2>&1 || true; rm -rf "$home"; }; }
trap cleanup EXIT

# timed FILE: runs the quick start with its output in FILE and prints the seconds it took; the
# summary is its last step (only the URL lines, printed at once, follow it).
timed() {
  local out=$1 start end
  start=$(now)
  qs >"$out" 2>&1 || { tail -20 "$out" >&2; echo "quickstart_bench: the quick start failed" >&2; exit 1; }
  end=$(now)
  grep -q "completed (max_new_tokens)" "$out" ||
    { echo "quickstart_bench: no summary in $out" >&2; exit 1; }
  echo "$start $end" | awk '{printf "%.2f", $2 - $1}'
}

first=()
again=()
for r in $(seq "$rounds"); do
  home=$(mktemp -d /tmp/eprof-qsb-XXXXXX)
  port=$((20000 + RANDOM % 20000))
  mkdir -m 0700 -p "$home/run"
  f=$(timed "$home/first.out")
  a=$(timed "$home/again.out")
  cleanup
  home=
  first+=("$f")
  again+=("$a")
  echo "round $r: first ${f} s, again ${a} s"
done

# median, min and max of the arguments
stats() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2;
  printf "median %.2f s (min %.2f, max %.2f)", m, v[1], v[NR]}'; }
echo "quickstart_bench: $rounds rounds, dependencies and build in place"
echo "  first run (model made, stack started) to summary  $(stats "${first[@]}")   target < 20 s"
echo "  again (stack running) to summary                  $(stats "${again[@]}")"
