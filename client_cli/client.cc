#include "client_cli/client.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace eprof::cli {

Client::Client(std::string socket) : socket_(std::move(socket)) {
  channel_ = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
  stub_ = v1::ProfilerService::NewStub(channel_);
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
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE: {
      struct stat st;
      std::string why = ::stat(socket_.c_str(), &st) != 0 ? "no socket there"
                                                          : status.error_message();
      return Error(kExitUnreachable,
                   absl::StrCat("cannot reach eprofd at ", socket_, " (", why,
                                "): start it with `eprofd` (or deploy/quickstart.sh), or point "
                                "--socket / EPROF_SOCKET at its socket"));
    }
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
