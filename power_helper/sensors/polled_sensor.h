// Base for sources that are read on demand (rapl, nvml, hwmon, estimate): it owns the timing —
// sleep to the next tick on the injected Clock, read, report the window since the last read —
// and subclasses only read their counters.
//
// Thread safety: as Sensor.
#ifndef EPROF_POWER_HELPER_SENSORS_POLLED_SENSOR_H_
#define EPROF_POWER_HELPER_SENSORS_POLLED_SENSOR_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "power_helper/sensors/sensor.h"

namespace eprof::power {

class PolledSensor : public Sensor {
 public:
  // `clock` is not owned; nullptr means Clock::Real().
  explicit PolledSensor(Clock* clock) : clock_(clock ? clock : Clock::Real()) {}

  absl::Status Start(int64_t interval_ns) final;
  absl::Status NextInto(int64_t interval_ns, SensorSample* sample) final;
  void Interrupt() final { interrupt_.Interrupt(); }
  // NextInto returns ABORTED now; the current window goes on (nothing is lost).
  void Wake() final {
    woken_.store(true);
    interrupt_.Interrupt();
  }
  void Stop() final;

 protected:
  // Reads the counters now, as the baseline of the first window.
  virtual absl::Status ReadBaseline(int64_t now_ns) = 0;
  // Reads the counters now and appends one Reading per channel (to an empty `readings` whose
  // storage is reused from sample to sample) for the window of `window_ns` that ends now
  // (energy since the previous read).
  virtual absl::Status ReadWindow(int64_t now_ns, int64_t window_ns,
                                  std::vector<Reading>* readings) = 0;
  virtual void Release() {}

  Clock* clock() const { return clock_; }

 private:
  Clock* const clock_;
  SleepInterrupt interrupt_;
  std::atomic<bool> woken_{false};  // the interrupt is a Wake, not a cancellation
  bool started_ = false;
  int64_t last_end_ns_ = 0;
};

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_POLLED_SENSOR_H_
