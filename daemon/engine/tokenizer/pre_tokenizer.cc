#include "daemon/engine/tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <functional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/engine/tokenizer/json_util.h"
#include "daemon/engine/tokenizer/regex.h"
#include "daemon/engine/tokenizer/unicode.h"

namespace eprof::tokenizer {

using Ranges = std::vector<std::pair<std::pair<size_t, size_t>, bool>>;

std::vector<std::pair<size_t, size_t>> SplitByMatches(size_t text_size, const Ranges& ranges,
                                                      SplitBehavior behavior) {
  std::vector<std::pair<size_t, size_t>> out;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& r : ranges) out.push_back(r.first);
      break;
    case SplitBehavior::kRemoved:
      for (const auto& r : ranges) {
        if (!r.second) out.push_back(r.first);
      }
      break;
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (const auto& [range, is_match] : ranges) {
        if (is_match == previous_match && !out.empty()) {
          out.back().second = range.second;
        } else {
          out.push_back(range);
        }
        previous_match = is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const auto& [range, is_match] : ranges) {
        if (is_match && !previous_match && !out.empty()) {
          out.back().second = range.second;
        } else {
          out.push_back(range);
        }
        previous_match = is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
        const auto& [range, is_match] = *it;
        if (is_match && !previous_match && !out.empty()) {
          out.back().first = range.first;
        } else {
          out.push_back(range);
        }
        previous_match = is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
  }
  std::vector<std::pair<size_t, size_t>> nonempty;
  nonempty.reserve(out.size());
  for (const auto& r : out) {
    if (r.second > r.first) nonempty.push_back(r);
  }
  (void)text_size;
  return nonempty;
}

namespace {

// Match/gap ranges covering `text` for a list of match ranges (Hugging Face's find_matches).
Ranges CoverWithGaps(size_t size, const std::vector<std::pair<size_t, size_t>>& matches) {
  Ranges ranges;
  if (size == 0) {
    ranges.push_back({{0, 0}, false});
    return ranges;
  }
  ranges.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (auto [start, end] : matches) {
    if (prev != start) ranges.push_back({{prev, start}, false});
    ranges.push_back({{start, end}, true});
    prev = end;
  }
  if (prev != size) ranges.push_back({{prev, size}, false});
  return ranges;
}

// Match ranges of single characters satisfying `pred`.
std::vector<std::pair<size_t, size_t>> CharMatches(const std::string& text,
                                                   bool (*pred)(char32_t)) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    char32_t cp = NextCodePoint(text, &pos);
    if (pred(cp)) out.emplace_back(start, pos);
  }
  return out;
}

