#include "daemon/power/power_client.h"

#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/status_matchers.h"
#include "common/uds_server.h"
#include "eprof/v1/power.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

using ::testing::HasSubstr;

// A PowerService that streams back-to-back windows of the requested interval at 2 W on "cpu",
// stamped with the real monotonic clock, and records the intervals it was asked for.
class FakeHelper final : public v1::PowerService::Service {
 public:
  grpc::Status Describe(grpc::ServerContext*, const v1::DescribeRequest*,
                        v1::DescribeResponse* response) override {
    v1::Source* s = response->add_sources();
    s->set_name("fake");
    s->set_available(true);
    s->set_is_default(true);
    v1::Channel* c = s->add_channels();
    c->set_name("cpu");
    c->set_quality(v1::QUALITY_MEASURED);
    return grpc::Status::OK;
  }

  grpc::Status StreamSamples(grpc::ServerContext* ctx, const v1::StreamSamplesRequest* request,
                             grpc::ServerWriter<v1::StreamSamplesResponse>* writer) override {
    int64_t interval_ns = (request->interval_ms() == 0 ? 10 : request->interval_ms()) * 1'000'000LL;
    {
      absl::MutexLock lock(&mu_);
      intervals_.push_back(request->interval_ms());
    }
    Clock* clock = Clock::Real();
    int64_t end = clock->NowNs() + interval_ns;
    while (!ctx->IsCancelled() && !stop_.load()) {
      clock->SleepUntilNs(end);
      v1::StreamSamplesResponse response;
      response.set_interval_ns(interval_ns);
      v1::PowerSample* s = response.add_samples();
      s->set_seq(seq_++);
      s->set_t_end_ns(end);
      s->set_window_ns(interval_ns);
      v1::Reading* r = s->add_readings();
      r->set_channel("cpu");
      r->set_power_mw(2000);
      r->set_energy_mj(2000 * interval_ns * 1e-9);
      if (!writer->Write(response)) break;
      end += interval_ns;
    }
    return grpc::Status::OK;
  }

  std::vector<uint32_t> intervals() {
    absl::MutexLock lock(&mu_);
    return intervals_;
  }
  std::atomic<bool> stop_{false};

 private:
  std::atomic<uint64_t> seq_{0};
  absl::Mutex mu_;
  std::vector<uint32_t> intervals_ ABSL_GUARDED_BY(mu_);
};

class PowerClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = "/tmp/eprof-pc-XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    path_ = dir_ + "/power.sock";
  }
  void TearDown() override {
    StopHelper();
    std::filesystem::remove_all(dir_);
  }

  void StartHelper() {
    helper_ = std::make_unique<FakeHelper>();
    UdsServerOptions options;
    options.socket_path = path_;
    options.server_name = "fake-helper";
    options.configure = [this](grpc::ServerBuilder& b) { b.RegisterService(helper_.get()); };
    auto server = UdsServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void StopHelper() {
    if (helper_) helper_->stop_ = true;
    if (server_) server_->Shutdown(absl::ZeroDuration());
    server_.reset();
  }

  PowerClientOptions Options() {
    PowerClientOptions o;
    o.socket_path = path_;
    o.interval_ms = 10;
    o.initial_backoff = absl::Milliseconds(20);
    o.max_backoff = absl::Milliseconds(100);
    return o;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<FakeHelper> helper_;
  std::unique_ptr<UdsServer> server_;
};

TEST_F(PowerClientTest, SubscribesAndKeepsOrderedSamples) {
  StartHelper();
  PowerClient client(Options());
  std::atomic<int> seen{0};
  client.AddListener([&](const v1::PowerSample&) { seen.fetch_add(1); });
  client.Start();
  ASSERT_TRUE(client.WaitUntilConnected(absl::Seconds(5)));
  int64_t start = Clock::Real()->NowNs();
  ASSERT_TRUE(client.WaitForCoverage(start + 100'000'000, absl::Seconds(5)));
  PowerClientState state = client.state();
  EXPECT_EQ(state.source, "fake");
  ASSERT_EQ(state.channels.size(), 1u);
  EXPECT_EQ(state.channels[0].name(), "cpu");
  EXPECT_EQ(state.interval_ns, 10'000'000);
  std::vector<v1::PowerSample> samples = client.SamplesSince(start);
  ASSERT_GE(samples.size(), 9u);
  for (size_t i = 1; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].t_end_ns() - samples[i].window_ns(), samples[i - 1].t_end_ns());
  }
  EXPECT_GT(samples.front().t_end_ns(), start);
  EXPECT_GE(seen.load(), static_cast<int>(samples.size()));
}

TEST_F(PowerClientTest, ReconnectsWhenTheHelperComesBack) {
  StartHelper();
  PowerClient client(Options());
  std::atomic<int> lost{0}, found{0};
  std::string last_error;
  absl::Mutex mu;
  client.AddListener(nullptr, [&](bool connected, const std::string& error) {
    (connected ? found : lost).fetch_add(1);
    absl::MutexLock lock(&mu);
    if (!connected) last_error = error;
  });
  client.Start();
  ASSERT_TRUE(client.WaitUntilConnected(absl::Seconds(5)));
  StopHelper();  // killed
  for (int i = 0; i < 200 && client.state().connected; ++i) absl::SleepFor(absl::Milliseconds(10));
  PowerClientState down = client.state();
  EXPECT_FALSE(down.connected);
  EXPECT_THAT(down.error, HasSubstr(path_));
  EXPECT_EQ(lost.load(), 1);
  StartHelper();  // restarted
  ASSERT_TRUE(client.WaitUntilConnected(absl::Seconds(5)));
  int64_t now = Clock::Real()->NowNs();
  EXPECT_TRUE(client.WaitForCoverage(now + 30'000'000, absl::Seconds(5)));
  EXPECT_EQ(client.state().reconnects, 1u);
  EXPECT_TRUE(client.state().error.empty());
  EXPECT_EQ(found.load(), 2);
}

TEST_F(PowerClientTest, SetIntervalResubscribes) {
  StartHelper();
  PowerClient client(Options());
  client.Start();
  ASSERT_TRUE(client.WaitUntilConnected(absl::Seconds(5)));
  client.SetInterval(5);
  for (int i = 0; i < 200 && client.state().interval_ns != 5'000'000; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(client.state().interval_ns, 5'000'000);
  EXPECT_THAT(helper_->intervals(), ::testing::ElementsAre(10, 5));
  EXPECT_EQ(client.state().reconnects, 0u);  // a resubscription is not a reconnection
}

TEST_F(PowerClientTest, NoHelperSaysHowToStartIt) {
  PowerClient client(Options());
  client.Start();
  EXPECT_FALSE(client.WaitUntilConnected(absl::Milliseconds(300)));
  PowerClientState state = client.state();
  EXPECT_FALSE(state.connected);
  EXPECT_THAT(state.error, HasSubstr("is eprof-power-helper running?"));
  client.Stop();
  client.Stop();  // idempotent
}

TEST_F(PowerClientTest, RingIsBounded) {
  StartHelper();
  PowerClientOptions options = Options();
  options.ring_capacity = 5;
  options.interval_ms = 2;
  PowerClient client(options);
  client.Start();
  ASSERT_TRUE(client.WaitUntilConnected(absl::Seconds(5)));
  ASSERT_TRUE(client.WaitForCoverage(Clock::Real()->NowNs() + 40'000'000, absl::Seconds(5)));
  EXPECT_LE(client.SamplesSince(0).size(), 5u);
  EXPECT_GT(client.state().dropped_from_ring, 0u);
}

}  // namespace
}  // namespace eprof::daemon
