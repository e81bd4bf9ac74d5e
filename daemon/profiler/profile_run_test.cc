// A profiled run end to end with a fake engine and a power feed whose power is known in every
// window: exact energies, the span tree, events, the store, and every way a run can end.
#include "daemon/profiler/profile_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "daemon/profiler/interrupted_runs.h"
#include "daemon/profiler/stop_reason.h"
#include "daemon/profiler/testing/fake_model.h"
#include "daemon/profiler/testing/fake_power_feed.h"
#include "daemon/profiler/testing/thread_side_executor.h"
#include "daemon/store/testing/fault_vfs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::StatusIs;
using ::testing::HasSubstr;
using testing::FakeModel;
using testing::FakeModelOptions;
using testing::FakePowerFeed;

// Power varies window by window (1.0–2.8 W) so that misattributed time shows.
double Power(int64_t k) { return 1000.0 + 37.0 * (k % 50); }

class ProfileRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / absl::StrCat("prun_", getpid(), "_", n_++);
    std::filesystem::create_directories(dir_);
    auto store = store::RunStore::Open((dir_ / "eprof.db").string());
    ASSERT_THAT(store, IsOk());
    store_ = std::move(*store);
    config_.post_roll_timeout = absl::Seconds(2);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  v1::ProfileRequest Request(uint32_t max_new, v1::DetailLevel detail) {
    v1::ProfileRequest r;
    r.set_model("fake");
    r.set_prompt("Hello there");
    r.set_max_new_tokens(max_new);
    r.set_detail(detail);
    r.set_idle_baseline_ms(60);
    r.set_power_interval_ms(5);
    r.add_tags("t1");
    r.set_experiment("exp");
    return r;
  }

  ProfileRunResult Run(const v1::ProfileRequest& request, FakeModelOptions model_options,
                       PowerFeed* power, const std::string& id = "run-1", bool load = false) {
    model_ = std::make_shared<FakeModel>(model_options);
    events_ = std::make_unique<RunEventLog>(id);
    ProfileRunInputs in;
    in.run_id = id;
    in.request = request;
    in.model = model_->info();
    in.cancel = &cancel_;
    in.cancel_reason = [] { return std::string("the test cancelled it"); };
    in.acquire_model = [this, load](const std::function<void(const LoadProgress&)>& progress,
                                    bool* loaded_now) -> absl::StatusOr<std::shared_ptr<LoadedModel>> {
      if (load) {
        *loaded_now = true;
        for (uint32_t i = 1; i <= 4; ++i) {
          progress({.tensors_loaded = i, .tensors_total = 4, .bytes_loaded = i * 100,
                    .bytes_total = 400});
          absl::SleepFor(absl::Milliseconds(20));
        }
      }
      return std::static_pointer_cast<LoadedModel>(model_);
    };
    ProfileRunDeps deps;
    deps.power = power;
    deps.store = store_.get();
    deps.events = events_.get();
    deps.side = side_;
    return ExecuteProfileRun(in, deps, config_);
  }

  std::vector<v1::ProfileEvent> Events() {
    bool closed = false;
    std::vector<v1::ProfileEvent> events;
    for (const auto& e : events_->Read(0, absl::ZeroDuration(), &closed, 1 << 20)) {
      events.push_back(e->Parse());
    }
    EXPECT_FALSE(closed);  // the caller (RunManager) closes the log, not the run
    EXPECT_TRUE(!events.empty() && events.back().has_summary()) << "the summary comes last";
    return events;
  }

  // Token bookkeeping runs on another thread, beside the next step, as with the engine's pool.
  testing::ThreadSideExecutor thread_side_;
  SideExecutor* side_ = &thread_side_;
  static inline int n_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<store::RunStore> store_;
  std::shared_ptr<FakeModel> model_;
  std::unique_ptr<RunEventLog> events_;
  std::atomic<bool> cancel_{false};
  ProfileRunConfig config_;
};

