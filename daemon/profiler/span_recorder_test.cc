#include "daemon/profiler/span_recorder.h"

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

using ::eprof::testing::IsOk;

constexpr int64_t kUs = 1'000;

// One channel at a constant 1 W (1 mJ per ms) in 1 ms windows from t = 0 to 100 ms: every span's
// energy in mJ equals its length in ms.
PowerTimeline OneWatt() {
  v1::Channel c;
  c.set_name("cpu");
  c.set_quality(v1::QUALITY_MEASURED);
  PowerTimeline t({c});
  for (int i = 1; i <= 100; ++i) {
    v1::PowerSample s;
    s.set_seq(i);
    s.set_t_end_ns(i * 1000 * kUs);
    s.set_window_ns(1000 * kUs);
    v1::Reading* r = s.add_readings();
    r->set_channel("cpu");
    r->set_energy_mj(1.0);
    EXPECT_THAT(t.Add(s), IsOk());
  }
  return t;
}

// A token from 10 ms to 20 ms: layer 0 [10, 14) with q_proj [10, 11.5) and down_proj
// [12, 14), layer 1 [14, 18) with q_proj [14, 16); lm_head [18, 19.5) outside the layers.
void RecordToken(SpanRecorder& rec) {
  rec.BeginToken(4, v1::PHASE_DECODE, 10'000 * kUs);
  rec.BeginLayer(0, 10'000 * kUs);
  rec.BeginComponent(0, v1::COMPONENT_Q_PROJ, 10'000 * kUs);
  rec.EndComponent(0, v1::COMPONENT_Q_PROJ, 11'500 * kUs);
  rec.BeginComponent(0, v1::COMPONENT_DOWN_PROJ, 12'000 * kUs);
  v1::ActivationStats stats;
  stats.set_mean_abs(0.5);
  rec.EndComponent(0, v1::COMPONENT_DOWN_PROJ, 14'000 * kUs);
  rec.ComponentStats(0, v1::COMPONENT_DOWN_PROJ, stats);
  rec.EndLayer(0, 14'000 * kUs);
  rec.BeginLayer(1, 14'000 * kUs);
  rec.BeginComponent(1, v1::COMPONENT_Q_PROJ, 14'000 * kUs);
  rec.EndComponent(1, v1::COMPONENT_Q_PROJ, 16'000 * kUs);
  v1::AttentionHeadStats head;
  head.set_head(2);
  head.set_entropy_nats(1.25);
  rec.AttentionStats(1, {head});
  rec.EndLayer(1, 18'000 * kUs);
  rec.BeginComponent(-1, v1::COMPONENT_LM_HEAD, 18'000 * kUs);
  rec.EndComponent(-1, v1::COMPONENT_LM_HEAD, 19'500 * kUs);
  rec.EndToken(321, " hi", 0.75, 20'000 * kUs);
}

TEST(SpanRecorder, TokensOnlyAtDetailTokens) {
  SpanRecorder rec(v1::DETAIL_LEVEL_TOKENS);
  RecordToken(rec);
  v1::TokenRecord t = rec.Build(OneWatt(), Baseline{});
  EXPECT_EQ(t.index(), 4u);
  EXPECT_EQ(t.token_id(), 321);
  EXPECT_EQ(t.text(), " hi");
  EXPECT_DOUBLE_EQ(t.probability(), 0.75);
  EXPECT_EQ(t.start_ns(), 10'000 * kUs);
  EXPECT_EQ(t.end_ns(), 20'000 * kUs);
  EXPECT_NEAR(t.energy().total_mj(), 10.0, 1e-9);
  EXPECT_EQ(t.energy().attribution(), v1::ATTRIBUTION_COUNTER);  // whole 1 ms windows
  EXPECT_EQ(t.layers_size(), 0);
}

TEST(SpanRecorder, LayersAndComponentsWithTheirEnergies) {
  SpanRecorder rec(v1::DETAIL_LEVEL_COMPONENTS);
  RecordToken(rec);
  Baseline baseline;
  baseline.power_mw = {250};  // 0.25 W idle
  baseline.total_power_mw = 250;
  v1::TokenRecord t = rec.Build(OneWatt(), baseline);
  EXPECT_NEAR(t.energy().dynamic_mj(), 10.0 - 2.5, 1e-9);
  ASSERT_EQ(t.layers_size(), 3);
  EXPECT_EQ(t.layers(0).layer(), 0);
  EXPECT_EQ(t.layers(0).duration_ns(), 4'000 * kUs);
  EXPECT_NEAR(t.layers(0).energy().total_mj(), 4.0, 1e-9);
  ASSERT_EQ(t.layers(0).components_size(), 2);
  EXPECT_EQ(t.layers(0).components(0).component(), v1::COMPONENT_Q_PROJ);
  EXPECT_NEAR(t.layers(0).components(0).energy().total_mj(), 1.5, 1e-9);
  EXPECT_NEAR(t.layers(0).components(0).energy().dynamic_mj(), 1.5 - 0.375, 1e-9);
  EXPECT_EQ(t.layers(0).components(0).energy().attribution(), v1::ATTRIBUTION_TIME_SHARE);
  EXPECT_EQ(t.layers(0).components(1).energy().attribution(), v1::ATTRIBUTION_COUNTER);
  EXPECT_FALSE(t.layers(0).components(1).has_activations());  // not deep
  EXPECT_EQ(t.layers(1).layer(), 1);
  EXPECT_NEAR(t.layers(1).energy().total_mj(), 4.0, 1e-9);
  EXPECT_EQ(t.layers(1).attention_heads_size(), 0);
  // The pseudo-layer -1 comes last and takes its components' time and energy.
  EXPECT_EQ(t.layers(2).layer(), -1);
  EXPECT_EQ(t.layers(2).duration_ns(), 1'500 * kUs);
  EXPECT_NEAR(t.layers(2).energy().total_mj(), 1.5, 1e-9);
}

TEST(SpanRecorder, WithoutPartEnergiesPartsKeepTheirTimesOnly) {
  SpanRecorder rec(v1::DETAIL_LEVEL_DEEP);
  RecordToken(rec);
  v1::TokenRecord full = rec.Build(OneWatt(), Baseline{});
  v1::TokenRecord live = rec.Build(OneWatt(), Baseline{}, /*part_energies=*/false);
  EXPECT_NEAR(live.energy().total_mj(), 10.0, 1e-9);  // the token's own energy is kept
  ASSERT_EQ(live.layers_size(), full.layers_size());
  for (int l = 0; l < live.layers_size(); ++l) {
    const v1::LayerMetrics& a = live.layers(l);
    const v1::LayerMetrics& b = full.layers(l);
    EXPECT_EQ(a.layer(), b.layer());
    EXPECT_EQ(a.duration_ns(), b.duration_ns());  // including the pseudo-layer's sum
    EXPECT_FALSE(a.has_energy());
    ASSERT_EQ(a.components_size(), b.components_size());
    for (int c = 0; c < a.components_size(); ++c) {
      EXPECT_EQ(a.components(c).component(), b.components(c).component());
      EXPECT_EQ(a.components(c).duration_ns(), b.components(c).duration_ns());
      EXPECT_EQ(a.components(c).has_activations(), b.components(c).has_activations());
      EXPECT_FALSE(a.components(c).has_energy());
    }
    EXPECT_EQ(a.attention_heads_size(), b.attention_heads_size());
  }
}

TEST(SpanRecorder, LayersWithoutComponentsAtDetailLayers) {
  SpanRecorder rec(v1::DETAIL_LEVEL_LAYERS);
  RecordToken(rec);
  v1::TokenRecord t = rec.Build(OneWatt(), Baseline{});
  ASSERT_EQ(t.layers_size(), 3);  // layers 0 and 1, and the parts outside them (lm_head)
  EXPECT_EQ(t.layers(0).components_size(), 0);
  EXPECT_NEAR(t.layers(1).energy().total_mj(), 4.0, 1e-9);
  EXPECT_EQ(t.layers(2).layer(), -1);
  EXPECT_NEAR(t.layers(2).energy().total_mj(), 1.5, 1e-9);
  EXPECT_EQ(t.layers(2).components_size(), 0);  // components are not asked for
}

TEST(SpanRecorder, DeepStatisticsAreKept) {
  SpanRecorder rec(v1::DETAIL_LEVEL_DEEP);
  RecordToken(rec);
  v1::TokenRecord t = rec.Build(OneWatt(), Baseline{});
  ASSERT_TRUE(t.layers(0).components(1).has_activations());
  EXPECT_DOUBLE_EQ(t.layers(0).components(1).activations().mean_abs(), 0.5);
  ASSERT_EQ(t.layers(1).attention_heads_size(), 1);
  EXPECT_EQ(t.layers(1).attention_heads(0).head(), 2u);
  EXPECT_DOUBLE_EQ(t.layers(1).attention_heads(0).entropy_nats(), 1.25);
}

TEST(SpanRecorder, NextTokenStartsClean) {
  SpanRecorder rec(v1::DETAIL_LEVEL_COMPONENTS);
  RecordToken(rec);
  rec.BeginToken(5, v1::PHASE_DECODE, 20'000 * kUs);
  rec.BeginLayer(0, 20'000 * kUs);  // never ended: dropped
  rec.EndToken(9, "", 0.5, 30'000 * kUs);
  v1::TokenRecord t = rec.Build(OneWatt(), Baseline{});
  EXPECT_EQ(t.index(), 5u);
  EXPECT_EQ(t.layers_size(), 0);
  EXPECT_NEAR(t.energy().total_mj(), 10.0, 1e-9);
}

TEST(SpanRecorder, NoPowerMeansNoneAttribution) {
  SpanRecorder rec(v1::DETAIL_LEVEL_LAYERS);
  RecordToken(rec);
  v1::TokenRecord t = rec.Build(PowerTimeline({}), Baseline{});
  EXPECT_EQ(t.energy().attribution(), v1::ATTRIBUTION_NONE);
  EXPECT_EQ(t.energy().total_mj(), 0);
  EXPECT_EQ(t.layers(0).energy().attribution(), v1::ATTRIBUTION_NONE);
}

}  // namespace
}  // namespace eprof::daemon
