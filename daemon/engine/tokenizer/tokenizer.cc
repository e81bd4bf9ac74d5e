#include "daemon/engine/tokenizer/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace eprof::tokenizer {
namespace {

using nlohmann::json;

// GPT-2's pre-tokenizer regex (the ByteLevel pre-tokenizer's when use_regex is true).
constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// GPT-2's byte ↔ unicode table: printable bytes map to themselves, the rest to U+0100 onwards.
struct ByteTable {
  std::string to_unicode[256];               // byte → UTF-8 of its character
  std::unordered_map<uint32_t, uint8_t> to_byte;  // code point → byte
  ByteTable() {
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      uint32_t cp = printable ? static_cast<uint32_t>(b) : 256 + n++;
      to_byte[cp] = static_cast<uint8_t>(b);
      std::string& s = to_unicode[b];
      if (cp < 0x80) {
        s = std::string(1, static_cast<char>(cp));
      } else {
        s = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
      }
    }
  }
};

const ByteTable& Bytes() {
  static const ByteTable* table = new ByteTable();
  return *table;
}

// Length of the valid UTF-8 sequence at s[i] (1-4), or 0 when it is not one: RFC 3629, so no
// overlong forms, no surrogates, nothing above U+10FFFF (protobuf and JSON reject those too).
size_t ValidSequence(absl::string_view s, size_t i, uint32_t* cp_out) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len;
  uint32_t cp;
  if (c < 0x80) {
    if (cp_out) *cp_out = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
    return 0;
  }
  if (cp_out) *cp_out = cp;
  return len;
}

// Splits UTF-8 text into code points (as strings); false on invalid UTF-8.
bool Utf8Chars(absl::string_view s, std::vector<std::string>* out, std::vector<uint32_t>* cps) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = ValidSequence(s, i, &cp);
    if (len == 0) return false;
    if (out) out->push_back(std::string(s.substr(i, len)));
    if (cps) cps->push_back(cp);
    i += len;
  }
  return true;
}

// Replaces each byte that does not start a valid UTF-8 sequence with U+FFFD.
std::string Sanitize(const std::string& bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size();) {
    size_t len = ValidSequence(bytes, i, nullptr);
    if (len > 0) {
      out.append(bytes, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

class Regex {
 public:
  static absl::StatusOr<std::unique_ptr<Regex>> Compile(const std::string& pattern) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(err, buf, sizeof buf);
      return absl::InvalidArgumentError(absl::StrCat("regex '", pattern, "' does not compile at ",
                                                     offset, ": ", reinterpret_cast<char*>(buf)));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return std::unique_ptr<Regex>(new Regex(code));
  }
  ~Regex() { pcre2_code_free(code_); }

  // The [start, end) byte ranges of every match in `s`.
  std::vector<std::pair<size_t, size_t>> Matches(absl::string_view s) const {
    std::vector<std::pair<size_t, size_t>> out;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_, nullptr);
    size_t pos = 0;
    while (pos <= s.size()) {
      int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos,
                           PCRE2_NO_UTF_CHECK, md, nullptr);
      if (rc < 0) break;
      PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      if (ov[1] == ov[0]) {  // empty match: step one character
        pos = ov[1] + 1;
        while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
        continue;
      }
      out.push_back({ov[0], ov[1]});
      pos = ov[1];
    }
    pcre2_match_data_free(md);
    return out;
  }

 private:
  explicit Regex(pcre2_code* code) : code_(code) {}
  pcre2_code* code_;
};

// One pre-tokenization step: a regex whose matches (and the text between them) become pieces,
// and/or the byte-to-unicode mapping.
struct PreStep {
  std::unique_ptr<Regex> regex;  // null: no split
  bool byte_level = false;
  bool add_prefix_space = false;
};

struct AddedToken {
  int32_t id;
  std::string content;
  bool special;
};

absl::Status Unsupported(const std::string& source, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(
      source, ": ", what, " is not supported by eprof's tokenizer (it would tokenize wrong); "
      "supported: byte-level BPE with ByteLevel/Split pre-tokenizers, TemplateProcessing and "
      "the ByteLevel decoder"));
}

}  // namespace

