#include "common/errno_status.h"

#include <cerrno>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using ::eprof::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ErrnoToStatus, MapsCodesAndNamesWhatFailed) {
  EXPECT_THAT(ErrnoToStatus(ENOENT, "open /sys/x"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("open /sys/x: "), HasSubstr("No such file"),
                             HasSubstr("(errno 2)"))));
  EXPECT_THAT(ErrnoToStatus(EACCES, "read energy_uj"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("read energy_uj")));
  EXPECT_THAT(ErrnoToStatus(EINVAL, "x"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("x")));
}

}  // namespace
}  // namespace eprof
