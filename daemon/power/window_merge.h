#ifndef EPROF_DAEMON_POWER_WINDOW_MERGE_H_
#define EPROF_DAEMON_POWER_WINDOW_MERGE_H_

#include <cstdint>
#include <vector>

#include "eprof/v1/power.pb.h"

namespace eprof::daemon {

// Back-to-back power windows merged until they span an interval: how eprofd's StreamPower
// serves a slower interval than the feed's (which runs share, so it is never changed for one
// stream). Energies, quality and power follow the rule eprof-power-helper's subscribers apply to
// their sensor's windows (power::WorseQuality and power::MergedPowerMw, power_helper/sensors/
// sensor.h, are its one home; the helper applies it to its own allocation-free structs):
//   - energies add up per channel, and a channel first seen in a later window joins;
//   - a merged reading's quality is the worst of its parts (an estimate anywhere in it makes it
//     an estimate; unset counts as an estimate);
//   - power is energy / window, except that a single window keeps the source's own figure;
//   - a gap between two windows (the helper away) ends the merge: a window never stretches over
//     time nobody measured.
// The merged window carries the last part's seq and end. One per stream; not thread-safe.
class WindowMerger {
 public:
  // `interval_ns` <= 0 passes every window through as it is.
  explicit WindowMerger(int64_t interval_ns) : interval_ns_(interval_ns) {}

  // Adds `s`; appends to `out` the merged windows that are complete: the one a gap ended, if
  // any, and the one `s` completes, if it does.
  void Add(const v1::PowerSample& s, std::vector<v1::PowerSample>* out);

 private:
  void Emit(std::vector<v1::PowerSample>* out);

  const int64_t interval_ns_;
  v1::PowerSample merged_;
  int windows_ = 0;  // windows in merged_; 0 = none
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_POWER_WINDOW_MERGE_H_
