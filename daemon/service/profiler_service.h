// ProfilerService (proto/eprof/v1/profiler.proto): a thin gRPC layer that translates requests
// and delegates to the RunManager (profiling), the RunStore (stored runs), the ModelCatalog and
// the PowerFeed. Streams run on gRPC's handler threads and read the run's RunEventLog. Profile and
// Watch send each event's wire form from the log (LoggedEvent::bytes): serialized once for every
// stream, not once per stream. They are registered as "split streaming" methods with a raw
// (ByteBuffer) response, which keeps gRPC's synchronous path: in gRPC 1.51 a callback-API
// stream cost more CPU per event.
//
// Thread safety: all handlers may run concurrently.
#ifndef EPROF_DAEMON_SERVICE_PROFILER_SERVICE_H_
#define EPROF_DAEMON_SERVICE_PROFILER_SERVICE_H_

#include <string>

#include "absl/time/time.h"
#include "common/clock.h"
#include "daemon/models/model_catalog.h"
#include "daemon/power/power_feed.h"
#include "daemon/runs/run_manager.h"
#include "daemon/store/run_store.h"
#include "eprof/v1/profiler.grpc.pb.h"

namespace eprof::daemon {

struct ProfilerServiceOptions {
  // Reported by GetStatus.
  std::string version = "0.1.0";
  std::string power_socket;
  bool in_process_estimate = false;
  std::vector<std::string> devices;
  // A Profile stream waits this long after sending, so that the events of that time go out
  // together (fewer wake-ups of eprofd and of the client while the run decodes), and then until
  // the next token completes (at most as long again): between two forward passes the engine's
  // workers sleep, so the send and the client's reading take a free core. Watch streams never
  // wait. Zero: every event at once.
  absl::Duration profile_batch = absl::ZeroDuration();
};

class ProfilerServiceImpl final : public v1::ProfilerService::Service {
 public:
  ProfilerServiceImpl(ProfilerServiceOptions options, RunManager* manager,
                      const ModelCatalog* catalog, store::RunStore* store, PowerFeed* power);

  grpc::Status GetStatus(grpc::ServerContext* ctx, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* ctx, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  // Profile and Watch (see the header comment): a request in, events' wire form out.
  using ProfileStreamer = grpc::ServerSplitStreamer<v1::ProfileRequest, grpc::ByteBuffer>;
  using WatchStreamer = grpc::ServerSplitStreamer<v1::WatchRequest, grpc::ByteBuffer>;
  grpc::Status StreamedProfile(grpc::ServerContext* ctx, ProfileStreamer* stream);
  grpc::Status StreamedWatch(grpc::ServerContext* ctx, WatchStreamer* stream);
  grpc::Status CancelRun(grpc::ServerContext* ctx, const v1::CancelRunRequest* request,
                         v1::CancelRunResponse* response) override;
  grpc::Status ListRuns(grpc::ServerContext* ctx, const v1::ListRunsRequest* request,
                        v1::ListRunsResponse* response) override;
  grpc::Status GetRun(grpc::ServerContext* ctx, const v1::GetRunRequest* request,
                      v1::GetRunResponse* response) override;
  grpc::Status CompareRuns(grpc::ServerContext* ctx, const v1::CompareRunsRequest* request,
                           v1::CompareRunsResponse* response) override;
  grpc::Status ExportRun(grpc::ServerContext* ctx, const v1::ExportRunRequest* request,
                         grpc::ServerWriter<v1::ExportRunChunk>* writer) override;
  grpc::Status DeleteRun(grpc::ServerContext* ctx, const v1::DeleteRunRequest* request,
                         v1::DeleteRunResponse* response) override;
  grpc::Status StreamPower(grpc::ServerContext* ctx, const v1::StreamPowerRequest* request,
                           grpc::ServerWriter<v1::StreamSamplesResponse>* writer) override;

 private:
  // Streams `log` from `from_seq` until it closes or the client leaves; returns false if the
  // client left first.
  template <typename Streamer>
  bool StreamLog(grpc::ServerContext* ctx, RunEventLog* log, uint64_t from_seq, Streamer* stream,
                 absl::Duration batch);

  const ProfilerServiceOptions options_;
  RunManager* const manager_;
  const ModelCatalog* const catalog_;
  store::RunStore* const store_;
  PowerFeed* const power_;
  const int64_t started_ns_;
};

// The events a finished, stored run would have streamed: RunStarted, each phase's start and end,
// each token, the summary.
std::vector<v1::ProfileEvent> EventsOfStoredRun(const v1::GetRunResponse& run);

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_SERVICE_PROFILER_SERVICE_H_
