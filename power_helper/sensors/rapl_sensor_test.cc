// RaplSensor against the real powercap tree of shared/fixtures/powercap/, rebuilt as a directory
// under a temporary sysfs root, with its counters driven forward and through wraps.
#include "power_helper/sensors/rapl_sensor.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::power {
namespace {

namespace fs = std::filesystem;
using ::eprof::testing::IsOk;
using ::eprof::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr uint64_t kRange = 262143328850;  // max_energy_range_uj of every zone in the fixture

class RaplTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / absl::StrCat("rapl-", getpid(), "-", counter_++);
    fs::remove_all(root_);
    const fs::path powercap = root_ / "class" / "powercap";
    fs::create_directories(powercap);
    const char* shared = std::getenv("EPROF_SHARED_DIR");
    std::ifstream in(absl::StrCat(shared ? shared : "../shared",
                                  "/fixtures/powercap/intel-laptop-tree.txt"));
    ASSERT_TRUE(in.good());
    std::string line;
    int files = 0;
    while (std::getline(in, line)) {
      // Zone directories contain ':' (never ": "), so the first ": " ends the path.
      size_t sep = line.find(": ");
      if (sep == std::string::npos && !line.empty() && line.back() == ':') sep = line.size() - 1;
      ASSERT_NE(sep, std::string::npos) << line;
      std::string rel = line.substr(0, sep);
      std::string content = sep + 2 <= line.size() ? line.substr(sep + 2) : "";
      fs::path path = powercap / "intel-rapl" / rel;
      fs::create_directories(path.parent_path());
      std::ofstream(path) << content << "\n";
      ++files;
    }
    ASSERT_EQ(files, 96);
    // Real sysfs lists every zone, subzones too, as links in /sys/class/powercap.
    const fs::path tree = powercap / "intel-rapl";
    fs::create_directory_symlink(tree / "intel-rapl:0", powercap / "intel-rapl:0");
    fs::create_directory_symlink(tree / "intel-rapl:1", powercap / "intel-rapl:1");
    fs::create_directory_symlink(tree / "intel-rapl:0" / "intel-rapl:0:0", powercap / "intel-rapl:0:0");
    fs::create_directory_symlink(tree / "intel-rapl:0" / "intel-rapl:0:1", powercap / "intel-rapl:0:1");
    fs::create_directory_symlink(tree / "intel-rapl:0" / "intel-rapl:0:2", powercap / "intel-rapl:0:2");
  }
  void TearDown() override { fs::remove_all(root_); }

  void SetEnergy(const std::string& zone_rel, uint64_t uj) {
    std::ofstream(root_ / "class/powercap/intel-rapl" / zone_rel / "energy_uj") << uj << "\n";
  }

  std::unique_ptr<RaplSensor> Make() {
    RaplSensorOptions options;
    options.sysfs_root = root_.string();
    options.clock = &clock_;
    return RaplSensor::Create(options);
  }

  fs::path root_;
  FakeClock clock_;
  static inline int counter_ = 0;
};

TEST_F(RaplTree, DiscoversZonesAndContainment) {
  auto sensor = Make();
  v1::Source info = sensor->Describe();
  ASSERT_TRUE(info.available()) << info.unavailable_reason();
  std::map<std::string, v1::Channel> channels;
  for (const v1::Channel& c : info.channels()) channels[c.name()] = c;
  ASSERT_EQ(channels.size(), 5u);  // no duplicates from the class-directory links
  EXPECT_THAT(channels["package-0"].contains(), UnorderedElementsAre("core", "uncore"));
  EXPECT_THAT(channels["psys"].contains(), UnorderedElementsAre("package-0", "core", "uncore"));
  EXPECT_TRUE(channels["dram"].contains().empty());
  EXPECT_EQ(channels["package-0"].kind(), v1::CHANNEL_KIND_PACKAGE);
  EXPECT_EQ(channels["psys"].kind(), v1::CHANNEL_KIND_PLATFORM);
  EXPECT_EQ(channels["dram"].kind(), v1::CHANNEL_KIND_DRAM);
  EXPECT_EQ(channels["core"].native_unit(), "uJ");
  EXPECT_TRUE(channels["core"].energy_counter());
}

