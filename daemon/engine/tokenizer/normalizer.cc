#include "daemon/engine/tokenizer/normalizer.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/engine/tokenizer/json_util.h"
#include "daemon/engine/tokenizer/regex.h"
#include "daemon/engine/tokenizer/unicode.h"

namespace eprof::tokenizer {
namespace {

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalizationForm form) : form_(form) {}
  absl::Status Normalize(std::string* text) const override {
    EPROF_ASSIGN_OR_RETURN(*text, eprof::tokenizer::Normalize(form_, *text));
    return absl::OkStatus();
  }

 private:
  NormalizationForm form_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::unique_ptr<Regex> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  absl::Status Normalize(std::string* text) const override {
    auto matches = pattern_->FindAll(*text);
    if (matches.empty()) return absl::OkStatus();
    std::string out;
    out.reserve(text->size());
    size_t prev = 0;
    for (auto [start, end] : matches) {
      out.append(*text, prev, start - prev);
      out += content_;
      prev = end;
    }
    out.append(*text, prev, std::string::npos);
    *text = std::move(out);
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prepend) : prepend_(std::move(prepend)) {}
  absl::Status Normalize(std::string* text) const override {
    if (!text->empty()) text->insert(0, prepend_);
    return absl::OkStatus();
  }

 private:
  std::string prepend_;
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  absl::Status Normalize(std::string* text) const override {
    size_t begin = 0, end = text->size();
    if (left_) {
      while (begin < end) {
        size_t next = begin;
        if (!IsWhitespace(NextCodePoint(*text, &next))) break;
        begin = next;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>((*text)[start]) & 0xC0) == 0x80) {
          --start;
        }
        size_t p = start;
        if (!IsWhitespace(NextCodePoint(*text, &p))) break;
        end = start;
      }
    }
    *text = text->substr(begin, end - begin);
    return absl::OkStatus();
  }

 private:
  bool left_, right_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  absl::Status Normalize(std::string* text) const override {
    *text = Lowercase(*text);
    return absl::OkStatus();
  }
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> children)
      : children_(std::move(children)) {}
  absl::Status Normalize(std::string* text) const override {
    for (const auto& child : children_) EPROF_RETURN_IF_ERROR(child->Normalize(text));
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> children_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const nlohmann::json& j) {
  std::string type = JsonString(j, "type", "");
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfkd);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(JsonString(j, "prepend", ""));
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(JsonBool(j, "strip_left", true),
                                             JsonBool(j, "strip_right", true));
  }
  if (type == "Replace") {
    EPROF_ASSIGN_OR_RETURN(auto pattern,
                           PatternFromJson(j.value("pattern", nlohmann::json()), "Replace"));
    return std::make_unique<ReplaceNormalizer>(std::move(pattern), JsonString(j, "content", ""));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> children;
    auto it = j.find("normalizers");
    if (it == j.end() || !it->is_array()) {
      return absl::InvalidArgumentError("normalizer Sequence needs a \"normalizers\" array");
    }
    for (const auto& child : *it) {
      EPROF_ASSIGN_OR_RETURN(auto n, NormalizerFromJson(child));
      children.push_back(std::move(n));
    }
    return std::make_unique<SequenceNormalizer>(std::move(children));
  }
  return absl::UnimplementedError(absl::StrCat(
      "unsupported normalizer \"", type.empty() ? j.dump() : type,
      "\" (eprof supports NFC, NFD, NFKC, NFKD, Replace, Prepend, Strip, Lowercase, Sequence)"));
}

}  // namespace eprof::tokenizer
