// Directories that hold a server's socket and lock file, checked so that another local user
// cannot have planted them (a directory made first under a guessable name in /tmp, a symbolic
// link to a directory of theirs, a lock file left to block the server).
//
//   // Server: create the directory, or check the one that is there, and give it `mode`.
//   EPROF_RETURN_IF_ERROR(PrepareSocketDirectory("/tmp/eprof-1000", 0700, /*set_mode=*/true));
//   // Client: who may be listening on a socket inside `dir`.
//   EPROF_ASSIGN_OR_RETURN(SocketDirectory d, InspectSocketDirectory("/tmp/eprof-1000"));
//   if (!d.MayServe(peer_uid)) ...
//
// A directory is trusted when it is a real directory (not a symbolic link), owned by the
// process's effective uid or by root, and writable by nobody else (no group or other write
// bit): then only its owner (or root) can have put a socket or a lock file in it.
//
// Thread safety: free functions, thread-safe.
#ifndef EPROF_COMMON_SECURE_DIR_H_
#define EPROF_COMMON_SECURE_DIR_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eprof {

// Makes `dir` (one level, with `mode`) when it does not exist; otherwise checks that it is
// trusted (see above) and, when `set_mode`, gives it `mode`.
// Errors: FAILED_PRECONDITION naming what is wrong (a symbolic link, not a directory, owned by
// another user, writable by others) and what to do; the errno-derived error for failed calls.
absl::Status PrepareSocketDirectory(const std::string& dir, mode_t mode, bool set_mode);

// What a client knows about the directory of a socket it is about to connect to.
struct SocketDirectory {
  uid_t owner = static_cast<uid_t>(-1);
  // Group or others may create files in it (e.g. /tmp): anyone could have bound the socket.
  bool writable_by_others = false;

  // True when a server running as `server_uid` may be trusted with our requests: ourselves,
  // root, or the owner of a directory nobody else can write to (only they can have bound it).
  bool MayServe(uid_t server_uid) const;
};

// Reads what `dir` is. FAILED_PRECONDITION when it is a symbolic link or not a directory (the
// message says why that is refused); NOT_FOUND when it does not exist.
absl::StatusOr<SocketDirectory> InspectSocketDirectory(const std::string& dir);

// The directory part of a path ("." when there is none).
std::string DirectoryOf(const std::string& path);

}  // namespace eprof

#endif  // EPROF_COMMON_SECURE_DIR_H_
