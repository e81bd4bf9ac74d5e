#include "daemon/profiler/run_power.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace eprof::daemon {

namespace {
constexpr int64_t kNsPerMs = 1'000'000;
}  // namespace

RunPower::RunPower(PowerFeed* feed, int64_t interval_ns, absl::Duration coverage_timeout,
                   RunEvents* events, RowBatch* rows)
    : feed_(feed), interval_ns_(interval_ns), coverage_timeout_(coverage_timeout),
      events_(events), rows_(rows) {}

void RunPower::Start() {
  if (feed_ == nullptr) {
    events_->Warn("no_power_source",
                  "no power source is configured: the run has timings but no energy figures");
    return;
  }
  // The run's interval first: a feed still on a previous run's long interval resubscribes now,
  // and the wait below lets its first sample at this interval arrive before anything is judged.
  const PowerFeedState before = feed_->state();
  feed_->SetInterval(static_cast<uint32_t>(interval_ns_ / kNsPerMs));
  const int64_t t0 = events_->clock()->NowNs();
  listener_id_ = feed_->AddListener(
      [this](const v1::PowerSample& s) {
        {
          absl::MutexLock lock(&mu_);
          arrived_.push_back(s);
        }
        v1::ProfileEvent e;
        *e.mutable_power_sample() = s;
        events_->Emit(e);
      },
      [this](bool connected, const std::string& error) {
        if (connected) {
          events_->Warn("helper_reconnected",
                        "the power helper is back; energy is missing for the time it was away");
        } else {
          events_->Warn("power_gap", absl::StrCat("lost the power helper (", error,
                                                  "): energy is missing until it comes back"));
        }
      });
  // Start measuring once a window covering t0 is in: samples that arrived before we subscribed
  // come from the feed's ring, so the first phase is covered from its first instant. A feed that
  // is away (an error known) is not waited for.
  const bool reachable = before.connected || before.error.empty();
  const bool covered = reachable && feed_->WaitForCoverage(t0, coverage_timeout_);
  const PowerFeedState state = feed_->state();
  if (!state.connected) {
    events_->Warn("no_power_helper",
                  absl::StrCat("the power helper is not reachable (",
                               state.error.empty() ? "no sample arrived in time" : state.error,
                               "): the run goes ahead with timings but no energy figures"));
  }
  timeline_ = PowerTimeline(state.channels);
  for (const v1::Channel& c : state.channels) {
    if (c.quality() == v1::QUALITY_ESTIMATED) {
      events_->Warn("estimated_power",
                    absl::StrCat("power comes from the '", state.source,
                                 "' source, an estimate (CPU utilisation × TDP), not a "
                                 "measurement"));
      break;
    }
  }
  if (covered) {
    std::vector<v1::PowerSample> earlier = feed_->SamplesSince(t0 - 2 * interval_ns_);
    absl::MutexLock lock(&mu_);
    arrived_.insert(arrived_.begin(), earlier.begin(), earlier.end());
  }
}

void RunPower::Stop() {
  if (feed_ != nullptr && listener_id_ >= 0) feed_->RemoveListener(listener_id_);
  listener_id_ = -1;
}

bool RunPower::connected() const { return feed_ != nullptr && feed_->state().connected; }

void RunPower::Drain() {
  std::vector<v1::PowerSample> arrived;
  {
    absl::MutexLock lock(&mu_);
    arrived.swap(arrived_);
  }
  // Samples from the ring and from the listener may repeat each other: keep time order, skip
  // windows already in the timeline.
  std::stable_sort(arrived.begin(), arrived.end(),
                   [](const v1::PowerSample& a, const v1::PowerSample& b) {
                     return a.t_end_ns() < b.t_end_ns();
                   });
  for (v1::PowerSample& s : arrived) {
    if (s.t_end_ns() <= timeline_.covered_until_ns()) continue;
    if (absl::Status st = timeline_.Add(s); !st.ok()) {
      // A resubscription can restart windows that overlap the last one: skip, say once.
      if (!sample_error_logged_) EPROF_LOG(WARNING) << "run " << events_->run_id() << ": " << st;
      sample_error_logged_ = true;
      continue;
    }
    rows_->rows().samples.push_back(std::move(s));
  }
}

bool RunPower::AwaitCoverage(int64_t t_ns) {
  if (!connected()) return false;
  const bool covered = feed_->WaitForCoverage(t_ns, coverage_timeout_);
  Drain();
  std::vector<v1::PowerSample> more = feed_->SamplesSince(timeline_.covered_until_ns());
  {
    absl::MutexLock lock(&mu_);
    arrived_.insert(arrived_.end(), more.begin(), more.end());
  }
  Drain();
  return covered;
}

void RunPower::MeasureBaseline(int64_t start_ns, int64_t end_ns) {
  baseline_ = timeline_.MedianPower(start_ns, end_ns);
}

}  // namespace eprof::daemon
