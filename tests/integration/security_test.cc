// eprof on a machine shared with other users, with real processes, real sockets and a second
// real user (`nobody`, uid 65534): a socket directory planted by another user, a server run by
// another user waiting for prompts, allow-listed users, and a second daemon on the same
// database. Tests that need a second user need root (CI runs as root) and are skipped otherwise.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/daemon_harness.h"

namespace eprof {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::DaemonHarness;
using testing::Subprocess;
using testing::SubprocessOptions;

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

int ExitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.Prepare());
    ASSERT_TRUE(h_.StartHelper());
    // A /tmp of the test's own (sticky, writable by all, as /tmp is), for the default socket
    // directory $TMPDIR/eprof-$UID.
    tmp_ = h_.dir() / "tmp";
    fs::create_directory(tmp_);
    ASSERT_EQ(::chmod(tmp_.c_str(), 01777), 0);
    ASSERT_EQ(::chmod(h_.dir().c_str(), 0711), 0);  // other users may pass, not list
  }
  void TearDown() override {
    daemon_.reset();
    h_.Stop(/*keep=*/HasFailure());
  }

  // The environment of a user who has no XDG_RUNTIME_DIR: the default socket is then
  // $TMPDIR/eprof-$UID/eprofd.sock.
  std::vector<std::string> Env() const {
    return {absl::StrCat("TMPDIR=", tmp_.string()), absl::StrCat("HOME=", h_.dir().string()),
            "PATH=/usr/bin:/bin", "EPROF_LOG_LEVEL=info"};
  }
  fs::path DefaultSocketDir(uid_t uid = ::getuid()) const {
    return tmp_ / absl::StrCat("eprof-", uid);
  }

  // eprofd on the default socket (no --socket), with the harness's helper, models and database.
  std::vector<std::string> DaemonArgs(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> argv = {DaemonHarness::Bin("eprofd"), "--power-socket",
                                     (h_.dir() / "p.sock").string(), "--model-root",
                                     (h_.dir() / "models").string(), "--db",
                                     (h_.dir() / "eprof.db").string(), "--power-interval-ms",
                                     "10"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  struct Result {
    int rc;
    std::string output;
  };
  // Runs eprofctl ARGS with Env(), as `uid` (-1: this user); waits for it.
  Result Eprofctl(const std::vector<std::string>& args, uid_t uid = static_cast<uid_t>(-1)) {
    std::vector<std::string> argv = {DaemonHarness::Bin("eprofctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    fs::path log = h_.dir() / absl::StrCat("eprofctl-", n_++, ".log");
    SubprocessOptions o{.uid = uid, .gid = uid == static_cast<uid_t>(-1) ? static_cast<gid_t>(-1) : kNogroup,
                        .env = Env()};
    Subprocess p(argv, log.string(), o);
    int status = p.Wait();
    return {ExitCode(status), Slurp(log)};
  }

  testing::DaemonHarness h_;
  fs::path tmp_;
  std::unique_ptr<Subprocess> daemon_;
  int n_ = 0;
};

// Before: without XDG_RUNTIME_DIR, eprofd listened inside a /tmp/eprof-$UID that another user
// had made (mode 0777), where they could swap the socket for their own server and read the
// prompts eprofctl sent, or block eprofd with a planted lock file.
TEST_F(SecurityTest, SocketDirectoryMadeByAnotherUserIsRefusedByBothSides) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as a second user";
  const fs::path planted = DefaultSocketDir();
  fs::create_directory(planted);
  ASSERT_EQ(::chown(planted.c_str(), kNobody, kNogroup), 0);
  ASSERT_EQ(::chmod(planted.c_str(), 0777), 0);

  Subprocess daemon(DaemonArgs(), (h_.dir() / "daemon1.log").string(), SubprocessOptions{.env = Env()});
  EXPECT_EQ(ExitCode(daemon.Wait()), 1);
  std::string log = Slurp(h_.dir() / "daemon1.log");
  EXPECT_THAT(log, HasSubstr(absl::StrCat("refusing to use ", planted.string())));
  EXPECT_THAT(log, HasSubstr("owned by uid 65534"));
  EXPECT_FALSE(fs::exists(planted / "eprofd.sock")) << "eprofd must not listen in it";

  Result ctl = Eprofctl({"status"});
  EXPECT_EQ(ctl.rc, 3);
  EXPECT_THAT(ctl.output, HasSubstr(absl::StrCat("refusing to use ", planted.string())));
  EXPECT_THAT(ctl.output, HasSubstr("owned by uid 65534"));

  // Once the planted directory is gone, eprofd makes its own, private one, and eprofctl uses it.
  fs::remove_all(planted);
  daemon_ = std::make_unique<Subprocess>(DaemonArgs(), (h_.dir() / "daemon2.log").string(),
                                         SubprocessOptions{.env = Env()});
  ASSERT_TRUE(testing::WaitForPath(planted / "eprofd.sock"));
  struct stat st;
  ASSERT_EQ(::lstat(planted.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, ::getuid());
  ASSERT_EQ(::lstat((planted / "eprofd.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result ok = Eprofctl({"status"});
  EXPECT_EQ(ok.rc, 0) << ok.output;
}

// eprofctl checks who listens (peer credentials): a server another user bound where anyone may
// create files gets no request, so it never sees a prompt.
TEST_F(SecurityTest, EprofctlSendsNothingToAServerRunByAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as a second user";
  if (std::system("command -v node > /dev/null") != 0) GTEST_SKIP() << "needs node for the impostor";
  const fs::path shared = h_.dir() / "shared";
  fs::create_directory(shared);
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);
  const fs::path sock = shared / "eprofd.sock";
  const fs::path seen = shared / "seen";
  // The impostor: any server at all, here Node's, recording whatever a client sends.
  std::string script = absl::StrCat(
      "const fs=require('fs');require('net').createServer(c=>c.on('data',d=>fs.appendFileSync('",
      seen.string(), "',d))).listen('", sock.string(), "')");
  Subprocess impostor({"/usr/bin/env", "node", "-e", script}, (h_.dir() / "impostor.log").string(),
                      SubprocessOptions{.uid = kNobody, .gid = kNogroup, .env = Env()});
  ASSERT_TRUE(testing::WaitForPath(sock));
  Result r = Eprofctl({"--socket", sock.string(), "profile", "-m", "tiny", "-p", "my secret prompt"});
  EXPECT_EQ(r.rc, 3);
  EXPECT_THAT(r.output, HasSubstr("refusing to talk to the server"));
  EXPECT_THAT(r.output, HasSubstr("uid 65534"));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_THAT(Slurp(seen), Not(HasSubstr("secret"))) << "the prompt reached the impostor";
  EXPECT_EQ(Slurp(seen), "") << "no byte may reach it";
}

// --allow-uid used to be unusable: the socket's directory was 0700, and eprofctl then said "no
// socket there" although it existed. Now allow-listed users get through, and a user who may not
// is told "permission denied".
TEST_F(SecurityTest, AllowListedUsersConnectAndOthersAreToldPermissionDenied) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as a second user";
  const fs::path sock = DefaultSocketDir() / "eprofd.sock";
  daemon_ = std::make_unique<Subprocess>(DaemonArgs({"--allow-uid", "65534"}),
                                         (h_.dir() / "daemon1.log").string(),
                                         SubprocessOptions{.env = Env()});
  ASSERT_TRUE(testing::WaitForPath(sock));
  Result allowed = Eprofctl({"--socket", sock.string(), "status"}, kNobody);
  EXPECT_EQ(allowed.rc, 0) << allowed.output;
  EXPECT_THAT(allowed.output, HasSubstr("eprofd"));
  Result models = Eprofctl({"--socket", sock.string(), "models", "--json"}, kNobody);
  EXPECT_EQ(models.rc, 0) << models.output;
  EXPECT_THAT(models.output, HasSubstr("tiny"));

  daemon_.reset();
  fs::remove(sock);  // left by the killed daemon
  daemon_ = std::make_unique<Subprocess>(DaemonArgs(), (h_.dir() / "daemon2.log").string(),
                                         SubprocessOptions{.env = Env()});
  ASSERT_TRUE(testing::WaitForPath(sock));
  Result denied = Eprofctl({"--socket", sock.string(), "status"}, kNobody);
  EXPECT_EQ(denied.rc, 3);
  EXPECT_THAT(denied.output, HasSubstr("permission denied"));
  EXPECT_THAT(denied.output, HasSubstr("--allow-uid 65534"));
  EXPECT_THAT(denied.output, Not(HasSubstr("no socket there")));
}

// Before, a second eprofd on the same database (another socket) marked the first one's live
// run interrupted. One database, one daemon: the second refuses, naming the first's pid.
TEST_F(SecurityTest, SecondDaemonOnTheSameDatabaseRefusesAndTheLiveRunGoesOn) {
  ASSERT_TRUE(h_.StartDaemon());
  fs::path out = h_.dir() / "profile.json";
  Subprocess profile({DaemonHarness::Bin("eprofctl"), "--socket", h_.socket(), "profile", "-m",
                      "tiny", "-p", "a long run", "-n", "100", "--idle-baseline-ms", "2500",
                      "--json"},
                     out.string());
  // Wait until the run is in eprofd's database.
  for (int i = 0; i < 100 && Eprofctl({"--socket", h_.socket(), "status"}).output.find("  model tiny") ==
                                 std::string::npos;
       ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  Subprocess second({DaemonHarness::Bin("eprofd"), "--socket", (h_.dir() / "d2.sock").string(),
                     "--power-socket", (h_.dir() / "p.sock").string(), "--model-root",
                     (h_.dir() / "models").string(), "--db", (h_.dir() / "eprof.db").string()},
                    (h_.dir() / "daemon2.log").string());
  EXPECT_EQ(ExitCode(second.Wait()), 1);
  std::string log = Slurp(h_.dir() / "daemon2.log");
  EXPECT_THAT(log, HasSubstr(absl::StrCat("pid ", h_.daemon()->pid())));
  EXPECT_THAT(log, HasSubstr("one database, one eprofd"));
  EXPECT_THAT(log, Not(HasSubstr("marked interrupted")));
  EXPECT_EQ(ExitCode(profile.Wait()), 0);
  EXPECT_THAT(Slurp(out), HasSubstr("RUN_STATUS_COMPLETED"));
}

}  // namespace
}  // namespace eprof
