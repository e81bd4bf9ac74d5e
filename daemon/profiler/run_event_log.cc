#include "daemon/profiler/run_event_log.h"

#include <algorithm>

namespace eprof::daemon {

LoggedEvent::LoggedEvent(const v1::ProfileEvent& event)
    : seq_(event.seq()), bytes_(event.SerializeAsString()) {}

v1::ProfileEvent LoggedEvent::Parse() const {
  v1::ProfileEvent event;
  event.ParseFromString(bytes_);  // made by SerializeAsString: parses
  return event;
}

uint64_t RunEventLog::Append(v1::ProfileEvent& event) {
  absl::MutexLock producer(&append_mu_);
  uint64_t seq;
  {
    absl::MutexLock lock(&mu_);
    seq = events_.size();
    if (closed_) return seq;
  }
  event.set_seq(seq);
  event.set_run_id(run_id_);
  auto logged = std::make_shared<const LoggedEvent>(event);
  absl::MutexLock lock(&mu_);
  if (closed_) return seq;  // closed while serializing
  if (event.has_phase_started()) phase_ = event.phase_started().phase();
  if (event.has_token()) ++tokens_;
  events_.push_back(std::move(logged));
  return seq;
}

void RunEventLog::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

bool RunEventLog::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

v1::Phase RunEventLog::current_phase() const {
  absl::MutexLock lock(&mu_);
  return phase_;
}

uint32_t RunEventLog::tokens() const {
  absl::MutexLock lock(&mu_);
  return tokens_;
}

bool RunEventLog::AwaitClosed(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&closed_), timeout);
  return closed_;
}

bool RunEventLog::AwaitTokens(uint32_t tokens, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto more = [this, tokens]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return closed_ || tokens_ > tokens;
  };
  mu_.AwaitWithTimeout(absl::Condition(&more), timeout);
  return tokens_ > tokens;
}

uint64_t RunEventLog::size() const {
  absl::MutexLock lock(&mu_);
  return events_.size();
}

std::vector<RunEventLog::EventPtr> RunEventLog::Read(uint64_t from_seq, absl::Duration timeout,
                                                    bool* closed, size_t max_events) const {
  absl::MutexLock lock(&mu_);
  auto ready = [this, from_seq]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return closed_ || from_seq < events_.size();
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  std::vector<EventPtr> out;
  if (from_seq < events_.size()) {
    size_t end = std::min(events_.size(), static_cast<size_t>(from_seq) + max_events);
    out.assign(events_.begin() + static_cast<std::ptrdiff_t>(from_seq),
               events_.begin() + static_cast<std::ptrdiff_t>(end));
  }
  *closed = closed_ && from_seq + out.size() >= events_.size();
  return out;
}

}  // namespace eprof::daemon