// The strings RunSummary.stop_reason documents, each from its one reason.
TEST(StopReasonTest, EachReasonHasTheProtosString) {
  EXPECT_EQ(StopReasonName(StopReason::kEos), "eos");
  EXPECT_EQ(StopReasonName(StopReason::kMaxNewTokens), "max_new_tokens");
  EXPECT_EQ(StopReasonName(StopReason::kCancelled), "cancelled");
  EXPECT_EQ(StopReasonName(StopReason::kError), "error");
  EXPECT_EQ(StopReasonName(StopReason::kInterrupted), "interrupted");
}
TEST_F(ProfileRunTest, EnergiesAreTheExactIntegralOfKnownPower) {
  FakePowerFeed power(5, Power);
  ProfileRunResult result = Run(Request(12, v1::DETAIL_LEVEL_COMPONENTS), {.component_us = 100}, &power);
  ASSERT_THAT(result.status, IsOk());
  const v1::RunSummary& s = result.summary;
  EXPECT_EQ(s.status(), v1::RUN_STATUS_COMPLETED);
  EXPECT_EQ(s.stop_reason(), "max_new_tokens");
  EXPECT_EQ(s.output_tokens(), 12u);
  EXPECT_EQ(s.input_tokens(), 12u);  // BOS + 11 bytes
  EXPECT_EQ(s.power_source(), "fake");
  EXPECT_THAT(power.requested_intervals(), ::testing::Contains(5u));

  auto run = store_->GetRun("run-1", v1::RunParts());
  ASSERT_THAT(run, IsOk());
  // The run and every phase: the integral of the known power over the recorded span.
  auto near = [](double got, double want) {
    EXPECT_NEAR(got, want, std::max(1e-6, want * 1e-3)) << "got " << got << " want " << want;
  };
  near(s.total_energy().total_mj(), power.IntegralMj(s.start_ns(), s.end_ns()));
  double phase_sum = 0;
  std::vector<v1::Phase> order;
  for (const v1::PhaseRecord& p : run->phases()) {
    order.push_back(p.phase());
    near(p.energy().total_mj(), power.IntegralMj(p.start_ns(), p.end_ns()));
    EXPECT_NEAR(p.energy().dynamic_mj(),
                p.energy().total_mj() - s.baseline_power_mw() * (p.end_ns() - p.start_ns()) * 1e-9,
                1e-6);
    EXPECT_EQ(p.energy().quality(), v1::QUALITY_MEASURED);
    phase_sum += p.energy().total_mj();
  }
  EXPECT_THAT(order, ::testing::ElementsAre(v1::PHASE_IDLE_BASELINE, v1::PHASE_PRE_INFERENCE,
                                            v1::PHASE_PREFILL, v1::PHASE_DECODE,
                                            v1::PHASE_POST_INFERENCE));
  near(phase_sum, s.total_energy().total_mj());  // phases tile the run
  EXPECT_NEAR(s.total_energy().dynamic_mj(),
              s.total_energy().total_mj() - s.baseline_power_mw() * (s.end_ns() - s.start_ns()) * 1e-9,
              1e-6);
  // Sections: tokenize in pre_inference, save in post_inference; each names what it times.
  ASSERT_EQ(run->phases(1).sections_size(), 1);
  EXPECT_EQ(run->phases(1).sections(0).name(), "tokenize");
  ASSERT_EQ(run->phases(4).sections_size(), 1);
  EXPECT_EQ(run->phases(4).sections(0).name(), "save");
  // Tokens: token 0 is prefill's forward pass, tokens 1.. tile decode.
  ASSERT_EQ(run->tokens_size(), 12);
  const v1::PhaseRecord& prefill = run->phases(2);
  const v1::PhaseRecord& decode = run->phases(3);
  EXPECT_EQ(run->tokens(0).start_ns(), prefill.start_ns());
  EXPECT_EQ(run->tokens(0).end_ns(), prefill.end_ns());
  double decode_sum = 0;
  for (int i = 1; i < run->tokens_size(); ++i) {
    const v1::TokenRecord& t = run->tokens(i);
    EXPECT_EQ(t.start_ns(), run->tokens(i - 1).end_ns());
    near(t.energy().total_mj(), power.IntegralMj(t.start_ns(), t.end_ns()));
    decode_sum += t.energy().total_mj();
  }
  EXPECT_EQ(decode.start_ns(), run->tokens(1).start_ns());
  EXPECT_EQ(decode.end_ns(), run->tokens(11).end_ns());
  near(decode_sum, decode.energy().total_mj());
  // Layers and components at detail components; the pseudo-layer last.
  const v1::TokenRecord& t3 = run->tokens(3);
  ASSERT_EQ(t3.layers_size(), 3);
  EXPECT_EQ(t3.layers(2).layer(), -1);
  ASSERT_EQ(t3.layers(0).components_size(), 10);
  for (const v1::ComponentMetrics& c : t3.layers(0).components()) {
    EXPECT_GE(c.duration_ns(), 100'000);
    EXPECT_GT(c.energy().total_mj(), 0);
  }
  // Live token events carry the parts' times; their energies only once final (as stored).
  int live_tokens = 0;
  for (const v1::ProfileEvent& e : Events()) {
    if (!e.has_token()) continue;
    const v1::TokenRecord& live = e.token().token();
    const v1::TokenRecord& stored = run->tokens(static_cast<int>(live.index()));
    ++live_tokens;
    ASSERT_EQ(live.layers_size(), stored.layers_size());
    for (int l = 0; l < live.layers_size(); ++l) {
      EXPECT_EQ(live.layers(l).duration_ns(), stored.layers(l).duration_ns());
      EXPECT_EQ(live.layers(l).has_energy(), e.token().energy_final());
      ASSERT_EQ(live.layers(l).components_size(), stored.layers(l).components_size());
      for (int c = 0; c < live.layers(l).components_size(); ++c) {
        EXPECT_EQ(live.layers(l).components(c).has_energy(), e.token().energy_final());
      }
    }
  }
  EXPECT_EQ(live_tokens, 12);
  // Derived figures follow from the phases.
  EXPECT_NEAR(s.decode_energy_per_output_token().total_mj(), decode.energy().total_mj() / 11, 1e-9);
  EXPECT_NEAR(s.decode_tokens_per_s(), 11 / ((decode.end_ns() - decode.start_ns()) * 1e-9), 1e-6);
  EXPECT_GT(s.baseline_power_mw(), 900);
  EXPECT_EQ(s.output_text(), model_->NewTextStream()->Next(3) + " t10 t17 t24 t31 t38 t45 t52 t59 t66 t73 t80");
}

TEST_F(ProfileRunTest, EventsComeInOrderAndTokensStream) {
  FakePowerFeed power(5, Power);
  ProfileRunResult result = Run(Request(5, v1::DETAIL_LEVEL_TOKENS), {}, &power);
  ASSERT_THAT(result.status, IsOk());
  std::vector<v1::ProfileEvent> events = Events();
  ASSERT_GE(events.size(), 10u);
  EXPECT_EQ(events.front().event_case(), v1::ProfileEvent::kRunStarted);
  EXPECT_EQ(events.front().run_started().run_id(), "run-1");
  EXPECT_EQ(events.back().event_case(), v1::ProfileEvent::kSummary);
  int tokens = 0, samples = 0, phases_started = 0, phases_ended = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq(), i);
    EXPECT_EQ(events[i].run_id(), "run-1");
    switch (events[i].event_case()) {
      case v1::ProfileEvent::kToken:
        EXPECT_EQ(events[i].token().token().index(), static_cast<uint32_t>(tokens));
        ++tokens;
        break;
      case v1::ProfileEvent::kPowerSample: ++samples; break;
      case v1::ProfileEvent::kPhaseStarted: ++phases_started; break;
      case v1::ProfileEvent::kPhaseEnded: ++phases_ended; break;
      default: break;
    }
  }
  EXPECT_EQ(tokens, 5);
  EXPECT_GT(samples, 5);
  EXPECT_EQ(phases_started, 5);
  EXPECT_EQ(phases_ended, 5);
  // Stored and streamed summaries agree.
  EXPECT_EQ(store_->GetSummary("run-1")->output_tokens(), 5u);
}

