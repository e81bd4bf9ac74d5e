// The figures of a run derived from its phases and power timeline: phase energies and power,
// prefill and decode rates, energy per input and per output token, J/token, tokens/J, the
// energy-delay product, per-channel average/peak/baseline power, the carbon estimate and the
// time not covered by power samples.
//
//   v1::PhaseRecord prefill = BuildPhase(v1::PHASE_PREFILL, t0, t1, {}, timeline, baseline);
//   FillRunFigures(timeline, baseline, phases, /*grid_intensity_g_per_kwh=*/400, &summary);
//
// Definitions (units in the proto):
//   prefill_tokens_per_s = input_tokens / prefill seconds
//   decode_tokens_per_s  = (output_tokens − 1) / decode seconds   (token 0 comes from prefill)
//   prefill_energy_per_input_token  = prefill energy / input_tokens
//   decode_energy_per_output_token  = decode energy / (output_tokens − 1)
//   joules_per_token  = (prefill + decode) total energy in J / output_tokens;  tokens_per_joule = 1/that
//   energy_delay_product_j_s = (prefill + decode) energy in J × (prefill + decode) seconds
//   total_energy = the energy from the first phase's start to the last phase's end
//   carbon_g_co2e = total_energy in kWh × grid intensity
// A figure whose denominator is zero is left 0.
#ifndef EPROF_DAEMON_PROFILER_RUN_FIGURES_H_
#define EPROF_DAEMON_PROFILER_RUN_FIGURES_H_

#include <vector>

#include "daemon/profiler/power_timeline.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

// A phase record with its energy and per-channel power over [start_ns, end_ns); `sections` get
// their energies filled in too.
v1::PhaseRecord BuildPhase(v1::Phase phase, int64_t start_ns, int64_t end_ns,
                           std::vector<v1::SectionRecord> sections, const PowerTimeline& timeline,
                           const Baseline& baseline);

// `energy` with every amount (total, dynamic, per channel) multiplied by `factor`.
v1::Energy ScaleEnergy(const v1::Energy& energy, double factor);

// Fills the figure fields of `summary` (everything listed above, plus start_ns/end_ns from the
// phases, baseline_power_mw, power, grid intensity and power_gap_s). Reads
// summary->input_tokens() and output_tokens(), which the caller sets.
void FillRunFigures(const PowerTimeline& timeline, const Baseline& baseline,
                    const std::vector<v1::PhaseRecord>& phases, double grid_intensity_g_per_kwh,
                    v1::RunSummary* summary);

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_RUN_FIGURES_H_
