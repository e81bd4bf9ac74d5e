#include "daemon/service/profiler_service.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"
#include "common/thread_priority.h"
#include "daemon/power/window_merge.h"
#include "daemon/profiler/profile_run.h"
#include "daemon/service/run_compare.h"
#include "daemon/service/run_export.h"

namespace eprof::daemon {
namespace {

constexpr absl::Duration kPoll = absl::Milliseconds(50);
// The shortest slice Linux takes: a stream's thread runs for a moment per event.
constexpr absl::Duration kStreamSlice = absl::Microseconds(100);

std::string UserName() {
  struct passwd pw;
  struct passwd* result = nullptr;
  char buf[4096];
  if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &result) == 0 && result != nullptr) {
    return pw.pw_name;
  }
  return absl::StrCat(geteuid());
}

// `event`'s wire form as a message for a raw stream, without copying it: the slice keeps the
// logged event alive until gRPC has sent it.
grpc::ByteBuffer WireOf(const RunEventLog::EventPtr& event) {
  const std::string& bytes = event->bytes();
  auto* hold = new RunEventLog::EventPtr(event);
  grpc::Slice slice(const_cast<char*>(bytes.data()), bytes.size(),
                    [](void* p) { delete static_cast<RunEventLog::EventPtr*>(p); }, hold);
  return grpc::ByteBuffer(&slice, 1);
}

// Profile and Watch's indices among ProfilerService's methods (declaration order in
// profiler.proto, as the generated code numbers them). Were a change to the proto to move them,
// Profile and Watch would answer UNIMPLEMENTED (and other rpcs get their handlers): every
// Profile and Watch test in profiler_service_test would fail.
constexpr int kProfileMethod = 2;
constexpr int kWatchMethod = 3;

}  // namespace

std::vector<v1::ProfileEvent> EventsOfStoredRun(const v1::GetRunResponse& run) {
  std::vector<v1::ProfileEvent> events;
  const v1::RunSummary& s = run.summary();
  auto add = [&](v1::ProfileEvent e, int64_t t_ns) {
    e.set_seq(events.size());
    e.set_run_id(s.run_id());
    e.set_t_ns(t_ns);
    events.push_back(std::move(e));
  };
  v1::ProfileEvent started;
  *started.mutable_run_started() = RunStartedOf(s);
  add(std::move(started), s.start_ns());
  size_t next_token = 0;
  for (const v1::PhaseRecord& p : run.phases()) {
    v1::ProfileEvent ps;
    ps.mutable_phase_started()->set_phase(p.phase());
    ps.mutable_phase_started()->set_start_ns(p.start_ns());
    add(std::move(ps), p.start_ns());
    for (; next_token < static_cast<size_t>(run.tokens_size()) &&
           run.tokens(next_token).end_ns() <= p.end_ns();
         ++next_token) {
      v1::ProfileEvent te;
      *te.mutable_token()->mutable_token() = run.tokens(next_token);
      te.mutable_token()->set_energy_final(true);
      add(std::move(te), run.tokens(next_token).end_ns());
    }
    v1::ProfileEvent pe;
    *pe.mutable_phase_ended()->mutable_phase() = p;
    pe.mutable_phase_ended()->mutable_phase()->clear_layers();
    add(std::move(pe), p.end_ns());
  }
  for (const v1::Warning& w : s.warnings()) {
    v1::ProfileEvent we;
    *we.mutable_warning() = w;
    add(std::move(we), w.t_ns());
  }
  v1::ProfileEvent summary;
  *summary.mutable_summary() = s;
  *summary.mutable_final_phases() = run.phases();
  add(std::move(summary), s.end_ns());
  return events;
}

ProfilerServiceImpl::ProfilerServiceImpl(ProfilerServiceOptions options, RunManager* manager,
                                         const ModelCatalog* catalog, store::RunStore* store,
                                         PowerFeed* power)
    : options_(std::move(options)), manager_(manager), catalog_(catalog), store_(store),
      power_(power), started_ns_(Clock::Real()->NowNs()) {
  MarkMethodStreamed(kProfileMethod,
                     new grpc::internal::SplitServerStreamingHandler<v1::ProfileRequest, grpc::ByteBuffer>(
                         [this](grpc::ServerContext* ctx, ProfileStreamer* stream) {
                           return StreamedProfile(ctx, stream);
                         }));
  MarkMethodStreamed(kWatchMethod,
                     new grpc::internal::SplitServerStreamingHandler<v1::WatchRequest, grpc::ByteBuffer>(
                         [this](grpc::ServerContext* ctx, WatchStreamer* stream) {
                           return StreamedWatch(ctx, stream);
                         }));
}

