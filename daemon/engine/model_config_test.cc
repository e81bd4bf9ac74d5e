#include "daemon/engine/model_config.h"

#include <cmath>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::engine {
namespace {

using ::eprof::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ModelConfig Parse(const std::string& json) {
  auto c = ParseModelConfig(json, "config.json");
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : ModelConfig();
}

TEST(ModelConfigTest, MissingKeysTakeTheFamilyDefaults) {
  ModelConfig llama = Parse(R"({"model_type":"llama"})");
  EXPECT_EQ(llama.hidden_size, 4096);
  EXPECT_EQ(llama.num_kv_heads, 32);
  EXPECT_FALSE(llama.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(llama.norm_eps, 1e-6);
  ModelConfig gemma = Parse(R"({"model_type":"gemma"})");
  EXPECT_TRUE(gemma.tie_word_embeddings);
  EXPECT_EQ(gemma.head_dim, 256);
  EXPECT_EQ(gemma.norm, NormKind::kGemmaRms);
  EXPECT_EQ(gemma.activation, Activation::kGeluTanh);
  ModelConfig qwen3 = Parse(R"({"model_type":"qwen3","hidden_size":1024,"num_attention_heads":16,"num_key_value_heads":8})");
  EXPECT_EQ(qwen3.head_dim, 128);  // explicit default, not H / nH
  EXPECT_EQ(qwen3.qk_norm, QkNorm::kRms);
  ModelConfig qwen2 = Parse(R"({"model_type":"qwen2"})");
  EXPECT_TRUE(qwen2.qkv_bias);
  EXPECT_FALSE(qwen2.o_bias);
  EXPECT_EQ(qwen2.sliding_window, 0);  // use_sliding_window false
  ModelConfig phi3 = Parse(R"({"model_type":"phi3"})");
  EXPECT_TRUE(phi3.fused_projections);
  EXPECT_DOUBLE_EQ(phi3.norm_eps, 1e-5);
  ModelConfig stablelm = Parse(R"({"model_type":"stablelm","head_dim":7})");
  EXPECT_EQ(stablelm.head_dim, 80);  // always H / nH
  EXPECT_DOUBLE_EQ(stablelm.partial_rotary_factor, 0.25);
  EXPECT_EQ(stablelm.rotary_dims(), 20);
  EXPECT_EQ(stablelm.norm, NormKind::kLayerNorm);
}

TEST(ModelConfigTest, Gemma2AlternatesSlidingLayersAndSoftcaps) {
  ModelConfig c = Parse(R"({"model_type":"gemma2","num_hidden_layers":4,"head_dim":128,
                            "query_pre_attn_scalar":144})");
  EXPECT_THAT(c.layer_sliding, ElementsAre(true, false, true, false));
  EXPECT_EQ(c.sliding_window, 4096);
  EXPECT_DOUBLE_EQ(c.attn_softcap, 50.0);
  EXPECT_DOUBLE_EQ(c.final_softcap, 30.0);
  EXPECT_DOUBLE_EQ(c.attn_scaling, 1.0 / 12.0);
  EXPECT_TRUE(c.four_norms);
}

TEST(ModelConfigTest, Gemma3PatternAndLocalRope) {
  ModelConfig c = Parse(R"({"model_type":"gemma3_text","num_hidden_layers":7,
                            "rope_scaling":{"rope_type":"linear","factor":8.0}})");
  EXPECT_THAT(c.layer_sliding, ElementsAre(true, true, true, true, true, false, true));
  EXPECT_DOUBLE_EQ(c.rope.theta, 1e6);
  EXPECT_EQ(c.rope.type, "linear");
  EXPECT_DOUBLE_EQ(c.local_rope.theta, 10000.0);
  EXPECT_EQ(c.local_rope.type, "default");
  EXPECT_EQ(c.qk_norm, QkNorm::kGemmaRms);
  EXPECT_DOUBLE_EQ(c.final_softcap, 0.0);
}

// transformers' Gemma3Attention passes no softcap, whatever the config says; Gemma 2's does.
TEST(ModelConfigTest, Gemma3IgnoresAttentionSoftcapAsTransformersDoes) {
  ModelConfig g3 = Parse(R"({"model_type":"gemma3_text","attn_logit_softcapping":50.0,
                             "final_logit_softcapping":30.0})");
  EXPECT_DOUBLE_EQ(g3.attn_softcap, 0.0);
  EXPECT_DOUBLE_EQ(g3.final_softcap, 30.0);
  ModelConfig g2 = Parse(R"({"model_type":"gemma2","attn_logit_softcapping":50.0})");
  EXPECT_DOUBLE_EQ(g2.attn_softcap, 50.0);
}

