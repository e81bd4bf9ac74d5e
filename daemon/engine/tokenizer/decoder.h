// Decoders of tokenizer.json ("decoder"): ByteLevel, ByteFallback, Fuse, Strip, Replace,
// Metaspace and Sequence, with Hugging Face tokenizers' decode_chain semantics: each decoder
// maps a list of token strings to a new list; the final text is their concatenation.
//
// Thread-safety: immutable after construction; DecodeChain may be called concurrently.
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_DECODER_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_DECODER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include <nlohmann/json.hpp>

namespace eprof::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void DecodeChain(std::vector<std::string>* tokens) const = 0;
};

// Builds the decoder a tokenizer.json "decoder" object describes. An unknown or unsupported
// "type" is an error naming it.
absl::StatusOr<std::unique_ptr<Decoder>> DecoderFromJson(const nlohmann::json& j);

}  // namespace eprof::tokenizer

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_DECODER_H_
