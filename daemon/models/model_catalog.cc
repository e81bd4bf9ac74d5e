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
#include "common/logging.h"

namespace eprof::daemon {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool IsModelDir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec) &&
         (fs::is_regular_file(dir / "model.safetensors", ec) ||
          fs::is_regular_file(dir / "model.safetensors.index.json", ec));
}

std::string DtypeName(const std::string& st) {
  if (st == "F32") return "float32";
  if (st == "F16") return "float16";
  if (st == "BF16") return "bfloat16";
  if (st == "F64") return "float64";
  return absl::StrCat("unsupported (", st, ")");
}

// Reads the JSON header of a safetensors file; adds its tensors' element counts by dtype.
std::string ReadSafetensorsHeader(const fs::path& file, std::map<std::string, uint64_t>* elements,
                                  std::set<std::string>* seen) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::StrCat("cannot read ", file.string());
  unsigned char len_bytes[8];
  if (!in.read(reinterpret_cast<char*>(len_bytes), 8)) {
    return absl::StrCat(file.string(), " is truncated: no safetensors header");
  }
  uint64_t len = 0;
  for (int i = 7; i >= 0; --i) len = (len << 8) | len_bytes[i];
  std::error_code ec;
  uint64_t size = fs::file_size(file, ec);
  if (len > 100'000'000 || len + 8 > size) {
    return absl::StrCat(file.string(), " has a safetensors header of ", len,
                        " bytes, which does not fit the file (", size, " bytes)");
  }
  std::string text(len, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(len))) {
    return absl::StrCat(file.string(), " is truncated inside its header");
  }
  json header = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return absl::StrCat(file.string(), ": safetensors header is not JSON");
  for (auto& [name, tensor] : header.items()) {
    if (name == "__metadata__") continue;
    if (!tensor.is_object() || !tensor.contains("dtype") || !tensor.contains("shape")) {
      return absl::StrCat(file.string(), ": tensor ", name, " has no dtype or shape");
    }
    if (!seen->insert(name).second) continue;
    uint64_t count = 1;
    for (const json& d : tensor["shape"]) count *= d.get<uint64_t>();
    (*elements)[tensor["dtype"].get<std::string>()] += count;
  }
  return "";
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
  fs::path d(dir);
  std::error_code ec;
  info.set_has_tokenizer(fs::is_regular_file(d / "tokenizer.json", ec));
  std::ifstream config_in(d / "config.json");
  json config = json::parse(config_in, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) {
    info.set_problem(absl::StrCat(dir, "/config.json is not valid JSON"));
    return info;
  }
  // Multimodal Gemma 3 checkpoints keep the language model's settings under text_config.
  const json& text = config.contains("text_config") && config["text_config"].is_object()
                         ? config["text_config"]
                         : config;
  std::string family = text.value("model_type", config.value("model_type", std::string()));
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

  std::vector<fs::path> files;
  if (fs::is_regular_file(d / "model.safetensors", ec)) {
    files.push_back(d / "model.safetensors");
  } else {
    std::ifstream index_in(d / "model.safetensors.index.json");
    json index = json::parse(index_in, nullptr, /*allow_exceptions=*/false);
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
      info.set_problem(absl::StrCat(dir, "/model.safetensors.index.json has no weight_map"));
      return info;
    }
    std::set<std::string> shards;
    for (auto& [tensor, shard] : index["weight_map"].items()) {
      if (shard.is_string()) shards.insert(shard.get<std::string>());
    }
    for (const std::string& shard : shards) files.push_back(d / shard);
  }
  std::map<std::string, uint64_t> elements;
  std::set<std::string> seen;
  uint64_t bytes = 0;
  for (const fs::path& f : files) {
    if (!fs::is_regular_file(f, ec)) {
      info.set_problem(absl::StrCat("weight file ", f.string(), " is missing"));
      return info;
    }
    bytes += fs::file_size(f, ec);
    if (std::string problem = ReadSafetensorsHeader(f, &elements, &seen); !problem.empty()) {
      info.set_problem(problem);
      return info;
    }
  }
  info.set_size_bytes(bytes);
  uint64_t total = 0;
  std::string main_dtype;
  uint64_t main_count = 0;
  for (auto& [dtype, count] : elements) {
    total += count;
    if (count > main_count) {
      main_count = count;
      main_dtype = dtype;
    }
  }
  info.set_num_parameters(total);
  info.set_dtype(DtypeName(main_dtype));
  const auto& families = SupportedFamilies();
  if (std::find(families.begin(), families.end(), family) == families.end()) {
    info.set_problem(absl::StrCat("unsupported model_type '", family, "' (architecture ",
                                  info.architecture(), "); eprof runs ",
                                  absl::StrJoin(families, ", ")));
  } else if (absl::StartsWith(info.dtype(), "unsupported")) {
    info.set_problem(absl::StrCat("weights are stored as ", main_dtype,
                                  "; eprof loads F32, F16 and BF16"));
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
      if (!it->is_directory(ec) || !IsModelDir(it->path())) continue;
      it.disable_recursion_pending();  // a model directory holds no further models
      std::string name = fs::relative(it->path(), root_path, ec).generic_string();
      if (by_name.count(name) > 0) continue;  // the first root wins
      // Resolve applies the same rules the Profile path will.
      absl::StatusOr<std::string> resolved = Resolve(name);
      v1::ModelInfo info = Inspect(resolved.ok() ? *resolved : it->path().string(), name);
      if (!resolved.ok()) info.set_problem(std::string(resolved.status().message()));
      by_name[name] = std::move(info);
    }
  }
  std::vector<v1::ModelInfo> out;
  for (auto& [name, info] : by_name) out.push_back(std::move(info));
  return out;
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
