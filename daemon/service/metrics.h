// eprofd's Prometheus metrics, served on a loopback port (/metrics) for an ordinary Prometheus
// server to scrape (design: "Beyond one machine"). Names and labels follow Prometheus'
// conventions: base units (joules, seconds, watts), counters ending in _total.
//
//   eprof_energy_joules_total{model,phase,channel}           energy of finished runs' phases
//   eprof_dynamic_energy_joules_total{model,phase,channel}   the same above the idle baseline
//   eprof_tokens_total{model,phase}                          prefill: prompt tokens; decode: generated
//   eprof_runs_total{outcome}                                completed, cancelled, failed, interrupted
//   eprof_run_duration_seconds (histogram)                   first phase's start to last phase's end
//   eprof_power_watts{channel,quality}                       the latest power sample, per channel
//   eprof_power_helper_connected                             1 while power samples come, else 0
//   eprof_run_queue_length / eprof_run_in_progress           runs waiting / running now
//
// A run counts when it ends (RecordRun); the gauges are read at each scrape.
//
// Thread safety: RecordRun may be called from any thread; scrapes run on the exposer's threads.
#ifndef EPROF_DAEMON_SERVICE_METRICS_H_
#define EPROF_DAEMON_SERVICE_METRICS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/power/power_feed.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

struct MetricsOptions {
  // 127.0.0.1:port; 0 picks a free port (DaemonMetrics::port() says which).
  int port = 0;
  // Read at each scrape (not owned; null: the power gauges are absent).
  const PowerFeed* power = nullptr;
  // Runs waiting, and whether one runs now, read at each scrape.
  std::function<size_t()> queue_length;
  std::function<bool()> run_in_progress;
};

class DaemonMetrics {
 public:
  // Serves /metrics. FAILED_PRECONDITION naming the port when it cannot listen there.
  static absl::StatusOr<std::unique_ptr<DaemonMetrics>> Start(MetricsOptions options);
  ~DaemonMetrics();

  // Counts a run that has ended, with its phases as stored.
  void RecordRun(const v1::RunSummary& summary, const std::vector<v1::PhaseRecord>& phases);

  int port() const;

  class Impl;

 private:
  explicit DaemonMetrics(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_SERVICE_METRICS_H_
