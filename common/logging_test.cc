#include "common/logging.h"

#include <string>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using ::eprof::testing::IsOkAndHolds;
using ::eprof::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = MinLogLevel(); }
  void TearDown() override { SetMinLogLevel(saved_); }
  LogLevel saved_;
};

TEST_F(LoggingTest, ParsesLevels) {
  EXPECT_THAT(ParseLogLevel("debug"), IsOkAndHolds(LogLevel::kDebug));
  EXPECT_THAT(ParseLogLevel("INFO"), IsOkAndHolds(LogLevel::kInfo));
  EXPECT_THAT(ParseLogLevel("warn"), IsOkAndHolds(LogLevel::kWarning));
  EXPECT_THAT(ParseLogLevel("Warning"), IsOkAndHolds(LogLevel::kWarning));
  EXPECT_THAT(ParseLogLevel("error"), IsOkAndHolds(LogLevel::kError));
  EXPECT_THAT(ParseLogLevel("loud"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("debug, info, warning or error")));
}

TEST_F(LoggingTest, WritesOneFormattedLineToStderr) {
  SetMinLogLevel(LogLevel::kInfo);
  SetLogProgramName("eprof-test");
  ::testing::internal::CaptureStderr();
  EPROF_LOG(WARNING) << "sensor " << 3 << " is hot\n";
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(out, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z W eprof-test "
                                "common/logging_test.cc:[0-9]+\\] sensor 3 is hot\n"));
}

TEST_F(LoggingTest, MessagesBelowTheLevelAreNotEvaluated) {
  SetMinLogLevel(LogLevel::kWarning);
  int evaluated = 0;
  auto side_effect = [&] { return ++evaluated; };
  ::testing::internal::CaptureStderr();
  EPROF_LOG(INFO) << side_effect();
  EPROF_LOG(DEBUG) << side_effect();
  EPROF_LOG(ERROR) << "kept " << side_effect();
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(evaluated, 1);
  EXPECT_THAT(out, HasSubstr("kept 1"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr(" I ")));
}

}  // namespace
}  // namespace eprof
