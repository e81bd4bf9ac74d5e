// Child processes for sources that run a tool (powermetrics), behind an interface so tests can
// launch a fake executable the same way.
//
// The real launcher forks and execs the argv (no shell), with stdout and stderr on two
// non-blocking pipes and, on Linux, PR_SET_PDEATHSIG so the child dies with the helper. A
// ChildProcess stops its child when destroyed: SIGTERM, up to `grace` to exit, then SIGKILL, and
// always reaps it, so there is never an orphan or a zombie.
//
// Thread safety: a ChildProcess is used by one thread.
#ifndef EPROF_POWER_HELPER_SENSORS_CHILD_PROCESS_H_
#define EPROF_POWER_HELPER_SENSORS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace eprof::power {

class ChildProcess {
 public:
  ChildProcess(pid_t pid, int stdout_fd, int stderr_fd)
      : pid_(pid), stdout_fd_(stdout_fd), stderr_fd_(stderr_fd) {}
  ~ChildProcess() { Stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }

  // SIGTERM, wait up to `grace`, SIGKILL, reap; closes the pipes. Returns the wait status, or -1
  // when it was already stopped. Idempotent.
  int Stop(absl::Duration grace = absl::Seconds(2));

  // Reaps the child if it has exited (non-blocking); true when it has, with its wait status.
  bool Exited(int* wait_status);

 private:
  pid_t pid_;
  int stdout_fd_;
  int stderr_fd_;
  bool reaped_ = false;
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Starts argv[0] (a path) with argv. Errors: the errno of pipe/fork; an exec failure shows as
  // the child exiting with status 127 and a message on its stderr.
  virtual absl::StatusOr<std::unique_ptr<ChildProcess>> Launch(
      const std::vector<std::string>& argv) = 0;
  static ProcessLauncher* Real();
};

// "exited with status 1" / "killed by signal 9".
std::string DescribeWaitStatus(int wait_status);

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_CHILD_PROCESS_H_
