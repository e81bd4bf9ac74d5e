// eprofd's /metrics scraped by a real Prometheus server (Debian's `prometheus`): after a
// profiled run, Prometheus holds its energy, tokens and outcome, and the live gauges.
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eprof/v1/profiler.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/daemon_harness.h"

namespace eprof {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::DaemonHarness;
using testing::Subprocess;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The value of a Prometheus instant query, or -1 while it has none.
double Query(int port, const std::string& promql) {
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
  if (!r || r->status != 200) return -1;
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || j["data"]["result"].empty()) return -1;
  return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
}

TEST(PrometheusTest, ARealPrometheusScrapesEprofd) {
  if (std::system("command -v prometheus > /dev/null") != 0) {
    GTEST_SKIP() << "no prometheus server installed (deploy/install-deps.sh installs it)";
  }
  DaemonHarness h;
  ASSERT_TRUE(h.Prepare());
  ASSERT_TRUE(h.StartHelper());
  const int metrics_port = FreePort();
  ASSERT_TRUE(h.StartDaemon(0, {"--metrics-port", std::to_string(metrics_port)}));

  auto stub = v1::ProfilerService::NewStub(
      grpc::CreateChannel("unix:" + h.socket(), grpc::InsecureChannelCredentials()));
  v1::ProfileRequest r;
  r.set_model("tiny");
  r.set_prompt("Where does the energy go?");
  r.set_max_new_tokens(8);
  r.set_idle_baseline_ms(100);
  r.set_power_interval_ms(10);
  {
    grpc::ClientContext ctx;
    auto reader = stub->Profile(&ctx, r);
    v1::ProfileEvent e;
    while (reader->Read(&e)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  // eprofd's own page first.
  httplib::Client metrics("127.0.0.1", metrics_port);
  auto page = metrics.Get("/metrics");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  for (const char* name :
       {"eprof_energy_joules_total{", "eprof_dynamic_energy_joules_total{", "eprof_tokens_total{",
        "eprof_runs_total{outcome=\"completed\"} 1", "eprof_run_duration_seconds_bucket",
        "eprof_power_watts{", "eprof_power_helper_connected 1", "eprof_run_queue_length 0",
        "eprof_run_in_progress 0"}) {
    EXPECT_THAT(page->body, HasSubstr(name)) << name;
  }
  EXPECT_THAT(page->body, HasSubstr("phase=\"decode\""));
  EXPECT_THAT(page->body, HasSubstr("channel=\"cpu\""));

  // A real Prometheus, scraping every second.
  const int prom_port = FreePort();
  const fs::path config = h.dir() / "prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: eprofd\n"
                        << "    static_configs:\n      - targets: ['127.0.0.1:" << metrics_port << "']\n";
  Subprocess prometheus({"/usr/bin/env", "prometheus", "--config.file=" + config.string(),
                         "--storage.tsdb.path=" + (h.dir() / "tsdb").string(),
                         "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                        (h.dir() / "prometheus.log").string());
  double runs = -1, joules = -1, tokens = -1, up = -1;
  for (int i = 0; i < 150 && (runs < 1 || joules <= 0 || tokens < 8); ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    runs = Query(prom_port, "eprof_runs_total{outcome=\"completed\"}");
    joules = Query(prom_port, "sum(eprof_energy_joules_total)");
    tokens = Query(prom_port, "sum(eprof_tokens_total{phase=\"decode\"})");
    up = Query(prom_port, "eprof_power_helper_connected");
  }
  EXPECT_EQ(runs, 1);
  EXPECT_GT(joules, 0);
  EXPECT_EQ(tokens, 8);
  EXPECT_EQ(up, 1);
  prometheus.Kill(SIGTERM);
  h.Stop(/*keep=*/::testing::Test::HasFailure());
}

}  // namespace
}  // namespace eprof
