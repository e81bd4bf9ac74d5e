// Rotary position embedding tables, built as transformers builds them (hf-models.md §0.3):
// inv_freq in float32, freqs = pos × inv_freq, emb = cat(freqs, freqs), cos/sin × attention
// scaling, then cast to the model dtype. Internal to the engine (includes ATen).
#ifndef EPROF_DAEMON_ENGINE_ROPE_H_
#define EPROF_DAEMON_ENGINE_ROPE_H_

#include <ATen/ATen.h>

#include <cstdint>

#include "daemon/engine/model_config.h"

namespace eprof::engine {

class RopeTables {
 public:
  // `rotary_dims`: d (even); `max_seq_len`: positions precomputed; `max_position_embeddings`:
  // the config's, for `dynamic` scaling.
  RopeTables(const RopeConfig& rope, int64_t rotary_dims, int64_t max_seq_len,
             int64_t max_position_embeddings, at::ScalarType dtype, at::Device device);

  // cos and sin for positions [pos, pos + n), each [n, d] in the model dtype. The frequencies
  // may depend on pos + n (longrope short/long factors, dynamic NTK), as in transformers'
  // dynamic_rope_update.
  void Get(int64_t pos, int64_t n, at::Tensor* cos, at::Tensor* sin) const;

  // inv_freq (float32, d/2) for a forward whose largest position is seq_len − 1.
  at::Tensor InvFreq(int64_t seq_len) const;
  double attention_scaling() const { return attention_scaling_; }

 private:
  void Build(const at::Tensor& inv_freq, int64_t pos, int64_t n, at::Tensor* cos,
             at::Tensor* sin) const;

  RopeConfig rope_;
  int64_t dims_;
  int64_t max_position_embeddings_;
  at::ScalarType dtype_;
  at::Device device_;
  double attention_scaling_ = 1.0;
  at::Tensor cos_, sin_;             // default / short table
  at::Tensor long_cos_, long_sin_;   // longrope long table
};

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_ROPE_H_
