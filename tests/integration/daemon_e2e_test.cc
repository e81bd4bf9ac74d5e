// eprofd end to end with real processes and sockets: eprof-power-helper replaying a synthetic
// trace whose power is known in every window, eprofd, and a gRPC client profiling a `tiny`
// checkpoint made by eprof-llm mkmodel.
//
// Each test starts its own helper and daemon (ctest runs every test case in its own process).
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/store/run_store.h"
#include "eprof/v1/profiler.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/daemon_harness.h"

namespace eprof {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kWindowNs = testing::DaemonHarness::kWindowNs;

class DaemonE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h_.Prepare()); }
  void TearDown() override { h_.Stop(/*keep=*/HasFailure()); }  // logs kept when a test fails

  void StartHelper() { ASSERT_TRUE(h_.StartHelper()); }
  void StartDaemon(rlim_t fsize_limit = 0) {
    ASSERT_TRUE(h_.StartDaemon(fsize_limit));
    stub_ = v1::ProfilerService::NewStub(
        grpc::CreateChannel("unix:" + h_.socket(), grpc::InsecureChannelCredentials()));
  }

  v1::ProfileRequest Request(uint32_t tokens, v1::DetailLevel detail, uint32_t idle_ms = 200) {
    v1::ProfileRequest r;
    r.set_model("tiny");
    r.set_prompt("Where does the energy of a token go?");
    r.set_max_new_tokens(tokens);
    r.set_detail(detail);
    r.set_idle_baseline_ms(idle_ms);
    r.set_power_interval_ms(10);
    return r;
  }

  grpc::Status Profile(const v1::ProfileRequest& r, std::vector<v1::ProfileEvent>* events,
                       const std::function<void(const v1::ProfileEvent&)>& on_event = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = stub_->Profile(&ctx, r);
    v1::ProfileEvent e;
    while (reader->Read(&e)) {
      if (events) events->push_back(e);
      if (on_event) on_event(e);
    }
    return reader->Finish();
  }

  v1::GetRunResponse GetRun(const std::string& id) {
    grpc::ClientContext ctx;
    v1::GetRunRequest req;
    req.set_run_id(id);
    v1::GetRunResponse resp;
    grpc::Status s = stub_->GetRun(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  testing::DaemonHarness h_;
  std::unique_ptr<v1::ProfilerService::Stub> stub_;
};

// Energy of [a, b) from the run's own samples, each window at constant power: the integral of
// the trace's power over the span.
double Integral(const v1::GetRunResponse& run, int64_t a, int64_t b) {
  double mj = 0;
  for (const v1::PowerSample& s : run.power_samples()) {
    int64_t lo = std::max(a, s.t_end_ns() - s.window_ns());
    int64_t hi = std::min(b, s.t_end_ns());
    if (hi > lo) mj += s.readings(0).power_mw() * (hi - lo) * 1e-9;
  }
  return mj;
}

TEST_F(DaemonE2eTest, EnergiesAreTheIntegralOfTheTracePower) {
  StartHelper();
  StartDaemon();
  std::vector<v1::ProfileEvent> events;
  grpc::Status status = Profile(Request(40, v1::DETAIL_LEVEL_COMPONENTS), &events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(events.back().has_summary());
  v1::GetRunResponse run = GetRun(events.back().run_id());
  const v1::RunSummary& s = run.summary();
  EXPECT_EQ(s.status(), v1::RUN_STATUS_COMPLETED);
  EXPECT_EQ(s.output_tokens(), 40u);
  EXPECT_EQ(s.power_source(), "replay");
  EXPECT_EQ(s.power_gap_s(), 0);
  ASSERT_GT(run.power_samples_size(), 10);
  // The helper passed the trace through unchanged: every window is 10 ms at one of its powers.
  for (const v1::PowerSample& p : run.power_samples()) {
    EXPECT_EQ(p.window_ns(), kWindowNs);
    double mw = p.readings(0).power_mw();
    EXPECT_NEAR(std::fmod(mw - 2000, 100), 0, 1e-6) << mw;
  }
  auto within = [](double got, double want) { EXPECT_NEAR(got, want, want * 1e-3) << got << " vs " << want; };
  within(s.total_energy().total_mj(), Integral(run, s.start_ns(), s.end_ns()));
  double phases = 0;
  for (const v1::PhaseRecord& p : run.phases()) {
    within(p.energy().total_mj(), Integral(run, p.start_ns(), p.end_ns()));
    EXPECT_NEAR(p.energy().dynamic_mj(),
                p.energy().total_mj() - s.baseline_power_mw() * (p.end_ns() - p.start_ns()) * 1e-9, 1e-6);
    phases += p.energy().total_mj();
  }
  within(phases, s.total_energy().total_mj());
  double decode = 0;
  for (const v1::TokenRecord& t : run.tokens()) {
    within(t.energy().total_mj(), Integral(run, t.start_ns(), t.end_ns()));
    if (t.phase() == v1::PHASE_DECODE) decode += t.energy().total_mj();
  }
  within(decode, s.decode_energy().total_mj());
  EXPECT_NEAR(s.total_energy().dynamic_mj(),
              s.total_energy().total_mj() - s.baseline_power_mw() * (s.end_ns() - s.start_ns()) * 1e-9, 1e-6);
  // The layers and components of eprof's engine are in the run.
  ASSERT_EQ(run.tokens(5).layers_size(), 3);  // tiny: 2 layers + the outside-layers part
  EXPECT_GE(run.tokens(5).layers(0).components_size(), 8);
}

// Before, after one run at a 60 s power interval the runs of the next 30-50 s had no energy
// ("the power helper is not reachable ()") while GetStatus said connected: the helper's sensor
// slept out the long window before it served the new, shorter interval, and the daemon's
// client counted a resubscription as a disconnection (and its end as a reconnection).
TEST_F(DaemonE2eTest, AShorterIntervalTakesEffectAtOnceForTheNextRun) {
  ASSERT_TRUE(h_.StartHelper("estimate"));  // a polled source: it sleeps between samples
  StartDaemon();
  v1::ProfileRequest slow = Request(2, v1::DETAIL_LEVEL_TOKENS, /*idle_ms=*/0);
  slow.set_power_interval_ms(60000);
  std::vector<v1::ProfileEvent> first;
  ASSERT_TRUE(Profile(slow, &first).ok());
  v1::ProfileRequest fast = Request(4, v1::DETAIL_LEVEL_TOKENS, /*idle_ms=*/300);
  fast.set_power_interval_ms(20);
  std::vector<v1::ProfileEvent> events;
  ASSERT_TRUE(Profile(fast, &events).ok());
  ASSERT_TRUE(events.back().has_summary());
  const v1::RunSummary& s = events.back().summary();
  EXPECT_EQ(s.status(), v1::RUN_STATUS_COMPLETED);
  EXPECT_NE(s.total_energy().attribution(), v1::ATTRIBUTION_NONE) << s.DebugString();
  EXPECT_GT(s.total_energy().total_mj(), 0);
  for (const v1::Warning& w : s.warnings()) {
    EXPECT_NE(w.code(), "no_power_helper") << w.message();
    EXPECT_NE(w.code(), "helper_reconnected") << w.message();
    EXPECT_NE(w.code(), "power_gap") << w.message();
  }
  int samples = 0;
  for (const v1::ProfileEvent& e : events) samples += e.has_power_sample();
  EXPECT_GE(samples, 5) << "the 20 ms interval was not in effect";
}

// The idle baseline, recomputed from the run's JSON export alone with the rule profiler.proto
// states (ChannelPower.baseline_power_mw), equals the stored one, and equals the known median
// of a stepped two-channel trace. Before, the stored baseline was the median over the windows
// of a shorter span than the stored idle phase (the phase went on while the last samples came
// in), so a recomputation from the export could not reproduce it: a gpu baseline of 800 mW
// (the mean of the middle two of an even count) where the phase's windows had a median of 400.
TEST_F(DaemonE2eTest, IdleBaselineIsReproducibleFromTheExport) {
  // 100 ms windows: gpu 400 mW in three windows of four and 1200 mW in the fourth, so that any
  // run of three or more consecutive windows has a median of 400; cpu a steady 2000 mW.
  const fs::path trace = h_.dir() / "stepped.jsonl";
  {
    std::ofstream out(trace);
    for (int64_t k = 0; k < 600; ++k) {
      const int64_t w = 100'000'000;
      const double gpu = k % 4 == 3 ? 1200.0 : 400.0;
      out << "{\"seq\":" << k << ",\"t_end_ns\":" << (k + 1) * w << ",\"window_ns\":" << w
          << ",\"channels\":{\"cpu\":{\"energy_mj\":" << 2000.0 * 0.1 << ",\"power_mw\":2000},"
          << "\"gpu\":{\"energy_mj\":" << gpu * 0.1 << ",\"power_mw\":" << gpu << "}}}\n";
    }
  }
  ASSERT_TRUE(h_.StartHelper("replay:" + trace.string()));
  StartDaemon();
  v1::ProfileRequest r = Request(3, v1::DETAIL_LEVEL_TOKENS, /*idle_ms=*/1000);
  r.set_power_interval_ms(100);
  std::vector<v1::ProfileEvent> events;
  ASSERT_TRUE(Profile(r, &events).ok());
  const std::string id = events.back().run_id();

  grpc::ClientContext ctx;
  v1::ExportRunRequest ex;
  ex.set_run_id(id);
  ex.set_format(v1::EXPORT_FORMAT_JSON);
  auto reader = stub_->ExportRun(&ctx, ex);
  std::string json;
  v1::ExportRunChunk chunk;
  while (reader->Read(&chunk)) json += chunk.data();
  ASSERT_TRUE(reader->Finish().ok());
  v1::GetRunResponse run;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &run).ok());

  const v1::PhaseRecord* idle = nullptr;
  for (const v1::PhaseRecord& p : run.phases()) {
    if (p.phase() == v1::PHASE_IDLE_BASELINE) idle = &p;
  }
  ASSERT_NE(idle, nullptr);
  // The rule, applied to the export: windows entirely inside [start, end), power = energy / time.
  std::map<std::string, std::vector<double>> powers;
  for (const v1::PowerSample& s : run.power_samples()) {
    if (s.t_end_ns() - s.window_ns() < idle->start_ns() || s.t_end_ns() > idle->end_ns()) continue;
    for (const v1::Reading& reading : s.readings()) {
      powers[reading.channel()].push_back(reading.energy_mj() / (s.window_ns() * 1e-9));
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  ASSERT_EQ(powers.size(), 2u);
  const v1::RunSummary& s = run.summary();
  EXPECT_EQ(s.baseline_window_count(), powers["gpu"].size());
  ASSERT_GE(powers["gpu"].size(), 3u);
  double total = 0;
  for (const v1::ChannelPower& p : s.power()) {
    const double recomputed = median(powers[p.channel()]);
    EXPECT_NEAR(p.baseline_power_mw(), recomputed, 1e-6) << p.channel();
    total += recomputed;
  }
  EXPECT_NEAR(s.baseline_power_mw(), total, 1e-6);
  // And the known medians of the trace.
  for (const v1::ChannelPower& p : s.power()) {
    EXPECT_NEAR(p.baseline_power_mw(), p.channel() == "gpu" ? 400.0 : 2000.0, 1e-6) << p.channel();
  }
  EXPECT_NEAR(s.baseline_power_mw(), 2400.0, 1e-6);
}

TEST_F(DaemonE2eTest, HelperKilledMidRunLeavesAGapAndAWarning) {
  StartHelper();
  StartDaemon();
  std::thread chaos([&] {
    absl::SleepFor(absl::Milliseconds(400));  // inside the 1.5 s idle baseline
    h_.helper()->Kill(SIGKILL);
    absl::SleepFor(absl::Milliseconds(400));
    StartHelper();
  });
  std::vector<v1::ProfileEvent> events;
  grpc::Status status = Profile(Request(20, v1::DETAIL_LEVEL_TOKENS, 1500), &events);
  chaos.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::RunSummary& s = events.back().summary();
  EXPECT_EQ(s.status(), v1::RUN_STATUS_COMPLETED);
  EXPECT_GT(s.power_gap_s(), 0.2);
  std::vector<std::string> codes;
  for (const v1::Warning& w : s.warnings()) codes.push_back(w.code());
  EXPECT_THAT(codes, ::testing::Contains("power_gap"));
  EXPECT_THAT(codes, ::testing::Contains("power_gap_total"));
}

TEST_F(DaemonE2eTest, ClientThatDisconnectsLeavesACancelledRun) {
  StartHelper();
  StartDaemon();
  std::string id;
  {
    grpc::ClientContext ctx;
    auto reader = stub_->Profile(&ctx, Request(50, v1::DETAIL_LEVEL_TOKENS, 3000));
    v1::ProfileEvent e;
    while (reader->Read(&e)) {
      if (e.has_run_started()) id = e.run_id();
      if (e.has_phase_started() && e.phase_started().phase() == v1::PHASE_IDLE_BASELINE) break;
    }
    ctx.TryCancel();
    reader->Finish();
  }
  ASSERT_FALSE(id.empty());
  v1::RunSummary s;
  for (int i = 0; i < 200; ++i) {
    s = GetRun(id).summary();
    if (s.status() != v1::RUN_STATUS_RUNNING) break;
    absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_EQ(s.status(), v1::RUN_STATUS_CANCELLED);
}

TEST_F(DaemonE2eTest, DaemonKilledMidRunIsInterruptedAfterRestart) {
  StartHelper();
  StartDaemon();
  std::vector<v1::ProfileEvent> first;
  ASSERT_TRUE(Profile(Request(5, v1::DETAIL_LEVEL_TOKENS), &first).ok());
  std::string id;
  std::thread killer([&] {
    absl::SleepFor(absl::Milliseconds(600));  // inside the 3 s idle baseline
    h_.daemon()->Kill(SIGKILL);
  });
  std::vector<v1::ProfileEvent> events;
  grpc::Status status = Profile(Request(50, v1::DETAIL_LEVEL_TOKENS, 3000), &events);
  killer.join();
  EXPECT_FALSE(status.ok());
  ASSERT_FALSE(events.empty());
  id = events.front().run_id();
  StartDaemon();
  v1::RunSummary s = GetRun(id).summary();
  EXPECT_EQ(s.status(), v1::RUN_STATUS_INTERRUPTED);
  EXPECT_EQ(GetRun(first.back().run_id()).summary().status(), v1::RUN_STATUS_COMPLETED);
  h_.ResetDaemon();  // close the database before checking it
  auto store = store::RunStore::Open((h_.dir() / "eprof.db").string());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->IntegrityCheck().ok());
}

// At detail deep the engine's statistics reach the store: every component's output, every
// layer's attention heads and every layer's output hidden state, for every token.
TEST_F(DaemonE2eTest, DeepRunsStoreEveryLayersOutputStatistics) {
  StartHelper();
  StartDaemon();
  std::vector<v1::ProfileEvent> events;
  ASSERT_TRUE(Profile(Request(3, v1::DETAIL_LEVEL_DEEP), &events).ok());
  grpc::ClientContext ctx;
  v1::GetRunRequest req;
  req.set_run_id(events.back().run_id());
  req.mutable_parts()->set_tokens(true);
  req.mutable_parts()->set_deep(true);
  v1::GetRunResponse run;
  ASSERT_TRUE(stub_->GetRun(&ctx, req, &run).ok());
  ASSERT_EQ(run.tokens_size(), 3);
  for (const v1::TokenRecord& t : run.tokens()) {
    int layers_with_output = 0;
    for (const v1::LayerMetrics& l : t.layers()) {
      if (l.layer() < 0) continue;  // the parts outside the layers have no output of their own
      EXPECT_TRUE(l.has_output()) << "token " << t.index() << " layer " << l.layer();
      EXPECT_GT(l.output().max_abs(), 0);
      EXPECT_FALSE(l.attention_heads().empty());
      ++layers_with_output;
    }
    EXPECT_GT(layers_with_output, 0);
  }
}

TEST_F(DaemonE2eTest, FullDiskFailsTheRunClearlyAndKeepsEarlierRuns) {
  StartHelper();
  StartDaemon(/*fsize_limit=*/320 * 1024);  // every file eprofd writes stops at 320 KiB
  std::vector<v1::ProfileEvent> small;
  ASSERT_TRUE(Profile(Request(3, v1::DETAIL_LEVEL_TOKENS), &small).ok());
  // Runs with every component recorded until the database no longer fits.
  std::vector<std::string> completed;
  v1::RunSummary failed;
  grpc::Status status;
  for (int i = 0; i < 12 && failed.run_id().empty(); ++i) {
    std::vector<v1::ProfileEvent> big;
    status = Profile(Request(100, v1::DETAIL_LEVEL_DEEP, 50), &big);
    ASSERT_FALSE(big.empty());
    ASSERT_TRUE(big.back().has_summary());
    if (big.back().summary().status() == v1::RUN_STATUS_COMPLETED) {
      completed.push_back(big.back().run_id());
    } else {
      failed = big.back().summary();
    }
  }
  ASSERT_FALSE(failed.run_id().empty()) << "the file-size limit was never reached";
  EXPECT_EQ(failed.status(), v1::RUN_STATUS_FAILED);
  EXPECT_THAT(failed.error(), HasSubstr("could not be"));
  std::printf("the failed run says: %s\n", failed.error().c_str());
  EXPECT_FALSE(status.ok());
  // Everything saved before is intact.
  v1::GetRunResponse earlier = GetRun(small.back().run_id());
  EXPECT_EQ(earlier.summary().status(), v1::RUN_STATUS_COMPLETED);
  EXPECT_EQ(earlier.tokens_size(), 3);
  for (const std::string& id : completed) EXPECT_EQ(GetRun(id).tokens_size(), 100);
  h_.ResetDaemon();
  auto store = store::RunStore::Open((h_.dir() / "eprof.db").string());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->IntegrityCheck().ok());
}

TEST_F(DaemonE2eTest, SigtermCancelsSavesAndExits) {
  StartHelper();
  StartDaemon();
  std::string id;
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(500));
    ::kill(h_.daemon()->pid(), SIGTERM);
  });
  std::vector<v1::ProfileEvent> events;
  Profile(Request(50, v1::DETAIL_LEVEL_TOKENS, 3000), &events);
  stopper.join();
  int status = h_.daemon()->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_FALSE(events.empty());
  ASSERT_TRUE(events.back().has_summary());
  EXPECT_EQ(events.back().summary().status(), v1::RUN_STATUS_CANCELLED);
  EXPECT_FALSE(fs::exists(h_.dir() / "d.sock"));
  StartDaemon();
  EXPECT_EQ(GetRun(events.front().run_id()).summary().status(), v1::RUN_STATUS_CANCELLED);
}

