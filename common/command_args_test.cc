#include "common/command_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/status_matchers.h"

namespace eprof {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::eprof::testing::IsOkAndHolds;
using ::eprof::testing::StatusIs;

const std::vector<OptionSpec> kSpecs = {{"model", 'm', true}, {"tag", 0, true}, {"json", 0, false}};

TEST(CommandArgs, LongShortAndInlineValuesSwitchesAndPositionals) {
  CommandArgs a;
  EPROF_ASSERT_OK(
      a.Parse({"-m", "demo", "first", "--tag=x", "--tag", "y", "--json", "second"}, kSpecs));
  EXPECT_EQ(a.Get("model"), "demo");
  EXPECT_THAT(a.GetAll("tag"), ElementsAre("x", "y"));
  EXPECT_EQ(a.Get("tag"), "y");  // the last one given
  EXPECT_TRUE(a.Has("json"));
  EXPECT_FALSE(a.Has("help"));
  EXPECT_THAT(a.positionals(), ElementsAre("first", "second"));
  EXPECT_EQ(a.Get("absent", "fallback"), "fallback");
  EXPECT_THAT(a.NoPositionals(), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("unexpected argument 'first'")));
}

TEST(CommandArgs, DoubleDashEndsOptionsAndADashAloneIsAPositional) {
  CommandArgs a;
  EPROF_ASSERT_OK(a.Parse({"-", "--", "--json", "-m"}, kSpecs));
  EXPECT_FALSE(a.Has("json"));
  EXPECT_THAT(a.positionals(), ElementsAre("-", "--json", "-m"));
}

TEST(CommandArgs, EverySubcommandTakesHelp) {
  CommandArgs a;
  EPROF_ASSERT_OK(a.Parse({"--help"}, kSpecs));
  EXPECT_TRUE(a.Has("help"));
  CommandArgs b;
  EPROF_ASSERT_OK(b.Parse({"-h"}, {{"help", 'h', false}}));  // named by the specs too: no duplicate
  EXPECT_TRUE(b.Has("help"));
}

TEST(CommandArgs, BadInputIsNamed) {
  CommandArgs a;
  EXPECT_THAT(
      a.Parse({"--bogus"}, kSpecs),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("unknown option --bogus (known: --model, --tag, --json, --help)")));
  EXPECT_THAT(CommandArgs().Parse({"-x"}, kSpecs),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown option -x")));
  EXPECT_THAT(CommandArgs().Parse({"--model"}, kSpecs),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--model needs a value")));
  EXPECT_THAT(CommandArgs().Parse({"--json=1"}, kSpecs),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--json takes no value")));
}

TEST(CommandArgs, NumbersAreCheckedWhenRead) {
  CommandArgs a;
  EPROF_ASSERT_OK(a.Parse({"--model", "12", "--tag", "1.5"}, kSpecs));
  EXPECT_THAT(a.GetInt("model", 0), IsOkAndHolds(12));
  EXPECT_THAT(a.GetInt("json", 7), IsOkAndHolds(7));
  EXPECT_THAT(a.GetDouble("tag", 0), IsOkAndHolds(1.5));
  EXPECT_THAT(a.GetInt("tag", 0), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("--tag must be an integer, got '1.5'")));
}

}  // namespace
}  // namespace eprof
