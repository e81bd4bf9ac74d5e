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
