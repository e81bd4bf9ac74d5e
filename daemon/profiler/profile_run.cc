#include "daemon/profiler/profile_run.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "daemon/profiler/run_events.h"
#include "daemon/profiler/run_figures.h"
#include "daemon/profiler/run_power.h"
#include "daemon/profiler/run_timeline.h"
#include "daemon/profiler/stop_reason.h"
#include "daemon/profiler/store_writer.h"
#include "daemon/profiler/token_pipeline.h"

namespace eprof::daemon {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

// One run: its parts (events, power window, timeline, token pipeline, rows to store) and the
// phase functions that run in order. Each phase function returns the error that ends the run
// early (OK otherwise); Execute ends every run in one Finish.
class ProfileRun {
 public:
  ProfileRun(const ProfileRunInputs& in, const ProfileRunDeps& deps, const ProfileRunConfig& config)
      : in_(in), deps_(deps), config_(config), clock_(deps.clock),
        events_(in.run_id, deps.events, deps.clock), writer_(deps.store, in.run_id),
        rows_(&writer_, config.store_batch_tokens),
        power_(deps.power, IntervalNs(in.request, config), config.post_roll_timeout, &events_,
               &rows_),
        timeline_(&events_, &power_, &rows_),
        tokens_(in.request.detail(), {&events_, &power_, &rows_, &timeline_, deps.side, clock_}) {}

  ProfileRunResult Execute();

 private:
  static int64_t IntervalNs(const v1::ProfileRequest& request, const ProfileRunConfig& config) {
    return static_cast<int64_t>(request.power_interval_ms() != 0
                                    ? request.power_interval_ms()
                                    : config.default_power_interval_ms) * kNsPerMs;
  }
  bool Cancelled() const { return in_.cancel != nullptr && in_.cancel->load(); }

  // The phases, in order; the first error ends the run (Finish).
  absl::Status RunPhases();
  // model_load: a phase only when the model is not resident.
  absl::StatusOr<std::shared_ptr<LoadedModel>> LoadModel();
  absl::Status WarmUp(LoadedModel* model);
  // Sets stop_reason_ to kCancelled when the run is cancelled during it.
  void IdleBaseline();
  // pre_inference[tokenize]: the prompt's ids, the generation begun.
  absl::Status PreInference(LoadedModel* model);
  // prefill, decode.
  absl::Status Inference(LoadedModel* model);
  // post_inference[save].
  absl::Status PostInference();
  // The prompt must fit the context with max_new_tokens.
  absl::Status CheckContext(const LoadedModel& model, size_t prompt_tokens) const;
  // Post-roll, final figures, the stored summary and the RunSummary event. `error` (OK for a
  // completed or cancelled run) is the run's outcome.
  ProfileRunResult Finish(absl::Status error);

