#include "client_cli/client.h"

#include <grpcpp/create_channel_posix.h>

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/uds_client.h"

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
  absl::StatusOr<int> fd = ConnectToTrustedServer(socket_, default_path);
  if (fd.ok()) return *fd;
  connect_error_ = absl::IsUnavailable(fd.status())
                       ? absl::StrCat("cannot reach eprofd at ", socket_, " (",
                                      fd.status().message(), "): ", kStartAdvice)
                       : std::string(fd.status().message());
  return -1;
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
