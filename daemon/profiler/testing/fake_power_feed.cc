#include "daemon/profiler/testing/fake_power_feed.h"

#include <algorithm>

#include "common/clock.h"

namespace eprof::daemon::testing {

FakePowerFeed::FakePowerFeed(int window_ms, std::function<double(int64_t)> power_mw,
                             v1::Quality quality)
    : window_ns_(window_ms * 1'000'000LL), power_mw_(std::move(power_mw)), quality_(quality),
      thread_([this] { Loop(); }) {}

FakePowerFeed::~FakePowerFeed() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void FakePowerFeed::Loop() {
  Clock* clock = Clock::Real();
  int64_t end = clock->NowNs() + window_ns_;
  for (int64_t k = 0;; ++k, end += window_ns_) {
    clock->SleepUntilNs(end);
    v1::PowerSample s;
    bool deliver;
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      deliver = !paused_;
      if (deliver) {
        s.set_seq(k);
        s.set_t_end_ns(end);
        s.set_window_ns(window_ns_);
        s.set_source("fake");
        v1::Reading* r = s.add_readings();
        r->set_channel("cpu");
        r->set_power_mw(power_mw_(k));
        r->set_energy_mj(power_mw_(k) * window_ns_ * 1e-9);
        r->set_quality(quality_);
        emitted_.push_back(s);
      }
    }
    if (!deliver) continue;
    absl::MutexLock lock(&listeners_mu_);
    for (auto& [id, l] : listeners_) {
      if (l.first) l.first(s);
    }
  }
}

PowerFeedState FakePowerFeed::state() const {
  absl::MutexLock lock(&mu_);
  PowerFeedState st;
  st.connected = !paused_;
  st.error = paused_ ? "fake helper paused" : "";
  st.source = "fake";
  v1::Channel c;
  c.set_name("cpu");
  c.set_kind(v1::CHANNEL_KIND_CPU);
  c.set_quality(quality_);
  st.channels = {c};
  st.interval_ns = window_ns_;
  return st;
}

void FakePowerFeed::SetInterval(uint32_t interval_ms) {
  absl::MutexLock lock(&mu_);
  intervals_.push_back(interval_ms);
}

std::vector<uint32_t> FakePowerFeed::requested_intervals() const {
  absl::MutexLock lock(&mu_);
  return intervals_;
}

std::vector<v1::PowerSample> FakePowerFeed::SamplesSince(int64_t t_ns) const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::PowerSample> out;
  for (const auto& s : emitted_) {
    if (s.t_end_ns() > t_ns) out.push_back(s);
  }
  return out;
}

bool FakePowerFeed::WaitForCoverage(int64_t t_ns, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto covered = [this, t_ns]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !emitted_.empty() && emitted_.back().t_end_ns() >= t_ns;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&covered), timeout);
}

int FakePowerFeed::AddListener(SampleListener on_sample, StateListener on_state) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_[next_id_] = {std::move(on_sample), std::move(on_state)};
  return next_id_++;
}

void FakePowerFeed::RemoveListener(int id) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(id);
}

void FakePowerFeed::Pause() {
  {
    absl::MutexLock lock(&mu_);
    paused_ = true;
  }
  absl::MutexLock lock(&listeners_mu_);
  for (auto& [id, l] : listeners_) {
    if (l.second) l.second(false, "fake helper paused");
  }
}

void FakePowerFeed::Resume() {
  {
    absl::MutexLock lock(&mu_);
    paused_ = false;
  }
  absl::MutexLock lock(&listeners_mu_);
  for (auto& [id, l] : listeners_) {
    if (l.second) l.second(true, "");
  }
}

std::vector<v1::PowerSample> FakePowerFeed::emitted() const {
  absl::MutexLock lock(&mu_);
  return emitted_;
}

double FakePowerFeed::IntegralMj(int64_t a_ns, int64_t b_ns) const {
  absl::MutexLock lock(&mu_);
  double e = 0;
  for (const auto& s : emitted_) {
    int64_t lo = std::max(a_ns, s.t_end_ns() - s.window_ns());
    int64_t hi = std::min(b_ns, s.t_end_ns());
    if (hi > lo) e += s.readings(0).power_mw() * (hi - lo) * 1e-9;
  }
  return e;
}

}  // namespace eprof::daemon::testing
