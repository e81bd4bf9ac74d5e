#include "daemon/engine/tokenizer/tokenizer.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "daemon/engine/tokenizer/json_util.h"
#include "daemon/engine/tokenizer/unicode.h"

namespace eprof::tokenizer {
namespace {

// A post-processor's token id: an integer in 0-BpeModel::kMaxTokenId.
absl::StatusOr<int32_t> TokenIdOf(const nlohmann::json& id, const std::string& what) {
  if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
      id.get<int64_t>() > BpeModel::kMaxTokenId) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": id ", id.dump(), " is not an integer in 0-", BpeModel::kMaxTokenId));
  }
  return static_cast<int32_t>(id.get<int64_t>());
}

// Adds the special-token ids of a post_processor to the template prefix / suffix.
absl::Status ParsePostProcessor(const nlohmann::json& j, const nlohmann::json& added_tokens,
                                std::vector<int32_t>* prefix, std::vector<int32_t>* suffix) {
  if (j.is_null()) return absl::OkStatus();
  std::string type = JsonString(j, "type", "");
  if (type == "ByteLevel") return absl::OkStatus();  // only adjusts offsets
  if (type == "Sequence") {
    auto it = j.find("processors");
    if (it == j.end() || !it->is_array()) {
      return absl::InvalidArgumentError("post_processor Sequence needs a \"processors\" array");
    }
    for (const auto& child : *it) {
      EPROF_RETURN_IF_ERROR(ParsePostProcessor(child, added_tokens, prefix, suffix));
    }
    return absl::OkStatus();
  }
  if (type == "TemplateProcessing") {
    auto single = j.find("single");
    if (single == j.end() || !single->is_array()) {
      return absl::InvalidArgumentError("TemplateProcessing needs a \"single\" array");
    }
    const nlohmann::json& specials = j.value("special_tokens", nlohmann::json::object());
    bool seen_sequence = false;
    for (const auto& item : *single) {
      if (item.contains("Sequence")) {
        if (seen_sequence) {
          return absl::InvalidArgumentError("TemplateProcessing \"single\" has two sequences");
        }
        seen_sequence = true;
        continue;
      }
      if (!item.contains("SpecialToken")) {
        return absl::InvalidArgumentError(
            absl::StrCat("TemplateProcessing: unknown template item ", item.dump()));
      }
      std::string name = JsonString(item["SpecialToken"], "id", "");
      auto sp = specials.find(name);
      if (sp == specials.end() || !sp->contains("ids") || !(*sp)["ids"].is_array()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "TemplateProcessing: special token \"", name, "\" missing from special_tokens"));
      }
      for (const auto& id : (*sp)["ids"]) {
        EPROF_ASSIGN_OR_RETURN(int32_t value, TokenIdOf(id, "TemplateProcessing special token"));
        (seen_sequence ? suffix : prefix)->push_back(value);
      }
    }
    return absl::OkStatus();
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    auto cls = j.find("cls"), sep = j.find("sep");
    if (cls == j.end() || sep == j.end() || !cls->is_array() || cls->size() != 2 ||
        !sep->is_array() || sep->size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(type, " needs \"cls\" and \"sep\" pairs"));
    }
    EPROF_ASSIGN_OR_RETURN(int32_t cls_id, TokenIdOf((*cls)[1], type + " cls"));
    EPROF_ASSIGN_OR_RETURN(int32_t sep_id, TokenIdOf((*sep)[1], type + " sep"));
    prefix->push_back(cls_id);
    suffix->push_back(sep_id);
    return absl::OkStatus();
  }
  return absl::UnimplementedError(absl::StrCat(
      "unsupported post_processor \"", type.empty() ? j.dump() : type,
      "\" (eprof supports TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, "
      "Sequence)"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open tokenizer file ", path,
                                            ": check the path (a model directory holds "
                                            "tokenizer.json)"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto tok = FromJson(buffer.str());
  if (!tok.ok()) {
    return absl::Status(tok.status().code(), absl::StrCat(path, ": ", tok.status().message()));
  }
  return tok;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(absl::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("tokenizer.json is not a valid JSON object");
  }
  auto tok = std::unique_ptr<Tokenizer>(new Tokenizer());
  try {
    EPROF_RETURN_IF_ERROR(tok->Load(j));
  } catch (const nlohmann::json::exception& e) {
    // A value of another type than the format's where no check caught it: the file is bad,
    // not the program.
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer.json has a value of the wrong type: ", e.what()));
  }
  return tok;
}

absl::Status Tokenizer::Load(const nlohmann::json& j) {
  if (j.contains("truncation") && !j["truncation"].is_null()) {
    return absl::UnimplementedError(
        "unsupported \"truncation\" setting: eprof encodes whole texts; set it to null");
  }
  const nlohmann::json& model = j.value("model", nlohmann::json());
  if (!model.is_object()) return absl::InvalidArgumentError("tokenizer.json has no \"model\"");
  std::string model_type = JsonString(model, "type", model.contains("merges") ? "BPE" : "");
  if (model_type != "BPE") {
    return absl::UnimplementedError(absl::StrCat(
        "unsupported model \"", model_type.empty() ? "(no type)" : model_type,
        "\" (eprof supports BPE, used by Llama, Mistral, Qwen, Gemma, Phi-3 and GPT-2)"));
  }
  EPROF_ASSIGN_OR_RETURN(model_, BpeModel::FromJson(model));
  if (j.contains("normalizer") && !j["normalizer"].is_null()) {
    EPROF_ASSIGN_OR_RETURN(normalizer_, NormalizerFromJson(j["normalizer"]));
  }
  if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null()) {
    EPROF_ASSIGN_OR_RETURN(pre_tokenizer_, PreTokenizerFromJson(j["pre_tokenizer"]));
  }
  if (j.contains("decoder") && !j["decoder"].is_null()) {
    EPROF_ASSIGN_OR_RETURN(decoder_, DecoderFromJson(j["decoder"]));
  }
  std::vector<AddedToken> raw, normalized;
  int32_t next_added_id = -1;  // one past the largest added id so far; -1 before the first
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const auto& a : j["added_tokens"]) {
      AddedToken t;
      if (!a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
          !a["content"].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat("added token without integer id and string content: ", a.dump()));
      }
      t.content = a["content"].get<std::string>();
      // Like Hugging Face (AddedVocabulary::add_tokens), the declared id is not trusted: a
      // content already known keeps its id, a new one gets the next id after the model's
      // vocabulary (count of entries) and the added tokens so far.
      if (auto known = TokenToId(t.content)) {
        t.id = *known;
      } else {
        int32_t model_size = model_->vocab_entries();
        if (next_added_id < 0) {
          t.id = model_size;
        } else {
          t.id = (next_added_id - 1 >= model_size || model_size == 0) ? next_added_id : model_size;
        }
      }
      next_added_id = std::max(next_added_id, t.id + 1);
      t.single_word = JsonBool(a, "single_word", false);
      t.lstrip = JsonBool(a, "lstrip", false);
      t.rstrip = JsonBool(a, "rstrip", false);
      t.special = JsonBool(a, "special", false);
      t.normalized = JsonBool(a, "normalized", !t.special);
      added_id_to_content_[t.id] = t.content;
      added_content_to_id_[t.content] = t.id;
      if (t.special) special_ids_.insert(t.id);
      (t.normalized ? normalized : raw).push_back(std::move(t));
    }
  }
  raw_added_ = std::make_unique<AddedTokenMatcher>(std::move(raw));
  normalized_added_ = std::make_unique<AddedTokenMatcher>(std::move(normalized));
  EPROF_RETURN_IF_ERROR(ParsePostProcessor(j.value("post_processor", nlohmann::json()),
                                           j.value("added_tokens", nlohmann::json()),
                                           &template_prefix_, &template_suffix_));
  if (!template_prefix_.empty()) bos_id_ = template_prefix_.front();
  if (!template_suffix_.empty()) {
    eos_id_ = template_suffix_.back();
  } else {
    for (const char* name : {"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>", "<|end|>"}) {
      if (auto id = TokenToId(name)) {
        eos_id_ = id;
        break;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Tokenizer::EncodeSegment(std::string text, bool at_start,
                                      std::vector<int32_t>* ids) const {
  if (normalizer_ != nullptr) EPROF_RETURN_IF_ERROR(normalizer_->Normalize(&text));
  std::vector<Piece> pieces;
  if (normalized_added_->empty()) {
    pieces.push_back(Piece{std::move(text), at_start});
  } else {
    for (const Segment& seg : normalized_added_->Split(text)) {
      if (seg.id >= 0) {
        // Flush the pieces so far first: ids must stay in text order.
        if (pre_tokenizer_ != nullptr) pre_tokenizer_->PreTokenize(&pieces);
        for (const Piece& p : pieces) model_->Tokenize(p.text, ids);
        pieces.clear();
        ids->push_back(seg.id);
        continue;
      }
      pieces.push_back(
          Piece{text.substr(seg.start, seg.end - seg.start), at_start && seg.start == 0});
    }
  }
  if (pre_tokenizer_ != nullptr) pre_tokenizer_->PreTokenize(&pieces);
  for (const Piece& p : pieces) model_->Tokenize(p.text, ids);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int32_t>> Tokenizer::Encode(absl::string_view text,
                                                       bool add_special_tokens) const {
  size_t bad = FindInvalidUtf8(text);
  if (bad != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "text is not valid UTF-8 (first invalid byte at offset ", bad,
        "): Hugging Face tokenizers only accept Unicode strings; decode or clean the input"));
  }
  std::vector<int32_t> ids;
  if (add_special_tokens) ids = template_prefix_;
  for (const Segment& seg : raw_added_->Split(text)) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
    } else {
      EPROF_RETURN_IF_ERROR(EncodeSegment(std::string(text.substr(seg.start, seg.end - seg.start)),
                                          seg.start == 0, &ids));
    }
  }
  if (add_special_tokens) ids.insert(ids.end(), template_suffix_.begin(), template_suffix_.end());
  return ids;
}

