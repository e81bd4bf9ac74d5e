#include "power_helper/sensors/polled_sensor.h"

#include <algorithm>

#include "common/status_macros.h"

namespace eprof::power {
namespace {
// Longest uninterrupted sleep, so that Interrupt() takes effect quickly.
constexpr int64_t kSleepSliceNs = 20'000'000;
}  // namespace

absl::Status PolledSensor::Start(int64_t interval_ns) {
  interrupted_.store(false);
  last_end_ns_ = clock_->NowNs();
  EPROF_RETURN_IF_ERROR(ReadBaseline(last_end_ns_));
  started_ = true;
  return absl::OkStatus();
}

// The sample loop: sleeps, reads into the caller's reused sample; allocates nothing.
absl::Status PolledSensor::NextInto(int64_t interval_ns, SensorSample* sample) {
  if (!started_) return absl::FailedPreconditionError("Next() before Start()");
  const int64_t deadline_ns = last_end_ns_ + std::max<int64_t>(interval_ns, 1);
  for (int64_t now = clock_->NowNs(); now < deadline_ns; now = clock_->NowNs()) {
    if (interrupted_.load()) return absl::CancelledError("sensor interrupted");
    clock_->SleepUntilNs(std::min(deadline_ns, now + kSleepSliceNs));
  }
  if (interrupted_.load()) return absl::CancelledError("sensor interrupted");
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