// A zone that lists itself (a link back, a bind mount; found by fuzz/sysfs_fuzz.cc) is not
// followed: only subzones named "<zone>:N" are.
TEST_F(RaplTree, AZoneListedInsideItselfIsNotFollowed) {
  const fs::path zone = root_ / "class/powercap/intel-rapl/intel-rapl:0";
  fs::create_directory_symlink(zone, zone / "intel-rapl:0");
  fs::create_directory_symlink(zone, zone / "intel-rapl:1");
  auto sensor = Make();
  EXPECT_EQ(sensor->Describe().channels_size(), 5);
}

TEST_F(RaplTree, MmioDuplicateOfThePackageIsDropped) {
  const fs::path mmio = root_ / "class/powercap/intel-rapl-mmio:0";
  fs::create_directories(mmio);
  std::ofstream(mmio / "name") << "package-0\n";
  std::ofstream(mmio / "energy_uj") << "1000\n";
  std::ofstream(mmio / "max_energy_range_uj") << kRange << "\n";
  auto sensor = Make();
  v1::Source info = sensor->Describe();
  ASSERT_EQ(info.channels_size(), 5);
  for (const v1::Channel& c : info.channels()) {
    if (c.name() == "package-0") {
      EXPECT_THAT(c.description(), ::testing::HasSubstr("(intel-rapl:0)"));
    }
  }
}

TEST_F(RaplTree, CountsEnergyAndCorrectsWraps) {
  auto sensor = Make();
  ASSERT_THAT(sensor->Start(1'000'000'000), IsOk());
  // 1 s later: package +15 J, core +9 J; psys wraps: from 117870082040 up to the range and on to
  // 2 000 000 µJ.
  SetEnergy("intel-rapl:0", 52649883221 + 15'000'000);
  SetEnergy("intel-rapl:0/intel-rapl:0:0", 36233947890 + 9'000'000);
  SetEnergy("intel-rapl:1", 2'000'000);
  auto sample = sensor->Next(1'000'000'000);
  ASSERT_TRUE(sample.ok()) << sample.status();
  EXPECT_EQ(sample->window_ns, 1'000'000'000);
  std::map<std::string, Reading> r;
  for (const Reading& x : sample->readings) r[x.channel] = x;
  EXPECT_DOUBLE_EQ(r["package-0"].energy_mj, 15000.0);
  EXPECT_DOUBLE_EQ(r["package-0"].power_mw, 15000.0);
  EXPECT_DOUBLE_EQ(r["core"].energy_mj, 9000.0);
  EXPECT_DOUBLE_EQ(r["uncore"].energy_mj, 0.0);
  EXPECT_DOUBLE_EQ(r["psys"].energy_mj, ((kRange - 117870082040) + 2'000'000) / 1e3);
  // Package wraps to 500 µJ exactly at the range boundary in a 250 ms window.
  SetEnergy("intel-rapl:0", 500);
  sample = sensor->Next(250'000'000);
  ASSERT_TRUE(sample.ok()) << sample.status();
  r.clear();
  for (const Reading& x : sample->readings) r[x.channel] = x;
  EXPECT_EQ(sample->window_ns, 250'000'000);
  EXPECT_DOUBLE_EQ(r["package-0"].energy_mj, (kRange - (52649883221 + 15'000'000) + 500) / 1e3);
  EXPECT_DOUBLE_EQ(r["psys"].energy_mj, 0.0);
  sensor->Stop();
}

TEST(RaplDelta, Arithmetic) {
  EXPECT_EQ(RaplDeltaUj(10, 25, 100), 15u);
  EXPECT_EQ(RaplDeltaUj(90, 5, 100), 15u);
  EXPECT_EQ(RaplDeltaUj(100, 0, 100), 0u);
}

TEST(RaplSensorTest, NoZonesIsUnavailableWithReason) {
  RaplSensorOptions options;
  options.sysfs_root = "/nonexistent-sysfs";
  auto sensor = RaplSensor::Create(options);
  v1::Source info = sensor->Describe();
  EXPECT_FALSE(info.available());
  EXPECT_THAT(info.unavailable_reason(), ::testing::HasSubstr("no readable"));
  EXPECT_THAT(sensor->Start(1'000'000), StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("no readable")));
}

}  // namespace
}  // namespace eprof::power
