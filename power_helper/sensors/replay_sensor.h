// Plays a recorded capture as a source: a powermetrics plist stream, or eprof's own JSON-lines
// trace (what `eprof-power-helper probe --json` prints: one object per line with seq, t_end_ns,
// window_ns and channels{name: {energy_mj, power_mw, quality}}).
//
// Exact: windows and energies are returned as recorded. In real time (default) the recorded
// timestamps are re-based onto the clock: the first window starts at Start() and ends one window
// later, and every later window keeps its recorded boundaries relative to the first. With
// `fast`, samples come as fast as they are asked for, with their recorded timestamps (a plist
// capture, which has none, gets back-to-back windows from 0). The recording ends with
// OUT_OF_RANGE; Start() plays it again from the beginning.
#ifndef EPROF_POWER_HELPER_SENSORS_REPLAY_SENSOR_H_
#define EPROF_POWER_HELPER_SENSORS_REPLAY_SENSOR_H_

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "power_helper/sensors/file_system.h"
#include "power_helper/sensors/sensor.h"

namespace eprof::power {

// The largest capture a replay loads, bytes (it is parsed whole, in memory).
inline constexpr size_t kMaxReplayBytes = 256u << 20;

struct ReplaySensorOptions {
  std::string path;           // the capture; required
  bool fast = false;          // no pacing (default: real time)
  FileSystem* fs = nullptr;   // default FileSystem::Real(); not owned
  Clock* clock = nullptr;     // default Clock::Real(); not owned
};

class ReplaySensor final : public Sensor {
 public:
  // Loads and parses the whole capture. FAILED_PRECONDITION for a path that is not a regular
  // file (a device such as /dev/zero, a FIFO) or is larger than kMaxReplayBytes; INVALID_ARGUMENT
  // naming the file and line for a trace that does not parse, has no samples, or holds a
  // negative, non-finite or absurd (over 100 kW) energy or power; the file's read error otherwise.
  static absl::StatusOr<std::unique_ptr<ReplaySensor>> Create(const ReplaySensorOptions& options);

  v1::Source Describe() const override { return info_; }
  absl::Status Start(int64_t interval_ns) override;
  absl::Status NextInto(int64_t interval_ns, SensorSample* sample) override;
  void Interrupt() override { interrupt_.Interrupt(); }
  // The recording's windows are what they are: a new interval changes nothing here.
  void Wake() override {}
  void Stop() override {}

  const std::vector<SensorSample>& recorded() const { return recorded_; }

 private:
  explicit ReplaySensor(const ReplaySensorOptions& options);

  ReplaySensorOptions options_;
  Clock* clock_;
  v1::Source info_;
  std::vector<SensorSample> recorded_;
  SleepInterrupt interrupt_;
  size_t next_ = 0;
  int64_t offset_ns_ = 0;
};

// OK when every reading of `s` has a finite, non-negative energy and power of at most 100 kW
// and the window is positive; INVALID_ARGUMENT naming the channel and the value otherwise.
absl::Status CheckRecordedSample(const SensorSample& s);

// Parses a JSON-lines trace. INVALID_ARGUMENT naming the line on error.
absl::StatusOr<std::vector<SensorSample>> ParseJsonTrace(const std::string& text);

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_REPLAY_SENSOR_H_
