#include "common/uds_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/peer_credentials.h"
#include "common/secure_dir.h"

namespace eprof {

absl::StatusOr<int> ConnectToTrustedServer(const std::string& socket_path, bool default_path,
                                           const std::string& server_name) {
  const std::string dir = DirectoryOf(socket_path);
  absl::StatusOr<SocketDirectory> directory = InspectSocketDirectory(dir);
  if (!directory.ok() && !absl::IsNotFound(directory.status())) return directory.status();
  if (default_path && directory.ok() &&
      ((directory->owner != ::getuid() && directory->owner != 0) ||
       directory->writable_by_others)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to use ", dir, ": it is owned by ", DescribeUser(directory->owner),
        directory->writable_by_others ? " and others may write to it" : "",
        ", not private to you (", DescribeUser(::getuid()), "). Another local user may have made "
        "it to intercept eprof's socket: remove it, then restart ", server_name));
  }
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    return absl::InvalidArgumentError(absl::StrCat("the socket path ", socket_path, " is longer than ",
                                                   sizeof addr.sun_path - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoToStatus(errno, "socket()");
  // Non-blocking from the start: a server whose backlog is full must not hold the caller.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoToStatus(err, "fcntl(O_NONBLOCK)");
  }
  int rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno == EINPROGRESS) {  // macOS may say so; wait for it, briefly
    struct pollfd p = {fd, POLLOUT, 0};
    int so_error = ETIMEDOUT;
    socklen_t len = sizeof so_error;
    if (::poll(&p, 1, 2000) == 1) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    errno = so_error;
    rc = so_error == 0 ? 0 : -1;
  }
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    switch (err) {
      case ENOENT:
      case ENOTDIR:
        return absl::UnavailableError(absl::StrCat("no socket there"));
      case ECONNREFUSED:
        return absl::UnavailableError(
            absl::StrCat("nothing listens there: ", server_name, " has stopped"));
      case EAGAIN:
      case ETIMEDOUT:
        return absl::UnavailableError(absl::StrCat(
            server_name, " is not accepting connections now (its queue of new connections is "
            "full): try again"));
      case EACCES:
      case EPERM:
        return absl::PermissionDeniedError(absl::StrCat(
            "permission denied connecting to ", server_name, " at ", socket_path,
            ": it belongs to another user, who must start ", server_name, " with --allow-uid ",
            ::getuid(), " for you to use it (or use your own ", server_name, ")"));
      default:
        return ErrnoToStatus(err, absl::StrCat("connect to ", socket_path));
    }
  }
  absl::StatusOr<PeerCredentials> peer = GetPeerCredentials(fd);
  if (!peer.ok()) {
    ::close(fd);
    return absl::Status(peer.status().code(), absl::StrCat("cannot tell who listens at ",
                                                           socket_path, ": ",
                                                           peer.status().message()));
  }
  SocketDirectory trusted = directory.ok() ? *directory : SocketDirectory{};
  if (!directory.ok()) trusted.writable_by_others = true;  // unknown: trust only self and root
  if (!trusted.MayServe(peer->uid)) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to talk to the server at ", socket_path, ": it runs as ", DescribePeer(*peer),
        ", not as you (", DescribeUser(::getuid()), ")",
        trusted.writable_by_others ? absl::StrCat(", in ", dir, ", where anyone may create files")
                                   : "",
        ". It may be another user's program waiting for your prompts: use your own ",
        server_name, "'s socket"));
  }
#if defined(SO_NOSIGPIPE)
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return fd;
}

}  // namespace eprof
