#include "daemon/power/sensor_feed.h"

#include "common/clock.h"
#include "daemon/power/sample_hub.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "power_helper/sensors/estimate_sensor.h"

namespace eprof::daemon {
namespace {

// The real estimate source over this machine's /proc/stat, in-process.
TEST(SensorFeed, RunsTheEstimateInProcess) {
  power::EstimateSensorOptions options;
  options.tdp_w = 20;
  options.idle_w = 5;
  auto feed = SensorFeed::Start(power::EstimateSensor::Create(options), 10);
  ASSERT_TRUE(feed.ok()) << feed.status();
  int64_t t0 = Clock::Real()->NowNs();
  ASSERT_TRUE((*feed)->WaitForCoverage(t0 + 50'000'000, absl::Seconds(5)));
  PowerFeedState state = (*feed)->state();
  EXPECT_TRUE(state.connected);
  EXPECT_EQ(state.source, "estimate");
  ASSERT_EQ(state.channels.size(), 1u);
  EXPECT_EQ(state.channels[0].quality(), v1::QUALITY_ESTIMATED);
  std::vector<v1::PowerSample> samples = (*feed)->SamplesSince(t0);
  ASSERT_GE(samples.size(), 4u);
  for (size_t i = 1; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].t_end_ns() - samples[i].window_ns(), samples[i - 1].t_end_ns());
    // Windows are the measured time between reads: the interval, give or take scheduling.
    EXPECT_NEAR(samples[i].window_ns(), 10'000'000, 5'000'000);
    double p = samples[i].readings(0).power_mw();
    EXPECT_GE(p, 5000 - 1e-6);
    EXPECT_LE(p, 20000 + 1e-6);
    EXPECT_EQ(samples[i].readings(0).quality(), v1::QUALITY_ESTIMATED);
  }
  (*feed)->SetInterval(20);
  int64_t t1 = samples.back().t_end_ns();
  ASSERT_TRUE((*feed)->WaitForCoverage(t1 + 60'000'000, absl::Seconds(5)));
  EXPECT_NEAR((*feed)->SamplesSince(t1 + 30'000'000).back().window_ns(), 20'000'000, 5'000'000);
}

// Before, a feed at a minute-long interval served a shorter one only once the long window had
// passed: the next run had no energy for up to a minute.
TEST(SensorFeed, AShorterIntervalTakesEffectAtOnce) {
  auto feed = SensorFeed::Start(power::EstimateSensor::Create({}), 60000);
  ASSERT_TRUE(feed.ok()) << feed.status();
  absl::SleepFor(absl::Milliseconds(50));  // the sensor is asleep in its 60 s window
  int64_t t0 = Clock::Real()->NowNs();
  (*feed)->SetInterval(10);
  ASSERT_TRUE((*feed)->WaitForCoverage(t0 + 30'000'000, absl::Seconds(2)))
      << "no sample at the new interval within 2 s";
  EXPECT_TRUE((*feed)->state().connected);
  EXPECT_LT((*feed)->SamplesSince(t0).back().window_ns(), 1'000'000'000);
}

// The helper numbers samples per stream from 0: after a resubscription one run would hold two
// samples numbered alike, and the store (keyed by run, seq) kept only one of them.
TEST(SampleHub, NumbersEverySampleItself) {
  SampleHub hub(16);
  std::vector<uint64_t> heard;
  hub.AddListener([&](const v1::PowerSample& s) { heard.push_back(s.seq()); }, nullptr);
  for (int64_t end : {10, 20, 30}) {  // two streams: 0, 1, then 0 again
    v1::PowerSample s;
    s.set_seq(end == 30 ? 0 : static_cast<uint64_t>(end / 10 - 1));
    s.set_t_end_ns(end);
    s.set_window_ns(10);
    hub.Publish(s);
  }
  EXPECT_THAT(heard, ::testing::ElementsAre(0u, 1u, 2u));
  std::vector<v1::PowerSample> ring = hub.SamplesSince(0);
  ASSERT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring[2].seq(), 2u);
}

}  // namespace
}  // namespace eprof::daemon
