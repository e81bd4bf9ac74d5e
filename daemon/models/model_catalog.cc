#include "daemon/models/model_catalog.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/contained_path.h"
#include "common/logging.h"
#include "daemon/engine/checkpoint.h"

namespace eprof::daemon {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A directory that looks meant to be a model (it holds a config.json or weight files) but may
// lack what eprof needs: List() shows it with the problem rather than leave it out.
bool LooksLikeModelDir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "config.json", ec) || fs::exists(dir / "model.safetensors.index.json", ec)) {
    return true;
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string ext = it->path().extension().string();
    if (ext == ".safetensors" || ext == ".bin" || ext == ".gguf" || ext == ".pth") return true;
  }
  return false;
}

bool IsModelDir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec) &&
         (fs::is_regular_file(dir / "model.safetensors", ec) ||
          fs::is_regular_file(dir / "model.safetensors.index.json", ec));
}

std::string DtypeName(engine::DType dtype) {
  switch (dtype) {
    case engine::DType::kF32: return "float32";
    case engine::DType::kF16: return "float16";
    case engine::DType::kBF16: return "bfloat16";
  }
  return "unknown";
}

uint32_t U32(const json& config, const char* key) {
  auto it = config.find(key);
  return it != config.end() && it->is_number_unsigned() ? it->get<uint32_t>() : 0;
}

}  // namespace

const std::vector<std::string>& SupportedFamilies() {
  static const std::vector<std::string> kFamilies = {"llama", "mistral", "qwen2", "qwen3", "gemma",
                                                     "gemma2", "gemma3_text", "phi3", "stablelm"};
  return kFamilies;
}

ModelCatalog::ModelCatalog(std::vector<std::string> roots, int max_depth)
    : roots_(std::move(roots)), max_depth_(max_depth) {}

v1::ModelInfo ModelCatalog::Inspect(const std::string& dir, const std::string& name) {
  v1::ModelInfo info;
  info.set_name(name);
  info.set_path(dir);
  info.set_has_tokenizer(ResolveInside(dir, "tokenizer.json").ok());
  absl::StatusOr<std::string> config_path = ResolveInside(dir, "config.json");
  if (!config_path.ok()) {
    info.set_problem(absl::IsNotFound(config_path.status())
                         ? absl::StrCat(dir, " has no config.json: a Hugging Face model "
                                             "directory needs one")
                         : std::string(config_path.status().message()));
    return info;
  }
  std::ifstream config_in(*config_path);
  json config = json::parse(config_in, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) {
    info.set_problem(absl::StrCat(dir, "/config.json is not valid JSON"));
    return info;
  }
  // Multimodal Gemma 3 checkpoints keep the language model's settings under text_config.
  const json& text = config.contains("text_config") && config["text_config"].is_object()
                         ? config["text_config"]
                         : config;
  // nlohmann's value() throws on a value of another type: read model_type only as a string.
  auto model_type = [](const json& j) {
    return j.contains("model_type") && j["model_type"].is_string()
               ? j["model_type"].get<std::string>()
               : std::string();
  };
  std::string family = model_type(text);
  if (family.empty()) family = model_type(config);
  info.set_family(family);
  if (config.contains("architectures") && config["architectures"].is_array() &&
      !config["architectures"].empty() && config["architectures"][0].is_string()) {
    info.set_architecture(config["architectures"][0].get<std::string>());
  }
  info.set_num_layers(U32(text, "num_hidden_layers"));
  info.set_hidden_size(U32(text, "hidden_size"));
  info.set_num_attention_heads(U32(text, "num_attention_heads"));
  uint32_t kv = U32(text, "num_key_value_heads");
  info.set_num_key_value_heads(kv != 0 ? kv : info.num_attention_heads());
  info.set_vocab_size(U32(text, "vocab_size"));
  info.set_context_length(U32(text, "max_position_embeddings"));

  // The weights as the engine will read them (daemon/engine/checkpoint.h): the index, every
  // shard and every safetensors header, each file inside the directory (common/contained_path.h:
  // an index naming "../../etc/shadow" must not make eprofd read that file's header). Mapping a
  // file reads no weights.
  absl::StatusOr<std::unique_ptr<engine::Checkpoint>> checkpoint = engine::Checkpoint::Open(dir);
  if (!checkpoint.ok()) {
    info.set_problem(absl::IsNotFound(checkpoint.status()) &&
                             !ResolveInside(dir, "model.safetensors.index.json").ok()
                         ? absl::StrCat(dir, " has no model.safetensors and no "
                                             "model.safetensors.index.json: eprof loads "
                                             "safetensors weights")
                         : std::string(checkpoint.status().message()));
    return info;
  }
  std::map<engine::DType, uint64_t> elements;
  uint64_t bytes = 0;
  std::set<std::string> seen;  // a tensor two shards hold counts once
  for (const std::unique_ptr<engine::SafetensorsFile>& file : (*checkpoint)->files()) {
    bytes += file->file_size_bytes();
    for (const auto& [tensor_name, tensor] : file->tensors()) {
      if (!seen.insert(tensor_name).second) continue;
      uint64_t count = 1;
      for (int64_t d : tensor.shape) count *= static_cast<uint64_t>(d);
      elements[tensor.dtype] += count;
    }
  }
  info.set_size_bytes(bytes);
  uint64_t total = 0;
  engine::DType main_dtype = engine::DType::kF32;
  uint64_t main_count = 0;
  for (const auto& [dtype, count] : elements) {
    total += count;
    if (count > main_count) {
      main_count = count;
      main_dtype = dtype;
    }
  }
  info.set_num_parameters(total);
  info.set_dtype(DtypeName(main_dtype));
  const auto& families = SupportedFamilies();
  if (family.empty()) {
    info.set_problem(absl::StrCat(dir, "/config.json has no model_type (a string such as "
                                       "\"llama\"): it does not say which architecture it is"));
  } else if (std::find(families.begin(), families.end(), family) == families.end()) {
    info.set_problem(absl::StrCat("unsupported model_type '", family, "' (architecture ",
                                  info.architecture(), "); eprof runs ",
                                  absl::StrJoin(families, ", ")));
  }
  return info;
}

