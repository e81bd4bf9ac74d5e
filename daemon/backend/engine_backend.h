// The profiler's InferenceBackend over eprof's own libtorch engine (daemon/engine) and tokenizer
// (daemon/engine/tokenizer): loads Hugging Face directories, tokenizes, and runs prefill and
// decode steps whose layer and component spans reach the profiler's SpanObserver.
//
// This file does not include libtorch (the engine's headers are torch-free), so it compiles fast.
// Thread safety: as LoadedModel's: one generation at a time on the caller's thread.
#ifndef EPROF_DAEMON_BACKEND_ENGINE_BACKEND_H_
#define EPROF_DAEMON_BACKEND_ENGINE_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

#include "common/side_executor.h"
#include "daemon/profiler/inference_backend.h"

namespace eprof::daemon {

// How the threads that run the model share the CPU with everything else.
struct InferenceScheduling {
  // > 0 lowers the priority of the thread running the model and of the engine's pool workers
  // (Linux; see eprofd --inference-nice).
  int nice = 0;
  // > 0: those threads offer their core to a waiting thread at least every this many µs
  // (engine::GemvPool::SetYieldEvery; see eprofd --inference-yield-us). 0: never.
  int yield_every_us = 0;
};

class EngineBackend final : public InferenceBackend {
 public:
  // `default_device` is used when a request names none ("cpu").
  explicit EngineBackend(std::string default_device = "cpu",
                         InferenceScheduling scheduling = InferenceScheduling());

  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(
      const std::string& dir, const LoadOptions& options,
      const std::function<void(const LoadProgress&)>& progress) override;
  std::vector<std::string> Devices() const override;

  // The executor the engine offers for work beside its forward passes (common/side_executor.h):
  // a worker of its matrix-product pool, which would otherwise sleep between two passes and
  // start the next one late (engine::GemvPool); inline when the pool is off. Process-wide.
  static SideExecutor* BesideExecutor();

 private:
  std::string default_device_;
  InferenceScheduling scheduling_;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_BACKEND_ENGINE_BACKEND_H_
