// The daemon's connection to eprof-power-helper: subscribes to PowerService.StreamSamples on the
// helper's Unix socket, keeps a bounded ring of recent samples, and reconnects with exponential
// backoff when the helper goes away (it is restarted, upgraded, killed).
//
//   PowerClient client({.socket_path = "/var/run/eprof/power.sock", .interval_ms = 100});
//   client.Start();
//   int id = client.AddListener([](const v1::PowerSample& s) { ... });  // live samples
//   std::vector<v1::PowerSample> recent = client.SamplesSince(run_start_ns);
//   client.WaitForCoverage(run_end_ns, absl::Seconds(2));                  // post-roll
//
// The helper is trusted as the socket's owner (only root can bind in its root-owned directory).
// Samples arrive on the client's own thread; listeners are called there, in order, and must be
// quick (they hand samples to a queue). The ring holds `ring_capacity` samples; older ones are
// dropped (counted).
//
// Thread safety: every method is thread-safe. Listeners must not call AddListener /
// RemoveListener / Stop.
#ifndef EPROF_DAEMON_POWER_POWER_CLIENT_H_
#define EPROF_DAEMON_POWER_POWER_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "daemon/power/power_feed.h"
#include "daemon/power/sample_hub.h"
#include "eprof/v1/power.pb.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace eprof::daemon {

struct PowerClientOptions {
  // The helper's socket.
  std::string socket_path = "/var/run/eprof/power.sock";
  // Sample interval to subscribe at, ms (0 = the helper's default). Changed with SetInterval.
  uint32_t interval_ms = 100;
  // Samples kept for SamplesSince (at 100 ms, 36,000 samples = one hour).
  size_t ring_capacity = 36'000;
  // Reconnection backoff: starts at `initial_backoff`, doubles up to `max_backoff`.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
};

// The client's state is a PowerFeedState.
using PowerClientState = PowerFeedState;

class PowerClient final : public PowerFeed {
 public:
  explicit PowerClient(PowerClientOptions options);
  ~PowerClient() override;  // Stop()
  PowerClient(const PowerClient&) = delete;
  PowerClient& operator=(const PowerClient&) = delete;

  // Starts the connection thread. Returns at once; check state() or WaitUntilConnected().
  void Start();
  // Stops the thread and closes the stream. Idempotent.
  void Stop();

  // Resubscribes at `interval_ms` (a run's own interval). The stream restarts; samples already
  // in the ring stay.
  void SetInterval(uint32_t interval_ms) override;

  PowerClientState state() const override;
  // True once connected (Describe answered and the stream started), false after `timeout`.
  bool WaitUntilConnected(absl::Duration timeout) const;

  // Samples in the ring whose window ends after `t_ns`, oldest first.
  std::vector<v1::PowerSample> SamplesSince(int64_t t_ns) const override;

  // Returns true once a sample ending at or after `t_ns` has arrived; false after `timeout`
  // (or when the client is stopped).
  bool WaitForCoverage(int64_t t_ns, absl::Duration timeout) const override;

  // Called for each new sample, and with (connected, error) whenever the connection state
  // changes. Returns an id for RemoveListener.
  int AddListener(SampleListener on_sample, StateListener on_state = nullptr) override;
  void RemoveListener(int id) override;

 private:
  void Loop();
  // One connection: Describe, then read the stream until it ends. Returns why it ended.
  std::string RunStream(uint32_t interval_ms);
  void SetDisconnected(const std::string& error);

  const PowerClientOptions options_;
  SampleHub hub_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  PowerClientState state_ ABSL_GUARDED_BY(mu_);
  uint32_t interval_ms_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  // The live call, to cancel it from Stop / SetInterval.
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_POWER_POWER_CLIENT_H_
