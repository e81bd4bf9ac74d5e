// A compiled PCRE2 regular expression (UTF + UCP, JIT) that finds successive matches the way
// Hugging Face tokenizers' Oniguruma regexes do. `\s` / `\S` are rewritten to Oniguruma's set
// (the Unicode White_Space property), which differs from PCRE2's in one code point (U+180E),
// and `\w` / `\W` to Oniguruma's Unicode word set (letters, marks, digits, connectors).
//
// Thread-safety: a Regex is immutable after Compile; FindAll may be called concurrently.
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_REGEX_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_REGEX_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eprof::tokenizer {

class Regex {
 public:
  // Compiles `pattern`; the error names the pattern and PCRE2's message with its offset.
  static absl::StatusOr<std::unique_ptr<Regex>> Compile(absl::string_view pattern);
  // Escapes every metacharacter so that the result matches `literal` exactly.
  static std::string Escape(absl::string_view literal);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Byte ranges [start, end) of the successive non-overlapping matches in `text` (valid UTF-8).
  // After an empty match the search resumes one character further on.
  std::vector<std::pair<size_t, size_t>> FindAll(absl::string_view text) const;

 private:
  explicit Regex(void* code) : code_(code) {}
  void* code_;  // pcre2_code_8*
};

}  // namespace eprof::tokenizer

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_REGEX_H_
