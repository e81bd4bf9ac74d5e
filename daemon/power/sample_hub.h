// The part every PowerFeed shares: a bounded, time-ordered ring of recent samples, listeners for
// new samples and connection changes, and waiting for a sample that covers a given instant.
// A feed publishes into its hub from its own thread; readers query it from any thread.
//
// Thread safety: all methods are thread-safe. Listeners are called on the publishing thread, in
// order, and must be quick; they must not add or remove listeners.
#ifndef EPROF_DAEMON_POWER_SAMPLE_HUB_H_
#define EPROF_DAEMON_POWER_SAMPLE_HUB_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/power/power_feed.h"

namespace eprof::daemon {

class SampleHub {
 public:
  explicit SampleHub(size_t ring_capacity) : capacity_(ring_capacity) {}

  // Adds `sample` to the ring (dropping the oldest beyond capacity) and hands it to listeners.
  // A sample whose window starts before the newest one ends (a resubscription restarting a
  // window) is not kept in the ring, but listeners still see it. The hub gives every sample its
  // own `seq`, +1 per sample published: the helper numbers samples per stream from 0, so two
  // subscriptions (a new interval, a reconnection) would otherwise give one run two samples with
  // one number, and the store keys a run's samples by it.
  void Publish(const v1::PowerSample& sample);
  // Tells state listeners the source was lost (connected = false, with why) or is back.
  void PublishState(bool connected, const std::string& error);
  // Wakes every WaitForCoverage (the feed is stopping).
  void Close();

  std::vector<v1::PowerSample> SamplesSince(int64_t t_ns) const;
  bool WaitForCoverage(int64_t t_ns, absl::Duration timeout) const;
  int AddListener(PowerFeed::SampleListener on_sample, PowerFeed::StateListener on_state);
  void RemoveListener(int id);

  // Samples pushed out of the ring; the latest sample (false if none yet).
  uint64_t dropped_from_ring() const;
  bool Latest(v1::PowerSample* out) const;

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<v1::PowerSample> ring_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  mutable absl::Mutex listeners_mu_;
  int next_id_ ABSL_GUARDED_BY(listeners_mu_) = 1;
  std::map<int, std::pair<PowerFeed::SampleListener, PowerFeed::StateListener>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_POWER_SAMPLE_HUB_H_