// A decode token's bookkeeping runs beside the next step (on another thread, as with the
// libtorch engine's pool) or first on the caller's thread (SideExecutor::Inline()): the run is
// the same either way. Events keep their order (a token's event after the phase it belongs to
// started, the last one before decode ends), and every token, its text and parts are stored.
TEST_F(ProfileRunTest, TokenBookkeepingBesideTheNextStepGivesTheSameRun) {
  struct Seen {
    std::vector<std::string> order;  // phase and token events, in order
    std::vector<std::string> tokens;  // stored: index, id, text, parts
    std::string output_text;
  };
  auto run_once = [&](bool beside_on_thread, const std::string& id) {
    FakePowerFeed power(5, Power);
    side_ = beside_on_thread ? static_cast<SideExecutor*>(&thread_side_) : SideExecutor::Inline();
    ProfileRunResult result = Run(Request(9, v1::DETAIL_LEVEL_COMPONENTS), {}, &power, id);
    EXPECT_THAT(result.status, IsOk());
    Seen seen;
    for (const v1::ProfileEvent& e : Events()) {
      if (e.has_phase_started()) seen.order.push_back(absl::StrCat("start ", e.phase_started().phase()));
      if (e.has_phase_ended()) seen.order.push_back(absl::StrCat("end ", e.phase_ended().phase().phase()));
      if (e.has_token()) seen.order.push_back(absl::StrCat("token ", e.token().token().index()));
    }
    auto run = store_->GetRun(id, v1::RunParts());
    EXPECT_THAT(run, IsOk());
    for (const v1::TokenRecord& t : run->tokens()) {
      int components = 0;
      for (const v1::LayerMetrics& l : t.layers()) components += l.components_size();
      seen.tokens.push_back(absl::StrCat(t.index(), " ", t.token_id(), " '", t.text(), "' ",
                                         t.layers_size(), "/", components, " ",
                                         t.energy().total_mj() > 0));
    }
    seen.output_text = result.summary.output_text();
    return seen;
  };
  const Seen inline_run = run_once(false, "inline");
  const Seen beside = run_once(true, "beside");
  EXPECT_EQ(beside.order, inline_run.order);
  EXPECT_EQ(beside.tokens, inline_run.tokens);
  EXPECT_EQ(beside.output_text, inline_run.output_text);
  ASSERT_EQ(beside.tokens.size(), 9u);
  // Token 0 after prefill ended; tokens 1..8 between decode's start and end.
  const std::vector<std::string>& o = beside.order;
  auto at = [&](const std::string& what) { return std::find(o.begin(), o.end(), what) - o.begin(); };
  EXPECT_LT(at(absl::StrCat("end ", v1::PHASE_PREFILL)), at("token 0"));
  EXPECT_LT(at("token 0"), at(absl::StrCat("start ", v1::PHASE_DECODE)));
  EXPECT_LT(at(absl::StrCat("start ", v1::PHASE_DECODE)), at("token 1"));
  EXPECT_LT(at("token 8"), at(absl::StrCat("end ", v1::PHASE_DECODE)));
}

