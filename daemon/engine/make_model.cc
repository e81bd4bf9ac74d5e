#include "daemon/engine/make_model.h"

#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "daemon/engine/safetensors.h"
#include "daemon/engine/tokenizer_writer.h"
#include "nlohmann/json.hpp"

namespace eprof::engine {
namespace {

using Json = nlohmann::ordered_json;

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  out << text;
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("error writing ", path));
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& dir) {
  std::string partial;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!partial.empty() && ::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        return absl::PermissionDeniedError(absl::StrCat("cannot create directory ", partial));
      }
    }
    if (i < dir.size()) partial.push_back(dir[i]);
  }
  return absl::OkStatus();
}

// config.json for `family` at `preset`.
absl::StatusOr<Json> PresetConfig(Family f, const std::string& preset, int64_t vocab,
                                  int64_t bos, int64_t eos) {
  Json c = Json::object();
  int64_t hidden, layers, heads, kv, inter, max_pos, window;
  if (preset == "tiny") {
    hidden = 64; layers = 2; heads = 4; kv = 2; inter = 128; max_pos = 128; window = 8;
  } else if (preset == "small") {
    hidden = 256; layers = 4; heads = 8; kv = 4; inter = 688; max_pos = 1024; window = 64;
  } else if (preset == "demo") {
    hidden = 576; layers = 30; heads = 9; kv = 3; inter = 1536; max_pos = 2048; window = 4096;
    vocab = std::max<int64_t>(vocab, 49152);  // SmolLM-135M's embedding (rows past the tokenizer are padding)
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown preset '", preset, "' (use tiny, small or demo)"));
  }
  const bool tiny = preset == "tiny";
  const bool demo = preset == "demo";
  c["architectures"] = Json::array();
  c["model_type"] = FamilyName(f);
  c["vocab_size"] = vocab;
  c["hidden_size"] = hidden;
  c["intermediate_size"] = inter;
  c["num_hidden_layers"] = layers;
  c["num_attention_heads"] = heads;
  c["num_key_value_heads"] = kv;
  c["max_position_embeddings"] = max_pos;
  c["bos_token_id"] = bos;
  c["eos_token_id"] = eos;
  c["torch_dtype"] = "float32";
  const int64_t wide_head = tiny ? 32 : 64;  // head_dim != hidden / heads where a family allows it
  switch (f) {
    case Family::kLlama:
      c["architectures"].push_back("LlamaForCausalLM");
      c["rms_norm_eps"] = 1e-5;
      c["rope_theta"] = demo ? 10000.0 : 500000.0;
      c["tie_word_embeddings"] = demo;
      c["hidden_act"] = "silu";
      if (!demo) {
        c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                             {"high_freq_factor", 4.0},
                             {"original_max_position_embeddings", tiny ? 16 : 128}};
      }
      break;
    case Family::kMistral:
      c["architectures"].push_back("MistralForCausalLM");
      c["sliding_window"] = window;
      c["rms_norm_eps"] = 1e-5;
      c["tie_word_embeddings"] = demo;
      break;
    case Family::kQwen2:
      c["architectures"].push_back("Qwen2ForCausalLM");
      c["rope_theta"] = 1000000.0;
      c["tie_word_embeddings"] = demo;
      c["use_sliding_window"] = false;
      c["sliding_window"] = window;
      c["max_window_layers"] = layers;
      break;
    case Family::kQwen3:
      c["architectures"].push_back("Qwen3ForCausalLM");
      c["head_dim"] = wide_head;
      c["rope_theta"] = 1000000.0;
      c["tie_word_embeddings"] = true;
      c["attention_bias"] = false;
      break;
    case Family::kGemma:
      c["architectures"].push_back("GemmaForCausalLM");
      c["head_dim"] = wide_head;
      c["hidden_act"] = "gelu_pytorch_tanh";
      c["tie_word_embeddings"] = true;
      break;
    case Family::kGemma2:
      c["architectures"].push_back("Gemma2ForCausalLM");
      c["head_dim"] = wide_head;
      c["hidden_activation"] = "gelu_pytorch_tanh";
      c["query_pre_attn_scalar"] = wide_head * 3 / 4;
      c["sliding_window"] = window;
      // Small caps in tiny so that tanh bends the random model's scores and logits.
      c["attn_logit_softcapping"] = tiny ? 2.0 : 50.0;
      c["final_logit_softcapping"] = tiny ? 3.0 : 30.0;
      break;
    case Family::kGemma3:
      c["architectures"].push_back("Gemma3ForCausalLM");
      c["head_dim"] = wide_head;
      c["hidden_activation"] = "gelu_pytorch_tanh";
      c["query_pre_attn_scalar"] = wide_head;
      c["sliding_window"] = window;
      c["sliding_window_pattern"] = tiny ? 2 : 6;
      c["rope_theta"] = 1000000.0;
      c["rope_local_base_freq"] = 10000.0;
      c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 8.0}};
      c["final_logit_softcapping"] = nullptr;
      c["attn_logit_softcapping"] = nullptr;
      break;
    case Family::kPhi3: {
      c["architectures"].push_back("Phi3ForCausalLM");
      c["rms_norm_eps"] = 1e-5;
      c["sliding_window"] = demo ? max_pos : window * 2;
      c["tie_word_embeddings"] = demo;
      if (!demo) {
        const int64_t original = max_pos / 4;
        c["original_max_position_embeddings"] = original;
        const int64_t half = hidden / heads / 2;
        Json short_f = Json::array(), long_f = Json::array();
        for (int64_t i = 0; i < half; ++i) {
          short_f.push_back(1.0 + 0.05 * i);
          long_f.push_back(1.0 + 0.5 * i);
        }
        c["rope_scaling"] = {{"type", "longrope"}, {"short_factor", short_f}, {"long_factor", long_f}};
      }
      break;
    }
    case Family::kStableLm:
      c["architectures"].push_back("StableLmForCausalLM");
      c["layer_norm_eps"] = 1e-5;
      c["partial_rotary_factor"] = 0.25;
      c["use_qkv_bias"] = true;
      c["qk_layernorm"] = !demo;
      c["use_parallel_residual"] = !demo;
      c["tie_word_embeddings"] = demo;
      break;
  }
  return c;
}

