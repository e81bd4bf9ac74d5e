#include "daemon/profiler/run_figures.h"

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

using ::eprof::testing::IsOk;

constexpr int64_t kMs = 1'000'000;

// 10 ms windows: 2 W during the first second (idle), 10 W after, up to 4 s.
PowerTimeline Trace() {
  v1::Channel c;
  c.set_name("cpu");
  c.set_kind(v1::CHANNEL_KIND_CPU);
  c.set_quality(v1::QUALITY_MEASURED);
  PowerTimeline t({c});
  for (int i = 1; i <= 400; ++i) {
    v1::PowerSample s;
    s.set_t_end_ns(i * 10 * kMs);
    s.set_window_ns(10 * kMs);
    v1::Reading* r = s.add_readings();
    r->set_channel("cpu");
    r->set_energy_mj(i <= 100 ? 20.0 : 100.0);  // 2 W or 10 W over 10 ms
    EXPECT_THAT(t.Add(s), IsOk());
  }
  return t;
}

TEST(RunFigures, EveryFigureFromAKnownTrace) {
  PowerTimeline t = Trace();
  Baseline b = t.MedianPower(0, 1000 * kMs);
  ASSERT_DOUBLE_EQ(b.total_power_mw, 2000);
  v1::SectionRecord tokenize;
  tokenize.set_name("tokenize");
  tokenize.set_start_ns(1000 * kMs);
  tokenize.set_end_ns(1050 * kMs);
  std::vector<v1::PhaseRecord> phases = {
      BuildPhase(v1::PHASE_IDLE_BASELINE, 0, 1000 * kMs, {}, t, b),
      BuildPhase(v1::PHASE_PRE_INFERENCE, 1000 * kMs, 1100 * kMs, {tokenize}, t, b),
      BuildPhase(v1::PHASE_PREFILL, 1100 * kMs, 1600 * kMs, {}, t, b),
      BuildPhase(v1::PHASE_DECODE, 1600 * kMs, 3600 * kMs, {}, t, b),
      BuildPhase(v1::PHASE_POST_INFERENCE, 3600 * kMs, 3700 * kMs, {}, t, b),
  };
  EXPECT_NEAR(phases[0].energy().total_mj(), 2000, 1e-6);
  EXPECT_NEAR(phases[0].energy().dynamic_mj(), 0, 1e-6);
  EXPECT_NEAR(phases[1].sections(0).energy().total_mj(), 500, 1e-6);
  EXPECT_EQ(phases[1].sections(0).phase(), v1::PHASE_PRE_INFERENCE);
  ASSERT_EQ(phases[2].power_size(), 1);
  EXPECT_NEAR(phases[2].power(0).avg_power_mw(), 10000, 1e-6);
  EXPECT_NEAR(phases[2].power(0).baseline_power_mw(), 2000, 1e-6);

  v1::RunSummary s;
  s.set_input_tokens(50);
  s.set_output_tokens(21);
  FillRunFigures(t, b, phases, 400, &s);
  EXPECT_EQ(s.start_ns(), 0);
  EXPECT_EQ(s.end_ns(), 3700 * kMs);
  EXPECT_NEAR(s.total_energy().total_mj(), 2000 + 27000, 1e-6);
  EXPECT_NEAR(s.total_energy().dynamic_mj(), 29000 - 2000 * 3.7, 1e-6);
  EXPECT_NEAR(s.prefill_energy().total_mj(), 5000, 1e-6);
  EXPECT_NEAR(s.prefill_energy().dynamic_mj(), 4000, 1e-6);
  EXPECT_NEAR(s.decode_energy().total_mj(), 20000, 1e-6);
  EXPECT_NEAR(s.prefill_tokens_per_s(), 100, 1e-9);
  EXPECT_NEAR(s.decode_tokens_per_s(), 10, 1e-9);
  EXPECT_NEAR(s.prefill_energy_per_input_token().total_mj(), 100, 1e-9);
  EXPECT_NEAR(s.prefill_energy_per_input_token().channels(0).total_mj(), 100, 1e-9);
  EXPECT_NEAR(s.decode_energy_per_output_token().total_mj(), 1000, 1e-9);
  EXPECT_NEAR(s.decode_energy_per_output_token().dynamic_mj(), 800, 1e-9);
  EXPECT_NEAR(s.joules_per_token(), 25.0 / 21, 1e-12);
  EXPECT_NEAR(s.tokens_per_joule(), 21 / 25.0, 1e-12);
  EXPECT_NEAR(s.energy_delay_product_j_s(), 25.0 * 2.5, 1e-9);
  EXPECT_NEAR(s.carbon_g_co2e(), 29.0 / 3.6e6 * 400, 1e-15);
  EXPECT_DOUBLE_EQ(s.grid_intensity_g_per_kwh(), 400);
  EXPECT_DOUBLE_EQ(s.baseline_power_mw(), 2000);
  EXPECT_DOUBLE_EQ(s.power_gap_s(), 0);
  ASSERT_EQ(s.power_size(), 1);
  EXPECT_NEAR(s.power(0).avg_power_mw(), 10000, 1e-6);
  EXPECT_NEAR(s.power(0).peak_power_mw(), 10000, 1e-6);
  EXPECT_EQ(s.power(0).kind(), v1::CHANNEL_KIND_CPU);
  // Phases tile the run, so they sum to it.
  double sum = 0;
  for (const auto& p : phases) sum += p.energy().total_mj();
  EXPECT_NEAR(sum, s.total_energy().total_mj(), 1e-6);
}

TEST(RunFigures, ZeroDenominatorsLeaveFiguresAtZero) {
  PowerTimeline t = Trace();
  std::vector<v1::PhaseRecord> phases = {
      BuildPhase(v1::PHASE_PREFILL, 1100 * kMs, 1100 * kMs, {}, t, Baseline{})};
  v1::RunSummary s;
  s.set_output_tokens(1);  // one token, from prefill: no decode tokens
  FillRunFigures(t, Baseline{}, phases, 400, &s);
  EXPECT_EQ(s.prefill_tokens_per_s(), 0);
  EXPECT_EQ(s.decode_tokens_per_s(), 0);
  EXPECT_FALSE(s.has_decode_energy_per_output_token());
  EXPECT_EQ(s.baseline_power_mw(), 0);
}

TEST(RunFigures, GapsAreReported) {
  v1::Channel c;
  c.set_name("cpu");
  PowerTimeline t({c});
  v1::PowerSample s1;
  s1.set_t_end_ns(100 * kMs);
  s1.set_window_ns(100 * kMs);
  ASSERT_THAT(t.Add(s1), IsOk());
  v1::PowerSample s2 = s1;
  s2.set_t_end_ns(400 * kMs);
  ASSERT_THAT(t.Add(s2), IsOk());  // (100, 300] was not covered: the helper was gone
  v1::RunSummary summary;
  FillRunFigures(t, Baseline{}, {BuildPhase(v1::PHASE_DECODE, 0, 400 * kMs, {}, t, Baseline{})}, 0,
                 &summary);
  EXPECT_DOUBLE_EQ(summary.power_gap_s(), 0.2);
}

}  // namespace
}  // namespace eprof::daemon
