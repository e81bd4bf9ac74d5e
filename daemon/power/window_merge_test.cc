#include "daemon/power/window_merge.h"

#include <vector>

#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

v1::PowerSample Window(uint64_t seq, int64_t end_ms, int64_t window_ms,
                       std::vector<std::tuple<const char*, double, double, v1::Quality>> readings) {
  v1::PowerSample s;
  s.set_seq(seq);
  s.set_t_end_ns(end_ms * 1'000'000);
  s.set_window_ns(window_ms * 1'000'000);
  s.set_source("test");
  for (const auto& [channel, mj, mw, quality] : readings) {
    v1::Reading* r = s.add_readings();
    r->set_channel(channel);
    r->set_energy_mj(mj);
    r->set_power_mw(mw);
    r->set_quality(quality);
  }
  return s;
}

constexpr v1::Quality kMeasured = v1::QUALITY_MEASURED;
constexpr v1::Quality kEstimated = v1::QUALITY_ESTIMATED;

TEST(WindowMerger, BackToBackWindowsAddUpToTheInterval) {
  WindowMerger m(20'000'000);
  std::vector<v1::PowerSample> out;
  for (int k = 0; k < 4; ++k) {
    m.Add(Window(k, 5 * (k + 1), 5, {{"cpu", 10.0 + k, 0, kMeasured}}), &out);
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].seq(), 3u);
  EXPECT_EQ(out[0].t_end_ns(), 20'000'000);
  EXPECT_EQ(out[0].window_ns(), 20'000'000);
  EXPECT_DOUBLE_EQ(out[0].readings(0).energy_mj(), 46.0);
  EXPECT_DOUBLE_EQ(out[0].readings(0).power_mw(), 46.0 / 0.020);  // energy / window
}

// The worst quality of the parts wins (before, the first window's was kept), and a channel
// first seen in a later window joins (before, it was dropped).
TEST(WindowMerger, TheWorstQualityWinsAndLateChannelsJoin) {
  WindowMerger m(10'000'000);
  std::vector<v1::PowerSample> out;
  m.Add(Window(0, 5, 5, {{"cpu", 5, 1000, kMeasured}}), &out);
  m.Add(Window(1, 10, 5, {{"cpu", 5, 1000, kEstimated}, {"gpu", 2, 400, kMeasured}}), &out);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].readings_size(), 2);
  EXPECT_EQ(out[0].readings(0).channel(), "cpu");
  EXPECT_EQ(out[0].readings(0).quality(), kEstimated);
  EXPECT_EQ(out[0].readings(1).channel(), "gpu");
  EXPECT_DOUBLE_EQ(out[0].readings(1).energy_mj(), 2.0);
  EXPECT_DOUBLE_EQ(out[0].readings(1).power_mw(), 2.0 / 0.010);
  // Unset counts as an estimate, not as better than measured.
  m.Add(Window(2, 15, 5, {{"cpu", 5, 1000, kMeasured}}), &out);
  m.Add(Window(3, 20, 5, {{"cpu", 5, 1000, v1::QUALITY_UNSPECIFIED}}), &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].readings(0).quality(), v1::QUALITY_UNSPECIFIED);
}

TEST(WindowMerger, AGapEndsTheMergeAndASingleWindowKeepsItsOwnPower) {
  WindowMerger m(20'000'000);
  std::vector<v1::PowerSample> out;
  m.Add(Window(0, 5, 5, {{"cpu", 5, 999, kMeasured}}), &out);
  m.Add(Window(1, 10, 5, {{"cpu", 5, 999, kMeasured}}), &out);
  // Starts later than the one before it ended: a gap.
  m.Add(Window(2, 50, 5, {{"cpu", 7, 1400, kMeasured}}), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].window_ns(), 10'000'000);  // the two back-to-back windows only, not the gap
  EXPECT_DOUBLE_EQ(out[0].readings(0).power_mw(), 10.0 / 0.010);
  // A gap again, then a window longer than the interval on its own.
  m.Add(Window(3, 90, 30, {{"cpu", 30, 1234, kMeasured}}), &out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].window_ns(), 5'000'000);
  EXPECT_DOUBLE_EQ(out[1].readings(0).power_mw(), 1400);  // one window: the source's figure
  EXPECT_DOUBLE_EQ(out[2].readings(0).power_mw(), 1234);
}

}  // namespace
}  // namespace eprof::daemon
