#include "daemon/store/token_layers.h"

#include <string>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace eprof::store {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::StatusIs;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

void SetEnergy(v1::Energy* e, double total, double dynamic, v1::Attribution a) {
  e->set_total_mj(total);
  e->set_dynamic_mj(dynamic);
  e->set_attribution(a);
  e->set_quality(v1::QUALITY_ESTIMATED);
}

// Token 7: layers 0 and 1 with three components each, then the outside-layers part (-1) with
// one; every figure distinct. With `deep`, layer 1 has attention heads, an output and activation
// statistics on its second component only.
v1::TokenRecord MakeToken(bool deep) {
  v1::TokenRecord t;
  t.set_index(7);
  SetEnergy(t.mutable_energy(), 100, 40, v1::ATTRIBUTION_TIME_SHARE);
  const v1::Component kinds[] = {v1::COMPONENT_Q_PROJ, v1::COMPONENT_ATTENTION,
                                 v1::COMPONENT_DOWN_PROJ};
  for (int layer : {0, 1, -1}) {
    v1::LayerMetrics* l = t.add_layers();
    l->set_layer(layer);
    l->set_duration_ns(1000 + layer);
    SetEnergy(l->mutable_energy(), 10.5 + layer, 4.25 + layer,
              layer == 0 ? v1::ATTRIBUTION_COUNTER : v1::ATTRIBUTION_TIME_SHARE);
    for (int k = 0; k < (layer < 0 ? 1 : 3); ++k) {
      v1::ComponentMetrics* c = l->add_components();
      c->set_component(layer < 0 ? v1::COMPONENT_LM_HEAD : kinds[k]);
      c->set_duration_ns(100 * (layer + 2) + k);
      SetEnergy(c->mutable_energy(), 1.5 * (k + 1) + layer, -0.125 * k, v1::ATTRIBUTION_TIME_SHARE);
      if (deep && layer == 1 && k == 1) {
        c->mutable_activations()->set_mean_abs(0.5);
        c->mutable_activations()->set_near_zero_fraction(0.25);
      }
    }
    if (deep && layer == 1) {
      l->add_attention_heads()->set_head(0);
      l->add_attention_heads()->set_head(1);
      l->mutable_output()->set_max_abs(9);
    }
  }
  return t;
}

v1::TokenRecord Decoded(const std::string& blob, bool components, bool deep) {
  v1::TokenRecord t;
  t.set_index(7);
  SetEnergy(t.mutable_energy(), 100, 40, v1::ATTRIBUTION_TIME_SHARE);
  EXPECT_THAT(DecodeTokenLayers(blob, components, deep, "r", &t), IsOk());
  return t;
}

TEST(TokenLayers, RoundTripsEveryFigureAndDeepStatistic) {
  TokenLayers scratch;
  std::string blob;
  const v1::TokenRecord want = MakeToken(/*deep=*/true);
  EncodeTokenLayers(want, &scratch, &blob);
  const v1::TokenRecord got = Decoded(blob, true, true);
  EXPECT_TRUE(MessageDifferencer::Equals(got, want)) << got.DebugString();
}

TEST(TokenLayers, ReadsLayersWithoutComponentsAndComponentsWithoutDeepStatistics) {
  TokenLayers scratch;
  std::string blob;
  EncodeTokenLayers(MakeToken(/*deep=*/true), &scratch, &blob);

  v1::TokenRecord want = MakeToken(/*deep=*/false);
  EXPECT_TRUE(MessageDifferencer::Equals(Decoded(blob, true, false), want));
  for (v1::LayerMetrics& l : *want.mutable_layers()) l.clear_components();
  const v1::TokenRecord layers_only = Decoded(blob, false, false);
  EXPECT_TRUE(MessageDifferencer::Equals(layers_only, want)) << layers_only.DebugString();
  EXPECT_EQ(layers_only.layers(2).layer(), -1);
  EXPECT_DOUBLE_EQ(layers_only.layers(2).energy().total_mj(), 9.5);
}

// The writer reuses one scratch message across tokens: nothing of an earlier token may remain.
TEST(TokenLayers, AReusedScratchMessageCarriesNothingOver) {
  TokenLayers scratch;
  std::string first, second, fresh;
  EncodeTokenLayers(MakeToken(/*deep=*/true), &scratch, &first);
  v1::TokenRecord small;
  small.set_index(7);
  small.add_layers()->set_layer(3);
  EncodeTokenLayers(small, &scratch, &second);
  TokenLayers clean;
  EncodeTokenLayers(small, &clean, &fresh);
  EXPECT_EQ(second, fresh);
}

TEST(TokenLayers, AnInconsistentRowIsDataLossNamingRunAndToken) {
  TokenLayers scratch;
  std::string blob;
  EncodeTokenLayers(MakeToken(/*deep=*/true), &scratch, &blob);
  auto decode = [](const std::string& bytes) {
    v1::TokenRecord t;
    t.set_index(7);
    return DecodeTokenLayers(bytes, true, true, "r", &t);
  };
  auto broken = [&](auto&& change) {
    TokenLayers m;
    EXPECT_TRUE(m.ParseFromString(blob));
    change(m);
    return m.SerializeAsString();
  };
  const std::string run_and_token = "run r: stored layer metrics of token 7 are unreadable";
  EXPECT_THAT(decode("\xff\xff\xff"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(run_and_token)));
  EXPECT_THAT(decode(broken([](TokenLayers& m) { m.mutable_layer_total_mj()->RemoveLast(); })),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("per-layer arrays")));
  EXPECT_THAT(decode(broken([](TokenLayers& m) { m.set_layer_component_count(0, 4); })),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("component arrays")));
  EXPECT_THAT(decode(broken([](TokenLayers& m) { m.mutable_component_duration_ns()->RemoveLast(); })),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("component arrays")));
  EXPECT_THAT(decode(broken([](TokenLayers& m) { m.mutable_deep(0)->set_layer(5); })),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("a layer that is not there")));
  EXPECT_THAT(decode(broken([](TokenLayers& m) { m.mutable_deep(0)->add_components(); })),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("different number of components")));
}

}  // namespace
}  // namespace eprof::store
