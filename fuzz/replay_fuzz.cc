// A replay trace (eprof-power-helper --source replay): a powermetrics plist stream or a probe
// --json trace, checked sample by sample, then replayed.
#include "fuzz/fuzz_fs.h"
#include "fuzz/fuzz_util.h"
#include "power_helper/sensors/replay_sensor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  eprof::fuzz::InputFileSystem fs(std::string(eprof::fuzz::View(data, size)), {});
  eprof::power::ReplaySensorOptions options;
  options.path = "/trace";
  options.fast = true;
  options.fs = &fs;
  auto sensor = eprof::power::ReplaySensor::Create(options);
  if (!sensor.ok()) return 0;
  if (!(*sensor)->Start(100'000'000).ok()) return 0;
  eprof::power::SensorSample sample;
  for (int i = 0; i < 8 && (*sensor)->NextInto(100'000'000, &sample).ok(); ++i) {
  }
  return 0;
}
