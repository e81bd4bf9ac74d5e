// eprofctl runs list | show | compare | export | rm
#include <google/protobuf/util/json_util.h>
#include <time.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client_cli/commands.h"
#include "client_cli/format.h"
#include "client_cli/summary_view.h"
#include "common/command_args.h"

namespace eprof::cli {
namespace {

constexpr char kRunsHelp[] = R"(Usage: eprofctl runs COMMAND [options]

  list [--model M] [--tag T]… [--experiment E] [--since WHEN] [--sort KEY] [--asc] [--limit N] [--json]
        WHEN: a date (2026-11-20) or an age (30m, 6h, 7d). KEY: created (default), energy,
        jpt (joules per token), tps (decode tokens/s), model.
  ID is a run id as runs list prints it, or any unique start of one (e.g. its first 8 digits).
  show ID [--json]                 the run's summary, generated text, phase table and per-token
                                   energy sparkline
  compare ID ID… [--json]          2 to 10 runs side by side, with differences to the first
  export ID --format csv|json [-o FILE]   the whole run (to standard output without -o)
  rm ID… [--json]                  delete runs and everything recorded for them
)";

// "2026-11-20" or "30m" / "6h" / "7d" → ms since the epoch.
bool ParseSince(const std::string& text, int64_t* unix_ms) {
  if (text.size() >= 2 && std::isdigit(static_cast<unsigned char>(text[0])) && std::isalpha(static_cast<unsigned char>(text.back()))) {
    int64_t n;
    if (!absl::SimpleAtoi(text.substr(0, text.size() - 1), &n)) return false;
    int64_t unit = text.back() == 'm' ? 60'000 : text.back() == 'h' ? 3'600'000 : text.back() == 'd' ? 86'400'000 : 0;
    if (unit == 0) return false;
    *unix_ms = absl::ToUnixMillis(absl::Now()) - n * unit;
    return true;
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::LocalTimeZone(), &t, &err)) return false;
  *unix_ms = absl::ToUnixMillis(t);
  return true;
}

// Resolves what the user typed — a whole run id or any unique start of one, as git does — into
// the run's id. Returns kExitOk, or the exit code after saying what was wrong (no run, or the
// runs an ambiguous prefix matches).
int ResolveRunId(Client& client, const std::string& given, std::string* id) {
  if (given.size() == 32 || given.empty()) {  // whole ids go straight to eprofd
    *id = given;
    return kExitOk;
  }
  std::string prefix = absl::AsciiStrToLower(given);
  for (char c : prefix) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return Error(kExitUsage, absl::StrCat("'", given, "' is not a run id (hex digits, as "
                                            "eprofctl runs list prints them)"));
    }
  }
  v1::ListRunsRequest req;
  req.set_id_prefix(prefix);
  req.set_page_size(10);
  auto ctx = client.UnaryContext();
  v1::ListRunsResponse resp;
  grpc::Status st = client.stub().ListRuns(ctx.get(), req, &resp);
  if (!st.ok()) return client.Fail(st, absl::StrCat("run ", given));
  if (resp.runs_size() == 0) {
    return Error(kExitNotFound, absl::StrCat("no run id starts with '", given,
                                             "' (see eprofctl runs list)"));
  }
  if (resp.total_count() > 1) {
    std::string matches;
    for (const v1::RunSummary& r : resp.runs()) {
      absl::StrAppend(&matches, "\n  ", r.run_id(), "  ", Timestamp(r.created_at_unix_ms()), "  ",
                      r.model().name());
    }
    if (resp.total_count() > static_cast<uint32_t>(resp.runs_size())) {
      absl::StrAppend(&matches, "\n  (and ", resp.total_count() - resp.runs_size(), " more)");
    }
    return Error(kExitUsage, absl::StrCat("run id prefix '", given, "' is ambiguous: it matches ",
                                          resp.total_count(), " runs; give more of the id:",
                                          matches));
  }
  *id = resp.runs(0).run_id();
  return kExitOk;
}

