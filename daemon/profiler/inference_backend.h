// What the profiler needs from an inference engine, and nothing more: load a model directory
// (with progress), tokenize, run prefill and decode steps that report their layer and component
// spans to an observer, detokenize incrementally. The libtorch engine implements it
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
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

// Receives the engine's spans. Timestamps are CLOCK_MONOTONIC ns (common/clock.h). layer -1 is
// the part outside the transformer layers (embedding, final norm, lm_head, sampling).
class SpanObserver {
 public:
  virtual ~SpanObserver() = default;
  virtual void BeginLayer(int32_t layer, int64_t t_ns) = 0;
  virtual void EndLayer(int32_t layer, int64_t t_ns) = 0;
  virtual void BeginComponent(int32_t layer, v1::Component component, int64_t t_ns) = 0;
  virtual void EndComponent(int32_t layer, v1::Component component, int64_t t_ns) = 0;
  // Detail deep only: statistics of a component's output, after its EndComponent.
  virtual void ComponentStats(int32_t layer, v1::Component component,
                              const v1::ActivationStats& activations) = 0;
  // Detail deep only.
  virtual void AttentionStats(int32_t layer, const std::vector<v1::AttentionHeadStats>& heads) = 0;
  virtual void LayerOutputStats(int32_t layer, const v1::ActivationStats& stats) = 0;
};

struct GeneratedToken {
  int32_t token_id = 0;
  // Probability the model gave it, in [0, 1].
  double probability = 0;
};

struct LoadProgress {
  uint64_t bytes_loaded = 0;
  uint64_t bytes_total = 0;
  uint32_t tensors_loaded = 0;
  uint32_t tensors_total = 0;
};

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
  // The forward pass over the prompt; returns the first generated token.
  virtual absl::StatusOr<GeneratedToken> Prefill(SpanObserver* observer) = 0;
  // One decode step after the last generated token; returns the next one.
  virtual absl::StatusOr<GeneratedToken> Decode(SpanObserver* observer) = 0;
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
