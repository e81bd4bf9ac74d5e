#include "common/thread_priority.h"

#include <pthread.h>

#include <cerrno>

#if defined(__linux__)
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
  return absl::OkStatus();
#elif defined(__APPLE__)
  int err = pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0);
  if (err != 0) return ErrnoToStatus(err, "pthread_set_qos_class_self_np(QOS_CLASS_UTILITY)");
  return absl::OkStatus();
#else
  return absl::UnimplementedError("no background priority on this platform");
#endif
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
