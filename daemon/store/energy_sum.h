// How the energy of parts adds up to the energy of their sum: the one rule for every caller that
// sums spans (the span recorder's layer and component sums during a run, the store's per-phase
// layer sums when a run is read back), so that a live figure and a stored one cannot disagree.
//
//   v1::Energy layer;
//   for (const v1::Energy& part : parts) AddEnergy(part, &layer);
//
// Thread safety: pure functions.
#ifndef EPROF_DAEMON_STORE_ENERGY_SUM_H_
#define EPROF_DAEMON_STORE_ENERGY_SUM_H_

#include "eprof/v1/profiler.pb.h"

namespace eprof::store {

// The attribution of a sum after adding a part: counter only while every part with power was
// counter; time_share as soon as one part was; a part without power (none) gives way to any
// that has some; a sum with no part yet takes the part's.
v1::Attribution CombineAttribution(v1::Attribution sum, v1::Attribution part);

// Adds `part`'s total and dynamic energy to `sum` and combines the attributions (per-channel
// figures and quality are left alone).
void AddEnergy(const v1::Energy& part, v1::Energy* sum);

}  // namespace eprof::store

#endif  // EPROF_DAEMON_STORE_ENERGY_SUM_H_
