#include "daemon/profiler/profile_run.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "daemon/profiler/power_timeline.h"
#include "daemon/profiler/run_figures.h"
#include "daemon/profiler/span_recorder.h"
#include "daemon/profiler/stop_reason.h"
#include "daemon/profiler/store_writer.h"
#include "google/protobuf/arena.h"

namespace eprof::daemon {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

// Forwards the engine's spans to the current token's SpanRecorder.
class RecorderObserver final : public SpanObserver {
 public:
  void set(SpanRecorder* recorder) { recorder_ = recorder; }
  void BeginLayer(int32_t layer, int64_t t_ns) override { recorder_->BeginLayer(layer, t_ns); }
  void EndLayer(int32_t layer, int64_t t_ns) override { recorder_->EndLayer(layer, t_ns); }
  void BeginComponent(int32_t layer, v1::Component c, int64_t t_ns) override {
    recorder_->BeginComponent(layer, c, t_ns);
  }
  void EndComponent(int32_t layer, v1::Component c, int64_t t_ns) override {
    recorder_->EndComponent(layer, c, t_ns);
  }
  void ComponentStats(int32_t layer, v1::Component c, const v1::ActivationStats& stats) override {
    recorder_->ComponentStats(layer, c, stats);
  }
  void AttentionStats(int32_t layer, const std::vector<v1::AttentionHeadStats>& heads) override {
    recorder_->AttentionStats(layer, heads);
  }
  void LayerOutputStats(int32_t layer, const v1::ActivationStats& stats) override {
    recorder_->LayerOutputStats(layer, stats);
  }

 private:
  SpanRecorder* recorder_ = nullptr;
};

struct PhaseSpan {
  v1::Phase phase;
  int64_t start_ns;
  int64_t end_ns;
  std::vector<v1::SectionRecord> sections;
};

// One block for a token event of a large model at detail components (~400 messages for 30
// layers; more blocks of the same size as needed).
google::protobuf::ArenaOptions TokenArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 64 << 10;
  return options;
}

class ProfileRun {
 public:
  ProfileRun(const ProfileRunInputs& in, const ProfileRunDeps& deps, const ProfileRunConfig& config)
      : in_(in), deps_(deps), config_(config), clock_(deps.clock), detail_(in.request.detail()),
        timeline_(std::vector<v1::Channel>()) {}

  ProfileRunResult Execute();

 private:
  // --- events and warnings (thread-safe: the power feed's thread calls them too) ---
  // Logs `event` (its wire form: the message can be reused afterwards).
  void Emit(v1::ProfileEvent& event) {
    event.set_t_ns(clock_->NowNs());
    deps_.events->Append(event);
  }
  void Warn(const std::string& code, const std::string& message) {
    v1::Warning w;
    w.set_code(code);
    w.set_message(message);
    w.set_t_ns(clock_->NowNs());
    {
      absl::MutexLock lock(&mu_);
      warnings_.push_back(w);
    }
    EPROF_LOG(WARNING) << "run " << in_.run_id << ": " << message;
    v1::ProfileEvent e;
    *e.mutable_warning() = std::move(w);
    Emit(e);
  }

  // --- phases ---
  // Phases tile the run: each starts where the previous one ended, so that the work between
  // them (events, bookkeeping) belongs to a phase and the phases sum to the run.
  void BeginPhase(v1::Phase phase) {
    int64_t start = !phases_.empty() && phases_.back().end_ns >= 0 ? phases_.back().end_ns
                                                                    : clock_->NowNs();
    phases_.push_back({phase, start, -1, {}});
    v1::ProfileEvent e;
    e.mutable_phase_started()->set_phase(phase);
    e.mutable_phase_started()->set_start_ns(start);
    Emit(e);
  }
  void EndPhase() { EndPhaseAt(clock_->NowNs()); }
  void EndPhaseAt(int64_t end_ns) {
    PhaseSpan& p = phases_.back();
    p.end_ns = end_ns;
    DrainSamples();
    v1::ProfileEvent e;
    *e.mutable_phase_ended()->mutable_phase() =
        BuildPhase(p.phase, p.start_ns, p.end_ns, p.sections, timeline_, baseline_);
    // Stored with the next batch of rows (provisional energy; Finish writes the final one), so
    // that a run eprofd does not live to finish keeps its phases (interrupted_runs.h).
    rows_.phases.push_back(e.phase_ended().phase());
    Emit(e);
  }
  // Runs `body` as section `name` of the current phase.
  template <typename F>
  auto Section(const std::string& name, F&& body) {
    PhaseSpan& p = phases_.back();
    v1::SectionRecord s;
    s.set_phase(p.phase);
    s.set_name(name);
    s.set_start_ns(clock_->NowNs());
    v1::ProfileEvent started;
    started.mutable_section_started()->set_phase(p.phase);
    started.mutable_section_started()->set_name(name);
    started.mutable_section_started()->set_start_ns(s.start_ns());
    Emit(started);
    auto result = body();
    s.set_end_ns(clock_->NowNs());
    v1::ProfileEvent ended;
    *ended.mutable_section_ended()->mutable_section() = s;
    Emit(ended);
    phases_.back().sections.push_back(std::move(s));
    return result;
  }

