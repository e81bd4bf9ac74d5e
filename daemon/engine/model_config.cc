#include "daemon/engine/model_config.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/contained_path.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace eprof::engine {
namespace {

using Json = nlohmann::json;

// Upper bounds of config.json's sizes (the largest published models are well inside them).
constexpr int64_t kMaxHiddenSize = 1 << 16;
constexpr int64_t kMaxIntermediateSize = 1 << 20;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 4096;
constexpr int64_t kMaxVocabSize = 1 << 23;
constexpr int64_t kMaxPositions = 1 << 27;

struct FamilyInfo {
  Family family;
  const char* name;
};
constexpr FamilyInfo kFamilies[] = {
    {Family::kLlama, "llama"},   {Family::kMistral, "mistral"},
    {Family::kQwen2, "qwen2"},   {Family::kQwen3, "qwen3"},
    {Family::kGemma, "gemma"},   {Family::kGemma2, "gemma2"},
    {Family::kGemma3, "gemma3_text"}, {Family::kPhi3, "phi3"},
    {Family::kStableLm, "stablelm"},
};

// Each family's Config-class defaults (hf-models.md §1–9).
struct Defaults {
  int64_t vocab, hidden, intermediate, layers, heads;
  int64_t kv_heads;  // 0: = heads
  int64_t head_dim;  // 0: = hidden / heads
  int64_t max_pos;
  double eps, theta;
  bool tie;
  const char* act;
  int64_t sliding_window;  // 0: none
};

Defaults DefaultsFor(Family f) {
  switch (f) {
    case Family::kLlama: return {32000, 4096, 11008, 32, 32, 0, 0, 2048, 1e-6, 10000, false, "silu", 0};
    case Family::kMistral: return {32000, 4096, 14336, 32, 32, 8, 0, 131072, 1e-6, 10000, false, "silu", 4096};
    case Family::kQwen2: return {151936, 4096, 22016, 32, 32, 32, 0, 32768, 1e-6, 10000, false, "silu", 4096};
    case Family::kQwen3: return {151936, 4096, 22016, 32, 32, 32, 128, 32768, 1e-6, 10000, false, "silu", 4096};
    case Family::kGemma: return {256000, 3072, 24576, 28, 16, 16, 256, 8192, 1e-6, 10000, true, "gelu_pytorch_tanh", 0};
    case Family::kGemma2: return {256000, 2304, 9216, 26, 8, 4, 256, 8192, 1e-6, 10000, true, "gelu_pytorch_tanh", 4096};
    case Family::kGemma3: return {262208, 2304, 9216, 26, 8, 4, 256, 131072, 1e-6, 1e6, true, "gelu_pytorch_tanh", 4096};
    case Family::kPhi3: return {32064, 3072, 8192, 32, 32, 0, 0, 4096, 1e-5, 10000, false, "silu", 0};
    case Family::kStableLm: return {50304, 2560, 6912, 32, 32, 32, 0, 4096, 1e-5, 10000, false, "silu", 0};
  }
  return {};
}

// Typed lookups with a default; a present key of the wrong type is an error naming it.
class Reader {
 public:
  Reader(const Json& j, std::string source) : j_(j), source_(std::move(source)) {}
  bool Has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  absl::StatusOr<int64_t> Int(const char* key, int64_t def) const {
    if (!Has(key)) return def;
    if (!j_[key].is_number_integer()) return Bad(key, "an integer");
    return j_[key].get<int64_t>();
  }
  absl::StatusOr<double> Num(const char* key, double def) const {
    if (!Has(key)) return def;
    if (!j_[key].is_number()) return Bad(key, "a number");
    return j_[key].get<double>();
  }
  absl::StatusOr<bool> Bool(const char* key, bool def) const {
    if (!Has(key)) return def;
    if (!j_[key].is_boolean()) return Bad(key, "true or false");
    return j_[key].get<bool>();
  }
  absl::StatusOr<std::string> Str(const char* key, const std::string& def) const {
    if (!Has(key)) return def;
    if (!j_[key].is_string()) return Bad(key, "a string");
    return j_[key].get<std::string>();
  }
  absl::Status Bad(const char* key, const char* want) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": key '", key, "' must be ", want, ", got ", j_[key].dump()));
  }
  const Json& json() const { return j_; }
  const std::string& source() const { return source_; }

 private:
  const Json& j_;
  std::string source_;
};

