#include "common/thread_priority.h"

#include <pthread.h>

#include <cerrno>

#if defined(__linux__)
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__APPLE__)
#include <pthread/qos.h>
#endif

#include "common/errno_status.h"

namespace eprof {

absl::Status MakeCurrentThreadBackground() {
#if defined(__linux__)
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  if (setpriority(PRIO_PROCESS, tid, 19) != 0) return ErrnoToStatus(errno, "setpriority(19)");
  // SCHED_IDLE: the thread runs when a core would otherwise idle (between two forward passes,
  // while the engine's workers sleep) and never preempts an ordinary thread. Nice 19 alone still
  // took a share against the inference threads at nice 10: eprofd's store writer preempted one
  // at every batch. It is not starved: SCHED_IDLE keeps a small weight, so on a core another
  // process keeps busy the work still ends.
  struct sched_param param = {};
  if (sched_setscheduler(static_cast<pid_t>(tid), SCHED_IDLE, &param) != 0) {
    return ErrnoToStatus(errno, "sched_setscheduler(SCHED_IDLE)");
  }
  return absl::OkStatus();
#elif defined(__APPLE__)
  int err = pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0);
  if (err != 0) return ErrnoToStatus(err, "pthread_set_qos_class_self_np(QOS_CLASS_UTILITY)");
  return absl::OkStatus();
#else
  return absl::UnimplementedError("no background priority on this platform");
#endif
}

#if defined(__linux__)
namespace {
// The kernel's struct sched_attr (linux/sched/types.h, whose struct sched_param clashes with
// glibc's): the size field tells the kernel which version this is.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};
constexpr uint32_t kSchedNormal = 0;  // SCHED_OTHER
constexpr uint32_t kSchedBatch = 3;
}  // namespace
#endif

absl::StatusOr<uint64_t> SetCurrentThreadSlice(absl::Duration slice) {
#if defined(__linux__)
  // sched_setattr sets the nice value too: read the thread's attributes and change the slice only.
  SchedAttr attr = {};
  if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) {
    return ErrnoToStatus(errno, "sched_getattr");
  }
  if (attr.sched_policy != kSchedNormal && attr.sched_policy != kSchedBatch) {
    return absl::FailedPreconditionError("the thread's scheduling policy has no fair-share slice");
  }
  const uint64_t previous = attr.sched_runtime;
  attr.size = sizeof attr;
  attr.sched_flags = 0;
  attr.sched_runtime = static_cast<uint64_t>(absl::ToInt64Nanoseconds(slice));
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return ErrnoToStatus(errno, "sched_setattr");
  return previous;
#else
  (void)slice;
  return absl::UnimplementedError("per-thread scheduler slices are Linux's");
#endif
}

ScopedThreadSlice::ScopedThreadSlice(absl::Duration slice) {
  absl::StatusOr<uint64_t> previous = SetCurrentThreadSlice(slice);
  if (previous.ok()) {
    set_ = true;
    previous_ns_ = *previous;
  }
}

ScopedThreadSlice::~ScopedThreadSlice() {
  if (set_) (void)SetCurrentThreadSlice(absl::Nanoseconds(previous_ns_));
}

void NameCurrentThread(const char* name) {
#if defined(__linux__)
  char short_name[16] = {};
  for (int i = 0; i < 15 && name[i] != '\0'; ++i) short_name[i] = name[i];
  pthread_setname_np(pthread_self(), short_name);
#elif defined(__APPLE__)
  pthread_setname_np(name);
#endif
}

}  // namespace eprof
