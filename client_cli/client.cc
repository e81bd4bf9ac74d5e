#include "client_cli/client.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <grpcpp/create_channel_posix.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/peer_credentials.h"
#include "common/secure_dir.h"

namespace eprof::cli {
namespace {

constexpr char kStartAdvice[] =
    "start it with `eprofd` (or deploy/quickstart.sh), or point --socket / EPROF_SOCKET at its "
    "socket";

}  // namespace

Client::Client(std::string socket, bool default_path) : socket_(std::move(socket)) {
  int fd = Connect(default_path);
  if (fd >= 0) {
    channel_ = grpc::CreateInsecureChannelFromFd("eprofd", fd);
  } else {
    // No request may reach whatever is at socket_: every call fails at once, and Fail() prints
    // connect_error_.
    channel_ = grpc::CreateChannel("unix:/dev/null/eprofctl-not-connected",
                                   grpc::InsecureChannelCredentials());
  }
  stub_ = v1::ProfilerService::NewStub(channel_);
}

int Client::Connect(bool default_path) {
  const std::string dir = DirectoryOf(socket_);
  absl::StatusOr<SocketDirectory> directory = InspectSocketDirectory(dir);
  if (!directory.ok() && !absl::IsNotFound(directory.status())) {
    connect_error_ = std::string(directory.status().message());
    return -1;
  }
  if (default_path && directory.ok() &&
      ((directory->owner != ::getuid() && directory->owner != 0) ||
       directory->writable_by_others)) {
    connect_error_ = absl::StrCat(
        "refusing to use ", dir, ": it is owned by ", DescribeUser(directory->owner),
        directory->writable_by_others ? " and others may write to it" : "",
        ", not private to you (", DescribeUser(::getuid()),
        "). Another local user may have made it to intercept eprof's socket: remove it, then "
        "restart eprofd");
    return -1;
  }
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof addr.sun_path) {
    connect_error_ = absl::StrCat("cannot reach eprofd at ", socket_, " (the path is longer than ",
                                  sizeof addr.sun_path - 1, " bytes)");
    return -1;
  }
  std::memcpy(addr.sun_path, socket_.data(), socket_.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    connect_error_ = absl::StrCat("socket(): ", std::strerror(errno));
    return -1;
  }
  if (::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    std::string why;
    switch (err) {
      case ENOENT:
      case ENOTDIR: why = "no socket there"; break;
      case ECONNREFUSED: why = "nothing listens there: eprofd has stopped"; break;
      case EACCES:
      case EPERM:
        connect_error_ = absl::StrCat(
            "permission denied connecting to eprofd at ", socket_, ": it belongs to another "
            "user, who must start eprofd with --allow-uid ", ::getuid(),
            " for you to use it (or use your own eprofd)");
        return -1;
      default: why = std::strerror(err); break;
    }
    connect_error_ = absl::StrCat("cannot reach eprofd at ", socket_, " (", why, "): ", kStartAdvice);
    return -1;
  }
  absl::StatusOr<PeerCredentials> peer = GetPeerCredentials(fd);
  if (!peer.ok()) {
    ::close(fd);
    connect_error_ = absl::StrCat("cannot tell who listens at ", socket_, ": ",
                                  peer.status().message());
    return -1;
  }
  SocketDirectory trusted = directory.ok() ? *directory : SocketDirectory{};
  if (!directory.ok()) trusted.writable_by_others = true;  // unknown: trust only self and root
  if (!trusted.MayServe(peer->uid)) {
    ::close(fd);
    connect_error_ = absl::StrCat(
        "refusing to talk to the server at ", socket_, ": it runs as ", DescribePeer(*peer),
        ", not as you (", DescribeUser(::getuid()), ")",
        trusted.writable_by_others ? absl::StrCat(", in ", dir, ", where anyone may create files")
                                   : "",
        ". It may be another user's program waiting for your prompts: use your own eprofd's "
        "socket");
    return -1;
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  return fd;
}

std::unique_ptr<grpc::ClientContext> Client::UnaryContext() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

int Error(int code, const std::string& message) {
  std::fprintf(stderr, "eprofctl: %s\n", message.c_str());
  return code;
}

int Client::Fail(const grpc::Status& status, const std::string& what) const {
  if (!connect_error_.empty()) return Error(kExitUnreachable, connect_error_);
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      // Connected, so eprofd was there: it went away, or said it cannot serve now.
      return Error(kExitUnreachable,
                   absl::StrCat(what, ": eprofd at ", socket_, " is unavailable (",
                                status.error_message(), "); if it has stopped, ", kStartAdvice));
    case grpc::StatusCode::NOT_FOUND:
      return Error(kExitNotFound, absl::StrCat(what, ": ", status.error_message()));
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::PERMISSION_DENIED:
      return Error(kExitRejected, absl::StrCat(what, " rejected by eprofd: ", status.error_message()));
    case grpc::StatusCode::CANCELLED:
      return Error(kExitCancelled, absl::StrCat(what, " cancelled"));
    default:
      return Error(kExitError, absl::StrCat(what, " failed: ", status.error_message()));
  }
}

}  // namespace eprof::cli
