// NVIDIA GPUs through NVML, loaded at run time with dlopen("libnvidia-ml.so.1") so the helper has
// no link dependency. One channel per GPU ("gpu0", ...): energy from the total-energy counter
// (mJ since driver load; Volta+) where the GPU has it — MEASURED — else power (mW) × time —
// DERIVED. A counter that goes backwards (driver reload) restarts the baseline; that window's
// energy comes from power × time. A missing library or no GPU makes the source unavailable.
#ifndef EPROF_POWER_HELPER_SENSORS_NVML_SENSOR_H_
#define EPROF_POWER_HELPER_SENSORS_NVML_SENSOR_H_

#include <memory>
#include <string>
#include <vector>

#include "power_helper/sensors/polled_sensor.h"

namespace eprof::power {

// The few NVML calls the sensor makes, by device index; a fake implements it in tests.
class NvmlApi {
 public:
  virtual ~NvmlApi() = default;
  virtual int DeviceCount() = 0;
  virtual std::string DeviceName(int index) = 0;
  // Total energy since driver load, mJ; false when unsupported or failed.
  virtual bool TotalEnergyMj(int index, uint64_t* energy_mj) = 0;
  // Power, mW; false when unsupported or failed.
  virtual bool PowerMw(int index, unsigned* power_mw) = 0;
  // Loads libnvidia-ml.so.1 and initialises NVML; UNAVAILABLE saying why when it cannot.
  static absl::StatusOr<std::unique_ptr<NvmlApi>> LoadReal();
};

struct NvmlSensorOptions {
  // The NVML to use; nullptr loads the real library.
  std::unique_ptr<NvmlApi> api;
  Clock* clock = nullptr;  // default Clock::Real(); not owned
};

class NvmlSensor final : public PolledSensor {
 public:
  static std::unique_ptr<NvmlSensor> Create(NvmlSensorOptions options);
  v1::Source Describe() const override { return info_; }

 private:
  explicit NvmlSensor(Clock* clock) : PolledSensor(clock) {}
  absl::Status ReadBaseline(int64_t now_ns) override;
  absl::Status ReadWindow(int64_t now_ns, int64_t window_ns,
                          std::vector<Reading>* readings) override;

  struct Gpu {
    int index;
    std::string channel;
    bool has_energy_counter;
    uint64_t last_energy_mj = 0;
    double last_power_mw = 0;
  };
  std::unique_ptr<NvmlApi> api_;
  v1::Source info_;
  std::vector<Gpu> gpus_;
};

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_NVML_SENSOR_H_
