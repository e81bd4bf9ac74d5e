#include "daemon/engine/tokenizer_writer.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/engine/model_config.h"
#include "nlohmann/json.hpp"

namespace eprof::engine {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kCorpus[] =
    "The quick brown fox jumps over the lazy dog. An energy profiler measures how much energy "
    "a language model uses for each token it reads and writes. The model reads the prompt in "
    "one pass, then writes the answer one token at a time. Each layer of the model has an "
    "attention block and a feed forward block, and the profiler times them all. There is a "
    "time to measure and a time to think about what the measurements mean. When the machine "
    "is at rest, the power it draws is the baseline; the rest is the cost of the work. "
    "Tokens per second and joules per token are the two numbers that people ask about first. "
    "In the beginning the weights are random, so the text that the model writes is noise, but "
    "the shape of the computation is the same as for the real model, and that is what matters "
    "for the energy. 0123456789 100 200 300 2024 2025 2026.\n";

// GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 + n.
std::vector<std::string> ByteToUnicode() {
  std::vector<int> code(256, -1);
  for (int b = '!'; b <= '~'; ++b) code[b] = b;
  for (int b = 0xA1; b <= 0xAC; ++b) code[b] = b;
  for (int b = 0xAE; b <= 0xFF; ++b) code[b] = b;
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    if (code[b] < 0) code[b] = 256 + n++;
  }
  std::vector<std::string> out(256);
  for (int b = 0; b < 256; ++b) {
    const int cp = code[b];
    std::string s;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    out[b] = s;
  }
  return out;
}

// ASCII approximation of the GPT-2 split: " ?letters", " ?digits", " ?punct", whitespace.
std::vector<std::string> PreTokenize(const std::string& text) {
  std::vector<std::string> pieces;
  size_t i = 0;
  auto cls = [](char c) {
    if (std::isalpha(static_cast<unsigned char>(c))) return 0;
    if (std::isdigit(static_cast<unsigned char>(c))) return 1;
    if (std::isspace(static_cast<unsigned char>(c))) return 3;
    return 2;
  };
  while (i < text.size()) {
    size_t start = i;
    if (text[i] == ' ' && i + 1 < text.size() && cls(text[i + 1]) != 3) ++i;
    const int k = cls(text[i]);
    while (i < text.size() && cls(text[i]) == k) ++i;
    pieces.push_back(text.substr(start, i - start));
  }
  return pieces;
}

}  // namespace

TokenizerSpec MakeByteLevelBpeTokenizer(int max_merges) {
  const std::vector<std::string> b2u = ByteToUnicode();
  std::map<std::vector<std::string>, int> words;  // word as symbols → count
  for (const std::string& piece : PreTokenize(kCorpus)) {
    std::vector<std::string> symbols;
    for (unsigned char c : piece) symbols.push_back(b2u[c]);
    words[symbols] += 1;
  }
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) vocab[b2u[b]] = b;
  Json merges = Json::array();
  int next_id = 256;
  for (int m = 0; m < max_merges; ++m) {
    std::map<std::pair<std::string, std::string>, int> pairs;
    for (const auto& [w, count] : words) {
      for (size_t i = 0; i + 1 < w.size(); ++i) pairs[{w[i], w[i + 1]}] += count;
    }
    std::pair<std::string, std::string> best;
    int best_count = 1;  // a merge must occur at least twice
    for (const auto& [p, count] : pairs) {
      if (count > best_count) {  // std::map order breaks ties deterministically
        best = p;
        best_count = count;
      }
    }
    if (best_count < 2) break;
    const std::string merged = best.first + best.second;
    merges.push_back(best.first + " " + best.second);
    vocab[merged] = next_id++;
    std::map<std::vector<std::string>, int> updated;
    for (const auto& [w, count] : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < w.size(); ++i) {
        if (i + 1 < w.size() && w[i] == best.first && w[i + 1] == best.second) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(w[i]);
        }
      }
      updated[out] += count;
    }
    words.swap(updated);
  }
  TokenizerSpec spec;
  spec.bos_token_id = next_id;
  spec.eos_token_id = next_id + 1;
  spec.vocab_size = next_id + 2;
  const std::string bos = "<|begin_of_text|>", eos = "<|end_of_text|>";
  auto added = [](int64_t id, const std::string& content) {
    return Json{{"id", id},           {"content", content}, {"single_word", false},
                {"lstrip", false},    {"rstrip", false},    {"normalized", false},
                {"special", true}};
  };
  Json j = Json::object();
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = Json::array({added(spec.bos_token_id, bos), added(spec.eos_token_id, eos)});
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false},
                        {"trim_offsets", true}, {"use_regex", true}};
  j["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", Json::array({Json{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
                              Json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
      {"pair", Json::array({Json{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
                            Json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                            Json{{"SpecialToken", {{"id", bos}, {"type_id", 1}}}},
                            Json{{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
      {"special_tokens",
       {{bos, {{"id", bos}, {"ids", Json::array({spec.bos_token_id})}, {"tokens", Json::array({bos})}}}}}};
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true},
                  {"trim_offsets", true}, {"use_regex", true}};
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", vocab},
                {"merges", merges}};
  spec.json = j.dump(2);
  return spec;
}

absl::StatusOr<TokenizerSpec> DescribeTokenizerFile(const std::string& path) {
  EPROF_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("model") || !j["model"].is_object() ||
      !j["model"].contains("vocab") || !j["model"]["vocab"].is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a tokenizer.json with a model.vocab object"));
  }
  TokenizerSpec spec;
  spec.json = text;
  int64_t max_id = -1;
  for (const auto& [token, id] : j["model"]["vocab"].items()) {
    if (id.is_number_integer()) max_id = std::max<int64_t>(max_id, id.get<int64_t>());
  }
  static const char* kBos[] = {"<|begin_of_text|>", "<s>", "<bos>", "<|endoftext|>"};
  static const char* kEos[] = {"<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>", "<|im_end|>"};
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const auto& t : j["added_tokens"]) {
      if (!t.contains("id") || !t["id"].is_number_integer()) continue;
      const int64_t id = t["id"].get<int64_t>();
      max_id = std::max(max_id, id);
      const std::string content = t.value("content", std::string());
      for (const char* name : kBos) {
        if (content == name && spec.bos_token_id < 0) spec.bos_token_id = id;
      }
      for (const char* name : kEos) {
        if (content == name && spec.eos_token_id < 0) spec.eos_token_id = id;
      }
    }
  }
  if (max_id < 0) return absl::InvalidArgumentError(absl::StrCat(path, ": empty vocabulary"));
  spec.vocab_size = max_id + 1;
  return spec;
}

}  // namespace eprof::engine
