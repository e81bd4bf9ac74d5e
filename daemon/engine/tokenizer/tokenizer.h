// Hugging Face tokenizer.json files, encoded and decoded as the tokenizers library does, for the
// byte-level BPE tokenizers eprof's test checkpoints use and the GPT-2 / Llama-3 / Qwen style:
//   normalizer: none;  pre-tokenizer: ByteLevel (with or without its regex), Split (regex,
//   behaviour isolated) followed by ByteLevel, or a Sequence of those;  model: BPE (merges as
//   "a b" or ["a","b"], ignore_merges);  added tokens (matched before everything else);
//   post-processor: TemplateProcessing or ByteLevel;  decoder: ByteLevel.
// Anything else is rejected at load with an error naming the component, never encoded wrong.
//
//   EPROF_ASSIGN_OR_RETURN(auto tok, Tokenizer::FromFile(dir + "/tokenizer.json"));
//   EPROF_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tok->Encode("Hello", true));
//   IncrementalDecoder stream(tok.get());
//   for (int32_t id : generated) std::cout << stream.Add(id);   // never a broken UTF-8 sequence
//
// This library does not link libtorch. Thread safety: a loaded Tokenizer is immutable and may be
// used from any number of threads; an IncrementalDecoder belongs to one thread.
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_TOKENIZER_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eprof::tokenizer {

class Tokenizer {
 public:
  // Loads a tokenizer.json. INVALID_ARGUMENT naming the unsupported component or the malformed
  // field; NOT_FOUND when the file is missing.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromFile(const std::string& path);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromJson(const std::string& json,
                                                             const std::string& source);
  ~Tokenizer();

  // Token ids of `text` (UTF-8; INVALID_ARGUMENT otherwise), with the post-processor's special
  // tokens (BOS) when `add_special_tokens`.
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text, bool add_special_tokens) const;
  // The text of `ids`; special tokens left out when `skip_special_tokens`. Bytes that do not form
  // valid UTF-8 become U+FFFD, as Hugging Face's decode does. INVALID_ARGUMENT for an unknown id.
  absl::StatusOr<std::string> Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const;

  // The raw bytes a token stands for (its decoded text, possibly a partial UTF-8 sequence).
  std::string TokenBytes(int32_t id) const;
  bool IsSpecial(int32_t id) const;
  // 1 + the largest id.
  int32_t vocab_size() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Decodes one generated id at a time for streaming: returns only complete UTF-8 characters,
// holding back the bytes of a character whose remaining bytes come with the next tokens.
class IncrementalDecoder {
 public:
  // `tokenizer` may be null (then every id yields its number in angle brackets).
  explicit IncrementalDecoder(const Tokenizer* tokenizer, bool skip_special_tokens = true);
  std::string Add(int32_t id);
  // Whatever is held back, with invalid bytes as U+FFFD (at the end of a stream).
  std::string Flush();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace eprof::tokenizer

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_TOKENIZER_H_
