// A live stream of power samples as the profiler consumes it: the helper client (PowerClient)
// and an in-process source both provide one.
//
// Thread safety: every method is thread-safe; listeners are called on the feed's own thread and
// must be quick.
#ifndef EPROF_DAEMON_POWER_POWER_FEED_H_
#define EPROF_DAEMON_POWER_POWER_FEED_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "eprof/v1/power.pb.h"

namespace eprof::daemon {

// What a feed knows about its source right now.
struct PowerFeedState {
  bool connected = false;
  // Why not connected (the last error), or empty.
  std::string error;
  // The source's name and channels.
  std::string source;
  std::vector<v1::Channel> channels;
  // Interval in use, ns; 0 when not connected.
  int64_t interval_ns = 0;
  // Times the stream broke and was re-established.
  uint64_t reconnects = 0;
  // Samples the source reported dropped for us (slow reading).
  uint64_t dropped_by_helper = 0;
  // Samples pushed out of the feed's ring.
  uint64_t dropped_from_ring = 0;
  // The latest sample, if any.
  bool has_latest = false;
  v1::PowerSample latest;
};

class PowerFeed {
 public:
  virtual ~PowerFeed() = default;

  virtual PowerFeedState state() const = 0;
  // Samples every `interval_ms` from now on (0 = the source's default).
  virtual void SetInterval(uint32_t interval_ms) = 0;
  // Samples whose window ends after `t_ns`, oldest first.
  virtual std::vector<v1::PowerSample> SamplesSince(int64_t t_ns) const = 0;
  // True once a sample ending at or after `t_ns` has arrived; false after `timeout`.
  virtual bool WaitForCoverage(int64_t t_ns, absl::Duration timeout) const = 0;

  using SampleListener = std::function<void(const v1::PowerSample&)>;
  using StateListener = std::function<void(bool connected, const std::string& error)>;
  // Listeners get every new sample and every change of connection; returns an id.
  virtual int AddListener(SampleListener on_sample, StateListener on_state) = 0;
  virtual void RemoveListener(int id) = 0;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_POWER_POWER_FEED_H_
