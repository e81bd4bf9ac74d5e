// Model directories under the daemon's configured roots: discovery, facts, and safe resolution
// of the names clients send.
//
//   ModelCatalog catalog({"/srv/models", "~/models"});
//   std::vector<v1::ModelInfo> models = catalog.List();        // rescans
//   EPROF_ASSIGN_OR_RETURN(std::string dir, catalog.Resolve("llama/SmolLM-135M"));
//
// A model directory holds config.json and model.safetensors or model.safetensors.index.json
// (Hugging Face layout). Its name is its path relative to its root. Facts come from config.json
// and the safetensors headers (read, never the weights): family, architecture, parameter count,
// storage dtype, bytes on disk, shape. A directory that cannot be used is listed with `problem`
// saying why.
//
// Resolve() accepts only names that stay inside a root: no absolute paths, no "..", and after
// following symlinks the directory must still be inside the root's real path.
//
// Thread safety: const methods are thread-safe (each call reads the file system afresh).
#ifndef EPROF_DAEMON_MODELS_MODEL_CATALOG_H_
#define EPROF_DAEMON_MODELS_MODEL_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

// model_type values the engine runs.
const std::vector<std::string>& SupportedFamilies();

class ModelCatalog {
 public:
  // `roots` may name directories that do not exist (yet); they are skipped with a log line.
  explicit ModelCatalog(std::vector<std::string> roots, int max_depth = 4);

  // Every model directory under the roots, sorted by name. When two roots hold the same name,
  // the first root's wins and the other is listed with a problem.
  std::vector<v1::ModelInfo> List() const;

  // `name` as it is stored and shown: "./tiny/", "tiny/." and "tiny" are all "tiny" (empty
  // components and "." dropped). Absolute names and names that are only "." stay as given, for
  // Resolve to refuse.
  static std::string NormalizeName(const std::string& name);

  // The absolute, symlink-free directory of model `name`.
  // INVALID_ARGUMENT for an empty, absolute or escaping name (with the reason); NOT_FOUND when no
  // root holds a model directory by that name (listing how to see the available ones).
  absl::StatusOr<std::string> Resolve(const std::string& name) const;

  // Facts about one model directory (`name` is reported as given). Never fails: problems go in
  // ModelInfo.problem.
  static v1::ModelInfo Inspect(const std::string& dir, const std::string& name);

  const std::vector<std::string>& roots() const { return roots_; }

 private:
  std::vector<std::string> roots_;
  int max_depth_;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_MODELS_MODEL_CATALOG_H_
