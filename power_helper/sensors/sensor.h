// The one interface every power source implements, and the plain structs a sample is made of.
//
//   std::unique_ptr<Sensor> sensor = ...;               // from factory.h
//   v1::Source info = sensor->Describe();               // channels, intervals, availability
//   EPROF_RETURN_IF_ERROR(sensor->Start(100'000'000));   // window 0 starts now
//   for (;;) {
//     EPROF_RETURN_IF_ERROR(sensor->NextInto(100'000'000, &s));   // SensorSample s, reused
//     ...                                                // s.window_ns ends at s.t_end_ns
//   }
//   sensor->Stop();
//
// A sample covers (t_end_ns - window_ns, t_end_ns] of CLOCK_MONOTONIC (see common/clock.h) and
// carries one Reading per channel: energy in mJ over the window (the primary quantity) and the
// average power in mW. Windows of one Start() run are back to back.
//
// Thread safety: Start/Next/Stop are called by one thread (the source's sampling thread);
// Interrupt() may be called from any thread at any time.
#ifndef EPROF_POWER_HELPER_SENSORS_SENSOR_H_
#define EPROF_POWER_HELPER_SENSORS_SENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eprof/v1/power.pb.h"

namespace eprof::power {

// Interval limits of the API (power.proto): requests outside them are rejected.
inline constexpr int64_t kMinApiIntervalNs = 1'000'000;        // 1 ms
inline constexpr int64_t kMaxApiIntervalNs = 60'000'000'000;  // 60 s

struct Reading {
  std::string channel;  // Channel.name
  double energy_mj = 0;
  double power_mw = 0;
  v1::Quality quality = v1::QUALITY_MEASURED;
};

struct SensorSample {
  int64_t t_end_ns = 0;
  int64_t window_ns = 0;
  std::vector<Reading> readings;
};

class Sensor {
 public:
  virtual ~Sensor() = default;

  // Name, channels, intervals, availability (with the reason when unavailable). Cheap; starts
  // nothing.
  virtual v1::Source Describe() const = 0;

  // Starts sampling at `interval_ns` (already clamped to Describe()'s range); the first window
  // starts now. Errors: FAILED_PRECONDITION when the source cannot run, with what to do.
  virtual absl::Status Start(int64_t interval_ns) = 0;

  // Blocks until the next window has ended and writes it to `*sample`, replacing what it held
  // (its readings' storage is reused: the sample loop keeps one SensorSample and allocates
  // nothing per sample). `interval_ns` may differ from the previous call (sources with a fixed
  // cadence, powermetrics and replay, ignore it).
  // Returns CANCELLED after Interrupt(), OUT_OF_RANGE at the end of a finite recording (replay),
  // another error when the source failed; `*sample` is then unspecified.
  virtual absl::Status NextInto(int64_t interval_ns, SensorSample* sample) = 0;

  // NextInto() for callers that take one sample at a time (probe, tests).
  absl::StatusOr<SensorSample> Next(int64_t interval_ns) {
    SensorSample sample;
    absl::Status status = NextInto(interval_ns, &sample);
    if (!status.ok()) return status;
    return sample;
  }

  // Makes a blocked Next() return CANCELLED soon (within ~20 ms), and every later Next() too
  // until the next Start(). Any thread.
  virtual void Interrupt() = 0;
  // Asks a sampling sensor to serve a new, shorter interval at once. The default is Interrupt()
  // (NextInto returns CANCELLED and the caller restarts the sensor: a sensor whose cadence is
  // fixed at Start, such as powermetrics). A polled sensor overrides it: its NextInto returns
  // ABORTED, the window goes on, and the next NextInto uses the caller's interval. A sensor that
  // ignores the interval (replay) overrides it with nothing. May be called from any thread.
  virtual void Wake() { Interrupt(); }

  // Stops sampling and releases what Start() took (for powermetrics: stops the child). Idempotent.
  virtual void Stop() = 0;
};

// "MEASURED", "DERIVED", "ESTIMATED" (trace files, probe output) and back.
const char* QualityName(v1::Quality quality);
v1::Quality QualityFromName(const std::string& name);

// The channel kind a channel name suggests ("cpu" → CPU, "package-0" → PACKAGE, ...): for
// sources that learn their channels from a recording.
v1::ChannelKind KindFromChannelName(const std::string& name);

// A Source with its name, description and interval limits set (ns); the sensor adds its
// channels and availability. The longest interval is the API's limit unless given.
v1::Source MakeSource(const std::string& name, const std::string& description,
                      int64_t min_interval_ns, int64_t default_interval_ns,
                      int64_t max_interval_ns = kMaxApiIntervalNs);

// Fills a v1::Channel.
v1::Channel MakeChannel(const std::string& name, const std::string& source,
                        const std::string& description, v1::ChannelKind kind,
                        v1::Quality quality, const std::string& native_unit,
                        bool energy_counter, std::vector<std::string> contains = {});

// The rule for merging back-to-back windows of one source into a longer one, the one home of
// it for eprof-power-helper's subscribers (a subscriber's interval over its sensor's windows)
// and eprofd's StreamPower (daemon/power/window_merge.h): energies add up per channel, and a
// channel first seen in a later window joins; the merged quality is the worst of its parts;
// power is energy / window, except that a single window keeps the source's own figure.
//
// The worse of two qualities: measured < derived < estimated; unset counts as an estimate.
v1::Quality WorseQuality(v1::Quality a, v1::Quality b);
// The power of a merged reading of `windows` source windows spanning `window_ns`.
double MergedPowerMw(int windows, double own_power_mw, double energy_mj, int64_t window_ns);

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_SENSOR_H_
