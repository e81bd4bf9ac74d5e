#include "client_cli/summary_view.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client_cli/format.h"

namespace eprof::cli {
namespace {

std::string EnergyPair(const v1::Energy& e) {
  if (e.attribution() == v1::ATTRIBUTION_NONE) return "no energy data";
  return absl::StrCat(Energy(e.total_mj()), " (dynamic ", Energy(e.dynamic_mj()), ")");
}

const v1::PhaseRecord* Find(const v1::GetRunResponse& run, v1::Phase phase) {
  for (const auto& p : run.phases()) {
    if (p.phase() == phase) return &p;
  }
  return nullptr;
}

}  // namespace

std::string RenderSummary(const v1::GetRunResponse& run) {
  const v1::RunSummary& s = run.summary();
  std::string out;
  absl::StrAppend(&out, "run ", s.run_id(), "  ", StatusName(s.status()),
                  s.stop_reason().empty() ? "" : absl::StrCat(" (", s.stop_reason(), ")"),
                  s.partial() ? ", partial: rebuilt from what was saved before eprofd stopped" : "",
                  "\n");
  std::vector<std::string> facts;
  for (const std::string* f : {&s.model().family(), &s.dtype()}) {
    if (!f->empty()) facts.push_back(*f);
  }
  if (!s.device().empty()) facts.push_back("on " + s.device());
  absl::StrAppend(&out, "model ", s.model().name(),
                  facts.empty() ? "" : absl::StrCat(" (", absl::StrJoin(facts, ", "), ")"),
                  ", detail ", DetailName(s.detail()), "\n");
  if (!s.error().empty()) absl::StrAppend(&out, "error: ", s.error(), "\n");
  const bool estimate = s.total_energy().quality() == v1::QUALITY_ESTIMATED;
  // UNSPECIFIED: a run that failed before any energy was attributed says nothing of power.
  const bool has_energy = s.total_energy().attribution() != v1::ATTRIBUTION_NONE &&
                          s.total_energy().attribution() != v1::ATTRIBUTION_UNSPECIFIED;
  if (has_energy) {
    absl::StrAppend(&out, "power source ", s.power_source(),
                    estimate ? " — ESTIMATED power, not a measurement" : "", "\n");
  }
  out += "\n";
  std::vector<std::vector<std::string>> rows = {{"", "time", "tokens", "tokens/s", "energy"}};
  const v1::PhaseRecord* prefill = Find(run, v1::PHASE_PREFILL);
  const v1::PhaseRecord* decode = Find(run, v1::PHASE_DECODE);
  rows.push_back({"prefill", prefill ? Duration(prefill->end_ns() - prefill->start_ns()) : "-",
                  absl::StrCat(s.input_tokens(), " in"), Number(s.prefill_tokens_per_s()),
                  EnergyPair(s.prefill_energy())});
  rows.push_back({"decode", decode ? Duration(decode->end_ns() - decode->start_ns()) : "-",
                  absl::StrCat(s.output_tokens(), " out"), Number(s.decode_tokens_per_s()),
                  EnergyPair(s.decode_energy())});
  rows.push_back({"run", Duration(s.end_ns() - s.start_ns()), "", "", EnergyPair(s.total_energy())});
  out += Table(rows, {false, true, true, true, false});
  if (has_energy) {
    absl::StrAppend(&out, "\nenergy per input token   ", EnergyPair(s.prefill_energy_per_input_token()),
                    "\nenergy per output token  ", EnergyPair(s.decode_energy_per_output_token()),
                    "\nJ/token                  ", Number(s.joules_per_token()),
                    "\ntokens/J                 ", Number(s.tokens_per_joule()),
                    "\nenergy-delay product     ", Number(s.energy_delay_product_j_s()), " J·s",
                    "\nidle baseline            ", Power(s.baseline_power_mw()),
                    "\ncarbon                   ", Number(s.carbon_g_co2e()), " g CO2e at ",
                    Number(s.grid_intensity_g_per_kwh()), " g/kWh\n");
    std::vector<std::vector<std::string>> power = {{"channel", "average", "peak", "idle", "quality"}};
    for (const v1::ChannelPower& p : s.power()) {
      power.push_back({p.channel() + (p.contained() ? " (part of another)" : ""),
                       Power(p.avg_power_mw()), Power(p.peak_power_mw()),
                       Power(p.baseline_power_mw()), QualityLabel(p.quality())});
    }
    if (power.size() > 1) absl::StrAppend(&out, "\n", Table(power, {false, true, true, true, false}));
  }
  // The layers and components that used the most energy, over prefill and decode.
  std::map<int, double> layer_mj;
  std::map<v1::Component, double> component_mj;
  for (const v1::PhaseRecord& p : run.phases()) {
    for (const v1::LayerMetrics& l : p.layers()) {
      layer_mj[l.layer()] += l.energy().total_mj();
      for (const v1::ComponentMetrics& c : l.components()) component_mj[c.component()] += c.energy().total_mj();
    }
  }
  auto top = [](auto& m, size_t n) {
    std::vector<std::pair<typename std::decay_t<decltype(m)>::key_type, double>> v(m.begin(), m.end());
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
    if (v.size() > n) v.resize(n);
    return v;
  };
  if (!layer_mj.empty() && has_energy) {
    std::vector<std::string> parts;
    for (auto& [layer, mj] : top(layer_mj, 5)) {
      parts.push_back(absl::StrCat(layer < 0 ? std::string("outside layers") : absl::StrCat("layer ", layer), " ", Energy(mj)));
    }
    absl::StrAppend(&out, "\ntop layers      ", absl::StrJoin(parts, ", "), "\n");
    if (!component_mj.empty()) {
      parts.clear();
      for (auto& [c, mj] : top(component_mj, 5)) parts.push_back(absl::StrCat(ComponentName(c), " ", Energy(mj)));
      absl::StrAppend(&out, "top components  ", absl::StrJoin(parts, ", "), "\n");
    }
  }
  for (const v1::Warning& w : s.warnings()) absl::StrAppend(&out, "warning: ", w.message(), "\n");
  return out;
}

std::string RenderPhasesAndTokens(const v1::GetRunResponse& run) {
  std::string out;
  std::vector<std::vector<std::string>> rows = {{"phase", "start", "duration", "energy", "dynamic", "attribution"}};
  int64_t t0 = run.phases_size() > 0 ? run.phases(0).start_ns() : 0;
  for (const v1::PhaseRecord& p : run.phases()) {
    rows.push_back({PhaseName(p.phase()), Duration(p.start_ns() - t0), Duration(p.end_ns() - p.start_ns()),
                    Energy(p.energy().total_mj()), Energy(p.energy().dynamic_mj()),
                    p.energy().attribution() == v1::ATTRIBUTION_COUNTER ? "counter"
                    : p.energy().attribution() == v1::ATTRIBUTION_TIME_SHARE ? "time share" : "none"});
    for (const v1::SectionRecord& sec : p.sections()) {
      rows.push_back({"  " + sec.name(), Duration(sec.start_ns() - t0), Duration(sec.end_ns() - sec.start_ns()),
                      Energy(sec.energy().total_mj()), Energy(sec.energy().dynamic_mj()), ""});
    }
  }
  out += Table(rows, {false, true, true, true, true, false});
  std::vector<double> energies;
  double lo = 0, hi = 0;
  for (const v1::TokenRecord& t : run.tokens()) {
    if (t.phase() != v1::PHASE_DECODE) continue;
    double e = t.energy().total_mj();
    if (energies.empty() || e < lo) lo = e;
    if (energies.empty() || e > hi) hi = e;
    energies.push_back(e);
  }
  if (!energies.empty()) {
    absl::StrAppend(&out, "\nenergy per decode token (", energies.size(), " tokens, ", Energy(lo),
                    " … ", Energy(hi), ")\n", Sparkline(energies), "\n");
  }
  return out;
}

}  // namespace eprof::cli
