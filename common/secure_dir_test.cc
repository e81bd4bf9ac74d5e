#include "common/secure_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/lock_file.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uid_t kNobodyUid = 65534;

class SecureDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = std::filesystem::path(::testing::TempDir()) / absl::StrCat("securedir_", ::getpid(), "_", n_++);
    std::filesystem::create_directories(base_);
  }
  void TearDown() override { std::filesystem::remove_all(base_); }

  mode_t ModeOf(const std::filesystem::path& p) {
    struct stat st;
    EXPECT_EQ(::lstat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  std::filesystem::path base_;
  static inline int n_ = 0;
};

TEST_F(SecureDirTest, MissingDirectoryIsMadeWithTheModeDespiteTheUmask) {
  std::string dir = (base_ / "eprof-1000").string();
  mode_t old = ::umask(0);
  EXPECT_THAT(PrepareSocketDirectory(dir, 0700, /*set_mode=*/true), IsOk());
  ::umask(old);
  EXPECT_EQ(ModeOf(dir), 0700);
}

TEST_F(SecureDirTest, WorldWritableDirectoryIsRefused) {
  std::filesystem::path dir = base_ / "open";
  std::filesystem::create_directory(dir);
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  EXPECT_THAT(PrepareSocketDirectory(dir.string(), 0700, /*set_mode=*/true),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("refusing to use"), HasSubstr("others may write to it"),
                             HasSubstr("0777"), HasSubstr("remove it"))));
  EXPECT_EQ(ModeOf(dir), 0777) << "a refused directory is left as it was";
}

TEST_F(SecureDirTest, SymbolicLinkIsRefused) {
  std::filesystem::path target = base_ / "elsewhere";
  std::filesystem::create_directory(target);
  ::chmod(target.c_str(), 0700);
  std::filesystem::path link = base_ / "eprof-1000";
  std::filesystem::create_directory_symlink(target, link);
  EXPECT_THAT(PrepareSocketDirectory(link.string(), 0700, true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("symbolic link")));
  EXPECT_THAT(InspectSocketDirectory(link.string()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("symbolic link")));
}

TEST_F(SecureDirTest, DirectoryOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "giving a directory to another user needs root";
  std::filesystem::path dir = base_ / "planted";
  std::filesystem::create_directory(dir);
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir.c_str(), kNobodyUid, kNobodyUid), 0);
  EXPECT_THAT(PrepareSocketDirectory(dir.string(), 0700, true),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("owned by uid 65534"), HasSubstr("not by you"))));
}

TEST_F(SecureDirTest, OwnDirectoryGetsTheModeAskedFor) {
  std::filesystem::path dir = base_ / "mine";
  std::filesystem::create_directory(dir);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  EXPECT_THAT(PrepareSocketDirectory(dir.string(), 0711, /*set_mode=*/false), IsOk());
  EXPECT_EQ(ModeOf(dir), 0755) << "without set_mode the directory is only checked";
  EXPECT_THAT(PrepareSocketDirectory(dir.string(), 0711, /*set_mode=*/true), IsOk());
  EXPECT_EQ(ModeOf(dir), 0711);
}

TEST_F(SecureDirTest, ClientTrustsItselfRootAndTheOwnerOfAClosedDirectory) {
  SocketDirectory closed{.owner = kNobodyUid, .writable_by_others = false};
  EXPECT_TRUE(closed.MayServe(::getuid()));
  EXPECT_TRUE(closed.MayServe(0));
  EXPECT_TRUE(closed.MayServe(kNobodyUid));
  EXPECT_FALSE(closed.MayServe(12345));
  SocketDirectory open{.owner = kNobodyUid, .writable_by_others = true};
  EXPECT_FALSE(open.MayServe(kNobodyUid)) << "anyone could have bound a socket in /tmp";
  EXPECT_TRUE(open.MayServe(::getuid()));
}

TEST_F(SecureDirTest, PlantedLockFileLinkIsNotFollowed) {
  std::filesystem::path victim = base_ / "victim";
  { std::ofstream(victim) << "precious\n"; }
  std::filesystem::path lock = base_ / "eprofd.sock.lock";
  std::filesystem::create_symlink(victim, lock);
  EXPECT_FALSE(LockFile::Acquire(lock.string()).ok());
  std::ifstream in(victim);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "precious");
}

}  // namespace
}  // namespace eprof
