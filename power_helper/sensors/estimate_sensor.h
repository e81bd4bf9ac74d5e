// The fallback where no sensor exists: CPU utilisation from /proc/stat × a power model,
//   power_mw = idle_w + utilisation × (tdp_w − idle_w),
// one channel "cpu-estimate" of quality ESTIMATED whose description says it is an estimate.
#ifndef EPROF_POWER_HELPER_SENSORS_ESTIMATE_SENSOR_H_
#define EPROF_POWER_HELPER_SENSORS_ESTIMATE_SENSOR_H_

#include <memory>
#include <string>

#include "power_helper/sensors/file_system.h"
#include "power_helper/sensors/polled_sensor.h"

namespace eprof::power {

struct EstimateSensorOptions {
  // Root of procfs (default "/proc"); the sensor reads <proc_root>/stat.
  std::string proc_root = "/proc";
  // Power of the CPU package at 100 % utilisation, W (default 65, a desktop TDP).
  double tdp_w = 65.0;
  // Power at 0 % utilisation, W (default 10).
  double idle_w = 10.0;
  FileSystem* fs = nullptr;  // default FileSystem::Real(); not owned
  Clock* clock = nullptr;    // default Clock::Real(); not owned
};

// Aggregate CPU time counters of /proc/stat's "cpu" line, in USER_HZ ticks.
struct CpuTimes {
  uint64_t busy = 0;
  uint64_t total = 0;
};
// Parses the first "cpu " line of /proc/stat. INVALID_ARGUMENT when there is none.
absl::StatusOr<CpuTimes> ParseProcStat(const std::string& text);

class EstimateSensor final : public PolledSensor {
 public:
  static std::unique_ptr<EstimateSensor> Create(const EstimateSensorOptions& options);
  v1::Source Describe() const override { return info_; }

 private:
  explicit EstimateSensor(const EstimateSensorOptions& options);
  absl::Status ReadBaseline(int64_t now_ns) override;
  absl::Status ReadWindow(int64_t now_ns, int64_t window_ns,
                          std::vector<Reading>* readings) override;

  EstimateSensorOptions options_;
  FileSystem* fs_;
  v1::Source info_;
  CpuTimes last_;
};

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_ESTIMATE_SENSOR_H_
