#include "common/status_macros.h"

#include <memory>
#include <string>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::IsOkAndHolds;
using ::eprof::testing::StatusIs;
using ::testing::Eq;
using ::testing::HasSubstr;

absl::Status FailIf(bool fail) {
  return fail ? absl::NotFoundError("missing thing") : absl::OkStatus();
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError(absl::StrCat(x, " is odd"));
  return x / 2;
}

absl::Status Chain(bool fail, int* calls) {
  EPROF_RETURN_IF_ERROR(FailIf(fail));
  ++*calls;
  return absl::OkStatus();
}

absl::StatusOr<int> Quarter(int x) {
  EPROF_ASSIGN_OR_RETURN(int half, Half(x));
  EPROF_ASSIGN_OR_RETURN(int quarter, Half(half), "second halving");
  return quarter;
}

absl::StatusOr<std::unique_ptr<int>> MakeBox(int v) { return std::make_unique<int>(v); }

absl::StatusOr<int> Unbox() {
  std::unique_ptr<int> box;
  EPROF_ASSIGN_OR_RETURN(box, MakeBox(7));  // assignment to an existing variable, move-only
  return *box;
}

absl::Status ReturnIfErrorOnStatusOr(int x) {
  EPROF_RETURN_IF_ERROR(Half(x));
  return absl::OkStatus();
}

TEST(StatusMacros, ReturnIfErrorPropagatesAndStops) {
  int calls = 0;
  EXPECT_THAT(Chain(false, &calls), IsOk());
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(Chain(true, &calls), StatusIs(absl::StatusCode::kNotFound, Eq("missing thing")));
  EXPECT_EQ(calls, 1);
}

TEST(StatusMacros, ReturnIfErrorAcceptsStatusOr) {
  EXPECT_THAT(ReturnIfErrorOnStatusOr(4), IsOk());
  EXPECT_THAT(ReturnIfErrorOnStatusOr(3), StatusIs(absl::StatusCode::kInvalidArgument, Eq("3 is odd")));
}

TEST(StatusMacros, AssignOrReturnAssignsOrPrefixes) {
  EXPECT_THAT(Quarter(8), IsOkAndHolds(2));
  EXPECT_THAT(Quarter(3), StatusIs(absl::StatusCode::kInvalidArgument, Eq("3 is odd")));
  EXPECT_THAT(Quarter(6),
              StatusIs(absl::StatusCode::kInvalidArgument, Eq("second halving: 3 is odd")));
}

TEST(StatusMacros, AssignOrReturnMovesIntoExistingVariable) { EXPECT_THAT(Unbox(), IsOkAndHolds(7)); }

TEST(StatusMacros, AnnotateKeepsOkAndCode) {
  EXPECT_THAT(Annotate(absl::OkStatus(), "x"), IsOk());
  EXPECT_THAT(Annotate(absl::UnavailableError("gone"), "helper"),
              StatusIs(absl::StatusCode::kUnavailable, Eq("helper: gone")));
}

TEST(StatusMatchers, DescribeFailures) {
  // The matchers must fail on the wrong code or message, not only pass on the right ones.
  EXPECT_THAT(absl::NotFoundError("a"), ::testing::Not(IsOk()));
  EXPECT_THAT(absl::NotFoundError("a"),
              ::testing::Not(StatusIs(absl::StatusCode::kInternal, HasSubstr("a"))));
  EXPECT_THAT(absl::NotFoundError("a"),
              ::testing::Not(StatusIs(absl::StatusCode::kNotFound, HasSubstr("b"))));
  EXPECT_THAT(absl::NotFoundError("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(absl::NotFoundError("a"), ::testing::Not(StatusIs(absl::StatusCode::kInternal)));
  EXPECT_THAT(absl::StatusOr<int>(3), ::testing::Not(IsOkAndHolds(4)));
  EXPECT_THAT(absl::StatusOr<int>(absl::InternalError("x")), ::testing::Not(IsOkAndHolds(4)));
}

}  // namespace
}  // namespace eprof
