#include "power_helper/service/power_service.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"
#include "common/logging.h"

namespace eprof::power {
namespace {

using Response = v1::StreamSamplesResponse;

// A stream that fails before it starts.
class FailedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FailedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// One subscriber: the reactor of its call plus its queue. The sampling thread calls OnSample;
// gRPC threads call the reactor callbacks. All state is under mu_; StartWrite and Finish are
// called outside it, and only by whoever set writing_ (resp. finish_called_) under it, so at most
// one write is in flight and Finish follows the last write.
class SampleStream final : public grpc::ServerWriteReactor<Response> {
 public:
  class State final : public Subscriber {
   public:
    State(SampleStream* stream, int64_t interval_ns, std::set<std::string> channels,
          const PowerServiceOptions& options, int64_t not_before_ns)
        : stream_(stream),
          interval_ns_(interval_ns),
          channels_(std::move(channels)),
          options_(options),
          not_before_ns_(not_before_ns),
          clock_(options.clock ? options.clock : Clock::Real()) {}

    int64_t interval_ns() const override { return interval_ns_; }

    // Hot path: aggregates and queues; never blocks on the network.
    void OnSample(const SensorSample& sample) override {
      SampleStream* to_write = nullptr;
      {
        absl::MutexLock lock(&mu_);
        if (stream_ == nullptr || finish_requested_) return;
        if (sample.t_end_ns - sample.window_ns < not_before_ns_) return;  // window began earlier
        Accumulate(sample);
        last_t_end_ns_ = sample.t_end_ns;
        if (acc_window_ns_ + sample.window_ns / 2 < interval_ns_) return;
        Emit(sample.t_end_ns);
        // Samples that come more often than min_write_spacing_ns are batched: at most one
        // write per spacing (they keep coming, so none waits longer than that plus one
        // window). Sparser samples are written at once.
        const int64_t now_ns = clock_->NowNs();
        sparse_ = std::max(interval_ns_, sample.window_ns) >= options_.min_write_spacing_ns;
        if (sparse_ ||
            now_ns - last_write_ns_ >= options_.min_write_spacing_ns) {
          to_write = PrepareWriteLocked();
          if (to_write) last_write_ns_ = now_ns;
        }
      }
      if (to_write) to_write->StartWrite(&to_write->response_);
    }

    void OnSourceEnd(const absl::Status& status) override { RequestFinish(ToGrpcStatus(status)); }

    void RequestFinish(const grpc::Status& status) {
      SampleStream* to_finish = nullptr;
      SampleStream* to_write = nullptr;
      {
        absl::MutexLock lock(&mu_);
        if (stream_ == nullptr || finish_requested_) return;
        if (status.ok() && acc_window_ns_ > 0) Emit(last_t_end_ns_);  // the recording's tail
        finish_requested_ = true;
        finish_status_ = status;
        if (!writing_) {
          if (status.ok()) to_write = PrepareWriteLocked();
          if (to_write == nullptr) {
            finish_called_ = true;
            to_finish = stream_;
          }
        }
      }
      if (to_write) to_write->StartWrite(&to_write->response_);
      if (to_finish) to_finish->Finish(status);
    }

    void WriteDone(bool ok) {
      SampleStream* to_write = nullptr;
      SampleStream* to_finish = nullptr;
      grpc::Status status;
      {
        absl::MutexLock lock(&mu_);
        writing_ = false;
        if (!ok && !finish_requested_) {
          finish_requested_ = true;
          finish_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
        }
        // An OK end (recording over) still delivers what is queued.
        // Batched streams: the next OnSample writes what is queued (keeping the spacing); sparse
        // ones write it now; at an OK end (recording over) what is queued is still delivered.
        if ((finish_requested_ && finish_status_.ok() && ok && queued_ > 0) ||
            (!finish_requested_ && sparse_)) {
          to_write = PrepareWriteLocked();
        }
        if (to_write == nullptr && finish_requested_ && !finish_called_) {
          finish_called_ = true;
          to_finish = stream_;
          status = finish_status_;
        }
      }
      if (to_write) to_write->StartWrite(&to_write->response_);
      if (to_finish) to_finish->Finish(status);
    }

    void Detach() {
      absl::MutexLock lock(&mu_);
      stream_ = nullptr;
    }

   private:
    void Accumulate(const SensorSample& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (acc_window_ns_ == 0) {
        acc_.clear();
        acc_windows_ = 0;
      }
      acc_window_ns_ += s.window_ns;
      ++acc_windows_;
      for (const Reading& r : s.readings) {
        if (!channels_.empty() && !channels_.count(r.channel)) continue;
        auto it = std::find_if(acc_.begin(), acc_.end(),
                               [&](const Reading& a) { return a.channel == r.channel; });
        if (it == acc_.end()) {
          acc_.push_back(r);
        } else {
          it->energy_mj += r.energy_mj;
          it->quality = WorseQuality(it->quality, r.quality);
        }
      }
    }

