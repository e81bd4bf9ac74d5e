// PowerService over a real Unix socket (UdsServer), and the eprof-power-helper binary as a real
// process: two subscribers at different intervals with one of them slow, argument errors, a
// refused peer, SIGTERM, the helper killed and restarted under a connected client, and a
// capture turned into a trace by `probe --json` and played back exactly.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "common/uds_server.h"
#include "eprof/v1/power.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/clock.h"
#include "power_helper/sensors/polled_sensor.h"
#include "power_helper/sensors/powermetrics_sensor.h"
#include "power_helper/sensors/replay_sensor.h"
#include "power_helper/service/power_service.h"

namespace eprof::power {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int kChannels = 40;

// Exactly 1 W on every channel (energy = window), with many long channel names so that samples
// are large and a reader that stops reading fills the transport quickly.
class OneWattSensor final : public PolledSensor {
 public:
  OneWattSensor() : PolledSensor(nullptr) {}
  v1::Source Describe() const override {
    v1::Source s;
    s.set_name("onewatt");
    s.set_available(true);
    s.set_min_interval_ns(1'000'000);
    s.set_max_interval_ns(60'000'000'000);
    s.set_default_interval_ns(10'000'000);
    for (int i = 0; i < kChannels; ++i) {
      *s.add_channels() = MakeChannel(Name(i), "onewatt", "test", v1::CHANNEL_KIND_OTHER,
                                      v1::QUALITY_MEASURED, "mJ", true);
    }
    return s;
  }
  static std::string Name(int i) {
    return absl::StrCat("a-rather-long-channel-name-to-make-samples-big-", i);
  }

 private:
  absl::Status ReadBaseline(int64_t) override { return absl::OkStatus(); }
  absl::Status ReadWindow(int64_t, int64_t window_ns, std::vector<Reading>* out) override {
    for (int i = 0; i < kChannels; ++i) {
      out->push_back(Reading{Name(i), static_cast<double>(window_ns) / 1e6, 1000.0,
                             v1::QUALITY_MEASURED});
    }
    return absl::OkStatus();
  }
};

class Unavailable final : public PolledSensor {
 public:
  Unavailable() : PolledSensor(nullptr) {}
  v1::Source Describe() const override {
    v1::Source s;
    s.set_name("broken");
    s.set_available(false);
    s.set_unavailable_reason("no such hardware here");
    return s;
  }

