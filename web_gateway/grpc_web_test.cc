#include "web_gateway/grpc_web.h"

#include <string>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::web {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::IsOkAndHolds;
using ::eprof::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::string Frame0(const std::string& payload) {
  std::string f(5, '\0');
  f[4] = static_cast<char>(payload.size());
  return f + payload;
}

TEST(GrpcWebTest, ContentTypes) {
  EXPECT_THAT(ParseContentType("application/grpc-web"), IsOk());
  EXPECT_FALSE(ParseContentType("application/grpc-web+proto")->text);
  EXPECT_TRUE(ParseContentType("application/grpc-web-text")->text);
  EXPECT_TRUE(ParseContentType("Application/GRPC-Web-Text+proto; charset=utf-8")->text);
  for (const char* bad : {"application/grpc-web+json", "application/grpc-web+thrift",
                          "application/json", "application/grpc", ""}) {
    EXPECT_THAT(ParseContentType(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(GrpcWebTest, Base64RoundTripsAndAcceptsPaddedChunks) {
  for (const std::string& s : {std::string(""), std::string("a"), std::string("ab"),
                               std::string("abc"), std::string("\x00\xff\x10 binary", 10)}) {
    EXPECT_THAT(Base64Decode(Base64Encode(s)), IsOkAndHolds(s));
  }
  // Two independently padded chunks, as gRPC-web servers send them.
  EXPECT_THAT(Base64Decode(Base64Encode("a") + Base64Encode("bc")), IsOkAndHolds("abc"));
  EXPECT_THAT(Base64Decode("abc"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("4-character")));
  EXPECT_THAT(Base64Decode("ab!d"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("offset 2")));
  EXPECT_THAT(Base64Decode("a==="), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64Decode("ab=c"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(GrpcWebTest, RequestBodyIsExactlyOneUncompressedFrame) {
  EXPECT_THAT(DecodeRequestBody(Frame0("hello"), false), IsOkAndHolds("hello"));
  EXPECT_THAT(DecodeRequestBody(Base64Encode(Frame0("hello")), true), IsOkAndHolds("hello"));
  EXPECT_THAT(DecodeRequestBody(Frame0(""), false), IsOkAndHolds(""));
  EXPECT_THAT(DecodeRequestBody("", false), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0 bytes")));
  std::string compressed = Frame0("x");
  compressed[0] = 0x01;
  EXPECT_THAT(DecodeRequestBody(compressed, false), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0x01")));
  EXPECT_THAT(DecodeRequestBody(Frame0("hello").substr(0, 7), false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only 2 follow")));
  EXPECT_THAT(DecodeRequestBody(Frame0("a") + Frame0("b"), false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("follow the request's one message")));
  EXPECT_THAT(DecodeRequestBody("not base64!", true), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(GrpcWebTest, TrailerFrameHasLowercaseKeysPercentEncodingAndBase64Bin) {
  std::multimap<std::string, std::string> md = {{"X-Custom", "v"}, {"x-trail-bin", std::string("\x00\x01\xff", 3)},
                                                {"bad key", "dropped"}, {"x-newline", "a\nb"}};
  const std::string frame = TrailerFrame(3, "bad ü input 100%", md, false);
  ASSERT_GE(frame.size(), 5u);
  EXPECT_EQ(static_cast<unsigned char>(frame[0]), 0x80);
  const std::string block = frame.substr(5);
  EXPECT_EQ(block, "grpc-status:3\r\ngrpc-message:bad %C3%BC input 100%25\r\nx-custom:v\r\n"
                   "x-trail-bin:AAH/\r\n");
  EXPECT_THAT(ParseTrailers(block),
              UnorderedElementsAre(Pair("grpc-status", "3"), Pair("grpc-message", "bad %C3%BC input 100%25"),
                                   Pair("x-custom", "v"), Pair("x-trail-bin", "AAH/")));
  // Text mode: the whole frame base64, on its own.
  EXPECT_THAT(Base64Decode(TrailerFrame(0, "", {}, true)), IsOkAndHolds(std::string("\x80\0\0\0\x0fgrpc-status:0\r\n", 20)));
}

// The frames of a reply, cut into chunks at every byte boundary, read back whole, in binary and
// in text mode (where each frame is base64 on its own, padding included).
TEST(GrpcWebTest, FramesSplitAtEveryByteBoundaryReadBackWhole) {
  for (bool text : {false, true}) {
    const std::string body = DataFrame("first", text) + DataFrame(std::string(300, 'x'), text) +
                             DataFrame("", text) + TrailerFrame(0, "", {}, text);
    for (size_t cut = 0; cut <= body.size(); ++cut) {
      for (size_t cut2 = cut; cut2 <= body.size(); cut2 += 7) {
        WebFrameReader reader(text);
        ASSERT_THAT(reader.Feed(body.substr(0, cut)), IsOk());
        ASSERT_THAT(reader.Feed(body.substr(cut, cut2 - cut)), IsOk());
        ASSERT_THAT(reader.Feed(body.substr(cut2)), IsOk());
        std::vector<WebFrameReader::Frame> frames;
        WebFrameReader::Frame f;
        while (reader.Next(&f)) frames.push_back(f);
        ASSERT_EQ(frames.size(), 4u) << "text " << text << " cut " << cut << "," << cut2;
        EXPECT_EQ(frames[0].payload, "first");
        EXPECT_EQ(frames[1].payload, std::string(300, 'x'));
        EXPECT_EQ(frames[2].payload, "");
        EXPECT_TRUE(frames[3].trailer);
        EXPECT_EQ(reader.pending_bytes(), 0u);
      }
    }
  }
}

TEST(GrpcWebTest, GrpcTimeout) {
  EXPECT_EQ(ParseGrpcTimeout("1500m"), std::chrono::milliseconds(1500));
  EXPECT_EQ(ParseGrpcTimeout("2S"), std::chrono::seconds(2));
  EXPECT_EQ(ParseGrpcTimeout("1H"), std::chrono::hours(1));
  EXPECT_EQ(ParseGrpcTimeout("99999999n"), std::chrono::nanoseconds(99999999));
  EXPECT_EQ(ParseGrpcTimeout("99999999H"), std::chrono::hours(2400)) << "clamped to 100 days";
  for (const char* bad : {"", "m", "10", "123456789m", "1.5S", "-1S", "10x"}) {
    EXPECT_EQ(ParseGrpcTimeout(bad), std::nullopt) << bad;
  }
}

// gRPC aborts the process on illegal metadata: only legal, wanted headers get through.
TEST(GrpcWebTest, OnlyLegalWantedHeadersBecomeMetadata) {
  std::multimap<std::string, std::string> headers = {
      {"Host", "127.0.0.1:8765"}, {"Cookie", "eprof-web-token=secret"}, {"Origin", "x"},
      {"Content-Type", "application/grpc-web"}, {"X-Grpc-Web", "1"}, {"grpc-timeout", "1S"},
      {"Connection", "keep-alive"}, {"TE", "trailers"}, {"X-Eprof-Token", "secret"},
      {"REMOTE_ADDR", "127.0.0.1"}, {"X-Request-Id", "abc"}, {"x-bad-value", "caf\xc3\xa9"},
      {"X Bad Key", "v"}, {"x-trace-bin", "AAH/"}, {"x-unpadded-bin", "AAE"}, {"x-crlf", "a\r\nb"}};
  EXPECT_THAT(ForwardableMetadata(headers),
              UnorderedElementsAre(Pair("x-request-id", "abc"),
                                   Pair("x-trace-bin", std::string("\x00\x01\xff", 3)),
                                   Pair("x-unpadded-bin", std::string("\x00\x01", 2))));
}

}  // namespace
}  // namespace eprof::web
