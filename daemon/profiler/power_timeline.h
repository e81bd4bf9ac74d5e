// The power samples of a run, and the functions that attribute their energy to any span
// (EnergyOf; TotalOf for totals alone).
//
//   PowerTimeline timeline(channels);            // from PowerService.Describe / RunStarted
//   EPROF_RETURN_IF_ERROR(timeline.Add(sample)); // as samples arrive, in time order
//   Baseline idle = timeline.MedianPower(idle_start_ns, idle_end_ns);
//   SpanEnergy e = timeline.EnergyOf(token_start_ns, token_end_ns);
//   e.ToProto(idle, timeline.channels(), token_record->mutable_energy());
//
// Attribution (design: "Spans and energy attribution"): each sample window is taken as constant
// power, and a span gets every window's energy in proportion to the time it overlaps it:
//   E(a,b) = Σ_i e_i · |(a,b] ∩ window_i| / |window_i|.
// A span whose overlapping windows all lie entirely inside it gets exactly the counters' energy
// (ATTRIBUTION_COUNTER); one that shares any window by time is ATTRIBUTION_TIME_SHARE; one that
// no window overlaps is ATTRIBUTION_NONE (its figures are 0 and mean "unknown"). Time inside the
// span that no window covers (a gap: helper gone, samples lost) is reported as uncovered_ns.
//
// Totals sum only top-level channels: a channel that another channel `contains` (RAPL core in
// package-0, package-0 in psys) is kept per channel but never added to a total, so nothing is
// counted twice.
//
// Thread safety: not thread-safe; the profiler owns one per run and feeds it from one thread.
#ifndef EPROF_DAEMON_PROFILER_POWER_TIMELINE_H_
#define EPROF_DAEMON_PROFILER_POWER_TIMELINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "eprof/v1/power.pb.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

// Idle power per channel, mW: for each channel the median, over the windows lying entirely
// inside the idle span (those overlapping it when none does), of the channel's window power
// energy / duration; an even count takes the mean of the middle two (profiler.proto,
// ChannelPower.baseline_power_mw, says the same to users).
struct Baseline {
  // Same order as PowerTimeline::channels(); empty when no baseline was measured.
  std::vector<double> power_mw;
  // Σ of the top-level channels' medians, mW (0 without a baseline). Using the sum of
  // per-channel medians keeps total dynamic energy equal to the sum of the channels' dynamic
  // energies.
  double total_power_mw = 0;
  // Windows the medians were taken over.
  int window_count = 0;

  bool empty() const { return power_mw.empty(); }

  // Dynamic energy, mJ: `total_mj` less `idle_mw` (this baseline's total_power_mw, or one
  // channel's power_mw) over the time a sample covered; `total_mj` itself without a baseline or
  // when no sample overlapped the span (attribution none). The one rule for every span.
  double DynamicMj(double total_mj, double idle_mw, v1::Attribution attribution,
                   int64_t covered_ns) const {
    if (empty() || attribution == v1::ATTRIBUTION_NONE) return total_mj;
    return total_mj - idle_mw * static_cast<double>(covered_ns) * 1e-9;
  }
};

struct PowerTimelineChannel {
  std::string name;
  v1::ChannelKind kind = v1::CHANNEL_KIND_UNSPECIFIED;
  v1::Quality quality = v1::QUALITY_UNSPECIFIED;
  // True when another channel of the timeline contains this one.
  bool contained = false;
};

// The energy of one span.
struct SpanEnergy {
  // Per channel (PowerTimeline::channels() order), mJ.
  std::vector<double> energy_mj;
  // Σ over top-level channels, mJ.
  double total_mj = 0;
  v1::Attribution attribution = v1::ATTRIBUTION_NONE;
  // The worst quality among the top-level channels.
  v1::Quality quality = v1::QUALITY_UNSPECIFIED;
  // Length of the span, and the part of it no sample window covers, ns.
  int64_t duration_ns = 0;
  int64_t uncovered_ns = 0;

  // Fills `out` with total and dynamic figures, overall and per channel. Dynamic energy
  // subtracts the baseline over the covered part of the span only (a gap has no energy to
  // subtract from). Without a baseline, dynamic = total.
  void ToProto(const Baseline& baseline, const std::vector<PowerTimelineChannel>& channels,
               v1::Energy* out) const;
};

class PowerTimeline {
 public:
  // `channels` as the power source describes them (their `contains` lists decide what is
  // top-level). An empty list is valid: a run without power (every span gets NONE).
  explicit PowerTimeline(const std::vector<v1::Channel>& channels);

  // Appends one sample. Windows must come in time order; a window that starts before the end of
  // the previous one (overlap) or has window_ns <= 0 is rejected with INVALID_ARGUMENT and not
  // added. A window that starts after the previous one ended leaves a gap (counted in
  // gap_ns()). Readings of unknown channels are ignored; a channel missing from a sample counts
  // as 0 for that window.
  absl::Status Add(const v1::PowerSample& sample);

  // Energy of the span [start_ns, end_ns). REQUIRES: start_ns <= end_ns.
  // Cost: O(log n + windows overlapped).
  SpanEnergy EnergyOf(int64_t start_ns, int64_t end_ns) const;

  // Only the total over top-level channels, its attribution and the covered time of
  // [start_ns, end_ns): what layer and component spans keep. Allocates nothing.
  // The dominant cost of building a token's record at detail components (hundreds of spans).
  struct Total {
    double total_mj = 0;
    v1::Attribution attribution = v1::ATTRIBUTION_NONE;
    int64_t covered_ns = 0;
  };
  Total TotalOf(int64_t start_ns, int64_t end_ns) const;

  // Median power of each channel over the windows that lie inside [start_ns, end_ns); if none
  // lies entirely inside, over those that overlap it. Empty Baseline when none overlaps.
  Baseline MedianPower(int64_t start_ns, int64_t end_ns) const;

  // Mean and peak power of each channel over [start_ns, end_ns): mean = energy / covered time,
  // peak = highest window power among overlapping windows, mW.
  std::vector<v1::ChannelPower> PowerOver(int64_t start_ns, int64_t end_ns,
                                          const Baseline& baseline) const;

  // End of the last window, ns (INT64_MIN when empty). A span is fully known once
  // covered_until_ns() >= its end (post-roll).
  int64_t covered_until_ns() const;

  // Total time between windows not covered by any sample, ns.
  int64_t gap_ns() const { return gap_ns_; }

  const std::vector<PowerTimelineChannel>& channels() const { return channels_; }
  size_t window_count() const { return windows_.size(); }

 private:
  struct Window {
    int64_t start_ns;
    int64_t end_ns;
    // Index into energy_mj_: channels_.size() values.
    size_t offset;
  };

  std::vector<PowerTimelineChannel> channels_;
  absl::flat_hash_map<std::string, size_t> channel_index_;
  std::vector<Window> windows_;
  // Energies of all windows, channels_.size() per window, mJ.
  std::vector<double> energy_mj_;
  // Per window: the sum of its top-level channels' energies, mJ.
  std::vector<double> top_level_mj_;
  int64_t gap_ns_ = 0;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_POWER_TIMELINE_H_
