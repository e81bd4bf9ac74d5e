// The phases and sections of one run, on the run's clock (design: "Spans and energy
// attribution"):
//
//   run (model_load) (warmup) idle_baseline pre_inference[tokenize] prefill decode
//       post_inference[save]
//
// Phases tile the run: each starts where the previous one ended, so that the work between them
// (events, bookkeeping) belongs to a phase and the phases sum to the run. Each start and end is
// an event (PhaseStarted, PhaseEnded with the phase's provisional energy; SectionStarted,
// SectionEnded), and each ended phase goes with the next rows to store, so that a run eprofd
// does not live to finish keeps its phases (interrupted_runs.h). Records() gives the phases
// with their energy as the power window has it at the end of the run.
//
//   timeline.BeginPhase(v1::PHASE_PRE_INFERENCE);
//   auto ids = timeline.Section("tokenize", [&] { return model->Tokenize(prompt, true); });
//   timeline.EndPhase();
//
// Thread safety: not thread-safe; the run's thread only.
#ifndef EPROF_DAEMON_PROFILER_RUN_TIMELINE_H_
#define EPROF_DAEMON_PROFILER_RUN_TIMELINE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "daemon/profiler/run_events.h"
#include "daemon/profiler/run_power.h"
#include "daemon/profiler/store_writer.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

class RunTimeline {
 public:
  // Every pointer outlives this.
  RunTimeline(RunEvents* events, RunPower* power, RowBatch* rows)
      : events_(events), power_(power), rows_(rows) {}

  // Starts `phase` where the previous one ended (now, for the first).
  void BeginPhase(v1::Phase phase);
  // Starts `phase` at `start_ns` (model_load: when the model was asked for).
  void BeginPhaseAt(v1::Phase phase, int64_t start_ns);
  // Ends the open phase now, or at `end_ns`.
  void EndPhase() { EndPhaseAt(events_->clock()->NowNs()); }
  void EndPhaseAt(int64_t end_ns);

  // Runs `body` as section `name` of the open phase; returns what it returns.
  template <typename F>
  auto Section(const std::string& name, F&& body) {
    v1::SectionRecord s = StartSection(name);
    auto result = std::forward<F>(body)();
    EndSection(std::move(s));
    return result;
  }

  // Whether a phase has begun and not ended.
  bool open() const { return !phases_.empty() && phases_.back().end_ns < 0; }
  // The phase begun last (PHASE_UNSPECIFIED before any) and its start.
  v1::Phase phase() const { return phases_.empty() ? v1::PHASE_UNSPECIFIED : phases_.back().phase; }
  int64_t phase_start_ns() const { return phases_.empty() ? -1 : phases_.back().start_ns; }
  // Where the phase begun last ended; -1 while it is open, and before any.
  int64_t end_ns() const { return phases_.empty() ? -1 : phases_.back().end_ns; }

  // Every phase with its sections and energy, attributed from the power window as it is now.
  std::vector<v1::PhaseRecord> Records() const;

 private:
  struct PhaseSpan {
    v1::Phase phase;
    int64_t start_ns;
    int64_t end_ns;
    std::vector<v1::SectionRecord> sections;
  };
  v1::SectionRecord StartSection(const std::string& name);
  void EndSection(v1::SectionRecord section);

  RunEvents* const events_;
  RunPower* const power_;
  RowBatch* const rows_;
  std::vector<PhaseSpan> phases_;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_RUN_TIMELINE_H_
