// eprof-power-helper: the root helper that reads the machine's power sensors.
//
//   eprof-power-helper serve [--socket PATH] [--allow-uid U[,U]] [--allow-gid G[,G]]
//                            [--socket-mode 0660] [--socket-group G] [--source S]
//                            [--sysfs-root DIR] [--proc-root DIR] [--tdp-w W] [--idle-w W] [--fast]
//                            [--powermetrics-path PATH] [--log-level L]
//   eprof-power-helper probe [--source S] [--samples N|all] [--interval-ms M] [--fast] [--json]
//
// S: auto | rapl | nvml | hwmon | estimate | powermetrics | replay:FILE. Flags live only here.
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/command_args.h"
#include "common/logging.h"
#include "common/process_init.h"
#include "common/socket_activation.h"
#include "common/uds_server.h"
#include "power_helper/probe.h"
#include "power_helper/sensors/factory.h"
#include "power_helper/service/power_service.h"

namespace eprof::power {
namespace {

constexpr char kUsage[] =
    "usage: eprof-power-helper serve [--socket PATH] [--allow-uid U[,U..]] [--allow-gid G[,G..]]\n"
    "                                [--socket-mode MODE] [--socket-group G] [--source S]\n"
    "                                [--sysfs-root DIR]\n"
    "                                [--proc-root DIR] [--tdp-w W] [--idle-w W] [--fast]\n"
    "                                [--powermetrics-path PATH] [--log-level LEVEL]\n"
    "                                [--write-spacing-ms MS]  (default 200: short intervals are\n"
    "                                 batched, at most one write per MS to each subscriber)\n"
    "  --socket-group G: group (name or gid) given the socket file, so that with mode 0660 its\n"
    "                    members may connect; default: the helper's own group\n"
    "       eprof-power-helper probe [--source S] [--samples N|all] [--interval-ms M] [--fast]\n"
    "                                [--json] [--sysfs-root DIR] [--proc-root DIR] ...\n"
    "S: auto | rapl | nvml | hwmon | estimate | powermetrics | replay:FILE\n";

int Fail(const std::string& message) {
  std::cerr << "eprof-power-helper: " << message << "\n";
  return 2;
}

// Parses a subcommand's flags (--name value, --name=value; switches take no value). Returns
// false, having printed what is wrong or (for --help) the usage, with the exit status in *exit.
bool ParseCommand(int argc, char** argv, const std::vector<std::string>& with_values,
                  const std::vector<std::string>& switches, CommandArgs* args, int* exit) {
  std::vector<OptionSpec> specs;
  for (const std::string& n : with_values) specs.push_back({n, 0, true});
  for (const std::string& n : switches) specs.push_back({n, 0, false});
  absl::Status s = args->Parse(argc, argv, specs);
  if (s.ok()) s = args->NoPositionals();
  if (!s.ok()) {
    *exit = Fail(absl::StrCat(s.message(), "\n", kUsage));
    return false;
  }
  if (args->Has("help")) {
    std::cout << kUsage;
    *exit = 0;
    return false;
  }
  return true;
}

absl::StatusOr<SourceOptions> SourceOptionsFrom(const CommandArgs& f) {
  SourceOptions o;
  o.source = f.Get("source", "auto");
  o.sysfs_root = f.Get("sysfs-root", "/sys");
  o.proc_root = f.Get("proc-root", "/proc");
  o.powermetrics_path = f.Get("powermetrics-path", "");
  o.fast = f.Has("fast");
  if (!absl::SimpleAtod(f.Get("tdp-w", "65"), &o.tdp_w) ||
      !absl::SimpleAtod(f.Get("idle-w", "10"), &o.idle_w)) {
    return absl::InvalidArgumentError("--tdp-w and --idle-w take watts, e.g. --tdp-w 45");
  }
  return o;
}

absl::Status ApplyLogLevel(const CommandArgs& f) {
  if (!f.Has("log-level")) return absl::OkStatus();
  absl::StatusOr<LogLevel> level = ParseLogLevel(f.Get("log-level", "info"));
  if (!level.ok()) return level.status();
  SetMinLogLevel(*level);
  return absl::OkStatus();
}

const std::vector<std::string> kSourceFlags = {"source", "sysfs-root", "proc-root", "tdp-w",
                                               "idle-w", "powermetrics-path", "log-level"};

int Probe(int argc, char** argv) {
  std::vector<std::string> known = kSourceFlags;
  known.insert(known.end(), {"samples", "interval-ms"});
  CommandArgs args;
  const CommandArgs* f = &args;
  if (int exit = 0; !ParseCommand(argc, argv, known, {"fast", "json"}, &args, &exit)) return exit;
  if (absl::Status s = ApplyLogLevel(*f); !s.ok()) return Fail(std::string(s.message()));
  absl::StatusOr<SourceOptions> so = SourceOptionsFrom(*f);
  if (!so.ok()) return Fail(std::string(so.status().message()));
  so->powermetrics_require_root = so->powermetrics_path.empty();
  ProbeOptions po;
  po.json = f->Has("json");
  std::string samples = f->Get("samples", "5");
  if (samples == "all") {
    po.samples = -1;
  } else if (!absl::SimpleAtoi(samples, &po.samples) || po.samples < 1) {
    return Fail("--samples takes a positive count or \"all\"");
  }
  if (!absl::SimpleAtoi(f->Get("interval-ms", "0"), &po.interval_ms) || po.interval_ms < 0 ||
      po.interval_ms > 60000) {
    return Fail("--interval-ms takes milliseconds in [1, 60000]");
  }
  absl::StatusOr<std::vector<std::unique_ptr<Sensor>>> sensors = CreateSensors(*so);
  if (!sensors.ok()) return Fail(std::string(sensors.status().message()));
  return RunProbe(*sensors, po, std::cout, po.json ? std::cerr : std::cout);
}

// "1000,1001" or names → ids.
absl::Status ParseIds(const std::vector<std::string>& values, bool gid, std::set<uint32_t>* out) {
  for (const std::string& v : values) {
    for (absl::string_view part : absl::StrSplit(v, ',', absl::SkipEmpty())) {
      uint32_t id = 0;
      if (absl::SimpleAtoi(part, &id)) {
        out->insert(id);
        continue;
      }
      std::string name(part);
      if (gid) {
        group* g = getgrnam(name.c_str());
        if (g == nullptr) return absl::InvalidArgumentError(absl::StrCat("no group \"", name, "\""));
        out->insert(g->gr_gid);
      } else {
        passwd* p = getpwnam(name.c_str());
        if (p == nullptr) return absl::InvalidArgumentError(absl::StrCat("no user \"", name, "\""));
        out->insert(p->pw_uid);
      }
    }
  }
  return absl::OkStatus();
}

int Serve(int argc, char** argv) {
  std::vector<std::string> known = kSourceFlags;
  known.insert(known.end(), {"socket", "allow-uid", "allow-gid", "socket-mode", "socket-group",
                             "write-spacing-ms"});
  CommandArgs args;
  const CommandArgs* f = &args;
  if (int exit = 0; !ParseCommand(argc, argv, known, {"fast"}, &args, &exit)) return exit;
  if (absl::Status s = ApplyLogLevel(*f); !s.ok()) return Fail(std::string(s.message()));
  absl::StatusOr<SourceOptions> so = SourceOptionsFrom(*f);
  if (!so.ok()) return Fail(std::string(so.status().message()));
  so->powermetrics_require_root = true;

  UdsServerOptions uds;
  uds.server_name = "eprof-power-helper";
  uds.socket_path = f->Get("socket", "/var/run/eprof/power.sock");
  unsigned long mode = 0;
  char* end = nullptr;
  std::string mode_text = f->Get("socket-mode", "0660");
  mode = std::strtoul(mode_text.c_str(), &end, 8);
  if (end == mode_text.c_str() || *end != '\0' || mode > 0777) {
    return Fail("--socket-mode takes an octal mode such as 0660");
  }
  uds.socket_mode = static_cast<mode_t>(mode);
  std::set<uint32_t> uids, gids;
  if (absl::Status s = ParseIds(f->GetAll("allow-uid"), false, &uids); !s.ok()) {
    return Fail(absl::StrCat("--allow-uid: ", s.message()));
  }
  if (absl::Status s = ParseIds(f->GetAll("allow-gid"), true, &gids); !s.ok()) {
    return Fail(absl::StrCat("--allow-gid: ", s.message()));
  }
  if (f->Has("socket-group")) {
    std::set<uint32_t> group;
    if (absl::Status s = ParseIds({f->Get("socket-group")}, true, &group);
        !s.ok() || group.size() != 1) {
      return Fail(absl::StrCat("--socket-group takes one group name or gid",
                               s.ok() ? "" : absl::StrCat(": ", s.message())));
    }
    uds.socket_gid = static_cast<gid_t>(*group.begin());
  }
  uds.policy.allow_root = true;
  uds.policy.allowed_uids.insert(uids.begin(), uids.end());
  uds.policy.allowed_gids.insert(gids.begin(), gids.end());
  absl::StatusOr<int> activated = TakeActivatedListenFd("Listeners");
  if (!activated.ok()) return Fail(std::string(activated.status().message()));
  uds.listen_fd = *activated;

  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::vector<std::unique_ptr<Sensor>>> sensors = CreateSensors(*so);
  if (!sensors.ok()) return Fail(std::string(sensors.status().message()));
  for (const auto& s : *sensors) {
    v1::Source d = s->Describe();
    EPROF_LOG(INFO) << "source " << d.name() << ": "
                    << (d.available() ? "available, " + std::to_string(d.channels_size()) +
                                            " channels"
                                      : "unavailable: " + d.unavailable_reason());
  }
  PowerServiceOptions service_options;
  int64_t spacing_ms = 0;
  if (!absl::SimpleAtoi(f->Get("write-spacing-ms", "200"), &spacing_ms) || spacing_ms < 0 ||
      spacing_ms > 1000) {
    return Fail("--write-spacing-ms takes 0-1000 (ms between writes to one subscriber; 0 writes "
                "every sample at once)");
  }
  service_options.min_write_spacing_ns = spacing_ms * 1'000'000;
  PowerServiceImpl service(*std::move(sensors), service_options);
  uds.configure = [&](grpc::ServerBuilder& b) {
    b.RegisterService(&service);
  };
  absl::StatusOr<std::unique_ptr<UdsServer>> server = UdsServer::Start(std::move(uds));
  if (!server.ok()) {  // the server's messages begin with its name already
    return Fail(std::string(absl::StripPrefix(server.status().message(), "eprof-power-helper: ")));
  }
  EPROF_LOG(INFO) << "serving on " << (*server)->socket_path() << " (allowed: "
                  << "root" << (uids.empty() ? "" : ", uids") << (gids.empty() ? "" : ", gids")
                  << ")";
  int sig = 0;
  sigwait(&signals, &sig);
  EPROF_LOG(INFO) << "signal " << sig << ": stopping";
  service.Shutdown();
  (*server)->Shutdown(absl::Seconds(2));
  return 0;
}

}  // namespace
}  // namespace eprof::power

int main(int argc, char** argv) {
  eprof::InitProcess("eprof-power-helper");
  if (argc < 2) {
    std::cerr << eprof::power::kUsage;
    return 2;
  }
  std::string command = argv[1];
  if (command == "serve") return eprof::power::Serve(argc - 2, argv + 2);
  if (command == "probe") return eprof::power::Probe(argc - 2, argv + 2);
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << eprof::power::kUsage;
    return 0;
  }
  std::cerr << "eprof-power-helper: unknown command \"" << command << "\"\n" << eprof::power::kUsage;
  return 2;
}
