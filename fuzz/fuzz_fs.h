// A FileSystem (power_helper/sensors/file_system.h) that serves a fuzzer's input as file contents,
// for the sensors that read sysfs and trace files.
//
// Thread safety: one thread (libFuzzer calls one input at a time); ReadFile records which
// basenames it has served.
#ifndef EPROF_FUZZ_FUZZ_FS_H_
#define EPROF_FUZZ_FUZZ_FS_H_

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "power_helper/sensors/file_system.h"

namespace eprof::fuzz {

// Every directory lists `entries`. Without `split`, every file holds `contents`. With it,
// `contents` is cut at each NUL byte into parts, and the k-th distinct basename read holds part k
// (the last part once there are more basenames than parts): a zone's name, counter and range
// then differ, as they do in /sys.
class InputFileSystem final : public power::FileSystem {
 public:
  InputFileSystem(std::string contents, std::vector<std::string> entries, bool split = false)
      : contents_(std::move(contents)), entries_(std::move(entries)) {
    if (split) parts_ = absl::StrSplit(contents_, '\0');
  }
  absl::StatusOr<std::string> ReadFile(const std::string& path) const override {
    if (parts_.empty()) return contents_;
    const std::string base = path.substr(path.find_last_of('/') + 1);
    const size_t next = part_of_.size();
    const size_t k = part_of_.emplace(base, next).first->second;
    return parts_[std::min(k, parts_.size() - 1)];
  }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string&) const override {
    return entries_;
  }
  bool Exists(const std::string&) const override { return true; }

 private:
  std::string contents_;
  std::vector<std::string> entries_;
  std::vector<std::string> parts_;                   // empty: no split
  mutable std::map<std::string, size_t> part_of_;    // basename -> its part, in order of reads
};

}  // namespace eprof::fuzz

#endif  // EPROF_FUZZ_FUZZ_FS_H_
