// UTF-8 and Unicode helpers for the tokenizer: code point iteration, validation, lossy decoding
// the way Rust's String::from_utf8_lossy does it, the GPT-2 byte<->char table, character classes
// with Rust's definitions, and ICU normalization forms.
//
// Thread-safety: every function is thread-safe (the tables are immutable after first use).
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_UNICODE_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_UNICODE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eprof::tokenizer {

// Decodes the code point at `s[*pos]` (s must be valid UTF-8) and advances *pos past it.
char32_t NextCodePoint(absl::string_view s, size_t* pos);
// Byte length of the UTF-8 sequence starting with lead byte `b` (1 for continuation bytes).
inline size_t Utf8Len(unsigned char b) {
  return b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
}
void AppendUtf8(char32_t cp, std::string* out);

// Returns the byte offset of the first invalid UTF-8 sequence, or npos when `s` is valid.
size_t FindInvalidUtf8(absl::string_view s);

// Decodes bytes as UTF-8, replacing each maximal invalid subpart with U+FFFD (as
// String::from_utf8_lossy does).
std::string Utf8Lossy(absl::string_view bytes);

// GPT-2 bytes_to_unicode: the char each byte maps to, as UTF-8.
const std::string& ByteToUnicode(uint8_t b);
// Inverse: the byte for a code point, or -1 when the code point is not in the table.
int UnicodeToByte(char32_t cp);

// Character classes as Rust's `char` methods define them.
bool IsWhitespace(char32_t cp);    // White_Space property (char::is_whitespace)
bool IsNumeric(char32_t cp);       // Nd, Nl, No (char::is_numeric)
bool IsPunctuation(char32_t cp);   // ASCII punctuation or P* categories
bool IsWordChar(char32_t cp);      // \w: alphanumeric, marks, connector punctuation
char32_t LowercaseSimple(char32_t cp);

enum class NormalizationForm { kNfc, kNfd, kNfkc, kNfkd };
// Normalizes valid UTF-8 text with ICU. Returns an error only if ICU fails.
absl::StatusOr<std::string> Normalize(NormalizationForm form, absl::string_view text);
// Full lowercase mapping per code point (Rust's char::to_lowercase), no context rules.
std::string Lowercase(absl::string_view text);

}  // namespace eprof::tokenizer

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_UNICODE_H_
