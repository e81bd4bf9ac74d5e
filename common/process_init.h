// What every eprof binary does first in main().
//
//   int main(int argc, char** argv) {
//     eprof::InitProcess("eprofd");
//     ...
//
// Thread safety: call once, before any other thread starts.
#ifndef EPROF_COMMON_PROCESS_INIT_H_
#define EPROF_COMMON_PROCESS_INIT_H_

#include "absl/strings/string_view.h"

namespace eprof {

// Names the program in log lines, and in release builds (NDEBUG) turns off Abseil's mutex
// deadlock detection. Debian's Abseil is built with it on: every Lock() then updates a global
// lock-order graph, which costs several times an uncontended lock and unlock pair, paid on
// every sample and every inference event. Tests and debug builds keep it, and abort on a cycle.
//
// On Linux it also selects gRPC's `poll` polling engine (GRPC_POLL_STRATEGY, unless the
// environment sets one). The default, epoll1, registers every socket edge-triggered for EPOLLOUT
// too, so a poller thread wakes each time the peer reads from a Unix socket, and again for the
// WINDOW_UPDATE the peer sends back per message it reads: several wake-ups per streamed
// message on each side. With `poll`, a socket is polled for writing only while a write waits for
// room, and daemon_bench's Watch clients and eprofd's gRPC threads switch context and use the
// CPU markedly less. This is the engine gRPC uses on macOS anyway. eprof's
// processes serve a handful of connections, where poll()'s cost per call is nothing.
// Must run before the process's first gRPC call.
void InitProcess(absl::string_view program_name);

}  // namespace eprof

#endif  // EPROF_COMMON_PROCESS_INIT_H_
