// A LoadedModel for tests: no weights, but real timed work (spinning on the clock) inside real
// layer and component spans, deterministic tokens, injectable failures. It implements the same
// interface as the libtorch engine's adapter.
#ifndef EPROF_DAEMON_PROFILER_TESTING_FAKE_MODEL_H_
#define EPROF_DAEMON_PROFILER_TESTING_FAKE_MODEL_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "daemon/profiler/inference_backend.h"

namespace eprof::daemon::testing {

struct FakeModelOptions {
  int layers = 2;
  // Spinning time per component and per layer's remaining work, µs.
  int component_us = 30;
  uint32_t context_length = 4096;
  uint32_t vocab_size = 1000;
  // Generated token i (from 0) is eos (id 2) when i == eos_at; -1 never.
  int eos_at = -1;
  // Decode step that fails (from 1), -1 never.
  int fail_decode_at = -1;
  // Generated token i whose probability is NaN (as from NaN logits), -1 never.
  int nan_at = -1;
  // Called at the start of each forward pass with the token index (for cancellation tests).
  std::function<void(int)> on_step;
  bool has_tokenizer = true;
  // What weight_bytes() says (the model cache's budget counts it).
  uint64_t weight_bytes = 1 << 20;
};

class FakeModel final : public LoadedModel {
 public:
  explicit FakeModel(FakeModelOptions options, Clock* clock = Clock::Real());

  const v1::ModelInfo& info() const override { return info_; }
  std::string device() const override { return "cpu"; }
  std::string dtype() const override { return "float32"; }
  std::string timing_method() const override { return "host_clock"; }
  uint32_t context_length() const override { return options_.context_length; }
  uint64_t weight_bytes() const override { return options_.weight_bytes; }
  absl::StatusOr<std::vector<int32_t>> Tokenize(const std::string& text,
                                                 bool add_special_tokens) override;
  std::unique_ptr<TextStream> NewTextStream() override;
  bool IsEos(int32_t token_id) const override { return token_id == 2; }
  absl::Status Begin(const std::vector<int32_t>& prompt, const v1::SamplingParams& sampling,
                     int32_t max_new_tokens, v1::DetailLevel detail) override;
  absl::StatusOr<GeneratedToken> Prefill(engine::Observer* observer) override;
  absl::StatusOr<GeneratedToken> Decode(engine::Observer* observer) override;

  // Forward passes run so far (prefill and decode, warm-ups included).
  int forward_passes() const { return forward_passes_.load(); }

 private:
  absl::StatusOr<GeneratedToken> Step(engine::Observer* observer, int positions);
  void Spin(int us);

  FakeModelOptions options_;
  Clock* clock_;
  v1::ModelInfo info_;
  int generated_ = 0;
  std::atomic<int> forward_passes_{0};
};

}  // namespace eprof::daemon::testing

#endif  // EPROF_DAEMON_PROFILER_TESTING_FAKE_MODEL_H_
