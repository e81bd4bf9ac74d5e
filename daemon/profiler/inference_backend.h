// What the profiler needs from an inference engine, and nothing more: load a model directory
// (with progress), tokenize, run prefill and decode steps that report their layer and component
// spans to the engine's observer (daemon/engine/observer.h, torch-free), detokenize
// incrementally. The libtorch engine implements it
// (daemon/engine); tests use fakes that implement the same interface.
//
// Thread safety: a LoadedModel runs one generation at a time, on the caller's thread.
#ifndef EPROF_DAEMON_PROFILER_INFERENCE_BACKEND_H_
#define EPROF_DAEMON_PROFILER_INFERENCE_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/engine/observer.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

struct GeneratedToken {
  int32_t token_id = 0;
  // Probability the model gave it, in [0, 1].
  double probability = 0;
};

using engine::LoadProgress;

struct LoadOptions {
  // "" = the checkpoint's; "float32", "bfloat16".
  std::string dtype;
  // "" = the backend's default; "cpu", "cuda", "cuda:N", "mps".
  std::string device;
};

// Turns generated ids into text piece by piece, never splitting a UTF-8 sequence.
class TextStream {
 public:
  virtual ~TextStream() = default;
  // The text `id` completes (may be empty while a multi-byte character is incomplete).
  virtual std::string Next(int32_t id) = 0;
};

class LoadedModel {
 public:
  virtual ~LoadedModel() = default;

  virtual const v1::ModelInfo& info() const = 0;
  // Device and compute dtype in use ("cpu", "float32"), and how spans are timed ("host_clock",
  // "device_sync", "device_events").
  virtual std::string device() const = 0;
  virtual std::string dtype() const = 0;
  virtual std::string timing_method() const = 0;
  // Maximum sequence length, tokens.
  virtual uint32_t context_length() const = 0;
  // Bytes of the weights the loaded model holds, for the daemon's model cache budget (a run's
  // KV cache, allocated per generation, is not included).
  virtual uint64_t weight_bytes() const = 0;

  // FAILED_PRECONDITION when the model has no tokenizer.
  virtual absl::StatusOr<std::vector<int32_t>> Tokenize(const std::string& text,
                                                         bool add_special_tokens) = 0;
  virtual std::unique_ptr<TextStream> NewTextStream() = 0;
  virtual bool IsEos(int32_t token_id) const = 0;

  // Starts a generation: moves the prompt to the device and resets the KV cache. `detail` says
  // what the observer passed to Prefill/Decode wants (layers, components, deep statistics).
  // `sampling` as profiler.proto defines it (temperature 0 greedy, top_k 0 off, top_p 0 or 1
  // off; the seed set).
  virtual absl::Status Begin(const std::vector<int32_t>& prompt, const v1::SamplingParams& sampling,
                             int32_t max_new_tokens, v1::DetailLevel detail) = 0;
  // The forward pass over the prompt; returns the first generated token. `observer` (may be
  // null) receives the pass's spans as daemon/engine/observer.h describes, on this thread.
  virtual absl::StatusOr<GeneratedToken> Prefill(engine::Observer* observer) = 0;
  // One decode step after the last generated token; returns the next one.
  virtual absl::StatusOr<GeneratedToken> Decode(engine::Observer* observer) = 0;
};

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  // Loads the model directory. `progress` (may be null) is called as weights load.
  virtual absl::StatusOr<std::unique_ptr<LoadedModel>> Load(
      const std::string& dir, const LoadOptions& options,
      const std::function<void(const LoadProgress&)>& progress) = 0;
  // Devices this backend can run on ("cpu", "cuda:0", "mps").
  virtual std::vector<std::string> Devices() const = 0;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_INFERENCE_BACKEND_H_
