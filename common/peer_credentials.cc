#include "common/peer_credentials.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/ucred.h>
#endif

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errno_status.h"

#if defined(__APPLE__) && !defined(SOL_LOCAL)
#define SOL_LOCAL 0
#endif

namespace eprof {
namespace {

std::string UserName(uid_t uid) {
  struct passwd pw;
  struct passwd* result = nullptr;
  std::vector<char> buf(4096);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr) {
    return pw.pw_name;
  }
  return "";
}

// The supplementary groups of `uid`'s user (from the group database), including `gid`.
std::vector<gid_t> GroupsOf(uid_t uid, gid_t gid) {
  struct passwd pw;
  struct passwd* result = nullptr;
  std::vector<char> buf(4096);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) != 0 || result == nullptr) {
    return {gid};
  }
  int count = 64;
  for (int attempt = 0; attempt < 4; ++attempt) {
#if defined(__APPLE__)
    std::vector<int> groups(count);
    int n = count;
    if (getgrouplist(pw.pw_name, static_cast<int>(gid), groups.data(), &n) != -1) {
      return std::vector<gid_t>(groups.begin(), groups.begin() + n);
    }
#else
    std::vector<gid_t> groups(count);
    int n = count;
    if (getgrouplist(pw.pw_name, gid, groups.data(), &n) != -1) {
      groups.resize(n);
      return groups;
    }
#endif
    count = n > count ? n : count * 4;
  }
  return {gid};
}

}  // namespace

std::string DescribeUser(uid_t uid) {
  std::string name = UserName(uid);
  return absl::StrCat("uid ", uid, name.empty() ? "" : absl::StrCat(" (", name, ")"));
}

std::string DescribePeer(const PeerCredentials& peer) {
  return absl::StrCat(DescribeUser(peer.uid), ", gid ", peer.gid,
                      peer.pid > 0 ? absl::StrCat(", pid ", peer.pid) : "");
}

absl::StatusOr<PeerCredentials> GetPeerCredentials(int fd) {
  struct sockaddr_storage addr;
  socklen_t addr_len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &addr_len) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("getsockname(fd ", fd, ")"));
  }
  if (addr.ss_family != AF_UNIX) {
    return absl::InvalidArgumentError(
        absl::StrCat("fd ", fd, " is not a Unix-domain socket: peer credentials need one"));
  }
  PeerCredentials peer;
#if defined(__linux__)
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("SO_PEERCRED on fd ", fd));
  }
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  peer.pid = cred.pid;
#elif defined(__APPLE__)
  if (getpeereid(fd, &peer.uid, &peer.gid) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("getpeereid on fd ", fd));
  }
  pid_t pid = 0;
  socklen_t len = sizeof pid;
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &pid, &len) == 0) peer.pid = pid;
#else
  if (getpeereid(fd, &peer.uid, &peer.gid) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("getpeereid on fd ", fd));
  }
#endif
  return peer;
}

bool PeerPolicy::Allows(const PeerCredentials& peer) const {
  if (allow_root && peer.uid == 0) return true;
  if (allow_same_uid && peer.uid == ::geteuid()) return true;
  if (allowed_uids.count(peer.uid) > 0) return true;
  if (allowed_gids.empty()) return false;
  if (allowed_gids.count(peer.gid) > 0) return true;
  for (gid_t g : GroupsOf(peer.uid, peer.gid)) {
    if (allowed_gids.count(g) > 0) return true;
  }
  return false;
}

std::string PeerPolicy::Describe() const {
  std::vector<std::string> parts;
  if (allow_root) parts.push_back("root");
  if (allow_same_uid) parts.push_back(absl::StrCat("uid ", ::geteuid(), " (own)"));
  if (!allowed_uids.empty()) parts.push_back(absl::StrCat("uids {", absl::StrJoin(allowed_uids, ","), "}"));
  if (!allowed_gids.empty()) parts.push_back(absl::StrCat("gids {", absl::StrJoin(allowed_gids, ","), "}"));
  return parts.empty() ? "nobody" : absl::StrJoin(parts, ", ");
}

}  // namespace eprof
