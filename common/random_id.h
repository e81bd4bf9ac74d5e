// Random identifiers from the system's entropy source (std::random_device): run ids, access
// tokens.
//
//   std::string id = RandomHex(16);   // 32 lowercase hex digits
//
// Thread safety: thread-safe.
#ifndef EPROF_COMMON_RANDOM_ID_H_
#define EPROF_COMMON_RANDOM_ID_H_

#include <string>

namespace eprof {

// `bytes` random bytes as 2 × bytes lowercase hex digits. REQUIRES: bytes % 4 == 0.
std::string RandomHex(int bytes);

}  // namespace eprof

#endif  // EPROF_COMMON_RANDOM_ID_H_
