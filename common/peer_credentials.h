// Who is on the other end of a Unix-domain socket, and whether they may talk to us.
//
//   EPROF_ASSIGN_OR_RETURN(PeerCredentials peer, GetPeerCredentials(fd));
//   PeerPolicy policy{.allowed_uids = {1000}};
//   if (!policy.Allows(peer)) close(fd);
//
// Credentials are those the peer had when it called connect(2) (SO_PEERCRED on Linux,
// getpeereid + LOCAL_PEERPID on macOS).
//
// Thread safety: free functions are thread-safe; PeerPolicy is a value.
#ifndef EPROF_COMMON_PEER_CREDENTIALS_H_
#define EPROF_COMMON_PEER_CREDENTIALS_H_

#include <sys/types.h>

#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace eprof {

struct PeerCredentials {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  // 0 when the platform cannot tell.
  pid_t pid = 0;
};

// "uid 1000 (alice), gid 1000, pid 4242".
std::string DescribePeer(const PeerCredentials& peer);
// "uid 1000 (alice)", or "uid 1000" when the user database has no name for it.
std::string DescribeUser(uid_t uid);

// Reads the credentials of the peer of connected Unix-domain socket `fd`.
// Returns INVALID_ARGUMENT when `fd` is not a Unix-domain socket, or the errno-derived error.
absl::StatusOr<PeerCredentials> GetPeerCredentials(int fd);

// Which peers a server accepts.
struct PeerPolicy {
  // Root (uid 0) is always allowed when true (default).
  bool allow_root = true;
  // The server's own uid is allowed when true (default).
  bool allow_same_uid = true;
  // Further uids allowed.
  std::set<uid_t> allowed_uids;
  // Peers whose primary gid, or any supplementary group of their user, is one of these.
  std::set<gid_t> allowed_gids;

  // True when `peer` may connect. Looks up the peer user's supplementary groups only when
  // allowed_gids is non-empty and the cheaper checks failed.
  bool Allows(const PeerCredentials& peer) const;

  // "root, uid 1000, uids {1001}, gids {998}" for log lines.
  std::string Describe() const;
};

}  // namespace eprof

#endif  // EPROF_COMMON_PEER_CREDENTIALS_H_
