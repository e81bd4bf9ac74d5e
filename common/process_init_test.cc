#include "common/process_init.h"

#include <stdlib.h>

#include <string>

#include "gtest/gtest.h"

namespace eprof {
namespace {

// InitProcess picks gRPC's poll engine on Linux (see process_init.h), and leaves a choice the
// environment made alone.
TEST(InitProcess, SelectsGrpcPollEngineUnlessTheEnvironmentChoseOne) {
#if defined(__linux__)
  unsetenv("GRPC_POLL_STRATEGY");
  InitProcess("process_init_test");
  ASSERT_NE(getenv("GRPC_POLL_STRATEGY"), nullptr);
  EXPECT_EQ(std::string(getenv("GRPC_POLL_STRATEGY")), "poll");
  setenv("GRPC_POLL_STRATEGY", "epoll1", 1);
  InitProcess("process_init_test");
  EXPECT_EQ(std::string(getenv("GRPC_POLL_STRATEGY")), "epoll1");
  unsetenv("GRPC_POLL_STRATEGY");
#else
  GTEST_SKIP() << "gRPC already polls with poll() off Linux";
#endif
}

}  // namespace
}  // namespace eprof