  const ProfileRunInputs& in_;
  const ProfileRunDeps& deps_;
  const ProfileRunConfig& config_;
  Clock* const clock_;
  v1::RunSummary summary_;
  StopReason stop_reason_ = StopReason::kMaxNewTokens;
  RunEvents events_;
  StoreWriter writer_;
  RowBatch rows_;
  RunPower power_;
  RunTimeline timeline_;
  TokenPipeline tokens_;
};

ProfileRunResult ProfileRun::Execute() {
  summary_ = NewRunSummary(in_.run_id, in_.request, in_.model, config_);
  summary_.set_status(v1::RUN_STATUS_RUNNING);
  if (deps_.power != nullptr) {
    PowerFeedState state = deps_.power->state();
    summary_.set_power_source(state.source);
    for (const v1::Channel& c : state.channels) *summary_.add_channels() = c;
  }
  if (absl::Status s = deps_.store->CreateRun(summary_); !s.ok()) {
    // Nothing was recorded, so there is nothing to finish.
    summary_.set_status(v1::RUN_STATUS_FAILED);
    summary_.set_error(absl::StrCat("the run could not be recorded: ", s.message()));
    v1::ProfileEvent e;
    *e.mutable_summary() = summary_;
    events_.Emit(e);
    return {summary_, s};
  }
  v1::ProfileEvent started;
  *started.mutable_run_started() = RunStartedOf(summary_);
  started.mutable_run_started()->set_queue_position(in_.queue_position);
  events_.Emit(started);
  power_.Start();
  return Finish(RunPhases());
}

absl::Status ProfileRun::RunPhases() {
  EPROF_ASSIGN_OR_RETURN(const std::shared_ptr<LoadedModel> model, LoadModel());
  summary_.set_device(model->device());
  summary_.set_dtype(model->dtype());
  summary_.set_timing_method(model->timing_method());
  EPROF_RETURN_IF_ERROR(WarmUp(model.get()));
  IdleBaseline();
  if (stop_reason_ == StopReason::kCancelled) return absl::OkStatus();
  EPROF_RETURN_IF_ERROR(PreInference(model.get()));
  EPROF_RETURN_IF_ERROR(Inference(model.get()));
  return PostInference();
}

absl::StatusOr<std::shared_ptr<LoadedModel>> ProfileRun::LoadModel() {
  // The phase starts when the model is asked for, and exists only once progress shows a load.
  const int64_t load_start = clock_->NowNs();
  bool phase_open = false;
  int64_t last_progress_ns = 0;
  auto progress = [&](const LoadProgress& p) {
    if (!phase_open) {
      timeline_.BeginPhaseAt(v1::PHASE_MODEL_LOAD, load_start);
      phase_open = true;
    }
    const int64_t now = clock_->NowNs();
    const bool last = p.bytes_loaded >= p.bytes_total && p.tensors_loaded >= p.tensors_total;
    if (!last && now - last_progress_ns < 50 * kNsPerMs) return;  // at most 20 events/s
    last_progress_ns = now;
    v1::ProfileEvent e;
    v1::ModelLoading* ml = e.mutable_model_loading();
    ml->set_bytes_loaded(p.bytes_loaded);
    ml->set_bytes_total(p.bytes_total);
    ml->set_tensors_loaded(p.tensors_loaded);
    ml->set_tensors_total(p.tensors_total);
    events_.Emit(e);
  };
  bool loaded_now = false;
  absl::StatusOr<std::shared_ptr<LoadedModel>> model = in_.acquire_model(progress, &loaded_now);
  if (loaded_now && !phase_open) progress(LoadProgress{});
  if (phase_open) timeline_.EndPhase();
  return model;
}

absl::Status ProfileRun::CheckContext(const LoadedModel& model, size_t prompt_tokens) const {
  const uint32_t max_new = in_.request.max_new_tokens();
  const uint64_t needed = prompt_tokens + static_cast<uint64_t>(max_new);
  if (model.context_length() > 0 && needed > model.context_length()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the prompt has ", prompt_tokens, " tokens; with max_new_tokens ", max_new, " that is ",
        needed, ", more than the model's context of ", model.context_length(),
        " tokens: shorten the prompt or lower max_new_tokens"));
  }
  return absl::OkStatus();
}

absl::Status ProfileRun::WarmUp(LoadedModel* model) {
  const v1::ProfileRequest& req = in_.request;
  if (req.warmup_runs() == 0) return absl::OkStatus();
  timeline_.BeginPhase(v1::PHASE_WARMUP);
  EPROF_ASSIGN_OR_RETURN(const std::vector<int32_t> ids,
                         model->Tokenize(req.prompt(), req.add_special_tokens()));
  EPROF_RETURN_IF_ERROR(CheckContext(*model, ids.size()));
  for (uint32_t w = 0; w < req.warmup_runs() && !Cancelled(); ++w) {
    EPROF_RETURN_IF_ERROR(model->Begin(ids, req.sampling(),
                                       static_cast<int32_t>(req.max_new_tokens()),
                                       v1::DETAIL_LEVEL_PHASES));
    EPROF_RETURN_IF_ERROR(
        GenerateUnrecorded(model, req.max_new_tokens(), [this] { return Cancelled(); }));
  }
  timeline_.EndPhase();
  return absl::OkStatus();
}

