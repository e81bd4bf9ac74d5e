// Text generation over a Model: prefill the prompt, then decode one token at a time with the KV
// cache, sampling greedily or with temperature / top-k / top-p from a seeded generator.
//
//   Generator gen(model.get(), params);
//   EPROF_ASSIGN_OR_RETURN(int32_t token, gen.Prefill(prompt_ids));
//   while (!gen.IsEos(token)) { EPROF_ASSIGN_OR_RETURN(token, gen.Step(token)); }  // and a limit
//
// Or all at once: Generate(). The daemon times Prefill and each Step itself.
// Thread safety: none; Cancel() may be called from any thread.
#ifndef EPROF_DAEMON_ENGINE_GENERATOR_H_
#define EPROF_DAEMON_ENGINE_GENERATOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/engine/model.h"

namespace eprof::engine {

struct SamplingParams {
  // 0 (default): greedy (argmax, lowest id on ties). Otherwise logits / temperature.
  double temperature = 0.0;
  // Keep the k most likely tokens; 0 (default): all.
  int64_t top_k = 0;
  // Keep the smallest set of most likely tokens whose probability reaches top_p; 1 (default): all.
  double top_p = 1.0;
  uint64_t seed = 0;
};

struct GenerateParams {
  SamplingParams sampling;
  int64_t max_new_tokens = 32;
  // Stop after producing any of these (it is included in the output). Empty: the model's
  // generation_config / config eos ids.
  std::vector<int64_t> eos_token_ids;
  bool use_model_eos = true;
};

// Samples one id from `logits` (vocab floats). Deterministic for a given rng state.
// REQUIRES: !logits.empty().
int32_t SampleToken(const std::vector<float>& logits, const SamplingParams& params,
                    std::mt19937_64* rng);

enum class StopReason { kEos, kMaxTokens, kCancelled };
const char* StopReasonName(StopReason reason);

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (not the prompt)
  StopReason stop_reason = StopReason::kMaxTokens;
};

class Generator {
 public:
  // `model` is not owned and must outlive the generator. Resets the model's KV cache.
  Generator(Model* model, const GenerateParams& params);

  // Runs the prompt (empties the cache first) and returns the first new token.
  absl::StatusOr<int32_t> Prefill(const std::vector<int32_t>& prompt);
  // Feeds `token` (the previous output) and returns the next one.
  absl::StatusOr<int32_t> Step(int32_t token);
  // Whether generation should stop after `token` (eos or the token limit reached).
  bool IsEos(int32_t token) const;

  // The whole loop: stops at an eos id, max_new_tokens, or Cancel() (checked between tokens).
  // on_token (may be empty) is called with each new token as it is produced.
  absl::StatusOr<GenerateResult> Generate(const std::vector<int32_t>& prompt,
                                          const std::function<void(int32_t)>& on_token);
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }

  // The logits behind the last token returned.
  const std::vector<float>& last_logits() const { return logits_; }

 private:
  // Samples from logits_, timed as the observer's kSampling span.
  int32_t Sample();

  Model* model_;
  GenerateParams params_;
  std::vector<int64_t> eos_;
  std::mt19937_64 rng_;
  std::vector<float> logits_;
  std::vector<int32_t> one_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_GENERATOR_H_
