#include "common/logging.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace eprof {
namespace {

LogLevel InitialLevel() {
  const char* env = std::getenv("EPROF_LOG_LEVEL");
  if (env == nullptr) return LogLevel::kInfo;
  absl::StatusOr<LogLevel> level = ParseLogLevel(env);
  return level.ok() ? *level : LogLevel::kInfo;
}

std::atomic<int>& MinLevel() {
  static std::atomic<int> level{static_cast<int>(InitialLevel())};
  return level;
}

absl::Mutex program_name_mu(absl::kConstInit);
std::string* program_name ABSL_GUARDED_BY(program_name_mu) = nullptr;

char LevelLetter(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return 'D';
    case LogLevel::kInfo: return 'I';
    case LogLevel::kWarning: return 'W';
    case LogLevel::kError: return 'E';
  }
  return '?';
}

// "daemon/engine/model.cc" from an absolute __FILE__ under the source tree.
absl::string_view TrimSourcePath(absl::string_view file) {
  for (absl::string_view root : {"/power_helper/", "/daemon/", "/common/", "/client_cli/",
                                "/web_gateway/", "/tests/", "/proto/"}) {
    if (size_t pos = file.rfind(root); pos != absl::string_view::npos) {
      return file.substr(pos + 1);
    }
  }
  return file;
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warning" || lower == "warn") return LogLevel::kWarning;
  if (lower == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level '", text, "': use debug, info, warning or error"));
}

void SetMinLogLevel(LogLevel level) { MinLevel().store(static_cast<int>(level)); }

LogLevel MinLogLevel() { return static_cast<LogLevel>(MinLevel().load(std::memory_order_relaxed)); }

void SetLogProgramName(absl::string_view name) {
  absl::MutexLock lock(&program_name_mu);
  delete program_name;
  program_name = new std::string(name);
}

LogMessage::LogMessage(LogLevel level, const char* file, int line)
    : level_(level), file_(file), line_(line) {}

LogMessage::~LogMessage() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  std::string name;
  {
    absl::MutexLock lock(&program_name_mu);
    name = program_name != nullptr ? *program_name : "eprof";
  }
  std::string text = stream_.str();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  std::string out = absl::StrFormat(
      "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %c %s %s:%d] %s\n", tm.tm_year + 1900, tm.tm_mon + 1,
      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ts.tv_nsec / 1'000'000),
      LevelLetter(level_), name, TrimSourcePath(file_), line_, text);
  // One write per line so that concurrent lines do not interleave; retry on partial writes.
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace eprof
