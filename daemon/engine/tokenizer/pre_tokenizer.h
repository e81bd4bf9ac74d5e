// Pre-tokenizers of tokenizer.json ("pre_tokenizer"): ByteLevel, Split, Metaspace, Digits,
// Punctuation, Whitespace, WhitespaceSplit and Sequence, with Hugging Face tokenizers'
// semantics. A pre-tokenizer turns pieces into smaller pieces; the model encodes each piece.
//
// Thread-safety: immutable after construction; PreTokenize may be called concurrently.
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_PRE_TOKENIZER_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_PRE_TOKENIZER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include <nlohmann/json.hpp>

namespace eprof::tokenizer {

// One piece of text on its way to the model.
struct Piece {
  std::string text;
  // True when the piece begins at offset 0 of the original input (Metaspace "first" uses it).
  bool at_start = false;
};

// How the matches of a pattern are kept (Hugging Face's SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Splits `text` given its ranges, each flagged as a match or not (covering `text` in order),
// applying `behavior`; empty results are dropped. Returns [start, end) byte ranges.
std::vector<std::pair<size_t, size_t>> SplitByMatches(
    size_t text_size, const std::vector<std::pair<std::pair<size_t, size_t>, bool>>& ranges,
    SplitBehavior behavior);

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their pre-tokenized pieces, in order.
  virtual void PreTokenize(std::vector<Piece>* pieces) const = 0;
};

// Builds the pre-tokenizer a tokenizer.json "pre_tokenizer" object describes. An unknown or
// unsupported "type" is an error naming it.
absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const nlohmann::json& j);

}  // namespace eprof::tokenizer

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_PRE_TOKENIZER_H_