void ProfileRun::IdleBaseline() {
  const uint32_t idle_ms = in_.request.idle_baseline_ms();
  if (idle_ms == 0) {
    events_.Warn("no_idle_baseline", "the idle baseline was skipped (idle_baseline_ms = 0): "
                                     "dynamic energy equals total energy");
  } else {
    timeline_.BeginPhase(v1::PHASE_IDLE_BASELINE);
    const int64_t start = timeline_.phase_start_ns();
    const int64_t until = start + idle_ms * kNsPerMs;
    while (clock_->NowNs() < until && !Cancelled()) {
      clock_->SleepUntilNs(std::min(until, clock_->NowNs() + 20 * kNsPerMs));
    }
    // The baseline is the median over the windows lying inside the idle phase as it is stored
    // (profiler.proto, ChannelPower.baseline_power_mw), so the phase ends where the samples
    // that have arrived end: wait (the machine still idle) for the window covering the end of
    // the sleep, then close the phase at the end of the last window in, so that every window
    // inside the phase is one the baseline saw. A cancelled run waits no longer.
    power_.AwaitCoverage(Cancelled() ? clock_->NowNs() : until);
    power_.Drain();
    const int64_t end =
        std::min(clock_->NowNs(), std::max(until, power_.timeline().covered_until_ns()));
    timeline_.EndPhaseAt(end);
    power_.MeasureBaseline(start, end);
    if (power_.baseline().empty() && !power_.timeline().channels().empty()) {
      events_.Warn("no_idle_baseline",
                   "no power sample covered the idle baseline: dynamic energy equals total energy");
    }
  }
  if (Cancelled()) stop_reason_ = StopReason::kCancelled;
}

absl::Status ProfileRun::PreInference(LoadedModel* model) {
  const v1::ProfileRequest& req = in_.request;
  timeline_.BeginPhase(v1::PHASE_PRE_INFERENCE);
  EPROF_ASSIGN_OR_RETURN(const std::vector<int32_t> ids, timeline_.Section("tokenize", [&] {
    return model->Tokenize(req.prompt(), req.add_special_tokens());
  }));
  summary_.set_input_tokens(static_cast<uint32_t>(ids.size()));
  EPROF_RETURN_IF_ERROR(CheckContext(*model, ids.size()));
  // The generator's set-up (the prompt as a tensor on the device, the KV cache) is the rest of
  // pre_inference; it is not a section of its own.
  EPROF_RETURN_IF_ERROR(model->Begin(ids, req.sampling(),
                                     static_cast<int32_t>(req.max_new_tokens()), req.detail()));
  timeline_.EndPhase();
  // The prompt's token count is known only now: store it, so that a run eprofd does not live to
  // finish can have its figures rebuilt at the next start (interrupted_runs.h). Between phases,
  // before the first forward pass; a failure here shows again in the final write.
  (void)deps_.store->UpdateSummary(summary_);
  return absl::OkStatus();
}

absl::Status ProfileRun::Inference(LoadedModel* model) {
  timeline_.BeginPhase(v1::PHASE_PREFILL);
  absl::Status generated = tokens_.Generate(model, in_.request.max_new_tokens(),
                                            [this] { return Cancelled(); }, &stop_reason_);
  if (timeline_.open()) {  // decode ends with its last token (a failed prefill: now)
    timeline_.EndPhaseAt(timeline_.phase() == v1::PHASE_DECODE ? tokens_.last_token_end_ns()
                                                               : clock_->NowNs());
  }
  EPROF_RETURN_IF_ERROR(generated);
  return writer_.error();
}

absl::Status ProfileRun::PostInference() {
  // The output text was built token by token: nothing is decoded a second time.
  timeline_.BeginPhase(v1::PHASE_POST_INFERENCE);
  rows_.Queue(/*force=*/true);
  absl::Status saved = timeline_.Section("save", [&] { return writer_.Flush(); });
  timeline_.EndPhase();
  return saved;
}

