#include "common/socket_activation.h"

#include <stdlib.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using ::eprof::testing::IsOkAndHolds;

#if defined(__linux__)
TEST(SocketActivation, NotActivatedWithoutTheVariables) {
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  EXPECT_THAT(TakeActivatedListenFd(), IsOkAndHolds(-1));
}

TEST(SocketActivation, IgnoresFdsMeantForAnotherProcess) {
  setenv("LISTEN_PID", absl::StrCat(getpid() + 1).c_str(), 1);
  setenv("LISTEN_FDS", "1", 1);
  EXPECT_THAT(TakeActivatedListenFd(), IsOkAndHolds(-1));
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
}

TEST(SocketActivation, RejectsSeveralSockets) {
  setenv("LISTEN_PID", absl::StrCat(getpid()).c_str(), 1);
  setenv("LISTEN_FDS", "2", 1);
  EXPECT_THAT(TakeActivatedListenFd(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("exactly one")));
  EXPECT_EQ(getenv("LISTEN_FDS"), nullptr);  // consumed, not inherited by children
}
#endif

}  // namespace
}  // namespace eprof
