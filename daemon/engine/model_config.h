// What a Hugging Face model directory says about the model: config.json (with each family's
// defaults for missing keys, transformers v4 and v5 spellings) and generation_config.json.
//
//   EPROF_ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig("/models/smollm"));
//
// Plain data; no libtorch. See shared/reference/hf-models.md for the per-family rules.
#ifndef EPROF_DAEMON_ENGINE_MODEL_CONFIG_H_
#define EPROF_DAEMON_ENGINE_MODEL_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace eprof::engine {

enum class Family { kLlama, kMistral, kQwen2, kQwen3, kGemma, kGemma2, kGemma3, kPhi3, kStableLm };

// "llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "phi3", "stablelm".
const char* FamilyName(Family family);
// Accepts the names above (and "gemma3"); InvalidArgument otherwise, listing the known ones.
absl::StatusOr<Family> ParseFamily(const std::string& name);

enum class NormKind { kRms, kGemmaRms, kLayerNorm };
enum class QkNorm { kNone, kRms, kGemmaRms, kLayerNormPerHead };
enum class Activation { kSilu, kGeluExact, kGeluTanh };

struct RopeConfig {
  std::string type = "default";  // default, linear, dynamic, llama3, longrope, yarn
  double theta = 10000.0;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;  // 0: not given
  std::vector<double> short_factor, long_factor;  // longrope
  double attention_factor = -1.0;                 // < 0: derive
  double beta_fast = 32.0, beta_slow = 1.0;       // yarn
};

struct ModelConfig {
  Family family = Family::kLlama;
  std::string model_type;
  std::string architecture;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  double norm_eps = 1e-6;
  Activation activation = Activation::kSilu;
  NormKind norm = NormKind::kRms;
  QkNorm qk_norm = QkNorm::kNone;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;
  bool o_bias = false;
  bool mlp_bias = false;
  // Phi-3: q, k and v in one qkv_proj, and gate and up in one gate_up_proj.
  bool fused_projections = false;
  bool four_norms = false;     // gemma2/3: post-attention and pre/post-feedforward norms
  bool scale_embedding = false;  // gemma: h = E[ids] * sqrt(H) (rounded to model dtype)
  bool parallel_residual = false;  // stablelm
  bool divide_by_sqrt_head_dim = false;  // stablelm writes scores / sqrt(D)
  double attn_scaling = 0.0;   // q·kᵀ multiplier
  double attn_softcap = 0.0;   // 0: none
  double final_softcap = 0.0;  // 0: none
  int64_t sliding_window = 0;  // 0: none
  std::vector<bool> layer_sliding;  // per layer
  double partial_rotary_factor = 1.0;
  RopeConfig rope;        // global layers
  RopeConfig local_rope;  // gemma3 sliding layers (theta = rope_local_base_freq, no scaling)
  std::string dtype = "float32";  // torch_dtype / dtype as written ("float32", "bfloat16", ...)
  std::vector<int64_t> eos_token_ids;
  int64_t bos_token_id = -1;
  std::string weight_prefix = "model.";  // where the decoder's tensors live
  std::string lm_head_name = "lm_head.weight";

  int64_t rotary_dims() const { return static_cast<int64_t>(head_dim * partial_rotary_factor); }
};

// Sampling defaults from generation_config.json (HF's defaults when a key is absent).
struct GenerationConfig {
  std::vector<int64_t> eos_token_ids;  // empty: take config.json's
  bool do_sample = false;
  double temperature = 1.0;
  int64_t top_k = 50;
  double top_p = 1.0;
  int64_t max_new_tokens = 0;  // 0: not given
};

// Parses config.json text; `source` names the file in errors.
absl::StatusOr<ModelConfig> ParseModelConfig(const std::string& json_text,
                                             const std::string& source);
// Reads DIR/config.json. NotFound if missing.
absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& dir);
// Reads DIR/generation_config.json; a missing file gives the defaults.
absl::StatusOr<GenerationConfig> LoadGenerationConfig(const std::string& dir);
absl::StatusOr<GenerationConfig> ParseGenerationConfig(const std::string& json_text,
                                                       const std::string& source);

// Reads a whole file; NotFound naming it when absent.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_MODEL_CONFIG_H_
