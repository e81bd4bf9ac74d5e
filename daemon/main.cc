// eprofd: the eprof daemon. Loads models with eprof's engine, runs profiled generations,
// attributes energy from the power helper's samples, stores runs in SQLite and serves the
// ProfilerService (proto/eprof/v1/profiler.proto) on a Unix socket, where every peer's uid is
// checked (eprofctl directly; the browser through eprof-web, which runs as the same user).
//
//   eprofd --model-root ~/models
//   eprofd --help
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "common/flags_main.h"
#include "common/logging.h"
#include "common/paths.h"
#include "common/process_init.h"
#include "common/socket_activation.h"
#include "common/uds_server.h"
#include "daemon/backend/engine_backend.h"
#include "daemon/models/model_catalog.h"
#include "daemon/power/sensor_feed.h"
#include "daemon/profiler/interrupted_runs.h"
#include "power_helper/sensors/estimate_sensor.h"
#include "daemon/power/power_client.h"
#include "daemon/service/metrics.h"
#include "daemon/service/profiler_service.h"
#include "daemon/runs/run_manager.h"
#include "daemon/store/run_store.h"

ABSL_FLAG(std::string, socket, "",
          "Unix socket to serve the ProfilerService on (default $XDG_RUNTIME_DIR/eprof/eprofd.sock, "
          "or $TMPDIR/eprof-$UID/eprofd.sock, in a directory eprofd makes with mode 0700 and "
          "refuses to use when another user made it). eprofctl finds it there too.");
ABSL_FLAG(std::vector<std::string>, allow_uid, {},
          "Further uids allowed to use the socket, comma-separated (the daemon's own uid and root "
          "always are). The socket's directory then lets others through (0711) and the socket "
          "accepts any connection, which eprofd closes unless the peer's uid is allowed.");
ABSL_FLAG(std::vector<std::string>, allow_gid, {},
          "Gids whose members may use the socket, comma-separated; as --allow-uid.");
ABSL_FLAG(int32_t, max_connections_per_user, 128,
          "Connections one user (uid) may hold open to eprofd at once (1-100000); more are "
          "closed as they come, so one user cannot use up eprofd's file descriptors.");
ABSL_FLAG(std::string, db, "",
          "SQLite database of runs (default $EPROF_DB, else eprof.db in the data directory: "
          "$XDG_DATA_HOME/eprof, else ~/.local/share/eprof; on macOS "
          "~/Library/Application Support/eprof).");
ABSL_FLAG(std::vector<std::string>, model_root, {},
          "Directories holding Hugging Face model directories, comma-separated (default "
          "$EPROF_MODELS, else models/ in the data directory, beside eprof.db). Requests name models "
          "relative to these.");
ABSL_FLAG(std::string, power_socket, eprof::kDefaultPowerSocket,
          "Socket of eprof-power-helper.");
ABSL_FLAG(std::string, power_fallback, "none",
          "What to do when the power helper cannot be reached: 'none' (runs have timings and no "
          "energy, with a warning) or 'estimate' (an in-process estimate from CPU utilisation x "
          "--estimate-tdp-w, labelled ESTIMATED everywhere).");
