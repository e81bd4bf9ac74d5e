#include "common/socket_activation.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <launch.h>
#endif

#include <cerrno>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace eprof {
namespace {

absl::Status CheckListeningUnixStream(int fd) {
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("activated fd ", fd));
  }
  int type = 0;
  socklen_t type_len = sizeof type;
  if (addr.ss_family != AF_UNIX ||
      getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_STREAM) {
    return absl::InvalidArgumentError(absl::StrCat(
        "activated fd ", fd, " is not a Unix stream socket: the socket unit must use "
        "ListenStream=/path (launchd: SockPathName)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> TakeActivatedListenFd(absl::string_view launchd_name) {
#if defined(__APPLE__)
  int* fds = nullptr;
  size_t count = 0;
  std::string name(launchd_name);
  int err = launch_activate_socket(name.c_str(), &fds, &count);
  if (err == ESRCH || err == ENOENT) return -1;  // not launched by launchd, or no such socket
  if (err != 0) return ErrnoToStatus(err, absl::StrCat("launch_activate_socket(", name, ")"));
  if (count != 1) {
    for (size_t i = 0; i < count; ++i) close(fds[i]);
    free(fds);
    return absl::InvalidArgumentError(absl::StrCat(
        "launchd passed ", count, " sockets for '", name, "'; eprof listens on exactly one"));
  }
  int fd = fds[0];
  free(fds);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (absl::Status s = CheckListeningUnixStream(fd); !s.ok()) {
    close(fd);
    return s;
  }
  return fd;
#else
  (void)launchd_name;
  const char* pid_env = std::getenv("LISTEN_PID");
  const char* fds_env = std::getenv("LISTEN_FDS");
  if (pid_env == nullptr || fds_env == nullptr) return -1;
  int pid = 0;
  int count = 0;
  if (!absl::SimpleAtoi(pid_env, &pid) || pid != ::getpid()) return -1;  // meant for a parent
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  if (!absl::SimpleAtoi(fds_env, &count) || count < 1) return -1;
  constexpr int kFirstFd = 3;  // SD_LISTEN_FDS_START
  if (count != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "systemd passed ", count, " sockets (LISTEN_FDS); eprof listens on exactly one: give the "
        "socket unit a single ListenStream="));
  }
  fcntl(kFirstFd, F_SETFD, FD_CLOEXEC);
  if (absl::Status s = CheckListeningUnixStream(kFirstFd); !s.ok()) return s;
  return kFirstFd;
#endif
}

}  // namespace eprof