grpc::Status ProfilerServiceImpl::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                                            v1::GetStatusResponse* r) {
  r->set_version(options_.version);
  r->set_pid(static_cast<uint32_t>(getpid()));
  r->set_user(UserName());
  r->set_uptime_s((Clock::Real()->NowNs() - started_ns_) / 1e9);
  v1::PowerHelperStatus* p = r->mutable_power();
  p->set_socket(options_.power_socket);
  p->set_in_process_estimate(options_.in_process_estimate);
  if (power_ != nullptr) {
    PowerFeedState st = power_->state();
    p->set_connected(st.connected);
    p->set_error(st.error);
    p->set_source(st.source);
    for (const v1::Channel& c : st.channels) *p->add_channels() = c;
    if (st.has_latest) *p->mutable_latest_sample() = st.latest;
  } else {
    p->set_error("no power source configured");
  }
  if (std::shared_ptr<RunHandle> run = manager_->current(); run != nullptr) {
    v1::CurrentRun* c = r->mutable_current_run();
    c->set_run_id(run->run_id);
    c->set_model(run->request.model());
    c->set_phase(run->log->current_phase());
    c->set_tokens_generated(run->log->tokens());
    c->set_max_new_tokens(run->request.max_new_tokens());
  }
  r->set_queued_runs(static_cast<uint32_t>(manager_->queued()));
  for (const std::string& m : manager_->loaded_models()) r->add_loaded_models(m);
  r->set_database_path(store_->path());
  r->set_max_new_tokens_cap(manager_->options().max_new_tokens_cap);
  r->set_max_queued_runs(static_cast<uint32_t>(manager_->options().max_queued));
  for (const std::string& root : catalog_->roots()) r->add_model_roots(root);
  for (const std::string& d : options_.devices) r->add_devices(d);
  return grpc::Status::OK;
}

grpc::Status ProfilerServiceImpl::ListModels(grpc::ServerContext*, const v1::ListModelsRequest*,
                                             v1::ListModelsResponse* r) {
  std::vector<std::string> loaded = manager_->loaded_models();
  for (v1::ModelInfo& m : catalog_->List()) {
    m.set_loaded(std::find(loaded.begin(), loaded.end(), m.name()) != loaded.end());
    *r->add_models() = std::move(m);
  }
  return grpc::Status::OK;
}

template <typename Streamer>
bool ProfilerServiceImpl::StreamLog(grpc::ServerContext* ctx, RunEventLog* log, uint64_t from_seq,
                                    Streamer* stream, absl::Duration batch) {
  // This pooled thread wakes for each live event and must not wait for the niced inference
  // threads' slice to end before it can write (see ScopedThreadSlice).
  ScopedThreadSlice prompt_wakeups(kStreamSlice);
  uint64_t next = from_seq;
  bool closed = false;
  while (!closed) {
    if (ctx->IsCancelled()) return false;
    std::vector<RunEventLog::EventPtr> events = log->Read(next, kPoll, &closed);
    for (const RunEventLog::EventPtr& e : events) {
      if (!stream->Write(WireOf(e))) return false;
      next = e->seq() + 1;
    }
    // Let the next events gather (the run's end cuts the wait short: the summary is not held),
    // then send them just after the next token completes (within another `batch` at most):
    // between two forward passes the engine's workers sleep, so this thread and the client it
    // wakes run on a free core rather than preempting the inference at a random moment.
    if (!events.empty() && !closed && batch > absl::ZeroDuration() && !log->AwaitClosed(batch)) {
      log->AwaitTokens(log->tokens(), batch);
    }
  }
  return true;
}

