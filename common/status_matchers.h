// gtest matchers for absl::Status and absl::StatusOr<T> (test-only; Debian's Abseil lacks them).
//
//   EXPECT_THAT(DoThing(), IsOk());
//   EXPECT_THAT(Parse("x"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("x")));
//   EXPECT_THAT(Find("y"), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(Load(), IsOkAndHolds(Eq(3)));
//   EPROF_ASSERT_OK_AND_ASSIGN(auto value, Load());
#ifndef EPROF_COMMON_STATUS_MATCHERS_H_
#define EPROF_COMMON_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::testing {
namespace internal {

inline const absl::Status& ToStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace internal

MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const absl::Status& status = internal::ToStatus(arg);
  if (!status.ok()) *result_listener << "which is " << status;
  return status.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string(negation ? "has not " : "has ") + "code " +
               absl::StatusCodeToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher, negation)) {
  const absl::Status& status = internal::ToStatus(arg);
  *result_listener << "which is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

MATCHER_P(StatusIs, code,
          std::string(negation ? "has not " : "has ") + "code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = internal::ToStatus(arg);
  *result_listener << "which is " << status;
  return status.code() == code;
}

MATCHER_P(IsOkAndHolds, value_matcher,
          std::string(negation ? "is not OK or holds a value that " : "is OK and holds a value that ") +
              ::testing::DescribeMatcher<typename std::decay_t<arg_type>::value_type>(
                  value_matcher, negation)) {
  if (!arg.ok()) {
    *result_listener << "which is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace eprof::testing

#define EPROF_ASSERT_OK(expr) ASSERT_THAT((expr), ::eprof::testing::IsOk())
#define EPROF_EXPECT_OK(expr) EXPECT_THAT((expr), ::eprof::testing::IsOk())

#define EPROF_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  EPROF_ASSERT_OK_AND_ASSIGN_IMPL_(EPROF_STATUS_MATCHERS_CONCAT_(eprof_sor_, __LINE__), lhs, expr)
#define EPROF_STATUS_MATCHERS_CONCAT_INNER_(a, b) a##b
#define EPROF_STATUS_MATCHERS_CONCAT_(a, b) EPROF_STATUS_MATCHERS_CONCAT_INNER_(a, b)
#define EPROF_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                     \
  ASSERT_TRUE(statusor.ok()) << statusor.status();            \
  lhs = std::move(statusor).value()

#endif  // EPROF_COMMON_STATUS_MATCHERS_H_
