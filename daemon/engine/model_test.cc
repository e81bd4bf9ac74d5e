// The engine against itself and its inputs: KV-cache decoding equals one full forward for every
// family, sharded == single file, bf16 ≈ f32, every malformed input, the observer, generation.
#include "daemon/engine/model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/status_matchers.h"
#include "nlohmann/json.hpp"
#include "daemon/engine/generator.h"
#include "daemon/engine/make_model.h"
#include "daemon/engine/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::engine {
namespace {

using ::eprof::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::unique_ptr<Model> MakeAndLoad(const MakeModelOptions& o, const LoadOptions& lo = {}) {
  absl::Status s = MakeModel(o);
  EXPECT_TRUE(s.ok()) << s;
  auto m = Model::Load(o.out_dir, lo);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

std::vector<int32_t> Prompt(int n, int seed = 0) {
  std::vector<int32_t> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = (i * 31 + 7 + seed * 13) % 250;
  return ids;
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b, size_t offset_b = 0) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[offset_b + i]));
  return d;
}

// The shard files of DIR, sorted.
std::vector<std::string> ShardFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("model-0", 0) == 0) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class EveryFamilyTest : public ::testing::TestWithParam<Family> {};

// 20 tokens: longer than every tiny sliding window (8; phi3 16), and than phi3's longrope
// original length (32 → no; see family_test for the long/short switch).
TEST_P(EveryFamilyTest, KvCacheDecodingMatchesFullForward) {
  TempDir dir;
  MakeModelOptions o;
  o.family = GetParam();
  o.out_dir = dir.path();
  o.seed = 5;
  auto model = MakeAndLoad(o);
  ASSERT_NE(model, nullptr);
  const int64_t V = model->config().vocab_size;
  const std::vector<int32_t> ids = Prompt(20);
  std::vector<float> full;
  EPROF_ASSERT_OK(model->Forward(ids, /*all_positions=*/true, &full));
  ASSERT_EQ(full.size(), ids.size() * V);
  model->ResetCache();
  std::vector<float> step;
  const int prefill = 11;
  EPROF_ASSERT_OK(model->Forward({ids.begin(), ids.begin() + prefill}, true, &step));
  EXPECT_LT(MaxAbsDiff(step, full), 1e-4);
  double worst = 0;
  for (size_t i = prefill; i < ids.size(); ++i) {
    EPROF_ASSERT_OK(model->Forward({ids[i]}, false, &step));
    ASSERT_EQ(static_cast<int64_t>(step.size()), V);
    worst = std::max(worst, MaxAbsDiff(step, full, i * V));
  }
  EXPECT_EQ(model->cache_length(), 20);
  EXPECT_LT(worst, 1e-4) << FamilyName(GetParam());
  // The logits are not degenerate (the test would pass trivially on constants).
  const auto [lo, hi] = std::minmax_element(full.begin(), full.end());
  EXPECT_GT(*hi - *lo, 0.5);
}

INSTANTIATE_TEST_SUITE_P(Families, EveryFamilyTest,
                         ::testing::Values(Family::kLlama, Family::kMistral, Family::kQwen2,
                                           Family::kQwen3, Family::kGemma, Family::kGemma2,
                                           Family::kGemma3, Family::kPhi3, Family::kStableLm),
                         [](const auto& info) { return std::string(FamilyName(info.param)); });

TEST(ModelTest, ShardedAndSingleFileGiveTheSameLogits) {
  TempDir a, b;
  MakeModelOptions o;
  o.family = Family::kQwen2;
  o.out_dir = a.path();
  auto single = MakeAndLoad(o);
  o.out_dir = b.path();
  o.max_shard_bytes = 40000;
  auto sharded = MakeAndLoad(o);
  ASSERT_TRUE(single && sharded);
  EXPECT_TRUE(std::filesystem::exists(b.path() + "/model.safetensors.index.json"));
  EXPECT_GE(ShardFiles(b.path()).size(), 3u);
  std::vector<float> x, y;
  EPROF_ASSERT_OK(single->Forward(Prompt(9), true, &x));
  EPROF_ASSERT_OK(sharded->Forward(Prompt(9), true, &y));
  EXPECT_EQ(x, y);
}