struct TensorSink {
  DType dtype;
  std::mt19937_64 rng;
  std::vector<TensorData> tensors;
  void Add(const std::string& name, std::vector<int64_t> shape, double mean, double stddev) {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    std::normal_distribution<float> dist(static_cast<float>(mean), static_cast<float>(stddev));
    TensorData t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.bytes.resize(n * DTypeSizeBytes(dtype));
    if (dtype == DType::kF32) {
      float* out = reinterpret_cast<float*>(t.bytes.data());
      for (size_t i = 0; i < n; ++i) out[i] = dist(rng);
    } else {
      uint16_t* out = reinterpret_cast<uint16_t*>(t.bytes.data());
      for (size_t i = 0; i < n; ++i) out[i] = FloatToBf16(dist(rng));
    }
    tensors.push_back(std::move(t));
  }
};

void AddWeights(const ModelConfig& c, TensorSink* sink) {
  const int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  const int64_t nH = c.num_heads, nKV = c.num_kv_heads, V = c.vocab_size;
  const double norm_mean = c.norm == NormKind::kGemmaRms ? 0.0 : 1.0;
  auto linear = [&](const std::string& name, int64_t out, int64_t in, bool bias) {
    sink->Add(name + ".weight", {out, in}, 0.0, 1.0 / std::sqrt(static_cast<double>(in)));
    if (bias) sink->Add(name + ".bias", {out}, 0.0, 0.1);
  };
  auto norm = [&](const std::string& name, int64_t dim) {
    sink->Add(name + ".weight", {dim}, norm_mean, 0.1);
    if (c.norm == NormKind::kLayerNorm) sink->Add(name + ".bias", {dim}, 0.0, 0.1);
  };
  const std::string p = "model.";
  sink->Add(p + "embed_tokens.weight", {V, H}, 0.0, c.scale_embedding ? 0.2 : 1.0);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string lp = absl::StrCat(p, "layers.", i, ".");
    norm(lp + "input_layernorm", H);
    if (!c.parallel_residual) norm(lp + "post_attention_layernorm", H);
    if (c.four_norms) {
      norm(lp + "pre_feedforward_layernorm", H);
      norm(lp + "post_feedforward_layernorm", H);
    }
    const std::string ap = lp + "self_attn.";
    if (c.fused_projections) {
      linear(ap + "qkv_proj", (nH + 2 * nKV) * D, H, c.qkv_bias);
    } else {
      linear(ap + "q_proj", nH * D, H, c.qkv_bias);
      linear(ap + "k_proj", nKV * D, H, c.qkv_bias);
      linear(ap + "v_proj", nKV * D, H, c.qkv_bias);
    }
    linear(ap + "o_proj", H, nH * D, c.o_bias);
    if (c.qk_norm == QkNorm::kRms || c.qk_norm == QkNorm::kGemmaRms) {
      sink->Add(ap + "q_norm.weight", {D}, norm_mean, 0.1);
      sink->Add(ap + "k_norm.weight", {D}, norm_mean, 0.1);
    } else if (c.qk_norm == QkNorm::kLayerNormPerHead) {
      for (int64_t h = 0; h < nH; ++h) sink->Add(absl::StrCat(ap, "q_layernorm.norms.", h, ".weight"), {D}, 1.0, 0.1);
      for (int64_t h = 0; h < nKV; ++h) sink->Add(absl::StrCat(ap, "k_layernorm.norms.", h, ".weight"), {D}, 1.0, 0.1);
    }
    const std::string mp = lp + "mlp.";
    if (c.fused_projections) {
      linear(mp + "gate_up_proj", 2 * I, H, c.mlp_bias);
    } else {
      linear(mp + "gate_proj", I, H, c.mlp_bias);
      linear(mp + "up_proj", I, H, c.mlp_bias);
    }
    linear(mp + "down_proj", H, I, c.mlp_bias);
  }
  norm(p + "norm", H);
  if (!c.tie_word_embeddings) linear("lm_head", V, H, false);
}

}  // namespace

