// A gRPC server on a Unix-domain socket that decides who may connect from the peer's uid and gid.
//
// gRPC 1.51's own UDS listener cannot tell who connected (local credentials carry no uid), so
// UdsServer binds and accepts connections itself, reads each peer's credentials, closes the
// connections its PeerPolicy refuses, and hands the accepted ones to gRPC with
// grpc::AddInsecureChannelFromFd (non-blocking fds). See shared/reference/grpc-web-and-services.md
// §C for the facts this rests on.
//
//   UdsServerOptions options;
//   options.socket_path = "/var/run/eprof/power.sock";
//   options.socket_mode = 0660;
//   options.policy.allowed_gids = {eprof_gid};
//   options.configure = [&](grpc::ServerBuilder& b) { b.RegisterService(&service); };
//   EPROF_ASSIGN_OR_RETURN(std::unique_ptr<UdsServer> server, UdsServer::Start(std::move(options)));
//   ...
//   server->Shutdown();
//
// Start() takes, in order: a lock file (socket_path + ".lock") so that a second instance fails
// with a clear error instead of stealing the socket as gRPC's own listener would; the socket path
// (a stale socket file nobody listens on is replaced; anything else there is an error); bind with
// the mode and ownership set explicitly before listen(), so there is no window in which the
// socket is open to the wrong users; then starts gRPC and the accept thread.
//
// Thread safety: all methods are thread-safe. Shutdown() is idempotent and also run by the
// destructor; it stops accepting, shuts gRPC down (cancelling calls still running after
// `grace`), removes the socket file it created and releases the lock.
#ifndef EPROF_COMMON_UDS_SERVER_H_
#define EPROF_COMMON_UDS_SERVER_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/lock_file.h"
#include "common/peer_credentials.h"

namespace grpc {
class Server;
class ServerBuilder;
class ServerContextBase;
}  // namespace grpc

namespace eprof {

struct UdsServerOptions {
  // Path of the socket file. Required unless listen_fd is given. At most 103 bytes (macOS's
  // sun_path limit; Linux allows 107).
  std::string socket_path;
  // Mode of the socket file (default 0660: owner and group may connect). Connecting needs write
  // permission on Linux; the PeerPolicy check applies on top of it.
  mode_t socket_mode = 0660;
  // Owner and group to give the socket file; -1 (default) leaves the creating process's.
  uid_t socket_uid = static_cast<uid_t>(-1);
  gid_t socket_gid = static_cast<gid_t>(-1);
  // When the socket's directory does not exist it is created (one level) with this mode. An
  // existing directory must be trusted (common/secure_dir.h: a real directory, owned by this
  // user or root, writable by nobody else) or Start fails; with `set_directory_mode` it is also
  // given `directory_mode` (for a directory the server owns, such as eprofd's runtime directory).
  mode_t directory_mode = 0755;
  bool set_directory_mode = false;
  // Connections one uid may hold open at once (0: no limit). A peer over it has its new
  // connections closed, so one local user cannot use up the server's file descriptors and
  // starve the others. Root is exempt.
  int max_connections_per_uid = 128;
  // Lock file; default: socket_path + ".lock".
  std::string lock_path;
  // Who may connect (default: root and the server's own uid).
  PeerPolicy policy;
  // An already listening Unix stream socket from socket activation (see socket_activation.h);
  // -1 (default) binds socket_path. Ownership passes to the server. The lock is still taken when
  // socket_path is set; the socket file is then never removed (the service manager owns it).
  int listen_fd = -1;
  // listen(2) backlog.
  int backlog = 128;
  // Called with the builder before BuildAndStart(): register services, set options, add extra
  // listening ports (e.g. "127.0.0.1:PORT" for the gateway; those peers are not uid-checked).
  std::function<void(grpc::ServerBuilder&)> configure;
  // How the server names itself in log lines and errors ("eprof-power-helper").
  std::string server_name = "eprof";
};

class UdsServer {
 public:
  // Binds, starts gRPC and the accept thread.
  // Errors: FAILED_PRECONDITION when another instance holds the lock or something already
  // listens on the path, or the path holds something that is not a socket; INVALID_ARGUMENT for a
  // path that is empty or too long; the errno-derived error (PERMISSION_DENIED, ...) for failed
  // system calls, naming the path; INTERNAL when gRPC fails to start. Nothing is left behind on
  // failure.
  static absl::StatusOr<std::unique_ptr<UdsServer>> Start(UdsServerOptions options);

  ~UdsServer();
  UdsServer(const UdsServer&) = delete;
  UdsServer& operator=(const UdsServer&) = delete;

  // Stops accepting, shuts gRPC down (calls still running after `grace` are cancelled), waits for
  // it, removes the socket file and releases the lock. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(2));

  // The gRPC server (for Wait(), or in-process channels). Valid until Shutdown().
  grpc::Server* grpc_server() const { return server_.get(); }

  const std::string& socket_path() const { return options_.socket_path; }

  // Credentials of the peer of a call on this server, looked up from the call's "fd:N" peer
  // string; nullopt for calls that did not come through the Unix socket. Call at handler start.
  std::optional<PeerCredentials> PeerOf(const grpc::ServerContextBase& context) const;

  // Connections accepted and refused since Start().
  uint64_t accepted_connections() const { return accepted_.load(); }
  uint64_t refused_connections() const { return refused_.load(); }

 private:
  explicit UdsServer(UdsServerOptions options) : options_(std::move(options)) {}
  absl::Status Init();
  void AcceptLoop();
  void HandleConnection(int fd);
  // Logs a refused connection, at most one line per few seconds (with a count of the refusals
  // not logged), so that a peer that keeps connecting cannot flood the log. Accept thread only.
  void LogRefusal(const std::string& line);
  // Connections `uid` holds now (forgetting the ones gRPC has closed). Accept thread only.
  int OpenConnectionsOf(uid_t uid) ABSL_LOCKS_EXCLUDED(peers_mu_);

  UdsServerOptions options_;
  std::optional<LockFile> lock_;
  int listen_fd_ = -1;
  bool owns_socket_file_ = false;
  ino_t socket_inode_ = 0;
  int wake_pipe_[2] = {-1, -1};
  std::unique_ptr<grpc::Server> server_;
  std::thread accept_thread_;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;

  // Accept thread only.
  int64_t last_refusal_log_ns_ = 0;
  uint64_t refusals_not_logged_ = 0;

  struct Connection {
    PeerCredentials peer;
    // Of the socket: tell it from a later file that reuses the fd number.
    ino_t inode = 0;
    dev_t device = 0;
  };
  mutable absl::Mutex peers_mu_;
  // fd → the connection accepted on it. fd numbers are reused after gRPC closes them, but every
  // fd gRPC serves was accepted here, so the latest entry is the right one.
  std::map<int, Connection> peers_ ABSL_GUARDED_BY(peers_mu_);
};

}  // namespace eprof

#endif  // EPROF_COMMON_UDS_SERVER_H_
