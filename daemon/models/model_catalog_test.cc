#include "daemon/models/model_catalog.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

namespace fs = std::filesystem;
using ::eprof::testing::IsOkAndHolds;
using ::eprof::testing::StatusIs;
using ::testing::HasSubstr;
using nlohmann::json;

struct Tensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
};

// Writes a valid safetensors file (zero-filled data) with `tensors`.
void WriteSafetensors(const fs::path& file, const std::vector<Tensor>& tensors) {
  json header = json::object();
  uint64_t offset = 0;
  for (const Tensor& t : tensors) {
    uint64_t n = 1;
    for (uint64_t d : t.shape) n *= d;
    uint64_t bytes = n * (t.dtype == "F32" ? 4 : 2);
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  std::ofstream out(file, std::ios::binary);
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((len >> (8 * i)) & 0xff));
  out << text << std::string(offset, '\0');
}

void WriteConfig(const fs::path& dir, json config) {
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << config.dump();
}

json LlamaConfig() {
  return {{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}},
          {"num_hidden_layers", 2}, {"hidden_size", 8}, {"num_attention_heads", 2},
          {"num_key_value_heads", 1}, {"vocab_size", 16}, {"max_position_embeddings", 128}};
}

class ModelCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::path(::testing::TempDir()) / absl::StrCat("catalog_", getpid(), "_", n_++);
    root_ = base_ / "models";
    fs::create_directories(root_);
    // models/team/tiny-llama: single file, bf16, with a tokenizer.
    fs::path tiny = root_ / "team" / "tiny-llama";
    WriteConfig(tiny, LlamaConfig());
    WriteSafetensors(tiny / "model.safetensors",
                     {{"model.embed_tokens.weight", "BF16", {16, 8}},
                      {"model.norm.weight", "BF16", {8}}});
    std::ofstream(tiny / "tokenizer.json") << "{}";
    // models/sharded: two shards, f32.
    fs::path sharded = root_ / "sharded";
    WriteConfig(sharded, LlamaConfig());
    WriteSafetensors(sharded / "model-00001-of-00002.safetensors", {{"a", "F32", {4, 4}}});
    WriteSafetensors(sharded / "model-00002-of-00002.safetensors", {{"b", "F32", {3}}});
    std::ofstream(sharded / "model.safetensors.index.json")
        << json{{"weight_map", {{"a", "model-00001-of-00002.safetensors"},
                                {"b", "model-00002-of-00002.safetensors"}}}}.dump();
    // models/notes: meant as a model, but without weights: listed with its problem.
    fs::create_directories(root_ / "notes");
    std::ofstream(root_ / "notes" / "config.json") << "{}";
  }
  void TearDown() override { fs::remove_all(base_); }

  static inline int n_ = 0;
  fs::path base_;
  fs::path root_;
};

TEST_F(ModelCatalogTest, ListsModelsWithTheirFacts) {
  ModelCatalog catalog({root_.string()});
  std::vector<v1::ModelInfo> models = catalog.List();
  ASSERT_EQ(models.size(), 3u);
  EXPECT_EQ(models[0].name(), "notes");
  EXPECT_THAT(models[0].problem(), HasSubstr("no model.safetensors"));
  EXPECT_EQ(models[1].name(), "sharded");
  EXPECT_EQ(models[1].problem(), "");
  EXPECT_EQ(models[2].name(), "team/tiny-llama");
  const v1::ModelInfo& tiny = models[2];
  EXPECT_EQ(tiny.family(), "llama");
  EXPECT_EQ(tiny.architecture(), "LlamaForCausalLM");
  EXPECT_EQ(tiny.num_parameters(), 16u * 8 + 8);
  EXPECT_EQ(tiny.dtype(), "bfloat16");
  EXPECT_EQ(tiny.num_layers(), 2u);
  EXPECT_EQ(tiny.num_key_value_heads(), 1u);
  EXPECT_EQ(tiny.context_length(), 128u);
  EXPECT_TRUE(tiny.has_tokenizer());
  EXPECT_EQ(tiny.problem(), "");
  EXPECT_EQ(tiny.path(), fs::canonical(root_ / "team" / "tiny-llama").string());
  EXPECT_GT(tiny.size_bytes(), 2u * (16 * 8 + 8));
  const v1::ModelInfo& sharded = models[1];
  EXPECT_EQ(sharded.num_parameters(), 19u);
  EXPECT_EQ(sharded.dtype(), "float32");
  EXPECT_FALSE(sharded.has_tokenizer());
}

