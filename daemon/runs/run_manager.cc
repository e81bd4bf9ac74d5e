#include "daemon/runs/run_manager.h"

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/random_id.h"
#include "daemon/profiler/stop_reason.h"

namespace eprof::daemon {
namespace {

constexpr uint32_t kMaxIdleBaselineMs = 60'000;
constexpr uint32_t kMaxWarmupRuns = 10;
constexpr uint32_t kMaxIntervalMs = 60'000;
constexpr int kMaxTags = 16;
constexpr size_t kMaxTagLength = 64;
constexpr size_t kMaxExperimentLength = 128;

bool Printable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

uint64_t RandomSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

std::string NewRunId() { return RandomHex(16); }

RunManager::RunManager(RunManagerOptions options, InferenceBackend* backend,
                       const ModelCatalog* catalog, store::RunStore* store, PowerFeed* power,
                       Clock* clock, SideExecutor* side)
    : options_(std::move(options)), backend_(backend), catalog_(catalog), store_(store),
      power_(power), clock_(clock), side_(side), thread_([this] { Loop(); }) {}

RunManager::~RunManager() { Shutdown("eprofd is shutting down"); }

absl::Status RunManager::Validate(v1::ProfileRequest* r, v1::ModelInfo* model, std::string* dir) {
  if (r->prompt().empty()) {
    return absl::InvalidArgumentError("the prompt is empty: give the text to generate from");
  }
  if (r->prompt().size() > kMaxPromptBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the prompt is ", r->prompt().size(), " bytes; eprofd takes prompts of at most ",
        kMaxPromptBytes, " bytes (1 MiB), far more than any model's context holds: shorten it"));
  }
  if (r->max_new_tokens() == 0 || r->max_new_tokens() > options_.max_new_tokens_cap) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_new_tokens ", r->max_new_tokens(), " is out of range [1, ",
        options_.max_new_tokens_cap, "] (the daemon's --max-new-tokens cap)"));
  }
  const v1::SamplingParams& s = r->sampling();
  if (!(s.temperature() >= 0 && s.temperature() <= 10)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "temperature ", s.temperature(), " is out of range [0, 10] (0 = greedy)"));
  }
  if (!(s.top_p() >= 0 && s.top_p() <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("top_p ", s.top_p(), " is out of range [0, 1] (0 or 1 = off)"));
  }
  if (!v1::DetailLevel_IsValid(r->detail())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "detail level ", static_cast<int>(r->detail()),
        " is unknown: use phases, tokens, layers, components or deep"));
  }
  if (r->has_idle_baseline_ms() && r->idle_baseline_ms() > kMaxIdleBaselineMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idle_baseline_ms ", r->idle_baseline_ms(), " is out of range [0, ", kMaxIdleBaselineMs, "]"));
  }
  if (r->warmup_runs() > kMaxWarmupRuns) {
    return absl::InvalidArgumentError(
        absl::StrCat("warmup_runs ", r->warmup_runs(), " is out of range [0, ", kMaxWarmupRuns, "]"));
  }
  if (r->power_interval_ms() > kMaxIntervalMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "power_interval_ms ", r->power_interval_ms(), " is out of range [1, ", kMaxIntervalMs,
        "] (0 = the daemon's default)"));
  }
  if (r->tags_size() > kMaxTags) {
    return absl::InvalidArgumentError(
        absl::StrCat(r->tags_size(), " tags given; at most ", kMaxTags, " are allowed"));
  }
  for (const std::string& tag : r->tags()) {
    if (tag.empty() || tag.size() > kMaxTagLength || !Printable(tag)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tag '", absl::CHexEscape(tag), "' must be 1 to ", kMaxTagLength, " printable characters"));
    }
  }
  if (r->experiment().size() > kMaxExperimentLength || !Printable(r->experiment())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "experiment name must be at most ", kMaxExperimentLength, " printable characters"));
  }
  if (!r->dtype().empty() && r->dtype() != "float32" && r->dtype() != "bfloat16") {
    return absl::InvalidArgumentError(
        absl::StrCat("dtype '", r->dtype(), "' is not supported: use float32 or bfloat16"));
  }
  if (r->device().empty()) r->set_device(options_.default_device);
  if (!r->device().empty()) {
    std::vector<std::string> devices = backend_->Devices();
    bool known = r->device() == "cuda" && std::any_of(devices.begin(), devices.end(), [](auto& d) {
                   return d.rfind("cuda", 0) == 0;
                 });
    known = known || std::find(devices.begin(), devices.end(), r->device()) != devices.end();
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat("device '", r->device(),
                                                     "' is not available here; available: ",
                                                     absl::StrJoin(devices, ", ")));
    }
  }
  r->set_model(ModelCatalog::NormalizeName(r->model()));
  absl::StatusOr<std::string> resolved = catalog_->Resolve(r->model());
  if (!resolved.ok()) return resolved.status();
  *model = ModelCatalog::Inspect(*resolved, r->model());
  if (!model->problem().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", r->model(), "' cannot be used: ", model->problem()));
  }
  if (!model->has_tokenizer()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", r->model(), "' has no tokenizer.json, which profiling a text prompt needs"));
  }
  if (s.top_k() > model->vocab_size() && model->vocab_size() > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "top_k ", s.top_k(), " is larger than the vocabulary (", model->vocab_size(), " tokens)"));
  }
  if (!s.has_seed()) r->mutable_sampling()->set_seed(RandomSeed());
  FillRequestDefaults(r);  // the rest of the defaults, from their one home
  *dir = *resolved;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<RunHandle>> RunManager::Submit(v1::ProfileRequest request) {
  auto run = std::make_shared<RunHandle>();
  if (absl::Status s = Validate(&request, &run->model, &run->model_dir); !s.ok()) return s;
  run->run_id = NewRunId();
  run->request = std::move(request);
  run->log = std::make_shared<RunEventLog>(run->run_id);
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("eprofd is shutting down");
  size_t ahead = queue_.size() + (current_ != nullptr ? 1 : 0);
  if (ahead > options_.max_queued) {  // ahead = the running run + those already waiting
    return absl::ResourceExhaustedError(absl::StrCat(
        "eprofd is busy: ", ahead, " runs are running or waiting and the queue holds at most ",
        options_.max_queued, "; try again when one has finished"));
  }
  run->queue_position = static_cast<uint32_t>(ahead);
  queue_.push_back(run);
  EPROF_LOG(INFO) << "run " << run->run_id << " accepted: model " << run->request.model() << ", "
                  << run->request.max_new_tokens() << " tokens, " << ahead << " ahead";
  return run;
}

