#include "common/contained_path.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

namespace fs = std::filesystem;
using ::eprof::testing::IsOkAndHolds;
using ::eprof::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class ContainedPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::canonical(::testing::TempDir()) / absl::StrCat("contained_", ::getpid(), "_", n_++);
    model_ = base_ / "model";
    fs::create_directories(model_);
    Write(model_ / "model.safetensors", "weights");
    Write(base_ / "secret", "do not read");
  }
  void TearDown() override { fs::remove_all(base_); }
  static void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  fs::path base_, model_;
  static inline int n_ = 0;
};

TEST_F(ContainedPathTest, PlainFileInsideResolves) {
  EXPECT_THAT(ResolveInside(model_.string(), "model.safetensors"),
              IsOkAndHolds((model_ / "model.safetensors").string()));
}

TEST_F(ContainedPathTest, ClimbingAbsoluteAndEmptyNamesAreRefusedWithoutLookingAtTheFile) {
  for (const std::string& name : {std::string("../secret"), std::string("a/../../secret"),
                                  (base_ / "secret").string(), std::string("/etc/shadow"),
                                  std::string(""), std::string("x\0y", 3)}) {
    absl::StatusOr<std::string> r = ResolveInside(model_.string(), name);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument,
                            AllOf(HasSubstr(model_.string()),
                                  HasSubstr("only refer to files inside its own directory"),
                                  Not(HasSubstr("do not read")))))
        << name;
  }
}

TEST_F(ContainedPathTest, SymbolicLinkOutIsRefusedAndLinkInsideIsFollowed) {
  fs::create_symlink(base_ / "secret", model_ / "config.json");
  EXPECT_THAT(ResolveInside(model_.string(), "config.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside the model directory")));
  fs::create_symlink("model.safetensors", model_ / "alias.safetensors");
  EXPECT_THAT(ResolveInside(model_.string(), "alias.safetensors"),
              IsOkAndHolds((model_ / "model.safetensors").string()));
}

TEST_F(ContainedPathTest, HuggingFaceCacheSnapshotMayLinkIntoItsBlobs) {
  fs::path repo = base_ / "models--org--tiny";
  fs::path snapshot = repo / "snapshots" / "abc123";
  fs::create_directories(snapshot);
  fs::create_directories(repo / "blobs");
  Write(repo / "blobs" / "deadbeef", "weights");
  fs::create_symlink("../../blobs/deadbeef", snapshot / "model.safetensors");
  EXPECT_THAT(ResolveInside(snapshot.string(), "model.safetensors"),
              IsOkAndHolds((repo / "blobs" / "deadbeef").string()));
  // ... but not anywhere else in the cache.
  fs::create_symlink("../../../secret", snapshot / "config.json");
  EXPECT_THAT(ResolveInside(snapshot.string(), "config.json"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ContainedPathTest, MissingFileIsNotFound) {
  EXPECT_THAT(ResolveInside(model_.string(), "tokenizer.json"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace eprof
