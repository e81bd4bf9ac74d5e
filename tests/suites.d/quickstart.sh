#!/usr/bin/env bash
# The quick start end to end, in a home of its own (data, runtime directory and port of its
# own, so it never touches a real installation): set up and profile, open the printed URL with
# its token, run it again (quick, unchanged), refuse a port that is taken, stop, and leave no
# process behind.
#   tests/suites.d/quickstart.sh BUILD_DIR
set -uo pipefail
build=$(cd "${1:?usage: quickstart.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
home=$(mktemp -d /tmp/eprof-qs-XXXXXX)
port=$((20000 + RANDOM % 20000))
metrics_port=$((port + 1))
passed=0
failed=0
check() {  # NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}
qs() {
  env HOME="$home" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home/run" EPROF_WEB_PORT="$port" EPROF_METRICS_PORT="$metrics_port" \
    EPROF_BUILD_DIR="$build" "$root/deploy/quickstart.sh" "$@"
}
mkdir -p "$home/run" && chmod 700 "$home/run"

qs >"$home/first.out" 2>&1
rc=$?
check "the quick start sets up, starts and profiles" test $rc -eq 0
check "it prints the run's summary" grep -q "completed (max_new_tokens)" "$home/first.out"
check "it prints the dashboard's address with its token" \
  grep -q "dashboard: http://127.0.0.1:$port/?token=[0-9a-f]\{32\}" "$home/first.out"
url=$(grep -o "http://127.0.0.1:$port/?token=[0-9a-f]*" "$home/first.out" | tail -1)
opens() {
  node -e '
    const url = process.argv[1];
    fetch(url, { redirect: "manual" }).then(async (r) => {
      const cookie = (r.headers.get("set-cookie") || "").split(";")[0];
      if (r.status !== 303 || !cookie) process.exit(1);
      const page = await fetch(new URL("/", url), { headers: { cookie } });
      process.exit(page.status === 200 ? 0 : 1);
    }).catch(() => process.exit(1));' "$url"
}
check "the printed URL opens the dashboard (HTTP 200)" opens
pids=$(cat "$home/run/eprof/"quickstart-*.pid 2>/dev/null)
check "three processes run" test "$(echo $pids | wc -w)" -eq 3
metrics_up() {
  node -e 'fetch(process.argv[1]).then(async (r) => process.exit(r.status === 200 &&
      (await r.text()).includes("eprof_runs_total{outcome=\"completed\"} 1") ? 0 : 1)).catch(() => process.exit(1))' \
    "http://127.0.0.1:$metrics_port/metrics"
}
check "eprofd serves its metrics, the run counted" metrics_up

qs >"$home/second.out" 2>&1
rc=$?
check "a second run succeeds" test $rc -eq 0
check "a second run changes nothing in place" test "$(cat "$home/run/eprof/"quickstart-*.pid | xargs)" = "$(echo $pids | xargs)"
check "a second run prints the same address" grep -qF "$url" "$home/second.out"

qs stop >"$home/stop.out" 2>&1
gone=1
for p in $pids; do kill -0 "$p" 2>/dev/null && gone=0; done
check "stop leaves no process behind" test $gone -eq 1

node -e 'require("net").createServer(() => {}).listen(Number(process.argv[1]), "127.0.0.1")' "$port" &
squatter=$!
sleep 0.5
qs >"$home/taken.out" 2>&1
rc=$?
kill "$squatter" 2>/dev/null
check "a taken port is refused with a clear message" grep -q "port $port is taken" "$home/taken.out"
check "... and a non-zero exit" test $rc -ne 0
qs stop >/dev/null 2>&1
left=$(cat "$home/run/eprof/"quickstart-*.pid 2>/dev/null | wc -l)
check "stop after the refusal leaves nothing" test "$left" -eq 0

if [ $failed -eq 0 ]; then rm -rf "$home"; else echo "kept $home"; fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
