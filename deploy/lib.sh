# Shell functions shared by deploy/quickstart.sh and deploy/install.sh (sourced, not run), so
# that both put things where eprofd, eprofctl and eprof-web look for them (common/paths.h).

# eprof_data_dir HOME: the per-user data directory (database eprof.db, models/), as
# DefaultDataDir(): $XDG_DATA_HOME/eprof when it is absolute and HOME is the caller's own, else
# ~/.local/share/eprof, or ~/Library/Application Support/eprof on macOS.
eprof_data_dir() {
  local home=$1
  if [ "$home" = "${HOME:-}" ] && [ -n "${XDG_DATA_HOME:-}" ] && [ "${XDG_DATA_HOME:0:1}" = / ]; then
    echo "$XDG_DATA_HOME/eprof"
  elif [ "$(uname -s)" = Darwin ]; then
    echo "$home/Library/Application Support/eprof"
  else
    echo "$home/.local/share/eprof"
  fi
}

# eprof_config_dir HOME: where eprof's per-user settings go ($XDG_CONFIG_HOME/eprof, else
# ~/.config/eprof): the dashboard's access token, the record of installed user services.
eprof_config_dir() {
  local home=$1
  if [ "$home" = "${HOME:-}" ] && [ -n "${XDG_CONFIG_HOME:-}" ] && [ "${XDG_CONFIG_HOME:0:1}" = / ]; then
    echo "$XDG_CONFIG_HOME/eprof"
  else
    echo "$home/.config/eprof"
  fi
}

# eprof_runtime_dir: eprofd's socket directory for the calling user, as DefaultDaemonSocket().
eprof_runtime_dir() {
  if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ "${XDG_RUNTIME_DIR:0:1}" = / ]; then
    echo "$XDG_RUNTIME_DIR/eprof"
  else
    local tmp=${TMPDIR:-}
    [ "${tmp:0:1}" = / ] || tmp=  # a relative $TMPDIR is ignored, as eprofd ignores it
    if [ -z "$tmp" ] && [ "$(uname -s)" = Darwin ]; then tmp=$(getconf DARWIN_USER_TEMP_DIR); fi
    tmp=${tmp:-/tmp}
    echo "${tmp%/}/eprof-$(id -u)"
  fi
}

# eprof_build ROOT BUILD LOG: configures (once) and builds the programs eprof runs, appending
# the compiler's output to LOG; on failure prints its tail and returns non-zero.
eprof_build() {
  local root=$1 build=$2 log=$3
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >>"$log" 2>&1 ||
      { tail -20 "$log" >&2; echo "configuring the build failed: see $log" >&2; return 1; }
  fi
  cmake --build "$build" --target eprofd eprofctl eprof_power_helper eprof_web eprof_llm >>"$log" 2>&1 ||
    { tail -20 "$log" >&2; echo "the build failed: see $log" >&2; return 1; }
}

# eprof_build_dashboard ROOT LOG: installs the dashboard's npm packages from its lockfile (when
# node_modules is missing or older than package-lock.json) and builds web_gateway/ui/dist (when
# any of its sources is newer than dist/index.html), appending the output to LOG.
eprof_build_dashboard() {
  local ui=$1/web_gateway/ui log=$2
  command -v npm >/dev/null ||
    { echo "no npm: install Node.js 18 or later (deploy/install-deps.sh does), then run this again" >&2; return 1; }
  (
    cd "$ui" || exit 1
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund >>"$log" 2>&1 || exit 1
    fi
    if [ -f dist/index.html ] && [ -z "$(find src index.html package.json package-lock.json vite.config.ts \
          scripts ../../proto -path src/gen -prune -o -newer dist/index.html -print 2>/dev/null | head -1)" ]; then
      exit 0
    fi
    npm run --silent build >>"$log" 2>&1
  ) || { tail -20 "$log" >&2; echo "building the dashboard failed: see $log" >&2; return 1; }
}
