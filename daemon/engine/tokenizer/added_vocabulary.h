// The "added_tokens" of tokenizer.json: literal strings matched before the normalizer and the
// model (leftmost-longest, like Hugging Face's Aho-Corasick), with lstrip / rstrip /
// single_word handling. Tokens with "normalized": false are matched on the raw text, the others
// on each normalized segment.
//
// Thread-safety: immutable after construction.
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_ADDED_VOCABULARY_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_ADDED_VOCABULARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace eprof::tokenizer {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// A piece of the input: either matched added token (id >= 0) or text still to tokenize.
struct Segment {
  int32_t id = -1;
  size_t start = 0;  // byte offsets in the string that was split
  size_t end = 0;
};

// Matches one set of added tokens (all normalized or all not).
class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);
  // Splits `text` into matched tokens and the text between them (Hugging Face's find_matches).
  std::vector<Segment> Split(absl::string_view text) const;
  bool empty() const { return tokens_.empty(); }

 private:
  // Byte trie over the token contents.
  struct Node {
    absl::flat_hash_map<unsigned char, int32_t> next;
    int32_t token = -1;  // index into tokens_ when a content ends here
  };
  std::vector<AddedToken> tokens_;
  std::vector<Node> nodes_;
  bool first_byte_[256] = {};
};

}  // namespace eprof::tokenizer

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_ADDED_VOCABULARY_H_