std::vector<v1::ModelInfo> ModelCatalog::List() const {
  std::map<std::string, v1::ModelInfo> by_name;
  for (const std::string& root : roots_) {
    std::error_code ec;
    fs::path root_path(root);
    if (!fs::is_directory(root_path, ec)) {
      EPROF_LOG(DEBUG) << "model root " << root << " is not a directory; skipped";
      continue;
    }
    fs::recursive_directory_iterator it(root_path, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it.depth() >= max_depth_) it.disable_recursion_pending();
      if (!it->is_directory(ec) || !LooksLikeModelDir(it->path())) continue;
      it.disable_recursion_pending();  // a model directory holds no further models
      std::string name = fs::relative(it->path(), root_path, ec).generic_string();
      if (by_name.count(name) > 0) continue;  // the first root wins
      // Resolve applies the same rules the Profile path will.
      absl::StatusOr<std::string> resolved = Resolve(name);
      if (!resolved.ok() && !absl::IsNotFound(resolved.status())) {
        // Refused (e.g. a link out of the root): nothing of it is read, only its name is shown.
        v1::ModelInfo refused;
        refused.set_name(name);
        refused.set_problem(absl::StrCat("model '", name, "' is refused: it leads outside the "
                                         "model root (through a symbolic link); move the model "
                                         "inside the root"));
        by_name[name] = std::move(refused);
        continue;
      }
      v1::ModelInfo info = Inspect(resolved.ok() ? *resolved : it->path().string(), name);
      if (info.problem().empty() && !IsModelDir(it->path())) {
        info.set_problem("not a usable model directory");
      }
      by_name[name] = std::move(info);
    }
  }
  std::vector<v1::ModelInfo> out;
  for (auto& [name, info] : by_name) out.push_back(std::move(info));
  return out;
}

std::string ModelCatalog::NormalizeName(const std::string& name) {
  // Lexically: "./a/", "a/." and "a//b" name what "a" and "a/b" name. ".." is kept (Resolve
  // refuses it) so that normalising never turns a refused name into an accepted one.
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(name, '/', absl::SkipEmpty())) {
    if (part != ".") parts.push_back(part);
  }
  if (parts.empty() || (!name.empty() && (name[0] == '/' || name[0] == '~'))) return name;
  return absl::StrJoin(parts, "/");
}

absl::StatusOr<std::string> ModelCatalog::Resolve(const std::string& name) const {
  if (name.empty()) return absl::InvalidArgumentError("model name is empty: see eprofctl models");
  if (name[0] == '/' || name[0] == '~') {
    return absl::InvalidArgumentError(absl::StrCat(
        "model name '", name, "' is absolute; use a name relative to a model root "
        "(see eprofctl models)"));
  }
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("model name '", name, "' contains '..'; names stay inside the model roots"));
    }
  }
  for (const std::string& root : roots_) {
    std::error_code ec;
    fs::path real_root = fs::canonical(root, ec);
    if (ec) continue;
    fs::path candidate = real_root / name;
    if (!fs::exists(candidate, ec)) continue;
    fs::path real = fs::canonical(candidate, ec);
    if (ec) continue;
    std::string r = real_root.string();
    std::string c = real.string();
    if (c != r && !(c.size() > r.size() && c.compare(0, r.size(), r) == 0 && c[r.size()] == '/')) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model '", name, "' resolves to ", c, ", outside the model root ", r,
          " (through a symbolic link); move the model inside the root"));
    }
    if (!IsModelDir(real)) continue;
    return c;
  }
  return absl::NotFoundError(absl::StrCat(
      "no model '", name, "' under the model roots (", absl::StrJoin(roots_, ", "),
      "): run eprofctl models to see the available ones"));
}

}  // namespace eprof::daemon