struct Tokenizer::Impl {
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::string> id_to_token;  // by id ("" for holes)
  std::map<std::pair<std::string, std::string>, int> merge_rank;
  bool ignore_merges = false;
  std::vector<PreStep> steps;
  std::vector<AddedToken> added;           // longest first
  std::vector<bool> special;               // by id
  std::vector<bool> added_id;              // by id: content is raw text, not byte-level
  std::vector<int32_t> prefix_ids;         // TemplateProcessing: special tokens before A
  std::vector<int32_t> suffix_ids;         // and after A

  void Bpe(const std::string& piece, std::vector<int32_t>* out) const;
  void EncodeSegment(absl::string_view text, std::vector<int32_t>* out) const;
};

void Tokenizer::Impl::Bpe(const std::string& piece, std::vector<int32_t>* out) const {
  if (ignore_merges) {
    if (auto it = vocab.find(piece); it != vocab.end()) {
      out->push_back(it->second);
      return;
    }
  }
  std::vector<std::string> symbols;
  Utf8Chars(piece, &symbols, nullptr);
  // Merge the lowest-ranked adjacent pair until none applies (the BPE definition; pieces are
  // short, so the quadratic scan is fine).
  for (;;) {
    int best_rank = std::numeric_limits<int>::max();
    size_t best = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto it = merge_rank.find({symbols[i], symbols[i + 1]});
      if (it != merge_rank.end() && it->second < best_rank) {
        best_rank = it->second;
        best = i;
      }
    }
    if (best_rank == std::numeric_limits<int>::max()) break;
    symbols[best] += symbols[best + 1];
    symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
  for (const std::string& s : symbols) {
    auto it = vocab.find(s);
    if (it != vocab.end()) out->push_back(it->second);
    // A byte-level vocabulary has every byte, so a miss cannot happen for a valid file; Load
    // checks that every byte character is in the vocabulary.
  }
}

