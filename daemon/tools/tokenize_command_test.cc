// eprof-llm tokenize: argument handling, encode / decode / batch output on a small tokenizer.
#include "daemon/tools/tokenize_command.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::tools {
namespace {

// Byte-level-free toy tokenizer: "a", "b", "ab" plus <s> as BOS.
constexpr char kTokenizer[] =
    R"({"model":{"type":"BPE","vocab":{"<s>":0,"a":1,"b":2,"ab":3," ":4},"merges":["a b"]},)"
    R"("added_tokens":[{"id":0,"content":"<s>","special":true,"normalized":false}],)"
    R"("post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},)"
    R"({"Sequence":{"id":"A"}}],"special_tokens":{"<s>":{"id":"<s>","ids":[0],"tokens":["<s>"]}}},)"
    R"("decoder":{"type":"Fuse"}})";

class TokenizeCommandTest : public ::testing::Test {
 protected:
  // A file of this process's own: ctest runs each test of this suite as its own process, in
  // parallel, and one that removed or rewrote a shared file under another failed it.
  void SetUp() override {
    path_ = ::testing::TempDir() + "/tokenize_command_test_" + std::to_string(getpid()) + ".json";
    std::ofstream(path_) << kTokenizer;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  // Runs the command; returns its exit status and stores stdout.
  int Run(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ::testing::internal::CaptureStdout();
    int rc = RunTokenizeCommand(static_cast<int>(argv.size()), argv.data());
    out_ = ::testing::internal::GetCapturedStdout();
    return rc;
  }
  std::string path_, out_;
};

TEST_F(TokenizeCommandTest, EncodesAndDecodes) {
  EXPECT_EQ(Run({"--tokenizer", path_, "abab a"}), 0);
  EXPECT_EQ(out_, "0 3 3 4 1\n");
  EXPECT_EQ(Run({"--tokenizer", path_, "--no-special", "--json", "ab"}), 0);
  EXPECT_EQ(out_, "{\"count\":1,\"ids\":[3]}\n");
  EXPECT_EQ(Run({"--tokenizer", path_, "--decode", "0,3,4,1"}), 0);
  EXPECT_EQ(out_, "<s>ab a\n");
  EXPECT_EQ(Run({"--tokenizer", path_, "--decode", "0,3", "--skip-special"}), 0);
  EXPECT_EQ(out_, "ab\n");
}

TEST_F(TokenizeCommandTest, BatchAnswersEachLine) {
  std::istringstream input(
      "{\"text\":\"ab\",\"add_special_tokens\":false}\n{\"ids\":[3,1]}\nnot json\n");
  auto* old = std::cin.rdbuf(input.rdbuf());
  EXPECT_EQ(Run({"--tokenizer", path_, "--batch"}), 0);
  std::cin.rdbuf(old);
  EXPECT_EQ(out_,
            "{\"ids\":[3]}\n{\"text\":\"aba\"}\n{\"error\":\"line is not a JSON object\"}\n");
}

TEST_F(TokenizeCommandTest, BadUsageAndMissingFiles) {
  EXPECT_EQ(Run({"abc"}), 2);                                   // no tokenizer
  EXPECT_EQ(Run({"--tokenizer", path_}), 2);                    // no input
  EXPECT_EQ(Run({"--tokenizer", path_, "--frob", "x"}), 2);     // unknown option
  EXPECT_EQ(Run({"--tokenizer", path_, "--decode", "1,x"}), 2);  // bad id
  EXPECT_EQ(Run({"--model", "/nonexistent", "abc"}), 1);        // no tokenizer.json there
}

}  // namespace
}  // namespace eprof::tools
