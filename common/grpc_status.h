// absl::Status → grpc::Status, for the gRPC services (eprofd's ProfilerService, the helper's
// PowerService): the codes are the same numbers in both, the message is kept.
//
// Thread safety: a pure function.
#ifndef EPROF_COMMON_GRPC_STATUS_H_
#define EPROF_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace eprof {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace eprof

#endif  // EPROF_COMMON_GRPC_STATUS_H_
