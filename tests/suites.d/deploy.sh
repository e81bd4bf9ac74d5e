#!/usr/bin/env bash
# deploy/install.sh and the service files, without touching this machine's services: for each
# service manager (systemd, launchd) a dry run changes nothing; an install staged under a
# temporary --destdir puts every program and service file in place; the systemd units pass
# `systemd-analyze verify`, the launchd plists parse (plistlib, and plutil -lint where it exists)
# and name programs and sockets that exist; a second install changes nothing; --uninstall keeps
# the user's runs and leaves nothing else; --purge removes those too. Also the helper's
# --socket-group, which the services rely on, and the script's errors for bad options.
#   tests/suites.d/deploy.sh BUILD_DIR
set -uo pipefail
build=$(cd "${1:?usage: deploy.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d /tmp/eprof-deploy-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() {  # NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}
fake_home=/home/eprof-deploy-test
inst() {  # runs install.sh as a user whose home is $fake_home (staged under --destdir)
  env HOME="$fake_home" XDG_DATA_HOME= XDG_CONFIG_HOME= "$root/deploy/install.sh" \
    --build-dir "$build" --prefix /opt/eprof "$@"
}
# mode_of FILE, group_mode_of FILE: its octal mode; group:mode (GNU stat, else BSD stat).
mode_of() { stat -c %a "$1" 2>/dev/null || stat -f %Lp "$1"; }
group_mode_of() { stat -c %G:%a "$1" 2>/dev/null || stat -f %Sg:%Lp "$1"; }
contents() { (cd "$1" && find . -mindepth 1 | sort); }
empty_dir() { [ -z "$(contents "$1")" ]; }

# --- Bad options: a clear message and exit status 2.
"$root/deploy/install.sh" --frobnicate >"$tmp/out" 2>&1
check "an unknown option is refused with exit 2" test $? -eq 2
check "... and named" grep -q "unknown option '--frobnicate'" "$tmp/out"
"$root/deploy/install.sh" --web-port 0 --dry-run >"$tmp/out" 2>&1
check "a port outside 1-65535 is refused with exit 2" test $? -eq 2
"$root/deploy/install.sh" --purge --dry-run >"$tmp/out" 2>&1
check "--purge without --uninstall is refused" test $? -eq 2
"$root/deploy/install.sh" --prefix relative/path --dry-run >"$tmp/out" 2>&1
check "a relative --prefix is refused" grep -q "absolute path" "$tmp/out"
"$root/deploy/install.sh" --help >"$tmp/out" 2>&1
check "--help lists the options" grep -q -- "--uninstall" "$tmp/out"

for manager in systemd launchd; do
  stage=$tmp/stage-$manager
  # --- A dry run says what it would do and does nothing.
  inst --destdir "$stage" --user-services --service-manager "$manager" --dry-run >"$tmp/dry.out" 2>&1
  rc=$?
  check "$manager: a dry run succeeds" test $rc -eq 0
  check "$manager: a dry run prints its steps" grep -q "install -m 0755 .*/opt/eprof/bin/eprofd" "$tmp/dry.out"
  check "$manager: a dry run changes nothing" test ! -e "$stage"

  # --- A staged install.
  inst --destdir "$stage" --user-services --service-manager "$manager" >"$tmp/install.out" 2>&1
  rc=$?
  check "$manager: a staged install succeeds" test $rc -eq 0
  [ $rc -eq 0 ] || cat "$tmp/install.out"
  all_there=1
  for p in bin/eprofd bin/eprofctl bin/eprof-web bin/eprof-llm sbin/eprof-power-helper; do
    [ -x "$stage/opt/eprof/$p" ] || { all_there=0; echo "missing $p"; }
  done
  check "$manager: every program is installed" test $all_there -eq 1
  check "$manager: the token is the user's alone" \
    test "$(mode_of "$stage$fake_home/.config/eprof/web-token")" = 600
  check "$manager: no placeholder is left in a service file" \
    bash -c "! grep -rl '@[A-Z_]*@' '$stage/etc' '$stage/Library' '$stage$fake_home' 2>/dev/null | grep -q ."

  if [ "$manager" = systemd ] && [ "$(uname -s)" = Darwin ]; then
    echo "skip systemd-analyze verify: no systemd on macOS"
  elif [ "$manager" = systemd ]; then
    # systemd-analyze verify resolves dependencies (sysinit.target, default.target) under
    # --root: give it this machine's own units beside the staged ones, in a copy of the stage.
    vroot=$tmp/verify
    rm -rf "$vroot"
    cp -a "$stage" "$vroot"
    mkdir -p "$vroot/usr/lib/systemd"
    cp -a /usr/lib/systemd/system /usr/lib/systemd/user "$vroot/usr/lib/systemd/" 2>/dev/null
    systemd-analyze verify --man=no --root="$vroot" eprof-power-helper.service >"$tmp/verify.out" 2>&1
    rc=$?
    check "systemd: the helper's system unit passes systemd-analyze verify" \
      test $rc -eq 0 -a ! -s "$tmp/verify.out"
    cat "$tmp/verify.out"
    # --user does not take --root: verify copies of the user units by path, their programs'
    # prefix pointed at the staged programs (the only change).
    mkdir -p -m 0700 "$tmp/xdg-run" "$tmp/user-units"
    for u in eprofd eprof-web; do
      sed "s|/opt/eprof/|$stage/opt/eprof/|g" "$stage$fake_home/.config/systemd/user/$u.service" \
        >"$tmp/user-units/$u.service"
    done
    XDG_RUNTIME_DIR=$tmp/xdg-run systemd-analyze --user verify --man=no \
      "$tmp/user-units/eprofd.service" "$tmp/user-units/eprof-web.service" >"$tmp/verify.out" 2>&1
    rc=$?
    check "systemd: eprofd's and eprof-web's user units pass systemd-analyze verify" \
      test $rc -eq 0 -a ! -s "$tmp/verify.out"
    cat "$tmp/verify.out"
    unit=$stage/etc/systemd/system/eprof-power-helper.service
    check "systemd: the helper is hardened" bash -c "grep -q '^ProtectSystem=strict' '$unit' &&
      grep -q '^CapabilityBoundingSet=CAP_DAC_READ_SEARCH$' '$unit' &&
      grep -q '^RestrictAddressFamilies=AF_UNIX$' '$unit' && grep -q '^NoNewPrivileges=yes' '$unit' &&
      grep -q '^SystemCallFilter=@system-service' '$unit' && grep -q '^ProtectHome=yes' '$unit' &&
      grep -q '^SupplementaryGroups=eprof$' '$unit'"
    check "systemd: eprofd reads the socket the helper serves" bash -c \
      "grep -q -- '--socket /run/eprof/power.sock' '$unit' &&
       grep -q -- '--power-socket /run/eprof/power.sock' '$stage$fake_home/.config/systemd/user/eprofd.service'"
    check "systemd: eprof-web starts after eprofd" \
      grep -q '^After=eprofd.service' "$stage$fake_home/.config/systemd/user/eprof-web.service"
  else
    python3 - "$stage" "$fake_home" >"$tmp/plist.out" 2>&1 <<'EOF'
import os, plistlib, sys
stage, home = sys.argv[1], sys.argv[2]
plists = {
    "/Library/LaunchDaemons/org.eprof.power-helper.plist": None,
    home + "/Library/LaunchAgents/org.eprof.eprofd.plist": None,
    home + "/Library/LaunchAgents/org.eprof.web.plist": None,
}
for path in plists:
    with open(stage + path, "rb") as f:
        p = plistlib.load(f)
    plists[path] = p
    assert p["Label"] + ".plist" == os.path.basename(path), (path, p["Label"])
    program = p["ProgramArguments"][0]
    assert program.startswith("/"), program
    assert os.access(stage + program, os.X_OK), "not installed: " + program
    for key in ("StandardErrorPath", "StandardOutPath"):
        d = os.path.dirname(p[key])
        assert os.path.isdir(stage + d), "no log directory " + d
helper = plists["/Library/LaunchDaemons/org.eprof.power-helper.plist"]["ProgramArguments"]
eprofd = plists[home + "/Library/LaunchAgents/org.eprof.eprofd.plist"]["ProgramArguments"]
web = plists[home + "/Library/LaunchAgents/org.eprof.web.plist"]["ProgramArguments"]
sock = helper[helper.index("--socket") + 1]
assert sock == eprofd[eprofd.index("--power-socket") + 1] == "/var/run/eprof/power.sock", sock
token = web[web.index("--token-file") + 1]
assert os.path.isfile(stage + token), "no token file " + token
print("plists ok")
EOF
    rc=$?
    check "launchd: the plists parse and name installed programs, logs and one socket" test $rc -eq 0
    cat "$tmp/plist.out"
    if command -v plutil >/dev/null; then
      check "launchd: plutil -lint accepts the plists" plutil -lint \
        "$stage/Library/LaunchDaemons/"*.plist "$stage$fake_home/Library/LaunchAgents/"*.plist
    fi
  fi

  # --- Installing again changes nothing it recorded, and records nothing twice.
  before=$(contents "$stage")
  sums_before=$(cd "$stage" && find . -type f -name '*manifest' -exec cat {} + | sort | cksum)
  inst --destdir "$stage" --user-services --service-manager "$manager" >"$tmp/again.out" 2>&1
  check "$manager: a second install succeeds" test $? -eq 0
  check "$manager: ... and leaves the same files" test "$before" = "$(contents "$stage")"
  check "$manager: ... and the same manifests" \
    test "$sums_before" = "$(cd "$stage" && find . -type f -name '*manifest' -exec cat {} + | sort | cksum)"

  # --- Uninstall keeps the user's runs and models; --purge removes them.
  if [ "$(uname -s)" = Darwin ]; then data="$fake_home/Library/Application Support/eprof"; else data=$fake_home/.local/share/eprof; fi
  mkdir -p "$stage$data/models/demo"
  echo "runs" >"$stage$data/eprof.db"
  # What the test made itself: the data directory, its files and the directories above it.
  ancestors() { local p=$data; while [ "$p" != / ]; do echo ".$p"; p=$(dirname "$p"); done; }
  expected=$({ ancestors; (cd "$stage" && find ".$data" -mindepth 1); } | sort)
  inst --destdir "$stage" --service-manager "$manager" --uninstall >"$tmp/uninstall.out" 2>&1
  check "$manager: --uninstall succeeds" test $? -eq 0
  check "$manager: --uninstall keeps the user's runs" test -f "$stage$data/eprof.db"
  check "$manager: --uninstall leaves nothing else" test "$(contents "$stage")" = "$expected"
  [ "$(contents "$stage")" = "$expected" ] || diff <(echo "$expected") <(contents "$stage")
  inst --destdir "$stage" --service-manager "$manager" --uninstall --purge >"$tmp/purge.out" 2>&1
  check "$manager: --purge succeeds" test $? -eq 0
  check "$manager: --purge removes the runs too" test ! -e "$stage$data"
  ancestors | tail -n +2 | while read -r d; do rmdir "$stage/$d" 2>/dev/null; done
  check "$manager: after --purge the stage is empty" empty_dir "$stage"
done

# --- The helper's --socket-group gives the socket the group the services name, also with no
# capability but the unit's and the group as its only supplementary one (SupplementaryGroups):
# the group of a file may be changed without CAP_CHOWN only to a group one is a member of.
helper_socket_group() {  # NAME PREFIX...: starts the helper under PREFIX, checks its socket
  local name=$1 sock=$tmp/helper-$RANDOM/power.sock pid
  shift
  "$@" "$build/bin/eprof-power-helper" serve --source estimate --socket "$sock" --socket-mode 0660 \
    --socket-group daemon >"$tmp/helper.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
  check "$name" test "$(group_mode_of "$sock" 2>/dev/null)" = daemon:660
  [ -S "$sock" ] || cat "$tmp/helper.log"
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
if getent group daemon >/dev/null && [ "$(id -u)" = 0 ]; then
  helper_socket_group "the helper's --socket-group sets the socket's group" env
  if command -v setpriv >/dev/null; then
    helper_socket_group "... also with only the unit's capability and the group as a member" \
      setpriv --bounding-set -all,+dac_read_search --inh-caps -all \
      --groups "$(getent group daemon | cut -d: -f3)"
  fi
fi
"$build/bin/eprof-power-helper" serve --source estimate --socket "$tmp/h2/power.sock" \
  --socket-group no-such-group-here >"$tmp/out" 2>&1
rc=$?
check "an unknown --socket-group is refused with exit 2" test $rc -eq 2
check "... saying which" grep -q 'no group "no-such-group-here"' "$tmp/out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