absl::Status MakeModel(const MakeModelOptions& o) {
  if (o.out_dir.empty()) return absl::InvalidArgumentError("mkmodel needs an output directory");
  DType dtype;
  if (o.dtype == "float32" || o.dtype == "f32") {
    dtype = DType::kF32;
  } else if (o.dtype == "bfloat16" || o.dtype == "bf16") {
    dtype = DType::kBF16;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("bad dtype '", o.dtype, "' (float32 or bfloat16)"));
  }
  TokenizerSpec tok;
  if (o.tokenizer_path.empty()) {
    tok = MakeByteLevelBpeTokenizer(o.preset == "tiny" ? 40 : 400);
  } else {
    EPROF_ASSIGN_OR_RETURN(tok, DescribeTokenizerFile(o.tokenizer_path));
  }
  EPROF_ASSIGN_OR_RETURN(Json config, PresetConfig(o.family, o.preset, tok.vocab_size,
                                                   tok.bos_token_id, tok.eos_token_id));
  config["torch_dtype"] = dtype == DType::kF32 ? "float32" : "bfloat16";
  if (!o.config_patch_json.empty()) {
    Json patch = Json::parse(o.config_patch_json, nullptr, false);
    if (patch.is_discarded() || !patch.is_object()) {
      return absl::InvalidArgumentError("config patch must be a JSON object");
    }
    config.merge_patch(patch);
  }
  const std::string config_text = config.dump(2);
  EPROF_ASSIGN_OR_RETURN(ModelConfig parsed, ParseModelConfig(config_text, "generated config.json"));
  if (parsed.vocab_size < tok.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("vocab_size ", parsed.vocab_size,
                                                   " is smaller than the tokenizer's ", tok.vocab_size));
  }
  EPROF_RETURN_IF_ERROR(MakeDirs(o.out_dir));
  EPROF_RETURN_IF_ERROR(WriteFile(o.out_dir + "/config.json", config_text + "\n"));
  EPROF_RETURN_IF_ERROR(WriteFile(o.out_dir + "/tokenizer.json", tok.json));
  Json gen = Json::object();
  if (tok.bos_token_id >= 0) gen["bos_token_id"] = tok.bos_token_id;
  if (tok.eos_token_id >= 0) gen["eos_token_id"] = Json::array({tok.eos_token_id});
  gen["do_sample"] = false;
  EPROF_RETURN_IF_ERROR(WriteFile(o.out_dir + "/generation_config.json", gen.dump(2) + "\n"));

  TensorSink sink{dtype, std::mt19937_64(o.seed), {}};
  AddWeights(parsed, &sink);
  // Remove stale weights from an earlier run in the same directory.
  std::remove((o.out_dir + "/model.safetensors").c_str());
  std::remove((o.out_dir + "/model.safetensors.index.json").c_str());
  if (o.max_shard_bytes <= 0) {
    return WriteSafetensors(o.out_dir + "/model.safetensors", sink.tensors);
  }
  std::vector<std::vector<TensorData>> shards(1);
  int64_t shard_bytes = 0, total = 0;
  for (TensorData& t : sink.tensors) {
    const int64_t size = static_cast<int64_t>(t.bytes.size());
    if (shard_bytes > 0 && shard_bytes + size > o.max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shard_bytes += size;
    total += size;
    shards.back().push_back(std::move(t));
  }
  Json index = {{"metadata", {{"total_size", total}}}, {"weight_map", Json::object()}};
  for (size_t s = 0; s < shards.size(); ++s) {
    const std::string name = absl::StrFormat("model-%05d-of-%05d.safetensors", s + 1, shards.size());
    for (const TensorData& t : shards[s]) index["weight_map"][t.name] = name;
    EPROF_RETURN_IF_ERROR(WriteSafetensors(o.out_dir + "/" + name, shards[s]));
  }
  return WriteFile(o.out_dir + "/model.safetensors.index.json", index.dump(2) + "\n");
}

}  // namespace eprof::engine