// Token rows reach the store while the run goes on (in batches of store_batch_tokens, once a
// power sample covers them), not only when it ends: a daemon killed mid-run keeps them.
TEST_F(ProfileRunTest, TokenRowsAreStoredWhileTheRunGoesOn) {
  FakePowerFeed power(5, Power);
  config_.store_batch_tokens = 4;
  int stored_mid_run = -1;
  FakeModelOptions options;
  options.component_us = 100;  // ~1.2 ms a step: several 5 ms samples cover the early tokens
  options.on_step = [&](int step) {
    if (step != 30) return;
    // The writer is a background thread: give it up to 5 s.
    for (int i = 0; i < 500 && stored_mid_run < 8; ++i) {
      auto run = store_->GetRun("run-1", v1::RunParts());
      if (run.ok()) stored_mid_run = run->tokens_size();
      if (stored_mid_run < 8) absl::SleepFor(absl::Milliseconds(10));
    }
  };
  ProfileRunResult result = Run(Request(40, v1::DETAIL_LEVEL_COMPONENTS), options, &power);
  ASSERT_THAT(result.status, IsOk());
  EXPECT_GE(stored_mid_run, 8) << "no token rows were stored before the run ended";
  EXPECT_LT(stored_mid_run, 40);
  EXPECT_EQ(store_->GetRun("run-1", v1::RunParts())->tokens_size(), 40);
}

TEST_F(ProfileRunTest, ModelLoadIsAPhaseWithProgress) {
  FakePowerFeed power(5, Power);
  ProfileRunResult result = Run(Request(2, v1::DETAIL_LEVEL_PHASES), {}, &power, "run-1", /*load=*/true);
  ASSERT_THAT(result.status, IsOk());
  int progress = 0;
  for (const auto& e : Events()) progress += e.has_model_loading();
  EXPECT_GE(progress, 2);
  auto run = store_->GetRun("run-1", v1::RunParts());
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->phases(0).phase(), v1::PHASE_MODEL_LOAD);
  EXPECT_GE(run->phases(0).end_ns() - run->phases(0).start_ns(), 60'000'000);
}

