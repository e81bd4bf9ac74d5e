#include "daemon/power/power_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "eprof/v1/power.grpc.pb.h"

namespace eprof::daemon {

PowerClient::PowerClient(PowerClientOptions options)
    : options_(std::move(options)), hub_(options_.ring_capacity), interval_ms_(options_.interval_ms) {}

PowerClient::~PowerClient() { Stop(); }

void PowerClient::Start() {
  absl::MutexLock lock(&mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void PowerClient::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    if (call_ != nullptr) call_->TryCancel();
  }
  hub_.Close();
  if (thread_.joinable()) thread_.join();
}

void PowerClient::SetInterval(uint32_t interval_ms) {
  absl::MutexLock lock(&mu_);
  if (interval_ms_ == interval_ms) return;
  interval_ms_ = interval_ms;
  if (call_ != nullptr) call_->TryCancel();  // Loop resubscribes at once at the new interval
}

PowerClientState PowerClient::state() const {
  PowerClientState st;
  {
    absl::MutexLock lock(&mu_);
    st = state_;
  }
  st.dropped_from_ring = hub_.dropped_from_ring();
  st.has_latest = hub_.Latest(&st.latest);
  return st;
}

bool PowerClient::WaitUntilConnected(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return state_.connected || stopping_; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return state_.connected;
}

std::vector<v1::PowerSample> PowerClient::SamplesSince(int64_t t_ns) const {
  return hub_.SamplesSince(t_ns);
}

bool PowerClient::WaitForCoverage(int64_t t_ns, absl::Duration timeout) const {
  return hub_.WaitForCoverage(t_ns, timeout);
}

int PowerClient::AddListener(SampleListener on_sample, StateListener on_state) {
  return hub_.AddListener(std::move(on_sample), std::move(on_state));
}

void PowerClient::RemoveListener(int id) { hub_.RemoveListener(id); }

void PowerClient::SetDisconnected(const std::string& error) {
  bool was_connected;
  {
    absl::MutexLock lock(&mu_);
    was_connected = state_.connected;
    state_.connected = false;
    state_.error = error;
    state_.interval_ns = 0;
  }
  if (was_connected) {
    EPROF_LOG(WARNING) << "power helper at " << options_.socket_path << " lost: " << error;
    hub_.PublishState(false, error);
  }
}

std::string PowerClient::RunStream(uint32_t interval_ms) {
  auto channel = grpc::CreateChannel("unix:" + options_.socket_path,
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::PowerService::NewStub(channel);
  v1::DescribeResponse description;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::Status s = stub->Describe(&ctx, v1::DescribeRequest(), &description);
    if (!s.ok()) {
      return absl::StrCat("cannot reach the power helper at ", options_.socket_path, " (",
                          s.error_message(), "): is eprof-power-helper running? ",
                          "(deploy/install.sh installs it as a service)");
    }
  }
  const v1::Source* source = nullptr;
  for (const v1::Source& s : description.sources()) {
    if (s.is_default() && s.available()) source = &s;
  }
  for (const v1::Source& s : description.sources()) {
    if (source == nullptr && s.available()) source = &s;
  }
  if (source == nullptr) {
    return absl::StrCat("the power helper at ", options_.socket_path,
                        " has no available power source");
  }
  grpc::ClientContext ctx;
  v1::StreamSamplesRequest request;
  request.set_interval_ms(interval_ms);
  request.set_source(source->name());
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return "stopped";
    // SetInterval while Describe ran found no call to cancel: subscribe at the new interval.
    if (interval_ms_ != interval_ms) return "";
    call_ = &ctx;
  }
  auto reader = stub->StreamSamples(&ctx, request);
  v1::StreamSamplesResponse response;
  bool first = true;
  while (reader->Read(&response)) {
    if (first) {
      first = false;
      bool was_connected, reconnected;
      {
        absl::MutexLock lock(&mu_);
        was_connected = state_.connected;  // true across a resubscription for a new interval
        reconnected = !state_.error.empty();
        state_.connected = true;
        state_.error.clear();
        state_.source = source->name();
        state_.channels.assign(source->channels().begin(), source->channels().end());
        if (reconnected) ++state_.reconnects;
      }
      // Listeners hear of changes only: a new interval is not a reconnection.
      if (!was_connected) hub_.PublishState(true, "");
    }
    {
      absl::MutexLock lock(&mu_);
      state_.interval_ns = response.interval_ns();
      state_.dropped_by_helper = response.dropped_samples();  // per connection, cumulative
    }
    for (const v1::PowerSample& s : response.samples()) hub_.Publish(s);
  }
  grpc::Status status = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    call_ = nullptr;
  }
  if (status.error_code() == grpc::StatusCode::CANCELLED) return "";
  return absl::StrCat("the power stream from ", options_.socket_path, " ended: ",
                      status.error_message().empty() ? "connection closed" : status.error_message());
}

void PowerClient::Loop() {
  absl::Duration backoff = options_.initial_backoff;
  for (;;) {
    uint32_t interval_ms;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      interval_ms = interval_ms_;
    }
    std::string error = RunStream(interval_ms);
    if (error.empty()) {  // cancelled on purpose: stop, or a new interval (still connected)
      backoff = options_.initial_backoff;
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      continue;
    }
    bool was_connected = state().connected;
    SetDisconnected(error);
    if (was_connected) backoff = options_.initial_backoff;
    absl::MutexLock lock(&mu_);
    auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (mu_.AwaitWithTimeout(absl::Condition(&stop), backoff)) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  absl::MutexLock lock(&mu_);
  state_.connected = false;
}

}  // namespace eprof::daemon