ProfileRunResult ProfileRun::Finish(absl::Status error) {
  if (timeline_.open()) timeline_.EndPhase();  // the run stopped inside it
  const int64_t end_ns = timeline_.end_ns() >= 0 ? timeline_.end_ns() : clock_->NowNs();
  // Post-roll: wait for a sample covering the end of the run.
  if (power_.connected() && !power_.AwaitCoverage(end_ns)) {
    events_.Warn("incomplete_post_roll",
                 absl::StrFormat("no power sample covered the end of the run within %s: the "
                                 "last part of the run has no energy",
                                 absl::FormatDuration(config_.post_roll_timeout)));
  }
  power_.Stop();
  power_.Drain();
  tokens_.FinalizeAll();

  const bool cancelled = error.ok() && stop_reason_ == StopReason::kCancelled;
  if (cancelled && in_.cancel_reason) {
    events_.Warn("cancelled", absl::StrCat("the run was cancelled: ", in_.cancel_reason()));
  }
  const std::vector<v1::PhaseRecord> phases = timeline_.Records();
  summary_.set_status(!error.ok() ? v1::RUN_STATUS_FAILED
                      : cancelled ? v1::RUN_STATUS_CANCELLED
                                  : v1::RUN_STATUS_COMPLETED);
  summary_.set_stop_reason(
      std::string(StopReasonName(error.ok() ? stop_reason_ : StopReason::kError)));
  summary_.set_output_text(tokens_.text());
  summary_.set_output_tokens(tokens_.tokens());
  FillRunFigures(power_.timeline(), power_.baseline(), phases, config_.grid_intensity_g_per_kwh,
                 &summary_);
  if (!error.ok()) summary_.set_error(std::string(error.message()));
  if (power_.timeline().window_count() > 0 && summary_.power_gap_s() > 0) {
    events_.Warn("power_gap_total", absl::StrFormat("%.3f s of the run were not covered by power "
                                                    "samples",
                                                    summary_.power_gap_s()));
  }
  summary_.clear_warnings();
  for (const v1::Warning& w : events_.warnings()) *summary_.add_warnings() = w;
  rows_.rows().phases = phases;
  rows_.Queue(/*force=*/true);
  absl::Status saved = writer_.Flush();
  if (saved.ok()) saved = deps_.store->UpdateSummary(summary_);
  if (!saved.ok()) {
    // Saving failed (disk full, read-only): the run fails, and says why. Earlier runs are
    // untouched (every write is its own transaction).
    summary_.set_status(v1::RUN_STATUS_FAILED);
    summary_.set_error(absl::StrCat("the run could not be saved: ", saved.message()));
    (void)deps_.store->UpdateSummary(summary_);  // a small write that may still fit
    if (error.ok()) error = saved;
  }
  v1::ProfileEvent e;
  *e.mutable_summary() = summary_;
  // The phases as GetRun gives them (with the layer sums the store keeps), so that a client
  // needs no other call; the ones built here when the store cannot give them.
  v1::RunParts parts;
  parts.set_phases(true);
  parts.set_components(true);
  absl::StatusOr<v1::GetRunResponse> stored =
      saved.ok() ? deps_.store->GetRun(in_.run_id, parts)
                 : absl::StatusOr<v1::GetRunResponse>(saved);
  if (stored.ok()) {
    *e.mutable_final_phases() = std::move(*stored->mutable_phases());
  } else {
    for (const v1::PhaseRecord& p : phases) *e.add_final_phases() = p;
  }
  events_.Emit(e);
  return {summary_, error};
}

}  // namespace

ProfileRunResult ExecuteProfileRun(const ProfileRunInputs& inputs, const ProfileRunDeps& deps,
                                   const ProfileRunConfig& config) {
  ProfileRunInputs filled = inputs;
  FillRequestDefaults(&filled.request);
  ProfileRun run(filled, deps, config);
  return run.Execute();
}

v1::RunSummary NewRunSummary(const std::string& run_id, const v1::ProfileRequest& request,
                             const v1::ModelInfo& model, const ProfileRunConfig& config) {
  v1::RunSummary s;
  s.set_run_id(run_id);
  s.set_created_at_unix_ms(WallClockUnixMs());
  *s.mutable_request() = request;
  *s.mutable_model() = model;
  s.set_detail(request.detail());
  *s.mutable_tags() = request.tags();
  s.set_experiment(request.experiment());
  s.set_grid_intensity_g_per_kwh(config.grid_intensity_g_per_kwh);
  return s;
}

v1::RunStarted RunStartedOf(const v1::RunSummary& summary) {
  v1::RunStarted rs;
  rs.set_run_id(summary.run_id());
  rs.set_created_at_unix_ms(summary.created_at_unix_ms());
  *rs.mutable_request() = summary.request();
  *rs.mutable_model() = summary.model();
  *rs.mutable_channels() = summary.channels();
  rs.set_power_source(summary.power_source());
  return rs;
}

void FillRequestDefaults(v1::ProfileRequest* request) {
  if (request->detail() == v1::DETAIL_LEVEL_UNSPECIFIED) {
    request->set_detail(v1::DETAIL_LEVEL_TOKENS);
  }
  if (!request->has_idle_baseline_ms()) request->set_idle_baseline_ms(1000);
  if (!request->has_add_special_tokens()) request->set_add_special_tokens(true);
}

}  // namespace eprof::daemon
