#include "common/uds_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/secure_dir.h"
#include "common/status_macros.h"

#if !defined(GPR_SUPPORT_CHANNELS_FROM_FD)
#error "eprof needs grpc::AddInsecureChannelFromFd (GPR_SUPPORT_CHANNELS_FROM_FD)"
#endif

namespace eprof {
namespace {

// sun_path is 104 bytes on macOS and 108 on Linux, NUL included; use the smaller everywhere so a
// path that works on one platform works on the other.
constexpr size_t kMaxSocketPathBytes = 103;

// A refused peer is logged at most once per this interval (the rest are counted).
constexpr int64_t kRefusalLogIntervalNs = 5'000'000'000;

absl::Status SetNonBlockingCloexec(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoToStatus(errno, "fcntl(O_NONBLOCK)");
  }
  int fd_flags = fcntl(fd, F_GETFD);
  if (fd_flags < 0 || fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) != 0) {
    return ErrnoToStatus(errno, "fcntl(FD_CLOEXEC)");
  }
  return absl::OkStatus();
}

// Something is listening on `path` when a connect succeeds.
bool SomeoneListens(const struct sockaddr_un& addr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool listening = ::connect(fd, reinterpret_cast<const struct sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return listening;
}

}  // namespace

absl::StatusOr<std::unique_ptr<UdsServer>> UdsServer::Start(UdsServerOptions options) {
  std::unique_ptr<UdsServer> server(new UdsServer(std::move(options)));
  if (absl::Status status = server->Init(); !status.ok()) {
    server->Shutdown(absl::ZeroDuration());
    return status;
  }
  return server;
}

absl::Status UdsServer::Init() {
  const std::string& path = options_.socket_path;
  const std::string& name = options_.server_name;
  if (options_.listen_fd < 0 && path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": no socket path given"));
  }
  if (path.size() > kMaxSocketPathBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": socket path '", path, "' is ", path.size(), " bytes; Unix sockets allow at most ",
        kMaxSocketPathBytes, ": choose a shorter path"));
  }

  if (!path.empty()) {
    if (absl::Status dir = PrepareSocketDirectory(DirectoryOf(path), options_.directory_mode,
                                                  options_.set_directory_mode);
        !dir.ok()) {
      return absl::Status(dir.code(), absl::StrCat(name, ": ", dir.message()));
    }
    std::string lock_path = options_.lock_path.empty() ? path + ".lock" : options_.lock_path;
    EPROF_ASSIGN_OR_RETURN(LockFile lock, LockFile::Acquire(lock_path), name);
    lock_.emplace(std::move(lock));
  }

  if (options_.listen_fd >= 0) {
    listen_fd_ = options_.listen_fd;
    options_.listen_fd = -1;
  } else {
    struct sockaddr_un addr;
    std::memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());

    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return absl::FailedPreconditionError(absl::StrCat(
            name, ": ", path, " exists and is not a socket; refusing to replace it: remove it or "
            "choose another socket path"));
      }
      if (SomeoneListens(addr)) {
        return absl::FailedPreconditionError(absl::StrCat(
            name, ": another server is already listening on ", path,
            " (without holding its lock file): stop it first, or choose another socket path"));
      }
      // A stale socket from a process that died: nobody listens, and we hold the lock.
      if (::unlink(path.c_str()) != 0) {
        return ErrnoToStatus(errno, absl::StrCat(name, ": cannot remove stale socket ", path));
      }
      EPROF_LOG(INFO) << "removed stale socket " << path;
    }

    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return ErrnoToStatus(errno, absl::StrCat(name, ": socket()"));
    // bind() creates the file with 0777 & ~umask; mask everything so nobody can connect before
    // the explicit chmod below (connect needs write permission).
    mode_t old_umask = ::umask(0777);
    int rc = ::bind(listen_fd_, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
    int bind_errno = errno;
    ::umask(old_umask);
    if (rc != 0) return ErrnoToStatus(bind_errno, absl::StrCat(name, ": cannot bind ", path));
    owns_socket_file_ = true;
    if (::chmod(path.c_str(), options_.socket_mode) != 0) {
      return ErrnoToStatus(errno, absl::StrFormat("%s: chmod %o %s", name, options_.socket_mode, path));
    }
    if ((options_.socket_uid != static_cast<uid_t>(-1) ||
         options_.socket_gid != static_cast<gid_t>(-1)) &&
        ::chown(path.c_str(), options_.socket_uid, options_.socket_gid) != 0) {
      return ErrnoToStatus(errno, absl::StrCat(name, ": chown ", path, " to ",
                                               static_cast<int>(options_.socket_uid), ":",
                                               static_cast<int>(options_.socket_gid)));
    }
    if (::lstat(path.c_str(), &st) == 0) socket_inode_ = st.st_ino;
    if (::listen(listen_fd_, options_.backlog) != 0) {
      return ErrnoToStatus(errno, absl::StrCat(name, ": listen on ", path));
    }
  }
  // The accept loop polls, so the listening socket itself is non-blocking: a connection that
  // vanishes between poll and accept must not block the loop.
  EPROF_RETURN_IF_ERROR(SetNonBlockingCloexec(listen_fd_));

  grpc::ServerBuilder builder;
  if (options_.configure) options_.configure(builder);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) {
    return absl::InternalError(absl::StrCat(
        name, ": gRPC server failed to start (an extra listening port may be in use; see the log "
        "above)"));
  }

  if (::pipe(wake_pipe_) != 0) return ErrnoToStatus(errno, absl::StrCat(name, ": pipe()"));
  EPROF_RETURN_IF_ERROR(SetNonBlockingCloexec(wake_pipe_[0]));
  EPROF_RETURN_IF_ERROR(SetNonBlockingCloexec(wake_pipe_[1]));
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  EPROF_LOG(INFO) << name << " listening on " << (path.empty() ? "an activated socket" : path)
                  << ", allowing " << options_.policy.Describe();
  return absl::OkStatus();
}

