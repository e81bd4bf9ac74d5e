// The weights of a Hugging Face model directory: model.safetensors, or the shards listed by
// model.safetensors.index.json ({"weight_map": {"tensor name": "shard file"}}), all mapped.
//
//   EPROF_ASSIGN_OR_RETURN(auto ckpt, Checkpoint::Open("/models/smollm"));
//   const TensorView* w = ckpt->Find("model.norm.weight");
//
// Thread safety: immutable after Open.
#ifndef EPROF_DAEMON_ENGINE_CHECKPOINT_H_
#define EPROF_DAEMON_ENGINE_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/engine/safetensors.h"

namespace eprof::engine {

class Checkpoint {
 public:
  // Prefers model.safetensors.index.json when present. NotFound names both file names when
  // neither exists; an index naming a missing shard, or a tensor the shard lacks, is an error
  // naming the index, the shard and the tensor.
  static absl::StatusOr<std::unique_ptr<Checkpoint>> Open(const std::string& dir);

  const TensorView* Find(const std::string& name) const;
  // How many indexed blocks the weights hold under `prefix` (e.g. "model.layers."): one more than
  // the largest N of any tensor named prefix + "N." ...; 0 when there are none.
  int64_t CountIndexed(const std::string& prefix) const;
  // Total bytes of all tensors.
  size_t total_bytes() const;
  size_t num_tensors() const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  // A description for errors: "DIR/model.safetensors" or "DIR/model.safetensors.index.json".
  const std::string& source() const { return source_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::string source_;
};

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_CHECKPOINT_H_