// Applies `split` to every piece, replacing it by sub-pieces.
void SplitEach(std::vector<Piece>* pieces,
               const std::function<std::vector<std::pair<size_t, size_t>>(const std::string&)>&
                   split) {
  std::vector<Piece> out;
  out.reserve(pieces->size());
  for (Piece& piece : *pieces) {
    for (auto [start, end] : split(piece.text)) {
      out.push_back(Piece{piece.text.substr(start, end - start), piece.at_start && start == 0});
    }
  }
  *pieces = std::move(out);
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(std::unique_ptr<Regex> regex, SplitBehavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  void PreTokenize(std::vector<Piece>* pieces) const override {
    SplitEach(pieces, [this](const std::string& text) {
      Ranges ranges = CoverWithGaps(text.size(), regex_->FindAll(text));
      if (invert_) {
        for (auto& r : ranges) r.second = !r.second;
      }
      return SplitByMatches(text.size(), ranges, behavior_);
    });
  }

 private:
  std::unique_ptr<Regex> regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class CharClassPreTokenizer : public PreTokenizer {
 public:
  CharClassPreTokenizer(bool (*pred)(char32_t), SplitBehavior behavior)
      : pred_(pred), behavior_(behavior) {}
  void PreTokenize(std::vector<Piece>* pieces) const override {
    SplitEach(pieces, [this](const std::string& text) {
      return SplitByMatches(text.size(), CoverWithGaps(text.size(), CharMatches(text, pred_)),
                            behavior_);
    });
  }

 private:
  bool (*pred_)(char32_t);
  SplitBehavior behavior_;
};

constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, std::unique_ptr<Regex> regex)
      : add_prefix_space_(add_prefix_space), regex_(std::move(regex)) {}
  void PreTokenize(std::vector<Piece>* pieces) const override {
    if (add_prefix_space_) {
      for (Piece& p : *pieces) {
        if (p.text.empty() || p.text[0] != ' ') p.text.insert(0, " ");
      }
    }
    if (regex_ != nullptr) {
      SplitEach(pieces, [this](const std::string& text) {
        return SplitByMatches(text.size(), CoverWithGaps(text.size(), regex_->FindAll(text)),
                              SplitBehavior::kIsolated);
      });
    }
    for (Piece& p : *pieces) {
      std::string mapped;
      mapped.reserve(p.text.size() * 2);
      for (unsigned char b : p.text) mapped += ByteToUnicode(b);
      p.text = std::move(mapped);
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;  // null when use_regex is false
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void PreTokenize(std::vector<Piece>* pieces) const override {
    for (Piece& p : *pieces) {
      std::string replaced;
      replaced.reserve(p.text.size() + replacement_.size());
      for (char c : p.text) {
        if (c == ' ') {
          replaced += replacement_;
        } else {
          replaced += c;
        }
      }
      bool starts = replaced.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (scheme_ == PrependScheme::kAlways ||
                      (scheme_ == PrependScheme::kFirst && p.at_start))) {
        replaced.insert(0, replacement_);
      }
      p.text = std::move(replaced);
    }
    if (!split_) return;
    SplitEach(pieces, [this](const std::string& text) {
      std::vector<std::pair<size_t, size_t>> matches;
      for (size_t pos = text.find(replacement_); pos != std::string::npos;
           pos = text.find(replacement_, pos + replacement_.size())) {
        matches.emplace_back(pos, pos + replacement_.size());
      }
      return SplitByMatches(text.size(), CoverWithGaps(text.size(), matches),
                            SplitBehavior::kMergedWithNext);
    });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> children)
      : children_(std::move(children)) {}
  void PreTokenize(std::vector<Piece>* pieces) const override {
    for (const auto& child : children_) child->PreTokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> children_;
};

absl::StatusOr<SplitBehavior> BehaviorFromJson(const nlohmann::json& j, const char* fallback) {
  std::string b = JsonString(j, "behavior", fallback);
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown split behavior \"", b,
      "\" (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const nlohmann::json& j) {
  std::string type = JsonString(j, "type", "");
  if (type == "Split") {
    EPROF_ASSIGN_OR_RETURN(auto regex,
                           PatternFromJson(j.value("pattern", nlohmann::json()), "Split"));
    EPROF_ASSIGN_OR_RETURN(SplitBehavior behavior, BehaviorFromJson(j, ""));
    return std::make_unique<SplitPreTokenizer>(std::move(regex), behavior,
                                               JsonBool(j, "invert", false));
  }
  if (type == "ByteLevel") {
    std::unique_ptr<Regex> regex;
    if (JsonBool(j, "use_regex", true)) {
      EPROF_ASSIGN_OR_RETURN(regex, Regex::Compile(kGpt2Pattern));
    }
    return std::make_unique<ByteLevelPreTokenizer>(JsonBool(j, "add_prefix_space", true),
                                                   std::move(regex));
  }
  if (type == "Metaspace") {
    std::string replacement = JsonString(j, "replacement", "\xE2\x96\x81");
    PrependScheme scheme = PrependScheme::kAlways;
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) {
      std::string s = j["prepend_scheme"].get<std::string>();
      if (s == "always") {
        scheme = PrependScheme::kAlways;
      } else if (s == "first") {
        scheme = PrependScheme::kFirst;
      } else if (s == "never") {
        scheme = PrependScheme::kNever;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "Metaspace: unknown prepend_scheme \"", s, "\" (expected always, first or never)"));
      }
    } else if (!JsonBool(j, "add_prefix_space", true)) {
      scheme = PrependScheme::kNever;
    }
    return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, JsonBool(j, "split", true));
  }
  if (type == "Digits") {
    return std::make_unique<CharClassPreTokenizer>(
        &IsNumeric, JsonBool(j, "individual_digits", false) ? SplitBehavior::kIsolated
                                                            : SplitBehavior::kContiguous);
  }
  if (type == "Punctuation") {
    EPROF_ASSIGN_OR_RETURN(SplitBehavior behavior, BehaviorFromJson(j, "Isolated"));
    return std::make_unique<CharClassPreTokenizer>(&IsPunctuation, behavior);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<CharClassPreTokenizer>(&IsWhitespace, SplitBehavior::kRemoved);
  }
  if (type == "Whitespace") {
    EPROF_ASSIGN_OR_RETURN(auto regex, Regex::Compile(R"(\w+|[^\w\s]+)"));
    return std::make_unique<SplitPreTokenizer>(std::move(regex), SplitBehavior::kRemoved,
                                               /*invert=*/true);
  }
  if (type == "Sequence") {
    auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array()) {
      return absl::InvalidArgumentError("pre_tokenizer Sequence needs a \"pretokenizers\" array");
    }
    std::vector<std::unique_ptr<PreTokenizer>> children;
    for (const auto& child : *it) {
      EPROF_ASSIGN_OR_RETURN(auto p, PreTokenizerFromJson(child));
      children.push_back(std::move(p));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(children));
  }
  return absl::UnimplementedError(absl::StrCat(
      "unsupported pre_tokenizer \"", type.empty() ? j.dump() : type,
      "\" (eprof supports ByteLevel, Split, Metaspace, Digits, Punctuation, Whitespace, "
      "WhitespaceSplit, Sequence)"));
}

}  // namespace eprof::tokenizer
