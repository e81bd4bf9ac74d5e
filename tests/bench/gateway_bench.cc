// eprof-web's cost, with real processes (eprof-power-helper replaying a trace, eprofd on a tiny
// checkpoint, eprof-web), printed beside its targets:
//
//   1. Latency from a token's completion in eprofd (its end_ns) to a client receiving its event,
//      for a Watch through the gateway (gRPC-web over HTTP) and a Watch straight on eprofd's
//      socket, both watching the same runs at once: p50 and p99 of each, and the median of the
//      per-token difference (gateway − direct) with its quartiles. Target: the gateway adds
//      < 0.5 ms at the median (its p99 is printed, not a target: this VM's scheduler decides it).
//   2. Events per second through one stream: a Watch of a finished run (replayed as fast as it
//      goes) through the gateway, repeated; median and range. Target >= 20,000 events/s.
//
//   build/bin/gateway_bench [--rounds N] [--tokens N] [--replays N]
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "eprof/v1/profiler.grpc.pb.h"
#include "tests/testing/daemon_harness.h"
#include "web_gateway/grpc_web.h"

namespace {

using eprof::testing::DaemonHarness;
using eprof::testing::Subprocess;
namespace v1 = eprof::v1;

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

std::string Frame(const google::protobuf::Message& m) {
  const std::string bytes = m.SerializeAsString();
  std::string f(5, '\0');
  for (int i = 0; i < 4; ++i) f[1 + i] = static_cast<char>((bytes.size() >> (24 - 8 * i)) & 0xff);
  return f + bytes;
}

// Watches `run_id` through the gateway; calls on_event(event, received_ns) for each event.
// Returns the number of events.
size_t WatchThroughGateway(int port, const std::string& run_id,
                           const std::function<void(const v1::ProfileEvent&, int64_t)>& on_event) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(120, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = "/eprof.v1.ProfilerService/Watch";
  req.headers = {{"x-eprof-token", kToken}, {"Content-Type", "application/grpc-web+proto"}};
  v1::WatchRequest w;
  w.set_run_id(run_id);
  req.body = Frame(w);
  eprof::web::WebFrameReader reader(false);
  size_t events = 0;
  v1::ProfileEvent e;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    const int64_t now = eprof::Clock::Real()->NowNs();
    (void)reader.Feed(absl::string_view(data, n));
    eprof::web::WebFrameReader::Frame f;
    while (reader.Next(&f)) {
      if (f.trailer || !e.ParseFromString(f.payload)) continue;
      ++events;
      if (on_event) on_event(e, now);
    }
    return true;
  };
  httplib::Response res;
  httplib::Error error;
  client.send(req, res, error);
  return events;
}

