#include "daemon/engine/tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/engine/tokenizer/unicode.h"

namespace eprof::tokenizer {
namespace {

// Oniguruma's Unicode \s: the White_Space property.
constexpr char kSpaceItems[] =
    "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}"
    "\\x{3000}";

// Oniguruma's Unicode \w (Unicode TR18 word characters); PCRE2 10.42's is \p{L}\p{N}_ only.
constexpr char kWordItems[] = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}";

// Rewrites \s, \S, \w and \W (outside and inside character classes) into Oniguruma's sets.
std::string TranslateSpaces(absl::string_view p) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (n == 's' || n == 'w') {
        const char* items = n == 's' ? kSpaceItems : kWordItems;
        out += in_class ? std::string(items) : absl::StrCat("[", items, "]");
      } else if ((n == 'S' || n == 'W') && !in_class) {
        out += absl::StrCat("[^", n == 'S' ? kSpaceItems : kWordItems, "]");
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Regex>> Regex::Compile(absl::string_view pattern) {
  std::string translated = TranslateSpaces(pattern);
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()),
                                   translated.size(), PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK,
                                   &err, &err_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof(msg));
    return absl::InvalidArgumentError(absl::StrCat("cannot compile regex '", pattern, "': ",
                                                   reinterpret_cast<const char*>(msg),
                                                   " at offset ", err_offset));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter on failure
  return std::unique_ptr<Regex>(new Regex(code));
}

std::string Regex::Escape(absl::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/#&~ \t\n\r").find(c) != std::string_view::npos) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

std::vector<std::pair<size_t, size_t>> Regex::FindAll(absl::string_view text) const {
  std::vector<std::pair<size_t, size_t>> out;
  auto* code = static_cast<pcre2_code*>(code_);
  struct MatchDataDeleter {
    void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
  };
  // One match block per thread, reused: FindAll runs for every piece of every text.
  thread_local std::unique_ptr<pcre2_match_data, MatchDataDeleter> md_owner(
      pcre2_match_data_create(1, nullptr));
  pcre2_match_data* md = md_owner.get();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos <= text.size()) {
    int rc = pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) break;
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t start = ov[0], end = ov[1];
    out.emplace_back(start, end);
    if (end == start) {
      if (end >= text.size()) break;
      pos = end + Utf8Len(static_cast<unsigned char>(text[end]));
    } else {
      pos = end;
    }
  }
  return out;
}

}  // namespace eprof::tokenizer
