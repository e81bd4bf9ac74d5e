// A Hugging Face tokenizer.json, loaded and run in C++: encode text to ids and decode ids to
// text exactly as the Hugging Face tokenizers library does, for the BPE-based tokenizers of the
// model families eprof supports (Llama 2/3, Mistral, Qwen 2/3, Gemma 1-3, Phi-3, GPT-2 style).
//
//   EPROF_ASSIGN_OR_RETURN(auto tok, Tokenizer::FromFile("model/tokenizer.json"));
//   EPROF_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tok->Encode("Hello", true));
//   EPROF_ASSIGN_OR_RETURN(std::string text, tok->Decode(ids, /*skip_special_tokens=*/true));
//
// A file using a component eprof does not implement is rejected by FromFile/FromJson with an
// error naming the component; nothing is tokenized silently wrong.
//
// Thread-safety: a Tokenizer is immutable after loading (apart from an internal, locked word
// cache); Encode and Decode may be called concurrently. An IncrementalDecoder belongs to one
// thread.
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_TOKENIZER_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/engine/tokenizer/added_vocabulary.h"
#include "daemon/engine/tokenizer/bpe_model.h"
#include "daemon/engine/tokenizer/decoder.h"
#include "daemon/engine/tokenizer/normalizer.h"
#include "daemon/engine/tokenizer/pre_tokenizer.h"

namespace eprof::tokenizer {

class Tokenizer {
 public:
  // Reads and parses a tokenizer.json file. Errors: unreadable file (NotFound/Internal),
  // malformed JSON (InvalidArgument), unsupported component (Unimplemented, naming it).
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromFile(const std::string& path);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromJson(absl::string_view json);

  // Encodes `text` (must be valid UTF-8; invalid input is rejected with InvalidArgument naming
  // the byte offset). `add_special_tokens` applies the post-processor template (BOS/EOS).
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const;
  // Decodes ids to text. Like Hugging Face, ids that name no token are left out.
  absl::StatusOr<std::string> Decode(const std::vector<int32_t>& ids,
                                     bool skip_special_tokens) const;

  // Size of the id space: one past the largest id of the vocabulary and the added tokens.
  int32_t vocab_size() const;
  std::optional<int32_t> TokenToId(absl::string_view token) const;
  std::optional<std::string> IdToToken(int32_t id) const;
  bool IsSpecial(int32_t id) const { return special_ids_.contains(id); }
  // BOS: the special token the post-processor puts before the text; EOS: the one after it,
  // else the first of the usual end-of-text tokens present.
  std::optional<int32_t> bos_id() const { return bos_id_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }

 private:
  Tokenizer() = default;
  absl::Status Load(const nlohmann::json& j);
  absl::Status EncodeSegment(std::string text, bool at_start, std::vector<int32_t>* ids) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<AddedTokenMatcher> raw_added_;         // "normalized": false
  std::unique_ptr<AddedTokenMatcher> normalized_added_;  // "normalized": true
  absl::flat_hash_map<int32_t, std::string> added_id_to_content_;
  absl::flat_hash_map<std::string, int32_t> added_content_to_id_;
  absl::flat_hash_set<int32_t> special_ids_;
  std::vector<int32_t> template_prefix_;  // post-processor ids before the sequence
  std::vector<int32_t> template_suffix_;  // and after it
  std::optional<int32_t> bos_id_, eos_id_;
};

// Streams text out of ids one at a time (for generation): Next returns the text that the new
// id completes, never a partial UTF-8 sequence nor a U+FFFD standing for bytes still to come.
class IncrementalDecoder {
 public:
  // `tokenizer` must outlive this object.
  IncrementalDecoder(const Tokenizer* tokenizer, bool skip_special_tokens);
  // Feeds one id; returns the newly completed text (possibly empty).
  absl::StatusOr<std::string> Next(int32_t id);
  // Returns what is still held back (an incomplete sequence decodes to U+FFFD) and resets.
  absl::StatusOr<std::string> Finish();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_tokens_;
  std::vector<int32_t> ids_;  // context window: ids_[0, prefix_count_) already emitted
  size_t prefix_count_ = 0;
  std::string prefix_text_;   // Decode(ids_[0, prefix_count_))
};

}  // namespace eprof::tokenizer

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_TOKENIZER_H_