  // --- power ---
  void StartPower();
  void StopPower();
  // Moves samples that arrived since the last call into the timeline and the save batch.
  void DrainSamples();
  // Waits for a sample covering `t_ns`, then takes what the feed holds beyond the timeline (a
  // listener may deliver a sample after the feed reports it). Returns whether it was covered.
  bool AwaitCoverage(int64_t t_ns) {
    if (deps_.power == nullptr || !deps_.power->state().connected) return false;
    bool covered = deps_.power->WaitForCoverage(t_ns, config_.post_roll_timeout);
    DrainSamples();
    std::vector<v1::PowerSample> more = deps_.power->SamplesSince(timeline_.covered_until_ns());
    {
      absl::MutexLock lock(&mu_);
      arrived_.insert(arrived_.end(), more.begin(), more.end());
    }
    DrainSamples();
    return covered;
  }
  int64_t interval_ns() const {
    return static_cast<int64_t>(in_.request.power_interval_ms() != 0
                                    ? in_.request.power_interval_ms()
                                    : config_.default_power_interval_ms) * kNsPerMs;
  }

  // --- tokens ---
  absl::Status Generate(LoadedModel* model, bool measured, std::vector<int32_t>* out_ids,
                        StopReason* stop_reason);
  absl::Status GenerateTokens(LoadedModel* model, bool measured, std::vector<int32_t>* out_ids,
                              StopReason* stop_reason);
  // Gives the token its text (and the run's output) and its end.
  void EndToken(SpanRecorder* recorder, const GeneratedToken& token, int64_t end_ns);
  // The token's live event (TokenCompleted), with the samples that have arrived. Its stored
  // rows follow once a sample covers it (FinalizeCoveredTokens).
  void EmitToken(SpanRecorder* recorder);
  void FinalizeCoveredTokens(bool force);
  SpanRecorder* NewRecorder();
  void QueueRows(bool force);

  bool Cancelled() const { return in_.cancel != nullptr && in_.cancel->load(); }
  ProfileRunResult Finish(v1::RunStatus status, absl::Status error, StopReason stop_reason);

  const ProfileRunInputs& in_;
  const ProfileRunDeps& deps_;
  const ProfileRunConfig& config_;
  Clock* clock_;
  const v1::DetailLevel detail_;

  v1::RunSummary summary_;
  std::vector<PhaseSpan> phases_;
  PowerTimeline timeline_;
  Baseline baseline_;
  std::unique_ptr<StoreWriter> writer_;
  store::RunRows rows_;
  int pending_token_rows_ = 0;
  store::TokenLayers layers_scratch_;  // for BuildRow
  // Every TokenCompleted event, reused: its ~400 layer and component messages are allocated once,
  // side by side in the arena, so that building and serializing each token's event walks
  // contiguous memory rather than ~400 scattered heap blocks the forward pass has evicted.
  google::protobuf::Arena token_arena_{TokenArenaOptions()};
  v1::ProfileEvent& token_event_ =
      *google::protobuf::Arena::CreateMessage<v1::ProfileEvent>(&token_arena_);