// bf16 copy (same random draws, rounded) computed in bf16 vs the f32 copy in f32. Stated
// tolerance: max |Δlogit| ≤ 5% of the f32 logits' range; and argmax agrees at most positions.
TEST(ModelTest, Bf16AndF32CopiesAgree) {
  TempDir a, b;
  MakeModelOptions o;
  o.family = Family::kLlama;
  o.out_dir = a.path();
  auto f32 = MakeAndLoad(o);
  o.out_dir = b.path();
  o.dtype = "bfloat16";
  auto bf16 = MakeAndLoad(o);
  ASSERT_TRUE(f32 && bf16);
  EXPECT_EQ(f32->compute_dtype(), "float32");
  EXPECT_EQ(bf16->compute_dtype(), "bfloat16");
  std::vector<float> x, y;
  EPROF_ASSERT_OK(f32->Forward(Prompt(12), true, &x));
  EPROF_ASSERT_OK(bf16->Forward(Prompt(12), true, &y));
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  EXPECT_LT(MaxAbsDiff(x, y), 0.05 * (*hi - *lo));
  // The bf16 checkpoint computed in f32 is closer still (only the weights were rounded).
  LoadOptions as_f32;
  as_f32.dtype = "float32";
  auto upcast = Model::Load(b.path(), as_f32);
  ASSERT_TRUE(upcast.ok()) << upcast.status();
  std::vector<float> z;
  EPROF_ASSERT_OK((*upcast)->Forward(Prompt(12), true, &z));
  EXPECT_LT(MaxAbsDiff(x, z), 0.02 * (*hi - *lo));
  EXPECT_LT(MaxAbsDiff(z, y), 0.05 * (*hi - *lo));
}

TEST(ModelTest, MalformedDirectoriesGiveErrorsNamingFileAndTensor) {
  TempDir dir;
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("config.json")));
  MakeModelOptions o;
  o.out_dir = dir.path();
  EPROF_ASSERT_OK(MakeModel(o));
  const std::string st = dir.path() + "/model.safetensors";
  // Missing weights file.
  std::filesystem::rename(st, st + ".bak");
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("model.safetensors")));
  std::filesystem::rename(st + ".bak", st);
  // Truncated weights file: the last tensor (lm_head) runs past the end.
  const auto size = std::filesystem::file_size(st);
  std::filesystem::resize_file(st, size - 100);
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(st), HasSubstr("lm_head.weight"), HasSubstr("truncated"))));
  // Shape mismatch: config says a wider MLP than the weights have.
  EPROF_ASSERT_OK(MakeModel(o));
  {
    std::ifstream in(dir.path() + "/config.json");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("\"intermediate_size\": 128"), 24, "\"intermediate_size\": 130");
    std::ofstream(dir.path() + "/config.json", std::ios::trunc) << text;
  }
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(st), HasSubstr("model.layers.0.mlp.gate_proj.weight"),
                             HasSubstr("[128, 64]"), HasSubstr("[130, 64]"))));
  // Untied model without lm_head: missing tensor.
  o.config_patch_json = R"({"tie_word_embeddings": true})";
  EPROF_ASSERT_OK(MakeModel(o));
  {
    std::ifstream in(dir.path() + "/config.json");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("\"tie_word_embeddings\": true"), 27, "\"tie_word_embeddings\": false");
    std::ofstream(dir.path() + "/config.json", std::ios::trunc) << text;
  }
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr("lm_head.weight"), HasSubstr("missing"))));
  // Unknown architecture.
  std::ofstream(dir.path() + "/config.json", std::ios::trunc)
      << R"({"model_type":"mamba","architectures":["MambaForCausalLM"]})";
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("config.json"), HasSubstr("mamba"))));
}

