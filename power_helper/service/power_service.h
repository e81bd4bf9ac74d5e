// PowerService (proto/eprof/v1/power.proto) over the helper's sources: a thin translation layer
// on SourceRunner. StreamSamples uses the callback API: every subscriber has a bounded queue
// (kMaxQueuedSamples) drained by asynchronous writes, so a slow reader loses its oldest samples
// (counted in dropped_samples) and never blocks the sampling thread or the other subscribers.
//
//   PowerServiceImpl service(std::move(sensors), PowerServiceOptions{});
//   options.configure = [&](grpc::ServerBuilder& b) { b.RegisterService(&service); };
//   ... UdsServer::Start(options) ...
//   service.Shutdown();   // ends every stream with UNAVAILABLE, stops every source
//   server->Shutdown();
//
// Sample numbering: `seq` counts the samples of one stream from 0 (samples lost to a full queue
// included, so a gap shows where they were). A subscriber whose interval is longer than the
// source's receives windows aggregated from whole source windows.
//
// Thread safety: thread-safe; must outlive the gRPC server it is registered with.
#ifndef EPROF_POWER_HELPER_SERVICE_POWER_SERVICE_H_
#define EPROF_POWER_HELPER_SERVICE_POWER_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "eprof/v1/power.grpc.pb.h"
#include "power_helper/service/source_runner.h"
#include "power_helper/sensors/sensor.h"

namespace eprof::power {

struct PowerServiceOptions {
  // Samples queued per subscriber before the oldest are dropped (default 1024).
  size_t max_queued_samples = 1024;
  // Samples per StreamSamplesResponse at most (default 256).
  size_t max_batch = 256;
  // A subscriber gets at most one write per this many ns (default 200 ms): shorter intervals are
  // batched, which keeps the helper's CPU cost per sample low; the latency this adds is at most
  // this spacing. 0 writes every sample at once. A gRPC write costs the helper more CPU than
  // sampling does (eprof-power-helper-bench prints both); five updates a second is still live
  // for a display, and samples carry their own timestamps. `serve --write-spacing-ms` sets it.
  int64_t min_write_spacing_ns = 200'000'000;
  Clock* clock = nullptr;  // default Clock::Real(); not owned
};

class PowerServiceImpl final : public v1::PowerService::CallbackService {
 public:
  // `sensors[0]` is the default source.
  PowerServiceImpl(std::vector<std::unique_ptr<Sensor>> sensors, PowerServiceOptions options);
  ~PowerServiceImpl() override { Shutdown(); }

  grpc::ServerUnaryReactor* Describe(grpc::CallbackServerContext* context,
                                     const v1::DescribeRequest* request,
                                     v1::DescribeResponse* response) override;
  grpc::ServerWriteReactor<v1::StreamSamplesResponse>* StreamSamples(
      grpc::CallbackServerContext* context, const v1::StreamSamplesRequest* request) override;

  // Ends every stream with UNAVAILABLE and stops every source. Idempotent.
  void Shutdown();

  // The runner of a source by name (tests), nullptr if unknown.
  SourceRunner* runner(const std::string& name);

 private:
  PowerServiceOptions options_;
  Clock* clock_;
  std::vector<std::unique_ptr<SourceRunner>> runners_;
  std::atomic<bool> shutting_down_{false};
};

// The host description part of Describe (hostname, OS, machine).
void FillHostInfo(v1::DescribeResponse* response);

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SERVICE_POWER_SERVICE_H_
