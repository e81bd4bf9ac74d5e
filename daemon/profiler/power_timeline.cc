#include "daemon/profiler/power_timeline.h"

#include <cmath>

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace eprof::daemon {
namespace {

// mW × ns → mJ.
constexpr double kMjPerMwNs = 1e-9;

// Higher enum value = worse quality; unspecified counts as the worst (an estimate).
int QualityRank(v1::Quality q) {
  switch (q) {
    case v1::QUALITY_MEASURED: return 0;
    case v1::QUALITY_DERIVED: return 1;
    default: return 2;
  }
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  double lower = *std::max_element(values.begin(), values.begin() + mid);
  return (lower + upper) / 2;
}

}  // namespace

PowerTimeline::PowerTimeline(const std::vector<v1::Channel>& channels) {
  absl::flat_hash_map<std::string, bool> contained;
  for (const v1::Channel& c : channels) {
    for (const std::string& inner : c.contains()) contained[inner] = true;
  }
  for (const v1::Channel& c : channels) {
    if (channel_index_.contains(c.name())) continue;  // a duplicate name: keep the first
    channel_index_[c.name()] = channels_.size();
    channels_.push_back({c.name(), c.kind(), c.quality(), contained.contains(c.name())});
  }
}

absl::Status PowerTimeline::Add(const v1::PowerSample& sample) {
  if (sample.window_ns() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "power sample ", sample.seq(), " has window_ns ", sample.window_ns(), "; it must be > 0"));
  }
  for (const v1::Reading& r : sample.readings()) {
    if (!std::isfinite(r.energy_mj()) || r.energy_mj() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "power sample ", sample.seq(), " has energy ", r.energy_mj(), " mJ on channel ",
          r.channel(), "; energies must be finite and >= 0 (sample skipped)"));
    }
  }
  int64_t start_ns = sample.t_end_ns() - sample.window_ns();
  if (!windows_.empty()) {
    int64_t previous_end = windows_.back().end_ns;
    if (start_ns < previous_end) {
      return absl::InvalidArgumentError(absl::StrCat(
          "power sample ", sample.seq(), " window (", start_ns, ", ", sample.t_end_ns(),
          "] overlaps the previous one ending at ", previous_end,
          ": samples must come in time order"));
    }
    gap_ns_ += start_ns - previous_end;
  }
  size_t offset = energy_mj_.size();
  energy_mj_.resize(offset + channels_.size(), 0.0);
  for (const v1::Reading& r : sample.readings()) {
    auto it = channel_index_.find(r.channel());
    if (it != channel_index_.end()) energy_mj_[offset + it->second] = r.energy_mj();
  }
  double top = 0;
  for (size_t c = 0; c < channels_.size(); ++c) {
    if (!channels_[c].contained) top += energy_mj_[offset + c];
  }
  top_level_mj_.push_back(top);
  windows_.push_back({start_ns, sample.t_end_ns(), offset});
  return absl::OkStatus();
}

PowerTimeline::Total PowerTimeline::TotalOf(int64_t start_ns, int64_t end_ns) const {
  Total result;
  if (end_ns <= start_ns || windows_.empty()) return result;
  auto it = std::upper_bound(windows_.begin(), windows_.end(), start_ns,
                             [](int64_t t, const Window& w) { return t < w.end_ns; });
  bool any = false;
  bool whole = true;
  for (; it != windows_.end() && it->start_ns < end_ns; ++it) {
    int64_t lo = std::max(start_ns, it->start_ns);
    int64_t hi = std::min(end_ns, it->end_ns);
    if (hi <= lo) continue;
    int64_t window_ns = it->end_ns - it->start_ns;
    any = true;
    whole = whole && hi - lo == window_ns;
    result.covered_ns += hi - lo;
    result.total_mj += top_level_mj_[it - windows_.begin()] * static_cast<double>(hi - lo) /
                       static_cast<double>(window_ns);
  }
  if (any) result.attribution = whole ? v1::ATTRIBUTION_COUNTER : v1::ATTRIBUTION_TIME_SHARE;
  return result;
}

int64_t PowerTimeline::covered_until_ns() const {
  return windows_.empty() ? std::numeric_limits<int64_t>::min() : windows_.back().end_ns;
}