void Tokenizer::Impl::EncodeSegment(absl::string_view text, std::vector<int32_t>* out) const {
  std::vector<std::string> pieces = {std::string(text)};
  for (const PreStep& step : steps) {
    std::vector<std::string> next;
    for (std::string& p : pieces) {
      if (step.add_prefix_space && !p.empty() && p[0] != ' ') p = " " + p;
      if (step.regex == nullptr) {
        next.push_back(std::move(p));
        continue;
      }
      size_t last = 0;
      for (auto [a, b] : step.regex->Matches(p)) {
        if (a > last) next.push_back(p.substr(last, a - last));
        next.push_back(p.substr(a, b - a));
        last = b;
      }
      if (last < p.size()) next.push_back(p.substr(last));
    }
    if (step.byte_level) {
      for (std::string& p : next) {
        std::string mapped;
        for (unsigned char c : p) mapped += Bytes().to_unicode[c];
        p = std::move(mapped);
      }
    }
    pieces = std::move(next);
  }
  for (const std::string& p : pieces) {
    if (!p.empty()) Bpe(p, out);
  }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read tokenizer file ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return FromJson(buf.str(), path);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(const std::string& text,
                                                               const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(source, " is not valid JSON"));
  auto impl = std::make_unique<Impl>();
  if (j.contains("normalizer") && !j["normalizer"].is_null()) {
    return Unsupported(source, absl::StrCat("normalizer ", j["normalizer"].value("type", "?")));
  }
  const json& model = j.value("model", json());
  if (!model.is_object() || model.value("type", "") != "BPE") {
    return Unsupported(source, absl::StrCat("model ", model.is_object() ? model.value("type", "?") : "?"));
  }
  if (model.value("byte_fallback", false)) return Unsupported(source, "BPE byte_fallback");
  if (!model.value("continuing_subword_prefix", json()).is_null() ||
      !model.value("end_of_word_suffix", json()).is_null()) {
    return Unsupported(source, "BPE subword prefixes and suffixes");
  }
  if (!model.value("dropout", json()).is_null()) return Unsupported(source, "BPE dropout");
  impl->ignore_merges = model.value("ignore_merges", false);
  if (!model.contains("vocab") || !model["vocab"].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": model.vocab is missing"));
  }
  int32_t max_id = -1;
  for (auto& [token, id] : model["vocab"].items()) {
    if (!id.is_number_integer()) return absl::InvalidArgumentError(absl::StrCat(source, ": vocab id of '", token, "' is not an integer"));
    impl->vocab[token] = id.get<int32_t>();
    max_id = std::max(max_id, id.get<int32_t>());
  }
  int rank = 0;
  for (const json& m : model.value("merges", json::array())) {
    std::pair<std::string, std::string> pair;
    if (m.is_string()) {
      std::string s = m.get<std::string>();
      size_t space = s.find(' ');
      if (space == std::string::npos) return absl::InvalidArgumentError(absl::StrCat(source, ": merge '", s, "' has no space"));
      pair = {s.substr(0, space), s.substr(space + 1)};
    } else if (m.is_array() && m.size() == 2) {
      pair = {m[0].get<std::string>(), m[1].get<std::string>()};
    } else {
      return absl::InvalidArgumentError(absl::StrCat(source, ": a merge is neither \"a b\" nor [\"a\",\"b\"]"));
    }
    impl->merge_rank.emplace(pair, rank++);
  }
  // Pre-tokenizer.
  auto add_step = [&](const json& p) -> absl::Status {
    std::string type = p.value("type", "");
    if (type == "ByteLevel") {
      PreStep step;
      step.byte_level = true;
      step.add_prefix_space = p.value("add_prefix_space", false);
      if (p.value("use_regex", true)) {
        auto re = Regex::Compile(kGpt2Pattern);
        if (!re.ok()) return re.status();
        step.regex = std::move(*re);
      }
      impl->steps.push_back(std::move(step));
      return absl::OkStatus();
    }
    if (type == "Split") {
      if (p.value("behavior", "") != "Isolated" || p.value("invert", false)) {
        return Unsupported(source, absl::StrCat("Split behaviour ", p.value("behavior", "?"),
                                                p.value("invert", false) ? " inverted" : ""));
      }
      const json& pattern = p.value("pattern", json());
      if (!pattern.is_object() || !pattern.contains("Regex")) return Unsupported(source, "Split with a string pattern");
      auto re = Regex::Compile(pattern["Regex"].get<std::string>());
      if (!re.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", re.status().message()));
      PreStep step;
      step.regex = std::move(*re);
      impl->steps.push_back(std::move(step));
      return absl::OkStatus();
    }
    return Unsupported(source, absl::StrCat("pre-tokenizer ", type));
  };
  const json& pre = j.value("pre_tokenizer", json());
  if (pre.is_null()) return Unsupported(source, "a BPE without a pre-tokenizer");
  if (pre.value("type", "") == "Sequence") {
    for (const json& p : pre.value("pretokenizers", json::array())) {
      if (absl::Status s = add_step(p); !s.ok()) return s;
    }
  } else if (absl::Status s = add_step(pre); !s.ok()) {
    return s;
  }
  if (std::none_of(impl->steps.begin(), impl->steps.end(), [](auto& s) { return s.byte_level; })) {
    return Unsupported(source, "a pre-tokenizer without ByteLevel");
  }
  for (int b = 0; b < 256; ++b) {
    if (!impl->vocab.contains(Bytes().to_unicode[b])) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": the byte-level vocabulary lacks byte ", b));
    }
  }
  const json& dec = j.value("decoder", json());
  if (!dec.is_null() && dec.value("type", "") != "ByteLevel") {
    return Unsupported(source, absl::StrCat("decoder ", dec.value("type", "?")));
  }
  // Added tokens.
  for (const json& a : j.value("added_tokens", json::array())) {
    if (a.value("lstrip", false) || a.value("rstrip", false) || a.value("single_word", false) ||
        a.value("normalized", false)) {
      return Unsupported(source, absl::StrCat("added token '", a.value("content", ""), "' with lstrip/rstrip/single_word/normalized"));
    }
    AddedToken t{a.value("id", -1), a.value("content", ""), a.value("special", false)};
    if (t.id < 0 || t.content.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": an added token has no id or content"));
    impl->added.push_back(t);
    max_id = std::max(max_id, t.id);
  }
  std::sort(impl->added.begin(), impl->added.end(),
            [](auto& a, auto& b) { return a.content.size() > b.content.size(); });
  impl->id_to_token.assign(max_id + 1, "");
  impl->special.assign(max_id + 1, false);
  impl->added_id.assign(max_id + 1, false);
  for (auto& [token, id] : impl->vocab) impl->id_to_token[id] = token;
  for (const AddedToken& t : impl->added) {
    impl->id_to_token[t.id] = t.content;
    impl->special[t.id] = t.special;
    impl->added_id[t.id] = true;
  }
  // Post-processor.
  const json& post = j.value("post_processor", json());
  if (!post.is_null()) {
    std::string type = post.value("type", "");
    if (type == "TemplateProcessing") {
      bool seen_a = false;
      for (const json& item : post.value("single", json::array())) {
        if (item.contains("Sequence")) {
          seen_a = true;
        } else if (item.contains("SpecialToken")) {
          std::string id = item["SpecialToken"].value("id", "");
          const json& st = post.value("special_tokens", json()).value(id, json());
          if (!st.is_object()) return absl::InvalidArgumentError(absl::StrCat(source, ": template token ", id, " is not in special_tokens"));
          for (const json& i : st.value("ids", json::array())) {
            (seen_a ? impl->suffix_ids : impl->prefix_ids).push_back(i.get<int32_t>());
          }
        }
      }
    } else if (type != "ByteLevel") {
      return Unsupported(source, absl::StrCat("post-processor ", type));
    }
  }
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

