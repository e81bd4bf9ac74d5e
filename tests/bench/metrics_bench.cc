// What eprofd's /metrics costs a Prometheus server that scrapes it, after 1,000 runs have been
// counted: 10 models, each run's prefill and decode phases with four energy channels, outcomes
// of every kind, durations spread over the histogram's buckets. eprofd counts a run when it ends
// (DaemonMetrics::RecordRun, as eprofd calls it), so the series a scrape renders grow with the
// models and channels seen, not with the runs stored: the figures are the same with 1,000 runs in
// the database. Scraped over loopback with one kept-alive HTTP connection, as Prometheus does.
//
//   build/bin/metrics_bench [--runs N] [--scrapes N]
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/service/metrics.h"

namespace {

namespace v1 = eprof::v1;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

v1::RunSummary MakeSummary(int i) {
  v1::RunSummary s;
  s.set_run_id(absl::StrCat("run-", i));
  s.mutable_model()->set_name(absl::StrCat("model-", i % 10));
  constexpr v1::RunStatus kOutcomes[] = {v1::RUN_STATUS_COMPLETED, v1::RUN_STATUS_COMPLETED,
                                         v1::RUN_STATUS_COMPLETED, v1::RUN_STATUS_CANCELLED,
                                         v1::RUN_STATUS_FAILED};
  s.set_status(kOutcomes[i % 5]);
  s.set_start_ns(1'000'000'000LL * i);
  s.set_end_ns(s.start_ns() + 500'000'000LL * (1 + i % 60));
  s.set_input_tokens(20 + i % 50);
  s.set_output_tokens(64 + i % 200);
  return s;
}

std::vector<v1::PhaseRecord> MakePhases(int i) {
  std::vector<v1::PhaseRecord> phases;
  for (v1::Phase phase : {v1::PHASE_PREFILL, v1::PHASE_DECODE}) {
    v1::PhaseRecord p;
    p.set_phase(phase);
    for (const char* channel : {"cpu-package", "cpu-cores", "dram", "gpu"}) {
      v1::ChannelEnergy* c = p.mutable_energy()->add_channels();
      c->set_channel(channel);
      c->set_total_mj(1000.0 + i);
      c->set_dynamic_mj(400.0 + i);
    }
    phases.push_back(std::move(p));
  }
  return phases;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 1000;
  int scrapes = 300;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--scrapes") == 0 && i + 1 < argc) {
      scrapes = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: metrics_bench [--runs N (1000)] [--scrapes N (300)]\n");
      return 2;
    }
  }
  if (runs < 1 || scrapes < 10) {
    std::fprintf(stderr, "metrics_bench: --runs must be >= 1 and --scrapes >= 10\n");
    return 2;
  }

  eprof::daemon::MetricsOptions options;
  options.queue_length = [] { return size_t{0}; };
  options.run_in_progress = [] { return false; };
  auto metrics = eprof::daemon::DaemonMetrics::Start(options);
  if (!metrics.ok()) {
    std::fprintf(stderr, "metrics_bench: %s\n", std::string(metrics.status().message()).c_str());
    return 1;
  }

  std::vector<double> record_us;
  record_us.reserve(runs);
  for (int i = 0; i < runs; ++i) {
    v1::RunSummary s = MakeSummary(i);
    std::vector<v1::PhaseRecord> phases = MakePhases(i);
    const Clock::time_point t0 = Clock::now();
    (*metrics)->RecordRun(s, phases);
    record_us.push_back(Ms(Clock::now() - t0) * 1000.0);
  }

  httplib::Client client("127.0.0.1", (*metrics)->port());
  client.set_keep_alive(true);
  std::vector<double> scrape_ms;
  size_t body_bytes = 0;
  size_t series = 0;
  for (int i = 0; i < scrapes + 10; ++i) {
    const Clock::time_point t0 = Clock::now();
    httplib::Result r = client.Get("/metrics");
    const double ms = Ms(Clock::now() - t0);
    if (!r || r->status != 200) {
      std::fprintf(stderr, "metrics_bench: scrape %d failed\n", i);
      return 1;
    }
    if (i < 10) continue;  // warm-up: the connection, the first allocations
    scrape_ms.push_back(ms);
    body_bytes = r->body.size();
    series = 0;
    for (size_t at = 0; at < r->body.size();) {
      const size_t eol = std::min(r->body.find('\n', at), r->body.size());
      if (eol > at && r->body[at] != '#') ++series;
      at = eol + 1;
    }
  }

  std::printf("metrics_bench: %d runs counted (10 models, 2 phases, 4 channels), %d scrapes\n",
              runs, scrapes);
  std::printf("  /metrics body             %zu bytes, %zu series\n", body_bytes, series);
  std::printf("  scrape (request to body)  median %.3f ms  p10 %.3f  p90 %.3f  p99 %.3f   "
              "target: well inside a 5 s scrape interval (< 10 ms)\n",
              Quantile(scrape_ms, 0.5), Quantile(scrape_ms, 0.1), Quantile(scrape_ms, 0.9),
              Quantile(scrape_ms, 0.99));
  std::printf("  counting one ended run    median %.1f us  p90 %.1f us\n",
              Quantile(record_us, 0.5), Quantile(record_us, 0.9));
  return 0;
}
