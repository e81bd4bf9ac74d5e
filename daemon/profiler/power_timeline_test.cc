#include "daemon/profiler/power_timeline.h"

#include <cmath>
#include <random>
#include <vector>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

constexpr int64_t kMs = 1'000'000;  // ns

v1::Channel MakeChannel(const std::string& name, v1::Quality quality,
                        std::vector<std::string> contains = {}) {
  v1::Channel c;
  c.set_name(name);
  c.set_quality(quality);
  for (auto& inner : contains) c.add_contains(inner);
  return c;
}

// package-0 ⊃ core; dram is top-level.
std::vector<v1::Channel> RaplChannels() {
  return {MakeChannel("package-0", v1::QUALITY_MEASURED, {"core"}),
          MakeChannel("core", v1::QUALITY_MEASURED),
          MakeChannel("dram", v1::QUALITY_MEASURED)};
}

v1::PowerSample Sample(uint64_t seq, int64_t t_end_ns, int64_t window_ns, double package_mj,
                       double core_mj, double dram_mj) {
  v1::PowerSample s;
  s.set_seq(seq);
  s.set_t_end_ns(t_end_ns);
  s.set_window_ns(window_ns);
  for (auto [name, e] : {std::pair<const char*, double>{"package-0", package_mj},
                         {"core", core_mj}, {"dram", dram_mj}}) {
    v1::Reading* r = s.add_readings();
    r->set_channel(name);
    r->set_energy_mj(e);
    r->set_power_mw(e / (window_ns * 1e-9));
  }
  return s;
}

// Windows of 100 ms ending at 1.1 s, 1.2 s, 1.3 s, 1.4 s with package 100, 300, 200, 400 mJ
// (1, 3, 2, 4 W), core half of package, dram 10 mJ each.
PowerTimeline FourWindows() {
  PowerTimeline t(RaplChannels());
  double package[] = {100, 300, 200, 400};
  for (int i = 0; i < 4; ++i) {
    EXPECT_THAT(t.Add(Sample(i, 1000 * kMs + (i + 1) * 100 * kMs, 100 * kMs, package[i],
                             package[i] / 2, 10)),
                IsOk());
  }
  return t;
}

TEST(PowerTimeline, WholeWindowsAreExactCounterEnergy) {
  PowerTimeline t = FourWindows();
  SpanEnergy e = t.EnergyOf(1100 * kMs, 1300 * kMs);  // windows 2 and 3 exactly
  EXPECT_EQ(e.attribution, v1::ATTRIBUTION_COUNTER);
  EXPECT_DOUBLE_EQ(e.energy_mj[0], 500);
  EXPECT_DOUBLE_EQ(e.energy_mj[1], 250);
  EXPECT_DOUBLE_EQ(e.energy_mj[2], 20);
  EXPECT_DOUBLE_EQ(e.total_mj, 520);  // package + dram; core is inside package
  EXPECT_EQ(e.uncovered_ns, 0);
  EXPECT_EQ(e.quality, v1::QUALITY_MEASURED);
}

TEST(PowerTimeline, PartialWindowsAreSharedByTime) {
  PowerTimeline t = FourWindows();
  // 25 ms of window 1 (1 W) + all of window 2 (3 W) + 40 ms of window 3 (2 W).
  SpanEnergy e = t.EnergyOf(1075 * kMs, 1240 * kMs);
  EXPECT_EQ(e.attribution, v1::ATTRIBUTION_TIME_SHARE);
  EXPECT_NEAR(e.energy_mj[0], 25 + 300 + 80, 1e-9);
  EXPECT_NEAR(e.energy_mj[2], 2.5 + 10 + 4, 1e-9);
  EXPECT_NEAR(e.total_mj, 405 + 16.5, 1e-9);
}

TEST(PowerTimeline, SpanInsideOneWindowGetsItsTimeShare) {
  PowerTimeline t = FourWindows();
  SpanEnergy e = t.EnergyOf(1310 * kMs, 1311 * kMs);  // 1 ms of a 4 W window
  EXPECT_EQ(e.attribution, v1::ATTRIBUTION_TIME_SHARE);
  EXPECT_NEAR(e.energy_mj[0], 4.0, 1e-9);
}

