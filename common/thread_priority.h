// Scheduling hints for eprof's own threads, so that they disturb the inference they measure as
// little as possible. Threads whose work can wait run on CPU time nobody else wants (a profiled
// run's SQLite writes must not slow the inference) and never preempt the threads that do the
// measured work; threads that only pass data on (a live stream's writer) wake promptly and are
// done in microseconds.
//
//   std::thread writer([] {
//     eprof::NameCurrentThread("eprof-store");
//     (void)eprof::MakeCurrentThreadBackground();
//     ...
//   });
//   ...
//   eprof::ScopedThreadSlice prompt(absl::Microseconds(100));  // while this thread streams
//
// Thread safety: each call affects only the calling thread.
#ifndef EPROF_COMMON_THREAD_PRIORITY_H_
#define EPROF_COMMON_THREAD_PRIORITY_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace eprof {

// The lowest priority for the calling thread only: on Linux SCHED_IDLE (it runs on CPU time no
// ordinary thread wants and never preempts one) at nice 19 (a Linux thread's policy and nice
// value are its own), QoS "utility" on macOS. An unprivileged thread cannot raise it again, so a
// thread that must finish promptly later hands its work to another thread instead.
absl::Status MakeCurrentThreadBackground();

// Asks the scheduler to let the calling thread run as soon as it wakes, by giving it a short time
// slice: Linux's EEVDF scheduler (6.12 and later) takes a per-thread slice from
// sched_attr.sched_runtime, and a thread that wakes with a shorter slice than the running one
// preempts it at once instead of waiting for that one's slice to run out (and for the next
// scheduler tick). For threads that wake for a moment to pass data on,
// where the delay is what a user sees (a live stream's writer and reader); not for threads that
// compute. Unprivileged; the nice value is kept. Returns the thread's previous slice in ns (0: the
// default), for ScopedThreadSlice. On kernels without per-thread slices the call succeeds and
// changes nothing; Unimplemented off Linux.
absl::StatusOr<uint64_t> SetCurrentThreadSlice(absl::Duration slice);

// SetCurrentThreadSlice for a scope, then the previous slice again: for threads of a pool (gRPC's
// sync server) that serve a live stream for a while and then other work. Failures are ignored
// (the slice is a hint). Must be destroyed on the thread that made it.
class ScopedThreadSlice {
 public:
  explicit ScopedThreadSlice(absl::Duration slice);
  ~ScopedThreadSlice();
  ScopedThreadSlice(const ScopedThreadSlice&) = delete;
  ScopedThreadSlice& operator=(const ScopedThreadSlice&) = delete;

 private:
  bool set_ = false;
  uint64_t previous_ns_ = 0;
};

// Names the calling thread for top, perf and /proc (at most 15 characters are kept on Linux).
void NameCurrentThread(const char* name);

}  // namespace eprof

#endif  // EPROF_COMMON_THREAD_PRIORITY_H_
