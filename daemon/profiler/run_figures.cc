#include "daemon/profiler/run_figures.h"

#include <algorithm>
#include <limits>

namespace eprof::daemon {
namespace {

constexpr double kNsPerS = 1e9;
constexpr double kMjPerJ = 1e3;
constexpr double kMjPerKwh = 3.6e9;

const v1::PhaseRecord* Find(const std::vector<v1::PhaseRecord>& phases, v1::Phase phase) {
  for (const v1::PhaseRecord& p : phases) {
    if (p.phase() == phase) return &p;
  }
  return nullptr;
}

}  // namespace

v1::PhaseRecord BuildPhase(v1::Phase phase, int64_t start_ns, int64_t end_ns,
                           std::vector<v1::SectionRecord> sections, const PowerTimeline& timeline,
                           const Baseline& baseline) {
  v1::PhaseRecord record;
  record.set_phase(phase);
  record.set_start_ns(start_ns);
  record.set_end_ns(end_ns);
  timeline.EnergyOf(start_ns, end_ns).ToProto(baseline, timeline.channels(), record.mutable_energy());
  for (v1::SectionRecord& s : sections) {
    s.set_phase(phase);
    timeline.EnergyOf(s.start_ns(), s.end_ns()).ToProto(baseline, timeline.channels(), s.mutable_energy());
    *record.add_sections() = std::move(s);
  }
  for (v1::ChannelPower& p : timeline.PowerOver(start_ns, end_ns, baseline)) {
    *record.add_power() = std::move(p);
  }
  return record;
}

v1::Energy ScaleEnergy(const v1::Energy& energy, double factor) {
  v1::Energy out = energy;
  out.set_total_mj(energy.total_mj() * factor);
  out.set_dynamic_mj(energy.dynamic_mj() * factor);
  for (v1::ChannelEnergy& c : *out.mutable_channels()) {
    c.set_total_mj(c.total_mj() * factor);
    c.set_dynamic_mj(c.dynamic_mj() * factor);
  }
  return out;
}

void FillRunFigures(const PowerTimeline& timeline, const Baseline& baseline,
                    const std::vector<v1::PhaseRecord>& phases, double grid_intensity_g_per_kwh,
                    v1::RunSummary* summary) {
  const auto& channels = timeline.channels();
  int64_t start = std::numeric_limits<int64_t>::max();
  int64_t end = std::numeric_limits<int64_t>::min();
  for (const v1::PhaseRecord& p : phases) {
    if (p.phase() == v1::PHASE_WARMUP) continue;
    start = std::min(start, p.start_ns());
    end = std::max(end, p.end_ns());
  }
  if (phases.empty() || start > end) return;
  summary->set_start_ns(start);
  summary->set_end_ns(end);
  SpanEnergy whole = timeline.EnergyOf(start, end);
  whole.ToProto(baseline, channels, summary->mutable_total_energy());
  summary->set_power_gap_s(static_cast<double>(whole.uncovered_ns) / kNsPerS);
  summary->set_baseline_power_mw(baseline.empty() ? 0.0 : baseline.total_power_mw);
  summary->set_baseline_window_count(baseline.empty() ? 0u : static_cast<uint32_t>(baseline.window_count));
  summary->set_grid_intensity_g_per_kwh(grid_intensity_g_per_kwh);
  summary->set_carbon_g_co2e(whole.total_mj / kMjPerKwh * grid_intensity_g_per_kwh);

  const v1::PhaseRecord* prefill = Find(phases, v1::PHASE_PREFILL);
  const v1::PhaseRecord* decode = Find(phases, v1::PHASE_DECODE);
  uint32_t input_tokens = summary->input_tokens();
  uint32_t decode_tokens = summary->output_tokens() > 0 ? summary->output_tokens() - 1 : 0;
  double infer_mj = 0;
  int64_t infer_start = std::numeric_limits<int64_t>::max();
  int64_t infer_end = std::numeric_limits<int64_t>::min();
  if (prefill != nullptr) {
    *summary->mutable_prefill_energy() = prefill->energy();
    double s = static_cast<double>(prefill->end_ns() - prefill->start_ns()) / kNsPerS;
    if (s > 0) summary->set_prefill_tokens_per_s(input_tokens / s);
    if (input_tokens > 0) {
      *summary->mutable_prefill_energy_per_input_token() =
          ScaleEnergy(prefill->energy(), 1.0 / input_tokens);
    }
    infer_mj += prefill->energy().total_mj();
    infer_start = std::min(infer_start, prefill->start_ns());
    infer_end = std::max(infer_end, prefill->end_ns());
  }
  if (decode != nullptr) {
    *summary->mutable_decode_energy() = decode->energy();
    double s = static_cast<double>(decode->end_ns() - decode->start_ns()) / kNsPerS;
    if (s > 0) summary->set_decode_tokens_per_s(decode_tokens / s);
    if (decode_tokens > 0) {
      *summary->mutable_decode_energy_per_output_token() =
          ScaleEnergy(decode->energy(), 1.0 / decode_tokens);
    }
    infer_mj += decode->energy().total_mj();
    infer_start = std::min(infer_start, decode->start_ns());
    infer_end = std::max(infer_end, decode->end_ns());
  }
  if (infer_start < infer_end) {
    double infer_j = infer_mj / kMjPerJ;
    double infer_s = static_cast<double>(infer_end - infer_start) / kNsPerS;
    if (summary->output_tokens() > 0 && infer_j > 0) {
      summary->set_joules_per_token(infer_j / summary->output_tokens());
      summary->set_tokens_per_joule(summary->output_tokens() / infer_j);
    }
    summary->set_energy_delay_product_j_s(infer_j * infer_s);
    summary->clear_power();
    for (v1::ChannelPower& p : timeline.PowerOver(infer_start, infer_end, baseline)) {
      *summary->add_power() = std::move(p);
    }
  }
}

}  // namespace eprof::daemon