int List(Client& client, const std::vector<std::string>& argv) {
  CommandArgs args;
  absl::Status s = args.Parse(argv, {{"model", 'm', true}, {"tag", 0, true}, {"experiment", 0, true},
                                     {"since", 0, true}, {"sort", 0, true}, {"asc", 0, false},
                                     {"limit", 0, true}, {"json", 0, false}});
  if (!s.ok()) return Error(kExitUsage, absl::StrCat(s.message(), " (see eprofctl runs --help)"));
  v1::ListRunsRequest req;
  req.set_model(args.Get("model"));
  for (const std::string& t : args.GetAll("tag")) req.add_tags(t);
  req.set_experiment(args.Get("experiment"));
  if (args.Has("since")) {
    int64_t ms;
    if (!ParseSince(args.Get("since"), &ms)) {
      return Error(kExitUsage, "--since takes a date (2026-11-20) or an age (30m, 6h, 7d)");
    }
    req.set_since_unix_ms(ms);
  }
  std::string sort = args.Get("sort", "created");
  if (sort == "created") req.set_sort(v1::RUN_SORT_CREATED_AT);
  else if (sort == "energy") req.set_sort(v1::RUN_SORT_TOTAL_ENERGY);
  else if (sort == "jpt") req.set_sort(v1::RUN_SORT_JOULES_PER_TOKEN);
  else if (sort == "tps") req.set_sort(v1::RUN_SORT_DECODE_TOKENS_PER_S);
  else if (sort == "model") req.set_sort(v1::RUN_SORT_MODEL);
  else return Error(kExitUsage, "--sort takes created, energy, jpt, tps or model");
  req.set_ascending(args.Has("asc"));
  uint32_t limit = 20;
  if (args.Has("limit") && (!absl::SimpleAtoi(args.Get("limit"), &limit) || limit == 0 || limit > 1000)) {
    return Error(kExitUsage, "--limit takes a number from 1 to 1000");
  }
  req.set_page_size(limit);
  auto ctx = client.UnaryContext();
  v1::ListRunsResponse resp;
  grpc::Status st = client.stub().ListRuns(ctx.get(), req, &resp);
  if (!st.ok()) return client.Fail(st, "runs list");
  if (args.Has("json")) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  if (resp.runs_size() == 0) {
    std::printf("no runs%s\n", req.ByteSizeLong() > 4 ? " match" : " yet: try eprofctl profile");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"id", "created", "model", "status", "tokens", "J/token", "decode tok/s", "energy", "tags"}};
  for (const v1::RunSummary& r : resp.runs()) {
    std::string tags;
    for (const std::string& t : r.tags()) absl::StrAppend(&tags, tags.empty() ? "" : ",", t);
    bool energy = r.total_energy().attribution() != v1::ATTRIBUTION_NONE;
    rows.push_back({r.run_id(), Timestamp(r.created_at_unix_ms()), r.model().name(), StatusName(r.status()),
                    absl::StrCat(r.input_tokens(), "→", r.output_tokens()),
                    energy ? Number(r.joules_per_token()) : "-", Number(r.decode_tokens_per_s()),
                    energy ? Energy(r.total_energy().total_mj()) +
                                 (r.total_energy().quality() == v1::QUALITY_ESTIMATED ? " (est.)" : "")
                           : "-",
                    tags});
  }
  std::fputs(Table(rows, {false, false, false, false, true, true, true, true, false}).c_str(), stdout);
  if (resp.total_count() > static_cast<uint32_t>(resp.runs_size())) {
    std::printf("(%d of %u runs; --limit shows more)\n", resp.runs_size(), resp.total_count());
  }
  return kExitOk;
}

int Show(Client& client, const std::vector<std::string>& argv) {
  CommandArgs args;
  absl::Status s = args.Parse(argv, {{"json", 0, false}});
  if (!s.ok() || args.positionals().size() != 1) return Error(kExitUsage, "usage: eprofctl runs show ID [--json]");
  v1::GetRunRequest req;
  if (int code = ResolveRunId(client, args.positionals()[0], req.mutable_run_id()); code != kExitOk) {
    return code;
  }
  auto ctx = client.UnaryContext();
  v1::GetRunResponse run;
  grpc::Status st = client.stub().GetRun(ctx.get(), req, &run);
  if (!st.ok()) return client.Fail(st, absl::StrCat("run ", req.run_id()));
  if (args.Has("json")) {
    std::printf("%s\n", ToJson(run).c_str());
    return kExitOk;
  }
  std::fputs(RenderSummary(run).c_str(), stdout);
  if (!run.summary().output_text().empty()) {
    std::printf("\ngenerated text:\n%s\n", TerminalSafe(run.summary().output_text()).c_str());
  }
  std::printf("\n%s", RenderPhasesAndTokens(run).c_str());
  return kExitOk;
}

