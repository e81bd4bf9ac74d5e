// Translating errno into absl::Status, once, at the edge where a system call fails.
//
//   if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
//   // → NOT_FOUND "open /sys/x: No such file or directory (errno 2)"
#ifndef EPROF_COMMON_ERRNO_STATUS_H_
#define EPROF_COMMON_ERRNO_STATUS_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace eprof {

// Returns a status whose code follows `errno_value` (ENOENT → NOT_FOUND, EACCES/EPERM →
// PERMISSION_DENIED, ...) and whose message is "`what`: strerror (errno N)".
absl::Status ErrnoToStatus(int errno_value, absl::string_view what);

}  // namespace eprof

#endif  // EPROF_COMMON_ERRNO_STATUS_H_