TEST(ModelConfigTest, Gemma3MultimodalReadsTextConfig) {
  ModelConfig c = Parse(R"({"model_type":"gemma3","architectures":["Gemma3ForConditionalGeneration"],
                            "text_config":{"hidden_size":2560,"num_hidden_layers":34}})");
  EXPECT_EQ(c.family, Family::kGemma3);
  EXPECT_EQ(c.hidden_size, 2560);
  EXPECT_EQ(c.num_layers, 34);
  EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(ModelConfigTest, AcceptsV4AndV5Spellings) {
  ModelConfig v4 = Parse(R"({"model_type":"llama","torch_dtype":"bfloat16","rope_theta":500000.0,
      "rope_scaling":{"type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
                      "original_max_position_embeddings":8192}})");
  ModelConfig v5 = Parse(R"({"model_type":"llama","dtype":"bfloat16",
      "rope_parameters":{"rope_type":"llama3","rope_theta":500000.0,"factor":8.0,"low_freq_factor":1.0,
                         "high_freq_factor":4.0,"original_max_position_embeddings":8192}})");
  for (const ModelConfig& c : {v4, v5}) {
    EXPECT_EQ(c.dtype, "bfloat16");
    EXPECT_EQ(c.rope.type, "llama3");
    EXPECT_DOUBLE_EQ(c.rope.theta, 500000.0);
    EXPECT_EQ(c.rope.original_max_position_embeddings, 8192);
  }
  ModelConfig g3 = Parse(R"({"model_type":"gemma3_text","rope_parameters":{
      "full_attention":{"rope_type":"linear","factor":8.0,"rope_theta":1000000.0},
      "sliding_attention":{"rope_type":"default","rope_theta":10000.0}}})");
  EXPECT_EQ(g3.rope.type, "linear");
  EXPECT_DOUBLE_EQ(g3.local_rope.theta, 10000.0);
}

TEST(ModelConfigTest, Phi3SuBecomesLongropeWithFactorFromPositions) {
  std::string factors = "[1,1,1,1,1,1,1,1]";
  ModelConfig c = Parse(R"({"model_type":"phi3","hidden_size":64,"num_attention_heads":4,
      "max_position_embeddings":128,"original_max_position_embeddings":32,
      "rope_scaling":{"type":"su","short_factor":)" + factors + R"(,"long_factor":)" + factors + "}}");
  EXPECT_EQ(c.rope.type, "longrope");
  EXPECT_DOUBLE_EQ(c.rope.factor, 4.0);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 32);
}

TEST(ModelConfigTest, QwenSlidingOnlyWhenEnabled) {
  ModelConfig c = Parse(R"({"model_type":"qwen2","num_hidden_layers":4,"use_sliding_window":true,
                            "sliding_window":16,"max_window_layers":2})");
  EXPECT_THAT(c.layer_sliding, ElementsAre(false, false, true, true));
  EXPECT_EQ(c.sliding_window, 16);
}

TEST(ModelConfigTest, ErrorsNameTheProblem) {
  EXPECT_THAT(ParseModelConfig(R"({"model_type":"gpt_bigcode"})", "/m/config.json").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("/m/config.json"), HasSubstr("gpt_bigcode"))));
  EXPECT_THAT(ParseModelConfig("[1]", "c.json").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a JSON object")));
  EXPECT_THAT(ParseModelConfig(R"({"model_type":"llama","hidden_size":"big"})", "c.json").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hidden_size")));
  EXPECT_THAT(ParseModelConfig(R"({"model_type":"llama","num_attention_heads":6,"num_key_value_heads":4})",
                               "c.json").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("multiple")));
  EXPECT_THAT(ParseModelConfig(R"({"model_type":"llama","rope_scaling":{"type":"weird"}})", "c.json").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("weird")));
  EXPECT_THAT(ParseModelConfig(R"({"model_type":3})", "c.json").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'model_type' is not a string")));
  EXPECT_THAT(LoadModelConfig("/nonexistent/dir").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/dir/config.json")));
}

TEST(ModelConfigTest, EosMayBeAList) {
  auto g = ParseGenerationConfig(R"({"eos_token_id":[128001,128008,128009],"do_sample":true,
                                     "temperature":0.6,"top_p":0.9})", "g.json");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_THAT(g->eos_token_ids, ElementsAre(128001, 128008, 128009));
  EXPECT_EQ(g->top_k, 50);
  EXPECT_DOUBLE_EQ(g->temperature, 0.6);
  ModelConfig c = Parse(R"({"model_type":"gemma","eos_token_id":1})");
  EXPECT_THAT(c.eos_token_ids, ElementsAre(1));
}

}  // namespace
}  // namespace eprof::engine
