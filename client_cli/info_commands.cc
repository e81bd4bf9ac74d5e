// eprofctl models | power | status
#include <google/protobuf/util/json_util.h>
#include <signal.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client_cli/commands.h"
#include "client_cli/format.h"
#include "common/command_args.h"

namespace eprof::cli {

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = pretty;
  o.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, o);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

namespace {

bool WantsHelp(const std::vector<std::string>& argv, const char* help) {
  for (const std::string& a : argv) {
    if (a == "--help" || a == "-h") {
      std::fputs(help, stdout);
      return true;
    }
  }
  return false;
}

std::string Bytes(uint64_t b) {
  if (b >= (1ull << 30)) return absl::StrCat(Number(b / 1073741824.0), " GiB");
  if (b >= (1ull << 20)) return absl::StrCat(Number(b / 1048576.0), " MiB");
  return absl::StrCat(Number(b / 1024.0), " KiB");
}

std::string Params(uint64_t n) {
  if (n >= 1'000'000'000) return absl::StrCat(Number(n / 1e9), "B");
  if (n >= 1'000'000) return absl::StrCat(Number(n / 1e6), "M");
  return absl::StrCat(Number(n / 1e3), "K");
}

std::atomic<grpc::ClientContext*> g_power_ctx{nullptr};
void OnPowerSigint(int) {
  // TryCancel is thread-safe; from a signal handler it is the documented way out of a blocking
  // read in this simple command (the process exits right after).
  if (grpc::ClientContext* c = g_power_ctx.load()) c->TryCancel();
}

}  // namespace

constexpr char kModelsHelp[] = R"(Usage: eprofctl models [--json]

Lists the model directories under eprofd's model roots: name (what `profile -m` takes), family,
parameters, dtype, size on disk, whether it is loaded, and why it cannot be used if it cannot.
)";

int ModelsCommand(Client& client, const std::vector<std::string>& argv) {
  if (WantsHelp(argv, kModelsHelp)) return kExitOk;
  CommandArgs args;
  absl::Status s = args.Parse(argv, {{"json", 0, false}});
  if (!s.ok() || !args.positionals().empty()) return Error(kExitUsage, "usage: eprofctl models [--json]");
  auto ctx = client.UnaryContext();
  v1::ListModelsResponse resp;
  grpc::Status st = client.stub().ListModels(ctx.get(), v1::ListModelsRequest(), &resp);
  if (!st.ok()) return client.Fail(st, "models");
  if (args.Has("json")) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  if (resp.models_size() == 0) {
    std::printf("no models under eprofd's model roots (see eprofctl status; eprof-llm mkmodel makes test models)\n");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"name", "family", "params", "dtype", "size", "loaded", "problem"}};
  for (const v1::ModelInfo& m : resp.models()) {
    rows.push_back({m.name(), m.family(), Params(m.num_parameters()), m.dtype(), Bytes(m.size_bytes()),
                    m.loaded() ? "yes" : "", m.problem()});
  }
  std::fputs(Table(rows, {false, false, true, false, true, false, false}).c_str(), stdout);
  return kExitOk;
}

constexpr char kPowerHelp[] = R"(Usage: eprofctl power [--interval-ms N] [--samples N] [--json]

Live power readout through eprofd, one line per sample, until Ctrl-C (or N samples).
With --json, one JSON object per sample.
)";

