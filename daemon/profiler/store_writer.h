// Writes a run's rows to the store on a background thread, so that SQLite commits never fall
// inside the spans being measured. The run thread enqueues batches and, at the end, waits for
// them (the `save` section).
//
//   StoreWriter writer(store, run_id);
//   writer.Enqueue(std::move(rows));      // cheap: moves into a queue
//   EPROF_RETURN_IF_ERROR(writer.Flush()); // waits; returns the first write error, if any
//
// After a failed write the writer drops further batches (the run is failing) and keeps
// returning the first error. Thread safety: all methods are thread-safe.
#ifndef EPROF_DAEMON_PROFILER_STORE_WRITER_H_
#define EPROF_DAEMON_PROFILER_STORE_WRITER_H_

#include <deque>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "daemon/store/run_store.h"

namespace eprof::daemon {

class StoreWriter {
 public:
  StoreWriter(store::RunStore* store, std::string run_id);
  ~StoreWriter();  // flushes, then stops the thread

  void Enqueue(store::RunRows rows);
  // Waits until every enqueued batch is written. Returns the first error.
  absl::Status Flush();
  // The first error so far (OK if none), without waiting.
  absl::Status error() const;

 private:
  void Loop();

  store::RunStore* const store_;
  const std::string run_id_;
  mutable absl::Mutex mu_;
  std::deque<store::RunRows> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_STORE_WRITER_H_
