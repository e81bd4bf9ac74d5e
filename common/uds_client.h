// Connecting to one of eprof's servers on a Unix socket, checking who listens before anything
// is sent (the client half of the peer check UdsServer does).
//
//   absl::StatusOr<int> fd = ConnectToTrustedServer(socket, /*default_path=*/true);
//   if (!fd.ok()) { print fd.status().message(); }
//   auto channel = grpc::CreateInsecureChannelFromFd("eprofd", *fd);   // owns the fd
//
// The server must run as this user, as root, or as the owner of the socket's directory when
// nobody else can write there (SocketDirectory::MayServe). For a default path the directory
// must also be this user's own and closed to others. A channel made from the fd never
// reconnects: make a new one when it fails.
//
// Thread safety: free function, thread-safe.
#ifndef EPROF_COMMON_UDS_CLIENT_H_
#define EPROF_COMMON_UDS_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"

namespace eprof {

// A connected, non-blocking, close-on-exec socket to `socket_path`, whose peer passed the check.
// UNAVAILABLE with what to do when nothing is there, nothing listens ("no socket there",
// "nothing listens there") or the server's backlog is full (never blocks on it); PERMISSION_DENIED when the socket may not be connected to (another
// user's, without --allow-uid for this one); FAILED_PRECONDITION when the directory or the
// server is not trusted (naming the owner or the server's uid); the errno-derived error
// otherwise. `server_name` names the server in messages ("eprofd").
absl::StatusOr<int> ConnectToTrustedServer(const std::string& socket_path, bool default_path,
                                           const std::string& server_name = "eprofd");

}  // namespace eprof

#endif  // EPROF_COMMON_UDS_CLIENT_H_