absl::StatusOr<std::vector<int32_t>> Tokenizer::Encode(absl::string_view text,
                                                       bool add_special_tokens) const {
  if (!Utf8Chars(text, nullptr, nullptr)) {
    return absl::InvalidArgumentError("the text is not valid UTF-8");
  }
  std::vector<int32_t> ids;
  if (add_special_tokens) ids = impl_->prefix_ids;
  // Added tokens first: split the text at their occurrences (longest match wins).
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    const AddedToken* hit = nullptr;
    for (const AddedToken& t : impl_->added) {
      if (text.substr(i, t.content.size()) == t.content) {
        hit = &t;
        break;
      }
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    if (i > start) impl_->EncodeSegment(text.substr(start, i - start), &ids);
    ids.push_back(hit->id);
    i += hit->content.size();
    start = i;
  }
  if (start < text.size()) impl_->EncodeSegment(text.substr(start), &ids);
  if (add_special_tokens) ids.insert(ids.end(), impl_->suffix_ids.begin(), impl_->suffix_ids.end());
  return ids;
}

std::string Tokenizer::TokenBytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->id_to_token.size()) return "";
  const std::string& token = impl_->id_to_token[id];
  if (impl_->added_id[id]) return token;
  std::vector<uint32_t> cps;
  Utf8Chars(token, nullptr, &cps);
  std::string bytes;
  for (uint32_t cp : cps) {
    auto it = Bytes().to_byte.find(cp);
    if (it != Bytes().to_byte.end()) bytes += static_cast<char>(it->second);
  }
  return bytes;
}

bool Tokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->special.size() && impl_->special[id];
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->id_to_token.size()); }

absl::StatusOr<std::string> Tokenizer::Decode(const std::vector<int32_t>& ids,
                                              bool skip_special_tokens) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size() || (impl_->id_to_token[id].empty())) {
      return absl::InvalidArgumentError(absl::StrCat("token id ", id, " is not in the vocabulary"));
    }
    if (skip_special_tokens && IsSpecial(id)) continue;
    bytes += TokenBytes(id);
  }
  return Sanitize(bytes);
}

IncrementalDecoder::IncrementalDecoder(const Tokenizer* tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}

std::string IncrementalDecoder::Add(int32_t id) {
  if (tokenizer_ == nullptr) return absl::StrCat("<", id, ">");
  if (skip_special_ && tokenizer_->IsSpecial(id)) return "";
  pending_ += tokenizer_->TokenBytes(id);
  // Emit the longest prefix that ends on a complete character; keep an incomplete tail (at most
  // 3 bytes of a started sequence).
  size_t end = pending_.size();
  size_t back = 0;
  while (back < 4 && back < end &&
         (static_cast<unsigned char>(pending_[end - 1 - back]) & 0xC0) == 0x80) {
    ++back;
  }
  size_t lead_pos = end - 1 - back;
  if (back < end) {
    unsigned char lead = static_cast<unsigned char>(pending_[lead_pos]);
    size_t need = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : (lead >> 3) == 30 ? 4 : 1;
    if (back + 1 < need) end = lead_pos;  // that character is not complete yet
  }
  std::string out = Sanitize(pending_.substr(0, end));
  pending_.erase(0, end);
  return out;
}

std::string IncrementalDecoder::Flush() {
  std::string out = Sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace eprof::tokenizer