TEST(ModelTest, ShardIndexErrorsNameIndexShardAndTensor) {
  TempDir dir;
  MakeModelOptions o;
  o.out_dir = dir.path();
  o.max_shard_bytes = 40000;
  EPROF_ASSERT_OK(MakeModel(o));
  const std::vector<std::string> shards = ShardFiles(dir.path());
  ASSERT_GE(shards.size(), 2u);
  std::filesystem::remove(shards[1]);
  auto s = Model::Load(dir.path(), {}).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound,
                          AllOf(HasSubstr("model.safetensors.index.json"), HasSubstr("model-00002"))));
}

// Sets `key` of DIR/config.json to `value` (a JSON literal).
void PatchConfig(const std::string& dir, const std::string& key, const std::string& value) {
  std::ifstream in(dir + "/config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  config[key] = nlohmann::json::parse(value);
  std::ofstream(dir + "/config.json", std::ios::trunc) << config.dump(2);
}

// Before, num_hidden_layers 10000000 over the weights of 2 layers made the loader allocate
// per-layer state for ten million layers (3 GiB in 6 s, then the kernel killed eprofd).
TEST(ModelTest, ConfigSizesAreCheckedBeforeAnythingIsAllocated) {
  TempDir dir;
  MakeModelOptions o;
  o.out_dir = dir.path();
  EPROF_ASSERT_OK(MakeModel(o));
  PatchConfig(dir.path(), "num_hidden_layers", "10000000");
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("num_hidden_layers 10000000"), HasSubstr("out of range"))));
  PatchConfig(dir.path(), "num_hidden_layers", "1000");
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("num_hidden_layers 1000"), HasSubstr("weights hold 2"))));
  PatchConfig(dir.path(), "num_hidden_layers", "1e9");
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'num_hidden_layers'")));
  PatchConfig(dir.path(), "num_hidden_layers", "2");
  PatchConfig(dir.path(), "head_dim", "100000000");
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("head_dim 100000000")));
  PatchConfig(dir.path(), "head_dim", "null");
  PatchConfig(dir.path(), "vocab_size", "4000000000");
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vocab_size 4000000000")));
}

// Every file a model refers to must stay inside its directory.
TEST(ModelTest, FilesOutsideTheModelDirectoryAreRefused) {
  TempDir outside;
  const std::string secret = outside.path() + "/secret";
  std::ofstream(secret) << "SECRETS!not weights";
  TempDir dir;
  MakeModelOptions o;
  o.out_dir = dir.path();
  o.max_shard_bytes = 40000;
  EPROF_ASSERT_OK(MakeModel(o));
  const std::string index_path = dir.path() + "/model.safetensors.index.json";
  std::string index_text;
  {
    std::ifstream in(index_path);
    index_text.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (const std::string& shard : {std::string("../") + std::filesystem::path(outside.path()).filename().string() + "/secret",
                                   secret}) {
    nlohmann::json index = nlohmann::json::parse(index_text);
    index["weight_map"]["model.norm.weight"] = shard;
    std::ofstream(index_path, std::ios::trunc) << index.dump();
    absl::Status s = Model::Load(dir.path(), {}).status();
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model.norm.weight")))
        << shard;
    EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("bytes"))) << "nothing of the file leaks";
  }
  // A shard that is a symbolic link out of the directory.
  std::ofstream(index_path, std::ios::trunc) << index_text;
  const std::vector<std::string> shards = ShardFiles(dir.path());
  std::filesystem::remove(shards[0]);
  std::filesystem::create_symlink(secret, shards[0]);
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside the model directory")));
  // config.json as a link out.
  std::filesystem::rename(dir.path() + "/config.json", dir.path() + "/config.real");
  std::filesystem::create_symlink(secret, dir.path() + "/config.json");
  EXPECT_THAT(Model::Load(dir.path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside the model directory")));
}

TEST(ModelTest, LoadReportsProgressForEveryTensor) {
  TempDir dir;
  MakeModelOptions o;
  o.family = Family::kStableLm;
  o.out_dir = dir.path();
  EPROF_ASSERT_OK(MakeModel(o));
  std::vector<LoadProgress> seen;
  LoadOptions lo;
  lo.progress = [&](const LoadProgress& p) { seen.push_back(p); };
  auto model = Model::Load(dir.path(), lo);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_FALSE(seen.empty());
  // Every tensor of the file is used once; bytes add up to the file's data.
  EXPECT_EQ(seen.back().tensors_loaded, seen.back().tensors_total);
  EXPECT_EQ(seen.back().bytes_loaded, seen.back().bytes_total);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].tensors_loaded, seen[i - 1].tensors_loaded + 1);
    EXPECT_GT(seen[i].bytes_loaded, seen[i - 1].bytes_loaded);
  }
  const auto file_size = std::filesystem::file_size(dir.path() + "/model.safetensors");
  EXPECT_LT(static_cast<uint64_t>(seen.back().bytes_total), file_size);
  EXPECT_GT(static_cast<uint64_t>(seen.back().bytes_total), file_size - 16384);
  EXPECT_EQ((*model)->compute_dtype(), "float32");
  EXPECT_EQ((*model)->device(), "cpu");
  // The weights held (the model cache's budget): every tensor of the file, float32 as stored,
  // the embedding table included (which decode's bytes per token leave out).
  EXPECT_EQ((*model)->weight_bytes(), seen.back().bytes_total);
  EXPECT_GT((*model)->weight_bytes(), (*model)->weight_bytes_per_token());
}

