// The power window of one run: its subscription to the power feed, the samples that arrive
// (drained into the run's PowerTimeline and into the rows to store), waits for a sample to
// cover a moment (the start of the run, the end of the idle baseline, the post-roll), and the
// idle baseline measured over the timeline.
//
//   RunPower power(feed, interval_ns, timeout, &events, &rows);
//   power.Start();                      // subscribes; warns when there is no usable feed
//   ... power.Drain(); power.timeline().EnergyOf(a, b) ...
//   power.AwaitCoverage(end_ns);
//   power.Stop();
//
// Thread safety: the feed's thread delivers samples (kept under a lock until drained); every
// other method is for one thread at a time (the run's thread, or the token bookkeeping it runs
// beside a decode step).
#ifndef EPROF_DAEMON_PROFILER_RUN_POWER_H_
#define EPROF_DAEMON_PROFILER_RUN_POWER_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/power/power_feed.h"
#include "daemon/profiler/power_timeline.h"
#include "daemon/profiler/run_events.h"
#include "daemon/profiler/store_writer.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

class RunPower {
 public:
  // `feed` may be null (no power source: the run has no energy figures). Every pointer outlives
  // this. `coverage_timeout` bounds each wait for a covering sample.
  RunPower(PowerFeed* feed, int64_t interval_ns, absl::Duration coverage_timeout,
           RunEvents* events, RowBatch* rows);
  ~RunPower() { Stop(); }
  RunPower(const RunPower&) = delete;
  RunPower& operator=(const RunPower&) = delete;

  // Sets the feed to the run's interval, subscribes, and waits for a window covering now, so
  // that the first phase is covered from its first instant. Warns when there is no feed, when
  // it is unreachable, and when its power is an estimate.
  void Start();
  // Unsubscribes (idempotent).
  void Stop();
  // Moves samples that arrived since the last call into the timeline and the rows to store.
  void Drain();
  // Waits for a sample covering `t_ns`, then takes what the feed holds beyond the timeline (a
  // listener may deliver a sample after the feed reports it). Returns whether it was covered;
  // false at once without a connected feed.
  bool AwaitCoverage(int64_t t_ns);
  // Whether there is a feed and it is connected now.
  bool connected() const;

  // The baseline becomes the median power over [start_ns, end_ns] of the timeline (empty when no
  // window lies there).
  void MeasureBaseline(int64_t start_ns, int64_t end_ns);

  const PowerTimeline& timeline() const { return timeline_; }
  const Baseline& baseline() const { return baseline_; }
  int64_t interval_ns() const { return interval_ns_; }

 private:
  PowerFeed* const feed_;
  const int64_t interval_ns_;
  const absl::Duration coverage_timeout_;
  RunEvents* const events_;
  RowBatch* const rows_;
  PowerTimeline timeline_{std::vector<v1::Channel>()};
  Baseline baseline_;
  int listener_id_ = -1;
  bool sample_error_logged_ = false;
  absl::Mutex mu_;
  std::vector<v1::PowerSample> arrived_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_RUN_POWER_H_