TEST(PowerTimeline, UncoveredSpansAndGaps) {
  PowerTimeline t = FourWindows();
  SpanEnergy before = t.EnergyOf(900 * kMs, 1000 * kMs);
  EXPECT_EQ(before.attribution, v1::ATTRIBUTION_NONE);
  EXPECT_EQ(before.total_mj, 0);
  EXPECT_EQ(before.uncovered_ns, 100 * kMs);

  // A 200 ms gap, then a window of 100 ms at 5 W.
  EXPECT_THAT(t.Add(Sample(4, 1700 * kMs, 100 * kMs, 500, 250, 10)), IsOk());
  EXPECT_EQ(t.gap_ns(), 200 * kMs);
  SpanEnergy across = t.EnergyOf(1350 * kMs, 1650 * kMs);  // 50 ms of 4 W, gap, 50 ms of 5 W
  EXPECT_EQ(across.attribution, v1::ATTRIBUTION_TIME_SHARE);
  EXPECT_EQ(across.uncovered_ns, 200 * kMs);
  EXPECT_NEAR(across.energy_mj[0], 200 + 250, 1e-9);
  EXPECT_EQ(t.covered_until_ns(), 1700 * kMs);

  SpanEnergy empty = t.EnergyOf(1200 * kMs, 1200 * kMs);
  EXPECT_EQ(empty.attribution, v1::ATTRIBUTION_NONE);
}