TEST_F(ProfileRunTest, EosStopsAndWarmupRunsFirst) {
  FakePowerFeed power(5, Power);
  v1::ProfileRequest request = Request(20, v1::DETAIL_LEVEL_LAYERS);
  request.set_warmup_runs(2);
  ProfileRunResult result = Run(request, {.eos_at = 4}, &power);
  ASSERT_THAT(result.status, IsOk());
  EXPECT_EQ(result.summary.stop_reason(), "eos");
  EXPECT_EQ(result.summary.output_tokens(), 5u);
  EXPECT_EQ(model_->forward_passes(), 15);  // 2 warm-ups and the measured run, 5 passes each
  auto run = store_->GetRun("run-1", v1::RunParts());
  EXPECT_EQ(run->phases(0).phase(), v1::PHASE_WARMUP);
  // The warm-up is not part of the run's figures.
  EXPECT_EQ(result.summary.start_ns(), run->phases(1).start_ns());
}

TEST_F(ProfileRunTest, CancelledRunIsSavedAsCancelled) {
  FakePowerFeed power(5, Power);
  FakeModelOptions options;
  options.on_step = [this](int step) {
    if (step == 3) cancel_ = true;
  };
  ProfileRunResult result = Run(Request(50, v1::DETAIL_LEVEL_TOKENS), options, &power);
  EXPECT_THAT(result.status, IsOk());
  EXPECT_EQ(result.summary.status(), v1::RUN_STATUS_CANCELLED);
  EXPECT_EQ(result.summary.stop_reason(), "cancelled");
  EXPECT_EQ(result.summary.output_tokens(), 4u);
  auto stored = store_->GetRun("run-1", v1::RunParts());
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->summary().status(), v1::RUN_STATUS_CANCELLED);
  EXPECT_EQ(stored->tokens_size(), 4);
  bool warned = false;
  for (const auto& w : stored->summary().warnings()) warned |= w.message().find("the test cancelled it") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST_F(ProfileRunTest, WithoutPowerTheRunHasTimingsAndSaysSo) {
  ProfileRunResult result = Run(Request(3, v1::DETAIL_LEVEL_LAYERS), {}, nullptr);
  ASSERT_THAT(result.status, IsOk());
  EXPECT_EQ(result.summary.status(), v1::RUN_STATUS_COMPLETED);
  EXPECT_EQ(result.summary.total_energy().attribution(), v1::ATTRIBUTION_NONE);
  EXPECT_GT(result.summary.decode_tokens_per_s(), 0);
  ASSERT_GE(result.summary.warnings_size(), 1);
  EXPECT_EQ(result.summary.warnings(0).code(), "no_power_source");
}

TEST_F(ProfileRunTest, HelperGoingAwayLeavesAGapAndAWarning) {
  FakePowerFeed power(5, Power);
  FakeModelOptions options;
  options.component_us = 200;
  options.on_step = [&power](int step) {
    if (step == 2) power.Pause();
    if (step == 6) power.Resume();
  };
  ProfileRunResult result = Run(Request(10, v1::DETAIL_LEVEL_TOKENS), options, &power);
  ASSERT_THAT(result.status, IsOk());
  EXPECT_EQ(result.summary.status(), v1::RUN_STATUS_COMPLETED);
  EXPECT_GT(result.summary.power_gap_s(), 0.005);
  std::vector<std::string> codes;
  for (const auto& w : result.summary.warnings()) codes.push_back(w.code());
  EXPECT_THAT(codes, ::testing::IsSupersetOf({"power_gap", "helper_reconnected", "power_gap_total"}));
  // The covered parts still match the known power exactly.
  EXPECT_NEAR(result.summary.total_energy().total_mj(),
              power.IntegralMj(result.summary.start_ns(), result.summary.end_ns()),
              result.summary.total_energy().total_mj() * 1e-3);
}

TEST_F(ProfileRunTest, PromptTooLongForTheContextIsInvalidArgument) {
  FakePowerFeed power(5, Power);
  ProfileRunResult result = Run(Request(10, v1::DETAIL_LEVEL_TOKENS), {.context_length = 16}, &power);
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("more than the model's context of 16 tokens")));
  EXPECT_EQ(result.summary.status(), v1::RUN_STATUS_FAILED);
  EXPECT_EQ(store_->GetSummary("run-1")->status(), v1::RUN_STATUS_FAILED);
  EXPECT_EQ(model_->forward_passes(), 0);
}

