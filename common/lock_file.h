// An exclusive lock on a file (flock), held for the lifetime of the object, so that a second
// instance of a server fails clearly instead of silently taking over its socket.
//
//   EPROF_ASSIGN_OR_RETURN(LockFile lock, LockFile::Acquire("/run/eprof/power.sock.lock"));
//   // ... serve; the lock is released when `lock` is destroyed or the process exits.
//
// The lock file holds the owner's pid (for the error message of the next one). It is not deleted
// on release: unlinking a lock file while another process may be opening it would let two
// processes hold "the" lock at once.
//
// Thread safety: a LockFile is not shared between threads; Acquire may be called from any thread.
#ifndef EPROF_COMMON_LOCK_FILE_H_
#define EPROF_COMMON_LOCK_FILE_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace eprof {

class LockFile {
 public:
  // Creates `path` (mode 0644; a symbolic link there is not followed) if needed and locks it
  // without waiting.
  // Returns FAILED_PRECONDITION naming the holder's pid, followed by `advice`, when another
  // process (or another LockFile in this process) holds it; the errno-derived error when the
  // file cannot be opened.
  static absl::StatusOr<LockFile> Acquire(
      absl::string_view path,
      absl::string_view advice = "another instance is running on the same socket; stop it "
                                 "first, or choose another socket path");

  LockFile(LockFile&& other) noexcept;
  LockFile& operator=(LockFile&& other) noexcept;
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;
  ~LockFile();

  const std::string& path() const { return path_; }

 private:
  LockFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  void Release();

  std::string path_;
  int fd_ = -1;
};

}  // namespace eprof

#endif  // EPROF_COMMON_LOCK_FILE_H_
