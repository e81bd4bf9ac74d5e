// macOS powermetrics as a source: runs
//   powermetrics -f plist -b 0 -i <ms> --samplers cpu_power,gpu_power,ane_power,thermal
// as a child (through ProcessLauncher), parses its stdout with PowermetricsStreamParser and stamps
// each document with the helper's monotonic clock when its last byte arrives; the window is the
// document's elapsed_ns, not the requested interval. The child runs from Start() to Stop().
//
// On Linux the source exists for tests and replays only: it runs when given an explicit
// executable (a fake powermetrics); `auto` never probes it there.
#ifndef EPROF_POWER_HELPER_SENSORS_POWERMETRICS_SENSOR_H_
#define EPROF_POWER_HELPER_SENSORS_POWERMETRICS_SENSOR_H_

#include <atomic>
#include <deque>
#include <memory>
#include <string>

#include "common/clock.h"
#include "power_helper/sensors/child_process.h"
#include "power_helper/sensors/powermetrics_parser.h"
#include "power_helper/sensors/sensor.h"

namespace eprof::power {

struct PowermetricsSensorOptions {
  // The executable (default /usr/bin/powermetrics).
  std::string executable = "/usr/bin/powermetrics";
  // powermetrics needs root; the check can be turned off for a fake executable in tests.
  bool require_root = true;
  // Channels to declare: Apple Silicon (cpu, gpu, ane, combined) or Intel (package).
  bool apple_silicon = true;
  ProcessLauncher* launcher = nullptr;  // default ProcessLauncher::Real(); not owned
  Clock* clock = nullptr;               // default Clock::Real(); not owned
  // A partial document older than this is dropped (default 10 s).
  int64_t partial_timeout_ns = 10'000'000'000;
};

class PowermetricsSensor final : public Sensor {
 public:
  explicit PowermetricsSensor(const PowermetricsSensorOptions& options);
  ~PowermetricsSensor() override { Stop(); }

  v1::Source Describe() const override;
  absl::Status Start(int64_t interval_ns) override;
  absl::Status NextInto(int64_t interval_ns, SensorSample* sample) override;
  void Interrupt() override { interrupted_.store(true); }
  void Stop() override;

  // pid of the running child, or -1.
  pid_t child_pid() const { return child_ ? child_->pid() : -1; }

 private:
  absl::Status ChildFailed();

  PowermetricsSensorOptions options_;
  ProcessLauncher* launcher_;
  Clock* clock_;
  std::atomic<bool> interrupted_{false};
  std::unique_ptr<ChildProcess> child_;
  std::unique_ptr<PowermetricsStreamParser> parser_;
  std::deque<SensorSample> ready_;
  std::string stderr_tail_;
  bool logged_no_power_ = false;
};

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_POWERMETRICS_SENSOR_H_
