#include "daemon/service/run_compare.h"

#include <functional>
#include <string>

#include "absl/strings/str_cat.h"

namespace eprof::daemon {
namespace {

// Which way a metric is better, if either is.
enum Better { kLower, kHigher, kNeither };

struct MetricDef {
  const char* name;
  const char* unit;
  Better better;
  std::function<double(const v1::RunSummary&)> value;
};

double AveragePowerMw(const v1::RunSummary& s) {
  double sum = 0;
  for (const v1::ChannelPower& p : s.power()) {
    if (!p.contained()) sum += p.avg_power_mw();
  }
  return sum;
}

const std::vector<MetricDef>& Metrics() {
  static const std::vector<MetricDef> kMetrics = {
      {"decode_tokens_per_s", "tokens/s", kHigher, [](auto& s) { return s.decode_tokens_per_s(); }},
      {"prefill_tokens_per_s", "tokens/s", kHigher, [](auto& s) { return s.prefill_tokens_per_s(); }},
      {"joules_per_token", "J/token", kLower, [](auto& s) { return s.joules_per_token(); }},
      {"tokens_per_joule", "tokens/J", kHigher, [](auto& s) { return s.tokens_per_joule(); }},
      {"total_energy_mj", "mJ", kLower, [](auto& s) { return s.total_energy().total_mj(); }},
      {"total_dynamic_energy_mj", "mJ", kLower, [](auto& s) { return s.total_energy().dynamic_mj(); }},
      {"prefill_energy_mj", "mJ", kLower, [](auto& s) { return s.prefill_energy().total_mj(); }},
      {"decode_energy_mj", "mJ", kLower, [](auto& s) { return s.decode_energy().total_mj(); }},
      {"prefill_energy_per_input_token_mj", "mJ/token", kLower,
       [](auto& s) { return s.prefill_energy_per_input_token().total_mj(); }},
      {"decode_energy_per_output_token_mj", "mJ/token", kLower,
       [](auto& s) { return s.decode_energy_per_output_token().total_mj(); }},
      {"energy_delay_product_j_s", "J·s", kLower, [](auto& s) { return s.energy_delay_product_j_s(); }},
      {"average_power_mw", "mW", kLower, [](auto& s) { return AveragePowerMw(s); }},
      {"baseline_power_mw", "mW", kNeither, [](auto& s) { return s.baseline_power_mw(); }},
      {"input_tokens", "tokens", kNeither, [](auto& s) { return double(s.input_tokens()); }},
      {"output_tokens", "tokens", kNeither, [](auto& s) { return double(s.output_tokens()); }},
      {"duration_s", "s", kNeither, [](auto& s) { return (s.end_ns() - s.start_ns()) / 1e9; }},
      {"carbon_g_co2e", "g CO2e", kLower, [](auto& s) { return s.carbon_g_co2e(); }},
  };
  return kMetrics;
}

}  // namespace

absl::StatusOr<v1::CompareRunsResponse> CompareRuns(const std::vector<v1::GetRunResponse>& runs) {
  if (runs.size() < 2 || runs.size() > 10) {
    return absl::InvalidArgumentError(
        absl::StrCat("CompareRuns takes 2 to 10 runs, got ", runs.size()));
  }
  v1::CompareRunsResponse out;
  for (const v1::GetRunResponse& r : runs) *out.add_runs() = r.summary();
  for (const MetricDef& def : Metrics()) {
    v1::MetricComparison* m = out.add_metrics();
    m->set_name(def.name);
    m->set_unit(def.unit);
    m->set_lower_is_better(def.better == kLower);
    m->set_judged(def.better != kNeither);
    double first = def.value(runs[0].summary());
    for (const v1::GetRunResponse& r : runs) {
      double v = def.value(r.summary());
      m->add_values(v);
      m->add_delta_vs_first(v - first);
      m->add_ratio_vs_first(first != 0 ? v / first : 0);
    }
  }
  for (v1::Phase phase : {v1::PHASE_MODEL_LOAD, v1::PHASE_IDLE_BASELINE, v1::PHASE_PRE_INFERENCE,
                          v1::PHASE_PREFILL, v1::PHASE_DECODE, v1::PHASE_POST_INFERENCE}) {
    bool any = false;
    v1::PhaseComparison pc;
    pc.set_phase(phase);
    for (const v1::GetRunResponse& r : runs) {
      const v1::PhaseRecord* found = nullptr;
      for (const v1::PhaseRecord& p : r.phases()) {
        if (p.phase() == phase) found = &p;
      }
      if (found != nullptr) {
        any = true;
        *pc.add_energy() = found->energy();
        pc.add_duration_ns(found->end_ns() - found->start_ns());
      } else {
        pc.add_energy();
        pc.add_duration_ns(0);
      }
    }
    if (any) *out.add_phases() = std::move(pc);
  }
  return out;
}

}  // namespace eprof::daemon