absl::StatusOr<std::string> Tokenizer::Decode(const std::vector<int32_t>& ids,
                                              bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    auto added = added_id_to_content_.find(id);
    const std::string* token = added != added_id_to_content_.end() ? &added->second
                                                                    : model_->IdToToken(id);
    if (token == nullptr) continue;  // Hugging Face drops ids it does not know
    if (skip_special_tokens) {
      auto special = added_content_to_id_.find(*token);
      if (special != added_content_to_id_.end() && special_ids_.contains(special->second)) {
        continue;
      }
    }
    tokens.push_back(*token);
  }
  if (decoder_ == nullptr) return absl::StrJoin(tokens, " ");
  decoder_->DecodeChain(&tokens);
  return absl::StrJoin(tokens, "");
}

int32_t Tokenizer::vocab_size() const {
  int32_t size = model_->vocab_size();
  for (const auto& [id, content] : added_id_to_content_) size = std::max(size, id + 1);
  return size;
}

std::optional<int32_t> Tokenizer::TokenToId(absl::string_view token) const {
  auto it = added_content_to_id_.find(token);
  if (it != added_content_to_id_.end()) return it->second;
  return model_->TokenToId(token);
}

std::optional<std::string> Tokenizer::IdToToken(int32_t id) const {
  auto it = added_id_to_content_.find(id);
  if (it != added_id_to_content_.end()) return it->second;
  const std::string* token = model_->IdToToken(id);
  if (token == nullptr) return std::nullopt;
  return *token;
}

