// The events and warnings of one run: every part of a run (its timeline, power window and
// token pipeline) emits through here into the run's RunEventLog, each event stamped on the
// run's clock; warnings are also logged and kept for the run's summary.
//
// Thread safety: thread-safe (the power feed's thread emits samples and warnings while the run's
// thread emits the rest).
#ifndef EPROF_DAEMON_PROFILER_RUN_EVENTS_H_
#define EPROF_DAEMON_PROFILER_RUN_EVENTS_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "daemon/profiler/run_event_log.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

class RunEvents {
 public:
  // `log` and `clock` outlive this.
  RunEvents(std::string run_id, RunEventLog* log, Clock* clock)
      : run_id_(std::move(run_id)), log_(log), clock_(clock) {}

  // Sets the event's t_ns and appends it (the log keeps its wire form: `event` can be reused).
  void Emit(v1::ProfileEvent& event);
  // Keeps a warning with this code and message, logs it, and emits it.
  void Warn(const std::string& code, const std::string& message);
  // The warnings so far, in order.
  std::vector<v1::Warning> warnings() const;

  const std::string& run_id() const { return run_id_; }
  Clock* clock() const { return clock_; }

 private:
  const std::string run_id_;
  RunEventLog* const log_;
  Clock* const clock_;
  mutable absl::Mutex mu_;
  std::vector<v1::Warning> warnings_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_RUN_EVENTS_H_
