#!/usr/bin/env bash
# The dashboard (web_gateway/ui): the TypeScript type check over the whole of src/, its production
# build (dist/, which eprof-web serves and the browser tests open) and the Vitest unit tests of
# its data shaping, with the message types made from proto/.
#   tests/suites.d/web_ui.sh BUILD_DIR
# Installs the npm packages only when node_modules is missing or older than package-lock.json.
set -euo pipefail
build=$(cd "${1:?usage: web_ui.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root/web_gateway/ui"
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund >&2 || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi
sh scripts/gen.sh || { echo "protoc-gen-es failed"; echo "0 passed, 1 failed"; exit 1; }
failed_tsc=0
if npx tsc --noEmit; then echo "ok   tsc --noEmit"; else echo "FAIL tsc --noEmit"; failed_tsc=1; fi
# The production build eprof-web serves (web_gateway/ui/dist), which the browser tests open.
failed_build=0
if npx vite build --logLevel warn >&2; then echo "ok   vite build"; else echo "FAIL vite build"; failed_build=1; fi
report="$build/web_ui-vitest.json"
rm -f "$report"
# In a zone whose clocks change, so that the history's day bounds are tested across a change
# (Node carries its own time-zone data).
TZ=Europe/Berlin npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || true
node -e '
  const fs = require("fs");
  let r = { numPassedTests: 0, numFailedTests: 1 };
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch (e) { console.log("no Vitest report: " + e.message); }
  const bad = Number(process.argv[2]) + Number(process.argv[3]);
  console.log(`${r.numPassedTests + 2 - bad} passed, ${r.numFailedTests + bad} failed`);
' "$report" "$failed_tsc" "$failed_build"
