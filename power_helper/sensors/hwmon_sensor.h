// Linux hwmon power: power*_input / power*_average (µW), e.g. amdgpu's power1_average. No energy
// counter, so energy is integrated from power with the trapezoid rule: quality DERIVED.
// Channels are "<hwmon name>-<hwmonN>[-<index>]" ("amdgpu-hwmon3"); the RAPL-backed hwmon
// drivers (none expose power*) do not appear.
#ifndef EPROF_POWER_HELPER_SENSORS_HWMON_SENSOR_H_
#define EPROF_POWER_HELPER_SENSORS_HWMON_SENSOR_H_

#include <memory>
#include <string>
#include <vector>

#include "power_helper/sensors/file_system.h"
#include "power_helper/sensors/polled_sensor.h"

namespace eprof::power {

struct HwmonSensorOptions {
  std::string sysfs_root = "/sys";  // reads <sysfs_root>/class/hwmon/hwmon*/
  FileSystem* fs = nullptr;          // default FileSystem::Real(); not owned
  Clock* clock = nullptr;            // default Clock::Real(); not owned
};

class HwmonSensor final : public PolledSensor {
 public:
  static std::unique_ptr<HwmonSensor> Create(const HwmonSensorOptions& options);
  v1::Source Describe() const override { return info_; }

 private:
  explicit HwmonSensor(const HwmonSensorOptions& options);
  absl::Status ReadBaseline(int64_t now_ns) override;
  absl::Status ReadWindow(int64_t now_ns, int64_t window_ns,
                          std::vector<Reading>* readings) override;

  struct Input {
    std::string channel;
    std::string path;  // the power*_input or power*_average file
    double last_power_mw = 0;
  };
  FileSystem* fs_;
  v1::Source info_;
  std::vector<Input> inputs_;
};

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_HWMON_SENSOR_H_
