// The BPE model of tokenizer.json ("model": {"type": "BPE"}): vocabulary, ranked merges,
// byte fallback, unk token (fused or not), ignore_merges, continuing-subword prefix and
// end-of-word suffix, with Hugging Face tokenizers' semantics (no dropout: inference only).
//
// Thread-safety: Tokenize may be called concurrently (the word cache takes a mutex).
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_BPE_MODEL_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_BPE_MODEL_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include <nlohmann/json.hpp>

namespace eprof::tokenizer {

class BpeModel {
 public:
  // The largest token id a tokenizer.json may use (real vocabularies have at most a few hundred
  // thousand).
  static constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;
  // Builds the model from a tokenizer.json "model" object; rejects dropout > 0, ids outside
  // 0-kMaxTokenId, merges that name tokens missing from the vocabulary, and an unk_token
  // missing from the vocabulary.
  static absl::StatusOr<std::unique_ptr<BpeModel>> FromJson(const nlohmann::json& j);

  // Appends the ids of one pre-tokenized piece (valid UTF-8) to *ids.
  void Tokenize(absl::string_view piece, std::vector<int32_t>* ids) const;

  std::optional<int32_t> TokenToId(absl::string_view token) const;
  // The token of `id`, or nullptr when the vocabulary has no such id.
  const std::string* IdToToken(int32_t id) const;
  // One past the largest id in the vocabulary.
  int32_t vocab_size() const { return static_cast<int32_t>(id_to_token_.size()); }
  // Number of vocabulary entries (Hugging Face's get_vocab_size).
  int32_t vocab_entries() const { return static_cast<int32_t>(vocab_.size()); }

 private:
  BpeModel() = default;
  void MergeWord(absl::string_view word, std::vector<int32_t>* ids) const;

  absl::flat_hash_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  // (left id << 32 | right id) -> (rank, merged id).
  absl::flat_hash_map<uint64_t, std::pair<int32_t, int32_t>> merges_;
  std::array<int32_t, 256> byte_ids_{};  // <0xXX> ids, -1 when absent
  std::optional<int32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;

  static constexpr size_t kCacheCapacity = 10000;
  static constexpr size_t kMaxCachedWordBytes = 256;
  mutable absl::Mutex cache_mu_;
  mutable absl::flat_hash_map<std::string, std::vector<int32_t>> cache_
      ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace eprof::tokenizer

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_BPE_MODEL_H_
