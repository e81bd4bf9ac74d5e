// eprof-llm end to end: mkmodel writes a directory that generate, logits and bench read.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/engine/safetensors.h"
#include "daemon/engine/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace eprof::engine {
namespace {

using ::testing::HasSubstr;

struct ToolRun {
  int rc;
  std::string out;  // stdout and stderr
};

ToolRun Tool(const std::string& args) {
  const std::string bin = std::string(std::getenv("EPROF_BINARY_DIR")) + "/bin/eprof-llm";
  FILE* p = popen((bin + " " + args + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(EprofLlmTest, MkmodelGenerateLogitsBench) {
  TempDir dir;
  const std::string m = dir.path() + "/m";
  ToolRun mk = Tool("mkmodel --family qwen3 --preset tiny --seed 9 --out " + m);
  ASSERT_EQ(mk.rc, 0) << mk.out;
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"}) {
    EXPECT_TRUE(std::filesystem::exists(m + "/" + f)) << f;
  }
  // tokenizer.json is a byte-level BPE whose size matches the embedding.
  std::ifstream tok_in(m + "/tokenizer.json");
  nlohmann::json tok = nlohmann::json::parse(tok_in);
  std::ifstream cfg_in(m + "/config.json");
  nlohmann::json cfg = nlohmann::json::parse(cfg_in);
  EXPECT_EQ(tok["model"]["type"], "BPE");
  EXPECT_EQ(tok["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_EQ(tok["model"]["vocab"].size() + tok["added_tokens"].size(), cfg["vocab_size"].get<size_t>());
  EXPECT_EQ(tok["model"]["vocab"]["Ġ"], 32);  // byte 0x20 (space) has id 32

  ToolRun gen = Tool("generate --model " + m + " --ids 5,6,7 --max-new-tokens 4 --json");
  ASSERT_EQ(gen.rc, 0) << gen.out;
  nlohmann::json j = nlohmann::json::parse(gen.out);
  EXPECT_EQ(j["output_ids"].size(), 4u);
  ToolRun again = Tool("generate --model " + m + " --ids 5,6,7 --max-new-tokens 4 --json");
  EXPECT_EQ(nlohmann::json::parse(again.out)["output_ids"], j["output_ids"]);  // greedy: deterministic

  ToolRun lg = Tool("logits --model " + m + " --ids 5,6,7 --out " + dir.path() + "/l.safetensors");
  ASSERT_EQ(lg.rc, 0) << lg.out;
  auto file = SafetensorsFile::Open(dir.path() + "/l.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  const TensorView* logits = (*file)->Find("logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_EQ(logits->shape, (std::vector<int64_t>{3, cfg["vocab_size"].get<int64_t>()}));
  // The last row's argmax is the first generated token.
  const float* last = static_cast<const float*>(logits->data) + 2 * logits->shape[1];
  EXPECT_EQ(std::max_element(last, last + logits->shape[1]) - last, j["output_ids"][0].get<int>());

  ToolRun bench = Tool("bench --model " + m + " --prompt-tokens 8 --new-tokens 4 --repeat 1 "
                   "--bandwidth-mb 16 --detail none,layers,components,deep --json");
  ASSERT_EQ(bench.rc, 0) << bench.out;
  nlohmann::json b = nlohmann::json::parse(bench.out);
  ASSERT_EQ(b["levels"].size(), 4u);
  EXPECT_EQ(b["levels"][0]["detail"], "none");
  EXPECT_GT(b["decode_roofline_tokens_per_s"].get<double>(), 0);
  EXPECT_THAT(b["threading"]["blas_library"].get<std::string>(), HasSubstr("blas"));
  EXPECT_EQ(b["max_seq_len"].get<int64_t>(), 8 + 4 * 4 + 1);  // what the run needs

  // A server-sized KV cache, as eprofd holds it for the model's context; less than the run
  // needs is refused.
  ToolRun big = Tool("bench --model " + m + " --prompt-tokens 8 --new-tokens 4 --repeat 1 "
                     "--bandwidth-mb 16 --detail none --max-seq-len 100 --json");
  ASSERT_EQ(big.rc, 0) << big.out;
  EXPECT_EQ(nlohmann::json::parse(big.out)["max_seq_len"].get<int64_t>(), 100);
  ToolRun small = Tool("bench --model " + m + " --prompt-tokens 8 --new-tokens 4 --repeat 1 "
                       "--detail none --max-seq-len 10");
  EXPECT_EQ(small.rc, 2);
  EXPECT_THAT(small.out, HasSubstr("--max-seq-len 10 is less than the 13 positions"));
}

TEST(EprofLlmTest, ErrorsAreClear) {
  ToolRun no_tok = Tool("generate --model /nonexistent --prompt hello");
  EXPECT_NE(no_tok.rc, 0);
  EXPECT_THAT(no_tok.out, HasSubstr("/nonexistent/tokenizer.json"));
  ToolRun missing = Tool("generate --model /nonexistent/model --ids 1,2");
  EXPECT_NE(missing.rc, 0);
  EXPECT_THAT(missing.out, HasSubstr("/nonexistent/model/config.json"));
  ToolRun bad_ids = Tool("generate --model /x --ids 1,two");
  EXPECT_THAT(bad_ids.out, HasSubstr("'two'"));
  ToolRun family = Tool("mkmodel --family gpt2 --out /tmp/never");
  EXPECT_THAT(family.out, HasSubstr("unknown model family 'gpt2'"));
  ToolRun flag = Tool("bench --model /x --detail nonsense");
  EXPECT_THAT(flag.out, HasSubstr("unknown detail level 'nonsense'"));
  ToolRun matmul = Tool("bench --model /x --matmul mkl");
  EXPECT_EQ(matmul.rc, 2);
  EXPECT_THAT(matmul.out, HasSubstr("--matmul must be eprof"));
  ToolRun rounds = Tool("bench --model /x --repeat 0");
  EXPECT_EQ(rounds.rc, 2);
  EXPECT_THAT(rounds.out, HasSubstr("--repeat must be >= 1"));
  ToolRun cmd = Tool("frobnicate");
  EXPECT_EQ(cmd.rc, 2);
}

}  // namespace
}  // namespace eprof::engine