int PowerCommand(Client& client, const std::vector<std::string>& argv) {
  if (WantsHelp(argv, kPowerHelp)) return kExitOk;
  CommandArgs args;
  absl::Status s = args.Parse(argv, {{"interval-ms", 0, true}, {"samples", 0, true}, {"json", 0, false}});
  if (!s.ok()) return Error(kExitUsage, absl::StrCat(s.message(), " (see eprofctl power --help)"));
  uint32_t interval = 500, samples = 0;
  if (args.Has("interval-ms") && !absl::SimpleAtoi(args.Get("interval-ms"), &interval)) {
    return Error(kExitUsage, "--interval-ms takes a whole number");
  }
  if (args.Has("samples") && !absl::SimpleAtoi(args.Get("samples"), &samples)) {
    return Error(kExitUsage, "--samples takes a whole number");
  }
  v1::StreamPowerRequest req;
  req.set_interval_ms(interval);
  grpc::ClientContext ctx;
  g_power_ctx = &ctx;
  signal(SIGINT, OnPowerSigint);
  auto reader = client.stub().StreamPower(&ctx, req);
  v1::StreamSamplesResponse resp;
  uint32_t n = 0;
  bool header = false;
  while ((samples == 0 || n < samples) && reader->Read(&resp)) {
    for (const v1::PowerSample& sample : resp.samples()) {
      if (args.Has("json")) {
        std::printf("%s\n", ToJson(sample, false).c_str());
      } else {
        if (!header) {
          std::string h = "      time";
          for (const v1::Reading& r : sample.readings()) absl::StrAppend(&h, "  ", r.channel());
          std::printf("%s\n", h.c_str());
          header = true;
        }
        std::string line = absl::StrCat(Number(sample.t_end_ns() / 1e9, 3), " s");
        for (const v1::Reading& r : sample.readings()) {
          absl::StrAppend(&line, "  ", Power(r.power_mw()), r.quality() == v1::QUALITY_ESTIMATED ? " (estimate)" : "");
        }
        std::printf("%s\n", line.c_str());
      }
      std::fflush(stdout);
      if (samples != 0 && ++n >= samples) break;
    }
  }
  ctx.TryCancel();
  grpc::Status st = reader->Finish();
  g_power_ctx = nullptr;
  signal(SIGINT, SIG_DFL);
  if (!st.ok() && st.error_code() != grpc::StatusCode::CANCELLED) return client.Fail(st, "power");
  return kExitOk;
}

constexpr char kStatusHelp[] = R"(Usage: eprofctl status [--json]

eprofd's state: version, uptime, the power helper connection and source, its channels, the run
in progress and the queue, loaded models, the database and the model roots.
)";

int StatusCommand(Client& client, const std::vector<std::string>& argv) {
  if (WantsHelp(argv, kStatusHelp)) return kExitOk;
  CommandArgs args;
  absl::Status s = args.Parse(argv, {{"json", 0, false}});
  if (!s.ok() || !args.positionals().empty()) return Error(kExitUsage, "usage: eprofctl status [--json]");
  auto ctx = client.UnaryContext();
  v1::GetStatusResponse r;
  grpc::Status st = client.stub().GetStatus(ctx.get(), v1::GetStatusRequest(), &r);
  if (!st.ok()) return client.Fail(st, "status");
  if (args.Has("json")) {
    std::printf("%s\n", ToJson(r).c_str());
    return kExitOk;
  }
  std::printf("eprofd %s  pid %u  user %s  up %s\n", r.version().c_str(), r.pid(), r.user().c_str(),
              Duration(static_cast<int64_t>(r.uptime_s() * 1e9)).c_str());
  std::printf("socket %s\n", client.socket().c_str());
  const v1::PowerHelperStatus& p = r.power();
  if (p.in_process_estimate()) {
    std::printf("power  in-process ESTIMATE (the helper at %s is not reachable)\n", p.socket().c_str());
  } else if (p.connected()) {
    std::printf("power  helper at %s, source %s\n", p.socket().c_str(), p.source().c_str());
  } else {
    std::printf("power  NOT CONNECTED: %s\n", p.error().c_str());
  }
  for (const v1::Channel& c : p.channels()) {
    std::printf("       %-12s %s%s\n", c.name().c_str(), QualityLabel(c.quality()).c_str(),
                c.description().empty() ? "" : absl::StrCat("  ", c.description()).c_str());
  }
  if (r.has_current_run()) {
    const v1::CurrentRun& c = r.current_run();
    std::printf("run    %s  model %s  %s  %u/%u tokens\n", c.run_id().c_str(), c.model().c_str(),
                PhaseName(c.phase()).c_str(), c.tokens_generated(), c.max_new_tokens());
  } else {
    std::printf("run    none in progress\n");
  }
  if (r.queued_runs() > 0) std::printf("queue  %u waiting\n", r.queued_runs());
  std::string loaded;
  for (const std::string& m : r.loaded_models()) absl::StrAppend(&loaded, loaded.empty() ? "" : ", ", m);
  std::printf("models loaded: %s\n", loaded.empty() ? "none" : loaded.c_str());
  std::string roots;
  for (const std::string& m : r.model_roots()) absl::StrAppend(&roots, roots.empty() ? "" : ", ", m);
  std::printf("model roots: %s\ndatabase %s\n", roots.c_str(), r.database_path().c_str());
  return kExitOk;
}

}  // namespace eprof::cli
