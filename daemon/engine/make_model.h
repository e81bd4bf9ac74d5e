// Writes a Hugging Face-layout model directory with random weights for any supported family:
// config.json, model.safetensors (or shards + model.safetensors.index.json), tokenizer.json and
// generation_config.json. Used by `eprof-llm mkmodel` and by the tests (same code).
//
//   MakeModelOptions o;
//   o.family = Family::kGemma2; o.preset = "tiny"; o.out_dir = "/tmp/g2";
//   EPROF_RETURN_IF_ERROR(MakeModel(o));
//
// Presets: tiny (2 layers, hidden 64: unit tests), small (4 layers, hidden 256), demo (the shape
// of SmolLM-135M: 30 layers, hidden 576, 9 heads, 3 KV heads, intermediate 1536, vocab 49152,
// tied embeddings). Each family's particulars are switched on (sliding windows smaller than
// test prompts in tiny, softcapping, partial rotary, biases, llama3 / longrope scaling, ...).
#ifndef EPROF_DAEMON_ENGINE_MAKE_MODEL_H_
#define EPROF_DAEMON_ENGINE_MAKE_MODEL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "daemon/engine/model_config.h"

namespace eprof::engine {

struct MakeModelOptions {
  Family family = Family::kLlama;
  std::string preset = "tiny";  // tiny | small | demo
  std::string out_dir;          // created if missing
  uint64_t seed = 0;
  // An existing tokenizer.json to copy (vocab_size is set to fit it); empty: write a
  // byte-level BPE.
  std::string tokenizer_path;
  // "float32" (default) or "bfloat16": the dtype of the stored weights. The random values are
  // drawn identically, so a bf16 copy is the f32 one rounded.
  std::string dtype = "float32";
  // > 0: split the weights into shards of at most about this many bytes with an index file.
  int64_t max_shard_bytes = 0;
  // A JSON object merged into config.json (RFC 7386 merge patch) before the weights are
  // generated, e.g. {"tie_word_embeddings": false}. Empty: none.
  std::string config_patch_json;
};

absl::Status MakeModel(const MakeModelOptions& options);

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_MAKE_MODEL_H_
