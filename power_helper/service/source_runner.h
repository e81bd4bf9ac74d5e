// Runs one Sensor for its subscribers: one sampling thread per source, sampling only while at
// least one subscriber listens (the thread parks otherwise, and the sensor is stopped — for
// powermetrics, the child exits). The sensor runs at the shortest interval any subscriber asked
// for; each subscriber aggregates whole source windows up to its own interval. A subscriber
// asking for a shorter interval than the sensor runs at restarts it at once (it never waits out
// a long window).
//
// Fan-out never blocks: Subscriber::OnSample must return at once (it queues and drops).
//
// Thread safety: every public method is thread-safe.
#ifndef EPROF_POWER_HELPER_SERVICE_SOURCE_RUNNER_H_
#define EPROF_POWER_HELPER_SERVICE_SOURCE_RUNNER_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "power_helper/sensors/sensor.h"

namespace eprof::power {

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // The interval this subscriber wants, ns (already clamped).
  virtual int64_t interval_ns() const = 0;
  // One source window; called on the sampling thread. Must not block.
  virtual void OnSample(const SensorSample& sample) = 0;
  // The source stopped for good for this subscriber: OK at the end of a recording, the error
  // otherwise. Called at most once; the subscriber is already removed.
  virtual void OnSourceEnd(const absl::Status& status) = 0;
};

class SourceRunner {
 public:
  explicit SourceRunner(std::unique_ptr<Sensor> sensor);
  ~SourceRunner() { Shutdown(); }

  const v1::Source& info() const { return info_; }

  // Adds a subscriber; starts the sampling thread on first use. Returns false when shut down.
  bool Subscribe(std::shared_ptr<Subscriber> subscriber);
  // Removes it (no-op if absent). The last one leaving stops the sensor.
  void Unsubscribe(Subscriber* subscriber);
  // Ends every subscriber with UNAVAILABLE, stops the sensor, joins the thread. Idempotent.
  void Shutdown();

  size_t subscriber_count() const;
  // Times the sensor was started (tests: sampling runs only while subscribed).
  uint64_t starts() const;

 private:
  void Loop();
  void EndAll(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

  std::unique_ptr<Sensor> sensor_;
  const v1::Source info_;
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t starts_ ABSL_GUARDED_BY(mu_) = 0;
  // The interval the sensor samples at now, ns; 0 while it is stopped.
  int64_t running_interval_ns_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;  // started under mu_, joined by Shutdown
};

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SERVICE_SOURCE_RUNNER_H_
