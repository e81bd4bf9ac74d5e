#include "common/lock_file.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  std::string dir = ::testing::TempDir();
  return absl::StrCat(dir, dir.back() == '/' ? "" : "/", name, ".", ::getpid());
}

TEST(LockFile, SecondAcquireFailsNamingTheHolder) {
  std::string path = TempPath("lock_second");
  absl::StatusOr<LockFile> first = LockFile::Acquire(path);
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(LockFile::Acquire(path),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(absl::StrCat("pid ", ::getpid())), HasSubstr(path),
                             HasSubstr("stop it first"))));
}

TEST(LockFile, ReleasedOnDestructionAndMove) {
  std::string path = TempPath("lock_release");
  {
    absl::StatusOr<LockFile> lock = LockFile::Acquire(path);
    ASSERT_THAT(lock, IsOk());
    LockFile moved = std::move(*lock);  // the moved-from object must not release it
    EXPECT_THAT(LockFile::Acquire(path), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path)));
  }
  EXPECT_THAT(LockFile::Acquire(path), IsOk());
}

TEST(LockFile, HeldAgainstAnotherProcess) {
  std::string path = TempPath("lock_process");
  absl::StatusOr<LockFile> lock = LockFile::Acquire(path);
  ASSERT_THAT(lock, IsOk());
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<LockFile> other = LockFile::Acquire(path);
    _exit(!other.ok() && other.status().code() == absl::StatusCode::kFailedPrecondition ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(LockFile, UnopenablePathIsAnError) {
  EXPECT_THAT(LockFile::Acquire("/nonexistent-dir-eprof/x.lock"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent-dir-eprof/x.lock")));
}

}  // namespace
}  // namespace eprof
