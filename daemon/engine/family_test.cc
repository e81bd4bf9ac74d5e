// Each family against an independent double-precision reference written from hf-models.md
// (reference_forward.cc), and each family's particulars: sliding windows on prompts longer than
// the window, softcapping, longrope's long factors, tied and untied heads, biases, partial
// rotary and parallel residual. No transformers reference logits exist here (no GPU machine was
// lent to this work, so transformers could not be run); see the report.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/status_matchers.h"
#include "daemon/engine/make_model.h"
#include "daemon/engine/model.h"
#include "daemon/engine/reference_forward.h"
#include "daemon/engine/safetensors.h"
#include "daemon/engine/test_util.h"
#include "gtest/gtest.h"

namespace eprof::engine {
namespace {

std::vector<int32_t> Ids(int n, int salt = 0) {
  std::vector<int32_t> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = (i * 53 + 17 + salt) % 290;
  return ids;
}

std::unique_ptr<Model> Build(const MakeModelOptions& o) {
  absl::Status s = MakeModel(o);
  EXPECT_TRUE(s.ok()) << s;
  auto m = Model::Load(o.out_dir, {});
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

struct Variant {
  const char* name;
  Family family;
  const char* patch;  // config.json merge patch
  int tokens;
};

class ReferenceTest : public ::testing::TestWithParam<Variant> {};

// fp32 engine vs double reference: max |Δlogit| ≤ 1e-4 at every position.
TEST_P(ReferenceTest, MatchesTheDoublePrecisionReference) {
  const Variant& v = GetParam();
  TempDir dir;
  MakeModelOptions o;
  o.family = v.family;
  o.out_dir = dir.path();
  o.seed = 21;
  o.config_patch_json = v.patch;
  auto model = Build(o);
  ASSERT_NE(model, nullptr);
  const std::vector<int32_t> ids = Ids(v.tokens);
  std::vector<float> logits;
  EPROF_ASSERT_OK(model->Forward(ids, true, &logits));
  EPROF_ASSERT_OK_AND_ASSIGN(auto ref, ReferenceForward(dir.path(), ids));
  const size_t V = model->config().vocab_size;
  double worst = 0, range = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    for (size_t j = 0; j < V; ++j) {
      worst = std::max(worst, std::fabs(logits[t * V + j] - ref[t][j]));
      range = std::max(range, std::fabs(ref[t][j]));
    }
  }
  EXPECT_LT(worst, 1e-4) << v.name << " (max |logit| " << range << ")";
  EXPECT_GT(range, 0.5);
}

INSTANTIATE_TEST_SUITE_P(
    Families, ReferenceTest,
    ::testing::Values(
        Variant{"llama_llama3_rope_untied", Family::kLlama, "", 24},
        Variant{"llama_tied_bias", Family::kLlama,
                R"({"tie_word_embeddings":true,"attention_bias":true,"mlp_bias":true,"rope_scaling":null})", 12},
        Variant{"mistral_window", Family::kMistral, "", 24},
        Variant{"qwen2_bias", Family::kQwen2, "", 12},
        Variant{"qwen2_sliding_upper_layer", Family::kQwen2,
                R"({"use_sliding_window":true,"max_window_layers":1})", 20},
        Variant{"qwen3_qknorm_wide_heads", Family::kQwen3, "", 12},
        Variant{"gemma_exact_gelu", Family::kGemma, R"({"hidden_act":"gelu"})", 12},
        Variant{"gemma2_softcap_window", Family::kGemma2, "", 24},
        Variant{"gemma3_local_global_rope", Family::kGemma3, "", 24},
        Variant{"phi3_longrope_short", Family::kPhi3, "", 20},
        Variant{"phi3_longrope_long", Family::kPhi3, "", 40},
        Variant{"stablelm_parallel_qk_layernorm", Family::kStableLm, "", 12},
        Variant{"stablelm_sequential", Family::kStableLm,
                R"({"use_parallel_residual":false,"qk_layernorm":false,"use_qkv_bias":false})", 12}),
    [](const auto& info) { return std::string(info.param.name); });

// Before, a generation that crossed original_max_position_embeddings kept the earlier keys
// rotated with the short factors, where transformers drops the cache and recomputes every
// position with the long ones: greedy tokens differed from the first step past the boundary.
// Now each KV-cached step equals a full forward over the sequence so far, on both sides of it.
TEST(FamilyTest, Phi3LongropeRecomputesTheCacheWhenTheSequenceCrossesTheOriginalLength) {
  TempDir dir;
  MakeModelOptions o;
  o.family = Family::kPhi3;
  o.out_dir = dir.path();
  o.seed = 9;
  auto cached = Build(o);
  ASSERT_NE(cached, nullptr);
  auto fresh = Model::Load(dir.path(), {});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  const int64_t original = cached->config().rope.original_max_position_embeddings;
  ASSERT_EQ(cached->config().rope.type, "longrope");
  const int total = static_cast<int>(original) + 6;
  const std::vector<int32_t> ids = Ids(total, 3);
  const size_t V = cached->config().vocab_size;
  std::vector<float> step;
  const int prefill = static_cast<int>(original) - 4;
  EPROF_ASSERT_OK(cached->Forward({ids.begin(), ids.begin() + prefill}, false, &step));
  double worst_after = 0;
  for (int i = prefill; i < total; ++i) {
    EPROF_ASSERT_OK(cached->Forward({ids[i]}, false, &step));
    std::vector<float> full;
    (*fresh)->ResetCache();
    EPROF_ASSERT_OK((*fresh)->Forward({ids.begin(), ids.begin() + i + 1}, false, &full));
    ASSERT_EQ(step.size(), V);
    double worst = 0;
    for (size_t j = 0; j < V; ++j) worst = std::max(worst, double(std::fabs(step[j] - full[j])));
    EXPECT_LT(worst, 1e-4) << "position " << i << " (original length " << original << ")";
    if (i >= original) worst_after = std::max(worst_after, worst);
  }
  EXPECT_EQ(cached->cache_length(), total);
  EXPECT_LT(worst_after, 1e-4);
}

// With window W = 8 and 2 layers, position p sees back at most 2·7 tokens: changing token 0 of
// a 30-token prompt cannot change the last logits (exactly), while a full-attention model does.
TEST(FamilyTest, SlidingWindowLimitsHowFarBackALayerSees) {
  for (Family f : {Family::kMistral, Family::kLlama}) {
    TempDir dir;
    MakeModelOptions o;
    o.family = f;
    o.out_dir = dir.path();
    auto model = Build(o);
    ASSERT_NE(model, nullptr);
    std::vector<int32_t> a = Ids(30), b = a;
    b[0] = (b[0] + 1) % 200;
    std::vector<float> la, lb;
    EPROF_ASSERT_OK(model->Forward(a, false, &la));
    model->ResetCache();
    EPROF_ASSERT_OK(model->Forward(b, false, &lb));
    if (f == Family::kMistral) {
      EXPECT_EQ(la, lb);
    } else {
      EXPECT_NE(la, lb);
    }
  }
}

TEST(FamilyTest, Gemma2SoftcapsTheFinalLogits) {
  TempDir dir;
  MakeModelOptions o;
  o.family = Family::kGemma2;
  o.out_dir = dir.path();
  auto model = Build(o);
  ASSERT_NE(model, nullptr);
  ASSERT_DOUBLE_EQ(model->config().final_softcap, 3.0);
  std::vector<float> logits;
  EPROF_ASSERT_OK(model->Forward(Ids(10), true, &logits));
  const auto [lo, hi] = std::minmax_element(logits.begin(), logits.end());
  EXPECT_GT(*lo, -3.0f);
  EXPECT_LT(*hi, 3.0f);
  EXPECT_GT(*hi - *lo, 2.0f);  // the cap bends real values, not a flat model
}

TEST(FamilyTest, TiedHeadsHaveNoLmHeadTensorAndUntiedOnesDo) {
  TempDir tied, untied;
  MakeModelOptions o;
  o.family = Family::kQwen3;
  o.out_dir = tied.path();
  ASSERT_NE(Build(o), nullptr);
  o.family = Family::kLlama;
  o.out_dir = untied.path();
  ASSERT_NE(Build(o), nullptr);
  EPROF_ASSERT_OK_AND_ASSIGN(auto t, SafetensorsFile::Open(tied.path() + "/model.safetensors"));
  EPROF_ASSERT_OK_AND_ASSIGN(auto u, SafetensorsFile::Open(untied.path() + "/model.safetensors"));
  EXPECT_EQ(t->Find("lm_head.weight"), nullptr);
  EXPECT_NE(u->Find("lm_head.weight"), nullptr);
  EXPECT_NE(u->Find("model.layers.0.self_attn.q_proj.weight"), nullptr);
  EXPECT_EQ(u->Find("model.layers.0.self_attn.q_proj.bias"), nullptr);
}

TEST(FamilyTest, Qwen2NeedsItsQkvBiases) {
  TempDir dir;
  MakeModelOptions o;
  o.family = Family::kQwen2;
  o.out_dir = dir.path();
  EPROF_ASSERT_OK(MakeModel(o));
  // Rewrite the checkpoint without the k_proj bias of layer 1.
  EPROF_ASSERT_OK_AND_ASSIGN(auto file, SafetensorsFile::Open(dir.path() + "/model.safetensors"));
  std::vector<TensorData> kept;
  for (const auto& [name, view] : file->tensors()) {
    if (name == "model.layers.1.self_attn.k_proj.bias") continue;
    kept.push_back({name, view.dtype, view.shape,
                    std::string(static_cast<const char*>(view.data), view.size_bytes)});
  }
  file.reset();
  EPROF_ASSERT_OK(WriteSafetensors(dir.path() + "/model.safetensors", kept));
  auto m = Model::Load(dir.path(), {});
  EXPECT_TRUE(absl::IsNotFound(m.status()));
  EXPECT_NE(m.status().message().find("model.layers.1.self_attn.k_proj.bias"), std::string::npos)
      << m.status();
}

TEST(FamilyTest, MkmodelDemoPresetHasSmolLmShape) {
  // Only the config (the weights of demo are 540 MB): parse what the preset writes.
  TempDir dir;
  MakeModelOptions o;
  o.preset = "demo";
  o.out_dir = dir.path();
  o.config_patch_json = R"({"num_hidden_layers":1})";  // keep the test fast
  EPROF_ASSERT_OK(MakeModel(o));
  EPROF_ASSERT_OK_AND_ASSIGN(ModelConfig c, LoadModelConfig(dir.path()));
  EXPECT_EQ(c.hidden_size, 576);
  EXPECT_EQ(c.num_heads, 9);
  EXPECT_EQ(c.num_kv_heads, 3);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/tokenizer.json"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/generation_config.json"));
}

}  // namespace
}  // namespace eprof::engine
