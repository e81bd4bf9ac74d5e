#!/usr/bin/env bash
# The browser gRPC-web clients (@connectrpc/connect-web and grpc-web in text mode) against a real
# eprof-web, eprofd and power helper, run from Node (tests/web_clients/clients.mjs).
#   tests/suites.d/web_clients.sh BUILD_DIR
# Installs the npm packages only when node_modules is missing or older than package-lock.json;
# makes the message types from proto/ with protoc and protoc-gen-es every time (a second).
set -euo pipefail
build=$(cd "${1:?usage: web_clients.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir="$root/tests/web_clients"
cd "$dir"
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund >&2 || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi
rm -rf gen && mkdir -p gen
protoc --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es --es_out=gen \
  --es_opt=target=js,import_extension=js --proto_path="$root/proto" \
  "$root/proto/eprof/v1/power.proto" "$root/proto/eprof/v1/profiler.proto" ||
  { echo "protoc-gen-es failed"; echo "0 passed, 1 failed"; exit 1; }
node clients.mjs "$build"
