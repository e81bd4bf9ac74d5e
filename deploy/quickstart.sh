#!/usr/bin/env bash
# eprof in one command: installs what it needs, builds, makes a demo model, starts the power
# helper, eprofd and eprof-web as you (no root), profiles one generation on the demo model and
# prints its summary and the dashboard's address. The stack keeps running.
#
#   deploy/quickstart.sh            # set up (quick when done before), start, profile once
#   deploy/quickstart.sh status     # what runs
#   deploy/quickstart.sh stop       # stop what the quick start started (by pid, its own only)
#
# Where things go (each overridable by the environment):
#   build       $EPROF_BUILD_DIR, else ./build in the checkout
#   data        $XDG_DATA_HOME/eprof, else ~/.local/share/eprof (macOS: ~/Library/Application
#               Support/eprof): models/demo, eprof.db
#   runtime     eprofd's own socket directory ($XDG_RUNTIME_DIR/eprof, else $TMPDIR/eprof-$UID,
#               made 0700): the sockets, and quickstart-*.log / quickstart-*.pid per process
#   web port    $EPROF_WEB_PORT (8765); eprofd's Prometheus metrics: $EPROF_METRICS_PORT (9464)
# Without root the helper reads the best power source this user can, and the labelled CPU
# estimate where there is none (a VM, a laptop without readable RAPL): it says which.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EPROF_BUILD_DIR:-$root/build}
# shellcheck source=deploy/lib.sh
. "$root/deploy/lib.sh"
data=$(eprof_data_dir "$HOME")
runtime=$(eprof_runtime_dir)
port=${EPROF_WEB_PORT:-8765}
metrics_port=${EPROF_METRICS_PORT:-9464}
B=$build/bin
names=(helper eprofd web)

say() { printf 'quickstart: %s\n' "$*"; }
fail() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

binary_of() {  # the program a process of ours runs
  case $1 in helper) echo "$B/eprof-power-helper" ;; eprofd) echo "$B/eprofd" ;; web) echo "$B/eprof-web" ;; esac
}
pidfile() { echo "$runtime/quickstart-$1.pid"; }
logfile() { echo "$runtime/quickstart-$1.log"; }

# The pid in NAME's pid file if that process runs our binary; "" when none runs. A pid file
# naming a process that is not ours (the pid was reused) is an error: nothing else is touched.
running_pid() {
  local f pid exe
  f=$(pidfile "$1")
  [ -f "$f" ] || { echo ""; return 0; }
  pid=$(cat "$f")
  if ! [[ $pid =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$f"  # stale: the process is gone
    echo ""
    return 0
  fi
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || ps -p "$pid" -o comm= 2>/dev/null || true)
  exe=${exe% (deleted)}
  if [ "$exe" != "$(binary_of "$1")" ] && [ "$(basename "$exe")" != "$(basename "$(binary_of "$1")")" ]; then
    fail "$f names pid $pid, which runs $exe, not eprof's $1: remove $f if that is not a quick start of yours"
  fi
  echo "$pid"
}

status() {
  local any=0 pid
  for n in "${names[@]}"; do
    pid=$(running_pid "$n")
    if [ -n "$pid" ]; then
      say "$n runs (pid $pid, log $(logfile "$n"))"
      any=1
    else
      say "$n is not running"
    fi
  done
  local url
  url=$(grep -ho 'http://[^ ]*token=[0-9a-f]*' "$(logfile web)" 2>/dev/null | tail -1 || true)
  [ -n "$url" ] && [ -n "$(running_pid web)" ] && say "dashboard: $url"
  return 0
}

stop() {
  local pid
  for n in web eprofd helper; do
    pid=$(running_pid "$n")
    [ -n "$pid" ] || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$(pidfile "$n")"
    say "stopped $n (pid $pid)"
  done
}

case "${1:-start}" in
  status) status; exit 0 ;;
  stop) stop; exit 0 ;;
  start) ;;
  -h|--help|help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) fail "unknown command '$1': use start (default), status or stop" ;;
esac

mkdir -p "$build" "$data/models"
if [ ! -d "$runtime" ]; then mkdir -m 0700 -p "$runtime"; fi
qlog=$runtime/quickstart-build.log

# 1. Dependencies (asks the package manager only for what is missing).
say "[1/5] dependencies"
if ! "$root/deploy/install-deps.sh" >"$qlog" 2>&1; then
  tail -5 "$qlog" >&2
  fail "installing the dependencies failed: see $qlog"