void UdsServer::AcceptLoop() {
  struct pollfd fds[2];
  fds[0] = {listen_fd_, POLLIN, 0};
  fds[1] = {wake_pipe_[0], POLLIN, 0};
  for (;;) {
    fds[0].revents = fds[1].revents = 0;
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      EPROF_LOG(ERROR) << options_.server_name << ": poll failed, no longer accepting: "
                       << std::strerror(errno);
      return;
    }
    if (fds[1].revents != 0) return;  // Shutdown()
    if ((fds[0].revents & POLLIN) == 0) continue;
    for (;;) {  // drain the backlog
#if defined(__linux__)
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
      int fd = ::accept(listen_fd_, nullptr, nullptr);
#endif
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          EPROF_LOG(WARNING) << options_.server_name << ": accept: " << std::strerror(errno);
          if (errno == EMFILE || errno == ENFILE) ::usleep(100'000);  // let fds be freed
        }
        break;
      }
      HandleConnection(fd);
    }
  }
}

void UdsServer::LogRefusal(const std::string& line) {
  const int64_t now_ns = Clock::Real()->NowNs();
  if (last_refusal_log_ns_ != 0 && now_ns - last_refusal_log_ns_ < kRefusalLogIntervalNs) {
    ++refusals_not_logged_;
    return;
  }
  std::string more;
  if (refusals_not_logged_ > 0) {
    more = absl::StrCat(" (and ", refusals_not_logged_,
                        " more refused connections not logged since the last such line)");
  }
  EPROF_LOG(WARNING) << options_.server_name << ": " << line << more;
  last_refusal_log_ns_ = now_ns;
  refusals_not_logged_ = 0;
}

int UdsServer::OpenConnectionsOf(uid_t uid) {
  absl::MutexLock lock(&peers_mu_);
  int open = 0;
  for (auto it = peers_.begin(); it != peers_.end();) {
    struct stat st;
    if (::fstat(it->first, &st) != 0 || st.st_ino != it->second.inode ||
        st.st_dev != it->second.device) {
      it = peers_.erase(it);  // closed by gRPC (the fd may since hold another file)
      continue;
    }
    if (it->second.peer.uid == uid) ++open;
    ++it;
  }
  return open;
}

void UdsServer::HandleConnection(int fd) {
  absl::StatusOr<PeerCredentials> peer = GetPeerCredentials(fd);
  if (!peer.ok()) {
    LogRefusal(absl::StrCat("refused a connection: ", peer.status().ToString()));
    refused_.fetch_add(1);
    ::close(fd);
    return;
  }
  if (!options_.policy.Allows(*peer)) {
    LogRefusal(absl::StrCat("refused connection from ", DescribePeer(*peer),
                            ": not allowed (allowed: ", options_.policy.Describe(), ")"));
    refused_.fetch_add(1);
    ::close(fd);
    return;
  }
  if (options_.max_connections_per_uid > 0 && peer->uid != 0 &&
      OpenConnectionsOf(peer->uid) >= options_.max_connections_per_uid) {
    LogRefusal(absl::StrCat("refused connection from ", DescribePeer(*peer), ": that user holds ",
                            options_.max_connections_per_uid,
                            " connections already, the most one user may"));
    refused_.fetch_add(1);
    ::close(fd);
    return;
  }
  struct stat fd_st;
  const bool stat_ok = ::fstat(fd, &fd_st) == 0;
  const ino_t inode = stat_ok ? fd_st.st_ino : 0;
  const dev_t device = stat_ok ? fd_st.st_dev : 0;
#if !defined(__linux__)
  if (absl::Status s = SetNonBlockingCloexec(fd); !s.ok()) {
    EPROF_LOG(WARNING) << options_.server_name << ": " << s;
    ::close(fd);
    return;
  }
#endif
#if defined(SO_NOSIGPIPE)
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  {
    absl::MutexLock lock(&peers_mu_);
    peers_[fd] = Connection{*peer, inode, device};
  }
  accepted_.fetch_add(1);
  EPROF_LOG(DEBUG) << options_.server_name << ": accepted " << DescribePeer(*peer) << " on fd "
                   << fd;
  grpc::AddInsecureChannelFromFd(server_.get(), fd);  // gRPC owns fd from here on
}

std::optional<PeerCredentials> UdsServer::PeerOf(const grpc::ServerContextBase& context) const {
  std::string peer = context.peer();
  int fd = -1;
  if (!absl::StartsWith(peer, "fd:") || !absl::SimpleAtoi(peer.substr(3), &fd)) {
    return std::nullopt;
  }
  absl::MutexLock lock(&peers_mu_);
  auto it = peers_.find(fd);
  if (it == peers_.end()) return std::nullopt;
  return it->second.peer;
}

void UdsServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  if (accept_thread_.joinable()) {
    char byte = 1;
    while (::write(wake_pipe_[1], &byte, 1) < 0 && errno == EINTR) {
    }
    accept_thread_.join();
  }
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(grace));
    server_->Wait();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  for (int& fd : wake_pipe_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  if (owns_socket_file_) {
    // Remove the socket only if it is still ours (never a successor's).
    struct stat st;
    if (::lstat(options_.socket_path.c_str(), &st) == 0 && st.st_ino == socket_inode_) {
      ::unlink(options_.socket_path.c_str());
    }
    owns_socket_file_ = false;
  }
  lock_.reset();
}

UdsServer::~UdsServer() { Shutdown(absl::ZeroDuration()); }

}  // namespace eprof
