#include "common/process_init.h"

#include "absl/synchronization/mutex.h"
#include "common/logging.h"

namespace eprof {

void InitProcess(absl::string_view program_name) {
  SetLogProgramName(program_name);
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

}  // namespace eprof