grpc::Status ProfilerServiceImpl::StreamedProfile(grpc::ServerContext* ctx,
                                                  ProfileStreamer* stream) {
  v1::ProfileRequest request;
  if (!stream->Read(&request)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "no ProfileRequest was received, or it could not be parsed (is every "
                        "text field, the prompt included, valid UTF-8?)");
  }
  absl::StatusOr<std::shared_ptr<RunHandle>> submitted = manager_->Submit(std::move(request));
  if (!submitted.ok()) return ToGrpcStatus(submitted.status());
  std::shared_ptr<RunHandle> run = *submitted;
  if (!StreamLog(ctx, run->log.get(), 0, stream, options_.profile_batch)) {
    // The client left. Unless it asked otherwise, its run stops and is saved as cancelled.
    if (!run->request.continue_on_disconnect()) {
      (void)manager_->Cancel(run->run_id, "the client disconnected");
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client disconnected");
  }
  run->done.WaitForNotification();
  return ToGrpcStatus(run->result.status);
}

grpc::Status ProfilerServiceImpl::StreamedWatch(grpc::ServerContext* ctx, WatchStreamer* stream) {
  v1::WatchRequest request;
  if (!stream->Read(&request)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no WatchRequest was received");
  }
  std::shared_ptr<RunHandle> run = manager_->Find(request.run_id());
  if (run != nullptr) {
    uint64_t from = request.live_only() ? run->log->size() : 0;
    StreamLog(ctx, run->log.get(), from, stream, absl::ZeroDuration());
    return grpc::Status::OK;
  }
  if (request.run_id().empty()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "no run is in progress: give a run id to watch a finished run");
  }
  absl::StatusOr<v1::GetRunResponse> stored = store_->GetRun(request.run_id(), v1::RunParts());
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  if (request.live_only()) return grpc::Status::OK;  // finished: nothing live will come
  for (v1::ProfileEvent& e : EventsOfStoredRun(*stored)) {
    if (!stream->Write(WireOf(std::make_shared<const LoggedEvent>(std::move(e))))) break;
  }
  return grpc::Status::OK;
}

grpc::Status ProfilerServiceImpl::CancelRun(grpc::ServerContext*, const v1::CancelRunRequest* request,
                                            v1::CancelRunResponse* response) {
  absl::StatusOr<v1::RunStatus> status =
      manager_->Cancel(request->run_id(), "cancelled by a CancelRun request");
  if (!status.ok()) return ToGrpcStatus(status.status());
  response->set_status(*status);
  return grpc::Status::OK;
}

grpc::Status ProfilerServiceImpl::ListRuns(grpc::ServerContext*, const v1::ListRunsRequest* request,
                                           v1::ListRunsResponse* response) {
  absl::StatusOr<v1::ListRunsResponse> runs = store_->ListRuns(*request);
  if (!runs.ok()) return ToGrpcStatus(runs.status());
  *response = std::move(*runs);
  return grpc::Status::OK;
}

grpc::Status ProfilerServiceImpl::GetRun(grpc::ServerContext*, const v1::GetRunRequest* request,
                                         v1::GetRunResponse* response) {
  if (request->run_id().empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "run_id is empty");
  absl::StatusOr<v1::GetRunResponse> run = store_->GetRun(request->run_id(), request->parts());
  if (!run.ok()) return ToGrpcStatus(run.status());
  *response = std::move(*run);
  return grpc::Status::OK;
}

grpc::Status ProfilerServiceImpl::CompareRuns(grpc::ServerContext*,
                                              const v1::CompareRunsRequest* request,
                                              v1::CompareRunsResponse* response) {
  if (request->run_ids_size() < 2 || request->run_ids_size() > 10) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("CompareRuns takes 2 to 10 run ids, got ", request->run_ids_size()));
  }
  v1::RunParts parts;
  parts.set_phases(true);
  std::vector<v1::GetRunResponse> runs;
  for (const std::string& id : request->run_ids()) {
    absl::StatusOr<v1::GetRunResponse> run = store_->GetRun(id, parts);
    if (!run.ok()) return ToGrpcStatus(run.status());
    runs.push_back(std::move(*run));
  }
  absl::StatusOr<v1::CompareRunsResponse> compared = daemon::CompareRuns(runs);
  if (!compared.ok()) return ToGrpcStatus(compared.status());
  *response = std::move(*compared);
  return grpc::Status::OK;
}