SpanEnergy PowerTimeline::EnergyOf(int64_t start_ns, int64_t end_ns) const {
  SpanEnergy result;
  result.energy_mj.assign(channels_.size(), 0.0);
  result.duration_ns = end_ns - start_ns;
  result.uncovered_ns = result.duration_ns;
  int worst = -1;
  for (size_t c = 0; c < channels_.size(); ++c) {
    if (!channels_[c].contained) worst = std::max(worst, QualityRank(channels_[c].quality));
  }
  result.quality = worst <= 0 ? v1::QUALITY_MEASURED
                   : worst == 1 ? v1::QUALITY_DERIVED
                                : v1::QUALITY_ESTIMATED;
  if (end_ns <= start_ns || windows_.empty()) {
    result.attribution = v1::ATTRIBUTION_NONE;
    return result;
  }
  // First window that ends after the span starts.
  auto it = std::upper_bound(windows_.begin(), windows_.end(), start_ns,
                             [](int64_t t, const Window& w) { return t < w.end_ns; });
  bool any = false;
  bool whole_windows_only = true;
  int64_t covered_ns = 0;
  for (; it != windows_.end() && it->start_ns < end_ns; ++it) {
    int64_t lo = std::max(start_ns, it->start_ns);
    int64_t hi = std::min(end_ns, it->end_ns);
    if (hi <= lo) continue;
    int64_t window_ns = it->end_ns - it->start_ns;
    int64_t overlap_ns = hi - lo;
    any = true;
    covered_ns += overlap_ns;
    if (overlap_ns != window_ns) whole_windows_only = false;
    double share = static_cast<double>(overlap_ns) / static_cast<double>(window_ns);
    const double* e = &energy_mj_[it->offset];
    for (size_t c = 0; c < channels_.size(); ++c) result.energy_mj[c] += e[c] * share;
  }
  result.uncovered_ns = result.duration_ns - covered_ns;
  if (!any) {
    result.attribution = v1::ATTRIBUTION_NONE;
    return result;
  }
  result.attribution = whole_windows_only ? v1::ATTRIBUTION_COUNTER : v1::ATTRIBUTION_TIME_SHARE;
  for (size_t c = 0; c < channels_.size(); ++c) {
    if (!channels_[c].contained) result.total_mj += result.energy_mj[c];
  }
  return result;
}

void SpanEnergy::ToProto(const Baseline& baseline,
                         const std::vector<PowerTimelineChannel>& channels,
                         v1::Energy* out) const {
  out->Clear();
  const int64_t covered_ns = duration_ns - uncovered_ns;
  out->set_total_mj(total_mj);
  out->set_attribution(attribution);
  out->set_quality(quality);
  out->set_dynamic_mj(
      baseline.DynamicMj(total_mj, baseline.total_power_mw, attribution, covered_ns));
  for (size_t c = 0; c < channels.size() && c < energy_mj.size(); ++c) {
    v1::ChannelEnergy* ce = out->add_channels();
    ce->set_channel(channels[c].name);
    ce->set_quality(channels[c].quality);
    ce->set_total_mj(energy_mj[c]);
    ce->set_dynamic_mj(baseline.DynamicMj(
        energy_mj[c], baseline.empty() ? 0 : baseline.power_mw[c], attribution, covered_ns));
  }
}

Baseline PowerTimeline::MedianPower(int64_t start_ns, int64_t end_ns) const {
  Baseline baseline;
  if (channels_.empty() || end_ns <= start_ns) return baseline;
  auto first = std::upper_bound(windows_.begin(), windows_.end(), start_ns,
                                [](int64_t t, const Window& w) { return t < w.end_ns; });
  std::vector<const Window*> inside;
  std::vector<const Window*> overlapping;
  for (auto it = first; it != windows_.end() && it->start_ns < end_ns; ++it) {
    overlapping.push_back(&*it);
    if (it->start_ns >= start_ns && it->end_ns <= end_ns) inside.push_back(&*it);
  }
  const std::vector<const Window*>& use = inside.empty() ? overlapping : inside;
  if (use.empty()) return baseline;
  baseline.window_count = static_cast<int>(use.size());
  baseline.power_mw.resize(channels_.size());
  for (size_t c = 0; c < channels_.size(); ++c) {
    std::vector<double> powers;
    powers.reserve(use.size());
    for (const Window* w : use) {
      powers.push_back(energy_mj_[w->offset + c] /
                       (static_cast<double>(w->end_ns - w->start_ns) * kMjPerMwNs));
    }
    baseline.power_mw[c] = Median(std::move(powers));
    if (!channels_[c].contained) baseline.total_power_mw += baseline.power_mw[c];
  }
  return baseline;
}

std::vector<v1::ChannelPower> PowerTimeline::PowerOver(int64_t start_ns, int64_t end_ns,
                                                       const Baseline& baseline) const {
  std::vector<v1::ChannelPower> out(channels_.size());
  SpanEnergy energy = EnergyOf(start_ns, end_ns);
  int64_t covered_ns = energy.duration_ns - energy.uncovered_ns;
  std::vector<double> peak(channels_.size(), 0.0);
  auto it = std::upper_bound(windows_.begin(), windows_.end(), start_ns,
                             [](int64_t t, const Window& w) { return t < w.end_ns; });
  for (; it != windows_.end() && it->start_ns < end_ns; ++it) {
    double window = static_cast<double>(it->end_ns - it->start_ns) * kMjPerMwNs;
    for (size_t c = 0; c < channels_.size(); ++c) {
      peak[c] = std::max(peak[c], energy_mj_[it->offset + c] / window);
    }
  }
  for (size_t c = 0; c < channels_.size(); ++c) {
    v1::ChannelPower& p = out[c];
    p.set_channel(channels_[c].name);
    p.set_kind(channels_[c].kind);
    p.set_quality(channels_[c].quality);
    p.set_contained(channels_[c].contained);
    p.set_avg_power_mw(covered_ns > 0
                           ? energy.energy_mj[c] / (static_cast<double>(covered_ns) * kMjPerMwNs)
                           : 0.0);
    p.set_peak_power_mw(peak[c]);
    p.set_baseline_power_mw(baseline.empty() ? 0.0 : baseline.power_mw[c]);
  }
  return out;
}

}  // namespace eprof::daemon
