// eprofctl's connection to eprofd, and how failures become one line on stderr and an exit code:
//   usage 2, daemon unreachable 3 (saying how to start it), not found 4, request rejected 5
//   (with the daemon's reason), cancelled by Ctrl-C 130, anything else 1.
//
// Client connects to the socket itself before any request is sent, and checks who listens
// there (peer credentials): the server must run as this user, as root, or as the owner of a
// socket directory nobody else can write to. For the default socket path the directory must
// also be this user's own (common/secure_dir.h). Otherwise no request is sent (a prompt could
// reach another user's server) and every call fails with the reason.
//
// Thread safety: as grpc::Channel (calls may be made from any thread).
#ifndef EPROF_CLIENT_CLI_CLIENT_H_
#define EPROF_CLIENT_CLI_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "eprof/v1/profiler.grpc.pb.h"

namespace eprof::cli {

enum ExitCode {
  kExitOk = 0,
  kExitError = 1,
  kExitUsage = 2,
  kExitUnreachable = 3,
  kExitNotFound = 4,
  kExitRejected = 5,
  kExitCancelled = 130,
};

class Client {
 public:
  // `default_path`: `socket` is eprof's default (no --socket or $EPROF_SOCKET), whose directory
  // must be this user's.
  Client(std::string socket, bool default_path);

  v1::ProfilerService::Stub& stub() { return *stub_; }
  const std::string& socket() const { return socket_; }
  // A context with a deadline for unary calls.
  std::unique_ptr<grpc::ClientContext> UnaryContext() const;

  // Prints "eprofctl: <what>: <reason>" (or the unreachable advice) and returns the exit code.
  int Fail(const grpc::Status& status, const std::string& what) const;

 private:
  // Connects and checks the server; returns the connected fd, or -1 with connect_error_ set.
  int Connect(bool default_path);

  std::string socket_;
  // Why no connection was made ("" when connected).
  std::string connect_error_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ProfilerService::Stub> stub_;
};

// Prints "eprofctl: <message>" to stderr and returns `code`.
int Error(int code, const std::string& message);

}  // namespace eprof::cli

#endif  // EPROF_CLIENT_CLI_CLIENT_H_