    // Queues the accumulated window as a plain struct in a ring whose slots (and their readings'
    // storage) are reused: the per-sample path builds no protobuf and, once every slot has been
    // used, allocates nothing. Protos are built when a write is due (PrepareWriteLocked).
    void Emit(int64_t t_end_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (ring_.empty()) ring_.resize(std::max<size_t>(options_.max_queued_samples, 1));
      if (queued_ == ring_.size()) {  // full: the oldest is lost, and counted
        head_ = (head_ + 1) % ring_.size();
        --queued_;
        ++dropped_;
      }
      Pending& p = ring_[(head_ + queued_) % ring_.size()];
      ++queued_;
      p.seq = seq_++;
      p.t_end_ns = t_end_ns;
      p.window_ns = acc_window_ns_;
      p.windows = acc_windows_;
      p.readings.assign(acc_.begin(), acc_.end());
      acc_window_ns_ = 0;
    }

    SampleStream* PrepareWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (writing_ || queued_ == 0 || stream_ == nullptr || finish_called_) return nullptr;
      Response& r = stream_->response_;
      r.Clear();  // keeps the cleared messages for reuse by add_samples / add_readings
      while (queued_ > 0 && static_cast<size_t>(r.samples_size()) < options_.max_batch) {
        const Pending& q = ring_[head_];
        head_ = (head_ + 1) % ring_.size();
        --queued_;
        v1::PowerSample* p = r.add_samples();
        p->set_seq(q.seq);
        p->set_t_end_ns(q.t_end_ns);
        p->set_window_ns(q.window_ns);
        p->set_source(source_);
        for (const Reading& reading : q.readings) {
          v1::Reading* out = p->add_readings();
          out->set_channel(reading.channel);
          out->set_energy_mj(reading.energy_mj);
          out->set_power_mw(
              MergedPowerMw(q.windows, reading.power_mw, reading.energy_mj, q.window_ns));
          out->set_quality(reading.quality);
        }
      }
      r.set_dropped_samples(dropped_);
      r.set_interval_ns(interval_ns_);
      writing_ = true;
      return stream_;
    }

    // One queued window (see Emit).
    struct Pending {
      uint64_t seq = 0;
      int64_t t_end_ns = 0;
      int64_t window_ns = 0;
      int windows = 0;  // source windows aggregated into it
      std::vector<Reading> readings;
    };

   public:
    std::string source_;  // set before the subscription starts

   private:
    absl::Mutex mu_;
    SampleStream* stream_ ABSL_GUARDED_BY(mu_);
    const int64_t interval_ns_;
    const std::set<std::string> channels_;
    const PowerServiceOptions options_;
    const int64_t not_before_ns_;
    Clock* const clock_;
    std::vector<Reading> acc_ ABSL_GUARDED_BY(mu_);
    int64_t acc_window_ns_ ABSL_GUARDED_BY(mu_) = 0;
    int acc_windows_ ABSL_GUARDED_BY(mu_) = 0;
    int64_t last_t_end_ns_ ABSL_GUARDED_BY(mu_) = 0;
    int64_t last_write_ns_ ABSL_GUARDED_BY(mu_) = 0;
    bool sparse_ ABSL_GUARDED_BY(mu_) = true;
    std::vector<Pending> ring_ ABSL_GUARDED_BY(mu_);  // max_queued_samples slots, made on first use
    size_t head_ ABSL_GUARDED_BY(mu_) = 0;             // oldest queued slot
    size_t queued_ ABSL_GUARDED_BY(mu_) = 0;
    uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
    uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
    bool writing_ ABSL_GUARDED_BY(mu_) = false;
    bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
    bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
    grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
  };

  SampleStream(SourceRunner* runner, int64_t interval_ns, std::set<std::string> channels,
               const PowerServiceOptions& options, int64_t not_before_ns)
      : runner_(runner),
        state_(std::make_shared<State>(this, interval_ns, std::move(channels), options,
                                       not_before_ns)) {
    state_->source_ = runner->info().name();
  }

  // Starts the subscription; the reactor may already be finishing when this returns.
  void Begin() {
    if (!runner_->Subscribe(state_)) {
      state_->RequestFinish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                         "eprof-power-helper is shutting down"));
    }
  }

  void OnWriteDone(bool ok) override { state_->WriteDone(ok); }
  void OnCancel() override {
    runner_->Unsubscribe(state_.get());
    state_->RequestFinish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
  }
  void OnDone() override {
    runner_->Unsubscribe(state_.get());
    state_->Detach();
    delete this;
  }

 private:
  SourceRunner* runner_;
  std::shared_ptr<State> state_;
  Response response_;  // owned by the write in flight
};

}  // namespace

