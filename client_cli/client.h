// eprofctl's connection to eprofd, and how failures become one line on stderr and an exit code:
//   usage 2, daemon unreachable 3 (saying how to start it), not found 4, request rejected 5
//   (with the daemon's reason), cancelled by Ctrl-C 130, anything else 1.
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
  explicit Client(std::string socket);

  v1::ProfilerService::Stub& stub() { return *stub_; }
  const std::string& socket() const { return socket_; }
  // A context with a deadline for unary calls.
  std::unique_ptr<grpc::ClientContext> UnaryContext() const;

  // Prints "eprofctl: <what>: <reason>" (or the unreachable advice) and returns the exit code.
  int Fail(const grpc::Status& status, const std::string& what) const;

 private:
  std::string socket_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ProfilerService::Stub> stub_;
};

// Prints "eprofctl: <message>" to stderr and returns `code`.
int Error(int code, const std::string& message);

}  // namespace eprof::cli

#endif  // EPROF_CLIENT_CLI_CLIENT_H_
