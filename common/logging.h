// One logging facility for every eprof binary: leveled lines on stderr.
//
//   EPROF_LOG(INFO) << "serving on " << path;
//   EPROF_LOG(WARNING) << "skipped malformed plist document: " << status;
//
// A line looks like
//   2026-11-23T01:23:45.123Z W eprof-power-helper power_helper/sensors/powermetrics.cc:88] text
// and is written with one write(2), so lines from different threads never interleave.
//
// The minimum level is INFO unless set with SetMinLogLevel() (binaries take a --log-level flag)
// or the EPROF_LOG_LEVEL environment variable (debug, info, warning, error), read once.
// Messages below the minimum cost one comparison; their stream expressions are not evaluated.
//
// Thread safety: everything here may be called from any thread.
#ifndef EPROF_COMMON_LOGGING_H_
#define EPROF_COMMON_LOGGING_H_

#include <sstream>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace eprof {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Parses "debug", "info", "warning" (or "warn"), "error", case-insensitively.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text);

void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();
inline bool LogEnabled(LogLevel level) { return level >= MinLogLevel(); }

// The program name shown in every line (default "eprof"); set once in main().
void SetLogProgramName(absl::string_view name);

// One log line under construction; written when destroyed.
class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  ~LogMessage();
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;

  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  const char* file_;
  int line_;
  std::ostringstream stream_;
};

}  // namespace eprof

#define EPROF_LOG_LEVEL_DEBUG ::eprof::LogLevel::kDebug
#define EPROF_LOG_LEVEL_INFO ::eprof::LogLevel::kInfo
#define EPROF_LOG_LEVEL_WARNING ::eprof::LogLevel::kWarning
#define EPROF_LOG_LEVEL_ERROR ::eprof::LogLevel::kError

// A one-iteration loop rather than if/else, so that `if (x) EPROF_LOG(INFO) << y; else ...`
// binds as written (no dangling else).
#define EPROF_LOG(severity)                                                              \
  for (bool eprof_log_once_ = ::eprof::LogEnabled(EPROF_LOG_LEVEL_##severity); eprof_log_once_; \
       eprof_log_once_ = false)                                                          \
  ::eprof::LogMessage(EPROF_LOG_LEVEL_##severity, __FILE__, __LINE__).stream()

#endif  // EPROF_COMMON_LOGGING_H_
