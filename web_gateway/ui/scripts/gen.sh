#!/bin/sh
# Makes the message and service types from proto/ with Debian's protoc and protoc-gen-es
# (src/gen/, never committed). Run by `npm run build` and `npm test`.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
proto=$(cd "$here/../../proto" && pwd)
rm -rf "$here/src/gen"
mkdir -p "$here/src/gen"
protoc --plugin=protoc-gen-es="$here/node_modules/.bin/protoc-gen-es" --es_out="$here/src/gen" \
  --es_opt=target=ts,import_extension=none --proto_path="$proto" \
  "$proto/eprof/v1/power.proto" "$proto/eprof/v1/profiler.proto"
