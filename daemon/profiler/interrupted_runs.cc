#include "daemon/profiler/interrupted_runs.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "daemon/profiler/power_timeline.h"
#include "daemon/profiler/run_figures.h"
#include "daemon/profiler/stop_reason.h"

namespace eprof::daemon {
namespace {

// The summary of `run` rebuilt from its stored rows; the decode phase it had to add, if any, in
// *added_decode.
v1::RunSummary Rebuild(const v1::GetRunResponse& run, double grid_intensity_g_per_kwh,
                       std::vector<v1::PhaseRecord>* added_decode) {
  v1::RunSummary s = run.summary();
  std::vector<v1::Channel> channels(s.channels().begin(), s.channels().end());
  PowerTimeline timeline(channels);
  std::vector<v1::PowerSample> samples(run.power_samples().begin(), run.power_samples().end());
  std::sort(samples.begin(), samples.end(), [](const v1::PowerSample& a, const v1::PowerSample& b) {
    return a.t_end_ns() < b.t_end_ns();
  });
  for (const v1::PowerSample& sample : samples) (void)timeline.Add(sample);  // bad ones skipped

  Baseline baseline;
  std::vector<v1::PhaseRecord> phases;
  for (const v1::PhaseRecord& p : run.phases()) {
    if (p.phase() == v1::PHASE_IDLE_BASELINE) baseline = timeline.MedianPower(p.start_ns(), p.end_ns());
  }
  bool has_decode = false;
  for (const v1::PhaseRecord& p : run.phases()) {
    has_decode |= p.phase() == v1::PHASE_DECODE;
    std::vector<v1::SectionRecord> sections(p.sections().begin(), p.sections().end());
    phases.push_back(BuildPhase(p.phase(), p.start_ns(), p.end_ns(), std::move(sections),
                                timeline, baseline));
  }
  int64_t decode_start = -1, decode_end = -1;
  std::string text;
  for (const v1::TokenRecord& t : run.tokens()) {
    text += t.text();
    if (t.phase() != v1::PHASE_DECODE) continue;
    if (decode_start < 0 || t.start_ns() < decode_start) decode_start = t.start_ns();
    decode_end = std::max(decode_end, t.end_ns());
  }
  if (!has_decode && decode_start >= 0 && decode_end > decode_start) {
    phases.push_back(BuildPhase(v1::PHASE_DECODE, decode_start, decode_end, {}, timeline, baseline));
    added_decode->push_back(phases.back());
  }
  s.set_output_tokens(static_cast<uint32_t>(run.tokens_size()));
  s.set_output_text(text);
  FillRunFigures(timeline, baseline, phases, grid_intensity_g_per_kwh, &s);
  return s;
}

}  // namespace

absl::StatusOr<int> FinishInterruptedRuns(store::RunStore* store, double grid_intensity_g_per_kwh) {
  v1::ListRunsRequest unfinished;
  unfinished.add_statuses(v1::RUN_STATUS_RUNNING);
  unfinished.add_statuses(v1::RUN_STATUS_QUEUED);
  unfinished.set_page_size(1000);
  EPROF_ASSIGN_OR_RETURN(v1::ListRunsResponse list, store->ListRuns(unfinished));
  int finished = 0;
  for (const v1::RunSummary& listed : list.runs()) {
    v1::RunParts parts;
    parts.set_phases(true);
    parts.set_tokens(true);
    parts.set_power_samples(true);
    absl::StatusOr<v1::GetRunResponse> run = store->GetRun(listed.run_id(), parts);
    if (!run.ok()) {
      EPROF_LOG(WARNING) << "run " << listed.run_id() << " was left unfinished and its rows cannot "
                         << "be read (" << run.status() << "); it is marked interrupted as it is";
      continue;  // MarkUnfinishedInterrupted takes it
    }
    std::vector<v1::PhaseRecord> added;
    v1::RunSummary s = Rebuild(*run, grid_intensity_g_per_kwh, &added);
    s.set_status(v1::RUN_STATUS_INTERRUPTED);
    s.set_stop_reason(std::string(StopReasonName(StopReason::kInterrupted)));
    s.set_partial(true);
    v1::Warning* w = s.add_warnings();
    w->set_code("interrupted");
    w->set_message(absl::StrCat(
        "eprofd stopped during this run (crash or kill); its figures were rebuilt at the next "
        "start from what had been saved: ", s.output_tokens(), " tokens and ",
        run->power_samples_size(), " power samples"));
    if (!added.empty()) {
      store::RunRows rows;
      rows.phases = std::move(added);
      EPROF_RETURN_IF_ERROR(store->AppendRows(s.run_id(), rows));
    }
    EPROF_RETURN_IF_ERROR(store->UpdateSummary(s));
    ++finished;
  }
  return finished;
}

}  // namespace eprof::daemon