TEST_F(ModelCatalogTest, ProblemsAreListedNotHidden) {
  fs::path falcon = root_ / "falcon";
  WriteConfig(falcon, {{"model_type", "falcon"}, {"architectures", {"FalconForCausalLM"}}});
  WriteSafetensors(falcon / "model.safetensors", {{"w", "F32", {2}}});
  fs::path broken = root_ / "broken";
  WriteConfig(broken, LlamaConfig());
  std::ofstream(broken / "model.safetensors") << "\xff\xff";
  fs::path missing = root_ / "missing-shard";
  WriteConfig(missing, LlamaConfig());
  std::ofstream(missing / "model.safetensors.index.json")
      << json{{"weight_map", {{"a", "gone.safetensors"}}}}.dump();
  fs::path numbered = root_ / "numbered";  // nlohmann's value() would throw on it
  WriteConfig(numbered, {{"model_type", 3}, {"text_config", {{"model_type", {1, 2}}}}});
  WriteSafetensors(numbered / "model.safetensors", {{"w", "F32", {2}}});
  std::map<std::string, std::string> problems;
  for (const auto& m : ModelCatalog({root_.string()}).List()) problems[m.name()] = m.problem();
  EXPECT_THAT(problems["falcon"], HasSubstr("unsupported model_type 'falcon'"));
  EXPECT_THAT(problems["numbered"], HasSubstr("config.json has no model_type"));
  EXPECT_THAT(problems["broken"], HasSubstr("truncated"));
  EXPECT_THAT(problems["missing-shard"], HasSubstr("gone.safetensors is missing"));
  EXPECT_EQ(problems["team/tiny-llama"], "");
}

TEST_F(ModelCatalogTest, Gemma3KeepsItsSettingsInTextConfig) {
  fs::path g = root_ / "gemma3";
  WriteConfig(g, {{"model_type", "gemma3"},
                  {"architectures", {"Gemma3ForConditionalGeneration"}},
                  {"text_config", {{"model_type", "gemma3_text"}, {"num_hidden_layers", 26}}}});
  WriteSafetensors(g / "model.safetensors", {{"w", "BF16", {2}}});
  auto info = ModelCatalog::Inspect(g.string(), "gemma3");
  EXPECT_EQ(info.family(), "gemma3_text");
  EXPECT_EQ(info.num_layers(), 26u);
  EXPECT_EQ(info.problem(), "");
}

