#include "power_helper/service/source_runner.h"

#include <pthread.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace eprof::power {

SourceRunner::SourceRunner(std::unique_ptr<Sensor> sensor)
    : sensor_(std::move(sensor)), info_(sensor_->Describe()) {}

bool SourceRunner::Subscribe(std::shared_ptr<Subscriber> subscriber) {
  absl::MutexLock lock(&mu_);
  if (shutdown_) return false;
  // A subscriber that wants samples sooner than the sensor runs must not wait out the current
  // (possibly minute-long) window: restart the sensor at once at the shorter interval.
  if (running_interval_ns_ > 0 && subscriber->interval_ns() < running_interval_ns_) {
    sensor_->Wake();
  }
  subscribers_.push_back(std::move(subscriber));
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { Loop(); });
    // Named so that `top -H` and the benchmark's per-thread figures tell it from gRPC's threads.
    pthread_setname_np(thread_.native_handle(), "eprof-sampler");
  }
  return true;
}

void SourceRunner::Unsubscribe(Subscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  auto it = std::find_if(subscribers_.begin(), subscribers_.end(),
                         [&](const auto& s) { return s.get() == subscriber; });
  if (it == subscribers_.end()) return;
  subscribers_.erase(it);
  if (subscribers_.empty()) sensor_->Interrupt();
}

size_t SourceRunner::subscriber_count() const {
  absl::MutexLock lock(&mu_);
  return subscribers_.size();
}

uint64_t SourceRunner::starts() const {
  absl::MutexLock lock(&mu_);
  return starts_;
}

void SourceRunner::EndAll(const absl::Status& status) {
  std::vector<std::shared_ptr<Subscriber>> ended;
  {
    absl::MutexLock lock(&mu_);
    ended.swap(subscribers_);
  }
  for (auto& s : ended) s->OnSourceEnd(status);
}

void SourceRunner::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_ && !thread_.joinable()) return;
    shutdown_ = true;
    sensor_->Interrupt();
  }
  EndAll(absl::UnavailableError("eprof-power-helper is shutting down; reconnect with backoff"));
  if (thread_.joinable()) thread_.join();
}

void SourceRunner::Loop() {
  auto wanted_interval = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int64_t interval = info_.max_interval_ns() > 0 ? info_.max_interval_ns() : kMaxApiIntervalNs;
    for (const auto& s : subscribers_) interval = std::min(interval, s->interval_ns());
    return interval;
  };
  for (;;) {
    int64_t interval_ns;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SourceRunner* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
            return r->shutdown_ || !r->subscribers_.empty();
          },
          this));
      if (shutdown_) break;
      interval_ns = wanted_interval();
      running_interval_ns_ = interval_ns;
      ++starts_;
    }
    absl::Status started = sensor_->Start(interval_ns);
    {
      // A subscriber that came while the sensor started (Start clears a pending wake) and wants
      // a shorter interval than it was started at.
      absl::MutexLock lock(&mu_);
      if (started.ok() && !subscribers_.empty() && wanted_interval() < interval_ns) sensor_->Wake();
    }
    if (!started.ok()) {
      EPROF_LOG(WARNING) << "source " << info_.name() << " failed to start: " << started;
      sensor_->Stop();
      EndAll(absl::FailedPreconditionError(started.message()));
      continue;
    }
    EPROF_LOG(INFO) << "source " << info_.name() << " sampling every " << interval_ns / 1000
                    << " us";
    // The sample loop (the helper's steady cost: it runs at the shortest interval asked for).
    // One sample and one target list, reused: after the first pass it allocates nothing.
    std::vector<std::shared_ptr<Subscriber>> targets;
    SensorSample sample;
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (shutdown_ || subscribers_.empty()) break;
        interval_ns = wanted_interval();
      }
      absl::Status next = sensor_->NextInto(interval_ns, &sample);
      if (!next.ok()) {
        if (absl::IsAborted(next)) continue;  // woken: serve the shorter interval now
        if (absl::IsCancelled(next)) break;   // shutdown, no subscriber, or a restart
        if (absl::IsOutOfRange(next)) {
          EPROF_LOG(INFO) << "source " << info_.name() << ": " << next.message();
          EndAll(absl::OkStatus());
        } else {
          EPROF_LOG(WARNING) << "source " << info_.name() << " failed: " << next;
          EndAll(absl::UnavailableError(
              absl::StrCat("source ", info_.name(), " failed: ", next.message())));
        }
        break;
      }
      {
        absl::MutexLock lock(&mu_);
        targets = subscribers_;  // copy-assignment keeps the vector's storage
      }
      // Outside the lock: subscribers queue without blocking.
      for (const auto& s : targets) s->OnSample(sample);
      targets.clear();
    }
    {
      absl::MutexLock lock(&mu_);
      running_interval_ns_ = 0;
    }
    sensor_->Stop();
    EPROF_LOG(INFO) << "source " << info_.name() << " stopped";
  }
  sensor_->Stop();
}

}  // namespace eprof::power