absl::StatusOr<std::vector<int64_t>> IdList(const Json& j, const std::string& source,
                                            const char* key) {
  std::vector<int64_t> ids;
  if (!j.contains(key) || j[key].is_null()) return ids;
  const Json& v = j[key];
  if (v.is_number_integer()) {
    ids.push_back(v.get<int64_t>());
  } else if (v.is_array()) {
    for (const Json& e : v) {
      if (!e.is_number_integer()) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": '", key, "' must be an integer or a list of integers"));
      }
      ids.push_back(e.get<int64_t>());
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": '", key, "' must be an integer or a list of integers"));
  }
  return ids;
}

absl::StatusOr<std::vector<double>> NumList(const Json& j, const std::string& source,
                                            const char* key) {
  std::vector<double> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": '", key, "' must be a list"));
  }
  for (const Json& e : j[key]) {
    if (!e.is_number()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": '", key, "' must hold numbers"));
    }
    out.push_back(e.get<double>());
  }
  return out;
}

// Reads a rope_scaling / rope_parameters dict into `rope` (theta is set by the caller unless the
// dict carries rope_theta, as v5 rope_parameters do).
absl::Status ReadRopeDict(const Json& dict, const std::string& source, RopeConfig* rope) {
  if (dict.is_null()) return absl::OkStatus();
  if (!dict.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": rope_scaling must be an object"));
  }
  Reader r(dict, source);
  EPROF_ASSIGN_OR_RETURN(std::string type, r.Str("rope_type", ""));
  if (type.empty()) {
    EPROF_ASSIGN_OR_RETURN(type, r.Str("type", "default"));
  }
  if (type == "su" || (type == "yarn" && dict.contains("short_factor"))) type = "longrope";
  static const char* kKnown[] = {"default", "linear", "dynamic", "llama3", "longrope", "yarn"};
  bool known = false;
  for (const char* k : kKnown) known |= type == k;
  if (!known) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": unsupported rope type '", type,
        "' (supported: default, linear, dynamic, llama3, longrope, yarn)"));
  }
  rope->type = type;
  EPROF_ASSIGN_OR_RETURN(rope->theta, r.Num("rope_theta", rope->theta));
  EPROF_ASSIGN_OR_RETURN(rope->factor, r.Num("factor", 1.0));
  EPROF_ASSIGN_OR_RETURN(rope->low_freq_factor, r.Num("low_freq_factor", 1.0));
  EPROF_ASSIGN_OR_RETURN(rope->high_freq_factor, r.Num("high_freq_factor", 4.0));
  EPROF_ASSIGN_OR_RETURN(rope->original_max_position_embeddings,
                         r.Int("original_max_position_embeddings",
                               rope->original_max_position_embeddings));
  EPROF_ASSIGN_OR_RETURN(rope->attention_factor, r.Num("attention_factor", -1.0));
  EPROF_ASSIGN_OR_RETURN(rope->beta_fast, r.Num("beta_fast", 32.0));
  EPROF_ASSIGN_OR_RETURN(rope->beta_slow, r.Num("beta_slow", 1.0));
  EPROF_ASSIGN_OR_RETURN(rope->short_factor, NumList(dict, source, "short_factor"));
  EPROF_ASSIGN_OR_RETURN(rope->long_factor, NumList(dict, source, "long_factor"));
  if (type == "llama3" && rope->original_max_position_embeddings <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": llama3 rope scaling needs original_max_position_embeddings"));
  }
  return absl::OkStatus();
}

Activation ParseActivation(const std::string& name, bool* ok) {
  *ok = true;
  if (name == "silu" || name == "swish") return Activation::kSilu;
  if (name == "gelu") return Activation::kGeluExact;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast") {
    return Activation::kGeluTanh;
  }
  *ok = false;
  return Activation::kSilu;
}

}  // namespace

const char* FamilyName(Family family) {
  for (const FamilyInfo& info : kFamilies) {
    if (info.family == family) return info.name;
  }
  return "?";
}