// The summary event, last, carries the phases as GetRun gives them, prefill's and decode's
// layer and component sums included: a client has the outcome without another call.
TEST_F(ProfileRunTest, TheSummaryEventCarriesThePhasesAsGetRunGivesThem) {
  FakePowerFeed power(5, Power);
  ASSERT_THAT(Run(Request(6, v1::DETAIL_LEVEL_COMPONENTS), {}, &power).status, IsOk());
  const v1::ProfileEvent last = Events().back();
  v1::RunParts parts;
  parts.set_phases(true);
  parts.set_components(true);
  auto stored = store_->GetRun("run-1", parts);
  ASSERT_THAT(stored, IsOk());
  ASSERT_EQ(last.final_phases_size(), stored->phases_size());
  for (int i = 0; i < stored->phases_size(); ++i) {
    EXPECT_EQ(last.final_phases(i).SerializeAsString(), stored->phases(i).SerializeAsString());
  }
  int with_components = 0;
  for (const v1::PhaseRecord& p : last.final_phases()) {
    if ((p.phase() == v1::PHASE_PREFILL || p.phase() == v1::PHASE_DECODE) && p.layers_size() > 0 &&
        p.layers(0).components_size() > 0) {
      ++with_components;
    }
  }
  EXPECT_EQ(with_components, 2);
}

TEST_F(ProfileRunTest, EngineFailureFailsTheRunAndKeepsWhatWasMeasured) {
  FakePowerFeed power(5, Power);
  ProfileRunResult result = Run(Request(10, v1::DETAIL_LEVEL_TOKENS), {.fail_decode_at = 3}, &power);
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kInternal, HasSubstr("decode step 3")));
  EXPECT_EQ(result.summary.status(), v1::RUN_STATUS_FAILED);
  EXPECT_THAT(result.summary.error(), HasSubstr("decode step 3"));
  EXPECT_EQ(store_->GetRun("run-1", v1::RunParts())->tokens_size(), 3);
}

// Before, NaN logits stored the run as failed with "NOT NULL constraint failed:
// tokens.probability", keeping no tokens and no phases, and blamed the database.
TEST_F(ProfileRunTest, NanLogitsStopTheRunSayingSoAndKeepWhatWasMeasured) {
  FakePowerFeed power(5, Power);
  ProfileRunResult result = Run(Request(10, v1::DETAIL_LEVEL_LAYERS), {.nan_at = 4}, &power);
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kFailedPrecondition,
                                      HasSubstr("the model produced NaN (or infinite) logits at token 4")));
  EXPECT_EQ(result.summary.status(), v1::RUN_STATUS_FAILED);
  EXPECT_THAT(result.summary.error(), HasSubstr("NaN"));
  EXPECT_THAT(result.summary.error(), ::testing::Not(HasSubstr("constraint")));
  EXPECT_EQ(result.summary.output_tokens(), 4u);
  auto run = store_->GetRun("run-1", v1::RunParts());
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->tokens_size(), 4);
  EXPECT_GE(run->phases_size(), 4);  // idle, pre_inference, prefill, decode (closed at the stop)
  EXPECT_EQ(run->summary().status(), v1::RUN_STATUS_FAILED);
  EXPECT_GT(run->summary().total_energy().total_mj(), 0);
  for (const v1::TokenRecord& t : run->tokens()) EXPECT_DOUBLE_EQ(t.probability(), 0.5);
}

