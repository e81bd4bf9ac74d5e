#!/usr/bin/env bash
# Installs eprof as services: the programs and the dashboard under a prefix, the power helper as
# a root system service (systemd unit or LaunchDaemon) whose socket the group "eprof" may use,
# and, with --user-services, eprofd and eprof-web as services of the user who runs the install
# (systemd --user units or LaunchAgents), with the database and models in that user's data
# directory.
#
#   sudo deploy/install.sh --user-services      # everything, for you (run from your account)
#   sudo deploy/install.sh                      # programs and the power helper only
#   deploy/install.sh --user-services           # as yourself: your services, on programs a
#                                               # root install put in the prefix already
#   sudo deploy/install.sh --uninstall          # remove what was installed; runs and models stay
#   sudo deploy/install.sh --uninstall --purge  # ... and your runs, models and logs too
#
# Options:
#   --prefix P           where the programs go (default /usr/local): P/bin (eprofd, eprofctl,
#                        eprof-web, eprof-llm), P/sbin/eprof-power-helper, P/share/eprof
#   --user-services      also install and start eprofd and eprof-web for the invoking user
#                        (with sudo: the user who ran sudo; never root itself)
#   --no-start           install the service files but enable and start nothing
#   --uninstall          stop the services and remove every file, directory, group and
#                        membership this script recorded as its own; keeps the user's runs
#   --purge              with --uninstall: also remove the invoking user's data directory
#                        (runs and models), eprof's logs and ~/.config/eprof
#   --dry-run            print each step and change nothing
#   --destdir D          stage every file under D (for packages and tests): paths inside the
#                        files name their final place; creates no group, starts nothing
#   --service-manager M  systemd or launchd (default: launchd on macOS, systemd elsewhere)
#   --build-dir B        the build to install from (default $EPROF_BUILD_DIR, else ./build);
#                        built first when a program is missing
#   --web-port N         eprof-web's port in the user service, 1-65535 (default 8765)
#   --metrics-port N     eprofd's Prometheus port in the user service, 1-65535 (default 9464)
#
# What an install made is recorded in a manifest (P/share/eprof/install-manifest for the system
# part, ~/.config/eprof/install-manifest for a user's services), which --uninstall reads, so
# that it removes only what was eprof's. Re-running an install is safe: files are replaced,
# services restarted, nothing is recorded twice.
set -euo pipefail
# The services run under their manager, whose environment has none of this shell's XDG_*
# directories: files are placed, and found again, where eprofd and eprof-web will look.
unset XDG_DATA_HOME XDG_CONFIG_HOME

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$root/deploy/lib.sh"

prefix=/usr/local
user_services=0
no_start=0
uninstall=0
purge=0
dry_run=0
destdir=
manager=
build=${EPROF_BUILD_DIR:-$root/build}
web_port=8765
metrics_port=9464

say() { printf 'install: %s\n' "$*"; }
fail() { printf 'install: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'install: %s (deploy/install.sh --help lists the options)\n' "$*" >&2; exit 2; }

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || usage_error "$1 needs a value"; }
port_value() {
  [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 65535 ] ||
    usage_error "$1 takes a TCP port, 1-65535 (got '$2')"
}
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) need_value "$@"; prefix=$2; shift ;;
    --user-services) user_services=1 ;;
    --no-start) no_start=1 ;;
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    --dry-run) dry_run=1 ;;
    --destdir) need_value "$@"; destdir=$2; shift ;;
    --service-manager) need_value "$@"; manager=$2; shift ;;
    --build-dir) need_value "$@"; build=$2; shift ;;
    --web-port) need_value "$@"; port_value "$1" "$2"; web_port=$2; shift ;;
    --metrics-port) need_value "$@"; port_value "$1" "$2"; metrics_port=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
  shift
done

[ "${prefix:0:1}" = / ] || usage_error "--prefix takes an absolute path (got '$prefix')"
# The prefix is written into service files: keep to characters none of their formats quote.
[[ $prefix =~ ^[A-Za-z0-9._/+-]+$ ]] ||
  usage_error "--prefix may hold letters, digits and . _ / + - only (got '$prefix')"