 private:
  absl::Status ReadBaseline(int64_t) override { return absl::OkStatus(); }
  absl::Status ReadWindow(int64_t, int64_t, std::vector<Reading>*) override {
    return absl::OkStatus();
  }
};

std::string TestDir(const std::string& name) {
  fs::path p = fs::path("/tmp") / absl::StrCat("eph-", getpid(), "-", name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::unique_ptr<v1::PowerService::Stub> Connect(const std::string& socket) {
  return v1::PowerService::NewStub(
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
}

class ServiceTest : public ::testing::Test {
 protected:
  void Start(PeerPolicy policy = PeerPolicy{}, size_t max_queue = 64) {
    dir_ = TestDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::vector<std::unique_ptr<Sensor>> sensors;
    sensors.push_back(std::make_unique<OneWattSensor>());
    sensors.push_back(std::make_unique<Unavailable>());
    PowerServiceOptions so;
    so.max_queued_samples = max_queue;
    service_ = std::make_unique<PowerServiceImpl>(std::move(sensors), so);
    UdsServerOptions o;
    o.socket_path = dir_ + "/power.sock";
    o.policy = policy;
    o.server_name = "power-helper-test";
    o.configure = [this](grpc::ServerBuilder& b) { b.RegisterService(service_.get()); };
    auto server = UdsServer::Start(std::move(o));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    if (service_) service_->Shutdown();
    if (server_) server_->Shutdown();
    fs::remove_all(dir_);
  }
  std::string socket() const { return dir_ + "/power.sock"; }

  std::string dir_;
  std::unique_ptr<PowerServiceImpl> service_;
  std::unique_ptr<UdsServer> server_;
};

TEST_F(ServiceTest, DescribeListsSourcesWithoutSampling) {
  Start();
  v1::DescribeResponse r;
  grpc::ClientContext ctx;
  ASSERT_TRUE(Connect(socket())->Describe(&ctx, {}, &r).ok());
  ASSERT_EQ(r.sources_size(), 2);
  EXPECT_EQ(r.sources(0).name(), "onewatt");
  EXPECT_TRUE(r.sources(0).is_default());
  EXPECT_FALSE(r.sources(1).available());
  EXPECT_EQ(r.clock(), "CLOCK_MONOTONIC");
  EXPECT_GT(r.now_ns(), 0);
  EXPECT_EQ(service_->runner("onewatt")->starts(), 0u);
}

grpc::Status StreamError(v1::PowerService::Stub* stub, const v1::StreamSamplesRequest& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto reader = stub->StreamSamples(&ctx, req);
  v1::StreamSamplesResponse resp;
  while (reader->Read(&resp)) {
  }
  return reader->Finish();
}

TEST_F(ServiceTest, BadRequestsAreRejected) {
  Start();
  auto stub = Connect(socket());
  v1::StreamSamplesRequest req;
  req.set_interval_ms(60001);
  grpc::Status s = StreamError(stub.get(), req);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("[1, 60000]"));
  req.set_interval_ms(10);
  req.add_channels("nope");
  s = StreamError(stub.get(), req);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("its channels: a-rather"));
  req.clear_channels();
  req.set_source("magic");
  s = StreamError(stub.get(), req);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("onewatt, broken"));
  req.set_source("broken");
  s = StreamError(stub.get(), req);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("no such hardware"));
}

TEST_F(ServiceTest, TwoSubscribersOneSlowNeverBlocksTheOther) {
  Start(PeerPolicy{}, /*max_queue=*/64);
  auto stub = Connect(socket());
  std::atomic<bool> stop{false};
  // Fast reader: 5 ms interval, one channel, reads continuously.
  struct Seen {
    std::vector<v1::PowerSample> samples;
    uint64_t dropped = 0;
    int64_t interval_ns = 0;
  };
  Seen fast, slow;
  grpc::ClientContext fast_ctx, slow_ctx;
  std::thread fast_thread([&] {
    v1::StreamSamplesRequest req;
    req.set_interval_ms(5);
    req.add_channels(OneWattSensor::Name(3));
    auto reader = stub->StreamSamples(&fast_ctx, req);
    v1::StreamSamplesResponse resp;
    while (!stop.load() && reader->Read(&resp)) {
      for (const auto& s : resp.samples()) fast.samples.push_back(s);
      fast.dropped = resp.dropped_samples();
      fast.interval_ns = resp.interval_ns();
    }
    fast_ctx.TryCancel();
    reader->Finish();
  });
  // Slow reader: 1 ms interval, every channel, reads one message then stalls for 2 s.
  v1::StreamSamplesRequest req;
  req.set_interval_ms(1);
  auto reader = stub->StreamSamples(&slow_ctx, req);
  v1::StreamSamplesResponse resp;
  ASSERT_TRUE(reader->Read(&resp));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const size_t fast_during_stall = fast.samples.size();
  // What the transport buffered before the queue overflowed comes first; read on until the
  // helper's count of dropped samples shows up.
  for (int i = 0; i < 20000 && slow.dropped == 0 && reader->Read(&resp); ++i) {
    for (const auto& s : resp.samples()) slow.samples.push_back(s);
    slow.dropped = resp.dropped_samples();
    slow.interval_ns = resp.interval_ns();
  }
  slow_ctx.TryCancel();
  reader->Finish();
  stop.store(true);
  fast_thread.join();

  // The fast subscriber kept receiving during the stall (2 s at 5 ms ≈ 400; allow a slow CI).
  EXPECT_GT(fast_during_stall, 100u);
  EXPECT_EQ(fast.dropped, 0u);
  EXPECT_EQ(fast.interval_ns, 5'000'000);
  for (size_t i = 1; i < fast.samples.size(); ++i) {
    const auto& a = fast.samples[i - 1];
    const auto& b = fast.samples[i];
    EXPECT_EQ(b.seq(), a.seq() + 1);
    EXPECT_EQ(b.t_end_ns() - b.window_ns(), a.t_end_ns());  // back to back
    ASSERT_EQ(b.readings_size(), 1);
    EXPECT_DOUBLE_EQ(b.readings(0).energy_mj(), b.window_ns() / 1e6);  // 1 W exactly
  }
  // Aggregated from ~1 ms source windows: on average the requested 5 ms.
  ASSERT_GT(fast.samples.size(), 10u);
  const auto& first = fast.samples.front();
  const auto& last = fast.samples.back();
  const double mean_window_ns = static_cast<double>(last.t_end_ns() - first.t_end_ns()) /
                                static_cast<double>(fast.samples.size() - 1);
  EXPECT_GT(mean_window_ns, 4'000'000);
  EXPECT_LT(mean_window_ns, 7'000'000);
  // The slow one lost samples, was told how many, and sees them as a gap in seq.
  EXPECT_EQ(slow.interval_ns, 1'000'000);
  EXPECT_GT(slow.dropped, 0u);
  ASSERT_FALSE(slow.samples.empty());
  EXPECT_GE(slow.samples.back().seq() + 1, slow.samples.size() + slow.dropped);
  EXPECT_EQ(slow.samples.back().readings_size(), kChannels);
}

TEST_F(ServiceTest, SamplingOnlyWhileSubscribed) {
  Start();
  auto stub = Connect(socket());
  SourceRunner* runner = service_->runner("onewatt");
  for (int round = 1; round <= 2; ++round) {
    grpc::ClientContext ctx;
    v1::StreamSamplesRequest req;
    req.set_interval_ms(2);
    auto reader = stub->StreamSamples(&ctx, req);
    v1::StreamSamplesResponse resp;
    ASSERT_TRUE(reader->Read(&resp));
    EXPECT_EQ(resp.samples(0).seq(), 0u);
    EXPECT_EQ(runner->subscriber_count(), 1u);
    ctx.TryCancel();
    reader->Finish();
    for (int i = 0; i < 200 && runner->subscriber_count() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(runner->subscriber_count(), 0u);
    EXPECT_EQ(runner->starts(), static_cast<uint64_t>(round));
  }
}

TEST_F(ServiceTest, RefusedPeerIsDisconnected) {
  PeerPolicy nobody;
  nobody.allow_root = false;  // tests only: the helper itself always allows root
  nobody.allow_same_uid = false;
  Start(nobody);
  v1::DescribeResponse r;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  grpc::Status s = Connect(socket())->Describe(&ctx, {}, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_GE(server_->refused_connections(), 1u);
}

TEST_F(ServiceTest, ShutdownEndsStreamsWithUnavailable) {
  Start();
  auto stub = Connect(socket());
  grpc::ClientContext ctx;
  v1::StreamSamplesRequest req;
  req.set_interval_ms(5);
  auto reader = stub->StreamSamples(&ctx, req);
  v1::StreamSamplesResponse resp;
  ASSERT_TRUE(reader->Read(&resp));
  service_->Shutdown();
  while (reader->Read(&resp)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

std::string HelperBinary() {
  const char* dir = std::getenv("EPROF_BINARY_DIR");
  return absl::StrCat(dir ? dir : ".", "/bin/eprof-power-helper");
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& stdout_path = "") {
  pid_t pid = fork();
  if (pid == 0) {
    if (!stdout_path.empty()) {
      FILE* f = freopen(stdout_path.c_str(), "w", stdout);
      (void)f;
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

TEST(ReplayServiceTest, TraceStreamsExactlyInRealTime) {
  const std::string dir = TestDir("replay-service");
  {
    std::ofstream t(dir + "/t.jsonl");
    // 30 windows of 20, 30 and 50 ms with known energies.
    int64_t t_end = 7'000'000'000;
    for (int i = 0; i < 30; ++i) {
      const int64_t w = (i % 3 == 0 ? 20 : i % 3 == 1 ? 30 : 50) * 1'000'000;
      t_end += w;
      t << "{\"seq\":" << i << ",\"t_end_ns\":" << t_end << ",\"window_ns\":" << w
        << ",\"channels\":{\"cpu\":{\"energy_mj\":" << (i + 0.125)
        << ",\"power_mw\":1,\"quality\":\"MEASURED\"}}}\n";
    }
  }
  ReplaySensorOptions ro;
  ro.path = dir + "/t.jsonl";
  auto replay = ReplaySensor::Create(ro);
  ASSERT_TRUE(replay.ok()) << replay.status();
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(*std::move(replay));
  PowerServiceImpl service(std::move(sensors), PowerServiceOptions{});
  UdsServerOptions o;
  o.socket_path = dir + "/power.sock";
  o.configure = [&](grpc::ServerBuilder& b) { b.RegisterService(&service); };
  auto server = UdsServer::Start(std::move(o));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(dir + "/power.sock");
  grpc::ClientContext ctx;
  v1::StreamSamplesRequest req;
  req.set_interval_ms(1);  // finer than the trace: every recorded window as it is
  const int64_t before = Clock::Real()->NowNs();
  auto reader = stub->StreamSamples(&ctx, req);
  std::vector<v1::PowerSample> got;
  v1::StreamSamplesResponse resp;
  while (reader->Read(&resp)) {
    for (const auto& s : resp.samples()) got.push_back(s);
  }
  EXPECT_TRUE(reader->Finish().ok());  // the recording ended
  const int64_t after = Clock::Real()->NowNs();
  ASSERT_EQ(got.size(), 30u);
  for (int i = 0; i < 30; ++i) {
    const int64_t w = (i % 3 == 0 ? 20 : i % 3 == 1 ? 30 : 50) * 1'000'000;
    EXPECT_EQ(got[i].window_ns(), w);
    EXPECT_EQ(got[i].readings(0).energy_mj(), i + 0.125);
    if (i > 0) {
      EXPECT_EQ(got[i].t_end_ns() - w, got[i - 1].t_end_ns());
    }
  }
  // Re-based onto the helper's clock: the first window starts after the call and the last ends
  // before the stream did; real-time pacing: 1 s of recording takes at least 1 s.
  EXPECT_GE(got[0].t_end_ns() - got[0].window_ns(), before);
  EXPECT_LE(got.back().t_end_ns(), after);
  EXPECT_GE(after - before, 1'000'000'000);
  service.Shutdown();
  (*server)->Shutdown();
  fs::remove_all(dir);
}

// powermetrics through the service with a fake executable: the child runs only while someone
// subscribes and is stopped (and reaped) when the last subscriber leaves.
TEST(PowermetricsServiceTest, ChildStoppedWhenLastSubscriberLeaves) {
  const std::string dir = TestDir("pm-service");
  const char* shared = std::getenv("EPROF_SHARED_DIR");
  const std::string capture =
      absl::StrCat(shared ? shared : "../shared",
                   "/fixtures/powermetrics/m4pro-macos15-gpu-only-5samples.plist-stream");
  {
    std::ofstream script(dir + "/powermetrics");
    script << "#!/bin/sh\necho $$ > '" << dir << "/pid'\n"
           << "tail -c +1 '" << capture << "'\nexec sleep 60\n";
  }
  fs::permissions(dir + "/powermetrics", fs::perms::owner_all);
  PowermetricsSensorOptions po;
  po.executable = dir + "/powermetrics";
  po.require_root = false;
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(std::make_unique<PowermetricsSensor>(po));
  PowerServiceImpl service(std::move(sensors), PowerServiceOptions{});
  UdsServerOptions o;
  o.socket_path = dir + "/power.sock";
  o.configure = [&](grpc::ServerBuilder& b) { b.RegisterService(&service); };
  auto server = UdsServer::Start(std::move(o));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_FALSE(fs::exists(dir + "/pid"));  // nothing runs before a subscriber comes
  auto stub = Connect(dir + "/power.sock");
  double gpu_mj = 0;
  {
    grpc::ClientContext ctx;
    v1::StreamSamplesRequest req;
    req.set_interval_ms(1000);
    auto reader = stub->StreamSamples(&ctx, req);
    v1::StreamSamplesResponse resp;
    int n = 0;
    while (n < 5 && reader->Read(&resp)) {
      for (const auto& smp : resp.samples()) {
        ++n;
        for (const auto& r : smp.readings()) gpu_mj += r.energy_mj();
      }
    }
    EXPECT_EQ(n, 5);
    ctx.TryCancel();
    reader->Finish();
  }
  EXPECT_EQ(gpu_mj, 1186);  // the capture's total (powermetrics_parser_test.cc)
  std::ifstream pid_file(dir + "/pid");
  pid_t pid = 0;
  pid_file >> pid;
  ASSERT_GT(pid, 0);
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    gone = kill(pid, 0) != 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "powermetrics child " << pid << " still running";
  service.Shutdown();
  (*server)->Shutdown();
  fs::remove_all(dir);
}

TEST(HelperBinaryTest, BadFlagsAreExplained) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"serve", "--socket-mode", "999"},
        std::vector<std::string>{"serve", "--allow-uid", "no-such-user-xyz"},
        std::vector<std::string>{"serve", "--bogus"},
        std::vector<std::string>{"serve", "--write-spacing-ms", "5000"},
        std::vector<std::string>{"serve", "--write-spacing-ms", "soon"},
        std::vector<std::string>{"probe", "--samples", "0"},
        std::vector<std::string>{"probe", "--source", "magic"}}) {
    std::vector<std::string> argv = {HelperBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t pid = Spawn(argv);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << args[1];
  }
}

// --- the binary ---

bool WaitForDescribe(const std::string& socket, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (fs::exists(socket)) {
      v1::DescribeResponse r;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      if (Connect(socket)->Describe(&ctx, {}, &r).ok()) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(HelperBinaryTest, KilledAndRestartedUnderAConnectedClient) {
  const std::string dir = TestDir("restart");
  const std::string sock = dir + "/power.sock";
  const std::vector<std::string> args = {HelperBinary(), "serve", "--socket", sock,
                                         "--source", "estimate", "--log-level", "warning"};
  pid_t pid = Spawn(args);
  ASSERT_TRUE(WaitForDescribe(sock, 10000));
  auto channel = grpc::CreateChannel("unix:" + sock, grpc::InsecureChannelCredentials());
  auto stub = v1::PowerService::NewStub(channel);
  {
    grpc::ClientContext ctx;
    v1::StreamSamplesRequest req;
    req.set_interval_ms(20);
    auto reader = stub->StreamSamples(&ctx, req);
    v1::StreamSamplesResponse resp;
    ASSERT_TRUE(reader->Read(&resp));
    EXPECT_EQ(resp.samples(0).readings(0).quality(), v1::QUALITY_ESTIMATED);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    while (reader->Read(&resp)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  // Restart: the stale socket and lock of the killed helper do not stop the new one.
  pid = Spawn(args);
  ASSERT_TRUE(WaitForDescribe(sock, 10000));
  {
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::StreamSamplesRequest req;
    req.set_interval_ms(20);
    auto reader = stub->StreamSamples(&ctx, req);  // same channel: it reconnects
    v1::StreamSamplesResponse resp;
    ASSERT_TRUE(reader->Read(&resp));
    EXPECT_EQ(resp.interval_ns(), 20'000'000);
    // SIGTERM: a clean stop; the stream ends with UNAVAILABLE and the socket file goes away.
    kill(pid, SIGTERM);
    while (reader->Read(&resp)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(fs::exists(sock));
  fs::remove_all(dir);
}

TEST(HelperBinaryTest, ProbeJsonTraceReplaysExactly) {
  const std::string dir = TestDir("trace");
  const char* shared = std::getenv("EPROF_SHARED_DIR");
  const std::string capture = absl::StrCat(shared ? shared : "../shared",
                                           "/fixtures/powermetrics/m1pro-macos14-29samples.plist-stream");
  const std::string trace = dir + "/trace.jsonl";
  pid_t pid = Spawn({HelperBinary(), "probe", "--source", "replay:" + capture, "--fast",
                     "--samples", "all", "--json"},
                    trace);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::ifstream in(trace);
  std::stringstream ss;
  ss << in.rdbuf();
  auto samples = ParseJsonTrace(ss.str());
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 29u);
  std::map<std::string, double> mj;
  int64_t windows = 0;
  for (const auto& s : *samples) {
    windows += s.window_ns;
    for (const auto& r : s.readings) mj[r.channel] += r.energy_mj;
  }
  // Same totals as the capture itself (see power_helper/sensors/powermetrics_parser_test.cc).
  EXPECT_EQ(windows, 4037661364);
  EXPECT_EQ(mj["cpu"], 9586);
  EXPECT_EQ(mj["gpu"], 790);
  EXPECT_EQ(mj["combined"], 10376);
  fs::remove_all(dir);
}

TEST(HelperBinaryTest, PowermetricsOnLinuxSaysSo) {
#if defined(__APPLE__)
  GTEST_SKIP();
#endif
  pid_t pid = Spawn({HelperBinary(), "probe", "--source", "powermetrics"});
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}

}  // namespace
}  // namespace eprof::power
