// The other sources against fakes and fixture trees: estimate (/proc/stat), hwmon (a sysfs tree),
// nvml (a fake NvmlApi), replay (JSON trace and plist capture, real time on a FakeClock and fast),
// powermetrics as a real child process (a fake `powermetrics` script writing a real capture in
// chunks with pauses), and the factory.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "power_helper/sensors/estimate_sensor.h"
#include "power_helper/sensors/factory.h"
#include "power_helper/sensors/hwmon_sensor.h"
#include "power_helper/sensors/nvml_sensor.h"
#include "power_helper/sensors/powermetrics_sensor.h"
#include "power_helper/sensors/replay_sensor.h"

namespace eprof::power {
namespace {

namespace fs = std::filesystem;
using ::eprof::testing::IsOk;
using ::eprof::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Shared(const std::string& rel) {
  const char* shared = std::getenv("EPROF_SHARED_DIR");
  return absl::StrCat(shared ? shared : "../shared", "/", rel);
}

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat("sources-", getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  FakeClock clock_;
};

using EstimateTest = TempDir;
TEST_F(EstimateTest, UtilisationTimesTdp) {
  Write(dir_ / "stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\n");
  EstimateSensorOptions o;
  o.proc_root = dir_.string();
  o.tdp_w = 50;
  o.idle_w = 10;
  o.clock = &clock_;
  auto sensor = EstimateSensor::Create(o);
  v1::Source info = sensor->Describe();
  ASSERT_TRUE(info.available()) << info.unavailable_reason();
  EXPECT_THAT(info.description(), HasSubstr("ESTIMATE"));
  ASSERT_EQ(info.channels_size(), 1);
  EXPECT_EQ(info.channels(0).quality(), v1::QUALITY_ESTIMATED);
  ASSERT_THAT(sensor->Start(500'000'000), IsOk());
  // +300 busy, +100 idle ticks: 75 % → 10 + 0.75 × 40 = 40 W over 0.5 s = 20 J.
  Write(dir_ / "stat", "cpu  300 0 200 900 0 0 0 0 0 0\n");
  auto s = sensor->Next(500'000'000);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->readings.size(), 1u);
  EXPECT_DOUBLE_EQ(s->readings[0].power_mw, 40'000);
  EXPECT_DOUBLE_EQ(s->readings[0].energy_mj, 20'000);
  EXPECT_EQ(s->readings[0].quality, v1::QUALITY_ESTIMATED);
}

TEST(EstimateParse, BadStat) {
  EXPECT_THAT(ParseProcStat("intr 1 2 3\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no aggregate")));
  EXPECT_THAT(ParseProcStat("cpu  1 x 3 4\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad field")));
}

using HwmonTest = TempDir;
TEST_F(HwmonTest, TrapezoidOverPowerInput) {
  Write(dir_ / "class/hwmon/hwmon2/name", "amdgpu\n");
  Write(dir_ / "class/hwmon/hwmon2/power1_average", "30000000\n");  // 30 W
  Write(dir_ / "class/hwmon/hwmon0/name", "coretemp\n");
  Write(dir_ / "class/hwmon/hwmon0/temp1_input", "40000\n");
  HwmonSensorOptions o;
  o.sysfs_root = dir_.string();
  o.clock = &clock_;
  auto sensor = HwmonSensor::Create(o);
  v1::Source info = sensor->Describe();
  ASSERT_EQ(info.channels_size(), 1);
  EXPECT_EQ(info.channels(0).name(), "amdgpu-hwmon2");
  EXPECT_EQ(info.channels(0).kind(), v1::CHANNEL_KIND_GPU);
  ASSERT_THAT(sensor->Start(1'000'000'000), IsOk());
  Write(dir_ / "class/hwmon/hwmon2/power1_average", "50000000\n");  // 50 W
  auto s = sensor->Next(2'000'000'000);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->readings[0].energy_mj, 80'000);  // (30 + 50) / 2 W × 2 s
  EXPECT_EQ(s->readings[0].quality, v1::QUALITY_DERIVED);
}

class FakeNvml : public NvmlApi {
 public:
  int DeviceCount() override { return 2; }
  std::string DeviceName(int i) override { return "Fake"; }
  bool TotalEnergyMj(int i, uint64_t* e) override {
    if (i != 0) return false;
    *e = energy_mj;
    return true;
  }
  bool PowerMw(int i, unsigned* p) override {
    *p = power_mw[i];
    return true;
  }
  uint64_t energy_mj = 1'000'000;
  unsigned power_mw[2] = {100'000, 20'000};
};

TEST(NvmlTest, EnergyCounterPowerFallbackAndReset) {
  FakeClock clock;
  auto fake = std::make_unique<FakeNvml>();
  FakeNvml* nvml = fake.get();
  NvmlSensorOptions o;
  o.api = std::move(fake);
  o.clock = &clock;
  auto sensor = NvmlSensor::Create(std::move(o));
  v1::Source info = sensor->Describe();
  ASSERT_EQ(info.channels_size(), 2);
  EXPECT_EQ(info.channels(0).quality(), v1::QUALITY_MEASURED);
  EXPECT_EQ(info.channels(1).quality(), v1::QUALITY_DERIVED);
  ASSERT_THAT(sensor->Start(1'000'000'000), IsOk());
  nvml->energy_mj += 123'456;
  nvml->power_mw[1] = 40'000;
  auto s = sensor->Next(1'000'000'000);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->readings[0].energy_mj, 123'456);
  EXPECT_EQ(s->readings[0].quality, v1::QUALITY_MEASURED);
  EXPECT_DOUBLE_EQ(s->readings[1].energy_mj, 30'000);  // (20 + 40) / 2 W × 1 s
  // Driver reload: the counter restarts near 0; that window is power × time.
  nvml->energy_mj = 500;
  s = sensor->Next(1'000'000'000);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->readings[0].energy_mj, 100'000);
  EXPECT_EQ(s->readings[0].quality, v1::QUALITY_DERIVED);
  nvml->energy_mj = 1500;
  s = sensor->Next(1'000'000'000);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->readings[0].energy_mj, 1000);
}

TEST(NvmlTest, RealLibraryMissingIsUnavailableNotError) {
  auto sensor = NvmlSensor::Create(NvmlSensorOptions{});
  v1::Source info = sensor->Describe();
  if (info.available()) GTEST_SKIP() << "this machine has NVML";
  EXPECT_THAT(info.unavailable_reason(), HasSubstr("libnvidia-ml.so.1"));
}

using ReplayTest = TempDir;
// Waking a polled sensor for a shorter interval ends its sleep but not its window: the energy
// since the last read is still in the next sample.
TEST(PolledSensorTest, WakeEndsTheSleepAndKeepsTheWindow) {
  auto sensor = EstimateSensor::Create({});
  ASSERT_TRUE(sensor->Describe().available());
  const int64_t t0 = Clock::Real()->NowNs();
  ASSERT_THAT(sensor->Start(60'000'000'000), IsOk());
  std::thread waker([&] {
    usleep(50'000);
    sensor->Wake();
  });
  SensorSample sample;
  EXPECT_THAT(sensor->NextInto(60'000'000'000, &sample), StatusIs(absl::StatusCode::kAborted));
  waker.join();
  ASSERT_THAT(sensor->NextInto(10'000'000, &sample), IsOk());
  EXPECT_GE(sample.t_end_ns - sample.window_ns, t0) << "the window started at Start";
  EXPECT_GE(sample.window_ns, 50'000'000) << "the time before the wake is in the window";
  EXPECT_LT(Clock::Real()->NowNs() - t0, 5'000'000'000);
  sensor->Stop();
}

TEST_F(ReplayTest, JsonTraceRealTimeIsRebasedAndExact) {
  Write(dir_ / "t.jsonl",
        "{\"seq\":0,\"t_end_ns\":5000000000,\"window_ns\":100000000,\"channels\":{\"cpu\":"
        "{\"energy_mj\":12.5,\"power_mw\":125,\"quality\":\"MEASURED\"}}}\n"
        "{\"seq\":1,\"t_end_ns\":5250000000,\"window_ns\":250000000,\"channels\":{\"cpu\":"
        "{\"energy_mj\":0.1,\"power_mw\":0.4,\"quality\":\"DERIVED\"}}}\n");
  ReplaySensorOptions o;
  o.path = (dir_ / "t.jsonl").string();
  o.clock = &clock_;
  auto sensor = ReplaySensor::Create(o);
  ASSERT_TRUE(sensor.ok()) << sensor.status();
  const int64_t start = clock_.NowNs();
  ASSERT_THAT((*sensor)->Start(0), IsOk());
  auto a = (*sensor)->Next(0);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->t_end_ns, start + 100'000'000);
  EXPECT_EQ(a->window_ns, 100'000'000);
  EXPECT_EQ(a->readings[0].energy_mj, 12.5);
  EXPECT_GE(clock_.NowNs(), a->t_end_ns);  // paced
  auto b = (*sensor)->Next(0);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->t_end_ns, start + 350'000'000);
  EXPECT_EQ(b->readings[0].energy_mj, 0.1);
  EXPECT_EQ(b->readings[0].quality, v1::QUALITY_DERIVED);
  EXPECT_THAT((*sensor)->Next(0).status(), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("ended")));
}

TEST_F(ReplayTest, PlistCaptureFast) {
  ReplaySensorOptions o;
  o.path = Shared("fixtures/powermetrics/m4pro-macos15-gpu-only-5samples.plist-stream");
  o.fast = true;
  o.clock = &clock_;
  auto sensor = ReplaySensor::Create(o);
  ASSERT_TRUE(sensor.ok()) << sensor.status();
  ASSERT_THAT((*sensor)->Start(0), IsOk());
  double gpu_mj = 0;
  int64_t windows = 0;
  int n = 0;
  for (;;) {
    auto s = (*sensor)->Next(0);
    if (!s.ok()) break;
    ++n;
    windows += s->window_ns;
    gpu_mj += s->readings[0].energy_mj;
  }
  EXPECT_EQ(n, 5);
  EXPECT_EQ(windows, 25052688415);
  EXPECT_EQ(gpu_mj, 1186);
}

TEST_F(ReplayTest, BadTraceSaysWhichLine) {
  Write(dir_ / "bad.jsonl", "{\"t_end_ns\":1,\"window_ns\":1}\n{\"t_end_ns\":\"x\"}\n");
  ReplaySensorOptions o;
  o.path = (dir_ / "bad.jsonl").string();
  EXPECT_THAT(ReplaySensor::Create(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 2")));
}

// Before, replaying /dev/zero or /dev/urandom grew the helper's memory without bound and a FIFO
// hung it; negative or absurd energies were accepted.
TEST_F(ReplayTest, DevicesFifosAndHugeFilesAreRefusedBeforeReading) {
  ReplaySensorOptions o;
  for (const char* device : {"/dev/zero", "/dev/urandom"}) {
    o.path = device;
    EXPECT_THAT(ReplaySensor::Create(o).status(),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         AllOf(HasSubstr(device), HasSubstr("a character device"))));
  }
  fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  o.path = fifo.string();
  EXPECT_THAT(ReplaySensor::Create(o).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("a FIFO")));
  o.path = dir_.string();
  EXPECT_THAT(ReplaySensor::Create(o).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("a directory")));
  fs::path huge = dir_ / "huge.jsonl";
  { std::ofstream(huge) << ""; }
  fs::resize_file(huge, kMaxReplayBytes + 1);  // sparse: takes no disk
  o.path = huge.string();
  EXPECT_THAT(ReplaySensor::Create(o).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("more than the")));
}

TEST_F(ReplayTest, NegativeNonFiniteAndAbsurdValuesAreRefused) {
  ReplaySensorOptions o;
  o.path = (dir_ / "t.jsonl").string();
  auto trace = [&](const std::string& channel_json) {
    Write(dir_ / "t.jsonl", absl::StrCat("{\"t_end_ns\":100000000,\"window_ns\":100000000,"
                                         "\"channels\":{\"cpu\":", channel_json, "}}\n"));
    return ReplaySensor::Create(o).status();
  };
  EXPECT_THAT(trace("{\"energy_mj\":-5}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("sample 1"), HasSubstr("channel cpu"), HasSubstr("-5"))));
  EXPECT_THAT(trace("{\"energy_mj\":1e12}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("100 kW")));
  EXPECT_THAT(trace("{\"energy_mj\":1,\"power_mw\":-1}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("finite and >= 0")));
  EXPECT_THAT(trace("{\"energy_mj\":12.5,\"power_mw\":125}"), IsOk());
}

// A fake powermetrics: records its argv and pid, writes `capture` in 4000-byte chunks with
// 20 ms pauses, then sleeps (as itself, through exec) until it is stopped.
std::string FakePowermetrics(const fs::path& dir, const std::string& capture) {
  fs::path script = dir / "powermetrics";
  Write(script, absl::StrCat(
                    "#!/bin/sh\n"
                    "echo \"$@\" > '", (dir / "args").string(), "'\n",
                    "echo $$ > '", (dir / "pid").string(), "'\n",
                    "f='", capture, "'\n",
                    "size=$(wc -c < \"$f\")\n"
                    "off=1\n"
                    "while [ $off -le $size ]; do\n"
                    "  tail -c +$off \"$f\" | head -c 4000\n"
                    "  off=$((off + 4000))\n"
                    "  sleep 0.02\n"
                    "done\n"
                    "exec sleep 60\n"));
  fs::permissions(script, fs::perms::owner_all);
  return script.string();
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using PowermetricsChildTest = TempDir;
TEST_F(PowermetricsChildTest, FakeExecutableEndToEndAndStopped) {
  PowermetricsSensorOptions o;
  o.executable = FakePowermetrics(
      dir_, Shared("fixtures/powermetrics/m4pro-macos15-gpu-only-5samples.plist-stream"));
  o.require_root = false;
  PowermetricsSensor sensor(o);
  ASSERT_TRUE(sensor.Describe().available());
  ASSERT_THAT(sensor.Start(250'000'000), IsOk());
  const int64_t before = Clock::Real()->NowNs();
  double gpu_mj = 0;
  int64_t windows = 0;
  int64_t last_t = 0;
  for (int i = 0; i < 5; ++i) {
    auto s = sensor.Next(0);
    ASSERT_TRUE(s.ok()) << s.status();
    gpu_mj += s->readings.at(0).energy_mj;
    windows += s->window_ns;
    EXPECT_GE(s->t_end_ns, before);  // stamped with the helper's clock, not the plist date
    EXPECT_GE(s->t_end_ns, last_t);
    last_t = s->t_end_ns;
  }
  EXPECT_EQ(gpu_mj, 1186);
  EXPECT_EQ(windows, 25052688415);
  EXPECT_EQ(ReadAll(dir_ / "args"),
            "-f plist -b 0 -i 250 --samplers cpu_power,gpu_power,ane_power,thermal\n");
  const pid_t pid = std::stoi(ReadAll(dir_ / "pid"));
  EXPECT_EQ(pid, sensor.child_pid());
  EXPECT_EQ(kill(pid, 0), 0);
  sensor.Stop();
  EXPECT_EQ(sensor.child_pid(), -1);
  EXPECT_NE(kill(pid, 0), 0);  // stopped and reaped: no orphan, no zombie
}

TEST_F(PowermetricsChildTest, InterruptWhileWaiting) {
  PowermetricsSensorOptions o;
  Write(dir_ / "slow", "#!/bin/sh\nexec sleep 60\n");
  fs::permissions(dir_ / "slow", fs::perms::owner_all);
  o.executable = (dir_ / "slow").string();
  o.require_root = false;
  PowermetricsSensor sensor(o);
  ASSERT_THAT(sensor.Start(1'000'000'000), IsOk());
  sensor.Interrupt();
  EXPECT_THAT(sensor.Next(0).status(), StatusIs(absl::StatusCode::kCancelled, HasSubstr("")));
  sensor.Stop();
}

TEST_F(PowermetricsChildTest, NotSuperuserExplainsHowToInstall) {
  Write(dir_ / "nonroot",
        "#!/bin/sh\necho 'powermetrics must be invoked as the superuser' >&2\nexit 1\n");
  fs::permissions(dir_ / "nonroot", fs::perms::owner_all);
  PowermetricsSensorOptions o;
  o.executable = (dir_ / "nonroot").string();
  o.require_root = false;
  PowermetricsSensor sensor(o);
  ASSERT_THAT(sensor.Start(1'000'000'000), IsOk());
  auto s = sensor.Next(0);
  EXPECT_THAT(s.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("must run as root")));
}

TEST(FactoryTest, PowermetricsOnLinuxNeedsAPath) {
#if !defined(__APPLE__)
  SourceOptions o;
  o.source = "powermetrics";
  EXPECT_THAT(CreateSensors(o).status(),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("only on macOS")));
#endif
  SourceOptions bad;
  bad.source = "magic";
  EXPECT_THAT(CreateSensors(bad).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown source")));
}

TEST(FactoryTest, AutoPutsEstimateLastResortFirstWhenNothingElse) {
  SourceOptions o;
  o.sysfs_root = "/nonexistent";
  auto sensors = CreateSensors(o);
  ASSERT_TRUE(sensors.ok()) << sensors.status();
  v1::Source first = (*sensors)[0]->Describe();
  if ((*sensors).size() > 1 && first.name() == "nvml") GTEST_SKIP() << "machine has NVML";
  EXPECT_EQ(first.name(), "estimate");
}

// The merge rule's pieces (sensor.h): the worse quality wins, unset counts as an estimate; one
// window keeps the source's power, several give energy / window.
TEST(WindowMergeRule, WorseQualityAndMergedPower) {
  EXPECT_EQ(WorseQuality(v1::QUALITY_MEASURED, v1::QUALITY_DERIVED), v1::QUALITY_DERIVED);
  EXPECT_EQ(WorseQuality(v1::QUALITY_ESTIMATED, v1::QUALITY_MEASURED), v1::QUALITY_ESTIMATED);
  EXPECT_EQ(WorseQuality(v1::QUALITY_DERIVED, v1::QUALITY_UNSPECIFIED), v1::QUALITY_UNSPECIFIED);
  EXPECT_EQ(WorseQuality(v1::QUALITY_UNSPECIFIED, v1::QUALITY_ESTIMATED),
            v1::QUALITY_UNSPECIFIED);  // equally bad: the first stays
  EXPECT_DOUBLE_EQ(MergedPowerMw(1, 1234, 50, 100'000'000), 1234);
  EXPECT_DOUBLE_EQ(MergedPowerMw(2, 1234, 50, 100'000'000), 500);  // 50 mJ over 0.1 s
}

}  // namespace
}  // namespace eprof::power
