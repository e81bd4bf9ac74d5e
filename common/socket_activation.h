// Listening sockets handed over by the service manager (systemd socket units, launchd Sockets).
//
//   EPROF_ASSIGN_OR_RETURN(int fd, TakeActivatedListenFd("Listeners"));
//   if (fd >= 0) options.listen_fd = fd;   // else bind the socket ourselves
//
// Debian's gRPC is not linked with libsystemd, so eprof reads the protocol itself: LISTEN_PID
// must equal our pid, LISTEN_FDS gives the count, fds start at 3 (sd_listen_fds(3)). On macOS,
// launch_activate_socket(name) from <launch.h>.
#ifndef EPROF_COMMON_SOCKET_ACTIVATION_H_
#define EPROF_COMMON_SOCKET_ACTIVATION_H_

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace eprof {

// Returns the activated listening fd (close-on-exec set; the environment variables are unset so
// children do not inherit them), or -1 when the process was not socket-activated.
// Returns INVALID_ARGUMENT when more than one socket was passed, or a passed fd is not a
// listening Unix stream socket. `launchd_name` is the key under the plist's Sockets dictionary.
absl::StatusOr<int> TakeActivatedListenFd(absl::string_view launchd_name = "Listeners");

}  // namespace eprof

#endif  // EPROF_COMMON_SOCKET_ACTIVATION_H_
