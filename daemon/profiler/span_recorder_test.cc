#include "daemon/profiler/span_recorder.h"

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "daemon/store/token_layers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

using ::eprof::engine::Component;
using ::eprof::testing::IsOk;
using ::google::protobuf::util::MessageDifferencer;

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
  rec.OnLayerBegin(0, 10'000 * kUs);
  rec.OnComponentBegin(Component::kQProj, 0, 10'000 * kUs);
  rec.OnComponentEnd(Component::kQProj, 0, 11'500 * kUs);
  rec.OnComponentBegin(Component::kDownProj, 0, 12'000 * kUs);
  engine::ActivationStats stats;
  stats.mean_abs = 0.5;
  rec.OnComponentEnd(Component::kDownProj, 0, 14'000 * kUs);
  rec.OnActivationStats(Component::kDownProj, 0, stats);
  rec.OnLayerEnd(0, 14'000 * kUs);
  rec.OnLayerBegin(1, 14'000 * kUs);
  rec.OnComponentBegin(Component::kQProj, 1, 14'000 * kUs);
  rec.OnComponentEnd(Component::kQProj, 1, 16'000 * kUs);
  engine::AttentionHeadStats other, head;
  head.entropy_nats = 1.25;
  rec.OnAttentionStats(1, {other, other, head});  // head 2
  rec.OnLayerEnd(1, 18'000 * kUs);
  rec.OnComponentBegin(Component::kLmHead, -1, 18'000 * kUs);
  rec.OnComponentEnd(Component::kLmHead, -1, 19'500 * kUs);
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
  ASSERT_EQ(t.layers(1).attention_heads_size(), 3);  // one per head, numbered in order
  EXPECT_EQ(t.layers(1).attention_heads(2).head(), 2u);
  EXPECT_DOUBLE_EQ(t.layers(1).attention_heads(2).entropy_nats(), 1.25);
  EXPECT_DOUBLE_EQ(t.layers(1).attention_heads(0).entropy_nats(), 0);
}

TEST(SpanRecorder, NextTokenStartsClean) {
  SpanRecorder rec(v1::DETAIL_LEVEL_COMPONENTS);
  RecordToken(rec);
  rec.BeginToken(5, v1::PHASE_DECODE, 20'000 * kUs);
  rec.OnLayerBegin(0, 20'000 * kUs);  // never ended: dropped
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


// A token with the awkward cases: a component that runs twice in its layer, a layer with
// components but no span of its own, an unfinished span, statistics for a layer without spans,
// the outside-layers parts before and after the layers, and a span no sample covers.
void RecordAwkwardToken(SpanRecorder& rec) {
  rec.BeginToken(7, v1::PHASE_DECODE, 20'000 * kUs);
  rec.OnComponentBegin(Component::kEmbedding, -1, 20'000 * kUs);
  rec.OnComponentEnd(Component::kEmbedding, -1, 20'500 * kUs);
  rec.OnLayerBegin(0, 20'500 * kUs);
  rec.OnComponentBegin(Component::kAttention, 0, 20'500 * kUs);
  rec.OnComponentEnd(Component::kAttention, 0, 21'000 * kUs);
  engine::ActivationStats first, second;
  first.max_abs = 3;
  second.max_abs = 4;
  rec.OnActivationStats(Component::kAttention, 0, first);
  rec.OnComponentBegin(Component::kAttention, 0, 21'000 * kUs);
  rec.OnComponentEnd(Component::kAttention, 0, 22'250 * kUs);
  rec.OnActivationStats(Component::kAttention, 0, second);
  rec.OnComponentBegin(Component::kMlpAct, 0, 22'250 * kUs);  // never ended: dropped
  rec.OnLayerEnd(0, 23'000 * kUs);
  rec.OnComponentBegin(Component::kOProj, 2, 23'000 * kUs);  // layer 2 has no layer span
  rec.OnComponentEnd(Component::kOProj, 2, 24'000 * kUs);
  engine::AttentionHeadStats head;
  head.max_weight = 0.5;
  rec.OnAttentionStats(5, {head, head});  // layer 5: statistics only
  engine::ActivationStats out;
  out.std = 2;
  rec.OnLayerOutputStats(2, out);
  rec.OnComponentBegin(Component::kLmHead, -1, 24'000 * kUs);
  rec.OnComponentEnd(Component::kLmHead, -1, 150'000 * kUs);  // past the last sample (100 ms)
  rec.OnLayerBegin(-7, 24'000 * kUs);  // not a layer the engine reports: ignored
  rec.OnLayerEnd(-7, 25'000 * kUs);
  rec.EndToken(11, "x", 0.25, 150'000 * kUs);
}

// BuildRow is what the profiler stores; GetRun decodes it with DecodeTokenLayers. It must hold
// exactly what Build's record holds, encoded as the store encodes a record.
TEST(SpanRecorder, BuildRowIsTheStoredFormOfBuild) {
  Baseline baseline;
  baseline.power_mw = {250};
  baseline.total_power_mw = 250;
  for (v1::DetailLevel detail : {v1::DETAIL_LEVEL_TOKENS, v1::DETAIL_LEVEL_LAYERS,
                                 v1::DETAIL_LEVEL_COMPONENTS, v1::DETAIL_LEVEL_DEEP}) {
    for (bool awkward : {false, true}) {
      SCOPED_TRACE(absl::StrCat(v1::DetailLevel_Name(detail), awkward ? " awkward" : ""));
      SpanRecorder rec(detail);
      if (awkward) {
        RecordAwkwardToken(rec);
      } else {
        RecordToken(rec);
      }
      for (const PowerTimeline& timeline : {OneWatt(), PowerTimeline({})}) {
        const v1::TokenRecord built = rec.Build(timeline, baseline);
        v1::TokenRecord token;
        store::TokenLayers scratch;
        std::string layers;
        rec.BuildRow(timeline, baseline, &token, &scratch, &layers);
        v1::TokenRecord without_layers = built;
        without_layers.clear_layers();
        EXPECT_TRUE(MessageDifferencer::Equals(token, without_layers))
            << token.DebugString() << "\nvs\n" << without_layers.DebugString();
        std::string encoded;
        store::TokenLayers fresh;
        if (built.layers_size() > 0) store::EncodeTokenLayers(built, &fresh, &encoded);
        EXPECT_EQ(layers, encoded);
      }
    }
  }
}

TEST(SpanRecorder, AwkwardSpansAreSummedAsDocumented) {
  SpanRecorder rec(v1::DETAIL_LEVEL_DEEP);
  RecordAwkwardToken(rec);
  v1::TokenRecord t = rec.Build(OneWatt(), Baseline{});
  // Layers in index order, then -1; layer 5 exists for its statistics only; -7 is ignored.
  ASSERT_EQ(t.layers_size(), 4);
  EXPECT_EQ(t.layers(0).layer(), 0);
  EXPECT_EQ(t.layers(1).layer(), 2);
  EXPECT_EQ(t.layers(2).layer(), 5);
  EXPECT_EQ(t.layers(3).layer(), -1);
  // Attention ran twice: its times and energies summed, the latest statistics kept; the
  // unfinished mlp_act is dropped.
  ASSERT_EQ(t.layers(0).components_size(), 1);
  EXPECT_EQ(t.layers(0).components(0).duration_ns(), 1'750 * kUs);
  EXPECT_NEAR(t.layers(0).components(0).energy().total_mj(), 1.75, 1e-9);
  EXPECT_DOUBLE_EQ(t.layers(0).components(0).activations().max_abs(), 4);
  EXPECT_EQ(t.layers(0).duration_ns(), 2'500 * kUs);
  // Layer 2 ran only a component: no time or energy of its own.
  EXPECT_EQ(t.layers(1).duration_ns(), 0);
  EXPECT_FALSE(t.layers(1).has_energy());
  EXPECT_DOUBLE_EQ(t.layers(1).output().std(), 2);
  EXPECT_EQ(t.layers(2).attention_heads_size(), 2);
  EXPECT_EQ(t.layers(2).components_size(), 0);
  // The pseudo-layer: embedding 0.5 ms + lm_head 126 ms, of which 76 ms are covered by samples
  // (up to 100 ms): 76.5 mJ, by time share.
  EXPECT_EQ(t.layers(3).duration_ns(), 126'500 * kUs);
  EXPECT_NEAR(t.layers(3).energy().total_mj(), 76.5, 1e-9);
  EXPECT_EQ(t.layers(3).energy().attribution(), v1::ATTRIBUTION_TIME_SHARE);
}

// The live event is built into one reused record: nothing of an earlier token may remain.
TEST(SpanRecorder, BuildIntoAReusedRecordEqualsAFreshBuild) {
  SpanRecorder big(v1::DETAIL_LEVEL_DEEP), small(v1::DETAIL_LEVEL_DEEP);
  RecordAwkwardToken(big);
  small.BeginToken(8, v1::PHASE_DECODE, 30'000 * kUs);
  small.OnLayerBegin(1, 30'000 * kUs);
  small.OnComponentBegin(Component::kQProj, 1, 30'000 * kUs);
  small.OnComponentEnd(Component::kQProj, 1, 31'000 * kUs);
  small.OnLayerEnd(1, 32'000 * kUs);
  small.EndToken(12, "", 0.5, 32'000 * kUs);
  v1::TokenRecord reused;
  for (bool energies : {true, false}) {
    big.BuildInto(OneWatt(), Baseline{}, /*part_energies=*/true, &reused);
    small.BuildInto(OneWatt(), Baseline{}, energies, &reused);
    v1::TokenRecord fresh = small.Build(OneWatt(), Baseline{}, energies);
    EXPECT_TRUE(MessageDifferencer::Equals(reused, fresh))
        << reused.DebugString() << "\nvs\n" << fresh.DebugString();
  }
}

}  // namespace
}  // namespace eprof::daemon
