#include "daemon/engine/checkpoint.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/contained_path.h"
#include "common/status_macros.h"
#include "daemon/engine/model_config.h"
#include "nlohmann/json.hpp"

namespace eprof::engine {

absl::StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::Open(const std::string& dir) {
  auto ckpt = std::make_unique<Checkpoint>();
  const std::string index_path = dir + "/model.safetensors.index.json";
  absl::StatusOr<std::string> index_real = ResolveInside(dir, "model.safetensors.index.json");
  if (!index_real.ok() && !absl::IsNotFound(index_real.status())) return index_real.status();
  absl::StatusOr<std::string> index_text =
      index_real.ok() ? ReadTextFile(*index_real) : index_real.status();
  if (!index_text.ok()) {
    const std::string single = dir + "/model.safetensors";
    absl::StatusOr<std::string> single_real = ResolveInside(dir, "model.safetensors");
    if (absl::IsNotFound(single_real.status())) {
      return absl::NotFoundError(absl::StrCat(dir, ": no model.safetensors and no ",
                                              "model.safetensors.index.json: not a Hugging Face "
                                              "model directory with safetensors weights"));
    }
    if (!single_real.ok()) return single_real.status();
    auto file = SafetensorsFile::Open(*single_real);
    if (!file.ok()) return file.status();
    ckpt->source_ = single;
    ckpt->files_.push_back(std::move(*file));
    return ckpt;
  }
  ckpt->source_ = index_path;
  nlohmann::json index = nlohmann::json::parse(*index_text, nullptr, false);
  if (index.is_discarded() || !index.is_object() || !index.contains("weight_map") ||
      !index["weight_map"].is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(index_path, ": not a JSON object with a \"weight_map\" object"));
  }
  std::map<std::string, size_t> shard_index;
  for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
    if (!it.value().is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(index_path, ": weight_map entry for '", it.key(), "' is not a file name"));
    }
    const std::string shard = it.value().get<std::string>();
    if (shard.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": shard name '", shard,
                                                     "' for tensor '", it.key(),
                                                     "' must be a plain file name inside the "
                                                     "model directory"));
    }
    auto found = shard_index.find(shard);
    if (found == shard_index.end()) {
      absl::StatusOr<std::string> shard_path = ResolveInside(dir, shard);
      if (absl::IsNotFound(shard_path.status())) {
        return absl::NotFoundError(absl::StrCat("weight file ", dir, "/", shard, " is missing (",
                                                index_path, " lists it for tensor '", it.key(),
                                                "')"));
      }
      if (!shard_path.ok()) {
        return absl::Status(shard_path.status().code(),
                            absl::StrCat(index_path, " lists shard '", shard, "' for tensor '",
                                         it.key(), "': ", shard_path.status().message()));
      }
      auto file = SafetensorsFile::Open(*shard_path);
      if (!file.ok()) {
        return absl::Status(file.status().code(),
                            absl::StrCat(index_path, " lists shard '", shard, "' for tensor '",
                                         it.key(), "': ", file.status().message()));
      }
      found = shard_index.emplace(shard, ckpt->files_.size()).first;
      ckpt->files_.push_back(std::move(*file));
    }
    if (ckpt->files_[found->second]->Find(it.key()) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": tensor '", it.key(),
                                                     "' is mapped to shard '", shard,
                                                     "', which does not contain it"));
    }
  }
  return ckpt;
}

const TensorView* Checkpoint::Find(const std::string& name) const {
  for (const auto& f : files_) {
    if (const TensorView* v = f->Find(name)) return v;
  }
  return nullptr;
}

int64_t Checkpoint::CountIndexed(const std::string& prefix) const {
  int64_t count = 0;
  for (const auto& f : files_) {
    for (const auto& [name, view] : f->tensors()) {
      if (name.compare(0, prefix.size(), prefix) != 0) continue;
      int64_t n = 0;
      size_t i = prefix.size();
      for (; i < name.size() && i < prefix.size() + 9 && name[i] >= '0' && name[i] <= '9'; ++i) {
        n = n * 10 + (name[i] - '0');
      }
      if (i > prefix.size() && i < name.size() && name[i] == '.') count = std::max(count, n + 1);
    }
  }
  return count;
}

size_t Checkpoint::total_bytes() const {
  size_t total = 0;
  for (const auto& f : files_) {
    for (const auto& [name, view] : f->tensors()) total += view.size_bytes;
  }
  return total;
}

size_t Checkpoint::num_tensors() const {
  size_t n = 0;
  for (const auto& f : files_) n += f->tensors().size();
  return n;
}

}  // namespace eprof::engine
