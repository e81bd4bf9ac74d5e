// A decoder-only language model loaded from a Hugging Face directory, running on libtorch with a
// KV cache allocated once. This header does not include libtorch: the implementation is behind a
// pimpl so the daemon's other files compile fast.
//
//   LoadOptions options;
//   options.progress = [](const LoadProgress& p) { ... };
//   EPROF_ASSIGN_OR_RETURN(auto model, Model::Load("/models/smollm", options));
//   std::vector<float> logits;
//   EPROF_RETURN_IF_ERROR(model->Forward(prompt_ids, /*all_positions=*/false, &logits));
//   EPROF_RETURN_IF_ERROR(model->Forward({next_id}, false, &logits));  // one decode step
//
// Forward appends to the KV cache: ids are at positions cache_length() … cache_length()+n−1.
// Thread safety: none; one thread owns a Model (the daemon's inference thread).
#ifndef EPROF_DAEMON_ENGINE_MODEL_H_
#define EPROF_DAEMON_ENGINE_MODEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "daemon/engine/model_config.h"
#include "daemon/engine/observer.h"

namespace eprof::engine {

struct LoadOptions {
  // A libtorch device string: "cpu" (default), "cuda", "cuda:1", "mps".
  std::string device = "cpu";
  // Compute dtype: "auto" (default: the checkpoint's weight dtype; f16 is computed in f32 on CPU),
  // "float32" / "f32", "bfloat16" / "bf16", "float16" / "f16".
  std::string dtype = "auto";
  // KV-cache length in tokens; 0 (default): min(max_position_embeddings, 4096).
  int64_t max_seq_len = 0;
  // Called after each tensor is loaded; may be empty.
  std::function<void(const LoadProgress&)> progress;
  // Timestamps for the observer; nullptr (default): Clock::Real().
  Clock* clock = nullptr;
};

class Model {
 public:
  // Loads DIR (config.json, model.safetensors or the sharded index, generation_config.json).
  // Weights already in the compute dtype on the CPU are used in place (memory-mapped, no copy).
  // Errors name the file and the tensor: missing files, unknown architectures, missing tensors,
  // shape mismatches, truncated files.
  static absl::StatusOr<std::unique_ptr<Model>> Load(const std::string& dir,
                                                     const LoadOptions& options);
  ~Model();

  const ModelConfig& config() const;
  const GenerationConfig& generation_config() const;
  // "cpu", "cuda:0", ...
  std::string device() const;
  // "float32" or "bfloat16" (or "float16").
  std::string compute_dtype() const;
  // Bytes of weights read per decoded token (every matrix once; the embedding row is negligible,
  // the lm_head counts whether tied or not).
  int64_t weight_bytes_per_token() const;
  // Bytes of every weight tensor the model holds, as loaded (a tied lm_head counted once; the
  // KV cache, sized per generation, not at all).
  int64_t weight_bytes() const;
  int64_t max_seq_len() const;
  int64_t cache_length() const;

  // Runs `ids` at positions cache_length()…, appending their keys and values to the cache.
  // Fills `logits` with vocab_size floats for the last position, or n × vocab_size (row-major)
  // when all_positions. FailedPrecondition if the cache would overflow; InvalidArgument for an
  // id outside [0, vocab_size) or an empty `ids`.
  // This is the hot function: the token loop's time is spent here.
  absl::Status Forward(const std::vector<int32_t>& ids, bool all_positions,
                       std::vector<float>* logits);

  // Empties the KV cache (its memory stays allocated).
  void ResetCache();

  // Attaches an observer (not owned; nullptr detaches) at `level`.
  void SetObserver(Observer* observer, DetailLevel level);
  // Reports a span of `component` outside the layers (layer -1) to the observer, from level
  // kLayers on, for work done around the forward pass (the Generator's sampling).
  void BeginOuterSpan(Component component);
  void EndOuterSpan(Component component);

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// softmax(logits)[id]: the probability the model gave token `id`, computed stably (exp of the
// logits less their max): with SoftmaxAtAvx2 where the CPU has AVX2, else with libtorch's
// vectorized kernels. 0 when `id` is outside the logits.
double TokenProbability(const std::vector<float>& logits, int32_t id);
// The portable path of TokenProbability (libtorch), for CPUs without AVX2 and as the baseline of
// softmax_bench.
double TokenProbabilityLibtorch(const std::vector<float>& logits, int32_t id);

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_MODEL_H_
