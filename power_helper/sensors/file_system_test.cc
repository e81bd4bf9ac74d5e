#include "power_helper/sensors/file_system.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/status_matchers.h"
#include "gtest/gtest.h"

namespace eprof::power {
namespace {

namespace fs = std::filesystem;

class RealCounterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "eprof_counter_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `text` to the counter file, replacing what it held (as sysfs shows a new value).
  void Write(const std::string& text) { std::ofstream(dir_ / "energy_uj", std::ios::trunc) << text; }

  absl::StatusOr<std::unique_ptr<CounterFile>> Open() {
    return FileSystem::Real()->OpenCounter((dir_ / "energy_uj").string());
  }

  fs::path dir_;
};

TEST_F(RealCounterTest, ReadsTheCurrentValueEachTime) {
  Write("52649883221\n");
  auto counter = Open();
  EPROF_ASSERT_OK(counter.status());
  EXPECT_EQ(*(*counter)->Read(), 52649883221u);
  Write("7\n");
  EXPECT_EQ(*(*counter)->Read(), 7u);
  Write("0");  // no newline
  EXPECT_EQ(*(*counter)->Read(), 0u);
}

TEST_F(RealCounterTest, TheLargestValuesAreExact) {
  Write("9999999999999999999\n");  // 19 digits: the fast path
  auto counter = Open();
  EPROF_ASSERT_OK(counter.status());
  EXPECT_EQ(*(*counter)->Read(), 9999999999999999999u);
  Write("18446744073709551615\n");  // 2^64 - 1: 20 digits
  EXPECT_EQ(*(*counter)->Read(), 18446744073709551615u);
}

TEST_F(RealCounterTest, AnythingButAnIntegerIsAnErrorNamingTheFileAndText) {
  auto counter = Open();
  ASSERT_FALSE(counter.ok());  // no file yet
  EXPECT_EQ(counter.status().code(), absl::StatusCode::kNotFound);
  Write("1\n");
  counter = Open();
  EPROF_ASSERT_OK(counter.status());
  for (const char* bad : {"", "\n", "12a\n", "-5\n", "18446744073709551616\n", "1 2\n"}) {
    Write(bad);
    absl::StatusOr<uint64_t> read = (*counter)->Read();
    ASSERT_FALSE(read.ok()) << "\"" << bad << "\"";
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(read.status().message().find("energy_uj"), std::string::npos) << read.status();
  }
}

}  // namespace
}  // namespace eprof::power
