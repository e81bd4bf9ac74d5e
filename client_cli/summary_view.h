// The human summary of a run, shared by `eprofctl profile` and `eprofctl runs show`: prefill and
// decode time and energy (total and dynamic), energy per input and output token, J/token,
// tokens/J, average power per channel with its quality (an estimate is called an estimate), and
// when layer data exists, the layers and components that used the most energy.
#ifndef EPROF_CLIENT_CLI_SUMMARY_VIEW_H_
#define EPROF_CLIENT_CLI_SUMMARY_VIEW_H_

#include <string>

#include "eprof/v1/profiler.pb.h"

namespace eprof::cli {

// `run` may hold phases (with layers) and tokens; the parts present are shown.
std::string RenderSummary(const v1::GetRunResponse& run);
// The phase table and the per-token energy sparkline (runs show).
std::string RenderPhasesAndTokens(const v1::GetRunResponse& run);

}  // namespace eprof::cli

#endif  // EPROF_CLIENT_CLI_SUMMARY_VIEW_H_
