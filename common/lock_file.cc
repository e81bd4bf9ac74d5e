#include "common/lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errno_status.h"

namespace eprof {

absl::StatusOr<LockFile> LockFile::Acquire(absl::string_view path, absl::string_view advice) {
  std::string p(path);
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("cannot open lock file ", p));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      return ErrnoToStatus(err, absl::StrCat("cannot lock ", p));
    }
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    std::string holder = "another process";
    int pid = 0;
    if (n > 0 && absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buf, n)), &pid)) {
      holder = absl::StrCat("another process (pid ", pid, ")");
    }
    return absl::FailedPreconditionError(absl::StrCat(
        holder, " already holds ", p, ": ", advice));
  }
  std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the next instance's message; the lock itself is held.
  }
  return LockFile(std::move(p), fd);
}

LockFile::LockFile(LockFile&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

LockFile& LockFile::operator=(LockFile&& other) noexcept {
  if (this != &other) {
    Release();
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

LockFile::~LockFile() { Release(); }

void LockFile::Release() {
  if (fd_ >= 0) {
    // Clear the pid so a stale file names nobody; closing releases the flock.
    if (::ftruncate(fd_, 0) != 0) {
    }
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace eprof
