#include "power_helper/sensors/file_system.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/status_macros.h"

namespace eprof::power {
namespace {

class RealFileSystem final : public FileSystem {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path) const override {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        close(fd);
        return ErrnoToStatus(e, absl::StrCat("read ", path));
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    return out;
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
};

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
  EPROF_ASSIGN_OR_RETURN(std::string text, ReadTrimmedFile(fs, path));
  uint64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " holds \"", text, "\", not an unsigned integer"));
  }
  return value;
}

}  // namespace eprof::power
