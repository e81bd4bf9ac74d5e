// Each normalizer, pre-tokenizer, BPE option, added-token flag and decoder on a small
// hand-written tokenizer.json. The expected ids and texts in testdata/component_cases.json were
// computed once with Hugging Face tokenizers (@anush008/tokenizers 0.6 = tokenizers 0.22.2) by
// tests/tokenizer/gen_component_cases.js; this test asserts eprof gives exactly the same.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "daemon/engine/tokenizer/tokenizer.h"
#include "daemon/engine/tokenizer/unicode.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <nlohmann/json.hpp>

namespace eprof::tokenizer {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::IsOkAndHolds;
using ::eprof::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

nlohmann::json LoadCases() {
  std::string path = std::string(std::getenv("EPROF_SOURCE_DIR")) +
                     "/daemon/engine/tokenizer/testdata/component_cases.json";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return nlohmann::json::parse(buffer.str());
}

class ComponentCaseTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ComponentCaseTest, MatchesHuggingFace) {
  static const nlohmann::json* cases = new nlohmann::json(LoadCases());
  const nlohmann::json* found = nullptr;
  for (const auto& c : (*cases)["cases"]) {
    if (c["name"] == GetParam()) found = &c;
  }
  ASSERT_NE(found, nullptr) << GetParam();
  EPROF_ASSERT_OK_AND_ASSIGN(auto tok, Tokenizer::FromJson((*found)["tokenizer"].dump()));
  for (const auto& r : (*found)["results"]) {
    std::string text = r["text"].get<std::string>();
    SCOPED_TRACE("text: \"" + text + "\"");
    EPROF_ASSERT_OK_AND_ASSIGN(auto ids, tok->Encode(text, true));
    EXPECT_EQ(ids, r["ids"].get<std::vector<int32_t>>());
    EPROF_ASSERT_OK_AND_ASSIGN(auto ids_plain, tok->Encode(text, false));
    EXPECT_EQ(ids_plain, r["ids_no_special"].get<std::vector<int32_t>>());
    auto expected_ids = r["ids"].get<std::vector<int32_t>>();
    EPROF_ASSERT_OK_AND_ASSIGN(auto decoded, tok->Decode(expected_ids, false));
    EXPECT_EQ(decoded, r["decoded"].get<std::string>());
    EPROF_ASSERT_OK_AND_ASSIGN(auto decoded_skip, tok->Decode(expected_ids, true));
    EXPECT_EQ(decoded_skip, r["decoded_skip"].get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Components, ComponentCaseTest,
    ::testing::Values("nfc", "nfd", "nfkc", "nfkd", "lowercase", "strip", "strip_left",
                      "replace_prepend", "replace_regex", "split_removed", "split_isolated",
                      "split_prev", "split_next", "split_contiguous", "split_invert",
                      "metaspace_always", "metaspace_first", "metaspace_never", "digits",
                      "digits_individual", "punctuation", "whitespace", "whitespace_split",
                      "pre_sequence", "bytelevel_regex_prefix", "bytelevel_no_regex",
                      "added_strip", "bpe_no_fallback_unk", "bpe_fuse_unk", "bpe_prefix_suffix",
                      "decoders"));

// A minimal valid tokenizer.json with the given extra top-level members.
std::string Minimal(const std::string& extra) {
  return R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"<0xC3>":3,"<0xA9>":4},)"
         R"("merges":["a b"],"byte_fallback":true})" +
         extra + "}";
}

TEST(TokenizerTest, MergesBothFormsAndByteFallback) {
  EPROF_ASSERT_OK_AND_ASSIGN(auto tok, Tokenizer::FromJson(Minimal("")));
  EXPECT_THAT(tok->Encode("abaé", false), IsOkAndHolds(ElementsAre(2, 0, 3, 4)));
  EPROF_ASSERT_OK_AND_ASSIGN(
      auto arrays,
      Tokenizer::FromJson(R"({"model":{"type":"BPE","vocab":{"a":0," ":1,"b":2,"c":3,"a ":4,)"
                          R"("a b":5,"a bc":6},"merges":[["a"," "],["a ","b"],["a b","c"]]}})"));
  EXPECT_THAT(arrays->Encode("a bc", false), IsOkAndHolds(ElementsAre(6)));
}

TEST(TokenizerTest, RejectsUnsupportedComponentsByName) {
  EXPECT_THAT(Tokenizer::FromJson(Minimal(R"(,"normalizer":{"type":"BertNormalizer"})")),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("BertNormalizer")));
  EXPECT_THAT(Tokenizer::FromJson(Minimal(R"(,"pre_tokenizer":{"type":"UnicodeScripts"})")),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("UnicodeScripts")));
  EXPECT_THAT(Tokenizer::FromJson(Minimal(R"(,"decoder":{"type":"WordPiece"})")),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("WordPiece")));
  EXPECT_THAT(Tokenizer::FromJson(Minimal(R"(,"post_processor":{"type":"Frobnicate"})")),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("Frobnicate")));
  EXPECT_THAT(Tokenizer::FromJson(R"({"model":{"type":"Unigram","vocab":[]}})"),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("Unigram")));
  EXPECT_THAT(Tokenizer::FromJson(Minimal(R"(,"truncation":{"max_length":5})")),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("truncation")));
}

