#include "common/random_id.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace eprof {

std::string RandomHex(int bytes) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < bytes / 4; ++i) absl::StrAppend(&out, absl::StrFormat("%08x", rd()));
  return out;
}

}  // namespace eprof
