#include "daemon/engine/tokenizer/bpe_model.h"

#include <queue>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/engine/tokenizer/json_util.h"
#include "daemon/engine/tokenizer/unicode.h"

namespace eprof::tokenizer {
namespace {

uint64_t PairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  uint32_t len;  // bytes of the original word; 0 once merged into its left neighbour
};

struct Candidate {
  int32_t rank;
  int32_t pos;
  int32_t new_id;
  // priority_queue pops the largest: lowest rank first, then leftmost.
  bool operator<(const Candidate& o) const {
    return rank != o.rank ? rank > o.rank : pos > o.pos;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::FromJson(const nlohmann::json& j) {
  auto model = std::unique_ptr<BpeModel>(new BpeModel());
  if (j.contains("dropout") && j["dropout"].is_number() && j["dropout"].get<double>() > 0.0) {
    return absl::UnimplementedError("BPE dropout is not supported (inference uses none)");
  }
  auto vocab_it = j.find("vocab");
  if (vocab_it == j.end() || !vocab_it->is_object()) {
    return absl::InvalidArgumentError("BPE model needs a \"vocab\" object");
  }
  int32_t max_id = -1;
  model->vocab_.reserve(vocab_it->size());
  for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
    if (!it.value().is_number_integer()) {
      return absl::InvalidArgumentError(
          absl::StrCat("BPE vocab entry \"", it.key(), "\" has a non-integer id"));
    }
    // Ids index the id -> token table: a negative one would write before it, a huge one make
    // it huge. Real vocabularies stay far below kMaxTokenId.
    const int64_t wide = it.value().get<int64_t>();
    if (wide < 0 || wide > kMaxTokenId) {
      return absl::InvalidArgumentError(absl::StrCat("BPE vocab entry \"", it.key(), "\" has id ",
                                                     wide, ", outside 0-", kMaxTokenId));
    }
    const int32_t id = static_cast<int32_t>(wide);
    model->vocab_[it.key()] = id;
    max_id = std::max(max_id, id);
  }
  model->id_to_token_.resize(max_id + 1);
  for (const auto& [token, id] : model->vocab_) model->id_to_token_[id] = token;

  model->continuing_subword_prefix_ = JsonString(j, "continuing_subword_prefix", "");
  model->end_of_word_suffix_ = JsonString(j, "end_of_word_suffix", "");
  model->fuse_unk_ = JsonBool(j, "fuse_unk", false);
  model->byte_fallback_ = JsonBool(j, "byte_fallback", false);
  model->ignore_merges_ = JsonBool(j, "ignore_merges", false);
  if (j.contains("unk_token") && j["unk_token"].is_string()) {
    std::string unk = j["unk_token"].get<std::string>();
    auto it = model->vocab_.find(unk);
    if (it == model->vocab_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("BPE unk_token \"", unk, "\" is not in the vocabulary"));
    }
    model->unk_id_ = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    auto it = model->vocab_.find(absl::StrFormat("<0x%02X>", b));
    model->byte_ids_[b] = it == model->vocab_.end() ? -1 : it->second;
  }

  auto merges_it = j.find("merges");
  if (merges_it == j.end() || !merges_it->is_array()) {
    return absl::InvalidArgumentError("BPE model needs a \"merges\" array");
  }
  const size_t prefix_len = model->continuing_subword_prefix_.size();
  model->merges_.reserve(merges_it->size());
  int32_t rank = 0;
  for (const auto& m : *merges_it) {
    std::string a, b;
    if (m.is_string()) {
      const std::string& line = m.get_ref<const std::string&>();
      size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("BPE merge #", rank, " \"", line, "\" is not two tokens split by a space"));
      }
      a = line.substr(0, space);
      b = line.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("BPE merge #", rank, " is neither \"a b\" nor [\"a\", \"b\"]: ", m.dump()));
    }
    auto ia = model->vocab_.find(a), ib = model->vocab_.find(b);
    std::string merged = a + (b.size() >= prefix_len ? b.substr(prefix_len) : b);
    auto im = model->vocab_.find(merged);
    if (ia == model->vocab_.end() || ib == model->vocab_.end() || im == model->vocab_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("BPE merge #", rank, " (\"", a, "\", \"", b,
                                                     "\") uses a token missing from the vocab"));
    }
    // Like Hugging Face (a HashMap collected in order), a repeated pair keeps its last rank.
    model->merges_[PairKey(ia->second, ib->second)] = {rank, im->second};
    ++rank;
  }
  return model;
}

