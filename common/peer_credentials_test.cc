#include "common/peer_credentials.h"

#include <sys/socket.h>
#include <unistd.h>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using ::eprof::testing::StatusIs;
using ::testing::HasSubstr;

TEST(GetPeerCredentials, ReadsOurOwnIdentityOverASocketPair) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  absl::StatusOr<PeerCredentials> peer = GetPeerCredentials(fds[0]);
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(peer->uid, geteuid());
  EXPECT_EQ(peer->gid, getegid());
#if defined(__linux__)
  EXPECT_EQ(peer->pid, getpid());
#endif
  close(fds[0]);
  close(fds[1]);
}

TEST(GetPeerCredentials, RejectsNonUnixSockets) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  EXPECT_THAT(GetPeerCredentials(fd),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a Unix-domain socket")));
  close(fd);
  absl::StatusOr<PeerCredentials> closed = GetPeerCredentials(fd);
  EXPECT_FALSE(closed.ok());
  EXPECT_THAT(closed.status().message(), HasSubstr("getsockname"));
}

TEST(PeerPolicy, RootSelfAndLists) {
  uid_t self = geteuid();
  uid_t stranger = self == 12345 ? 12346 : 12345;
  PeerPolicy policy;
  EXPECT_TRUE(policy.Allows({.uid = 0, .gid = 0}));
  EXPECT_TRUE(policy.Allows({.uid = self, .gid = 4242}));
  EXPECT_FALSE(policy.Allows({.uid = stranger, .gid = 4242}));

  policy.allowed_uids = {stranger};
  EXPECT_TRUE(policy.Allows({.uid = stranger, .gid = 4242}));

  PeerPolicy by_group;
  by_group.allowed_gids = {4242};
  EXPECT_TRUE(by_group.Allows({.uid = stranger, .gid = 4242}));
  EXPECT_FALSE(by_group.Allows({.uid = stranger, .gid = 4243}));

  PeerPolicy strict{.allow_root = false, .allow_same_uid = false};
  EXPECT_FALSE(strict.Allows({.uid = 0, .gid = 0}));
  EXPECT_FALSE(strict.Allows({.uid = self, .gid = 0}));
  EXPECT_EQ(strict.Describe(), "nobody");
}

TEST(DescribePeer, NamesUidGidAndPid) {
  EXPECT_THAT(DescribePeer({.uid = 0, .gid = 0, .pid = 77}), HasSubstr("uid 0 (root), gid 0, pid 77"));
}

}  // namespace
}  // namespace eprof
