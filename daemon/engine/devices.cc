#include "daemon/engine/devices.h"

#include <ATen/Context.h>

#include "absl/strings/str_cat.h"

namespace eprof::engine {

std::vector<std::string> AvailableAcceleratorDevices() {
  std::vector<std::string> devices;
  if (at::hasCUDA()) {
    int n = static_cast<int>(at::getNumGPUs());
    for (int i = 0; i < n; ++i) devices.push_back(absl::StrCat("cuda:", i));
  }
  if (at::hasMPS()) devices.push_back("mps");
  return devices;
}

}  // namespace eprof::engine
