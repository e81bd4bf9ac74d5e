// Writes a small byte-level BPE tokenizer.json (GPT-2 / Llama-3 style: ByteLevel pre-tokenizer
// and decoder, 256 byte tokens, merges learned from a built-in English text, a BOS and an EOS
// special token), in the exact Hugging Face tokenizers schema. Used by `eprof-llm mkmodel` so a
// test checkpoint has a tokenizer whose vocabulary matches its embedding.
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_WRITER_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace eprof::engine {

struct TokenizerSpec {
  std::string json;         // the tokenizer.json text
  int64_t vocab_size = 0;   // ids are [0, vocab_size)
  int64_t bos_token_id = -1;
  int64_t eos_token_id = -1;
};

// Ids: 0–255 the bytes, then up to `max_merges` merges, then "<|begin_of_text|>" and
// "<|end_of_text|>". Deterministic.
TokenizerSpec MakeByteLevelBpeTokenizer(int max_merges);

// Reads an existing tokenizer.json: vocab_size = 1 + the largest id in model.vocab and
// added_tokens; bos/eos from well-known special-token names (-1 if none).
absl::StatusOr<TokenizerSpec> DescribeTokenizerFile(const std::string& path);

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_WRITER_H_
