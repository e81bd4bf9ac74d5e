// Linux powercap RAPL: one channel per zone (package-N, core, uncore, dram, psys), energy from
// the energy_uj counters with wraparound corrected modulo max_energy_range_uj.
//
//   RaplSensorOptions options;
//   options.sysfs_root = "/sys";     // tests: a rebuilt fixture tree
//   auto sensor = RaplSensor::Create(options);
//
// Zones are found under <sysfs_root>/class/powercap: every `intel-rapl:*` directory and the
// subzones inside it. `intel-rapl-mmio:*` zones duplicate a package zone; one is used only where
// no `intel-rapl` zone of the same name exists. Containment: package-N contains its core and
// uncore; psys contains every package and their subzones (dram excluded: RAPL documents it
// beside the package, not inside it), so a total never double counts.
//
// Channel names: zones of package 0 keep their name ("core"); those of package N > 0 get
// "-N" ("core-1"). Readings are MEASURED; the counter must be read at least once per wrap period
// (max_energy_range_uj / power; ~44 min at 100 W on Intel), which any interval ≤ 60 s ensures.
#ifndef EPROF_POWER_HELPER_SENSORS_RAPL_SENSOR_H_
#define EPROF_POWER_HELPER_SENSORS_RAPL_SENSOR_H_

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "power_helper/sensors/file_system.h"
#include "power_helper/sensors/polled_sensor.h"

namespace eprof::power {

struct RaplSensorOptions {
  // Root of sysfs (default "/sys").
  std::string sysfs_root = "/sys";
  // File access (default FileSystem::Real()); not owned.
  FileSystem* fs = nullptr;
  // Clock (default Clock::Real()); not owned.
  Clock* clock = nullptr;
};

class RaplSensor final : public PolledSensor {
 public:
  // Discovers the zones. Never fails: a machine without RAPL gives an unavailable source whose
  // Describe() says why.
  static std::unique_ptr<RaplSensor> Create(const RaplSensorOptions& options);

  v1::Source Describe() const override { return info_; }

  struct Zone {
    std::string channel;    // "package-0", "core", ...
    std::string dir;        // absolute directory of the zone
    uint64_t max_energy_range_uj = 0;
    uint64_t last_energy_uj = 0;
    std::shared_ptr<CounterFile> energy;  // energy_uj, open while sampling
  };

 private:
  RaplSensor(const RaplSensorOptions& options);
  absl::Status ReadBaseline(int64_t now_ns) override;
  absl::Status ReadWindow(int64_t now_ns, int64_t window_ns,
                          std::vector<Reading>* readings) override;
  void Release() override;

  FileSystem* fs_;
  v1::Source info_;
  std::vector<Zone> zones_;
};

// Energy used between two readings of a counter that wraps at `max_energy_range_uj`, µJ.
// Assumes at most one wrap between the readings.
uint64_t RaplDeltaUj(uint64_t prev_uj, uint64_t now_uj, uint64_t max_energy_range_uj);

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_RAPL_SENSOR_H_
