#include "common/errno_status.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace eprof {

absl::Status ErrnoToStatus(int errno_value, absl::string_view what) {
  char buf[256];
  // GNU strerror_r may return a static string instead of filling buf; XSI returns an int.
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  const char* text = strerror_r(errno_value, buf, sizeof buf);
#else
  const char* text = strerror_r(errno_value, buf, sizeof buf) == 0 ? buf : "unknown error";
#endif
  std::string message = absl::StrCat(what, ": ", text, " (errno ", errno_value, ")");
  absl::StatusCode code = absl::ErrnoToStatusCode(errno_value);
  return absl::Status(code, message);
}

}  // namespace eprof
