#include "power_helper/sensors/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/errno_status.h"

namespace eprof::power {
namespace {

class RealLauncher final : public ProcessLauncher {
 public:
  absl::StatusOr<std::unique_ptr<ChildProcess>> Launch(
      const std::vector<std::string>& argv) override {
    if (argv.empty()) return absl::InvalidArgumentError("empty argv");
    int out[2], err[2];
    if (pipe(out) != 0) return ErrnoToStatus(errno, "pipe");
    if (pipe(err) != 0) {
      int e = errno;
      close(out[0]);
      close(out[1]);
      return ErrnoToStatus(e, "pipe");
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
      int e = errno;
      for (int fd : {out[0], out[1], err[0], err[1]}) close(fd);
      return ErrnoToStatus(e, "fork");
    }
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec.
#ifdef __linux__
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
#endif
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      int devnull = open("/dev/null", O_RDONLY);
      if (devnull >= 0) dup2(devnull, STDIN_FILENO);
      for (int fd = 3; fd < 1024; ++fd) close(fd);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      execv(args[0], args.data());
      const char msg[] = "exec failed: ";
      (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
      const char* why = strerror(errno);
      (void)!write(STDERR_FILENO, why, strlen(why));
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    for (int fd : {out[0], err[0]}) {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    return std::make_unique<ChildProcess>(pid, out[0], err[0]);
  }
};

}  // namespace

ProcessLauncher* ProcessLauncher::Real() {
  static ProcessLauncher* launcher = new RealLauncher();
  return launcher;
}

bool ChildProcess::Exited(int* wait_status) {
  if (reaped_) return true;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    if (wait_status) *wait_status = status;
    return true;
  }
  return false;
}

int ChildProcess::Stop(absl::Duration grace) {
  int status = -1;
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGTERM);
    const absl::Time deadline = absl::Now() + grace;
    while (!Exited(&status) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
    if (!reaped_) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
  if (stderr_fd_ >= 0) close(stderr_fd_);
  stdout_fd_ = stderr_fd_ = -1;
  return status;
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return absl::StrCat("killed by signal ", WTERMSIG(wait_status));
  return absl::StrCat("wait status ", wait_status);
}

}  // namespace eprof::power