TEST_F(ModelCatalogTest, ResolveStaysInsideTheRoots) {
  ModelCatalog catalog({root_.string()});
  EXPECT_THAT(catalog.Resolve("team/tiny-llama"),
              IsOkAndHolds(fs::canonical(root_ / "team" / "tiny-llama").string()));
  EXPECT_THAT(catalog.Resolve(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(catalog.Resolve("/etc"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("absolute")));
  EXPECT_THAT(catalog.Resolve("team/../../outside"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'..'")));
  EXPECT_THAT(catalog.Resolve("nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("eprofctl models")));
  EXPECT_THAT(catalog.Resolve("notes"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("notes")));

  // A model outside the root, reached through a symlink inside it: refused.
  fs::path outside = base_ / "outside-model";
  WriteConfig(outside, LlamaConfig());
  WriteSafetensors(outside / "model.safetensors", {{"w", "F32", {1}}});
  fs::create_directory_symlink(outside, root_ / "escape");
  EXPECT_THAT(catalog.Resolve("escape"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside the model root")));
  // Listed by name with the refusal, and nothing of the model outside is read or shown.
  for (const v1::ModelInfo& m : catalog.List()) {
    if (m.name() != "escape") continue;
    EXPECT_THAT(m.problem(), HasSubstr("refused"));
    EXPECT_THAT(m.problem(), ::testing::Not(HasSubstr(outside.string())));
    EXPECT_EQ(m.path(), "");
    EXPECT_EQ(m.num_layers(), 0u);
  }
  // A symlink that stays inside the root is fine.
  fs::create_directory_symlink(root_ / "sharded", root_ / "alias");
  EXPECT_THAT(catalog.Resolve("alias"), IsOkAndHolds(fs::canonical(root_ / "sharded").string()));
}

// A downloaded model's index must not make eprofd open files outside the model: not through
// "..", an absolute path or a symbolic link. Before, the catalog read such a file's first 8
// bytes and size and put both in the model's problem, which any API client can read.
TEST_F(ModelCatalogTest, ShardIndexCannotReachOutsideTheModel) {
  fs::path secret = base_ / "secret.txt";
  std::ofstream(secret) << "SECRETS!hunter2 and more secret text";
  const std::string header_number = "2401355683028223315";  // "SECRETS!" read as a length
  fs::path evil = root_ / "evil";
  WriteConfig(evil, LlamaConfig());
  fs::path link_model = root_ / "linked";
  WriteConfig(link_model, LlamaConfig());
  fs::create_symlink(secret, link_model / "model.safetensors");
  for (const std::string& shard : {std::string("../../secret.txt"), secret.string()}) {
    std::ofstream(evil / "model.safetensors.index.json")
        << json{{"weight_map", {{"model.embed_tokens.weight", shard}}}}.dump();
    std::map<std::string, std::string> problems;
    for (const auto& m : ModelCatalog({root_.string()}).List()) problems[m.name()] = m.problem();
    EXPECT_THAT(problems["evil"], HasSubstr("inside the model directory")) << shard;
    EXPECT_THAT(problems["evil"], ::testing::Not(HasSubstr(header_number)));
    EXPECT_THAT(problems["evil"], ::testing::Not(HasSubstr("bytes")));
    EXPECT_THAT(problems["linked"], HasSubstr("outside the model directory"));
    EXPECT_THAT(problems["linked"], ::testing::Not(HasSubstr(header_number)));
  }
}

TEST_F(ModelCatalogTest, FoldersMissingConfigOrWeightsAreListedWithTheProblem) {
  fs::path no_config = root_ / "no-config";
  fs::create_directories(no_config);
  WriteSafetensors(no_config / "model.safetensors", {{"w", "F32", {1}}});
  fs::path pickled = root_ / "pickled";
  WriteConfig(pickled, LlamaConfig());
  std::ofstream(pickled / "pytorch_model.bin") << "not safetensors";
  std::map<std::string, std::string> problems;
  for (const auto& m : ModelCatalog({root_.string()}).List()) problems[m.name()] = m.problem();
  EXPECT_THAT(problems["no-config"], HasSubstr("no config.json"));
  EXPECT_THAT(problems["pickled"], HasSubstr("eprof loads safetensors weights"));
  ASSERT_EQ(problems.count("team"), 0u) << "a folder of models is not itself listed";
}

TEST_F(ModelCatalogTest, NamesAreNormalised) {
  EXPECT_EQ(ModelCatalog::NormalizeName("./tiny-llama"), "tiny-llama");
  EXPECT_EQ(ModelCatalog::NormalizeName("tiny-llama/"), "tiny-llama");
  EXPECT_EQ(ModelCatalog::NormalizeName("tiny-llama/."), "tiny-llama");
  EXPECT_EQ(ModelCatalog::NormalizeName("team//tiny-llama"), "team/tiny-llama");
  EXPECT_EQ(ModelCatalog::NormalizeName("team/../x"), "team/../x") << "left for Resolve to refuse";
  EXPECT_EQ(ModelCatalog::NormalizeName("/etc"), "/etc");
  EXPECT_EQ(ModelCatalog::NormalizeName("."), ".");
}

TEST_F(ModelCatalogTest, FirstRootWinsAndMissingRootsAreSkipped) {
  fs::path other = base_ / "other";
  WriteConfig(other / "sharded", {{"model_type", "qwen2"}});
  WriteSafetensors(other / "sharded" / "model.safetensors", {{"w", "F32", {1}}});
  WriteConfig(other / "only-here", LlamaConfig());
  WriteSafetensors(other / "only-here" / "model.safetensors", {{"w", "F32", {1}}});
  ModelCatalog catalog({(base_ / "does-not-exist").string(), root_.string(), other.string()});
  std::vector<v1::ModelInfo> models = catalog.List();
  ASSERT_EQ(models.size(), 4u);
  EXPECT_EQ(models[0].name(), "notes");
  EXPECT_EQ(models[1].name(), "only-here");
  EXPECT_EQ(models[2].name(), "sharded");
  EXPECT_EQ(models[2].family(), "llama");  // from the first root that has it
  EXPECT_THAT(catalog.Resolve("only-here"),
              IsOkAndHolds(fs::canonical(other / "only-here").string()));
}

}  // namespace
}  // namespace eprof::daemon
