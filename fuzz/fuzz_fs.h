// A FileSystem (power_helper/sensors/file_system.h) that serves a fuzzer's input as the contents
// of every file, for the sensors that read sysfs and trace files.
//
// Thread safety: immutable.
#ifndef EPROF_FUZZ_FUZZ_FS_H_
#define EPROF_FUZZ_FUZZ_FS_H_

#include <string>
#include <vector>

#include "power_helper/sensors/file_system.h"

namespace eprof::fuzz {

// Every file holds `contents`; every directory lists `entries`.
class InputFileSystem final : public power::FileSystem {
 public:
  InputFileSystem(std::string contents, std::vector<std::string> entries)
      : contents_(std::move(contents)), entries_(std::move(entries)) {}
  absl::StatusOr<std::string> ReadFile(const std::string&) const override { return contents_; }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string&) const override {
    return entries_;
  }
  bool Exists(const std::string&) const override { return true; }

 private:
  std::string contents_;
  std::vector<std::string> entries_;
};

}  // namespace eprof::fuzz

#endif  // EPROF_FUZZ_FUZZ_FS_H_