  // Token recorders: the current one, those waiting for samples to cover them, and spares.
  std::deque<std::unique_ptr<SpanRecorder>> waiting_;
  std::vector<std::unique_ptr<SpanRecorder>> spare_;
  RecorderObserver observer_;
  // A decode token whose text, live event and rows wait to be done beside the next step
  // (GenerateTokens).
  struct PendingToken {
    SpanRecorder* recorder;
    GeneratedToken token;
    int64_t end_ns;
  };
  std::optional<PendingToken> pending_;
  const std::function<void()> finish_pending_ = [this] {
    EndToken(pending_->recorder, pending_->token, pending_->end_ns);
    EmitToken(pending_->recorder);
    FinalizeCoveredTokens(false);
  };
  std::unique_ptr<TextStream> text_stream_;
  std::string output_text_;
  uint32_t tokens_done_ = 0;
  int64_t last_token_end_ns_ = -1;

  int listener_id_ = -1;
  bool sample_error_logged_ = false;

  absl::Mutex mu_;
  std::vector<v1::PowerSample> arrived_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Warning> warnings_ ABSL_GUARDED_BY(mu_);
};

void ProfileRun::StartPower() {
  if (deps_.power == nullptr) {
    Warn("no_power_source",
         "no power source is configured: the run has timings but no energy figures");
    return;
  }
  // The run's interval first: a feed still on a previous run's long interval resubscribes now,
  // and the wait below lets its first sample at this interval arrive before anything is judged.
  const PowerFeedState before = deps_.power->state();
  deps_.power->SetInterval(static_cast<uint32_t>(interval_ns() / kNsPerMs));
  int64_t t0 = clock_->NowNs();
  listener_id_ = deps_.power->AddListener(
      [this](const v1::PowerSample& s) {
        {
          absl::MutexLock lock(&mu_);
          arrived_.push_back(s);
        }
        v1::ProfileEvent e;
        *e.mutable_power_sample() = s;
        Emit(e);
      },
      [this](bool connected, const std::string& error) {
        if (connected) {
          Warn("helper_reconnected",
               "the power helper is back; energy is missing for the time it was away");
        } else {
          Warn("power_gap", absl::StrCat("lost the power helper (", error,
                                         "): energy is missing until it comes back"));
        }
      });
  // Start measuring once a window covering t0 is in: samples that arrived before we subscribed
  // come from the feed's ring, so the first phase is covered from its first instant. A feed that
  // is away (an error known) is not waited for.
  const bool reachable = before.connected || before.error.empty();
  const bool covered = reachable && deps_.power->WaitForCoverage(t0, config_.post_roll_timeout);
  PowerFeedState state = deps_.power->state();
  if (!state.connected) {
    Warn("no_power_helper",
         absl::StrCat("the power helper is not reachable (",
                      state.error.empty() ? "no sample arrived in time" : state.error,
                      "): the run goes ahead with timings but no energy figures"));
  }
  timeline_ = PowerTimeline(state.channels);
  for (const v1::Channel& c : state.channels) {
    if (c.quality() == v1::QUALITY_ESTIMATED) {
      Warn("estimated_power",
           absl::StrCat("power comes from the '", state.source,
                        "' source, an estimate (CPU utilisation × TDP), not a measurement"));
      break;
    }
  }
  if (covered) {
    std::vector<v1::PowerSample> earlier = deps_.power->SamplesSince(t0 - 2 * interval_ns());
    absl::MutexLock lock(&mu_);
    arrived_.insert(arrived_.begin(), earlier.begin(), earlier.end());
  }
}

void ProfileRun::StopPower() {
  if (deps_.power != nullptr && listener_id_ >= 0) deps_.power->RemoveListener(listener_id_);
  listener_id_ = -1;
}

void ProfileRun::DrainSamples() {
  std::vector<v1::PowerSample> arrived;
  {
    absl::MutexLock lock(&mu_);
    arrived.swap(arrived_);
  }
  // Samples from the ring and from the listener may repeat each other: keep time order, skip
  // windows already in the timeline.
  std::stable_sort(arrived.begin(), arrived.end(), [](const v1::PowerSample& a, const v1::PowerSample& b) {
    return a.t_end_ns() < b.t_end_ns();
  });
  for (v1::PowerSample& s : arrived) {
    if (s.t_end_ns() <= timeline_.covered_until_ns()) continue;
    absl::Status st = timeline_.Add(s);
    if (!st.ok()) {
      // A resubscription can restart windows that overlap the last one: skip, say once.
      if (!sample_error_logged_) EPROF_LOG(WARNING) << "run " << in_.run_id << ": " << st;
      sample_error_logged_ = true;
      continue;
    }
    rows_.samples.push_back(std::move(s));
  }
}