IncrementalDecoder::IncrementalDecoder(const Tokenizer* tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}

absl::StatusOr<std::string> IncrementalDecoder::Next(int32_t id) {
  ids_.push_back(id);
  EPROF_ASSIGN_OR_RETURN(std::string text, tokenizer_->Decode(ids_, skip_special_tokens_));
  // Hold back while the text ends in U+FFFD: the next id may complete the sequence.
  if (text.size() <= prefix_text_.size() ||
      (text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0)) {
    return std::string();
  }
  std::string fresh;
  if (text.compare(0, prefix_text_.size(), prefix_text_) == 0) {
    fresh = text.substr(prefix_text_.size());
  } else {
    fresh = text;  // the decoders rewrote the context (should not happen with real decoders)
  }
  // Keep the last emitted ids as context (Metaspace and Strip treat the first token apart).
  size_t keep = ids_.size() - prefix_count_;
  ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_count_));
  prefix_count_ = keep;
  EPROF_ASSIGN_OR_RETURN(prefix_text_, tokenizer_->Decode(ids_, skip_special_tokens_));
  return fresh;
}

absl::StatusOr<std::string> IncrementalDecoder::Finish() {
  EPROF_ASSIGN_OR_RETURN(std::string text, tokenizer_->Decode(ids_, skip_special_tokens_));
  std::string rest = text.size() > prefix_text_.size() &&
                             text.compare(0, prefix_text_.size(), prefix_text_) == 0
                         ? text.substr(prefix_text_.size())
                         : std::string();
  ids_.clear();
  prefix_count_ = 0;
  prefix_text_.clear();
  return rest;
}

}  // namespace eprof::tokenizer
