#!/usr/bin/env bash
# The dashboard end to end: Debian's chromium, driven by playwright-core, against a real
# eprof-web, eprofd and power helper (web_gateway/ui/e2e/e2e.mjs).
#   tests/suites.d/web_ui_e2e.sh BUILD_DIR [--bench]
# Installs the npm packages from the lockfile and builds the dashboard when either is out of
# date (deploy/lib.sh's eprof_build_dashboard). Screenshots of every case go to
# BUILD_DIR/web_ui-e2e/. Skipped only off Debian without /usr/bin/chromium
# (deploy/install-deps.sh installs it on Debian).
set -euo pipefail
build=$(cd "${1:?usage: web_ui_e2e.sh BUILD_DIR [--bench]}" && pwd)
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root/web_gateway/ui"
if [ ! -x /usr/bin/chromium ]; then
  if [ -f /etc/debian_version ]; then
    echo "/usr/bin/chromium is missing: run deploy/install-deps.sh (it installs chromium)"
    echo "0 passed, 1 failed"
    exit 1
  fi
  echo "skipped: no /usr/bin/chromium, and this is not Debian"
  echo "0 passed, 0 failed"
  exit 0
fi
# The npm packages and the built dashboard (web_gateway/ui/dist), each only when out of date
# (web_ui.sh may have made them already; suites run in the order of their names' collation).
# shellcheck source=../../deploy/lib.sh
source "$root/deploy/lib.sh"
eprof_build_dashboard "$root" "$build/web_ui-build.log" ||
  { echo "building the dashboard failed: see $build/web_ui-build.log"; echo "0 passed, 1 failed"; exit 1; }
if [ ! -f node_modules/playwright-core/package.json ]; then
  echo "playwright-core is not installed in web_gateway/ui/node_modules"
  echo "0 passed, 1 failed"
  exit 1
fi
# The result line comes from e2e.mjs; should node die before printing it, say so here.
out="$build/web_ui-e2e.log"
set +e
node e2e/e2e.mjs "$build" "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
if ! tail -n 1 "$out" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$'; then
  echo "e2e.mjs ended (exit $rc) without its result line"
  echo "0 passed, 1 failed"
  exit 1
fi
exit "$rc"
