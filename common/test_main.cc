// main() of every eprof gtest binary. Before running the tests it sets, unless already set:
//   EPROF_SOURCE_DIR  the repository,
//   EPROF_BINARY_DIR  the build directory,
//   EPROF_SHARED_DIR  ../shared beside the repository (real sensor captures under fixtures/),
// and the test's own variables from eprof_cc_test(... ENVIRONMENT A=1 B=2), so a test binary
// behaves the same under ctest and when run by hand.
#include <stdlib.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

void SetDefault(const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) return;
  setenv(assignment.substr(0, eq).c_str(), assignment.substr(eq + 1).c_str(), /*overwrite=*/0);
}

}  // namespace

int main(int argc, char** argv) {
  SetDefault("EPROF_SOURCE_DIR=" EPROF_TEST_SOURCE_DIR);
  SetDefault("EPROF_BINARY_DIR=" EPROF_TEST_BINARY_DIR);
  SetDefault("EPROF_SHARED_DIR=" EPROF_TEST_SHARED_DIR);
  // EPROF_TEST_EXTRA_ENV: "A=1\037B=2" (ASCII unit separator between assignments).
  std::string extra = EPROF_TEST_EXTRA_ENV;
  size_t start = 0;
  while (start <= extra.size()) {
    size_t end = extra.find('\x1f', start);
    if (end == std::string::npos) end = extra.size();
    SetDefault(extra.substr(start, end - start));
    start = end + 1;
  }
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