ABSL_FLAG(double, estimate_tdp_w, 15.0, "CPU power at full load for --power-fallback=estimate, W.");
ABSL_FLAG(double, estimate_idle_w, 3.0, "CPU power at idle for --power-fallback=estimate, W.");
ABSL_FLAG(int, power_interval_ms, 100, "Default power sample interval for runs, ms.");
ABSL_FLAG(int, max_new_tokens, 4096, "Largest max_new_tokens a request may ask for.");
ABSL_FLAG(int, max_queued, 4,
          "Profile requests that may wait while one runs; more get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, model_cache_mb, 8192, "Memory for keeping loaded models between runs, MiB.");
ABSL_FLAG(std::string, device, "cpu", "Device for requests that name none: cpu, cuda, cuda:N, mps.");
ABSL_FLAG(int32_t, inference_nice, 0,
          "Nice value of the threads that run the model, 0-19 (Linux; default 0). Above 0, live "
          "views' clients get a core sooner, but decode also stops for anything else that "
          "wakes; --inference-yield-us serves the live views without that cost.");
ABSL_FLAG(int32_t, inference_yield_us, 500,
          "The threads that run the model offer their core (sched_yield) to a thread waiting "
          "for it at least this often, in microseconds, between pieces of a matrix product "
          "(0-100000, 0: never; default 500), so that live views' events do not wait for the "
          "scheduler's next tick.");
ABSL_FLAG(int32_t, profile_batch_ms, 100,
          "A Profile stream (the run's own client, e.g. eprofctl profile) sends the events of "
          "this many ms together, just after the next token completes (0-1000, 0: each at "
          "once; default 100): fewer sends take less CPU from the run. Watch streams always "
          "send each event at once.");
ABSL_FLAG(double, grid_intensity, 400.0,
          "Carbon intensity of the electricity used, g CO2e per kWh, for the carbon estimate.");
ABSL_FLAG(int32_t, metrics_port, 0,
          "Serve Prometheus metrics on 127.0.0.1:PORT/metrics (1-65535; 0, the default: off): "
          "energy, tokens and runs of finished runs, current power, the helper's state, the "
          "queue.");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error.");

namespace eprof::daemon {
namespace {

absl::Notification* g_stop = nullptr;

void OnSignal(int) {
  // Async-signal-safe: only notify; the main thread does the work.
  if (g_stop != nullptr && !g_stop->HasBeenNotified()) g_stop->Notify();
}

absl::StatusOr<std::set<uint32_t>> ParseIds(const std::vector<std::string>& values, const char* flag) {
  std::set<uint32_t> ids;
  for (const std::string& v : values) {
    uint32_t id = 0;
    if (!absl::SimpleAtoi(v, &id)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", v, "' is not a number"));
    }
    ids.insert(id);
  }
  return ids;
}

int Main() {
  InitProcess("eprofd");
  absl::StatusOr<LogLevel> level = ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) {
    EPROF_LOG(ERROR) << "--log-level: " << level.status().message();
    return 2;
  }
  SetMinLogLevel(*level);

  std::string fallback = absl::GetFlag(FLAGS_power_fallback);
  if (fallback != "none" && fallback != "estimate") {
    EPROF_LOG(ERROR) << "--power-fallback must be 'none' or 'estimate', not '" << fallback << "'";
    return 2;
  }
  const int32_t inference_nice = absl::GetFlag(FLAGS_inference_nice);
  if (inference_nice < 0 || inference_nice > 19) {
    EPROF_LOG(ERROR) << "--inference-nice " << inference_nice
                     << " is outside 0-19 (an unprivileged eprofd can only lower its priority)";
    return 2;
  }
  const int32_t inference_yield_us = absl::GetFlag(FLAGS_inference_yield_us);
  if (inference_yield_us < 0 || inference_yield_us > 100000) {
    EPROF_LOG(ERROR) << "--inference-yield-us " << inference_yield_us
                     << " is outside 0-100000 (0 turns the yields off)";
    return 2;
  }
  const int32_t profile_batch_ms = absl::GetFlag(FLAGS_profile_batch_ms);
  if (profile_batch_ms < 0 || profile_batch_ms > 1000) {
    EPROF_LOG(ERROR) << "--profile-batch-ms " << profile_batch_ms << " is outside 0-1000";
    return 2;
  }
  const int32_t max_connections = absl::GetFlag(FLAGS_max_connections_per_user);
  if (max_connections < 1 || max_connections > 100000) {
    EPROF_LOG(ERROR) << "--max-connections-per-user " << max_connections << " is outside 1-100000";
    return 2;
  }
  auto uids = ParseIds(absl::GetFlag(FLAGS_allow_uid), "allow-uid");
  auto gids = ParseIds(absl::GetFlag(FLAGS_allow_gid), "allow-gid");
  if (!uids.ok() || !gids.ok()) {
    EPROF_LOG(ERROR) << (!uids.ok() ? uids.status() : gids.status()).message();
    return 2;
  }

  std::string db_path = store::RunStore::ResolvePath(absl::GetFlag(FLAGS_db));
  // One database, one daemon: a second eprofd on it would mark the first one's live run
  // interrupted. The lock is held until exit.
  absl::StatusOr<std::unique_ptr<store::RunStore>> store = store::RunStore::Open(db_path);
  if (!store.ok()) {
    EPROF_LOG(ERROR) << store.status().message();
    return 1;
  }
  if (absl::StatusOr<int> n =
          FinishInterruptedRuns(store->get(), absl::GetFlag(FLAGS_grid_intensity));
      !n.ok()) {
    EPROF_LOG(WARNING) << "could not rebuild the figures of runs a previous eprofd left "
                       << "unfinished: " << n.status().message();
  } else if (*n > 0) {
    EPROF_LOG(WARNING) << *n << " run(s) left running by a previous eprofd were marked "
                       << "interrupted, their figures rebuilt from what was saved";
  }
  if (absl::StatusOr<int> n = (*store)->MarkUnfinishedInterrupted(); !n.ok()) {
    EPROF_LOG(WARNING) << "could not mark the runs a previous eprofd left running as interrupted "
                       << "(they still show as running): " << n.status().message();
  } else if (*n > 0) {
    EPROF_LOG(WARNING) << *n << " run(s) left running by a previous eprofd were marked interrupted";
  }

  std::vector<std::string> roots = absl::GetFlag(FLAGS_model_root);
  if (roots.empty()) {
    const char* env = std::getenv("EPROF_MODELS");
    if (env != nullptr && *env != '\0') {
      roots = absl::StrSplit(env, ':', absl::SkipEmpty());
    } else {
      roots = {DefaultDataDir() + "/models"};
    }
  }
  ModelCatalog catalog(roots);

  // Power: the helper, or with --power-fallback=estimate an in-process estimate while it is away.
  PowerClientOptions power_options;
  power_options.socket_path = absl::GetFlag(FLAGS_power_socket);
  power_options.interval_ms = static_cast<uint32_t>(absl::GetFlag(FLAGS_power_interval_ms));
  auto client = std::make_unique<PowerClient>(power_options);
  client->Start();
  std::unique_ptr<SensorFeed> estimate;
  PowerFeed* power = client.get();
  if (!client->WaitUntilConnected(absl::Seconds(2))) {
    std::string why = client->state().error;
    if (fallback == "estimate") {
      power::EstimateSensorOptions eo;
      eo.tdp_w = absl::GetFlag(FLAGS_estimate_tdp_w);
      eo.idle_w = absl::GetFlag(FLAGS_estimate_idle_w);
      absl::StatusOr<std::unique_ptr<SensorFeed>> feed =
          SensorFeed::Start(power::EstimateSensor::Create(eo), power_options.interval_ms);
      if (!feed.ok()) {
        EPROF_LOG(ERROR) << "--power-fallback=estimate: " << feed.status().message();
        return 1;
      }
      estimate = std::move(*feed);
      power = estimate.get();
      client->Stop();
      EPROF_LOG(WARNING) << why << "; using an in-process ESTIMATE of power instead";
    } else {
      EPROF_LOG(WARNING) << why << "; runs will have no energy until it is reachable "
                         << "(or start eprofd with --power-fallback=estimate)";
    }
  }

  const int32_t metrics_port = absl::GetFlag(FLAGS_metrics_port);
  if (metrics_port < 0 || metrics_port > 65535) {
    EPROF_LOG(ERROR) << "--metrics-port " << metrics_port << " is outside 0-65535 (0 = off)";
    return 2;
  }
  RunManager* manager_ptr = nullptr;  // set below; read by the metrics' gauges at scrapes
  std::unique_ptr<DaemonMetrics> metrics;
  if (metrics_port > 0) {
    MetricsOptions mo;
    mo.port = metrics_port;
    mo.power = power;
    mo.queue_length = [&manager_ptr] { return manager_ptr ? manager_ptr->queued() : size_t{0}; };
    mo.run_in_progress = [&manager_ptr] { return manager_ptr && manager_ptr->current() != nullptr; };
    absl::StatusOr<std::unique_ptr<DaemonMetrics>> m = DaemonMetrics::Start(mo);
    if (!m.ok()) {
      EPROF_LOG(ERROR) << m.status().message();
      return 1;
    }
    metrics = std::move(*m);
    EPROF_LOG(INFO) << "Prometheus metrics on http://127.0.0.1:" << metrics->port() << "/metrics";
  }

  EngineBackend backend(absl::GetFlag(FLAGS_device),
                        InferenceScheduling{.nice = inference_nice,
                                            .yield_every_us = inference_yield_us});
  RunManagerOptions manager_options;
  manager_options.max_queued = static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_max_queued)));
  manager_options.max_new_tokens_cap = static_cast<uint32_t>(std::max(1, absl::GetFlag(FLAGS_max_new_tokens)));
  manager_options.model_cache_bytes = static_cast<uint64_t>(std::max(0, absl::GetFlag(FLAGS_model_cache_mb))) << 20;
  manager_options.default_device = absl::GetFlag(FLAGS_device);
  manager_options.run.grid_intensity_g_per_kwh = absl::GetFlag(FLAGS_grid_intensity);
  manager_options.run.default_power_interval_ms = power_options.interval_ms;
  if (metrics != nullptr) {
    store::RunStore* run_store = store->get();
    manager_options.on_run_finished = [&metrics, run_store](const v1::RunSummary& summary) {
      v1::RunParts parts;
      parts.set_phases(true);
      absl::StatusOr<v1::GetRunResponse> run = run_store->GetRun(summary.run_id(), parts);
      std::vector<v1::PhaseRecord> phases;
      if (run.ok()) phases.assign(run->phases().begin(), run->phases().end());
      metrics->RecordRun(summary, phases);
    };
  }
  RunManager manager(manager_options, &backend, &catalog, store->get(), power, Clock::Real(),
                     EngineBackend::BesideExecutor());
  manager_ptr = &manager;

  ProfilerServiceOptions service_options;
  service_options.power_socket = power_options.socket_path;
  service_options.in_process_estimate = estimate != nullptr;
  service_options.devices = backend.Devices();
  service_options.profile_batch = absl::Milliseconds(profile_batch_ms);
  ProfilerServiceImpl service(service_options, &manager, &catalog, store->get(), power);

  UdsServerOptions uds;
  uds.server_name = "eprofd";
  const bool default_socket = absl::GetFlag(FLAGS_socket).empty();
  uds.socket_path = default_socket ? DefaultDaemonSocket(/*use_env=*/false)
                                   : absl::GetFlag(FLAGS_socket);
  for (uint32_t u : *uids) uds.policy.allowed_uids.insert(u);
  for (uint32_t g : *gids) uds.policy.allowed_gids.insert(g);
  const bool shared = !uids->empty() || !gids->empty();
  // Private by default: only this user (and root) can reach the socket. Allow-listed users
  // need to pass the directory (0711: not list or create in it) and connect to the socket;
  // the peer check then decides who is served.
  uds.socket_mode = shared ? 0666 : 0600;
  uds.directory_mode = shared ? 0711 : 0700;
  uds.set_directory_mode = default_socket;  // never chmod a directory the user named
  uds.max_connections_per_uid = max_connections;
  absl::StatusOr<int> activated = TakeActivatedListenFd();
  if (!activated.ok()) {
    EPROF_LOG(ERROR) << activated.status().message();
    return 1;
  }
  uds.listen_fd = *activated;
  uds.configure = [&](grpc::ServerBuilder& builder) {
    builder.RegisterService(&service);
    // Above the largest valid request (a 1 MiB prompt), so that a longer prompt gets eprofd's
    // own message naming the limit rather than gRPC's.
    builder.SetMaxReceiveMessageSize(16 << 20);
  };
  absl::StatusOr<std::unique_ptr<UdsServer>> server = UdsServer::Start(std::move(uds));
  if (!server.ok()) {
    EPROF_LOG(ERROR) << server.status().message();
    return 1;
  }
  EPROF_LOG(INFO) << "eprofd ready: database " << db_path << ", models under "
                  << absl::StrJoin(roots, ", ");

  absl::Notification stop;
  g_stop = &stop;
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  stop.WaitForNotification();
  EPROF_LOG(INFO) << "stopping: cancelling and saving the current run";
  manager.Shutdown("eprofd is shutting down (SIGTERM)");
  (*server)->Shutdown(absl::Seconds(2));
  client->Stop();
  EPROF_LOG(INFO) << "stopped";
  return 0;
}

}  // namespace
}  // namespace eprof::daemon

int main(int argc, char** argv) {
  eprof::ParseCommandLineWithDashes(
      argc, argv,
      "the eprof daemon. Runs profiled LLM generations and serves their energy "
      "figures.\n\nUsage: eprofd [flags]\n\nEvery flag is listed below; write them with dashes "
      "or underscores (--model-root or --model_root). --helpfull also lists the libraries' own.",
      "daemon/main.cc");
  return eprof::daemon::Main();
}
