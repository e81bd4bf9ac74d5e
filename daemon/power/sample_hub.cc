#include "daemon/power/sample_hub.h"

#include <algorithm>

namespace eprof::daemon {

void SampleHub::Publish(const v1::PowerSample& published) {
  v1::PowerSample sample = published;
  {
    absl::MutexLock lock(&mu_);
    sample.set_seq(next_seq_++);
    if (ring_.empty() || sample.t_end_ns() - sample.window_ns() >= ring_.back().t_end_ns()) {
      ring_.push_back(sample);
      if (ring_.size() > capacity_) {
        ring_.pop_front();
        ++dropped_;
      }
    }
  }
  absl::MutexLock lock(&listeners_mu_);
  for (auto& [id, l] : listeners_) {
    if (l.first) l.first(sample);
  }
}

void SampleHub::PublishState(bool connected, const std::string& error) {
  absl::MutexLock lock(&listeners_mu_);
  for (auto& [id, l] : listeners_) {
    if (l.second) l.second(connected, error);
  }
}

void SampleHub::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

std::vector<v1::PowerSample> SampleHub::SamplesSince(int64_t t_ns) const {
  absl::MutexLock lock(&mu_);
  auto first = std::upper_bound(ring_.begin(), ring_.end(), t_ns,
                                [](int64_t t, const v1::PowerSample& s) { return t < s.t_end_ns(); });
  return std::vector<v1::PowerSample>(first, ring_.end());
}

bool SampleHub::WaitForCoverage(int64_t t_ns, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto covered = [this, t_ns]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return closed_ || (!ring_.empty() && ring_.back().t_end_ns() >= t_ns);
  };
  mu_.AwaitWithTimeout(absl::Condition(&covered), timeout);
  return !ring_.empty() && ring_.back().t_end_ns() >= t_ns;
}

int SampleHub::AddListener(PowerFeed::SampleListener on_sample, PowerFeed::StateListener on_state) {
  absl::MutexLock lock(&listeners_mu_);
  int id = next_id_++;
  listeners_[id] = {std::move(on_sample), std::move(on_state)};
  return id;
}

void SampleHub::RemoveListener(int id) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(id);
}

uint64_t SampleHub::dropped_from_ring() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

bool SampleHub::Latest(v1::PowerSample* out) const {
  absl::MutexLock lock(&mu_);
  if (ring_.empty()) return false;
  *out = ring_.back();
  return true;
}

}  // namespace eprof::daemon