TEST(ModelTest, ForwardRejectsBadIdsAndCacheOverflow) {
  TempDir dir;
  MakeModelOptions o;
  o.out_dir = dir.path();
  LoadOptions lo;
  lo.max_seq_len = 4;
  auto model = MakeAndLoad(o, lo);
  ASSERT_NE(model, nullptr);
  std::vector<float> logits;
  EXPECT_THAT(model->Forward({1, 2, 3, 4, 5}, false, &logits),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("KV cache holds 4")));
  EXPECT_THAT(model->Forward({100000}, false, &logits),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("100000")));
  EXPECT_THAT(model->Forward({}, false, &logits), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least one")));
  LoadOptions bad;
  bad.dtype = "int8";
  EXPECT_THAT(Model::Load(dir.path(), bad).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("int8")));
}

// Records every call, to check order, nesting, layer indices and timestamps.
class RecordingObserver : public Observer {
 public:
  struct Event {
    char kind;  // 'L' layer begin, 'l' layer end, 'C' component begin, 'c' component end
    int component;
    int layer;
    int64_t t_ns;
  };
  void OnLayerBegin(int layer, int64_t t) override { events.push_back({'L', 0, layer, t}); }
  void OnLayerEnd(int layer, int64_t t) override { events.push_back({'l', 0, layer, t}); }
  void OnComponentBegin(Component c, int layer, int64_t t) override {
    events.push_back({'C', static_cast<int>(c), layer, t});
  }
  void OnComponentEnd(Component c, int layer, int64_t t) override {
    events.push_back({'c', static_cast<int>(c), layer, t});
  }
  void OnActivationStats(Component c, int layer, const ActivationStats& s) override {
    stats.push_back(s);
  }
  void OnAttentionStats(int layer, const std::vector<AttentionHeadStats>& h) override {
    heads.push_back(h);
  }
  void OnLayerOutputStats(int layer, const ActivationStats& s) override {
    EXPECT_FALSE(events.empty());
    EXPECT_EQ(events.empty() ? ' ' : events.back().kind, 'l');  // right after the layer's end
    EXPECT_EQ(events.empty() ? -2 : events.back().layer, layer);
    layer_outputs.push_back(s);
  }
  std::vector<Event> events;
  std::vector<ActivationStats> layer_outputs;
  std::vector<ActivationStats> stats;
  std::vector<std::vector<AttentionHeadStats>> heads;
};

