#include "daemon/power/sensor_feed.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace eprof::daemon {

absl::StatusOr<std::unique_ptr<SensorFeed>> SensorFeed::Start(std::unique_ptr<power::Sensor> sensor,
                                                              uint32_t interval_ms,
                                                              size_t ring_capacity) {
  v1::Source info = sensor->Describe();
  if (!info.available()) {
    return absl::FailedPreconditionError(
        absl::StrCat("power source ", info.name(), " is unavailable: ", info.unavailable_reason()));
  }
  int64_t interval_ns = interval_ms == 0 ? info.default_interval_ns() : interval_ms * 1'000'000LL;
  std::unique_ptr<SensorFeed> feed(
      new SensorFeed(std::move(sensor), std::move(info), interval_ns, ring_capacity));
  if (absl::Status s = feed->sensor_->Start(feed->interval_ns_.load()); !s.ok()) return s;
  feed->thread_ = std::thread([f = feed.get()] { f->Loop(); });
  return feed;
}

SensorFeed::SensorFeed(std::unique_ptr<power::Sensor> sensor, v1::Source info, int64_t interval_ns,
                       size_t ring_capacity)
    : sensor_(std::move(sensor)), info_(std::move(info)), hub_(ring_capacity),
      interval_ns_(Clamp(interval_ns)) {}

SensorFeed::~SensorFeed() {
  stopping_ = true;
  sensor_->Interrupt();
  hub_.Close();
  if (thread_.joinable()) thread_.join();
  sensor_->Stop();
}

int64_t SensorFeed::Clamp(int64_t interval_ns) const {
  return std::clamp(interval_ns, std::max<int64_t>(info_.min_interval_ns(), power::kMinApiIntervalNs),
                    std::max<int64_t>(info_.max_interval_ns(), info_.min_interval_ns()));
}

void SensorFeed::SetInterval(uint32_t interval_ms) {
  const int64_t next = Clamp(interval_ms == 0 ? info_.default_interval_ns() : interval_ms * 1'000'000LL);
  const int64_t previous = interval_ns_.exchange(next);
  // A shorter interval takes effect at once: end the sleep through the current (possibly
  // minute-long) window (Sensor::Wake).
  if (next < previous) sensor_->Wake();
}

PowerFeedState SensorFeed::state() const {
  PowerFeedState st;
  {
    absl::MutexLock lock(&mu_);
    st.error = error_;
  }
  st.connected = st.error.empty();
  st.source = info_.name();
  st.channels.assign(info_.channels().begin(), info_.channels().end());
  st.interval_ns = interval_ns_.load();
  st.dropped_from_ring = hub_.dropped_from_ring();
  st.has_latest = hub_.Latest(&st.latest);
  return st;
}

void SensorFeed::Loop() {
  uint64_t seq = 0;
  power::SensorSample next;  // reused: the sensor fills it in place
  while (!stopping_) {
    absl::Status status = sensor_->NextInto(interval_ns_.load(), &next);
    if (status.code() == absl::StatusCode::kAborted) continue;  // woken: the new interval now
    if (!status.ok() && status.code() == absl::StatusCode::kCancelled && !stopping_) {
      // A sensor whose cadence is fixed at Start: start it again at the new interval.
      sensor_->Stop();
      status = sensor_->Start(interval_ns_.load());
      if (status.ok()) continue;
    }
    if (!status.ok()) {
      if (stopping_ || status.code() == absl::StatusCode::kCancelled) return;
      std::string error = absl::StrCat("power source ", info_.name(), " failed: ", status.message());
      EPROF_LOG(ERROR) << error;
      {
        absl::MutexLock lock(&mu_);
        error_ = error;
      }
      hub_.PublishState(false, error);
      return;
    }
    v1::PowerSample s;
    s.set_seq(seq++);
    s.set_t_end_ns(next.t_end_ns);
    s.set_window_ns(next.window_ns);
    s.set_source(info_.name());
    for (const power::Reading& r : next.readings) {
      v1::Reading* out = s.add_readings();
      out->set_channel(r.channel);
      out->set_energy_mj(r.energy_mj);
      out->set_power_mw(r.power_mw);
      out->set_quality(r.quality);
    }
    hub_.Publish(s);
  }
}

}  // namespace eprof::daemon
