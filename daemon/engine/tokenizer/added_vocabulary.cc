#include "daemon/engine/tokenizer/added_vocabulary.h"

#include <utility>

#include "daemon/engine/tokenizer/unicode.h"

namespace eprof::tokenizer {
namespace {

char32_t LastCodePoint(absl::string_view s) {
  size_t start = s.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return NextCodePoint(s, &start);
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  nodes_.emplace_back();
  for (int32_t t = 0; t < static_cast<int32_t>(tokens_.size()); ++t) {
    const std::string& content = tokens_[t].content;
    if (content.empty()) continue;
    first_byte_[static_cast<unsigned char>(content[0])] = true;
    int32_t node = 0;
    for (unsigned char c : content) {
      auto it = nodes_[node].next.find(c);
      if (it == nodes_[node].next.end()) {
        nodes_.emplace_back();
        int32_t created = static_cast<int32_t>(nodes_.size()) - 1;
        nodes_[node].next[c] = created;
        node = created;
      } else {
        node = it->second;
      }
    }
    if (nodes_[node].token < 0) nodes_[node].token = t;
  }
}

std::vector<Segment> AddedTokenMatcher::Split(absl::string_view text) const {
  std::vector<Segment> out;
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    // Longest match starting at pos.
    int32_t node = 0, best = -1;
    size_t best_end = pos;
    for (size_t i = pos; i < text.size(); ++i) {
      auto it = nodes_[node].next.find(static_cast<unsigned char>(text[i]));
      if (it == nodes_[node].next.end()) break;
      node = it->second;
      if (nodes_[node].token >= 0) {
        best = nodes_[node].token;
        best_end = i + 1;
      }
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[best];
    size_t start = pos, stop = best_end;
    pos = best_end;  // matching resumes after the match itself, as Aho-Corasick's iterator does
    if (token.single_word) {
      bool start_ok = start == 0 || !IsWordChar(LastCodePoint(text.substr(0, start)));
      size_t p = stop;
      bool stop_ok = stop == text.size() || !IsWordChar(NextCodePoint(text, &p));
      if (!start_ok || !stop_ok) continue;
    }
    if (token.lstrip) {
      size_t s = start;
      while (s > 0) {
        size_t prev = s - 1;
        while (prev > 0 && (static_cast<unsigned char>(text[prev]) & 0xC0) == 0x80) --prev;
        size_t p = prev;
        if (!IsWhitespace(NextCodePoint(text, &p))) break;
        s = prev;
      }
      start = std::max(s, start_offset);
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        size_t p = stop;
        if (!IsWhitespace(NextCodePoint(text, &p))) break;
        stop = p;
      }
    }
    if (start_offset < start) out.push_back(Segment{-1, start_offset, start});
    out.push_back(Segment{token.id, start, stop});
    start_offset = stop;
    if (pos < stop) pos = stop;
  }
  if (start_offset < text.size()) out.push_back(Segment{-1, start_offset, text.size()});
  return out;
}

}  // namespace eprof::tokenizer
