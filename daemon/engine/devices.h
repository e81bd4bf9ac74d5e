// Which accelerators this libtorch build can use. Torch-free header.
#ifndef EPROF_DAEMON_ENGINE_DEVICES_H_
#define EPROF_DAEMON_ENGINE_DEVICES_H_

#include <string>
#include <vector>

namespace eprof::engine {

// "cuda:0", "cuda:1", ... and "mps" when the build has them and the machine does too; empty for
// Debian's CPU-only libtorch.
std::vector<std::string> AvailableAcceleratorDevices();

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_DEVICES_H_