SpanRecorder* ProfileRun::NewRecorder() {
  if (!spare_.empty()) {
    waiting_.push_back(std::move(spare_.back()));
    spare_.pop_back();
  } else {
    waiting_.push_back(std::make_unique<SpanRecorder>(detail_));
  }
  return waiting_.back().get();
}

void ProfileRun::QueueRows(bool force) {
  if (force || pending_token_rows_ >= config_.store_batch_tokens) {
    writer_->Enqueue(std::move(rows_));
    rows_ = store::RunRows();
    pending_token_rows_ = 0;
  }
}

// Turns recorders whose token a sample now covers into final rows (all of them when `force`).
void ProfileRun::FinalizeCoveredTokens(bool force) {
  while (!waiting_.empty()) {
    SpanRecorder* r = waiting_.front().get();
    if (r->token_end_ns() < 0) break;  // the current token
    if (!force && timeline_.covered_until_ns() < r->token_end_ns()) break;
    r->BuildRow(timeline_, baseline_, &rows_.tokens.emplace_back(), &layers_scratch_,
                &rows_.token_layers.emplace_back());
    ++pending_token_rows_;
    spare_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  QueueRows(false);
}

void ProfileRun::EmitToken(SpanRecorder* recorder) {
  DrainSamples();
  // Built into the same message every token (the log keeps its wire form): its ~400 layer and
  // component messages at detail components are reused, not allocated and freed each time.
  v1::TokenCompleted* tc = token_event_.mutable_token();
  // A token that no sample covers yet goes out with its times and a provisional token energy;
  // its layers' and components' energies come with the stored run (GetRun), once final.
  const bool final = timeline_.covered_until_ns() >= recorder->token_end_ns();
  recorder->BuildInto(timeline_, baseline_, /*part_energies=*/final, tc->mutable_token());
  tc->set_energy_final(final);
  Emit(token_event_);
}

absl::Status ProfileRun::Generate(LoadedModel* model, bool measured, std::vector<int32_t>* out_ids,
                                  StopReason* stop_reason) {
  absl::Status status = GenerateTokens(model, measured, out_ids, stop_reason);
  if (pending_) finish_pending_();  // the last token (or the one before a stop or a failure)
  return status;
}

absl::Status ProfileRun::GenerateTokens(LoadedModel* model, bool measured,
                                        std::vector<int32_t>* out_ids, StopReason* stop_reason) {
  const v1::ProfileRequest& req = in_.request;
  bool spans = measured && detail_ >= v1::DETAIL_LEVEL_LAYERS;
  SpanObserver* observer = spans ? &observer_ : nullptr;
  uint32_t limit = req.max_new_tokens();
  static const std::function<void()> kNothing;
  // Token i starts where token i-1 ended (token 0 where prefill started), so the tokens tile
  // prefill and decode exactly.
  int64_t token_start = measured ? phases_.back().start_ns : 0;
  for (uint32_t i = 0; i < limit; ++i) {
    if (i > 0 && Cancelled()) {
      *stop_reason = StopReason::kCancelled;
      return absl::OkStatus();
    }
    SpanRecorder* rec = nullptr;
    if (measured) {
      if (i == 1) BeginPhase(v1::PHASE_DECODE);
      rec = NewRecorder();
      rec->BeginToken(i, i == 0 ? v1::PHASE_PREFILL : v1::PHASE_DECODE, token_start);
      observer_.set(rec);
    }
    // The token before is finished (text, live event, rows) beside this step, on a core the
    // step leaves idle (and whose wake-up would otherwise come late for the step), rather than
    // between the two steps. It touches nothing the step uses (`rec` is this token's recorder).
    absl::StatusOr<GeneratedToken> token =
        i == 0 ? model->Prefill(observer)
               : model->DecodeBeside(observer, pending_ ? finish_pending_ : kNothing);
    pending_.reset();  // DecodeBeside has run it
    if (!token.ok()) return token.status();
    if (!std::isfinite(token->probability)) {
      // NaN or infinite logits: every later token would be noise. Stop; what was measured up to
      // here is kept (this token is not recorded).
      return absl::FailedPreconditionError(absl::StrCat(
          "the model produced NaN (or infinite) logits at token ", i,
          ": its weights hold non-finite values, or the compute dtype overflowed (try "
          "--dtype float32)"));
    }
    out_ids->push_back(token->token_id);
    if (measured) {
      token_start = clock_->NowNs();
      tokens_done_ = i + 1;
      last_token_end_ns_ = token_start;
      if (i == 0) {
        EndToken(rec, *token, token_start);
        EndPhaseAt(token_start);  // prefill ends with its token
        EmitToken(rec);
        FinalizeCoveredTokens(false);
      } else {
        // Sending the live event from this thread instead wakes the streams onto this core,
        // where they preempt the next step: decode ran slower, and the event reached watchers
        // no sooner at the p99 (the watchers' wake-ups, not the wait for the worker, decide it).
        pending_ = PendingToken{rec, *token, token_start};
      }
    }
    if (model->IsEos(token->token_id)) {
      *stop_reason = StopReason::kEos;
      return absl::OkStatus();
    }
  }
  *stop_reason = StopReason::kMaxNewTokens;
  return absl::OkStatus();
}

void ProfileRun::EndToken(SpanRecorder* recorder, const GeneratedToken& token, int64_t end_ns) {
  std::string piece = text_stream_->Next(token.token_id);
  output_text_ += piece;
  recorder->EndToken(token.token_id, std::move(piece), token.probability, end_ns);
}

ProfileRunResult ProfileRun::Finish(v1::RunStatus status, absl::Status error,
                                    StopReason stop_reason) {
  // Close the open phase, if the run stopped inside one.
  if (!phases_.empty() && phases_.back().end_ns < 0) EndPhase();
  int64_t end_ns = phases_.empty() ? clock_->NowNs() : phases_.back().end_ns;
  // Post-roll: wait for a sample covering the end of the run.
  if (deps_.power != nullptr && deps_.power->state().connected) {
    if (!AwaitCoverage(end_ns)) {
      Warn("incomplete_post_roll",
           absl::StrFormat("no power sample covered the end of the run within %s: the last "
                           "part of the run has no energy",
                           absl::FormatDuration(config_.post_roll_timeout)));
    }
  }
  StopPower();
  DrainSamples();
  FinalizeCoveredTokens(/*force=*/true);

  std::vector<v1::PhaseRecord> phases;
  for (const PhaseSpan& p : phases_) {
    phases.push_back(BuildPhase(p.phase, p.start_ns, p.end_ns, p.sections, timeline_, baseline_));
  }
  summary_.set_status(status);
  summary_.set_stop_reason(std::string(StopReasonName(stop_reason)));
  summary_.set_output_text(output_text_);
  summary_.set_output_tokens(tokens_done_);
  FillRunFigures(timeline_, baseline_, phases, config_.grid_intensity_g_per_kwh, &summary_);
  if (!error.ok()) summary_.set_error(std::string(error.message()));
  if (timeline_.window_count() > 0 && summary_.power_gap_s() > 0) {
    Warn("power_gap_total",
         absl::StrFormat("%.3f s of the run were not covered by power samples", summary_.power_gap_s()));
  }
  {
    absl::MutexLock lock(&mu_);
    summary_.clear_warnings();
    for (const v1::Warning& w : warnings_) *summary_.add_warnings() = w;
  }
  rows_.phases = phases;
  QueueRows(/*force=*/true);
  absl::Status saved = writer_->Flush();
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
  Emit(e);
  return {summary_, error};
}

ProfileRunResult ProfileRun::Execute() {
  const v1::ProfileRequest& req = in_.request;
  summary_ = NewRunSummary(in_.run_id, req, in_.model, config_);
  summary_.set_status(v1::RUN_STATUS_RUNNING);
  if (deps_.power != nullptr) {
    PowerFeedState state = deps_.power->state();
    summary_.set_power_source(state.source);
    for (const v1::Channel& c : state.channels) *summary_.add_channels() = c;
  }
  writer_ = std::make_unique<StoreWriter>(deps_.store, in_.run_id);
  if (absl::Status s = deps_.store->CreateRun(summary_); !s.ok()) {
    summary_.set_status(v1::RUN_STATUS_FAILED);
    summary_.set_error(absl::StrCat("the run could not be recorded: ", s.message()));
    v1::ProfileEvent e;
    *e.mutable_summary() = summary_;
    Emit(e);
    return {summary_, s};
  }
  {
    v1::ProfileEvent e;
    *e.mutable_run_started() = RunStartedOf(summary_);
    e.mutable_run_started()->set_queue_position(in_.queue_position);
    Emit(e);
  }
  StartPower();

  // model_load: a phase only when the model is not resident (PhaseStarted on first progress).
  int64_t load_start = clock_->NowNs();
  bool load_phase_open = false;
  int64_t last_progress_ns = 0;
  auto progress = [&](const LoadProgress& p) {
    if (!load_phase_open) {
      phases_.push_back({v1::PHASE_MODEL_LOAD, load_start, -1, {}});
      v1::ProfileEvent e;
      e.mutable_phase_started()->set_phase(v1::PHASE_MODEL_LOAD);
      e.mutable_phase_started()->set_start_ns(load_start);
      Emit(e);
      load_phase_open = true;
    }
    int64_t now = clock_->NowNs();
    bool last = p.bytes_loaded >= p.bytes_total && p.tensors_loaded >= p.tensors_total;
    if (!last && now - last_progress_ns < 50 * kNsPerMs) return;  // at most 20 events/s
    last_progress_ns = now;
    v1::ProfileEvent e;
    v1::ModelLoading* ml = e.mutable_model_loading();
    ml->set_bytes_loaded(p.bytes_loaded);
    ml->set_bytes_total(p.bytes_total);
    ml->set_tensors_loaded(p.tensors_loaded);
    ml->set_tensors_total(p.tensors_total);
    Emit(e);
  };
  bool loaded_now = false;
  absl::StatusOr<std::shared_ptr<LoadedModel>> acquired = in_.acquire_model(progress, &loaded_now);
  if (loaded_now && !load_phase_open) progress(LoadProgress{});
  if (load_phase_open) EndPhase();
  if (!acquired.ok()) return Finish(v1::RUN_STATUS_FAILED, acquired.status(), StopReason::kError);
  std::shared_ptr<LoadedModel> model = *acquired;
  summary_.set_device(model->device());
  summary_.set_dtype(model->dtype());
  summary_.set_timing_method(model->timing_method());
  text_stream_ = model->NewTextStream();
  SamplingOptions sampling;
  sampling.temperature = req.sampling().temperature();
  sampling.top_k = req.sampling().top_k();
  sampling.top_p = req.sampling().top_p();
  sampling.seed = req.sampling().seed();
  const bool add_special = req.add_special_tokens();

  // The prompt must fit the context with max_new_tokens; checked where it is first tokenized.
  auto check_context = [&](const std::vector<int32_t>& ids) -> absl::Status {
    uint64_t needed = ids.size() + static_cast<uint64_t>(req.max_new_tokens());
    if (model->context_length() > 0 && needed > model->context_length()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the prompt has ", ids.size(), " tokens; with max_new_tokens ", req.max_new_tokens(),
          " that is ", needed, ", more than the model's context of ", model->context_length(),
          " tokens: shorten the prompt or lower max_new_tokens"));
    }
    return absl::OkStatus();
  };

  if (req.warmup_runs() > 0) {
    BeginPhase(v1::PHASE_WARMUP);
    absl::StatusOr<std::vector<int32_t>> warm_ids = model->Tokenize(req.prompt(), add_special);
    if (!warm_ids.ok()) {
      return Finish(v1::RUN_STATUS_FAILED, warm_ids.status(), StopReason::kError);
    }
    if (absl::Status s = check_context(*warm_ids); !s.ok()) {
      return Finish(v1::RUN_STATUS_FAILED, s, StopReason::kError);
    }
    for (uint32_t w = 0; w < req.warmup_runs() && !Cancelled(); ++w) {
      std::vector<int32_t> ids;
      StopReason reason = StopReason::kMaxNewTokens;  // warm-up runs keep no stop reason
      absl::Status s = model->Begin(*warm_ids, sampling, static_cast<int32_t>(req.max_new_tokens()),
                                    v1::DETAIL_LEVEL_PHASES);
      if (s.ok()) s = Generate(model.get(), /*measured=*/false, &ids, &reason);
      if (!s.ok()) return Finish(v1::RUN_STATUS_FAILED, s, StopReason::kError);
    }
    EndPhase();
  }

  const uint32_t idle_ms = req.idle_baseline_ms();
  if (idle_ms > 0) {
    BeginPhase(v1::PHASE_IDLE_BASELINE);
    int64_t idle_start = phases_.back().start_ns;
    int64_t until = idle_start + idle_ms * kNsPerMs;
    while (clock_->NowNs() < until && !Cancelled()) {
      clock_->SleepUntilNs(std::min(until, clock_->NowNs() + 20 * kNsPerMs));
    }
    // The baseline is the median over the windows lying inside the idle phase as it is stored
    // (profiler.proto, ChannelPower.baseline_power_mw), so the phase ends where the samples
    // that have arrived end: wait (the machine still idle) for the window covering the end of
    // the sleep, then close the phase at the end of the last window in, so that every window
    // inside the phase is one the baseline saw.
    AwaitCoverage(Cancelled() ? clock_->NowNs() : until);  // a cancelled run waits no longer
    DrainSamples();
    const int64_t idle_end = std::min(clock_->NowNs(), std::max(until, timeline_.covered_until_ns()));
    EndPhaseAt(idle_end);
    baseline_ = timeline_.MedianPower(idle_start, idle_end);
    if (baseline_.empty() && !timeline_.channels().empty()) {
      Warn("no_idle_baseline",
           "no power sample covered the idle baseline: dynamic energy equals total energy");
    }
  } else {
    Warn("no_idle_baseline",
         "the idle baseline was skipped (idle_baseline_ms = 0): dynamic energy equals total energy");
  }
  if (Cancelled()) {
    return Finish(v1::RUN_STATUS_CANCELLED, absl::OkStatus(), StopReason::kCancelled);
  }

  BeginPhase(v1::PHASE_PRE_INFERENCE);
  absl::StatusOr<std::vector<int32_t>> ids =
      Section("tokenize", [&] { return model->Tokenize(req.prompt(), add_special); });
  if (!ids.ok()) return Finish(v1::RUN_STATUS_FAILED, ids.status(), StopReason::kError);
  summary_.set_input_tokens(static_cast<uint32_t>(ids->size()));
  if (absl::Status s = check_context(*ids); !s.ok()) {
    return Finish(v1::RUN_STATUS_FAILED, s, StopReason::kError);
  }
  // The generator's set-up (the prompt as a tensor on the device, the KV cache) is the rest of
  // pre_inference; it is not a section of its own.
  absl::Status begun =
      model->Begin(*ids, sampling, static_cast<int32_t>(req.max_new_tokens()), detail_);
  EndPhase();
  if (!begun.ok()) return Finish(v1::RUN_STATUS_FAILED, begun, StopReason::kError);
  // The prompt's token count is known only now: store it, so that a run eprofd does not live to
  // finish can have its figures rebuilt at the next start (interrupted_runs.h). Between phases,
  // before the first forward pass; a failure here shows again in the final write.
  (void)deps_.store->UpdateSummary(summary_);

  BeginPhase(v1::PHASE_PREFILL);
  std::vector<int32_t> out_ids;
  StopReason stop_reason = StopReason::kMaxNewTokens;
  absl::Status generated = Generate(model.get(), /*measured=*/true, &out_ids, &stop_reason);
  if (phases_.back().end_ns < 0) {  // decode ends with its last token (a failed prefill: now)
    EndPhaseAt(phases_.back().phase == v1::PHASE_DECODE ? last_token_end_ns_ : clock_->NowNs());
  }
  if (!generated.ok()) return Finish(v1::RUN_STATUS_FAILED, generated, StopReason::kError);
  if (!writer_->error().ok()) {
    return Finish(v1::RUN_STATUS_FAILED, writer_->error(), StopReason::kError);
  }

  // The output text was built token by token (EndToken): nothing is decoded a second time.
  BeginPhase(v1::PHASE_POST_INFERENCE);
  QueueRows(/*force=*/true);
  absl::Status saved = Section("save", [&] { return writer_->Flush(); });
  EndPhase();
  if (!saved.ok()) return Finish(v1::RUN_STATUS_FAILED, saved, StopReason::kError);
  bool cancelled = stop_reason == StopReason::kCancelled;
  if (cancelled && in_.cancel_reason) {
    Warn("cancelled", absl::StrCat("the run was cancelled: ", in_.cancel_reason()));
  }
  return Finish(cancelled ? v1::RUN_STATUS_CANCELLED : v1::RUN_STATUS_COMPLETED, absl::OkStatus(),
                stop_reason);
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
