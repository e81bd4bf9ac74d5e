// A child process for tests and benchmarks that start eprof's binaries: output to a log file,
// optional file-size limit, killed (SIGKILL) when the object goes away unless it already exited.
#ifndef EPROF_TESTS_TESTING_SUBPROCESS_H_
#define EPROF_TESTS_TESTING_SUBPROCESS_H_

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/time/clock.h"

namespace eprof::testing {

// How a Subprocess runs, beyond its arguments.
struct SubprocessOptions {
  // > 0: caps the size of files the process writes (RLIMIT_FSIZE; writes past it fail with
  // EFBIG).
  rlim_t fsize_limit = 0;
  // Run as this user and group (the parent must be root); -1 keeps the parent's.
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  // The whole environment, "NAME=value" each; empty keeps the parent's.
  std::vector<std::string> env;
};

class Subprocess {
 public:
  // `fsize_limit` > 0 caps the size of files the process writes (RLIMIT_FSIZE; writes past it
  // fail with EFBIG).
  Subprocess(std::vector<std::string> argv, const std::string& log, rlim_t fsize_limit = 0)
      : Subprocess(std::move(argv), log, SubprocessOptions{.fsize_limit = fsize_limit}) {}

  Subprocess(std::vector<std::string> argv, const std::string& log, SubprocessOptions options) {
    const rlim_t fsize_limit = options.fsize_limit;
    // Built before fork: between fork and exec only async-signal-safe calls.
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& e : options.env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      if (fsize_limit > 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {fsize_limit, fsize_limit};
        setrlimit(RLIMIT_FSIZE, &rl);
      }
      if (options.gid != static_cast<gid_t>(-1) &&
          (setgroups(0, nullptr) != 0 || setgid(options.gid) != 0)) {
        _exit(126);
      }
      if (options.uid != static_cast<uid_t>(-1) && setuid(options.uid) != 0) _exit(126);
      if (options.env.empty()) {
        execv(args[0], args.data());
      } else {
        execve(args[0], args.data(), envp.data());
      }
      _exit(127);
    }
  }
  ~Subprocess() { Kill(SIGKILL); }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  void Kill(int sig) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
      Wait();
    }
  }
  // Waits for the process to exit; returns its waitpid status.
  int Wait() {
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Waits up to 5 s for a socket (or any file) to appear.
inline bool WaitForPath(const std::filesystem::path& p) {
  for (int i = 0; i < 200; ++i) {
    if (std::filesystem::exists(p)) return true;
    absl::SleepFor(absl::Milliseconds(25));
  }
  return false;
}

}  // namespace eprof::testing

#endif  // EPROF_TESTS_TESTING_SUBPROCESS_H_