TEST(TokenizerTest, RejectsBadFiles) {
  EXPECT_THAT(Tokenizer::FromJson("{not json"), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(Tokenizer::FromFile("/nonexistent/tokenizer.json"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/tokenizer.json")));
  EXPECT_THAT(
      Tokenizer::FromJson(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing from the vocab")));
  EXPECT_THAT(Tokenizer::FromJson(Minimal(R"(,"pre_tokenizer":{"type":"Split",
      "pattern":{"Regex":"(unclosed"},"behavior":"Isolated"})")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("(unclosed")));
}

// Ids index the id -> token table: a negative or huge one is refused, not written before the
// table or allocated (found by fuzz/tokenizer_fuzz.cc); so is a post-processor id of another
// type, which used to throw out of the loader.
TEST(TokenizerTest, RejectsIdsOutsideTheTable) {
  EXPECT_THAT(Tokenizer::FromJson(R"({"model":{"type":"BPE","vocab":{"a":-5},"merges":[]}})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has id -5")));
  EXPECT_THAT(
      Tokenizer::FromJson(R"({"model":{"type":"BPE","vocab":{"a":4000000000},"merges":[]}})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside 0-")));
  EXPECT_THAT(
      Tokenizer::FromJson(Minimal(R"(,"post_processor":{"type":"BertProcessing",
          "cls":["[CLS]","x"],"sep":["[SEP]",1]})")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cls")));
}

TEST(TokenizerTest, RejectsInvalidUtf8AndDropsUnknownIds) {
  EPROF_ASSERT_OK_AND_ASSIGN(auto tok, Tokenizer::FromJson(Minimal("")));
  EXPECT_THAT(tok->Encode("ab\xC3(", false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("offset 2")));
  EXPECT_THAT(tok->Decode({0, 99, 1}, false), IsOkAndHolds("a b"));  // no decoder: joined by " "
}

TEST(TokenizerTest, MetaspaceDecoderDropsEveryReplacementOfTheFirstToken) {
  // Expected texts computed with @anush008/tokenizers (Hugging Face tokenizers 0.22.2).
  EPROF_ASSERT_OK_AND_ASSIGN(
      auto tok, Tokenizer::FromJson(
                    R"({"model":{"type":"BPE","vocab":{"▁":0,"▁▁":1,"h":2,"▁h▁":3},"merges":[]},)"
                    R"("decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always"}})"));
  EXPECT_THAT(tok->Decode({1, 2}, false), IsOkAndHolds("h"));
  EXPECT_THAT(tok->Decode({3, 2}, false), IsOkAndHolds("hh"));
  EXPECT_THAT(tok->Decode({0, 0, 2}, false), IsOkAndHolds(" h"));
  EXPECT_THAT(tok->Decode({2, 1}, false), IsOkAndHolds("h  "));
}

TEST(Utf8LossyTest, ReplacesMaximalInvalidSubparts) {
  EXPECT_EQ(Utf8Lossy("a\xF0\x9F\x98"), "a\xEF\xBF\xBD");           // truncated 4-byte: one
  EXPECT_EQ(Utf8Lossy("\xC3\x28"), "\xEF\xBF\xBD(");                  // bad continuation
  EXPECT_EQ(Utf8Lossy("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");       // two bad bytes
  EXPECT_EQ(Utf8Lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(IncrementalDecoderTest, NeverEmitsPartialCharacters) {
  // Byte-fallback tokens of "é" (C3 A9) and "😀" (F0 9F 98 80), Sentencepiece-style decoder.
  EPROF_ASSERT_OK_AND_ASSIGN(
      auto tok,
      Tokenizer::FromJson(
          R"({"model":{"type":"BPE","vocab":{"▁hi":0,"<0xC3>":1,"<0xA9>":2,"<0xF0>":3,)"
          R"("<0x9F>":4,"<0x98>":5,"<0x80>":6,"▁":7},"merges":[],"byte_fallback":true},)"
          R"("decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},)"
          R"("content":" "},{"type":"ByteFallback"},{"type":"Fuse"},)"
          R"({"type":"Strip","content":" ","start":1,"stop":0}]}})"));
  IncrementalDecoder stream(tok.get(), false);
  std::vector<std::string> pieces;
  for (int32_t id : {0, 1, 2, 7, 3, 4, 5, 6, 0}) {
    EPROF_ASSERT_OK_AND_ASSIGN(std::string piece, stream.Next(id));
    pieces.push_back(piece);
  }
  EXPECT_THAT(pieces, ElementsAre("hi", "", "é", " ", "", "", "", "😀", " hi"));
  EPROF_ASSERT_OK_AND_ASSIGN(std::string full, tok->Decode({0, 1, 2, 7, 3, 4, 5, 6, 0}, false));
  EXPECT_EQ(full, "hié 😀 hi");
  // A stream that ends inside a character gives it back as U+FFFD on Finish.
  IncrementalDecoder cut(tok.get(), false);
  EXPECT_THAT(cut.Next(3), IsOkAndHolds(""));
  EXPECT_THAT(cut.Finish(), IsOkAndHolds("\xEF\xBF\xBD"));
}

}  // namespace
}  // namespace eprof::tokenizer