TEST(ModelTest, ObserverSeesEveryLayerAndComponentInOrder) {
  TempDir dir;
  MakeModelOptions o;
  o.out_dir = dir.path();
  auto model = MakeAndLoad(o);
  ASSERT_NE(model, nullptr);
  std::vector<float> plain, observed;
  EPROF_ASSERT_OK(model->Forward(Prompt(6), false, &plain));
  model->ResetCache();
  RecordingObserver rec;
  model->SetObserver(&rec, DetailLevel::kComponents);
  EPROF_ASSERT_OK(model->Forward(Prompt(6), false, &observed));
  EXPECT_EQ(plain, observed);  // observing changes nothing
  // Llama: embedding, 2 × (layer + 12 components), final norm, lm_head.
  ASSERT_EQ(rec.events.size(), 2u * (1 + 2 * 13 + 2));
  std::vector<int> stack;
  int64_t last_t = 0;
  for (const auto& e : rec.events) {
    EXPECT_GE(e.t_ns, last_t);
    last_t = e.t_ns;
    if (e.kind == 'L' || e.kind == 'C') {
      stack.push_back(e.kind == 'L' ? -1 - e.layer : e.component);
    } else {
      ASSERT_FALSE(stack.empty());
      EXPECT_EQ(stack.back(), e.kind == 'l' ? -1 - e.layer : e.component);
      stack.pop_back();
    }
  }
  EXPECT_TRUE(stack.empty());
  EXPECT_EQ(rec.events.front().component, static_cast<int>(Component::kEmbedding));
  EXPECT_EQ(rec.events.back().component, static_cast<int>(Component::kLmHead));
  EXPECT_EQ(rec.events[2].kind, 'L');
  EXPECT_EQ(rec.events[3].component, static_cast<int>(Component::kInputNorm));
  EXPECT_EQ(rec.events[3].layer, 0);
  EXPECT_TRUE(rec.stats.empty());

  // Layers level: only layers and the outer components.
  RecordingObserver layers;
  model->SetObserver(&layers, DetailLevel::kLayers);
  EPROF_ASSERT_OK(model->Forward({3}, false, &observed));
  EXPECT_EQ(layers.events.size(), 2u * (1 + 2 + 2));
  // Detached: nothing more arrives.
  model->SetObserver(nullptr, DetailLevel::kDeep);
  EPROF_ASSERT_OK(model->Forward({4}, false, &observed));
  EXPECT_EQ(layers.events.size(), 10u);
}

TEST(ModelTest, DeepModeReportsActivationAndAttentionStatistics) {
  TempDir dir;
  MakeModelOptions o;
  o.out_dir = dir.path();
  auto model = MakeAndLoad(o);
  ASSERT_NE(model, nullptr);
  RecordingObserver rec;
  model->SetObserver(&rec, DetailLevel::kDeep);
  std::vector<float> logits;
  EPROF_ASSERT_OK(model->Forward(Prompt(5), false, &logits));
  EXPECT_EQ(rec.stats.size(), 3u + 2 * 12);  // every component's output
  ASSERT_EQ(rec.layer_outputs.size(), 2u);    // every layer's output hidden state
  for (const auto& s : rec.layer_outputs) {
    EXPECT_GT(s.mean_abs, 0);
    EXPECT_GE(s.max_abs, s.mean_abs);
  }
  for (const auto& s : rec.stats) {
    EXPECT_GT(s.mean_abs, 0);
    EXPECT_GE(s.max_abs, s.mean_abs);
    EXPECT_GE(s.frac_near_zero, 0);
    EXPECT_LE(s.frac_near_zero, 1);
  }
  ASSERT_EQ(rec.heads.size(), 2u);
  ASSERT_EQ(rec.heads[0].size(), 4u);  // one per query head
  for (const auto& layer : rec.heads) {
    for (const auto& h : layer) {
      // Query t sees t+1 keys: mean entropy ≤ mean ln(t+1) over t = 0..4.
      EXPECT_GE(h.entropy_nats, 0);
      EXPECT_LE(h.entropy_nats, (std::log(1.) + std::log(2.) + std::log(3.) + std::log(4.) + std::log(5.)) / 5 + 1e-6);
      EXPECT_GT(h.max_weight, 0.2);
      EXPECT_LE(h.max_weight, 1.0 + 1e-6);
      EXPECT_GE(h.frac_below_001, 0);
      EXPECT_LE(h.frac_below_001, 1);
    }
  }
  // One decode step: the first query row sees the whole cache; the distribution sums to 1, so
  // the max weight is at least 1/6.
  rec.heads.clear();
  EPROF_ASSERT_OK(model->Forward({9}, false, &logits));
  ASSERT_EQ(rec.heads.size(), 2u);
  EXPECT_GE(rec.heads[0][0].max_weight, 1.0 / 6 - 1e-6);
  EXPECT_LE(rec.heads[0][0].entropy_nats, std::log(6.0) + 1e-6);
}

