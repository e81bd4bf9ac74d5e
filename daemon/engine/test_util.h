// Test helpers for the engine: a temporary directory removed at scope exit.
#ifndef EPROF_DAEMON_ENGINE_TEST_UTIL_H_
#define EPROF_DAEMON_ENGINE_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace eprof::engine {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "eprof_engine_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_TEST_UTIL_H_
