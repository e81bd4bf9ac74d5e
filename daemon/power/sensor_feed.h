// A PowerFeed that runs a power source in this process, on its own thread: what eprofd uses with
// --power-fallback=estimate when the power helper cannot be reached (the estimate needs no
// privileges: CPU utilisation from /proc/stat × a power model, labelled ESTIMATED).
//
//   EPROF_ASSIGN_OR_RETURN(auto feed, SensorFeed::Start(power::EstimateSensor::Create(opts), 100));
//
// Thread safety: as PowerFeed.
#ifndef EPROF_DAEMON_POWER_SENSOR_FEED_H_
#define EPROF_DAEMON_POWER_SENSOR_FEED_H_

#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "daemon/power/power_feed.h"
#include "daemon/power/sample_hub.h"
#include "power_helper/sensors/sensor.h"

namespace eprof::daemon {

class SensorFeed final : public PowerFeed {
 public:
  // Starts `sensor` at `interval_ms` (clamped to what it supports). FAILED_PRECONDITION when the
  // sensor is unavailable, with its reason.
  static absl::StatusOr<std::unique_ptr<SensorFeed>> Start(std::unique_ptr<power::Sensor> sensor,
                                                           uint32_t interval_ms,
                                                           size_t ring_capacity = 36'000);
  ~SensorFeed() override;

  PowerFeedState state() const override;
  void SetInterval(uint32_t interval_ms) override;
  std::vector<v1::PowerSample> SamplesSince(int64_t t_ns) const override {
    return hub_.SamplesSince(t_ns);
  }
  bool WaitForCoverage(int64_t t_ns, absl::Duration timeout) const override {
    return hub_.WaitForCoverage(t_ns, timeout);
  }
  int AddListener(SampleListener on_sample, StateListener on_state) override {
    return hub_.AddListener(std::move(on_sample), std::move(on_state));
  }
  void RemoveListener(int id) override { hub_.RemoveListener(id); }

 private:
  SensorFeed(std::unique_ptr<power::Sensor> sensor, v1::Source info, int64_t interval_ns,
             size_t ring_capacity);
  void Loop();
  int64_t Clamp(int64_t interval_ns) const;

  std::unique_ptr<power::Sensor> sensor_;
  const v1::Source info_;
  SampleHub hub_;
  std::atomic<int64_t> interval_ns_;
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  std::string error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_POWER_SENSOR_FEED_H_
