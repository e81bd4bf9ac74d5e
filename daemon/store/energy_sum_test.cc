#include "daemon/store/energy_sum.h"

#include <gtest/gtest.h>

namespace eprof::store {
namespace {

constexpr v1::Attribution kU = v1::ATTRIBUTION_UNSPECIFIED;
constexpr v1::Attribution kC = v1::ATTRIBUTION_COUNTER;
constexpr v1::Attribution kT = v1::ATTRIBUTION_TIME_SHARE;
constexpr v1::Attribution kN = v1::ATTRIBUTION_NONE;

TEST(EnergySum, AttributionOfASum) {
  // {sum so far, part, sum after}
  const v1::Attribution table[][3] = {
      {kU, kC, kC}, {kU, kT, kT}, {kU, kN, kN},  // the first part gives its own
      {kC, kC, kC}, {kC, kT, kT}, {kC, kN, kC},  // counter while every part with power is
      {kT, kC, kT}, {kT, kT, kT}, {kT, kN, kT},  // time_share once any part is
      {kN, kC, kC}, {kN, kT, kT}, {kN, kN, kN},  // none gives way to any part with power
  };
  for (const auto& row : table) {
    EXPECT_EQ(CombineAttribution(row[0], row[1]), row[2])
        << v1::Attribution_Name(row[0]) << " + " << v1::Attribution_Name(row[1]);
  }
}

TEST(EnergySum, AddsTotalsAndDynamic) {
  v1::Energy sum;
  v1::Energy part;
  part.set_total_mj(3);
  part.set_dynamic_mj(1);
  part.set_attribution(kC);
  AddEnergy(part, &sum);
  part.set_attribution(kT);
  AddEnergy(part, &sum);
  EXPECT_DOUBLE_EQ(sum.total_mj(), 6);
  EXPECT_DOUBLE_EQ(sum.dynamic_mj(), 2);
  EXPECT_EQ(sum.attribution(), kT);
}

}  // namespace
}  // namespace eprof::store
