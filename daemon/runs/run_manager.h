// Accepts profiling requests, validates them, and runs them one at a time on the daemon's
// inference thread; keeps loaded models for reuse within a memory budget.
//
//   RunManager manager(options, &backend, &catalog, &store, power_feed_or_null);
//   EPROF_ASSIGN_OR_RETURN(std::shared_ptr<RunHandle> run, manager.Submit(request));
//   ... stream run->log ...; run->done.WaitForNotification();
//
// Queueing: one run executes at a time; up to `max_queued` more wait in order (0: no waiting, a
// request while a run is in progress is refused). A request beyond that gets RESOURCE_EXHAUSTED
// saying how many runs are ahead, so a client never waits without knowing. A queued run's
// events start when it starts (RunStarted.queue_position says how many were ahead when it was
// accepted); until then its client hears nothing, so eprofctl profile asks GetStatus first and
// says when it will wait.
//
// Thread safety: all methods are thread-safe.
#ifndef EPROF_DAEMON_RUNS_RUN_MANAGER_H_
#define EPROF_DAEMON_RUNS_RUN_MANAGER_H_

#include <atomic>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/api_limits.h"
#include "daemon/models/model_catalog.h"
#include "daemon/power/power_feed.h"
#include "daemon/profiler/inference_backend.h"
#include "daemon/profiler/profile_run.h"
#include "daemon/profiler/run_event_log.h"
#include "daemon/store/run_store.h"

namespace eprof::daemon {

struct RunManagerOptions {
  // Runs allowed to wait behind the one executing.
  size_t max_queued = 4;
  // Upper limit of ProfileRequest.max_new_tokens.
  uint32_t max_new_tokens_cap = 4096;
  // Loaded models are kept while their weights (LoadedModel::weight_bytes) stay within this
  // budget, bytes; the model in use is always kept. A run's KV cache is not counted: it is
  // allocated per generation and freed after it.
  uint64_t model_cache_bytes = 8ull << 30;
  // Device used when a request names none ("" = the backend's default).
  std::string default_device;
  ProfileRunConfig run;
  // Called on the inference thread with the summary of each run that executed, once it ended
  // (metrics); may be empty.
  std::function<void(const v1::RunSummary&)> on_run_finished;
};

// One accepted run.
struct RunHandle {
  std::string run_id;
  v1::ProfileRequest request;
  v1::ModelInfo model;
  std::string model_dir;
  uint32_t queue_position = 0;
  std::shared_ptr<RunEventLog> log;
  std::atomic<bool> cancel{false};
  absl::Mutex mu;
  std::string cancel_reason ABSL_GUARDED_BY(mu);
  // Notified when the run has finished (or was cancelled while queued); `result` is then set.
  absl::Notification done;
  ProfileRunResult result;
};

class RunManager {
 public:
  // `side` runs each decode token's bookkeeping beside the next step (ProfileRunDeps::side).
  RunManager(RunManagerOptions options, InferenceBackend* backend, const ModelCatalog* catalog,
             store::RunStore* store, PowerFeed* power, Clock* clock = Clock::Real(),
             SideExecutor* side = SideExecutor::Inline());
  ~RunManager();  // Shutdown()

  // Validates `request` (see profiler.proto for every rule), fills its defaults and queues it.
  // INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION with the reason; RESOURCE_EXHAUSTED when
  // the queue is full; UNAVAILABLE after Shutdown().
  absl::StatusOr<std::shared_ptr<RunHandle>> Submit(v1::ProfileRequest request);

  // Cancels a queued or running run; returns its status afterwards. NOT_FOUND when the id is
  // neither active nor stored. An empty id means the running run.
  absl::StatusOr<v1::RunStatus> Cancel(const std::string& run_id, const std::string& reason);

  // The handle of an active (queued or running) run; empty id = the running one. Null if none.
  std::shared_ptr<RunHandle> Find(const std::string& run_id) const;
  // The running run, and the number of runs waiting.
  std::shared_ptr<RunHandle> current() const;
  size_t queued() const;
  // Names of resident models.
  std::vector<std::string> loaded_models() const;

  // Cancels the running and queued runs, waits for the running one to be saved, stops the
  // inference thread. Idempotent.
  void Shutdown(const std::string& reason);

  const RunManagerOptions& options() const { return options_; }

 private:
  struct CachedModel {
    std::string key;
    std::string name;
    std::shared_ptr<LoadedModel> model;
  };

  void Loop();
  void Execute(const std::shared_ptr<RunHandle>& run);
  void CancelQueued(const std::shared_ptr<RunHandle>& run, const std::string& reason);
  absl::StatusOr<std::shared_ptr<LoadedModel>> AcquireModel(
      const RunHandle& run, const std::function<void(const LoadProgress&)>& progress,
      bool* loaded_now);
  absl::Status Validate(v1::ProfileRequest* request, v1::ModelInfo* model, std::string* dir);

  const RunManagerOptions options_;
  InferenceBackend* const backend_;
  const ModelCatalog* const catalog_;
  store::RunStore* const store_;
  PowerFeed* const power_;
  Clock* const clock_;
  SideExecutor* const side_;

  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<RunHandle>> queue_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<RunHandle> current_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Most recently used first. Touched only by the inference thread, read under mu_.
  std::list<CachedModel> models_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// A new run id: 32 lowercase hex digits from a random 128-bit number.
std::string NewRunId();

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_RUNS_RUN_MANAGER_H_