TEST(PowerTimeline, RejectsOverlappingAndEmptyWindows) {
  PowerTimeline t = FourWindows();
  EXPECT_THAT(t.Add(Sample(9, 1450 * kMs, 100 * kMs, 1, 1, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlaps")));
  EXPECT_THAT(t.Add(Sample(9, 1500 * kMs, 0, 1, 1, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("window_ns 0")));
  EXPECT_EQ(t.window_count(), 4u);
}

TEST(PowerTimeline, RejectsNonFiniteAndNegativeEnergies) {
  PowerTimeline t = FourWindows();
  EXPECT_THAT(t.Add(Sample(9, 1500 * kMs, 100 * kMs, std::nan(""), 1, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("finite and >= 0")));
  EXPECT_THAT(t.Add(Sample(9, 1500 * kMs, 100 * kMs, 1, -5, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("channel core")));
  EXPECT_THAT(t.Add(Sample(9, 1500 * kMs, 100 * kMs, 1, 1, INFINITY)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(t.window_count(), 4u);
}

TEST(PowerTimeline, WorstQualityOfTopLevelChannelsWins) {
  PowerTimeline measured_and_estimated_inner(
      {MakeChannel("package-0", v1::QUALITY_MEASURED, {"core"}),
       MakeChannel("core", v1::QUALITY_ESTIMATED)});
  ASSERT_THAT(measured_and_estimated_inner.Add([] {
    v1::PowerSample s;
    s.set_t_end_ns(2 * kMs);
    s.set_window_ns(kMs);
    return s;
  }()),
              IsOk());
  EXPECT_EQ(measured_and_estimated_inner.EnergyOf(kMs, 2 * kMs).quality, v1::QUALITY_MEASURED);

  PowerTimeline mixed({MakeChannel("cpu", v1::QUALITY_MEASURED),
                       MakeChannel("gpu", v1::QUALITY_DERIVED)});
  EXPECT_EQ(mixed.EnergyOf(0, 1).quality, v1::QUALITY_DERIVED);
  PowerTimeline estimate({MakeChannel("cpu", v1::QUALITY_ESTIMATED)});
  EXPECT_EQ(estimate.EnergyOf(0, 1).quality, v1::QUALITY_ESTIMATED);
}

TEST(PowerTimeline, BaselineIsTheMedianOfWindowsInsideTheSpan) {
  PowerTimeline t = FourWindows();
  // Inside [1.0 s, 1.3 s): windows at 1, 3, 2 W → median 2 W for package.
  Baseline b = t.MedianPower(1000 * kMs, 1300 * kMs);
  EXPECT_EQ(b.window_count, 3);
  EXPECT_DOUBLE_EQ(b.power_mw[0], 2000);
  EXPECT_DOUBLE_EQ(b.power_mw[1], 1000);
  EXPECT_DOUBLE_EQ(b.power_mw[2], 100);
  EXPECT_DOUBLE_EQ(b.total_power_mw, 2100);
  // Even count: mean of the middle two (1, 3, 2, 4 W → 2.5 W).
  EXPECT_DOUBLE_EQ(t.MedianPower(1000 * kMs, 1400 * kMs).power_mw[0], 2500);
  // A span inside one window falls back to the overlapping windows.
  EXPECT_DOUBLE_EQ(t.MedianPower(1310 * kMs, 1320 * kMs).power_mw[0], 4000);
  EXPECT_TRUE(t.MedianPower(0, 10).empty());
}

TEST(PowerTimeline, DynamicEnergyIsTotalMinusBaselineTimesDuration) {
  PowerTimeline t = FourWindows();
  Baseline b = t.MedianPower(1000 * kMs, 1300 * kMs);  // 2.1 W in total
  SpanEnergy e = t.EnergyOf(1100 * kMs, 1400 * kMs);
  v1::Energy proto;
  e.ToProto(b, t.channels(), &proto);
  EXPECT_DOUBLE_EQ(proto.total_mj(), 300 + 200 + 400 + 30);
  EXPECT_NEAR(proto.dynamic_mj(), 930 - 2100 * 0.3, 1e-9);
  EXPECT_EQ(proto.attribution(), v1::ATTRIBUTION_COUNTER);
  ASSERT_EQ(proto.channels_size(), 3);
  EXPECT_EQ(proto.channels(1).channel(), "core");
  EXPECT_NEAR(proto.channels(1).dynamic_mj(), 450 - 1000 * 0.3, 1e-9);
  // Without a baseline, dynamic equals total.
  e.ToProto(Baseline{}, t.channels(), &proto);
  EXPECT_DOUBLE_EQ(proto.dynamic_mj(), proto.total_mj());
}


TEST(PowerTimeline, RandomTilingsSumToTheWhole) {
  // A trace whose power is known at every instant: random window lengths and powers. Any tiling
  // of a span into sub-spans must sum to the span's energy, and the span's energy must equal the
  // integral of the piecewise-constant power.
  std::mt19937_64 rng(42);
  PowerTimeline t({MakeChannel("cpu", v1::QUALITY_MEASURED)});
  std::vector<std::pair<int64_t, double>> windows;  // (end_ns, power_mw)
  int64_t end = 5 * kMs;
  for (int i = 0; i < 500; ++i) {
    int64_t w = 1 * kMs + static_cast<int64_t>(rng() % (20 * kMs));
    double p_mw = 500 + static_cast<double>(rng() % 50000);
    end += w;
    v1::PowerSample s;
    s.set_seq(i);
    s.set_t_end_ns(end);
    s.set_window_ns(w);
    v1::Reading* r = s.add_readings();
    r->set_channel("cpu");
    r->set_energy_mj(p_mw * w * 1e-9);
    ASSERT_THAT(t.Add(s), IsOk());
    windows.push_back({end, p_mw});
  }
  auto integral = [&](int64_t a, int64_t b) {
    double e = 0;
    int64_t start = 5 * kMs;
    for (auto [w_end, p] : windows) {
      int64_t lo = std::max(a, start), hi = std::min(b, w_end);
      if (hi > lo) e += p * (hi - lo) * 1e-9;
      start = w_end;
    }
    return e;
  };
  int64_t a = 7 * kMs + 123, b = end - 3 * kMs - 77;
  double whole = t.EnergyOf(a, b).total_mj;
  EXPECT_NEAR(whole, integral(a, b), whole * 1e-12);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<int64_t> cuts = {a, b};
    for (int k = 0; k < 300; ++k) cuts.push_back(a + static_cast<int64_t>(rng() % (b - a)));
    std::sort(cuts.begin(), cuts.end());
    double sum = 0;
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
      SpanEnergy e = t.EnergyOf(cuts[k], cuts[k + 1]);
      PowerTimeline::Total fast = t.TotalOf(cuts[k], cuts[k + 1]);  // the allocation-free path
      EXPECT_NEAR(fast.total_mj, e.total_mj, 1e-9);
      EXPECT_EQ(fast.attribution, e.attribution);
      EXPECT_EQ(fast.covered_ns, e.duration_ns - e.uncovered_ns);
      sum += e.total_mj;
    }
    EXPECT_NEAR(sum, whole, whole * 1e-12);
  }
}

}  // namespace
}  // namespace eprof::daemon
