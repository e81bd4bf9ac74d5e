// Scheduling for threads whose work can wait: they should run on CPU time nobody else wants
// (a profiled run's SQLite writes must not slow the inference they measure) and never preempt
// the threads that do the measured work.
//
//   std::thread writer([] {
//     eprof::NameCurrentThread("eprof-store");
//     (void)eprof::MakeCurrentThreadBackground();
//     ...
//   });
//
// Thread safety: each call affects only the calling thread.
#ifndef EPROF_COMMON_THREAD_PRIORITY_H_
#define EPROF_COMMON_THREAD_PRIORITY_H_

#include "absl/status/status.h"

namespace eprof {

// The lowest ordinary priority for the calling thread only: nice 19 on Linux (a Linux thread's
// nice value is its own), QoS "utility" on macOS. An unprivileged thread cannot raise it again,
// so a thread that must finish promptly later hands its work to another thread instead.
absl::Status MakeCurrentThreadBackground();

// Names the calling thread for top, perf and /proc (at most 15 characters are kept on Linux).
void NameCurrentThread(const char* name);

}  // namespace eprof

#endif  // EPROF_COMMON_THREAD_PRIORITY_H_
