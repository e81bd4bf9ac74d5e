// eprofctl profile: runs a profiled generation on eprofd and shows it live, then its summary.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client_cli/client.h"
#include "client_cli/commands.h"
#include "client_cli/format.h"
#include "client_cli/summary_view.h"
#include "common/api_limits.h"
#include "common/clock.h"
#include "common/command_args.h"

namespace eprof::cli {
namespace {

constexpr char kProfileHelp[] = R"(Usage: eprofctl profile -m MODEL (-p PROMPT | --prompt-file F) [options]

Runs one profiled generation on eprofd and shows it live (on a terminal), then its summary:
prefill and decode time and energy, energy per token, J/token, power per channel, and the
layers and components that used the most energy. Ctrl-C cancels the run; what was measured
until then is kept.

Options:
  -m, --model NAME        model name as `eprofctl models` lists it (required)
  -p, --prompt TEXT       the prompt
      --prompt-file F     read the prompt from F ("-" = standard input)
  -n, --max-new-tokens N  tokens to generate at most (default 128)
      --detail LEVEL      phases | tokens | layers | components | deep (default tokens)
      --temperature T     0 = greedy (default 0)
      --top-k K           keep the K most likely tokens (default off)
      --top-p P           nucleus sampling threshold in (0, 1] (default off)
      --seed S            sampler seed (default random, recorded)
      --tag T             label the run (repeatable)
      --experiment NAME   group the run under an experiment
      --idle-baseline-ms N  length of the idle baseline (default 1000; 0 skips it)
      --warmup N          unmeasured warm-up generations first (default 0)
      --interval-ms N     power sample interval (default: the daemon's)
      --dtype D           float32 | bfloat16 (default: the checkpoint's)
      --device D          cpu | cuda | cuda:N | mps (default: the daemon's)
      --keep-running      let the run continue if eprofctl is interrupted or disconnects
      --json              no live view; print the run's summary as one JSON document
      --events            no live view; print every event as a JSON line
  -h, --help              this help
)";

int g_signal_pipe[2] = {-1, -1};

void OnSigint(int) {
  char c = 1;
  ssize_t ignored = ::write(g_signal_pipe[1], &c, 1);
  (void)ignored;
}

std::string Json(const google::protobuf::Message& m, bool pretty) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = pretty;
  o.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  if (pretty) return out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Two lines redrawn in place: the tail of the generated text, and the status.
class LiveView {
 public:
  explicit LiveView(uint32_t max_tokens) : max_tokens_(max_tokens), start_ns_(Clock::Real()->NowNs()) {}

  void Update(const v1::ProfileEvent& e) {
    switch (e.event_case()) {
      case v1::ProfileEvent::kPhaseStarted: phase_ = PhaseName(e.phase_started().phase()); break;
      case v1::ProfileEvent::kModelLoading:
        phase_ = absl::StrCat("model_load ", e.model_loading().bytes_total() > 0
                                                 ? 100 * e.model_loading().bytes_loaded() / e.model_loading().bytes_total()
                                                 : 0, "%");
        break;
      case v1::ProfileEvent::kToken: {
        const v1::TokenRecord& t = e.token().token();
        text_ += t.text();
        ++tokens_;
        if (t.index() == 1) decode_start_ns_ = t.start_ns();
        if (t.index() >= 1) last_end_ns_ = t.end_ns();
        break;
      }
      case v1::ProfileEvent::kPowerSample:
        for (const v1::Reading& r : e.power_sample().readings()) power_[r.channel()] = r.power_mw();
        break;
      default: break;
    }
    int64_t now = Clock::Real()->NowNs();
    if (now - last_draw_ns_ < 80'000'000 && !e.has_summary()) return;  // ~12 redraws/s
    last_draw_ns_ = now;
    Draw();
  }

  void Clear() {
    if (drawn_) std::fputs("\x1b[1A\r\x1b[K\x1b[1B\r\x1b[K\x1b[1A\r", stdout);
    drawn_ = false;
    std::fflush(stdout);
  }

 private:
  void Draw() {
    std::string line =
        TerminalSafe(absl::StrReplaceAll(text_, {{"\n", "⏎"}, {"\t", " "}, {"\r", ""}}));
    // The last ~70 characters (by code point).
    size_t cps = 0, cut = line.size();
    for (size_t i = line.size(); i > 0; --i) {
      if ((static_cast<unsigned char>(line[i - 1]) & 0xC0) != 0x80 && ++cps == 70) {
        cut = i - 1;
        break;
      }
    }
    if (cps >= 70) line = "…" + line.substr(cut);
    double tps = decode_start_ns_ > 0 && last_end_ns_ > decode_start_ns_ && tokens_ > 1
                     ? (tokens_ - 1) / ((last_end_ns_ - decode_start_ns_) / 1e9)
                     : 0;
    std::string power;
    for (auto& [ch, mw] : power_) absl::StrAppend(&power, " ", ch, " ", Power(mw));
    int bar_width = 20;
    int filled = max_tokens_ > 0 ? static_cast<int>(bar_width * tokens_ / max_tokens_) : 0;
    std::string bar = std::string(filled, '#') + std::string(bar_width - filled, '.');
    std::string status = absl::StrCat("[", bar, "] ", tokens_, "/", max_tokens_, "  ", phase_,
                                      "  ", Number(tps), " tok/s ", power, "  ",
                                      Duration(Clock::Real()->NowNs() - start_ns_));
    if (drawn_) std::fputs("\x1b[1A\r", stdout);
    std::printf("\r\x1b[K%s\n\r\x1b[K%s", line.c_str(), status.c_str());
    std::fflush(stdout);
    drawn_ = true;
  }

  uint32_t max_tokens_;
  int64_t start_ns_;
  int64_t last_draw_ns_ = 0;
  int64_t decode_start_ns_ = 0;
  int64_t last_end_ns_ = 0;
  uint32_t tokens_ = 0;
  std::string text_;
  std::string phase_ = "starting";
  std::map<std::string, double> power_;
  bool drawn_ = false;
};

bool ParseUint(const std::string& s, uint32_t* out) { return absl::SimpleAtoi(s, out); }


}  // namespace

int ProfileCommand(Client& client, const std::vector<std::string>& argv) {
  CommandArgs args;
  absl::Status parsed = args.Parse(
      argv, {{"model", 'm', true}, {"prompt", 'p', true}, {"prompt-file", 0, true},
             {"max-new-tokens", 'n', true}, {"detail", 0, true}, {"temperature", 0, true},
             {"top-k", 0, true}, {"top-p", 0, true}, {"seed", 0, true}, {"tag", 0, true},
             {"experiment", 0, true}, {"idle-baseline-ms", 0, true}, {"warmup", 0, true},
             {"interval-ms", 0, true}, {"dtype", 0, true}, {"device", 0, true},
             {"keep-running", 0, false}, {"json", 0, false}, {"events", 0, false},
             {"help", 'h', false}});
  if (args.Has("help")) {
    std::fputs(kProfileHelp, stdout);
    return kExitOk;
  }
  if (!parsed.ok()) return Error(kExitUsage, absl::StrCat(parsed.message(), " (see eprofctl profile --help)"));
  if (!args.positionals().empty()) {
    return Error(kExitUsage, absl::StrCat("unexpected argument '", args.positionals()[0],
                                          "' (quote the prompt and pass it with -p)"));
  }
  v1::ProfileRequest req;
  req.set_model(args.Get("model"));
  if (req.model().empty()) return Error(kExitUsage, "profile needs a model: -m NAME (see eprofctl models)");
  if (args.Has("prompt") == args.Has("prompt-file")) {
    return Error(kExitUsage, "profile needs exactly one of -p PROMPT and --prompt-file FILE");
  }
  if (args.Has("prompt")) {
    req.set_prompt(args.Get("prompt"));
  } else {
    std::string path = args.Get("prompt-file");
    std::stringstream buf;
    if (path == "-") {
      buf << std::cin.rdbuf();
    } else {
      std::ifstream in(path);
      if (!in) return Error(kExitUsage, absl::StrCat("cannot read the prompt file ", path));
      buf << in.rdbuf();
    }
    req.set_prompt(buf.str());
  }
  // Checked here too, so the user reads what is wrong rather than a transport error.
  if (req.prompt().size() > kMaxPromptBytes) {
    return Error(kExitUsage, absl::StrCat("the prompt is ", req.prompt().size(),
                                          " bytes; eprofd takes prompts of at most ",
                                          kMaxPromptBytes, " bytes (1 MiB): shorten it"));
  }
  if (size_t bad = FirstInvalidUtf8(req.prompt()); bad != std::string::npos) {
    return Error(kExitUsage,
                 absl::StrCat("the prompt is not valid UTF-8 (byte 0x",
                              absl::Hex(static_cast<unsigned char>(req.prompt()[bad]),
                                        absl::kZeroPad2),
                              " at offset ", bad, "): eprof takes UTF-8 text; convert it first, "
                              "e.g. iconv -f latin1 -t utf-8"));
  }
  uint32_t n = 128;
  if (args.Has("max-new-tokens") && !ParseUint(args.Get("max-new-tokens"), &n)) {
    return Error(kExitUsage, "--max-new-tokens takes a whole number");
  }
  req.set_max_new_tokens(n);
  v1::DetailLevel detail = v1::DETAIL_LEVEL_TOKENS;
  if (args.Has("detail") && !ParseDetail(args.Get("detail"), &detail)) {
    return Error(kExitUsage, absl::StrCat("unknown detail level '", args.Get("detail"),
                                          "': use phases, tokens, layers, components or deep"));
  }
  req.set_detail(detail);
  auto number = [&](const char* name, auto setter) -> bool {
    if (!args.Has(name)) return true;
    double v;
    if (!absl::SimpleAtod(args.Get(name), &v)) return false;
    setter(v);
    return true;
  };
  if (!number("temperature", [&](double v) { req.mutable_sampling()->set_temperature(static_cast<float>(v)); }) ||
      !number("top-p", [&](double v) { req.mutable_sampling()->set_top_p(static_cast<float>(v)); })) {
    return Error(kExitUsage, "--temperature and --top-p take numbers");
  }
  uint32_t u;
  if (args.Has("top-k")) {
    if (!ParseUint(args.Get("top-k"), &u)) return Error(kExitUsage, "--top-k takes a whole number");
    req.mutable_sampling()->set_top_k(u);
  }
  if (args.Has("seed")) {
    uint64_t seed;
    if (!absl::SimpleAtoi(args.Get("seed"), &seed)) return Error(kExitUsage, "--seed takes a whole number");
    req.mutable_sampling()->set_seed(seed);
  }
  if (args.Has("idle-baseline-ms")) {
    if (!ParseUint(args.Get("idle-baseline-ms"), &u)) return Error(kExitUsage, "--idle-baseline-ms takes a whole number");
    req.set_idle_baseline_ms(u);
  }
  if (args.Has("warmup")) {
    if (!ParseUint(args.Get("warmup"), &u)) return Error(kExitUsage, "--warmup takes a whole number");
    req.set_warmup_runs(u);
  }
  if (args.Has("interval-ms")) {
    if (!ParseUint(args.Get("interval-ms"), &u)) return Error(kExitUsage, "--interval-ms takes a whole number");
    req.set_power_interval_ms(u);
  }
  for (const std::string& t : args.GetAll("tag")) req.add_tags(t);
  req.set_experiment(args.Get("experiment"));
  req.set_dtype(args.Get("dtype"));
  req.set_device(args.Get("device"));
  const bool keep_running = args.Has("keep-running");
  req.set_continue_on_disconnect(keep_running);
  bool json = args.Has("json");
  bool events = args.Has("events");
  bool live = !json && !events && isatty(STDOUT_FILENO);

  // Ctrl-C: the handler only writes to a pipe; this thread asks eprofd to cancel the run (so it
  // is saved as cancelled and the stream ends with its summary). A second Ctrl-C gives up at once.
  grpc::ClientContext ctx;
  std::atomic<int> interrupts{0};
  std::atomic<bool> detached{false};
  std::string run_id;
  absl::Mutex run_id_mu;
  if (::pipe(g_signal_pipe) != 0) return Error(kExitError, "pipe() failed");
  struct sigaction sa = {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  std::thread watcher([&] {
    char c;
    while (::read(g_signal_pipe[0], &c, 1) == 1) {
      if (c == 0) return;  // the command is done
      int count = interrupts.fetch_add(1) + 1;
      std::string id;
      {
        absl::MutexLock lock(&run_id_mu);
        id = run_id;
      }
      if (keep_running) {
        // The flag's promise: the run goes on in eprofd; only this view stops.
        detached.store(true);
        ctx.TryCancel();
      } else if (count == 1 && !id.empty()) {
        std::fprintf(stderr, "\neprofctl: cancelling run %s (Ctrl-C again to stop waiting)\n", id.c_str());
        auto cctx = client.UnaryContext();
        v1::CancelRunRequest cancel;
        cancel.set_run_id(id);
        v1::CancelRunResponse response;
        if (!client.stub().CancelRun(cctx.get(), cancel, &response).ok()) ctx.TryCancel();
      } else {
        ctx.TryCancel();
      }
    }
  });

  // One run at a time: say so when this one will wait behind another, rather than sit silent
  // until its turn (its events start when it starts). Only a hint: Profile itself reports any
  // error, a full queue's RESOURCE_EXHAUSTED included (then nothing is said here), and the run
  // ahead may end between the two calls.
  {
    auto sctx = client.UnaryContext();
    v1::GetStatusResponse status;
    if (client.stub().GetStatus(sctx.get(), v1::GetStatusRequest(), &status).ok() &&
        status.has_current_run() && status.queued_runs() < status.max_queued_runs()) {
      const v1::CurrentRun& c = status.current_run();
      std::fprintf(stderr,
                   "eprofctl: eprofd is busy with run %s (%s, %u of %u tokens)%s; this run waits "
                   "its turn in the queue (Ctrl-C gives up)\n",
                   c.run_id().c_str(), c.model().c_str(), c.tokens_generated(), c.max_new_tokens(),
                   status.queued_runs() > 0
                       ? absl::StrCat(" and ", status.queued_runs(), " more waiting").c_str()
                       : "");
    }
  }

  LiveView view(n);
  auto reader = client.stub().Profile(&ctx, req);
  v1::ProfileEvent e;
  v1::RunSummary summary;
  google::protobuf::RepeatedPtrField<v1::PhaseRecord> final_phases;
  bool have_summary = false;
  while (reader->Read(&e)) {
    if (e.has_run_started()) {
      absl::MutexLock lock(&run_id_mu);
      run_id = e.run_id();
    }
    if (e.has_summary()) {
      summary = e.summary();
      final_phases = e.final_phases();
      have_summary = true;
    }
    if (events) {
      std::printf("%s\n", Json(e, false).c_str());
      std::fflush(stdout);
    } else if (live) {
      view.Update(e);
    }
  }
  grpc::Status status = reader->Finish();
  char done = 0;
  ssize_t ignored = ::write(g_signal_pipe[1], &done, 1);
  (void)ignored;
  watcher.join();
  signal(SIGINT, SIG_DFL);
  ::close(g_signal_pipe[0]);
  ::close(g_signal_pipe[1]);
  if (live) view.Clear();

  if (detached.load()) {
    std::string id;
    {
      absl::MutexLock lock(&run_id_mu);
      id = run_id;
    }
    std::fprintf(stderr,
                 "eprofctl: stopped watching; the run goes on in eprofd (--keep-running)%s\n",
                 id.empty() ? ""
                            : absl::StrCat(": see it with eprofctl runs show ", id).c_str());
    return kExitOk;
  }
  if (!have_summary) {
    if (interrupts.load() > 0) return Error(kExitCancelled, "cancelled before the run started");
    return client.Fail(status, "profile");
  }
  if (json) {
    std::printf("%s\n", Json(summary, true).c_str());
  } else if (!events) {
    // The summary event carries the phases with their layer and component sums (the "top"
    // lines): nothing more to ask for.
    v1::GetRunResponse run;
    *run.mutable_summary() = summary;
    *run.mutable_phases() = final_phases;
    if (!summary.output_text().empty()) {
      std::printf("%s\n\n", TerminalSafe(summary.output_text()).c_str());
    }
    std::fputs(RenderSummary(run).c_str(), stdout);
  }
  if (summary.status() == v1::RUN_STATUS_CANCELLED) {
    return Error(kExitCancelled, absl::StrCat("run ", summary.run_id(), " was cancelled; what was measured is saved"));
  }
  if (!status.ok()) return client.Fail(status, "profile");
  return kExitOk;
}

}  // namespace eprof::cli
