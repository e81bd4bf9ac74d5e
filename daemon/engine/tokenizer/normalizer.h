// Normalizers of tokenizer.json ("normalizer"): NFC, NFD, NFKC, NFKD, Replace, Prepend, Strip,
// Lowercase and Sequence, with Hugging Face tokenizers' semantics. Offsets are not tracked:
// eprof needs ids, not alignments.
//
// Thread-safety: immutable after construction; Normalize may be called concurrently.
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_NORMALIZER_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_NORMALIZER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include <nlohmann/json.hpp>

namespace eprof::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Normalizes one segment (valid UTF-8) in place.
  virtual absl::Status Normalize(std::string* text) const = 0;
};

// Builds the normalizer a tokenizer.json "normalizer" object describes. An unknown or
// unsupported "type" is an error naming it.
absl::StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const nlohmann::json& j);

}  // namespace eprof::tokenizer

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_NORMALIZER_H_
