#include "daemon/engine/tokenizer/decoder.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/engine/tokenizer/json_util.h"
#include "daemon/engine/tokenizer/regex.h"
#include "daemon/engine/tokenizer/unicode.h"

namespace eprof::tokenizer {
namespace {

class ByteLevelDecoder : public Decoder {
 public:
  // Every token's chars go back to bytes through the inverse GPT-2 table (a token with a char
  // outside the table contributes its raw UTF-8); the bytes of all tokens are then decoded as
  // one lossy UTF-8 string.
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::string bytes;
    for (const std::string& t : *tokens) {
      std::string mapped;
      bool ok = true;
      size_t pos = 0;
      while (pos < t.size()) {
        int b = UnicodeToByte(NextCodePoint(t, &pos));
        if (b < 0) {
          ok = false;
          break;
        }
        mapped.push_back(static_cast<char>(b));
      }
      bytes += ok ? mapped : t;
    }
    tokens->assign(1, Utf8Lossy(bytes));
  }
};

// Parses "<0xXX>" (Rust's from_str_radix on the two hex digits).
int ParseByteToken(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  int v = 0;
  for (int i = 3; i < 5; ++i) {
    char c = t[i];
    int d = (c >= '0' && c <= '9') ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

class ByteFallbackDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens->size());
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (FindInvalidUtf8(pending) == std::string::npos) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending.size(); ++i) out.push_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (std::string& t : *tokens) {
      int b = ParseByteToken(t);
      if (b >= 0) {
        pending.push_back(static_cast<char>(b));
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    *tokens = std::move(out);
  }
};

class FuseDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::string all;
    for (const auto& t : *tokens) all += t;
    tokens->assign(1, std::move(all));
  }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (std::string& t : *tokens) {
      std::vector<size_t> offsets;  // byte offset of each char, plus the end
      std::vector<char32_t> chars;
      size_t pos = 0;
      while (pos < t.size()) {
        offsets.push_back(pos);
        chars.push_back(NextCodePoint(t, &pos));
      }
      offsets.push_back(t.size());
      size_t start_cut = 0;
      for (size_t i = 0; i < chars.size() && i < start_; ++i) {
        if (chars[i] != content_) break;
        start_cut = i + 1;
      }
      size_t stop_cut = chars.size();
      for (size_t i = 0; i < chars.size() && i < stop_; ++i) {
        size_t index = chars.size() - 1 - i;
        if (chars[index] != content_) break;
        stop_cut = index;
      }
      if (stop_cut < start_cut) stop_cut = start_cut;
      t = t.substr(offsets[start_cut], offsets[stop_cut] - offsets[start_cut]);
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::unique_ptr<Regex> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (std::string& t : *tokens) {
      auto matches = pattern_->FindAll(t);
      if (matches.empty()) continue;
      std::string out;
      size_t prev = 0;
      for (auto [start, end] : matches) {
        out.append(t, prev, start - prev);
        out += content_;
        prev = end;
      }
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, bool strip_first)
      : replacement_(replacement), strip_first_(strip_first) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (size_t i = 0; i < tokens->size(); ++i) {
      std::string& t = (*tokens)[i];
      std::string out;
      size_t pos = 0;
      while (pos < t.size()) {
        char32_t cp = NextCodePoint(t, &pos);
        if (cp == replacement_) {
          // Hugging Face drops every replacement char of the first token, not only a leading one.
          if (i == 0 && strip_first_) continue;
          out += ' ';
        } else {
          AppendUtf8(cp, &out);
        }
      }
      t = std::move(out);
    }
  }

 private:
  char32_t replacement_;
  bool strip_first_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> children)
      : children_(std::move(children)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (const auto& child : children_) child->DecodeChain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> children_;
};

absl::StatusOr<char32_t> SingleChar(const std::string& s, const char* what) {
  size_t pos = 0;
  if (s.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " must be one character"));
  char32_t cp = NextCodePoint(s, &pos);
  if (pos != s.size()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be one character, got \"", s, "\""));
  }
  return cp;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Decoder>> DecoderFromJson(const nlohmann::json& j) {
  std::string type = JsonString(j, "type", "");
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    EPROF_ASSIGN_OR_RETURN(char32_t content,
                           SingleChar(JsonString(j, "content", " "), "Strip decoder content"));
    return std::make_unique<StripDecoder>(content, j.value("start", 0), j.value("stop", 0));
  }
  if (type == "Replace") {
    EPROF_ASSIGN_OR_RETURN(auto pattern,
                           PatternFromJson(j.value("pattern", nlohmann::json()), "Replace"));
    return std::make_unique<ReplaceDecoder>(std::move(pattern), JsonString(j, "content", ""));
  }
  if (type == "Metaspace") {
    EPROF_ASSIGN_OR_RETURN(
        char32_t replacement,
        SingleChar(JsonString(j, "replacement", "\xE2\x96\x81"), "Metaspace replacement"));
    bool strip_first = true;
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) {
      strip_first = j["prepend_scheme"].get<std::string>() != "never";
    } else {
      strip_first = JsonBool(j, "add_prefix_space", true);
    }
    return std::make_unique<MetaspaceDecoder>(replacement, strip_first);
  }
  if (type == "Sequence") {
    auto it = j.find("decoders");
    if (it == j.end() || !it->is_array()) {
      return absl::InvalidArgumentError("decoder Sequence needs a \"decoders\" array");
    }
    std::vector<std::unique_ptr<Decoder>> children;
    for (const auto& child : *it) {
      EPROF_ASSIGN_OR_RETURN(auto d, DecoderFromJson(child));
      children.push_back(std::move(d));
    }
    return std::make_unique<SequenceDecoder>(std::move(children));
  }
  return absl::UnimplementedError(absl::StrCat(
      "unsupported decoder \"", type.empty() ? j.dump() : type,
      "\" (eprof supports ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, Sequence)"));
}

}  // namespace eprof::tokenizer