TEST(GeneratorTest, GreedyGenerationMatchesArgmaxOfFullForwards) {
  TempDir dir;
  MakeModelOptions o;
  o.family = Family::kGemma2;
  o.out_dir = dir.path();
  auto model = MakeAndLoad(o);
  ASSERT_NE(model, nullptr);
  GenerateParams gp;
  gp.max_new_tokens = 6;
  gp.use_model_eos = false;
  Generator gen(model.get(), gp);
  std::vector<int32_t> streamed;
  EPROF_ASSERT_OK_AND_ASSIGN(GenerateResult r,
                             gen.Generate(Prompt(10), [&](int32_t t) { streamed.push_back(t); }));
  EXPECT_EQ(r.stop_reason, StopReason::kMaxTokens);
  ASSERT_EQ(r.tokens.size(), 6u);
  EXPECT_EQ(streamed, r.tokens);
  // The same tokens from full forwards without the cache.
  std::vector<int32_t> seq = Prompt(10);
  std::vector<float> logits;
  for (int i = 0; i < 6; ++i) {
    model->ResetCache();
    EPROF_ASSERT_OK(model->Forward(seq, false, &logits));
    const int32_t next = std::max_element(logits.begin(), logits.end()) - logits.begin();
    EXPECT_EQ(next, r.tokens[i]) << "token " << i;
    seq.push_back(next);
  }
}

// The generator's sampling is a span of its own outside the layers (component sampling, layer
// -1), after the forward pass's lm_head, from detail layers on.
TEST(GeneratorTest, SamplingIsReportedAsASpanAfterTheLmHead) {
  TempDir dir;
  MakeModelOptions o;
  o.out_dir = dir.path();
  auto model = MakeAndLoad(o);
  ASSERT_NE(model, nullptr);
  GenerateParams gp;
  gp.sampling.temperature = 0.7;
  gp.sampling.top_p = 0.9;
  Generator gen(model.get(), gp);
  RecordingObserver rec;
  model->SetObserver(&rec, DetailLevel::kLayers);
  EPROF_ASSERT_OK_AND_ASSIGN(int32_t token, gen.Prefill(Prompt(4)));
  EPROF_ASSERT_OK(gen.Step(token).status());
  const int sampling = static_cast<int>(Component::kSampling);
  const int lm_head = static_cast<int>(Component::kLmHead);
  std::vector<size_t> begins;
  for (size_t i = 0; i < rec.events.size(); ++i) {
    if (rec.events[i].kind == 'C' && rec.events[i].component == sampling) begins.push_back(i);
  }
  ASSERT_EQ(begins.size(), 2u);  // one per token
  for (size_t b : begins) {
    ASSERT_GE(b, 1u);
    ASSERT_LT(b + 1, rec.events.size());
    EXPECT_EQ(rec.events[b].layer, -1);
    EXPECT_EQ(rec.events[b - 1].kind, 'c');
    EXPECT_EQ(rec.events[b - 1].component, lm_head);
    EXPECT_EQ(rec.events[b + 1].kind, 'c');
    EXPECT_EQ(rec.events[b + 1].component, sampling);
    EXPECT_GE(rec.events[b + 1].t_ns, rec.events[b].t_ns);
  }
  model->SetObserver(nullptr, DetailLevel::kNone);
}

