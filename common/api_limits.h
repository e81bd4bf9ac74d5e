// Limits of eprof's API that a server enforces and its clients check before sending, so that
// both say the same (profiler.proto documents each).
#ifndef EPROF_COMMON_API_LIMITS_H_
#define EPROF_COMMON_API_LIMITS_H_

#include <cstddef>

namespace eprof {

// The largest prompt a ProfileRequest may carry, bytes (1 MiB).
inline constexpr size_t kMaxPromptBytes = 1 << 20;

}  // namespace eprof

#endif  // EPROF_COMMON_API_LIMITS_H_