std::shared_ptr<RunHandle> RunManager::Find(const std::string& run_id) const {
  absl::MutexLock lock(&mu_);
  if (run_id.empty() || (current_ != nullptr && current_->run_id == run_id)) return current_;
  for (const auto& r : queue_) {
    if (r->run_id == run_id) return r;
  }
  return nullptr;
}

std::shared_ptr<RunHandle> RunManager::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

size_t RunManager::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

std::vector<std::string> RunManager::loaded_models() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const CachedModel& m : models_) out.push_back(m.name);
  return out;
}

void RunManager::CancelQueued(const std::shared_ptr<RunHandle>& run, const std::string& reason) {
  // Never started: nothing was measured or stored. Its stream ends with a cancelled summary.
  v1::ProfileEvent e;
  v1::RunSummary* s = e.mutable_summary();
  *s = NewRunSummary(run->run_id, run->request, run->model, options_.run);
  s->set_status(v1::RUN_STATUS_CANCELLED);
  s->set_stop_reason(std::string(StopReasonName(StopReason::kCancelled)));
  s->set_error(absl::StrCat("cancelled while queued: ", reason));
  run->result.summary = *s;
  run->log->Append(std::move(e));
  run->log->Close();
  run->done.Notify();
}

absl::StatusOr<v1::RunStatus> RunManager::Cancel(const std::string& run_id,
                                                 const std::string& reason) {
  std::shared_ptr<RunHandle> queued_run;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if ((*it)->run_id == run_id) {
        queued_run = *it;
        queue_.erase(it);
        break;
      }
    }
  }
  if (queued_run != nullptr) {
    CancelQueued(queued_run, reason);
    return v1::RUN_STATUS_CANCELLED;
  }
  std::shared_ptr<RunHandle> run = Find(run_id);
  if (run != nullptr) {
    {
      absl::MutexLock lock(&run->mu);
      if (run->cancel_reason.empty()) run->cancel_reason = reason;
    }
    run->cancel = true;
    return v1::RUN_STATUS_CANCELLED;
  }
  if (run_id.empty()) return absl::NotFoundError("no run is in progress");
  absl::StatusOr<v1::RunSummary> stored = store_->GetSummary(run_id);
  if (!stored.ok()) return stored.status();
  return stored->status();  // already finished: cancelling changes nothing
}