std::optional<int32_t> BpeModel::TokenToId(absl::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::IdToToken(int32_t id) const {
  if (id < 0 || id >= static_cast<int32_t>(id_to_token_.size())) return nullptr;
  if (id_to_token_[id].empty() && vocab_.find(absl::string_view()) == vocab_.end()) {
    return nullptr;
  }
  return &id_to_token_[id];
}

void BpeModel::Tokenize(absl::string_view piece, std::vector<int32_t>* ids) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    auto it = vocab_.find(piece);
    if (it != vocab_.end()) {
      ids->push_back(it->second);
      return;
    }
  }
  const bool cacheable = piece.size() <= kMaxCachedWordBytes;
  if (cacheable) {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(piece);
    if (it != cache_.end()) {
      ids->insert(ids->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> word_ids;
  MergeWord(piece, &word_ids);
  ids->insert(ids->end(), word_ids.begin(), word_ids.end());
  if (cacheable) {
    absl::MutexLock lock(&cache_mu_);
    if (cache_.size() < kCacheCapacity) cache_.emplace(std::string(piece), std::move(word_ids));
  }
}

// Dominant cost of encoding: builds one symbol per character and applies merges, lowest rank
// (then leftmost) first, through a priority queue of candidate pairs validated when popped.
void BpeModel::MergeWord(absl::string_view word, std::vector<int32_t>* ids) const {
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  int32_t pending_unk = -1;  // unk id waiting to be added (fused over several chars), or -1
  uint32_t pending_unk_len = 0;
  auto add = [&symbols](int32_t id, uint32_t len) {
    int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back(Symbol{id, index - 1, -1, len});
    if (index > 0) symbols[index - 1].next = index;
  };
  std::string scratch;
  size_t pos = 0;
  while (pos < word.size()) {
    size_t start = pos;
    pos += Utf8Len(static_cast<unsigned char>(word[pos]));
    uint32_t byte_len = static_cast<uint32_t>(pos - start);
    absl::string_view ch = word.substr(start, byte_len);
    absl::string_view lookup = ch;
    const bool decorated = (!continuing_subword_prefix_.empty() && start != 0) ||
                           (!end_of_word_suffix_.empty() && pos == word.size());
    if (decorated) {
      scratch.clear();
      if (!continuing_subword_prefix_.empty() && start != 0) scratch += continuing_subword_prefix_;
      scratch.append(ch.data(), ch.size());
      if (!end_of_word_suffix_.empty() && pos == word.size()) scratch += end_of_word_suffix_;
      lookup = scratch;
    }
    auto it = vocab_.find(lookup);
    if (it != vocab_.end()) {
      if (pending_unk >= 0) {
        add(pending_unk, pending_unk_len);
        pending_unk = -1;
      }
      add(it->second, byte_len);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char b : lookup) all = all && byte_ids_[b] >= 0;
      if (all) {
        // Hugging Face flushes no pending unk here: byte tokens go straight after the word so far.
        for (unsigned char b : lookup) add(byte_ids_[b], 1);
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk >= 0 && fuse_unk_) {
        pending_unk_len += byte_len;
      } else {
        if (pending_unk >= 0) add(pending_unk, pending_unk_len);
        pending_unk = *unk_id_;
        pending_unk_len = byte_len;
      }
    }
  }
  if (pending_unk >= 0) add(pending_unk, pending_unk_len);

  std::priority_queue<Candidate> queue;
  auto push_pair = [&](int32_t left) {
    int32_t right = symbols[left].next;
    if (right < 0) return;
    auto it = merges_.find(PairKey(symbols[left].id, symbols[right].id));
    if (it != merges_.end()) queue.push(Candidate{it->second.first, left, it->second.second});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) push_pair(i);
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.len == 0 || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    auto it = merges_.find(PairKey(left.id, right.id));
    if (it == merges_.end() || it->second.second != top.new_id) continue;
    left.id = top.new_id;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
    ids->push_back(symbols[i].id);
  }
}

}  // namespace eprof::tokenizer
