#include "daemon/profiler/run_events.h"

#include "common/logging.h"

namespace eprof::daemon {

void RunEvents::Emit(v1::ProfileEvent& event) {
  event.set_t_ns(clock_->NowNs());
  log_->Append(event);
}

void RunEvents::Warn(const std::string& code, const std::string& message) {
  v1::Warning w;
  w.set_code(code);
  w.set_message(message);
  w.set_t_ns(clock_->NowNs());
  {
    absl::MutexLock lock(&mu_);
    warnings_.push_back(w);
  }
  EPROF_LOG(WARNING) << "run " << run_id_ << ": " << message;
  v1::ProfileEvent e;
  *e.mutable_warning() = std::move(w);
  Emit(e);
}

std::vector<v1::Warning> RunEvents::warnings() const {
  absl::MutexLock lock(&mu_);
  return warnings_;
}

}  // namespace eprof::daemon
