// An InferenceBackend for tests: "loads" any directory as a FakeModel (after a short, reported
// load), counting loads.
#ifndef EPROF_DAEMON_PROFILER_TESTING_FAKE_BACKEND_H_
#define EPROF_DAEMON_PROFILER_TESTING_FAKE_BACKEND_H_

#include <atomic>

#include "absl/time/clock.h"
#include "daemon/profiler/testing/fake_model.h"

namespace eprof::daemon::testing {

class FakeBackend final : public InferenceBackend {
 public:
  explicit FakeBackend(FakeModelOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(
      const std::string& dir, const LoadOptions&,
      const std::function<void(const LoadProgress&)>& progress) override {
    loads_.fetch_add(1);
    for (uint32_t i = 1; i <= 2; ++i) {
      if (progress) progress({i * 512u, 1024u, i, 2u});
      absl::SleepFor(absl::Milliseconds(5));
    }
    return std::make_unique<FakeModel>(options_);
  }
  std::vector<std::string> Devices() const override { return {"cpu"}; }
  int loads() const { return loads_.load(); }
  FakeModelOptions& options() { return options_; }

 private:
  FakeModelOptions options_;
  std::atomic<int> loads_{0};
};

}  // namespace eprof::daemon::testing

#endif  // EPROF_DAEMON_PROFILER_TESTING_FAKE_BACKEND_H_
