#include "power_helper/sensors/file_system.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/status_macros.h"

namespace eprof::power {
namespace {

// Reads `fd` to its end and closes it. FAILED_PRECONDITION when more than `max_bytes` come (a
// file that grew while read); the errno-derived error for a failed read.
absl::StatusOr<std::string> ReadAndClose(int fd, const std::string& path, size_t max_bytes) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      close(fd);
      return ErrnoToStatus(e, absl::StrCat("read ", path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat(path, " grew past the ", max_bytes, " bytes a trace may have"));
    }
  }
  close(fd);
  return out;
}

class RealFileSystem final : public FileSystem {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path) const override {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
    return ReadAndClose(fd, path, std::numeric_limits<size_t>::max());
  }

  absl::StatusOr<std::string> ReadDocument(const std::string& path,
                                           size_t max_bytes) const override {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is then refused by type.
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int e = errno;
      close(fd);
      return ErrnoToStatus(e, absl::StrCat("stat ", path));
    }
    if (!S_ISREG(st.st_mode)) {
      close(fd);
      const char* what = S_ISFIFO(st.st_mode)  ? "a FIFO"
                         : S_ISCHR(st.st_mode) ? "a character device"
                         : S_ISBLK(st.st_mode) ? "a block device"
                         : S_ISDIR(st.st_mode) ? "a directory"
                         : S_ISSOCK(st.st_mode) ? "a socket"
                                                : "not a regular file";
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is ", what, ", not a regular file: give a recorded trace file"));
    }
    if (static_cast<uint64_t>(st.st_size) > max_bytes) {
      close(fd);
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is ", st.st_size, " bytes, more than the ", max_bytes, " a trace may have"));
    }
    return ReadAndClose(fd, path, max_bytes);
  }

  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) const override {
    DIR* dir = opendir(path.c_str());
    if (dir == nullptr) return ErrnoToStatus(errno, absl::StrCat("opendir ", path));
    std::vector<std::string> names;
    while (dirent* e = readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
  }

  bool Exists(const std::string& path) const override {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
  }

  absl::StatusOr<std::unique_ptr<CounterFile>> OpenCounter(
      const std::string& path) const override;
};

absl::StatusOr<uint64_t> ParseUint64(const std::string& path, std::string text) {
  absl::StripTrailingAsciiWhitespace(&text);
  uint64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " holds \"", text, "\", not an unsigned integer"));
  }
  return value;
}

class PreadCounter final : public CounterFile {
 public:
  PreadCounter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PreadCounter() override { close(fd_); }
  // Hot path (the sample loop): one pread and a plain digit loop, no allocation. Anything but
  // digits and trailing white space goes to ParseUint64 for its error.
  absl::StatusOr<uint64_t> Read() override {
    char buf[64];
    ssize_t n;
    do {
      n = pread(fd_, buf, sizeof(buf) - 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoToStatus(errno, absl::StrCat("read ", path_));
    const size_t len = static_cast<size_t>(n);
    uint64_t value = 0;
    size_t i = 0;
    for (; i < len && i < 19 && buf[i] >= '0' && buf[i] <= '9'; ++i) {
      value = value * 10 + static_cast<uint64_t>(buf[i] - '0');  // 19 digits cannot overflow
    }
    size_t end = i;
    while (end < len && (buf[end] == '\n' || buf[end] == ' ' || buf[end] == '\t')) ++end;
    if (i > 0 && end == len) return value;  // (a 20th digit stops `end` at i: slow path)
    return ParseUint64(path_, std::string(buf, len));
  }

 private:
  std::string path_;
  int fd_;
};

class RereadCounter final : public CounterFile {
 public:
  RereadCounter(const FileSystem* fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  absl::StatusOr<uint64_t> Read() override { return ReadUint64File(*fs_, path_); }

 private:
  const FileSystem* fs_;
  std::string path_;
};

absl::StatusOr<std::unique_ptr<CounterFile>> RealFileSystem::OpenCounter(
    const std::string& path) const {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  return std::unique_ptr<CounterFile>(std::make_unique<PreadCounter>(path, fd));
}

}  // namespace

FileSystem* FileSystem::Real() {
  static FileSystem* fs = new RealFileSystem();
  return fs;
}

absl::StatusOr<std::string> ReadTrimmedFile(const FileSystem& fs, const std::string& path) {
  EPROF_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(path));
  absl::StripTrailingAsciiWhitespace(&text);
  return text;
}

absl::StatusOr<uint64_t> ReadUint64File(const FileSystem& fs, const std::string& path) {
  EPROF_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(path));
  return ParseUint64(path, std::move(text));
}

absl::StatusOr<std::string> FileSystem::ReadDocument(const std::string& path,
                                                     size_t max_bytes) const {
  EPROF_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  if (text.size() > max_bytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is ", text.size(), " bytes, more than the ", max_bytes, " a trace may have"));
  }
  return text;
}

absl::StatusOr<std::unique_ptr<CounterFile>> FileSystem::OpenCounter(
    const std::string& path) const {
  if (!Exists(path)) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
  return std::unique_ptr<CounterFile>(std::make_unique<RereadCounter>(this, path));
}

}  // namespace eprof::power