prefix=${prefix%/}
if [ -n "$destdir" ]; then
  [ "${destdir:0:1}" = / ] || destdir=$PWD/$destdir
  destdir=${destdir%/}
  [ "$dry_run" = 1 ] || mkdir -p "$destdir" || fail "cannot create --destdir $destdir"
  no_start=1
fi
if [ -z "$manager" ]; then
  if [ "$(uname -s)" = Darwin ]; then manager=launchd; else manager=systemd; fi
fi
case $manager in systemd|launchd) ;; *) usage_error "--service-manager takes systemd or launchd (got '$manager')" ;; esac
[ "$purge" = 0 ] || [ "$uninstall" = 1 ] || usage_error "--purge goes with --uninstall"

# Who the per-user part is for: the user who ran sudo, else whoever runs this.
is_root=0
[ "$(id -u)" = 0 ] && is_root=1
user=$(id -un)
if [ "$is_root" = 1 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then user=$SUDO_USER; fi
uid=$(id -u "$user")
group_of_user=$(id -gn "$user")
if [ "$user" = "$(id -un)" ]; then
  home=$HOME
elif command -v getent >/dev/null; then
  home=$(getent passwd "$user" | cut -d: -f6)
else
  # "NFSHomeDirectory: /Users/x", or the key alone and the value on the next line.
  home=$(dscl . -read "/Users/$user" NFSHomeDirectory |
    awk 'NR == 1 { sub(/^NFSHomeDirectory: ?/, ""); if ($0 != "") { print; exit } }
         NR == 2 { sub(/^ +/, ""); print; exit }')
fi
[ -n "$home" ] && [ "${home:0:1}" = / ] || fail "cannot find the home directory of $user"
case $home in *[\&\|\\\<\>\"]*) fail "the home directory $home holds a character (& | \\ < > \") that the service files cannot carry" ;; esac
if [ "$user_services" = 1 ] && [ "$uid" = 0 ] && [ -z "$destdir" ]; then
  fail "--user-services installs eprofd for the user who runs the install, and eprofd is not meant to run as root: run it from your own account, with sudo (sudo deploy/install.sh --user-services) or without (deploy/install.sh --user-services)"
fi

bindir=$prefix/bin
sbindir=$prefix/sbin
sharedir=$prefix/share/eprof
sys_manifest=$sharedir/install-manifest
user_data=$(eprof_data_dir "$home")
user_config=$(eprof_config_dir "$home")
user_manifest=$user_config/install-manifest
token_file=$user_config/web-token
if [ "$manager" = systemd ]; then
  helper_unit=/etc/systemd/system/eprof-power-helper.service
  user_unit_dir=$home/.config/systemd/user
  user_log_dir=
else
  helper_unit=/Library/LaunchDaemons/org.eprof.power-helper.plist
  user_unit_dir=$home/Library/LaunchAgents
  user_log_dir=$home/Library/Logs/eprof
fi

# --- Doing, or saying what would be done ---------------------------------------------------

# D PATH: where PATH is written (inside --destdir when one is given).
D() { printf '%s%s' "$destdir" "$1"; }
show() { printf '  %s\n' "$*"; }
# run CMD...: runs it, or prints it under --dry-run.
run() {
  show "$*"
  [ "$dry_run" = 1 ] || "$@"
}

# The manifest being written: "KIND VALUE" lines, KIND one of file, dir, group, member, service.
manifest_lines=()
record() { manifest_lines+=("$*"); }

# make_dir PATH OWNER: creates PATH and the parents it lacks, recording each one it created.
joined_group=0  # whether this run added the user to the group eprof
made_dirs=" "  # those made (or, in a dry run, to be made) so far, space-separated
make_dir() {
  local owner=$2 missing=() p=$1
  while [ ! -d "$(D "$p")" ] && [ "$p" != / ]; do
    case $made_dirs in *" $p "*) break ;; esac
    missing=("$p" ${missing[@]+"${missing[@]}"})
    p=$(dirname "$p")
  done
  local m
  for m in ${missing[@]+"${missing[@]}"}; do
    made_dirs="$made_dirs$m "
    run mkdir -m 0755 "$(D "$m")"
    [ "$owner" = root ] || [ -n "$destdir" ] || run chown "$owner" "$(D "$m")"
    record dir "$m"
  done
  return 0
}

# put SRC DEST MODE OWNER: installs one file, replacing what is there.
put() {
  local src=$1 dest=$2 mode=$3 owner=$4
  make_dir "$(dirname "$dest")" "$owner"
  run install -m "$mode" "$src" "$(D "$dest")"
  [ "$owner" = root ] || [ -n "$destdir" ] || run chown "$owner" "$(D "$dest")"
  record file "$dest"
}

# render TEMPLATE DEST OWNER: a service file with its @NAME@ placeholders filled in.
render() {
  local template=$1 dest=$2 owner=$3 tmp dashboard=""
  [ ! -f "$root/web_gateway/ui/dist/index.html" ] || dashboard=$sharedir/dashboard
  tmp=$(mktemp)
  # A line that is only @DASHBOARD_PLIST_ARGS@ becomes the plist's two strings (or nothing).
  sed -e "s|@BINDIR@|$bindir|g" -e "s|@SBINDIR@|$sbindir|g" -e "s|@DOCDIR@|$sharedir|g" \
    -e "s|@WEB_PORT@|$web_port|g" -e "s|@METRICS_PORT@|$metrics_port|g" \
    -e "s|@LOGDIR@|$user_log_dir|g" -e "s|@TOKEN_FILE@|$token_file|g" \
    -e "s|@DASHBOARD_ARGS@|${dashboard:+--dashboard-dir $dashboard}|g" "$template" |
    awk -v dir="$dashboard" '/^ *@DASHBOARD_PLIST_ARGS@ *$/ {
        if (dir != "") printf "    <string>--dashboard-dir</string>\n    <string>%s</string>\n", dir
        next
      } { print }' >"$tmp"
  if grep -q '@[A-Z_]*@' "$tmp"; then rm -f "$tmp"; fail "unfilled placeholder in $template"; fi
  put "$tmp" "$dest" 0644 "$owner"
  rm -f "$tmp"
}

# write_manifest PATH OWNER: merges this run's lines into the manifest already there.
write_manifest() {
  local path=$1 owner=$2 tmp
  [ "$dry_run" = 0 ] || { show "record what was installed in $(D "$path")"; return 0; }
  tmp=$(mktemp)
  { [ ! -f "$(D "$path")" ] || cat "$(D "$path")"; printf '%s\n' ${manifest_lines[@]+"${manifest_lines[@]}"}; } |
    awk 'NF && !seen[$0]++' >"$tmp"
  install -m 0644 "$tmp" "$(D "$path")"
  rm -f "$tmp"
  [ "$owner" = root ] || [ -n "$destdir" ] || chown "$owner" "$(D "$path")"
}

# as_user CMD...: runs CMD as the invoking user (directly when that is us).
as_user() {
  if [ "$(id -u)" = "$uid" ]; then run "$@"
  elif [ "$manager" = systemd ]; then run runuser -u "$user" -- env "XDG_RUNTIME_DIR=/run/user/$uid" "$@"
  else run sudo -u "$user" "$@"
  fi
}

# --- Services -----------------------------------------------------------------------------

# systemd_running: whether this machine booted with systemd (not so in most containers).
systemd_running() { [ -d /run/systemd/system ]; }

# wait_gone SERVICE: waits (at most 30 s) until launchd no longer knows SERVICE (domain/label).
wait_gone() {
  [ "$dry_run" = 0 ] || return 0
  local i
  for i in $(seq 150); do launchctl print "$1" >/dev/null 2>&1 || return 0; sleep 0.2; done
  return 0
}

start_system_service() {
  if [ "$manager" = systemd ]; then
    systemd_running || fail "the helper service is installed but systemd does not run here (a container?): start it by hand, $sbindir/eprof-power-helper serve, or install with --no-start"
    run systemctl daemon-reload
    run systemctl enable eprof-power-helper.service
    run systemctl restart eprof-power-helper.service
  else
    # A label once disabled refuses bootstrap: enable first. A job being booted out refuses it
    # too until it has exited: wait for that.
    run launchctl enable system/org.eprof.power-helper
    run launchctl bootout system/org.eprof.power-helper 2>/dev/null || true
    wait_gone system/org.eprof.power-helper
    run launchctl bootstrap system "$helper_unit" ||
      fail "the helper is installed but did not start: see sudo launchctl print system/org.eprof.power-helper"
  fi
}

stop_system_service() {
  if [ "$manager" = systemd ]; then
    run systemctl disable --now eprof-power-helper.service || true
    # Left behind when systemd could not be asked (not running here).
    local link=/etc/systemd/system/multi-user.target.wants/eprof-power-helper.service
    [ ! -L "$link" ] || run rm -f "$link"
  else
    run launchctl bootout system/org.eprof.power-helper || true
  fi
}

start_user_services() {
  if [ "$manager" = systemd ]; then
    systemd_running || fail "the user services are installed but systemd does not run here (a container?): install with --no-start, or use deploy/quickstart.sh"
    as_user systemctl --user daemon-reload &&
      as_user systemctl --user enable eprofd.service eprof-web.service &&
      as_user systemctl --user restart eprofd.service eprof-web.service ||
      fail "the user services are installed but did not start (no systemd --user manager for $user? log in as $user, or run: loginctl enable-linger $user), then: systemctl --user restart eprofd eprof-web"
  else
    local label
    for label in org.eprof.eprofd org.eprof.web; do
      run launchctl enable "gui/$uid/$label"
      run launchctl bootout "gui/$uid/$label" 2>/dev/null || true
      wait_gone "gui/$uid/$label"
      run launchctl bootstrap "gui/$uid" "$user_unit_dir/$label.plist" ||
        fail "$label is installed but did not start: see launchctl print gui/$uid/$label"
    done
  fi
}

stop_user_services() {
  if [ "$manager" = systemd ]; then
    as_user systemctl --user disable --now eprofd.service eprof-web.service || true
    # Left behind when the user's service manager could not be asked (the user logged out).
    local wants=$user_unit_dir/default.target.wants u
    for u in eprofd eprof-web; do [ ! -L "$wants/$u.service" ] || run rm -f "$wants/$u.service"; done
    [ "$dry_run" = 1 ] || [ ! -d "$wants" ] || rmdir "$wants" 2>/dev/null || true
  else
    run launchctl bootout "gui/$uid/org.eprof.web" || true
    run launchctl bootout "gui/$uid/org.eprof.eprofd" || true
  fi
}

# --- The group "eprof" --------------------------------------------------------------------

has_group() { if command -v getent >/dev/null; then getent group eprof >/dev/null; else dscl . -read /Groups/eprof >/dev/null 2>&1; fi; }
in_group() { id -nG "$user" | tr ' ' '\n' | grep -qx eprof; }

setup_group() {
  [ -z "$destdir" ] || { say "staged under --destdir: creating no group (the service expects the group 'eprof')"; return 0; }
  if ! has_group; then
    if [ "$(uname -s)" = Darwin ]; then
      run dseditgroup -o create -r "eprof power readers" eprof
    else
      run groupadd --system eprof
    fi
    record group eprof
  fi
  if ! in_group; then
    if [ "$(uname -s)" = Darwin ]; then
      run dseditgroup -o edit -a "$user" -t user eprof
    else
      run usermod -a -G eprof "$user"
    fi
    record member "$user"
    joined_group=1
  fi
}

# --- Install ------------------------------------------------------------------------------

install_system() {
  local programs=(eprofd eprofctl eprof-web eprof-llm eprof-power-helper) p missing=0
  for p in "${programs[@]}"; do [ -x "$build/bin/$p" ] || missing=1; done
  if [ "$missing" = 1 ]; then
    # Built as root under sudo, the build would belong to root and the user could not rebuild.
    [ "$is_root" = 0 ] || [ -z "${SUDO_USER:-}" ] || [ "$SUDO_USER" = root ] ||
      fail "the programs are not built in $build: build them as yourself first (cmake --build $build, or deploy/quickstart.sh), then run this again"
    say "building the programs in $build (log $build/install-build.log)"
    if [ "$dry_run" = 1 ]; then show "build eprofd eprofctl eprof-web eprof-llm eprof-power-helper"
    else mkdir -p "$build"; eprof_build "$root" "$build" "$build/install-build.log" || exit 1
    fi
  fi
  if [ ! -f "$root/web_gateway/ui/dist/index.html" ]; then
    [ "$is_root" = 0 ] || [ -z "${SUDO_USER:-}" ] || [ "$SUDO_USER" = root ] ||
      fail "the dashboard is not built in web_gateway/ui/dist: build it as yourself first (deploy/quickstart.sh, or npm ci && npm run build in web_gateway/ui), then run this again"
    say "building the dashboard in web_gateway/ui/dist (log $build/install-build.log)"
    if [ "$dry_run" = 1 ]; then show "build the dashboard (npm ci, npm run build in web_gateway/ui)"
    else mkdir -p "$build"; eprof_build_dashboard "$root" "$build/install-build.log" || exit 1
    fi
  fi
  say "programs into $(D "$prefix")"
  for p in eprofd eprofctl eprof-web eprof-llm; do put "$build/bin/$p" "$bindir/$p" 0755 root; done
  put "$build/bin/eprof-power-helper" "$sbindir/eprof-power-helper" 0755 root
  put "$root/README.md" "$sharedir/README.md" 0644 root
  if [ -f "$root/web_gateway/ui/dist/index.html" ]; then
    say "dashboard into $(D "$sharedir/dashboard")"
    local f
    while IFS= read -r f; do
      put "$root/web_gateway/ui/dist/$f" "$sharedir/dashboard/$f" 0644 root
    done < <(cd "$root/web_gateway/ui/dist" && find . -type f | sed 's|^\./||' | sort)
  else
    say "no built dashboard (web_gateway/ui/dist): eprof-web will serve its status page"
  fi
  if [ "$is_root" = 1 ] || [ -n "$destdir" ]; then
    case $prefix in
      /home/*|/root/*|/run/user/*)
        [ "$manager" != systemd ] ||
          fail "the helper's unit hides the home directories (ProtectHome=yes), so it cannot run $sbindir/eprof-power-helper: install the programs outside them (the default --prefix /usr/local)" ;;
    esac
    setup_group
    say "power helper service: $(D "$helper_unit")"
    if [ "$manager" = systemd ]; then
      render "$root/deploy/systemd/eprof-power-helper.service.in" "$helper_unit" root
    else
      make_dir /Library/Logs/eprof root
      render "$root/deploy/launchd/org.eprof.power-helper.plist.in" "$helper_unit" root
    fi
    record service system
  else
    say "not root: the power helper service is not installed (sudo deploy/install.sh installs it); until it is, eprofd uses the labelled CPU estimate"
  fi
  write_manifest "$sys_manifest" root
  if [ "$no_start" = 0 ] && { [ "$is_root" = 1 ]; }; then start_system_service; fi
}

install_user() {
  local owner="$user:$group_of_user"
  [ -x "$(D "$bindir/eprofd")" ] || [ "$dry_run" = 1 ] ||
    fail "no eprofd in $bindir: install the programs first (sudo deploy/install.sh), or give --prefix where they are"
  say "user services for $user: $(D "$user_unit_dir")"
  manifest_lines=()
  make_dir "$user_config" "$owner"
  if [ ! -f "$(D "$token_file")" ]; then
    local tmp
    tmp=$(mktemp)
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$tmp"
    put "$tmp" "$token_file" 0600 "$owner"
    rm -f "$tmp"
  fi
  if [ "$manager" = systemd ]; then
    render "$root/deploy/systemd/eprofd.service.in" "$user_unit_dir/eprofd.service" "$owner"
    render "$root/deploy/systemd/eprof-web.service.in" "$user_unit_dir/eprof-web.service" "$owner"
  else
    make_dir "$user_log_dir" "$owner"
    render "$root/deploy/launchd/org.eprof.eprofd.plist.in" "$user_unit_dir/org.eprof.eprofd.plist" "$owner"
    render "$root/deploy/launchd/org.eprof.web.plist.in" "$user_unit_dir/org.eprof.web.plist" "$owner"
  fi
  record service user
  write_manifest "$user_manifest" "$owner"
  if [ "$no_start" = 0 ]; then
    start_user_services
    local token=
    [ "$dry_run" = 1 ] || token=$(cat "$token_file")
    say "dashboard: http://127.0.0.1:$web_port/?token=$token"
  fi
}

# --- Uninstall ----------------------------------------------------------------------------

# remove_recorded MANIFEST: undoes one manifest: services, files, directories (when empty),
# membership, group; then the manifest itself.
remove_recorded() {
  local manifest=$1 kind value
  local files=() dirs=() services=() group=0 members=()
  while read -r kind value; do
    case $kind in
      file) files+=("$value") ;;
      dir) dirs=("$value" ${dirs[@]+"${dirs[@]}"}) ;;  # deepest (made last) first
      service) services+=("$value") ;;
      group) group=1 ;;
      member) members+=("$value") ;;
    esac
  done <"$(D "$manifest")"
  local s f d m
  if [ -z "$destdir" ]; then
    for s in ${services[@]+"${services[@]}"}; do
      case $s in system) stop_system_service ;; user) stop_user_services ;; esac
    done
  fi
  for f in ${files[@]+"${files[@]}"}; do [ ! -e "$(D "$f")" ] || run rm -f "$(D "$f")"; done
  run rm -f "$(D "$manifest")"
  for d in ${dirs[@]+"${dirs[@]}"}; do
    [ ! -d "$(D "$d")" ] || run rmdir "$(D "$d")" 2>/dev/null ||
      say "kept $(D "$d"): it holds files eprof did not install"
  done
  if [ -z "$destdir" ]; then
    for m in ${members[@]+"${members[@]}"}; do
      if [ "$(uname -s)" = Darwin ]; then run dseditgroup -o edit -d "$m" -t user eprof || true
      else run gpasswd -d "$m" eprof || true
      fi
    done
    if [ "$group" = 1 ]; then
      if [ "$(uname -s)" = Darwin ]; then run dseditgroup -o delete eprof || true
      else run groupdel eprof || true
      fi
    fi
    if [ "$manager" = systemd ] && [ "${#services[@]}" -gt 0 ]; then
      case ${services[0]} in
        system) run systemctl daemon-reload || true ;;
        user) as_user systemctl --user daemon-reload || true ;;
      esac
    fi
  fi
}

uninstall_all() {
  local any=0
  if [ -f "$(D "$user_manifest")" ]; then
    say "removing $user's services ($(D "$user_manifest"))"
    remove_recorded "$user_manifest"
    any=1
  fi
  if [ -f "$(D "$sys_manifest")" ]; then
    if [ "$is_root" = 1 ] || [ -w "$(D "$sys_manifest")" ]; then
      say "removing the programs and the helper service ($(D "$sys_manifest"))"
      remove_recorded "$sys_manifest"
      any=1
    else
      say "the programs in $prefix were installed by root: sudo deploy/install.sh --uninstall removes them"
    fi
  fi
  [ "$any" = 1 ] || say "nothing recorded as installed in $(D "$prefix") or for $user"
  if [ "$purge" = 1 ]; then
    local p
    for p in "$user_data" "$user_config" ${user_log_dir:+"$user_log_dir"}; do
      [ ! -e "$(D "$p")" ] || { say "purging $(D "$p")"; run rm -rf "$(D "$p")"; }
    done
    if [ "$manager" = launchd ] && { [ "$is_root" = 1 ] || [ -n "$destdir" ]; } && [ -e "$(D /Library/Logs/eprof)" ]; then
      run rm -rf "$(D /Library/Logs/eprof)"
    fi
  else
    [ ! -e "$(D "$user_data")" ] || say "kept $user's runs and models in $(D "$user_data") (--purge removes them)"
  fi
}

[ "$dry_run" = 0 ] || say "dry run: nothing is changed"
if [ "$uninstall" = 1 ]; then
  uninstall_all
  exit 0
fi
if [ "$is_root" = 1 ] || [ -n "$destdir" ] || [ -w "$(D "$prefix")" ] ||
    { [ ! -e "$(D "$prefix")" ] && [ -w "$(dirname "$(D "$prefix")")" ]; }; then
  install_system
elif [ "$user_services" = 0 ]; then
  fail "$prefix is not yours to write: run with sudo, or give --prefix a directory of yours (e.g. --prefix ~/.local)"
fi
[ "$user_services" = 0 ] || install_user
if [ "$joined_group" = 1 ]; then
  if [ "$manager" = systemd ]; then
    say "$user is now in the group eprof, whose members may read the helper's socket; processes started before now keep their old groups, your user service manager among them: until you log out of every session (or run: sudo systemctl restart user@$uid, which restarts your user services), eprofd uses the labelled CPU estimate"
  else
    say "$user is now in the group eprof, whose members may read the helper's socket (from the next login on)"
  fi
fi
say "done"
