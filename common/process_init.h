// What every eprof binary does first in main().
//
//   int main(int argc, char** argv) {
//     eprof::InitProcess("eprofd");
//     ...
//
// Thread safety: call once, before any other thread starts.
#ifndef EPROF_COMMON_PROCESS_INIT_H_
#define EPROF_COMMON_PROCESS_INIT_H_

#include "absl/strings/string_view.h"

namespace eprof {

// Names the program in log lines, and in release builds (NDEBUG) turns off Abseil's mutex
// deadlock detection. Debian's Abseil is built with it on: every Lock() then updates a global
// lock-order graph, which measured 3x the cost of an uncontended lock and unlock pair, paid on
// every sample and every inference event. Tests and debug builds keep it, and abort on a cycle.
void InitProcess(absl::string_view program_name);

}  // namespace eprof

#endif  // EPROF_COMMON_PROCESS_INIT_H_
