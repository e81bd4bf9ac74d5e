// UdsServer over a real Unix socket: a small gRPC service (PowerService.Describe answering with
// the caller's uid) called by allowed and refused peers, lock and stale-socket handling, socket
// mode and ownership, socket activation.
//
// Refused and allow-listed peers are real processes running as `nobody`: the test forks, drops
// privileges and re-executes this test binary with a filter selecting UdsServerChild.Call, which
// makes a real gRPC call and exits 0 when the outcome is the expected one. Those tests need root
// (CI runs as root) and are skipped otherwise.
#include "common/uds_server.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "eprof/v1/power.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uid_t kNobodyUid = 65534;
constexpr gid_t kNogroupGid = 65534;

// Answers Describe with hostname "uds-test" and, in `machine`, the caller's uid as UdsServer saw it.
class DescribeService final : public v1::PowerService::CallbackService {
 public:
  std::atomic<UdsServer*> server{nullptr};

  grpc::ServerUnaryReactor* Describe(grpc::CallbackServerContext* context,
                                     const v1::DescribeRequest*,
                                     v1::DescribeResponse* response) override {
    response->set_hostname("uds-test");
    UdsServer* s = server.load();
    std::optional<PeerCredentials> peer = s ? s->PeerOf(*context) : std::nullopt;
    response->set_machine(peer ? absl::StrCat("uid=", peer->uid) : "unknown");
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

grpc::Status CallDescribe(const std::string& socket_path, v1::DescribeResponse* response) {
  auto channel = grpc::CreateChannel("unix:" + socket_path, grpc::InsecureChannelCredentials());
  auto stub = v1::PowerService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return stub->Describe(&context, v1::DescribeRequest(), response);
}

// The child half of the cross-user tests; skipped unless run by them.
TEST(UdsServerChild, Call) {
  const char* socket = getenv("EPROF_UDS_CHILD_SOCKET");
  const char* expect = getenv("EPROF_UDS_CHILD_EXPECT");
  if (socket == nullptr || expect == nullptr) GTEST_SKIP() << "run by UdsServerTest as a child";
  const std::string mode = expect;
  if (mode == "hold-then-refused") {
    // Holds as many raw connections as the server allows this user, then one call must be
    // refused; once they are closed, a call is served again.
    const char* n_text = getenv("EPROF_UDS_CHILD_HOLD");
    int n = n_text != nullptr ? atoi(n_text) : 0;
    std::vector<int> held;
    for (int i = 0; i < n; ++i) {
      int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      struct sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strncpy(addr.sun_path, socket, sizeof addr.sun_path - 1);
      ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
      held.push_back(fd);
    }
    usleep(300'000);  // let the server accept them all
    v1::DescribeResponse refused;
    EXPECT_EQ(CallDescribe(socket, &refused).error_code(), grpc::StatusCode::UNAVAILABLE);
    for (int fd : held) close(fd);
    // Served again once gRPC has noticed the closed connections (and closed their fds).
    grpc::Status again;
    for (int i = 0; i < 40; ++i) {
      usleep(100'000);
      v1::DescribeResponse served;
      again = CallDescribe(socket, &served);
      if (again.ok()) break;
    }
    EXPECT_TRUE(again.ok()) << again.error_message();
    return;
  }
  if (mode == "flood") {
    // Connects over and over as a refused peer.
    for (int i = 0; i < 500; ++i) {
      int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      struct sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strncpy(addr.sun_path, socket, sizeof addr.sun_path - 1);
      if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        char byte;
        (void)read(fd, &byte, 1);  // returns once the server has closed it
      }
      close(fd);
    }
    return;
  }
  v1::DescribeResponse response;
  grpc::Status status = CallDescribe(socket, &response);
  if (mode == "ok") {
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    EXPECT_EQ(response.machine(), absl::StrCat("uid=", getuid()));
  } else {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  }
}

class UdsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = "/tmp/eprof-uds-XXXXXX";  // short: sun_path is small
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    // Searchable by everyone so that a peer running as nobody can reach the socket; the socket's
    // own mode and the peer check decide the rest.
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    path_ = dir_ + "/s.sock";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  UdsServerOptions Options() {
    UdsServerOptions options;
    options.socket_path = path_;
    options.server_name = "uds-test";
    options.configure = [this](grpc::ServerBuilder& b) { b.RegisterService(&service_); };
    return options;
  }

  std::unique_ptr<UdsServer> StartOrDie(UdsServerOptions options) {
    absl::StatusOr<std::unique_ptr<UdsServer>> server = UdsServer::Start(std::move(options));
    EXPECT_THAT(server, IsOk());
    if (!server.ok()) return nullptr;
    service_.server = server->get();
    return std::move(*server);
  }

  // Runs UdsServerChild.Call as `uid`:`gid` in a copy of this binary; returns its exit status.
  int RunChildAs(uid_t uid, gid_t gid, const std::string& expect, int hold = 0) {
    std::string exe = dir_ + "/child";
    if (!std::filesystem::exists(exe)) std::filesystem::copy_file("/proc/self/exe", exe);
    chmod(exe.c_str(), 0755);
    std::string env_socket = "EPROF_UDS_CHILD_SOCKET=" + path_;
    std::string env_expect = "EPROF_UDS_CHILD_EXPECT=" + expect;
    std::string env_hold = absl::StrCat("EPROF_UDS_CHILD_HOLD=", hold);
    std::vector<char*> argv = {exe.data(), const_cast<char*>("--gtest_filter=UdsServerChild.Call"),
                               nullptr};
    std::vector<char*> envp = {env_socket.data(), env_expect.data(), env_hold.data(),
                               const_cast<char*>("EPROF_LOG_LEVEL=error"), nullptr};
    pid_t child = fork();
    if (child == 0) {
      // Only async-signal-safe calls between fork and exec: gRPC threads exist in the parent.
      if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(90);
      execve(exe.c_str(), argv.data(), envp.data());
      _exit(91);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  DescribeService service_;
  std::string dir_;
  std::string path_;
};

TEST_F(UdsServerTest, AllowedPeerCallsTheService) {
  auto server = StartOrDie(Options());
  ASSERT_NE(server, nullptr);
  v1::DescribeResponse response;
  grpc::Status status = CallDescribe(path_, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.hostname(), "uds-test");
  EXPECT_EQ(response.machine(), absl::StrCat("uid=", geteuid()));  // the peer was identified
  EXPECT_GE(server->accepted_connections(), 1u);
  EXPECT_EQ(server->refused_connections(), 0u);
}

TEST_F(UdsServerTest, SocketModeIsSetExplicitly) {
  UdsServerOptions options = Options();
  options.socket_mode = 0600;
  auto server = StartOrDie(std::move(options));
  ASSERT_NE(server, nullptr);
  struct stat st;
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(UdsServerTest, SocketOwnershipIsSetWhenAsked) {
  if (geteuid() != 0) GTEST_SKIP() << "chown to another group needs root";
  UdsServerOptions options = Options();
  options.socket_gid = kNogroupGid;
  auto server = StartOrDie(std::move(options));
  ASSERT_NE(server, nullptr);
  struct stat st;
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, kNogroupGid);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(UdsServerTest, RefusedPeerHasItsConnectionClosed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a peer as nobody";
  UdsServerOptions options = Options();
  options.socket_mode = 0666;  // the file lets anyone connect: only the peer check refuses
  auto server = StartOrDie(std::move(options));
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(RunChildAs(kNobodyUid, kNogroupGid, "unavailable"), 0);
  EXPECT_GE(server->refused_connections(), 1u);
  // The server is unaffected and still serves allowed peers.
  v1::DescribeResponse response;
  EXPECT_TRUE(CallDescribe(path_, &response).ok());
}

TEST_F(UdsServerTest, AllowListedUidIsServed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a peer as nobody";
  UdsServerOptions options = Options();
  options.socket_mode = 0666;
  options.policy.allowed_uids = {kNobodyUid};
  auto server = StartOrDie(std::move(options));
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(RunChildAs(kNobodyUid, kNogroupGid, "ok"), 0);
  EXPECT_EQ(server->refused_connections(), 0u);
}

// One user may not hold every connection: past the cap their new ones are closed, while other
// users (root here) are still served. Before, 2,000 idle connections from one user used up
// eprofd's descriptors and left it serving nobody.
TEST_F(UdsServerTest, OneUserCannotHoldMoreThanTheCap) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a peer as nobody";
  UdsServerOptions options = Options();
  options.socket_mode = 0666;
  options.policy.allowed_uids = {kNobodyUid};
  options.max_connections_per_uid = 4;
  auto server = StartOrDie(std::move(options));
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(RunChildAs(kNobodyUid, kNogroupGid, "hold-then-refused", /*hold=*/4), 0);
  EXPECT_GE(server->refused_connections(), 1u);
  v1::DescribeResponse response;
  EXPECT_TRUE(CallDescribe(path_, &response).ok());
}

// A refused peer that keeps connecting does not flood the log (the power helper runs as root
// and any local user can connect to it): a few lines, the rest counted.
TEST_F(UdsServerTest, RefusalsAreLoggedAtAFewLinesPerInterval) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a peer as nobody";
  UdsServerOptions options = Options();
  options.socket_mode = 0666;
  auto server = StartOrDie(std::move(options));
  ASSERT_NE(server, nullptr);
  std::string log_path = dir_ + "/stderr.log";
  fflush(stderr);
  int saved = dup(2);
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(log_fd, 2);
  int rc = RunChildAs(kNobodyUid, kNogroupGid, "flood");
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(log_fd);
  EXPECT_EQ(rc, 0);
  EXPECT_GE(server->refused_connections(), 500u);
  std::ifstream in(log_path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) lines += line.find("refused") != std::string::npos;
  EXPECT_GE(lines, 1);
  EXPECT_LE(lines, 3) << "500 refusals must not write 500 lines";
}

TEST_F(UdsServerTest, AllowListedGroupIsServed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a peer as nobody";
  UdsServerOptions options = Options();
  options.socket_mode = 0666;
  options.policy.allowed_gids = {kNogroupGid};
  auto server = StartOrDie(std::move(options));
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(RunChildAs(kNobodyUid, kNogroupGid, "ok"), 0);
}

TEST_F(UdsServerTest, SecondServerOnTheSamePathFailsClearly) {
  auto first = StartOrDie(Options());
  ASSERT_NE(first, nullptr);
  EXPECT_THAT(UdsServer::Start(Options()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("uds-test"), HasSubstr(absl::StrCat("pid ", getpid())),
                             HasSubstr(path_ + ".lock"), HasSubstr("another instance"))));
  // The first one still owns the socket and serves.
  v1::DescribeResponse response;
  EXPECT_TRUE(CallDescribe(path_, &response).ok());
}

TEST_F(UdsServerTest, StaleSocketFileIsReplaced) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(fd);  // leaves the socket file behind, nobody listening: a crashed server
  auto server = StartOrDie(Options());
  ASSERT_NE(server, nullptr);
  v1::DescribeResponse response;
  EXPECT_TRUE(CallDescribe(path_, &response).ok());
}

TEST_F(UdsServerTest, ForeignListenerIsNotStolen) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  EXPECT_THAT(UdsServer::Start(Options()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already listening on")));
  struct stat st;
  EXPECT_EQ(lstat(path_.c_str(), &st), 0);  // left alone
  close(fd);
}

TEST_F(UdsServerTest, NonSocketFileIsNotReplaced) {
  std::ofstream(path_) << "precious";
  EXPECT_THAT(UdsServer::Start(Options()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is not a socket")));
  std::ifstream in(path_);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(UdsServerTest, TooLongPathIsRejected) {
  UdsServerOptions options = Options();
  options.socket_path = dir_ + "/" + std::string(120, 'x');
  EXPECT_THAT(UdsServer::Start(std::move(options)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 103")));
}

TEST_F(UdsServerTest, MissingDirectoryIsCreated) {
  UdsServerOptions options = Options();
  options.socket_path = dir_ + "/run/p.sock";
  options.directory_mode = 0750;
  path_ = options.socket_path;
  auto server = StartOrDie(std::move(options));
  ASSERT_NE(server, nullptr);
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  v1::DescribeResponse response;
  EXPECT_TRUE(CallDescribe(path_, &response).ok());
}

TEST_F(UdsServerTest, ShutdownRemovesTheSocketAndReleasesTheLock) {
  auto server = StartOrDie(Options());
  ASSERT_NE(server, nullptr);
  server->Shutdown();
  server->Shutdown();  // idempotent
  struct stat st;
  EXPECT_NE(lstat(path_.c_str(), &st), 0);
  v1::DescribeResponse response;
  EXPECT_FALSE(CallDescribe(path_, &response).ok());
  auto again = StartOrDie(Options());
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(CallDescribe(path_, &response).ok());
}

TEST_F(UdsServerTest, ServesAnActivatedListeningSocket) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  UdsServerOptions options = Options();
  options.listen_fd = fd;  // as systemd or launchd would pass it
  auto server = StartOrDie(std::move(options));
  ASSERT_NE(server, nullptr);
  v1::DescribeResponse response;
  ASSERT_TRUE(CallDescribe(path_, &response).ok());
  EXPECT_EQ(response.machine(), absl::StrCat("uid=", geteuid()));
  server->Shutdown();
  struct stat st;
  EXPECT_EQ(lstat(path_.c_str(), &st), 0);  // the service manager owns the file: left in place
}

TEST_F(UdsServerTest, ManyConcurrentClients) {
  auto server = StartOrDie(Options());
  ASSERT_NE(server, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        v1::DescribeResponse response;
        if (CallDescribe(path_, &response).ok()) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
}

}  // namespace
}  // namespace eprof
