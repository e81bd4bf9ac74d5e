// A child process for tests and benchmarks that start eprof's binaries: output to a log file,
// optional file-size limit, killed (SIGKILL) when the object goes away unless it already exited.
#ifndef EPROF_TESTS_TESTING_SUBPROCESS_H_
#define EPROF_TESTS_TESTING_SUBPROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/time/clock.h"

namespace eprof::testing {

class Subprocess {
 public:
  // `fsize_limit` > 0 caps the size of files the process writes (RLIMIT_FSIZE; writes past it
  // fail with EFBIG).
  Subprocess(std::vector<std::string> argv, const std::string& log, rlim_t fsize_limit = 0) {
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
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
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
