#include "daemon/tools/tool_common.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace eprof::tools {

namespace {

struct CommandUsage {
  const char* name;
  const char* text;
};

constexpr CommandUsage kUsages[] = {
    {"generate",
     "  generate --model DIR (--prompt TEXT | --ids 1,2,3) [--max-new-tokens N]\n"
     "           [--temperature T --top-k K --top-p P --seed S] [--dtype D] [--device D] [--json]\n"},
    {"logits", "  logits   --model DIR --ids 1,2,3 --out FILE.safetensors [--dtype D] [--device D]\n"},
    {"bench",
     "  bench    --model DIR [--prompt-tokens P] [--new-tokens N]\n"
     "           [--detail none,phases,layers,components,deep] [--repeat R] [--json]\n"
     "           [--matmul eprof|libtorch] [--torch-threads N] [--blas-threads N]\n"
     "           [--gemv-threads N] [--dtype D] [--device D] [--bandwidth-mb M]\n"
     "           [--max-seq-len N (KV cache; default: what the run needs)]\n"
     "           [--rounds-from-stdin]\n"},
    {"mkmodel",
     "  mkmodel  --family F --preset tiny|small|demo --out DIR [--seed N]\n"
     "           [--tokenizer tokenizer.json] [--dtype float32|bfloat16] [--shard-bytes B]\n"
     "           [--config-patch JSON]\n"},
    {"tokenize",
     "  tokenize (--tokenizer FILE | --model DIR) [--no-special] (TEXT | --file F) [--json]\n"
     "           | --decode 1,2,3 | --batch\n"},
};

}  // namespace

void PrintUsage(FILE* out) {
  std::fputs("usage: eprof-llm COMMAND [flags]\n", out);
  for (const CommandUsage& u : kUsages) std::fputs(u.text, out);
}

void PrintCommandUsage(const std::string& command, FILE* out) {
  for (const CommandUsage& u : kUsages) {
    if (command == u.name) {
      std::fprintf(out, "usage: eprof-llm %s", u.text + 2);
      return;
    }
  }
  PrintUsage(out);
}

absl::StatusOr<std::vector<int32_t>> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  for (absl::string_view part : absl::StrSplit(text, absl::ByAnyChar(", "), absl::SkipEmpty())) {
    int32_t id;
    if (!absl::SimpleAtoi(part, &id) || id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--ids: '", std::string(part), "' is not a non-negative integer token id"));
    }
    ids.push_back(id);
  }
  if (ids.empty()) return absl::InvalidArgumentError("--ids: no token ids given");
  return ids;
}

}  // namespace eprof::tools
