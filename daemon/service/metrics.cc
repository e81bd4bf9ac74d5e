#include "daemon/service/metrics.h"

#include <httplib.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace eprof::daemon {
namespace {

std::string PhaseLabel(v1::Phase phase) {
  std::string name = v1::Phase_Name(phase);
  absl::string_view v = name;
  absl::ConsumePrefix(&v, "PHASE_");
  return absl::AsciiStrToLower(v);
}

std::string QualityLabel(v1::Quality q) {
  std::string name = v1::Quality_Name(q);
  absl::string_view v = name;
  absl::ConsumePrefix(&v, "QUALITY_");
  return absl::AsciiStrToLower(v);
}

std::string OutcomeLabel(v1::RunStatus s) {
  std::string name = v1::RunStatus_Name(s);
  absl::string_view v = name;
  absl::ConsumePrefix(&v, "RUN_STATUS_");
  return absl::AsciiStrToLower(v);
}

// The gauges, read when Prometheus scrapes.
class LiveGauges final : public prometheus::Collectable {
 public:
  explicit LiveGauges(const MetricsOptions& options) : options_(options) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    auto gauge = [&](const std::string& name, const std::string& help, double value) {
      prometheus::MetricFamily f{name, help, prometheus::MetricType::Gauge, {}};
      prometheus::ClientMetric m;
      m.gauge.value = value;
      f.metric.push_back(m);
      out.push_back(std::move(f));
    };
    if (options_.queue_length) {
      gauge("eprof_run_queue_length", "Profile requests waiting behind the run in progress.",
            static_cast<double>(options_.queue_length()));
    }
    if (options_.run_in_progress) {
      gauge("eprof_run_in_progress", "1 while a profiled run executes, else 0.",
            options_.run_in_progress() ? 1 : 0);
    }
    if (options_.power != nullptr) {
      const PowerFeedState state = options_.power->state();
      gauge("eprof_power_helper_connected",
            "1 while eprofd receives power samples (from the helper or its in-process estimate).",
            state.connected ? 1 : 0);
      prometheus::MetricFamily power{
          "eprof_power_watts",
          "Power of each channel in the latest sample, W; quality says measured, derived or "
          "estimated.",
          prometheus::MetricType::Gauge, {}};
      if (state.connected && state.has_latest) {
        for (const v1::Reading& r : state.latest.readings()) {
          prometheus::ClientMetric m;
          m.label = {{"channel", r.channel()}, {"quality", QualityLabel(r.quality())}};
          m.gauge.value = r.power_mw() / 1000.0;
          power.metric.push_back(m);
        }
      }
      out.push_back(std::move(power));
    }
    return out;
  }

 private:
  MetricsOptions options_;
};

}  // namespace

class DaemonMetrics::Impl {
 public:
  explicit Impl(MetricsOptions options)
      : options_(std::move(options)),
        registry_(std::make_shared<prometheus::Registry>()),
        gauges_(std::make_shared<LiveGauges>(options_)),
        energy_(prometheus::BuildCounter()
                    .Name("eprof_energy_joules_total")
                    .Help("Energy of the phases of finished runs, J, by model, phase and channel "
                          "(channels another contains are counted on their own, never summed).")
                    .Register(*registry_)),
        dynamic_(prometheus::BuildCounter()
                     .Name("eprof_dynamic_energy_joules_total")
                     .Help("The same energy above the run's idle baseline, J (a phase whose "
                           "dynamic figure is negative, measurement noise, adds 0).")
                     .Register(*registry_)),
        tokens_(prometheus::BuildCounter()
                    .Name("eprof_tokens_total")
                    .Help("Tokens of finished runs by model and phase: prefill counts prompt "
                          "tokens, decode generated ones.")
                    .Register(*registry_)),
        runs_(prometheus::BuildCounter()
                  .Name("eprof_runs_total")
                  .Help("Profiled runs that ended, by outcome.")
                  .Register(*registry_)),
        duration_(prometheus::BuildHistogram()
                      .Name("eprof_run_duration_seconds")
                      .Help("Length of finished runs, from the first phase's start to the last "
                            "phase's end, s.")
                      .Register(*registry_)) {}

  // Served with cpp-httplib (prometheus-cpp's own exposer, on civetweb, failed to start inside
  // eprofd); prometheus-cpp renders the text format.
  absl::Status Init() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(2); };
    // Headers and body leave in separate writes: without TCP_NODELAY the body waits for the
    // ACK of the headers, which a kept-alive scraper delays (delayed ACK), at every scrape.
    server_.set_tcp_nodelay(true);
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      std::vector<prometheus::MetricFamily> families = registry_->Collect();
      std::vector<prometheus::MetricFamily> live = gauges_->Collect();
      families.insert(families.end(), live.begin(), live.end());
      res.set_content(prometheus::TextSerializer().Serialize(families),
                      "text/plain; version=0.0.4; charset=utf-8");
    });
    const int port = options_.port == 0 ? server_.bind_to_any_port("127.0.0.1")
                                        : (server_.bind_to_port("127.0.0.1", options_.port)
                                               ? options_.port
                                               : -1);
    if (port < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot serve metrics on 127.0.0.1:", options_.port,
          ": the port is in use; choose another with --metrics-port"));
    }
    port_ = port;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return absl::OkStatus();
  }

  ~Impl() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void RecordRun(const v1::RunSummary& s, const std::vector<v1::PhaseRecord>& phases) {
    const std::string& model = s.model().name().empty() ? s.request().model() : s.model().name();
    runs_.Add({{"outcome", OutcomeLabel(s.status())}}).Increment();
    if (s.end_ns() > s.start_ns()) {
      duration_
          .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 5, 10, 30, 60, 120, 300, 600, 1800})
          .Observe(static_cast<double>(s.end_ns() - s.start_ns()) / 1e9);
    }
    tokens_.Add({{"model", model}, {"phase", "prefill"}}).Increment(s.input_tokens());
    tokens_.Add({{"model", model}, {"phase", "decode"}}).Increment(s.output_tokens());
    for (const v1::PhaseRecord& p : phases) {
      for (const v1::ChannelEnergy& c : p.energy().channels()) {
        const prometheus::Labels labels = {{"model", model}, {"phase", PhaseLabel(p.phase())},
                                           {"channel", c.channel()}};
        energy_.Add(labels).Increment(std::max(0.0, c.total_mj() / 1000.0));
        dynamic_.Add(labels).Increment(std::max(0.0, c.dynamic_mj() / 1000.0));
      }
    }
  }

  int port() const { return port_; }

 private:
  MetricsOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<LiveGauges> gauges_;
  prometheus::Family<prometheus::Counter>& energy_;
  prometheus::Family<prometheus::Counter>& dynamic_;
  prometheus::Family<prometheus::Counter>& tokens_;
  prometheus::Family<prometheus::Counter>& runs_;
  prometheus::Family<prometheus::Histogram>& duration_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

absl::StatusOr<std::unique_ptr<DaemonMetrics>> DaemonMetrics::Start(MetricsOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<DaemonMetrics>(new DaemonMetrics(std::move(impl)));
}

DaemonMetrics::DaemonMetrics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DaemonMetrics::~DaemonMetrics() = default;

void DaemonMetrics::RecordRun(const v1::RunSummary& summary,
                              const std::vector<v1::PhaseRecord>& phases) {
  impl_->RecordRun(summary, phases);
}

int DaemonMetrics::port() const { return impl_->port(); }

}  // namespace eprof::daemon