void FillHostInfo(v1::DescribeResponse* response) {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  response->set_hostname(host);
  utsname u;
  if (uname(&u) == 0) {
    response->set_os(absl::StrCat(u.sysname, " ", u.release));
    response->set_machine(u.machine);
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(": ");
      if (colon != std::string::npos) response->set_machine(line.substr(colon + 2));
      break;
    }
  }
}

PowerServiceImpl::PowerServiceImpl(std::vector<std::unique_ptr<Sensor>> sensors,
                                   PowerServiceOptions options)
    : options_(options), clock_(options.clock ? options.clock : Clock::Real()) {
  for (auto& s : sensors) runners_.push_back(std::make_unique<SourceRunner>(std::move(s)));
}

SourceRunner* PowerServiceImpl::runner(const std::string& name) {
  for (auto& r : runners_) {
    if (r->info().name() == name) return r.get();
  }
  return nullptr;
}

void PowerServiceImpl::Shutdown() {
  shutting_down_.store(true);
  for (auto& r : runners_) r->Shutdown();
}

grpc::ServerUnaryReactor* PowerServiceImpl::Describe(grpc::CallbackServerContext* context,
                                                     const v1::DescribeRequest*,
                                                     v1::DescribeResponse* response) {
  FillHostInfo(response);
  response->set_helper_version(EPROF_VERSION);
  for (size_t i = 0; i < runners_.size(); ++i) {
    v1::Source* s = response->add_sources();
    *s = runners_[i]->info();
    s->set_is_default(i == 0);
  }
  response->set_now_ns(clock_->NowNs());
  response->set_clock("CLOCK_MONOTONIC");
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<Response>* PowerServiceImpl::StreamSamples(
    grpc::CallbackServerContext* context, const v1::StreamSamplesRequest* request) {
  using grpc::StatusCode;
  if (shutting_down_.load()) {
    return new FailedStream(grpc::Status(StatusCode::UNAVAILABLE,
                                         "eprof-power-helper is shutting down; reconnect"));
  }
  SourceRunner* runner = nullptr;
  if (runners_.empty()) {
    return new FailedStream(grpc::Status(StatusCode::FAILED_PRECONDITION, "no sources"));
  }
  std::vector<std::string> names;
  for (auto& r : runners_) names.push_back(r->info().name());
  runner = request->source().empty() ? runners_[0].get() : this->runner(request->source());
  if (runner == nullptr) {
    return new FailedStream(grpc::Status(
        StatusCode::INVALID_ARGUMENT, absl::StrCat("unknown source \"", request->source(),
                                                   "\"; this helper runs: ",
                                                   absl::StrJoin(names, ", "))));
  }
  const v1::Source& info = runner->info();
  if (!info.available()) {
    return new FailedStream(grpc::Status(
        StatusCode::FAILED_PRECONDITION,
        absl::StrCat("source ", info.name(), " is unavailable: ", info.unavailable_reason())));
  }
  int64_t interval_ns = info.default_interval_ns();
  if (request->interval_ms() != 0) {
    if (request->interval_ms() > 60000) {
      return new FailedStream(grpc::Status(
          StatusCode::INVALID_ARGUMENT,
          absl::StrCat("interval_ms ", request->interval_ms(),
                       " is outside [1, 60000]; 0 means the source's default")));
    }
    interval_ns = static_cast<int64_t>(request->interval_ms()) * 1'000'000;
  }
  interval_ns = std::clamp(interval_ns, std::max(info.min_interval_ns(), kMinApiIntervalNs),
                           std::min(info.max_interval_ns(), kMaxApiIntervalNs));
  std::set<std::string> channels;
  for (const std::string& c : request->channels()) {
    bool known = false;
    for (const v1::Channel& ch : info.channels()) known |= ch.name() == c;
    if (!known) {
      std::vector<std::string> known_names;
      for (const v1::Channel& ch : info.channels()) known_names.push_back(ch.name());
      return new FailedStream(grpc::Status(
          StatusCode::INVALID_ARGUMENT,
          absl::StrCat("unknown channel \"", c, "\" of source ", info.name(),
                       "; its channels: ", absl::StrJoin(known_names, ", "))));
    }
    channels.insert(c);
  }
  // A subscriber joining a running source starts with the first window after it joined.
  const int64_t not_before_ns = runner->subscriber_count() > 0 ? clock_->NowNs() : 0;
  auto* stream = new SampleStream(runner, interval_ns, std::move(channels), options_,
                                  not_before_ns);
  stream->Begin();
  return stream;
}

}  // namespace eprof::power