grpc::Status ProfilerServiceImpl::ExportRun(grpc::ServerContext* ctx, const v1::ExportRunRequest* request,
                                            grpc::ServerWriter<v1::ExportRunChunk>* writer) {
  if (request->format() == v1::EXPORT_FORMAT_UNSPECIFIED) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "ExportRun needs a format: EXPORT_FORMAT_CSV or EXPORT_FORMAT_JSON");
  }
  absl::StatusOr<v1::GetRunResponse> run = store_->GetRun(request->run_id(), request->parts());
  if (!run.ok()) return ToGrpcStatus(run.status());
  absl::StatusOr<std::vector<v1::ExportRunChunk>> chunks = ExportRunChunks(*run, request->format());
  if (!chunks.ok()) return ToGrpcStatus(chunks.status());
  for (const v1::ExportRunChunk& c : *chunks) {
    if (ctx->IsCancelled() || !writer->Write(c)) break;
  }
  return grpc::Status::OK;
}

grpc::Status ProfilerServiceImpl::DeleteRun(grpc::ServerContext*, const v1::DeleteRunRequest* request,
                                            v1::DeleteRunResponse*) {
  if (request->run_id().empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "run_id is empty");
  if (manager_->Find(request->run_id()) != nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("run ", request->run_id(),
                                     " is still queued or running: cancel it first (CancelRun)"));
  }
  return ToGrpcStatus(store_->DeleteRun(request->run_id()));
}

grpc::Status ProfilerServiceImpl::StreamPower(grpc::ServerContext* ctx,
                                              const v1::StreamPowerRequest* request,
                                              grpc::ServerWriter<v1::StreamSamplesResponse>* writer) {
  if (power_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "eprofd has no power source configured");
  }
  if (request->interval_ms() > 60'000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("interval_ms ", request->interval_ms(), " is out of range [1, 60000]"));
  }
  PowerFeedState state = power_->state();
  std::set<std::string> known;
  for (const v1::Channel& c : state.channels) known.insert(c.name());
  for (const std::string& c : request->channels()) {
    if (!state.channels.empty() && known.count(c) == 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("unknown channel '", c, "'"));
    }
  }
  std::set<std::string> wanted(request->channels().begin(), request->channels().end());
  // The feed's interval is shared with profiling runs, so it is never changed here: windows are
  // merged until they span the requested interval.
  int64_t want_ns = static_cast<int64_t>(request->interval_ms()) * 1'000'000;
  absl::Mutex mu;
  std::deque<v1::PowerSample> queue;
  uint64_t dropped = 0;
  int id = power_->AddListener(
      [&](const v1::PowerSample& s) {
        absl::MutexLock lock(&mu);
        queue.push_back(s);
        if (queue.size() > 1000) {  // a slow reader loses the oldest samples, counted
          queue.pop_front();
          ++dropped;
        }
      },
      nullptr);
  WindowMerger merger(want_ns);
  std::vector<v1::PowerSample> merged;
  for (;;) {
    if (ctx->IsCancelled()) break;
    std::deque<v1::PowerSample> batch;
    uint64_t dropped_now;
    {
      absl::MutexLock lock(&mu);
      auto ready = [&]() { return !queue.empty(); };
      mu.AwaitWithTimeout(absl::Condition(&ready), kPoll);
      batch.swap(queue);
      dropped_now = dropped;
    }
    v1::StreamSamplesResponse response;
    for (v1::PowerSample& s : batch) {
      if (!wanted.empty()) {
        auto* readings = s.mutable_readings();
        readings->erase(std::remove_if(readings->begin(), readings->end(),
                                       [&](const v1::Reading& r) { return wanted.count(r.channel()) == 0; }),
                        readings->end());
      }
      merger.Add(s, &merged);
    }
    for (v1::PowerSample& m : merged) *response.add_samples() = std::move(m);
    merged.clear();
    if (response.samples_size() == 0) continue;
    response.set_dropped_samples(dropped_now);
    response.set_interval_ns(std::max(want_ns, power_->state().interval_ns));
    if (!writer->Write(response)) break;
  }
  power_->RemoveListener(id);
  return grpc::Status::OK;
}

}  // namespace eprof::daemon
