#include "common/process_init.h"

#include <stdlib.h>

#include "absl/synchronization/mutex.h"
#include "common/logging.h"

namespace eprof {

void InitProcess(absl::string_view program_name) {
  SetLogProgramName(program_name);
#if defined(__linux__)
  setenv("GRPC_POLL_STRATEGY", "poll", /*overwrite=*/0);  // see the header
#endif
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

}  // namespace eprof