TEST(GeneratorTest, StopsAtEosAndOnCancel) {
  TempDir dir;
  MakeModelOptions o;
  o.out_dir = dir.path();
  auto model = MakeAndLoad(o);
  ASSERT_NE(model, nullptr);
  GenerateParams gp;
  gp.max_new_tokens = 8;
  gp.use_model_eos = false;
  gp.sampling = {0.8, 20, 0.95, 11};
  Generator first(model.get(), gp);
  EPROF_ASSERT_OK_AND_ASSIGN(GenerateResult a, first.Generate(Prompt(5), {}));
  ASSERT_EQ(a.tokens.size(), 8u);
  // Same seed, same tokens.
  Generator again(model.get(), gp);
  EPROF_ASSERT_OK_AND_ASSIGN(GenerateResult b, again.Generate(Prompt(5), {}));
  EXPECT_EQ(a.tokens, b.tokens);
  // Eos: any id of the list stops generation, and it is included.
  gp.eos_token_ids = {999999, a.tokens[2]};
  Generator eos(model.get(), gp);
  EPROF_ASSERT_OK_AND_ASSIGN(GenerateResult c, eos.Generate(Prompt(5), {}));
  EXPECT_EQ(c.stop_reason, StopReason::kEos);
  EXPECT_EQ(c.tokens.back(), a.tokens[2]);
  EXPECT_LE(c.tokens.size(), 3u);
  // Cancel between tokens.
  gp.eos_token_ids.clear();
  Generator cancel(model.get(), gp);
  int seen = 0;
  EPROF_ASSERT_OK_AND_ASSIGN(GenerateResult d, cancel.Generate(Prompt(5), [&](int32_t) {
    if (++seen == 3) cancel.Cancel();
  }));
  EXPECT_EQ(d.stop_reason, StopReason::kCancelled);
  EXPECT_EQ(d.tokens.size(), 3u);
  // The model's own eos (generation_config.json) is honoured by default.
  GenerateParams own;
  own.max_new_tokens = 4;
  Generator g(model.get(), own);
  EXPECT_TRUE(g.IsEos(static_cast<int32_t>(model->generation_config().eos_token_ids.at(0))));
}

// The probability of a token against a plain double-precision softmax, on a vocabulary-sized
// vector and on values whose naive exp would overflow.
TEST(TokenProbabilityTest, MatchesADoublePrecisionSoftmax) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 4.0f);
  std::vector<float> logits(49152);
  for (float& x : logits) x = dist(rng);
  logits[123] = 30.0f;  // a clear favourite
  auto reference = [](const std::vector<float>& v, int32_t id) {
    double max = v[0];
    for (float x : v) max = std::max<double>(max, x);
    double sum = 0;
    for (float x : v) sum += std::exp(static_cast<double>(x) - max);
    return std::exp(static_cast<double>(v[static_cast<size_t>(id)]) - max) / sum;
  };
  for (int32_t id : {123, 0, 49151, 777}) {
    const double want = reference(logits, id);
    EXPECT_NEAR(TokenProbability(logits, id), want, 1e-5 * want + 1e-12) << "id " << id;
  }
  const std::vector<float> huge = {1000.0f, 999.0f, -1000.0f};
  EXPECT_NEAR(TokenProbability(huge, 0), 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_EQ(TokenProbability(huge, 3), 0.0);   // outside the logits
  EXPECT_EQ(TokenProbability(huge, -1), 0.0);
  EXPECT_EQ(TokenProbability({}, 0), 0.0);
}


}  // namespace
}  // namespace eprof::engine