TEST_F(DaemonE2eTest, BadRequestsAreRejectedWithTheReason) {
  StartHelper();
  StartDaemon();
  v1::ProfileRequest unknown = Request(5, v1::DETAIL_LEVEL_TOKENS);
  unknown.set_model("nope");
  grpc::Status s = Profile(unknown, nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ProfileRequest too_long = Request(20, v1::DETAIL_LEVEL_TOKENS, 0);
  too_long.set_prompt(std::string(5000, 'x'));
  s = Profile(too_long, nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("context"));
  v1::ProfileRequest empty = Request(5, v1::DETAIL_LEVEL_TOKENS);
  empty.set_prompt("");
  EXPECT_EQ(Profile(empty, nullptr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Over the stated limit: eprofd's own message with the limit, not gRPC's "Received message
  // larger than max" (which a prompt over 4 MiB used to get).
  v1::ProfileRequest huge = Request(5, v1::DETAIL_LEVEL_TOKENS, 0);
  huge.set_prompt(std::string(5 << 20, 'x'));
  s = Profile(huge, nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("at most 1048576 bytes (1 MiB)"));
  // Not UTF-8: it cannot be parsed as a ProfileRequest; the message says what to look at (it
  // used to say only "no ProfileRequest was received").
  v1::ProfileRequest latin1 = Request(5, v1::DETAIL_LEVEL_TOKENS, 0);
  latin1.set_prompt("caf\xe9");
  s = Profile(latin1, nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("valid UTF-8"));
}

}  // namespace
}  // namespace eprof

namespace eprof::testing {
namespace {

// Runs `command` through the shell with stdout and stderr captured; returns them, and the
// status from std::system in *status.
std::string RunCaptured(const std::string& command, int* status) {
  const std::string out_path =
      (std::filesystem::temp_directory_path() / absl::StrCat("eprofd-out-", getpid())).string();
  *status = std::system(absl::StrCat(command, " > ", out_path, " 2>&1").c_str());
  std::ifstream in(out_path);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(out_path);
  return out;
}

// `eprofd --help` documents every flag that daemon/main.cc defines (Abseil lists only the flags
// of a file named after the program unless told otherwise; this once printed "No flags matched").
TEST(EprofdHelp, ListsEveryFlagOfMain) {
  int status = 0;  // absl's --help exits with 1
  const std::string help = RunCaptured(DaemonHarness::Bin("eprofd") + " --help", &status);
  std::ifstream src(std::string(std::getenv("EPROF_SOURCE_DIR")) + "/daemon/main.cc");
  int flags = 0;
  for (std::string line; std::getline(src, line);) {
    const size_t at = line.find("ABSL_FLAG(");
    if (at == std::string::npos) continue;
    const size_t comma = line.find(", ", at);
    const size_t end = line.find(',', comma + 2);
    ASSERT_NE(end, std::string::npos) << line;
    const std::string name = line.substr(comma + 2, end - comma - 2);
    EXPECT_NE(help.find("--" + name + " ("), std::string::npos) << "--" << name << " missing:\n"
                                                                << help;
    ++flags;
  }
  EXPECT_GE(flags, 15);
}

// A bad flag value is refused before eprofd starts anything (exit 2), saying the allowed range.
void ExpectFlagRefused(const std::string& flag, const std::string& message) {
  int rc = 0;
  const std::string out =
      RunCaptured(DaemonHarness::Bin("eprofd") + " " + flag + " --socket /nonexistent/d.sock", &rc);
  ASSERT_TRUE(WIFEXITED(rc)) << out;
  EXPECT_EQ(WEXITSTATUS(rc), 2) << out;
  EXPECT_NE(out.find(message), std::string::npos) << out;
}

TEST(EprofdHelp, BadInferenceNiceIsRefused) {
  ExpectFlagRefused("--inference-nice 25", "--inference-nice 25 is outside 0-19");
}

TEST(EprofdHelp, BadInferenceYieldIsRefused) {
  ExpectFlagRefused("--inference-yield-us -1", "--inference-yield-us -1 is outside 0-100000");
  ExpectFlagRefused("--inference-yield-us 200000", "--inference-yield-us 200000 is outside 0-100000");
}

TEST(EprofdHelp, BadProfileBatchIsRefused) {
  ExpectFlagRefused("--profile-batch-ms 5000", "--profile-batch-ms 5000 is outside 0-1000");
  ExpectFlagRefused("--profile-batch-ms -1", "--profile-batch-ms -1 is outside 0-1000");
}

}  // namespace
}  // namespace eprof::testing