int Compare(Client& client, const std::vector<std::string>& argv) {
  CommandArgs args;
  absl::Status s = args.Parse(argv, {{"json", 0, false}});
  if (!s.ok() || args.positionals().size() < 2 || args.positionals().size() > 10) {
    return Error(kExitUsage, "usage: eprofctl runs compare ID ID… (2 to 10 runs) [--json]");
  }
  v1::CompareRunsRequest req;
  for (const std::string& given : args.positionals()) {
    if (int code = ResolveRunId(client, given, req.add_run_ids()); code != kExitOk) return code;
  }
  auto ctx = client.UnaryContext();
  v1::CompareRunsResponse resp;
  grpc::Status st = client.stub().CompareRuns(ctx.get(), req, &resp);
  if (!st.ok()) return client.Fail(st, "runs compare");
  if (args.Has("json")) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  std::vector<std::string> header = {"metric", "unit"};
  for (const v1::RunSummary& r : resp.runs()) header.push_back(r.run_id().substr(0, 8));
  std::vector<std::vector<std::string>> rows = {header};
  for (const v1::MetricComparison& m : resp.metrics()) {
    std::vector<std::string> row = {m.name(), m.unit()};
    for (int i = 0; i < m.values_size(); ++i) {
      std::string cell = Number(m.values(i));
      if (i > 0 && m.values(0) != 0) {
        double pct = (m.ratio_vs_first(i) - 1) * 100;
        bool better = m.lower_is_better() ? pct < 0 : pct > 0;
        const char* verdict = pct == 0 || !m.judged() ? "" : better ? " better" : " worse";
        absl::StrAppend(&cell, " (", pct >= 0 ? "+" : "", Number(pct, 2), "%", verdict, ")");
      }
      row.push_back(cell);
    }
    rows.push_back(row);
  }
  std::vector<bool> right(header.size(), true);
  right[0] = right[1] = false;
  std::fputs(Table(rows, right).c_str(), stdout);
  return kExitOk;
}

int Export(Client& client, const std::vector<std::string>& argv) {
  CommandArgs args;
  absl::Status s = args.Parse(argv, {{"format", 'f', true}, {"output", 'o', true}});
  if (!s.ok() || args.positionals().size() != 1) {
    return Error(kExitUsage, "usage: eprofctl runs export ID --format csv|json [-o FILE]");
  }
  v1::ExportRunRequest req;
  if (int code = ResolveRunId(client, args.positionals()[0], req.mutable_run_id()); code != kExitOk) {
    return code;
  }
  std::string format = args.Get("format");
  if (format == "csv") req.set_format(v1::EXPORT_FORMAT_CSV);
  else if (format == "json") req.set_format(v1::EXPORT_FORMAT_JSON);
  else return Error(kExitUsage, "--format takes csv or json");
  std::ofstream file;
  std::string path = args.Get("output");
  if (!path.empty()) {
    file.open(path, std::ios::binary | std::ios::trunc);
    if (!file) return Error(kExitError, absl::StrCat("cannot write ", path));
  }
  grpc::ClientContext ctx;
  auto reader = client.stub().ExportRun(&ctx, req);
  v1::ExportRunChunk chunk;
  size_t bytes = 0;
  while (reader->Read(&chunk)) {
    bytes += chunk.data().size();
    if (file.is_open()) file << chunk.data();
    else std::fwrite(chunk.data().data(), 1, chunk.data().size(), stdout);
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) return client.Fail(st, absl::StrCat("export of run ", req.run_id()));
  if (file.is_open()) {
    file.close();
    std::fprintf(stderr, "wrote %zu bytes to %s\n", bytes, path.c_str());
  }
  return kExitOk;
}

int Remove(Client& client, const std::vector<std::string>& argv) {
  CommandArgs args;
  absl::Status s = args.Parse(argv, {{"json", 0, false}});
  if (!s.ok() || args.positionals().empty()) return Error(kExitUsage, "usage: eprofctl runs rm ID…");
  int code = kExitOk;
  for (const std::string& given : args.positionals()) {
    v1::DeleteRunRequest req;
    if (int c = ResolveRunId(client, given, req.mutable_run_id()); c != kExitOk) {
      code = c;
      continue;
    }
    const std::string& id = req.run_id();
    auto ctx = client.UnaryContext();
    v1::DeleteRunResponse resp;
    grpc::Status st = client.stub().DeleteRun(ctx.get(), req, &resp);
    if (!st.ok()) {
      code = client.Fail(st, absl::StrCat("deleting run ", id));
      continue;
    }
    if (args.Has("json")) std::printf("{\"deleted\": \"%s\"}\n", id.c_str());
    else std::printf("deleted %s\n", id.c_str());
  }
  return code;
}

}  // namespace

int RunsCommand(Client& client, const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    std::fputs(kRunsHelp, stdout);
    return argv.empty() ? kExitUsage : kExitOk;
  }
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  for (const std::string& a : rest) {
    if (a == "--help" || a == "-h") {
      std::fputs(kRunsHelp, stdout);
      return kExitOk;
    }
  }
  if (argv[0] == "list" || argv[0] == "ls") return List(client, rest);
  if (argv[0] == "show") return Show(client, rest);
  if (argv[0] == "compare") return Compare(client, rest);
  if (argv[0] == "export") return Export(client, rest);
  if (argv[0] == "rm" || argv[0] == "delete") return Remove(client, rest);
  return Error(kExitUsage, absl::StrCat("unknown runs command '", argv[0], "' (see eprofctl runs --help)"));
}

}  // namespace eprof::cli
