// Files a model directory refers to, resolved so that they stay inside it.
//
//   EPROF_ASSIGN_OR_RETURN(std::string shard,
//                          ResolveInside(model_dir, "model-00001-of-00002.safetensors"));
//
// A model downloaded from anywhere names its own files (model.safetensors.index.json's
// weight_map, and the standard names config.json, tokenizer.json, ...). Reading a file outside
// the directory because a name said "../../etc/shadow", was absolute, or was a symbolic link
// pointing out, would let a model file make eprofd read (and leak through error messages, or
// load as weights) any file its user can read. So a name is refused unless, with every symbolic
// link followed, it lands inside the model directory's real path — or, for the Hugging Face hub
// cache (`.../models--org--name/snapshots/REV/`, whose files are links to `../../blobs/HASH`),
// inside that repository's `blobs` directory.
//
// Error messages name the model directory and the name, never the content or the size of the
// file the name led to.
//
// Thread safety: free function, thread-safe.
#ifndef EPROF_COMMON_CONTAINED_PATH_H_
#define EPROF_COMMON_CONTAINED_PATH_H_

#include <string>

#include "absl/status/statusor.h"

namespace eprof {

// The real path of `name` inside directory `dir`.
// Errors: INVALID_ARGUMENT for an empty or absolute name, one with a ".." component or a NUL,
// or one that resolves outside (see above); NOT_FOUND when it does not exist.
absl::StatusOr<std::string> ResolveInside(const std::string& dir, const std::string& name);

}  // namespace eprof

#endif  // EPROF_COMMON_CONTAINED_PATH_H_