int Main(int argc, char** argv) {
  if (std::getenv("EPROF_BINARY_DIR") == nullptr) {  // build/bin/gateway_bench -> build
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe");
    setenv("EPROF_BINARY_DIR", exe.parent_path().parent_path().c_str(), 1);
  }
  int rounds = 10, tokens = 110, replays = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](int* out) {
      if (i + 1 >= argc || !absl::SimpleAtoi(argv[++i], out) || *out < 1) {
        std::fprintf(stderr, "gateway_bench: %s takes a whole number >= 1\n", a.c_str());
        std::exit(2);
      }
    };
    if (a == "--rounds") value(&rounds);
    else if (a == "--tokens") value(&tokens);
    else if (a == "--replays") value(&replays);
    else {
      std::fprintf(stderr,
                   "usage: gateway_bench [--rounds N (10)] [--tokens N (110, <= 115: the tiny "
                   "model's context)] [--replays N (20)]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  DaemonHarness h;
  if (!h.Prepare() || !h.StartHelper() || !h.StartDaemon()) {
    std::fprintf(stderr, "gateway_bench: could not start the helper and eprofd (see %s)\n",
                 h.dir().c_str());
    return 1;
  }
  const int port = h.StartWeb(kToken, {"--log-level", "warning"});
  if (port == 0) {
    std::fprintf(stderr, "gateway_bench: eprof-web printed no URL (see %s/web.log)\n",
                 h.dir().c_str());
    return 1;
  }
  auto channel = grpc::CreateChannel("unix:" + h.socket(), grpc::InsecureChannelCredentials());
  auto stub = v1::ProfilerService::NewStub(channel);

  std::vector<double> direct_ms, gateway_ms, diff_ms;
  std::string last_run;
  for (int round = 0; round < rounds; ++round) {
    v1::ProfileRequest r;
    r.set_model("tiny");
    r.set_prompt("Where does the energy go?");
    r.set_max_new_tokens(static_cast<uint32_t>(tokens));
    r.set_idle_baseline_ms(400);
    r.set_power_interval_ms(10);
    grpc::ClientContext ctx;
    auto reader = stub->Profile(&ctx, r);
    v1::ProfileEvent e;
    if (!reader->Read(&e)) {
      std::fprintf(stderr, "gateway_bench: Profile failed: %s\n", reader->Finish().error_message().c_str());
      return 1;
    }
    const std::string run_id = e.run_id();
    std::map<uint32_t, double> direct_by_token, gateway_by_token;
    std::mutex mu;
    std::thread through_gateway([&] {
      WatchThroughGateway(port, run_id, [&](const v1::ProfileEvent& ev, int64_t now) {
        if (!ev.has_token() || ev.token().token().index() == 0) return;
        std::lock_guard<std::mutex> lock(mu);
        gateway_by_token[ev.token().token().index()] = (now - ev.token().token().end_ns()) / 1e6;
      });
    });
    std::thread direct([&] {
      grpc::ClientContext wctx;
      v1::WatchRequest w;
      w.set_run_id(run_id);
      auto watch = stub->Watch(&wctx, w);
      v1::ProfileEvent ev;
      while (watch->Read(&ev)) {
        const int64_t now = eprof::Clock::Real()->NowNs();
        if (!ev.has_token() || ev.token().token().index() == 0) continue;
        std::lock_guard<std::mutex> lock(mu);
        direct_by_token[ev.token().token().index()] = (now - ev.token().token().end_ns()) / 1e6;
      }
      (void)watch->Finish();
    });
    while (reader->Read(&e)) {
    }
    (void)reader->Finish();
    through_gateway.join();
    direct.join();
    for (const auto& [index, g] : gateway_by_token) {
      auto d = direct_by_token.find(index);
      if (d == direct_by_token.end()) continue;
      gateway_ms.push_back(g);
      direct_ms.push_back(d->second);
      diff_ms.push_back(g - d->second);
    }
    last_run = run_id;
  }

  std::vector<double> rates;
  size_t events_per_replay = 0;
  for (int i = 0; i < replays; ++i) {
    const int64_t t0 = eprof::Clock::Real()->NowNs();
    events_per_replay = WatchThroughGateway(port, last_run, nullptr);
    const double s = (eprof::Clock::Real()->NowNs() - t0) / 1e9;
    if (events_per_replay > 0 && s > 0) rates.push_back(static_cast<double>(events_per_replay) / s);
  }

  const double added = Quantile(diff_ms, 0.5);
  std::printf("gateway_bench: %d rounds of %d tokens, %zu token events seen by both watchers\n",
              rounds, tokens, diff_ms.size());
  std::printf("  latency, token end -> client   p50 %.3f ms   p99 %.3f ms   (direct Watch on the socket)\n",
              Quantile(direct_ms, 0.5), Quantile(direct_ms, 0.99));
  std::printf("                                 p50 %.3f ms   p99 %.3f ms   (Watch through eprof-web)\n",
              Quantile(gateway_ms, 0.5), Quantile(gateway_ms, 0.99));
  std::printf("  the gateway adds (paired, per token): median %.3f ms, quartiles %.3f to %.3f ms; "
              "target < 0.5 ms at the median: %s\n",
              added, Quantile(diff_ms, 0.25), Quantile(diff_ms, 0.75),
              diff_ms.size() < 1000 ? "fewer than 1,000 events, not decided"
                                    : added < 0.5 ? "met" : "NOT met");
  std::printf("  one stream: %zu events per Watch replay, %d replays: median %.0f events/s "
              "(%.0f to %.0f); target >= 20,000: %s\n",
              events_per_replay, replays, Quantile(rates, 0.5),
              rates.empty() ? 0.0 : *std::min_element(rates.begin(), rates.end()),
              rates.empty() ? 0.0 : *std::max_element(rates.begin(), rates.end()),
              Quantile(rates, 0.5) >= 20000 ? "met" : "NOT met");
  h.Stop(/*keep=*/false);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
