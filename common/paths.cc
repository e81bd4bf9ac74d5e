#include "common/paths.h"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace eprof {

std::string DefaultDaemonSocket(bool use_env) {
  if (use_env) {
    if (const char* env = std::getenv("EPROF_SOCKET"); env != nullptr && *env != '\0') return env;
  }
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg == '/') {
    return absl::StrCat(xdg, "/eprof/eprofd.sock");
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp != nullptr && *tmp == '/' ? tmp : "/tmp";
#if defined(__APPLE__)
  // A LaunchAgent may start without $TMPDIR; a Terminal's $TMPDIR is this per-user directory,
  // so asking for it keeps eprofd under launchd and eprofctl in a shell on the same socket.
  if (tmp == nullptr || *tmp != '/') {
    char dir[PATH_MAX];
    if (size_t n = confstr(_CS_DARWIN_USER_TEMP_DIR, dir, sizeof dir); n > 0 && n <= sizeof dir) {
      base = dir;
    }
  }
#endif
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return absl::StrCat(base, "/eprof-", getuid(), "/eprofd.sock");
}

std::string DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return absl::StrCat(xdg, "/eprof");
  }
  const char* home = std::getenv("HOME");
#if defined(__APPLE__)
  return absl::StrCat(home != nullptr ? home : "/tmp", "/Library/Application Support/eprof");
#else
  return absl::StrCat(home != nullptr ? home : "/tmp", "/.local/share/eprof");
#endif
}

}  // namespace eprof
