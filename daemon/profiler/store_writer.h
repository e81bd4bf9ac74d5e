// Writes a run's rows to the store on a background thread, so that SQLite commits never fall
// inside the spans being measured. The run thread enqueues batches and, at the end, waits for
// them (the `save` section).
//
//   StoreWriter writer(store, run_id);
//   writer.Enqueue(std::move(rows));      // cheap: moves into a queue
//   EPROF_RETURN_IF_ERROR(writer.Flush()); // writes what is left; returns the first error, if any
//
// The writer thread runs at background priority (SCHED_IDLE on Linux): its CPU per token at
// detail components would otherwise preempt the inference it is recording, on a machine whose
// cores inference keeps busy (at nice 19 alone it still took slices from an inference thread).
// It writes in the idle moments (between tokens, while the
// engine's workers sleep, in single-threaded stretches of the forward pass, during the idle
// baseline); on such a machine it may fall behind until the run ends. Flush() writes the batches
// still queued on the calling thread, in order, so that a busy machine cannot hold the end of a
// run behind a starved background thread.
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
  // Writes one batch (no lock held across the commit) and records the first error.
  void Write(const store::RunRows& rows);

  store::RunStore* const store_;
  const std::string run_id_;
  mutable absl::Mutex mu_;
  std::deque<store::RunRows> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;   // the thread is writing a batch
  bool draining_ ABSL_GUARDED_BY(mu_) = false;  // Flush() is writing the queue itself
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// The rows of a run not yet given to its StoreWriter: the run's parts add their samples, phases
// and tokens, and the batch goes to the writer once it holds `batch_tokens` tokens (at least
// one), or when
// forced. Not thread-safe: used by one thread at a time (the run's thread, or the token
// bookkeeping it runs beside a decode step, never both at once).
class RowBatch {
 public:
  // `writer` outlives this.
  RowBatch(StoreWriter* writer, int batch_tokens)
      : writer_(writer), batch_tokens_(batch_tokens < 1 ? 1 : batch_tokens) {}

  store::RunRows& rows() { return rows_; }
  // Gives the rows to the writer when `force` or when they hold a batch's worth of tokens.
  void Queue(bool force);

 private:
  StoreWriter* const writer_;
  const int batch_tokens_;
  store::RunRows rows_;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_STORE_WRITER_H_