// Before, a run cut short by a crash of eprofd kept its stored tokens and samples, but its
// summary said 0 → 0 tokens and 0 mJ. At the next start its figures are rebuilt from them.
TEST_F(ProfileRunTest, RunCutShortByACrashGetsItsFiguresFromWhatWasStored) {
  const std::string db = (dir_ / "eprof.db").string();
  store_.reset();  // the child opens its own: nothing SQLite crosses the fork
  pid_t pid = fork();
  if (pid == 0) {
    auto store = store::RunStore::Open(db);
    if (!store.ok()) _exit(2);
    store_ = std::move(*store);
    FakePowerFeed power(5, Power);
    FakeModelOptions o;
    o.on_step = [&db](int i) {
      if (i != 40) return;
      // eprofd dies in the middle of decode, once its writer (at background priority, which a
      // machine busy with other tests may starve for a while) has saved a batch of tokens.
      auto reader = store::RunStore::Open(db);
      for (int w = 0; reader.ok() && w < 2000; ++w) {
        auto stored = (*reader)->GetRun("crashed", v1::RunParts());
        if (stored.ok() && stored->tokens_size() > 0) break;
        absl::SleepFor(absl::Milliseconds(10));
      }
      _exit(0);
    };
    Run(Request(60, v1::DETAIL_LEVEL_TOKENS), o, &power, "crashed");
    _exit(1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "the child did not die where it should";

  auto reopened = store::RunStore::Open(db);
  ASSERT_THAT(reopened, IsOk());
  store_ = std::move(*reopened);
  ASSERT_THAT(FinishInterruptedRuns(store_.get(), 400), ::eprof::testing::IsOkAndHolds(1));
  EXPECT_THAT(store_->MarkUnfinishedInterrupted(), ::eprof::testing::IsOkAndHolds(0));
  auto run = store_->GetRun("crashed", v1::RunParts());
  ASSERT_THAT(run, IsOk());
  const v1::RunSummary& s = run->summary();
  EXPECT_EQ(s.status(), v1::RUN_STATUS_INTERRUPTED);
  EXPECT_TRUE(s.partial());
  EXPECT_EQ(s.input_tokens(), 12u);
  ASSERT_GT(run->tokens_size(), 0);
  EXPECT_EQ(s.output_tokens(), static_cast<uint32_t>(run->tokens_size()));
  EXPECT_LT(s.output_tokens(), 40u);
  EXPECT_FALSE(s.output_text().empty());
  EXPECT_GT(s.total_energy().total_mj(), 0);
  EXPECT_GT(s.decode_energy().total_mj(), 0);
  EXPECT_GT(s.decode_tokens_per_s(), 0);
  EXPECT_GT(s.baseline_power_mw(), 0);
  bool has_decode = false;
  for (const v1::PhaseRecord& p : run->phases()) has_decode |= p.phase() == v1::PHASE_DECODE;
  EXPECT_TRUE(has_decode);
  ASSERT_GE(s.warnings_size(), 1);
  EXPECT_THAT(s.warnings(s.warnings_size() - 1).message(), HasSubstr("rebuilt"));
}

// Fault injection in the store (store/testing/fault_vfs.h): every I/O a profiled run makes (each
// open, write, truncate and sync SQLite does) is made to fail in turn, once and from then on
// (a disk that stays broken). Each time the run either completes with everything stored (SQLite
// got over a transient fault) or fails with an error that names the database; the earlier run
// is intact, the file passes PRAGMA integrity_check, and the same store serves the next run.
TEST_F(ProfileRunTest, EveryFailedStoreOperationFailsOnlyThatRunAndKeepsEarlierOnes) {
  store::testing::FaultVfs vfs;
  // The store closes before the VFS it was opened through goes, however the test ends.
  struct CloseFirst {
    std::unique_ptr<store::RunStore>& store;
    ~CloseFirst() { store.reset(); }
  } close_first{store_};
  store_.reset();  // reopened through the fault VFS, which is now SQLite's default
  auto reopened = store::RunStore::Open((dir_ / "eprof.db").string());
  ASSERT_THAT(reopened, IsOk());
  store_ = std::move(*reopened);
  config_.post_roll_timeout = absl::Milliseconds(500);
  config_.store_batch_tokens = 4;  // several batches: faults land in the middle of a run too
  FakePowerFeed power(5, Power);
  auto request = [&] {
    v1::ProfileRequest r = Request(10, v1::DETAIL_LEVEL_COMPONENTS);
    r.set_idle_baseline_ms(20);
    return r;
  };
  ASSERT_THAT(Run(request(), {}, &power, "earlier").status, IsOk());
  const std::string earlier = store_->GetRun("earlier", v1::RunParts())->SerializeAsString();
  vfs.Reset();
  ASSERT_THAT(Run(request(), {}, &power, "counted").status, IsOk());
  const int64_t operations = vfs.operations();
  ASSERT_GT(operations, 10) << "the run's I/O did not go through the fault VFS";
  int failed_runs = 0, completed_runs = 0;
  for (bool sticky : {false, true}) {
    for (int64_t n = 1; n <= operations; ++n) {
      const std::string id = absl::StrCat(sticky ? "sticky-" : "once-", n);
      vfs.FailAt(n, sticky);
      ProfileRunResult result = Run(request(), {}, &power, id);
      const std::string failure = vfs.first_failure();
      vfs.Reset();
      SCOPED_TRACE(absl::StrCat(id, ": failed ", failure.empty() ? "nothing" : failure));
      if (result.status.ok()) {
        ++completed_runs;
        EXPECT_EQ(result.summary.status(), v1::RUN_STATUS_COMPLETED);
        auto stored = store_->GetRun(id, v1::RunParts());
        ASSERT_THAT(stored, IsOk());
        EXPECT_EQ(stored->tokens_size(), 10);
        EXPECT_EQ(stored->summary().status(), v1::RUN_STATUS_COMPLETED);
      } else {
        ++failed_runs;
        EXPECT_EQ(result.summary.status(), v1::RUN_STATUS_FAILED);
        EXPECT_THAT(std::string(result.status.message()), HasSubstr("database"));
        EXPECT_THAT(result.summary.error(), HasSubstr("database"));
        // Once the fault has passed, the failure itself is stored (if the run was recorded at
        // all); a disk that stays broken leaves it to the next start (interrupted).
        auto stored = store_->GetRun(id, v1::RunParts());
        if (!sticky && stored.ok()) {
          EXPECT_EQ(stored->summary().status(), v1::RUN_STATUS_FAILED);
        }
      }
      ASSERT_THAT(store_->IntegrityCheck(), IsOk());
      auto kept = store_->GetRun("earlier", v1::RunParts());
      ASSERT_THAT(kept, IsOk());
      EXPECT_EQ(kept->SerializeAsString(), earlier);
      // The store serves the next run as if nothing had happened.
      ASSERT_THAT(Run(request(), {}, &power, id + "-after").status, IsOk());
      EXPECT_EQ(store_->GetRun(id + "-after", v1::RunParts())->tokens_size(), 10);
    }
  }
  EXPECT_GT(failed_runs, 0);
  std::printf("%lld store operations per run; %d faulted runs failed cleanly, %d completed\n",
              static_cast<long long>(operations), failed_runs, completed_runs);
}

TEST_F(ProfileRunTest, FullDiskFailsTheRunClearlyAndKeepsEarlierRuns) {
  FakePowerFeed power(5, Power);
  ASSERT_THAT(Run(Request(3, v1::DETAIL_LEVEL_TOKENS), {}, &power, "earlier").status, IsOk());
  ASSERT_THAT(store_->SetMaxPageCountForTest(1), IsOk());  // nothing more fits
  ProfileRunResult result = Run(Request(40, v1::DETAIL_LEVEL_COMPONENTS), {}, &power, "doomed");
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("full")));
  EXPECT_EQ(result.summary.status(), v1::RUN_STATUS_FAILED);
  ASSERT_THAT(store_->SetMaxPageCountForTest(1 << 30), IsOk());
  auto earlier = store_->GetRun("earlier", v1::RunParts());
  ASSERT_THAT(earlier, IsOk());
  EXPECT_EQ(earlier->summary().status(), v1::RUN_STATUS_COMPLETED);
  EXPECT_EQ(earlier->tokens_size(), 3);
  EXPECT_THAT(store_->IntegrityCheck(), IsOk());
}

// The defaults of a request have one home, which RunManager::Validate and ExecuteProfileRun
// both call: unset fields get profiler.proto's defaults, set ones (0 and false included) stay.
TEST(FillRequestDefaults, FillsWhatIsUnsetAndKeepsWhatIsSet) {
  v1::ProfileRequest unset;
  FillRequestDefaults(&unset);
  EXPECT_EQ(unset.detail(), v1::DETAIL_LEVEL_TOKENS);
  EXPECT_EQ(unset.idle_baseline_ms(), 1000u);
  EXPECT_TRUE(unset.add_special_tokens());
  EXPECT_EQ(unset.power_interval_ms(), 0u);  // 0: the daemon's default, read at run time
  v1::ProfileRequest set;
  set.set_detail(v1::DETAIL_LEVEL_LAYERS);
  set.set_idle_baseline_ms(0);
  set.set_add_special_tokens(false);
  v1::ProfileRequest filled = set;
  FillRequestDefaults(&filled);
  EXPECT_EQ(filled.SerializeAsString(), set.SerializeAsString());
}

}  // namespace
}  // namespace eprof::daemon
