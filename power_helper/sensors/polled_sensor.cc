#include "power_helper/sensors/polled_sensor.h"

#include <algorithm>

#include "common/status_macros.h"

namespace eprof::power {
absl::Status PolledSensor::Start(int64_t interval_ns) {
  interrupt_.Reset();
  woken_.store(false);
  last_end_ns_ = clock_->NowNs();
  EPROF_RETURN_IF_ERROR(ReadBaseline(last_end_ns_));
  started_ = true;
  return absl::OkStatus();
}

// The sample loop: one wake-up per sample (Interrupt() ends the sleep early), reads into the
// caller's reused sample; allocates nothing.
absl::Status PolledSensor::NextInto(int64_t interval_ns, SensorSample* sample) {
  if (!started_) return absl::FailedPreconditionError("Next() before Start()");
  const int64_t deadline_ns = last_end_ns_ + std::max<int64_t>(interval_ns, 1);
  if (!clock_->SleepUntilNs(deadline_ns, &interrupt_)) {
    if (woken_.exchange(false)) {
      interrupt_.Reset();
      return absl::AbortedError("woken for a new interval; the window goes on");
    }
    return absl::CancelledError("sensor interrupted");
  }
  sample->t_end_ns = clock_->NowNs();
  sample->window_ns = sample->t_end_ns - last_end_ns_;
  if (sample->window_ns <= 0) sample->window_ns = 1;  // a fake clock that did not move
  sample->readings.clear();
  EPROF_RETURN_IF_ERROR(ReadWindow(sample->t_end_ns, sample->window_ns, &sample->readings));
  last_end_ns_ = sample->t_end_ns;
  return absl::OkStatus();
}

void PolledSensor::Stop() {
  if (!started_) return;
  started_ = false;
  Release();
}

}  // namespace eprof::power
