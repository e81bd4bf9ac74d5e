// Read-only file access for the sensors, behind an interface so that tests run the real sensor
// code against fixture trees (a rebuilt /sys/class/powercap, a fake /proc/stat).
//
// Thread safety: the real implementation is stateless and safe from any thread.
#ifndef EPROF_POWER_HELPER_SENSORS_FILE_SYSTEM_H_
#define EPROF_POWER_HELPER_SENSORS_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace eprof::power {

// A file holding one unsigned integer that is read again and again (a sysfs counter).
class CounterFile {
 public:
  virtual ~CounterFile() = default;
  // The integer the file holds now. Errors as ReadUint64File.
  virtual absl::StatusOr<uint64_t> Read() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // The whole file. NOT_FOUND / PERMISSION_DENIED / ... from errno, naming the path.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) const = 0;
  // Names in a directory (no "." / ".."), sorted. Errors as ReadFile.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) const = 0;
  // True when `path` exists (any type).
  virtual bool Exists(const std::string& path) const = 0;
  // A counter file to read repeatedly. The default re-reads `path` with ReadFile each time; the
  // real file system keeps it open and reads it with one pread(2) (the sample loop's cost).
  virtual absl::StatusOr<std::unique_ptr<CounterFile>> OpenCounter(const std::string& path) const;
  // A document to parse whole (a recorded trace): it must be a regular file of at most
  // `max_bytes` (a device such as /dev/zero, a FIFO or a directory is refused before anything is
  // read: it could grow the reader's memory without bound or block it). FAILED_PRECONDITION for
  // those, naming the path and what it is; errors as ReadFile otherwise. The default checks the
  // size of what ReadFile returns (fakes have regular files only).
  virtual absl::StatusOr<std::string> ReadDocument(const std::string& path, size_t max_bytes) const;

  // The process-wide real file system. Never deleted.
  static FileSystem* Real();
};

// Reads a file holding one unsigned decimal integer (sysfs counters), trailing newline allowed.
// INVALID_ARGUMENT naming the path and the text when it is not one.
absl::StatusOr<uint64_t> ReadUint64File(const FileSystem& fs, const std::string& path);

// The file's content without trailing whitespace.
absl::StatusOr<std::string> ReadTrimmedFile(const FileSystem& fs, const std::string& path);

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_FILE_SYSTEM_H_