fi
command -v c++ >/dev/null || fail "no C++ compiler (c++) after installing the dependencies: install build-essential (Debian) or Xcode's command line tools (macOS)"

# 2. Build (nothing to do when it is up to date).
say "[2/5] build in $build and the dashboard in web_gateway/ui/dist (log $qlog)"
eprof_build "$root" "$build" "$qlog" || exit 1
eprof_build_dashboard "$root" "$qlog" || exit 1

# 3. The demo model (random weights of a SmolLM-135M shape), made once.
say "[3/5] demo model in $data/models/demo"
if [ ! -f "$data/models/demo/config.json" ]; then
  "$B/eprof-llm" mkmodel --family llama --preset demo --out "$data/models/demo" >>"$qlog" 2>&1 ||
    { tail -5 "$qlog" >&2; fail "making the demo model failed: see $qlog"; }
fi

# 4. The processes, each started only when it does not run already.
say "[4/5] power helper, eprofd, eprof-web (logs in $runtime)"
wait_for() {  # PATH NAME: until PATH exists, or the process died
  for _ in $(seq 100); do
    [ -e "$1" ] && return 0
    [ -n "$(running_pid "$2")" ] || { tail -5 "$(logfile "$2")" >&2; fail "$2 did not start: see $(logfile "$2")"; }
    sleep 0.1
  done
  fail "$2 did not create $1 within 10 s: see $(logfile "$2")"
}
start_one() {  # NAME ARGS...: in the background, with its pid file
  local n=$1
  shift
  nohup "$@" >>"$(logfile "$n")" 2>&1 </dev/null &
  echo $! >"$(pidfile "$n")"
}
if [ -z "$(running_pid helper)" ]; then
  rm -f "$runtime/power.sock"
  start_one helper "$B/eprof-power-helper" serve --socket "$runtime/power.sock" --socket-mode 0600
  wait_for "$runtime/power.sock" helper
fi
source_line=$(grep -h "sampling every\|listening on\|source" "$(logfile helper)" 2>/dev/null | grep -o "source [a-z]*" | head -1 | cut -d" " -f2 || true)
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "$(running_pid eprofd)" ]; then
  if port_taken "$metrics_port"; then
    fail "port $metrics_port (eprofd's metrics) is taken by another program: set EPROF_METRICS_PORT to a free port and run again"
  fi
  start_one eprofd "$B/eprofd" --model-root "$data/models" --db "$data/eprof.db" \
    --power-socket "$runtime/power.sock" --metrics-port "$metrics_port"
  wait_for "$runtime/eprofd.sock" eprofd
fi
if [ -z "$(running_pid web)" ]; then
  if port_taken "$port"; then
    fail "port $port is taken by another program: set EPROF_WEB_PORT to a free port and run again"
  fi
  dashboard=()
  [ -f "$root/web_gateway/ui/dist/index.html" ] && dashboard=(--dashboard-dir "$root/web_gateway/ui/dist")
  : >"$(logfile web)"
  start_one web "$B/eprof-web" --port "$port" ${dashboard[@]+"${dashboard[@]}"}
  for _ in $(seq 100); do grep -q 'token=' "$(logfile web)" 2>/dev/null && break; sleep 0.1; done
  grep -q 'token=' "$(logfile web)" || { tail -5 "$(logfile web)" >&2; fail "eprof-web did not start: see $(logfile web)"; }
fi

# 5. One profiled generation on the demo model.
say "[5/5] profiling 32 tokens on the demo model"
if ! "$B/eprofctl" profile -m demo -p "Where does the energy of a language model go?" -n 32 \
    --detail layers; then
  fail "the profile failed (eprofd's log: $(logfile eprofd))"
fi
url=$(grep -ho 'http://[^ ]*token=[0-9a-f]*' "$(logfile web)" | tail -1)
echo
if [ "$source_line" = estimate ]; then
  say "power source: estimate (the helper runs as you and found no sensor it may read: the figures are a labelled estimate from CPU utilisation; a helper run as root reads the real sensors)"
else
  say "power source: ${source_line:-see $(logfile helper)}"
fi
say "dashboard: $url"
say "metrics:   http://127.0.0.1:$metrics_port/metrics (for Prometheus)"
say "try next:  $B/eprofctl runs list    $B/eprofctl status    $B/eprofctl profile --help"
say "stop with: deploy/quickstart.sh stop"
