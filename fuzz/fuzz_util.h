// Small helpers the fuzzers share: the input as a string view, and chunk sizes drawn from the
// input.
//
// Thread safety: none needed (libFuzzer calls one input at a time).
#ifndef EPROF_FUZZ_FUZZ_UTIL_H_
#define EPROF_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace eprof::fuzz {

inline absl::string_view View(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// Splits `bytes` into chunks of 1 to 64 bytes whose sizes follow from `seed`, as a stream read
// from a pipe arrives.
inline std::vector<absl::string_view> Chunks(absl::string_view bytes, uint8_t seed) {
  std::vector<absl::string_view> chunks;
  uint32_t state = seed;
  for (size_t pos = 0; pos < bytes.size();) {
    state = state * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(1 + (state >> 16) % 64, bytes.size() - pos);
    chunks.push_back(bytes.substr(pos, n));
    pos += n;
  }
  return chunks;
}

}  // namespace eprof::fuzz

#endif  // EPROF_FUZZ_FUZZ_UTIL_H_
