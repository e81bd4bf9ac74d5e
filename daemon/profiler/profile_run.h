// One profiled generation, end to end (design: "Spans and energy attribution").
//
//   run (model_load) (warmup) idle_baseline pre_inference[tokenize] prefill decode
//       post_inference[save]
//
// ExecuteProfileRun times every phase, section, token, layer and component on the one clock,
// feeds the power samples that arrive meanwhile into a PowerTimeline, and attributes energy to
// every span: provisionally as soon as a span ends (sent in TokenCompleted / PhaseEnded events),
// finally once a sample covers it (stored, and in the summary). The run is not closed until a
// sample covers its end (post-roll) or the post-roll timeout passes (then a warning says so).
// Rows are saved in batches by a background writer while the run goes on.
//
// The run's parts, one job each: RunEvents (events and warnings), RunPower (the power window:
// subscription, samples, coverage, baseline), RunTimeline (phases and sections), TokenPipeline
// (recorders, each token's text, live event and rows), RowBatch and StoreWriter (the rows to
// store). profile_run.cc runs the phases in order and ends every run in one Finish.
//
// Events go to `events` (RunStarted first, RunSummary last); the caller closes the log when it
// is done with the run (RunManager: after it no longer lists the run as current, so a client
// whose stream has ended never sees it still running). The run is created in and finally saved
// to `store`.
//
// Thread safety: runs on the caller's thread (the daemon's inference thread); cancellation
// through `cancel`, checked between tokens and during the idle baseline.
#ifndef EPROF_DAEMON_PROFILER_PROFILE_RUN_H_
#define EPROF_DAEMON_PROFILER_PROFILE_RUN_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/side_executor.h"
#include "daemon/power/power_feed.h"
#include "daemon/profiler/inference_backend.h"
#include "daemon/profiler/run_event_log.h"
#include "daemon/store/run_store.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

struct ProfileRunConfig {
  // Grid carbon intensity for the carbon estimate, g CO2e per kWh.
  double grid_intensity_g_per_kwh = 400;
  // Power interval when the request gives none, ms.
  uint32_t default_power_interval_ms = 100;
  // How long to wait for a sample covering the end of the run (and of the idle baseline).
  absl::Duration post_roll_timeout = absl::Seconds(3);
  // Final token records are saved in batches of this many.
  int store_batch_tokens = 16;
};

struct ProfileRunInputs {
  std::string run_id;
  // Validated (RunManager), with its seed set. ExecuteProfileRun fills the other defaults
  // (FillRequestDefaults) if they are not filled in already.
  v1::ProfileRequest request;
  // The model as the catalog describes it.
  v1::ModelInfo model;
  uint32_t queue_position = 0;
  // Returns the model, loading it if it is not resident (then `progress` is called and
  // *loaded_now set to true).
  std::function<absl::StatusOr<std::shared_ptr<LoadedModel>>(
      const std::function<void(const LoadProgress&)>& progress, bool* loaded_now)>
      acquire_model;
  // Set to stop the run between tokens; it is then saved as cancelled.
  const std::atomic<bool>* cancel = nullptr;
  // Why it was cancelled ("the client disconnected", "eprofd is shutting down"); read when
  // `cancel` is seen set.
  std::function<std::string()> cancel_reason;
};

struct ProfileRunDeps {
  // The live power source, or null when there is none (the run then has no energy figures).
  PowerFeed* power = nullptr;
  store::RunStore* store = nullptr;
  RunEventLog* events = nullptr;
  Clock* clock = Clock::Real();
  // Runs each decode token's bookkeeping (its text, live event and rows) beside the next step:
  // eprofd passes the engine's (EngineBackend::BesideExecutor()).
  SideExecutor* side = SideExecutor::Inline();
};

struct ProfileRunResult {
  v1::RunSummary summary;
  // Why the run failed: INVALID_ARGUMENT for a request found bad once the prompt was tokenized
  // (too long for the context), the engine's or the store's error otherwise; OK for completed
  // and cancelled runs.
  absl::Status status;
};

ProfileRunResult ExecuteProfileRun(const ProfileRunInputs& inputs, const ProfileRunDeps& deps,
                                   const ProfileRunConfig& config);

// The summary a run starts from, the one home of the fields every run's summary carries from its
// request (run id, request, model, detail, tags, experiment, grid intensity, creation time):
// ExecuteProfileRun starts from it, and so does RunManager for a run cancelled while queued.
v1::RunSummary NewRunSummary(const std::string& run_id, const v1::ProfileRequest& request,
                             const v1::ModelInfo& model, const ProfileRunConfig& config);

// The RunStarted event of a run with this summary (queue_position is the caller's to set): for
// a live run and for a stored one replayed (ProfilerService's Watch of a finished run).
v1::RunStarted RunStartedOf(const v1::RunSummary& summary);

// The one home of a request's defaults (profiler.proto documents them): detail tokens,
// idle_baseline_ms 1000, add_special_tokens true. Fields already set are left alone (calling it
// twice changes nothing). power_interval_ms 0 stays 0 ("the daemon's default", which the run
// reads from ProfileRunConfig); an unset seed is the caller's to draw.
void FillRequestDefaults(v1::ProfileRequest* request);

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_PROFILE_RUN_H_
