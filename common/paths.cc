#include "common/paths.h"

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
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return absl::StrCat(base, "/eprof-", getuid(), "/eprofd.sock");
}

std::string DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return absl::StrCat(xdg, "/eprof");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : "/tmp", "/.local/share/eprof");
}

}  // namespace eprof
