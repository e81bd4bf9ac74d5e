// Why a run's generation stopped: the one list of reasons, and the one place that maps each to
// RunSummary.stop_reason's string (what eprofctl, the dashboard and exports show).
// A value type; thread-compatible.
#ifndef EPROF_DAEMON_PROFILER_STOP_REASON_H_
#define EPROF_DAEMON_PROFILER_STOP_REASON_H_

#include <string_view>

namespace eprof::daemon {

enum class StopReason {
  kEos,           // the model produced an end-of-sequence token
  kMaxNewTokens,  // the request's max_new_tokens were generated
  kCancelled,     // cancelled by a client (running or queued)
  kError,         // the run failed (RunSummary.error says why)
  kInterrupted,   // eprofd stopped during the run; rebuilt at the next start
};

// RunSummary.stop_reason's string for `r`.
constexpr std::string_view StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kEos: return "eos";
    case StopReason::kMaxNewTokens: return "max_new_tokens";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kError: return "error";
    case StopReason::kInterrupted: return "interrupted";
  }
  return "error";
}

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_STOP_REASON_H_
