// Builds the sources a helper runs from its --source flag.
//
//   SourceOptions options;
//   options.source = "auto";      // or rapl | nvml | hwmon | estimate | powermetrics | replay:FILE
//   EPROF_ASSIGN_OR_RETURN(auto sensors, CreateSensors(options));
//
// `auto` probes, in order, powermetrics (macOS only), rapl, nvml, hwmon and estimate; every
// probed source is returned, available or not (Describe says why not), and the first available
// one that is not the estimate is the default, the estimate otherwise. A named source is
// returned alone. The first element is always the default source.
#ifndef EPROF_POWER_HELPER_SENSORS_FACTORY_H_
#define EPROF_POWER_HELPER_SENSORS_FACTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "power_helper/sensors/sensor.h"

namespace eprof::power {

struct SourceOptions {
  // auto | rapl | nvml | hwmon | estimate | powermetrics | replay:FILE (default auto).
  std::string source = "auto";
  // Root of sysfs for rapl and hwmon (default "/sys").
  std::string sysfs_root = "/sys";
  // Root of procfs for estimate (default "/proc").
  std::string proc_root = "/proc";
  // Estimate model, W (defaults 65 and 10).
  double tdp_w = 65.0;
  double idle_w = 10.0;
  // powermetrics executable; empty means /usr/bin/powermetrics on macOS. On Linux powermetrics
  // runs only with an explicit path (a fake for tests).
  std::string powermetrics_path;
  // powermetrics requires root unless false (fake executables in tests).
  bool powermetrics_require_root = true;
  // Replay without real-time pacing.
  bool fast = false;
  Clock* clock = nullptr;  // default Clock::Real(); not owned
};

// The sources; INVALID_ARGUMENT for an unknown name (listing the known ones), UNIMPLEMENTED for a
// source this build cannot run (powermetrics on Linux without a path), the replay file's error.
absl::StatusOr<std::vector<std::unique_ptr<Sensor>>> CreateSensors(const SourceOptions& options);

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_FACTORY_H_