absl::StatusOr<std::shared_ptr<LoadedModel>> RunManager::AcquireModel(
    const RunHandle& run, const std::function<void(const LoadProgress&)>& progress,
    bool* loaded_now) {
  std::string key = absl::StrCat(run.model_dir, "|", run.request.dtype(), "|", run.request.device());
  {
    absl::MutexLock lock(&mu_);
    for (auto it = models_.begin(); it != models_.end(); ++it) {
      if (it->key == key) {
        models_.splice(models_.begin(), models_, it);  // most recently used first
        return models_.front().model;
      }
    }
  }
  LoadOptions load;
  load.dtype = run.request.dtype();
  load.device = run.request.device();
  absl::StatusOr<std::unique_ptr<LoadedModel>> loaded = backend_->Load(run.model_dir, load, progress);
  if (!loaded.ok()) return loaded.status();
  *loaded_now = true;
  std::shared_ptr<LoadedModel> model = std::move(*loaded);
  absl::MutexLock lock(&mu_);
  models_.push_front({key, run.request.model(), model});
  // Evict least recently used models beyond the budget (never the one just loaded).
  uint64_t total = 0;
  for (const CachedModel& m : models_) total += m.model->weight_bytes();
  while (total > options_.model_cache_bytes && models_.size() > 1) {
    total -= models_.back().model->weight_bytes();
    EPROF_LOG(INFO) << "unloading model " << models_.back().name << " (model cache budget "
                    << (options_.model_cache_bytes >> 20) << " MiB)";
    models_.pop_back();
  }
  return model;
}

void RunManager::Execute(const std::shared_ptr<RunHandle>& run) {
  ProfileRunInputs in;
  in.run_id = run->run_id;
  in.request = run->request;
  in.model = run->model;
  in.queue_position = run->queue_position;
  in.cancel = &run->cancel;
  in.cancel_reason = [run] {
    absl::MutexLock lock(&run->mu);
    return run->cancel_reason;
  };
  in.acquire_model = [this, run](const std::function<void(const LoadProgress&)>& progress,
                                 bool* loaded_now) { return AcquireModel(*run, progress, loaded_now); };
  ProfileRunDeps deps;
  deps.power = power_;
  deps.store = store_;
  deps.events = run->log.get();
  deps.clock = clock_;
  deps.side = side_;
  run->result = ExecuteProfileRun(in, deps, options_.run);
  if (options_.on_run_finished) options_.on_run_finished(run->result.summary);
  EPROF_LOG(INFO) << "run " << run->run_id << " "
                  << v1::RunStatus_Name(run->result.summary.status()) << ": "
                  << run->result.summary.output_tokens() << " tokens"
                  << (run->result.status.ok() ? "" : absl::StrCat(", ", run->result.status.message()));
}

void RunManager::Loop() {
  for (;;) {
    std::shared_ptr<RunHandle> run;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      run = queue_.front();
      queue_.pop_front();
      current_ = run;
    }
    Execute(run);
    {
      absl::MutexLock lock(&mu_);
      current_ = nullptr;
    }
    run->done.Notify();
    // Last: the streams of the run end when its log closes, once the run is no longer current
    // (a client whose Profile stream has ended never finds its run still running).
    run->log->Close();
  }
}

void RunManager::Shutdown(const std::string& reason) {
  std::deque<std::shared_ptr<RunHandle>> queued;
  std::shared_ptr<RunHandle> running;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;  // Submit refuses, and the inference thread starts nothing new
    queued.swap(queue_);
    running = current_;
  }
  for (const auto& r : queued) CancelQueued(r, reason);
  if (running != nullptr) {
    {
      absl::MutexLock lock(&running->mu);
      if (running->cancel_reason.empty()) running->cancel_reason = reason;
    }
    running->cancel = true;
    running->done.WaitForNotification();  // the run saves itself as cancelled
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace eprof::daemon
