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
// lock-order graph, which measured 3x the cost of an uncontended lock and unlock pair, paid on
// every sample and every inference event. Tests and debug builds keep it, and abort on a cycle.
//
// On Linux it also selects gRPC's `poll` polling engine (GRPC_POLL_STRATEGY, unless the
// environment sets one). The default, epoll1, registers every socket edge-triggered for EPOLLOUT
// too, so a poller thread wakes each time the peer reads from a Unix socket, and again for the
// WINDOW_UPDATE the peer sends back per message it reads: a streamed message cost ~3 wake-ups
// on each side. With `poll`, a socket is polled for writing only while a write waits for room.
// Ten Watch clients on one run (daemon_bench, 256 tokens, the same run otherwise): context
// switches in 6 s, clients 10,325 -> 3,113, eprofd's gRPC threads 10,121 -> 5,528; their CPU
// 344 -> 232 ms and 454 -> 215 ms. This is the engine gRPC uses on macOS anyway. eprof's
// processes serve a handful of connections, where poll()'s cost per call is nothing.
// Must run before the process's first gRPC call.
void InitProcess(absl::string_view program_name);

}  // namespace eprof

#endif  // EPROF_COMMON_PROCESS_INIT_H_
