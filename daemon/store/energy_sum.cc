#include "daemon/store/energy_sum.h"

namespace eprof::store {

v1::Attribution CombineAttribution(v1::Attribution sum, v1::Attribution part) {
  if (sum == v1::ATTRIBUTION_UNSPECIFIED || sum == v1::ATTRIBUTION_NONE ||
      part == v1::ATTRIBUTION_TIME_SHARE) {
    return part;
  }
  return sum;
}

void AddEnergy(const v1::Energy& part, v1::Energy* sum) {
  sum->set_total_mj(sum->total_mj() + part.total_mj());
  sum->set_dynamic_mj(sum->dynamic_mj() + part.dynamic_mj());
  sum->set_attribution(CombineAttribution(sum->attribution(), part.attribution()));
}

}  // namespace eprof::store
