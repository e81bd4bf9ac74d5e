// `eprof-power-helper probe`: prints the sources and channels found, then samples of one source,
// without a socket. With --json each sample is one JSON object per line (the replay trace
// format, see sensors/replay_sensor.h), the source list going to stderr so stdout stays a trace.
#ifndef EPROF_POWER_HELPER_PROBE_H_
#define EPROF_POWER_HELPER_PROBE_H_

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <vector>

#include "power_helper/sensors/sensor.h"

namespace eprof::power {

struct ProbeOptions {
  int64_t samples = 5;        // -1 = all (until the recording ends or a signal)
  int64_t interval_ms = 0;    // 0 = the source's default
  bool json = false;
  const std::atomic<bool>* stop = nullptr;  // set by a signal handler; may be null
};

// One sample as a trace line: {"seq","t_end_ns","window_ns","source","channels":{...}}.
std::string SampleToJson(uint64_t seq, const std::string& source, const SensorSample& sample);

// Runs the probe on sensors[0] (the default or requested source); returns the exit code.
int RunProbe(std::vector<std::unique_ptr<Sensor>>& sensors, const ProbeOptions& options,
             std::ostream& out, std::ostream& info);

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_PROBE_H_
