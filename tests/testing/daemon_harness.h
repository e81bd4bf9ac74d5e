// Starts the real eprof processes for end-to-end tests: a temporary directory with a tiny
// checkpoint (eprof-llm mkmodel), a replay trace whose power is known in every window,
// eprof-power-helper replaying it, and eprofd. Binaries come from $EPROF_BINARY_DIR/bin.
#ifndef EPROF_TESTS_TESTING_DAEMON_HARNESS_H_
#define EPROF_TESTS_TESTING_DAEMON_HARNESS_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"

#include "absl/strings/str_cat.h"
#include "tests/testing/subprocess.h"

namespace eprof::testing {

class DaemonHarness {
 public:
  static constexpr int64_t kWindowNs = 10'000'000;  // the trace's windows: 10 ms
  // Power of window k of the trace, mW: varies so that misattributed time shows.
  static double TracePowerMw(int64_t k) { return 2000.0 + 100.0 * (k % 20); }

  static std::string Bin(const std::string& name) {
    return std::string(std::getenv("EPROF_BINARY_DIR")) + "/bin/" + name;
  }

  // Makes the directory, the checkpoint (models/tiny) and the trace. Returns false on failure.
  bool Prepare() {
    std::string templ = "/tmp/eprof-e2e-XXXXXX";  // short: socket paths are limited
    if (mkdtemp(templ.data()) == nullptr) return false;
    dir_ = templ;
    std::filesystem::create_directories(dir_ / "models");
    if (std::system(absl::StrCat(Bin("eprof-llm"), " mkmodel --family llama --preset tiny --out ",
                                 (dir_ / "models" / "tiny").string(), " > /dev/null")
                        .c_str()) != 0) {
      return false;
    }
    std::ofstream trace(dir_ / "trace.jsonl");  // 60 s of 10 ms windows at known power
    for (int64_t k = 0; k < 6000; ++k) {
      double p = TracePowerMw(k);
      trace << "{\"seq\":" << k << ",\"t_end_ns\":" << (k + 1) * kWindowNs << ",\"window_ns\":"
            << kWindowNs << ",\"channels\":{\"cpu\":{\"energy_mj\":" << p * kWindowNs * 1e-9
            << ",\"power_mw\":" << p << ",\"quality\":\"MEASURED\"}}}\n";
    }
    return true;
  }

  // `source`: the helper's --source; empty: a replay of the known-power trace.
  bool StartHelper(const std::string& source = "") {
    std::filesystem::remove(dir_ / "p.sock");  // a killed helper leaves its socket file behind
    helper_ = std::make_unique<Subprocess>(
        std::vector<std::string>{Bin("eprof-power-helper"), "serve", "--source",
                                 source.empty() ? "replay:" + (dir_ / "trace.jsonl").string()
                                                : source,
                                 "--socket", (dir_ / "p.sock").string()},
        (dir_ / "helper.log").string());
    return WaitForPath(dir_ / "p.sock");
  }

  // `fsize_limit` > 0 caps the size of the files eprofd writes; `extra` flags are added.
  bool StartDaemon(rlim_t fsize_limit = 0, const std::vector<std::string>& extra = {}) {
    std::filesystem::remove(dir_ / "d.sock");  // a killed daemon leaves its socket file behind
    std::vector<std::string> argv = {Bin("eprofd"), "--socket", socket(), "--power-socket",
                                     (dir_ / "p.sock").string(), "--model-root",
                                     (dir_ / "models").string(), "--db",
                                     (dir_ / "eprof.db").string(), "--power-interval-ms", "10"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    daemon_ = std::make_unique<Subprocess>(argv, (dir_ / "daemon.log").string(), fsize_limit);
    return WaitForPath(dir_ / "d.sock");
  }

  // eprof-web on eprofd's socket and a free port, with `token` in a token file (mode 0600);
  // `extra` flags are added. Returns the port it printed, or 0 when it printed none in 5 s.
  int StartWeb(const std::string& token, const std::vector<std::string>& extra = {}) {
    const std::filesystem::path token_file = dir_ / "web.token";
    std::ofstream(token_file) << token << "\n";
    std::filesystem::permissions(token_file, std::filesystem::perms::owner_read |
                                                 std::filesystem::perms::owner_write);
    const std::filesystem::path log = dir_ / "web.log";
    std::filesystem::remove(log);
    std::vector<std::string> argv = {Bin("eprof-web"), "--socket", socket(), "--port", "0",
                                     "--token-file", token_file.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    web_ = std::make_unique<Subprocess>(argv, log.string());
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(log);
      for (std::string line; std::getline(in, line);) {
        const size_t at = line.find("http://127.0.0.1:");
        if (at != std::string::npos) return std::stoi(line.substr(at + 17));
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    return 0;
  }

  // Stops the processes; removes the directory unless `keep` (for the logs of a failed test).
  void Stop(bool keep) {
    web_.reset();
    daemon_.reset();
    helper_.reset();
    if (!keep && !dir_.empty()) std::filesystem::remove_all(dir_);
  }

  const std::filesystem::path& dir() const { return dir_; }
  std::string socket() const { return (dir_ / "d.sock").string(); }
  Subprocess* helper() { return helper_.get(); }
  Subprocess* daemon() { return daemon_.get(); }
  Subprocess* web() { return web_.get(); }
  void ResetDaemon() { daemon_.reset(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<Subprocess> helper_;
  std::unique_ptr<Subprocess> daemon_;
  std::unique_ptr<Subprocess> web_;
};

}  // namespace eprof::testing

#endif  // EPROF_TESTS_TESTING_DAEMON_HARNESS_H_
