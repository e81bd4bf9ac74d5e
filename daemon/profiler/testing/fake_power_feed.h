// A PowerFeed for tests whose power is known in every window: its own thread emits back-to-back
// windows of `window_ms`, window k at power_mw(k), stamped with the real monotonic clock. It can
// pause (a helper that went away: no samples, a state change to disconnected) and resume.
#ifndef EPROF_DAEMON_PROFILER_TESTING_FAKE_POWER_FEED_H_
#define EPROF_DAEMON_PROFILER_TESTING_FAKE_POWER_FEED_H_

#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "daemon/power/power_feed.h"

namespace eprof::daemon::testing {

class FakePowerFeed final : public PowerFeed {
 public:
  // power_mw(k) is the power of window k (from 0), mW.
  FakePowerFeed(int window_ms, std::function<double(int64_t)> power_mw,
                v1::Quality quality = v1::QUALITY_MEASURED);
  ~FakePowerFeed() override;

  PowerFeedState state() const override;
  void SetInterval(uint32_t interval_ms) override;
  std::vector<v1::PowerSample> SamplesSince(int64_t t_ns) const override;
  bool WaitForCoverage(int64_t t_ns, absl::Duration timeout) const override;
  int AddListener(SampleListener on_sample, StateListener on_state) override;
  void RemoveListener(int id) override;

  // Stops emitting (windows during the pause are lost, as when the helper dies) / resumes.
  void Pause();
  void Resume();
  // Every window emitted so far.
  std::vector<v1::PowerSample> emitted() const;
  // Exact energy of the emitted windows over [a, b), mJ: Σ_k P_k × |[a,b) ∩ window_k|.
  double IntegralMj(int64_t a_ns, int64_t b_ns) const;
  std::vector<uint32_t> requested_intervals() const;

 private:
  void Loop();

  const int64_t window_ns_;
  const std::function<double(int64_t)> power_mw_;
  const v1::Quality quality_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<v1::PowerSample> emitted_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> intervals_ ABSL_GUARDED_BY(mu_);
  absl::Mutex listeners_mu_;
  int next_id_ ABSL_GUARDED_BY(listeners_mu_) = 1;
  std::map<int, std::pair<SampleListener, StateListener>> listeners_ ABSL_GUARDED_BY(listeners_mu_);
  std::thread thread_;
};

}  // namespace eprof::daemon::testing

#endif  // EPROF_DAEMON_PROFILER_TESTING_FAKE_POWER_FEED_H_
