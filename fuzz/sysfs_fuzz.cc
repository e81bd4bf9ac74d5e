// The sysfs value readers: RAPL's powercap zones and hwmon's power inputs, the input cut at NUL
// bytes into the contents of each file they read (name, energy_uj, max_energy_range_uj,
// power1_input, ...: fuzz_fs.h), and ReadUint64File and ReadTrimmedFile on the whole input.
#include "common/clock.h"
#include "fuzz/fuzz_fs.h"
#include "fuzz/fuzz_util.h"
#include "power_helper/sensors/hwmon_sensor.h"
#include "power_helper/sensors/rapl_sensor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string contents(eprof::fuzz::View(data, size));
  eprof::FakeClock clock(1'000'000'000);  // sleeps move it on: no real waiting
  const eprof::fuzz::InputFileSystem whole(contents, {});
  (void)eprof::power::ReadUint64File(whole, "/sys/fuzz");
  (void)eprof::power::ReadTrimmedFile(whole, "/sys/fuzz");
  eprof::fuzz::InputFileSystem rapl_fs(contents, {"intel-rapl:0", "intel-rapl:0:0"}, true);
  eprof::power::RaplSensorOptions rapl;
  rapl.fs = &rapl_fs;
  rapl.clock = &clock;
  std::unique_ptr<eprof::power::RaplSensor> r = eprof::power::RaplSensor::Create(rapl);
  eprof::power::SensorSample sample;
  if (r != nullptr && r->Start(1'000'000).ok()) (void)r->NextInto(1'000'000, &sample);
  eprof::fuzz::InputFileSystem hwmon_fs(contents, {"hwmon0", "power1_input", "name"}, true);
  eprof::power::HwmonSensorOptions hwmon;
  hwmon.fs = &hwmon_fs;
  hwmon.clock = &clock;
  std::unique_ptr<eprof::power::HwmonSensor> h = eprof::power::HwmonSensor::Create(hwmon);
  if (h != nullptr && h->Start(1'000'000).ok()) (void)h->NextInto(1'000'000, &sample);
  return 0;
}
