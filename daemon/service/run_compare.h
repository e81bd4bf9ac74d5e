// CompareRuns: key metrics of 2–10 runs side by side, with differences relative to the first.
//
//   EPROF_ASSIGN_OR_RETURN(v1::CompareRunsResponse r, CompareRuns(runs));  // GetRunResponses
#ifndef EPROF_DAEMON_SERVICE_RUN_COMPARE_H_
#define EPROF_DAEMON_SERVICE_RUN_COMPARE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

// `runs` in request order, each with its summary and phases. INVALID_ARGUMENT unless 2–10 runs.
absl::StatusOr<v1::CompareRunsResponse> CompareRuns(const std::vector<v1::GetRunResponse>& runs);

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_SERVICE_RUN_COMPARE_H_
