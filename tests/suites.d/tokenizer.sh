#!/usr/bin/env bash
# Tokenizer parity with Hugging Face tokenizers (see tests/tokenizer/run.sh).
exec "$(dirname "${BASH_SOURCE[0]}")/../tokenizer/run.sh" "$1"
