// Test-only: a naive double-precision forward pass written directly from
// shared/reference/hf-models.md (plain loops, no libtorch), for checking the engine's numerics
// family by family. Reads fp32 checkpoints written by MakeModel.
#ifndef EPROF_DAEMON_ENGINE_REFERENCE_FORWARD_H_
#define EPROF_DAEMON_ENGINE_REFERENCE_FORWARD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace eprof::engine {

// Logits [T][vocab] for `ids` at positions 0..T−1, one forward pass, no cache.
absl::StatusOr<std::vector<std::vector<double>>> ReferenceForward(const std::string& dir,
                                                                  const std::vector<int32_t>& ids);

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_REFERENCE_FORWARD_H_