absl::StatusOr<Family> ParseFamily(const std::string& name) {
  for (const FamilyInfo& info : kFamilies) {
    if (name == info.name) return info.family;
  }
  if (name == "gemma3") return Family::kGemma3;
  std::vector<std::string> names;
  for (const FamilyInfo& info : kFamilies) names.push_back(info.name);
  return absl::InvalidArgumentError(absl::StrCat("unknown model family '", name,
                                                 "'; supported: ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open (missing file?)"));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<ModelConfig> ParseModelConfig(const std::string& json_text,
                                             const std::string& source) {
  Json root = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a JSON object"));
  }
  ModelConfig c;
  if (root.contains("model_type") && !root["model_type"].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": 'model_type' is not a string"));
  }
  std::string model_type = root.value("model_type", std::string());
  if (root.contains("architectures") && root["architectures"].is_array() &&
      !root["architectures"].empty() && root["architectures"][0].is_string()) {
    c.architecture = root["architectures"][0].get<std::string>();
  }
  const Json* cfg = &root;
  // Multimodal Gemma 3: the language model's parameters are in text_config.
  if (model_type == "gemma3" && root.contains("text_config") && root["text_config"].is_object()) {
    cfg = &root["text_config"];
    c.weight_prefix = "language_model.model.";  // resolved against the weights at load time
    c.lm_head_name = "language_model.lm_head.weight";
  }
  if (model_type.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no 'model_type' key"));
  }
  auto family = ParseFamily(model_type);
  if (!family.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": unsupported architecture: model_type '", model_type, "' (",
                     c.architecture, "); supported model_type values: llama, mistral, qwen2, ",
                     "qwen3, gemma, gemma2, gemma3_text, gemma3, phi3, stablelm"));
  }
  c.family = *family;
  c.model_type = model_type;
  const Family f = c.family;
  const Defaults d = DefaultsFor(f);
  Reader r(*cfg, source);

  EPROF_ASSIGN_OR_RETURN(c.vocab_size, r.Int("vocab_size", d.vocab));
  EPROF_ASSIGN_OR_RETURN(c.hidden_size, r.Int("hidden_size", d.hidden));
  EPROF_ASSIGN_OR_RETURN(c.intermediate_size, r.Int("intermediate_size", d.intermediate));
  EPROF_ASSIGN_OR_RETURN(c.num_layers, r.Int("num_hidden_layers", d.layers));
  EPROF_ASSIGN_OR_RETURN(c.num_heads, r.Int("num_attention_heads", d.heads));
  EPROF_ASSIGN_OR_RETURN(c.num_kv_heads, r.Int("num_key_value_heads", d.kv_heads));
  if (c.num_kv_heads == 0) c.num_kv_heads = c.num_heads;
  if (c.hidden_size <= 0 || c.num_heads <= 0 || c.num_layers <= 0 || c.vocab_size <= 0 ||
      c.intermediate_size <= 0 || c.num_kv_heads <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, "
                "num_key_value_heads and vocab_size must all be positive"));
  }
  // Sane bounds, far above any published model, so that a hostile or broken config.json cannot
  // make the loader allocate before the weights are checked against it.
  for (auto [key, value, max] : {std::tuple{"hidden_size", c.hidden_size, kMaxHiddenSize},
                                 std::tuple{"intermediate_size", c.intermediate_size,
                                            kMaxIntermediateSize},
                                 std::tuple{"num_hidden_layers", c.num_layers, kMaxLayers},
                                 std::tuple{"num_attention_heads", c.num_heads, kMaxHeads},
                                 std::tuple{"num_key_value_heads", c.num_kv_heads, kMaxHeads},
                                 std::tuple{"vocab_size", c.vocab_size, kMaxVocabSize}}) {
    if (value > max) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", key, " ", value,
                                                     " is out of range [1, ", max,
                                                     "]: not a model eprof can load"));
    }
  }
  if (c.num_heads % c.num_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": num_attention_heads ", c.num_heads,
                                                   " is not a multiple of num_key_value_heads ",
                                                   c.num_kv_heads));
  }
  if (f == Family::kStableLm) {
    c.head_dim = c.hidden_size / c.num_heads;  // StableLM ignores head_dim
  } else {
    EPROF_ASSIGN_OR_RETURN(c.head_dim, r.Int("head_dim", d.head_dim));
    if (c.head_dim == 0 || (!r.Has("head_dim") && f != Family::kQwen3 && f != Family::kGemma &&
                            f != Family::kGemma2 && f != Family::kGemma3)) {
      c.head_dim = c.hidden_size / c.num_heads;
    }
  }
  if (c.head_dim <= 0 || c.head_dim > kMaxHeadDim) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": head_dim ", c.head_dim,
                                                   " is out of range [1, ", kMaxHeadDim, "]"));
  }
  EPROF_ASSIGN_OR_RETURN(c.max_position_embeddings, r.Int("max_position_embeddings", d.max_pos));
  if (c.max_position_embeddings <= 0 || c.max_position_embeddings > kMaxPositions) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": max_position_embeddings ",
                                                   c.max_position_embeddings,
                                                   " is out of range [1, ", kMaxPositions, "]"));
  }
  EPROF_ASSIGN_OR_RETURN(c.norm_eps, r.Num(f == Family::kStableLm ? "layer_norm_eps" : "rms_norm_eps", d.eps));
  EPROF_ASSIGN_OR_RETURN(c.tie_word_embeddings, r.Bool("tie_word_embeddings", d.tie));
  if (root.contains("tie_word_embeddings") && cfg != &root) {
    EPROF_ASSIGN_OR_RETURN(c.tie_word_embeddings,
                           Reader(root, source).Bool("tie_word_embeddings", c.tie_word_embeddings));
  }
  // The activation key differs by family (hf-models.md §5–7); Gemma 1 follows HF ≥ 4.48
  // (hidden_act).
  const bool uses_hidden_activation = f == Family::kGemma2 || f == Family::kGemma3;
  EPROF_ASSIGN_OR_RETURN(std::string act,
                         r.Str(uses_hidden_activation ? "hidden_activation" : "hidden_act", d.act));
  bool act_ok = false;
  c.activation = ParseActivation(act, &act_ok);
  if (!act_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": unsupported activation '", act, "' (supported: silu, gelu, gelu_pytorch_tanh)"));
  }
  // dtype: v5 "dtype", v4 "torch_dtype".
  EPROF_ASSIGN_OR_RETURN(c.dtype, Reader(root, source).Str("dtype", ""));
  if (c.dtype.empty()) {
    EPROF_ASSIGN_OR_RETURN(c.dtype, Reader(root, source).Str("torch_dtype", "float32"));
  }
  EPROF_ASSIGN_OR_RETURN(c.bos_token_id, r.Int("bos_token_id", -1));
  EPROF_ASSIGN_OR_RETURN(c.eos_token_ids, IdList(*cfg, source, "eos_token_id"));

  // Family particulars.
  c.norm = NormKind::kRms;
  switch (f) {
    case Family::kLlama:
    case Family::kMistral:
    case Family::kPhi3: {
      EPROF_ASSIGN_OR_RETURN(bool attention_bias, r.Bool("attention_bias", false));
      c.qkv_bias = c.o_bias = attention_bias && f == Family::kLlama;
      EPROF_ASSIGN_OR_RETURN(bool mlp_bias, r.Bool("mlp_bias", false));
      c.mlp_bias = mlp_bias && f == Family::kLlama;
      c.fused_projections = f == Family::kPhi3;
      break;
    }
    case Family::kQwen2:
      c.qkv_bias = true;
      break;
    case Family::kQwen3: {
      EPROF_ASSIGN_OR_RETURN(bool attention_bias, r.Bool("attention_bias", false));
      c.qkv_bias = c.o_bias = attention_bias;
      c.qk_norm = QkNorm::kRms;
      break;
    }
    case Family::kGemma:
    case Family::kGemma2:
    case Family::kGemma3: {
      c.norm = NormKind::kGemmaRms;
      c.scale_embedding = true;
      EPROF_ASSIGN_OR_RETURN(bool attention_bias, r.Bool("attention_bias", false));
      c.qkv_bias = c.o_bias = attention_bias;
      c.four_norms = f != Family::kGemma;
      if (f == Family::kGemma3) c.qk_norm = QkNorm::kGemmaRms;
      break;
    }
    case Family::kStableLm: {
      c.norm = NormKind::kLayerNorm;
      EPROF_ASSIGN_OR_RETURN(c.qkv_bias, r.Bool("use_qkv_bias", false));
      EPROF_ASSIGN_OR_RETURN(bool qk_layernorm, r.Bool("qk_layernorm", false));
      if (qk_layernorm) c.qk_norm = QkNorm::kLayerNormPerHead;
      EPROF_ASSIGN_OR_RETURN(c.parallel_residual, r.Bool("use_parallel_residual", false));
      c.divide_by_sqrt_head_dim = true;
      break;
    }
  }

  // Attention scaling and softcapping.
  c.attn_scaling = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  if (f == Family::kGemma2 || f == Family::kGemma3) {
    EPROF_ASSIGN_OR_RETURN(double qpas, r.Num("query_pre_attn_scalar", 256.0));
    c.attn_scaling = std::pow(qpas, -0.5);
    const double attn_cap_default = f == Family::kGemma2 ? 50.0 : 0.0;
    const double final_cap_default = f == Family::kGemma2 ? 30.0 : 0.0;
    EPROF_ASSIGN_OR_RETURN(c.attn_softcap, r.Num("attn_logit_softcapping", attn_cap_default));
    // transformers' Gemma3Attention keeps attn_logit_softcapping but passes no softcap to its
    // attention function: only Gemma 2 caps attention logits. The key is read (a wrong type is
    // still an error) and ignored for Gemma 3. Its final softcap does apply.
    if (f == Family::kGemma3) c.attn_softcap = 0;
    EPROF_ASSIGN_OR_RETURN(c.final_softcap, r.Num("final_logit_softcapping", final_cap_default));
    // An explicit null means "no softcap".
    if (cfg->contains("attn_logit_softcapping") && (*cfg)["attn_logit_softcapping"].is_null()) c.attn_softcap = 0;
    if (cfg->contains("final_logit_softcapping") && (*cfg)["final_logit_softcapping"].is_null()) c.final_softcap = 0;
  }

  // Sliding window and which layers use it.
  bool window_on = false;
  EPROF_ASSIGN_OR_RETURN(c.sliding_window, r.Int("sliding_window", d.sliding_window));
  if (cfg->contains("sliding_window") && (*cfg)["sliding_window"].is_null()) c.sliding_window = 0;
  c.layer_sliding.assign(c.num_layers, false);
  if (f == Family::kQwen2 || f == Family::kQwen3) {
    EPROF_ASSIGN_OR_RETURN(bool use_sw, r.Bool("use_sliding_window", false));
    EPROF_ASSIGN_OR_RETURN(int64_t max_window_layers, r.Int("max_window_layers", 28));
    window_on = use_sw && c.sliding_window > 0;
    for (int64_t i = 0; i < c.num_layers; ++i) {
      c.layer_sliding[i] = window_on && i >= max_window_layers;
    }
  } else if (f == Family::kGemma2) {
    window_on = c.sliding_window > 0;
    for (int64_t i = 0; i < c.num_layers; ++i) c.layer_sliding[i] = window_on && (i + 1) % 2 != 0;
  } else if (f == Family::kGemma3) {
    window_on = c.sliding_window > 0;
    EPROF_ASSIGN_OR_RETURN(int64_t pattern, r.Int("sliding_window_pattern", 6));
    for (int64_t i = 0; i < c.num_layers; ++i) {
      c.layer_sliding[i] = window_on && (pattern <= 0 || (i + 1) % pattern != 0);
    }
  } else if (f == Family::kMistral || f == Family::kPhi3) {
    window_on = c.sliding_window > 0;
    for (int64_t i = 0; i < c.num_layers; ++i) c.layer_sliding[i] = window_on;
  }
  if (cfg->contains("layer_types") && (*cfg)["layer_types"].is_array()) {
    const Json& types = (*cfg)["layer_types"];
    if (static_cast<int64_t>(types.size()) != c.num_layers) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": layer_types has ", types.size(),
                                                     " entries for ", c.num_layers, " layers"));
    }
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const std::string t = types[i].is_string() ? types[i].get<std::string>() : "";
      if (t != "sliding_attention" && t != "full_attention") {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ": layer_types[", i, "] must be \"sliding_attention\" or \"full_attention\""));
      }
      c.layer_sliding[i] = t == "sliding_attention" && c.sliding_window > 0;
    }
  }
  bool any_sliding = false;
  for (bool s : c.layer_sliding) any_sliding |= s;
  if (!any_sliding) c.sliding_window = 0;

  // Rotary embedding.
  double prf_default = f == Family::kStableLm ? 0.25 : 1.0;
  EPROF_ASSIGN_OR_RETURN(c.partial_rotary_factor, r.Num("partial_rotary_factor", prf_default));
  EPROF_ASSIGN_OR_RETURN(c.rope.theta, r.Num("rope_theta", d.theta));
  EPROF_ASSIGN_OR_RETURN(c.rope.original_max_position_embeddings,
                         r.Int("original_max_position_embeddings", 0));
  const int64_t top_level_original_max = c.rope.original_max_position_embeddings;
  c.local_rope = RopeConfig();
  EPROF_ASSIGN_OR_RETURN(c.local_rope.theta, r.Num("rope_local_base_freq", 10000.0));
  if (r.Has("rope_scaling")) {
    EPROF_RETURN_IF_ERROR(ReadRopeDict((*cfg)["rope_scaling"], source, &c.rope));
  }
  if (r.Has("rope_parameters")) {
    const Json& rp = (*cfg)["rope_parameters"];
    if (rp.is_object() && rp.contains("full_attention")) {
      EPROF_RETURN_IF_ERROR(ReadRopeDict(rp["full_attention"], source, &c.rope));
      if (rp.contains("sliding_attention")) {
        EPROF_RETURN_IF_ERROR(ReadRopeDict(rp["sliding_attention"], source, &c.local_rope));
      }
    } else {
      EPROF_RETURN_IF_ERROR(ReadRopeDict(rp, source, &c.rope));
    }
  }
  if (c.rope.type == "longrope") {
    const int64_t d2 = c.rotary_dims() / 2;
    if (static_cast<int64_t>(c.rope.short_factor.size()) != d2 ||
        static_cast<int64_t>(c.rope.long_factor.size()) != d2) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": longrope short_factor and long_factor need ", d2, " entries each"));
    }
    if (top_level_original_max > 0) {
      c.rope.original_max_position_embeddings = top_level_original_max;
      c.rope.factor = static_cast<double>(c.max_position_embeddings) / top_level_original_max;
    }
    if (c.rope.original_max_position_embeddings <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": longrope needs original_max_position_embeddings"));
    }
  }
  if (c.rotary_dims() <= 0 || c.rotary_dims() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": rotary dimensions ", c.rotary_dims(),
                                                   " (head_dim × partial_rotary_factor) must be "
                                                   "positive and even"));
  }
  return c;
}

absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& dir) {
  const std::string path = dir + "/config.json";
  absl::StatusOr<std::string> real = ResolveInside(dir, "config.json");
  if (absl::IsNotFound(real.status())) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open (missing file?)"));
  }
  if (!real.ok()) return real.status();
  EPROF_ASSIGN_OR_RETURN(std::string text, ReadTextFile(*real));
  return ParseModelConfig(text, path);
}

absl::StatusOr<GenerationConfig> ParseGenerationConfig(const std::string& json_text,
                                                       const std::string& source) {
  Json j = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a JSON object"));
  }
  GenerationConfig g;
  Reader r(j, source);
  EPROF_ASSIGN_OR_RETURN(g.eos_token_ids, IdList(j, source, "eos_token_id"));
  EPROF_ASSIGN_OR_RETURN(g.do_sample, r.Bool("do_sample", false));
  EPROF_ASSIGN_OR_RETURN(g.temperature, r.Num("temperature", 1.0));
  EPROF_ASSIGN_OR_RETURN(g.top_k, r.Int("top_k", 50));
  EPROF_ASSIGN_OR_RETURN(g.top_p, r.Num("top_p", 1.0));
  EPROF_ASSIGN_OR_RETURN(g.max_new_tokens, r.Int("max_new_tokens", 0));
  return g;
}

absl::StatusOr<GenerationConfig> LoadGenerationConfig(const std::string& dir) {
  const std::string path = dir + "/generation_config.json";
  absl::StatusOr<std::string> real = ResolveInside(dir, "generation_config.json");
  if (absl::IsNotFound(real.status())) return GenerationConfig();
  if (!real.ok()) return real.status();
  auto text = ReadTextFile(*real);
  if (!text.ok()) return GenerationConfig();
  return ParseGenerationConfig(*text, path);
}

}  // namespace eprof::engine
