// ProfilerService over a real Unix socket, with the real RunManager, store, catalog and event
// logs, and a fake engine and power feed: profiling, bad requests, disconnects, the queue,
// concurrent watchers, and the stored-run RPCs.
#include "daemon/service/profiler_service.h"

#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "common/uds_server.h"
#include "daemon/profiler/testing/fake_backend.h"
#include "daemon/profiler/testing/fake_power_feed.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::FakeBackend;
using testing::FakeModelOptions;
using testing::FakePowerFeed;

// A model directory the catalog accepts: config.json, a one-tensor safetensors, tokenizer.json.
void WriteModelDir(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "config.json")
      << nlohmann::json{{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}},
                        {"num_hidden_layers", 2}, {"vocab_size", 1000},
                        {"max_position_embeddings", 256}}
             .dump();
  std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::ofstream out(dir / "model.safetensors", std::ios::binary);
  uint64_t len = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((len >> (8 * i)) & 0xff));
  out << header << std::string(8, '\0');
  std::ofstream(dir / "tokenizer.json") << "{}";
}

class ProfilerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = "/tmp/eprof-ps-XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    WriteModelDir(dir_ / "models" / "tiny");
    auto store = store::RunStore::Open((dir_ / "eprof.db").string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    catalog_ = std::make_unique<ModelCatalog>(std::vector<std::string>{(dir_ / "models").string()});
    power_ = std::make_unique<FakePowerFeed>(5, [](int64_t k) { return 1500.0 + (k % 7) * 100; });
    backend_ = std::make_unique<FakeBackend>(
        FakeModelOptions{.component_us = 50, .context_length = 256});
  }

  void Start(RunManagerOptions options = {}, ProfilerServiceOptions service_options = {}) {
    options.max_new_tokens_cap = 64;
    options.run.post_roll_timeout = absl::Seconds(2);
    manager_ = std::make_unique<RunManager>(options, backend_.get(), catalog_.get(), store_.get(),
                                            power_.get());
    service_ = std::make_unique<ProfilerServiceImpl>(std::move(service_options), manager_.get(),
                                                     catalog_.get(), store_.get(), power_.get());
    UdsServerOptions uds;
    uds.socket_path = (dir_ / "d.sock").string();
    uds.server_name = "eprofd-test";
    uds.configure = [this](grpc::ServerBuilder& b) { b.RegisterService(service_.get()); };
    auto server = UdsServer::Start(std::move(uds));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel("unix:" + (dir_ / "d.sock").string(),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::ProfilerService::NewStub(channel_);
  }

  void TearDown() override {
    if (manager_) manager_->Shutdown("test over");
    if (server_) server_->Shutdown();
    fs::remove_all(dir_);
  }

  v1::ProfileRequest Request(uint32_t tokens = 6) {
    v1::ProfileRequest r;
    r.set_model("tiny");
    r.set_prompt("Hello");
    r.set_max_new_tokens(tokens);
    r.set_detail(v1::DETAIL_LEVEL_LAYERS);
    r.set_idle_baseline_ms(30);
    r.set_power_interval_ms(5);
    return r;
  }

  // Runs Profile to the end; returns the events and the final status.
  grpc::Status Profile(const v1::ProfileRequest& r, std::vector<v1::ProfileEvent>* events) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = stub_->Profile(&ctx, r);
    v1::ProfileEvent e;
    while (reader->Read(&e)) {
      if (events) events->push_back(e);
    }
    return reader->Finish();
  }

  fs::path dir_;
  std::unique_ptr<store::RunStore> store_;
  std::unique_ptr<ModelCatalog> catalog_;
  std::unique_ptr<FakePowerFeed> power_;
  std::unique_ptr<FakeBackend> backend_;
  std::unique_ptr<RunManager> manager_;
  std::unique_ptr<ProfilerServiceImpl> service_;
  std::unique_ptr<UdsServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ProfilerService::Stub> stub_;
};

TEST_F(ProfilerServiceTest, BatchedProfileStreamLosesNothingAndDoesNotHoldTheEnd) {
  // A batch far longer than the run: after the first send, everything waits for the run's end,
  // which must release it at once (not after the batch time).
  Start({}, ProfilerServiceOptions{.profile_batch = absl::Seconds(20)});
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  const int64_t t0 = Clock::Real()->NowNs();
  v1::ProfileRequest r = Request(6);
  r.set_idle_baseline_ms(300);  // the first send (run_started) comes well before any token
  auto reader = stub_->Profile(&ctx, r);
  v1::ProfileEvent e;
  std::vector<v1::ProfileEvent> events;
  std::vector<int64_t> received_ns;
  while (reader->Read(&e)) {
    events.push_back(e);
    received_ns.push_back(Clock::Real()->NowNs());
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_LT(Clock::Real()->NowNs() - t0, 15'000'000'000);  // not held for the 20 s batch
  ASSERT_FALSE(events.empty());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq(), i);  // all, in order
  ASSERT_TRUE(events.back().has_summary());
  EXPECT_EQ(events.back().summary().output_tokens(), 6u);
  // The tokens were held and went out with the end of the run.
  int64_t summary_t = events.back().t_ns();
  int tokens = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (!events[i].has_token()) continue;
    ++tokens;
    EXPECT_GE(received_ns[i], summary_t) << "token " << events[i].token().token().index();
  }
  EXPECT_EQ(tokens, 6);
  // Watch streams are never batched: TenWatchersSeeTheSameEventsInTheSameOrder checks what they
  // carry, daemon_bench their latency.
}

TEST_F(ProfilerServiceTest, ProfileStreamsTheRunAndStoresIt) {
  Start();
  std::vector<v1::ProfileEvent> events;
  grpc::Status status = Profile(Request(), &events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(events.size(), 10u);
  ASSERT_TRUE(events.front().has_run_started());
  ASSERT_TRUE(events.back().has_summary());
  std::string id = events.front().run_id();
  const v1::RunSummary& summary = events.back().summary();
  EXPECT_EQ(summary.status(), v1::RUN_STATUS_COMPLETED);
  EXPECT_EQ(summary.output_tokens(), 6u);
  EXPECT_GT(summary.total_energy().total_mj(), 0);
  EXPECT_TRUE(summary.request().sampling().has_seed());  // defaults filled in
  bool loading = false;
  for (const auto& e : events) loading |= e.has_model_loading();
  EXPECT_TRUE(loading);  // the first run loads the model

  grpc::ClientContext c1;
  v1::GetRunRequest get;
  get.set_run_id(id);
  v1::GetRunResponse run;
  ASSERT_TRUE(stub_->GetRun(&c1, get, &run).ok());
  EXPECT_EQ(run.tokens_size(), 6);
  EXPECT_EQ(run.tokens(2).layers_size(), 3);  // 2 layers + the parts outside them
  EXPECT_EQ(run.summary().run_id(), id);

  // A second run reuses the resident model: no load phase.
  std::vector<v1::ProfileEvent> second;
  ASSERT_TRUE(Profile(Request(3), &second).ok());
  EXPECT_EQ(backend_->loads(), 1);
  for (const auto& e : second) {
    if (e.has_phase_started()) {
      EXPECT_NE(e.phase_started().phase(), v1::PHASE_MODEL_LOAD);
    }
  }

  grpc::ClientContext c2;
  v1::ListRunsResponse list;
  ASSERT_TRUE(stub_->ListRuns(&c2, v1::ListRunsRequest(), &list).ok());
  EXPECT_EQ(list.total_count(), 2u);

  grpc::ClientContext c3;
  v1::CompareRunsRequest cmp;
  cmp.add_run_ids(id);
  cmp.add_run_ids(second.front().run_id());
  v1::CompareRunsResponse compared;
  ASSERT_TRUE(stub_->CompareRuns(&c3, cmp, &compared).ok());
  EXPECT_EQ(compared.runs_size(), 2);
  EXPECT_GT(compared.metrics_size(), 5);

  grpc::ClientContext c4;
  v1::ExportRunRequest exp;
  exp.set_run_id(id);
  exp.set_format(v1::EXPORT_FORMAT_CSV);
  auto reader = stub_->ExportRun(&c4, exp);
  v1::ExportRunChunk chunk;
  std::string csv;
  while (reader->Read(&chunk)) csv += chunk.data();
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_THAT(csv, HasSubstr(absl::StrCat("run_id,", id)));
  EXPECT_THAT(csv, HasSubstr("# table: tokens"));

  grpc::ClientContext c5;
  v1::DeleteRunRequest del;
  del.set_run_id(id);
  v1::DeleteRunResponse deleted;
  ASSERT_TRUE(stub_->DeleteRun(&c5, del, &deleted).ok());
  grpc::ClientContext c6;
  EXPECT_EQ(stub_->GetRun(&c6, get, &run).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ProfilerServiceTest, BadRequestsAreRejectedWithTheReason) {
  Start();
  struct Case {
    std::function<void(v1::ProfileRequest&)> edit;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {[](auto& r) { r.set_prompt(""); }, grpc::StatusCode::INVALID_ARGUMENT, "prompt is empty"},
      {[](auto& r) { r.set_max_new_tokens(65); }, grpc::StatusCode::INVALID_ARGUMENT, "[1, 64]"},
      {[](auto& r) { r.set_max_new_tokens(0); }, grpc::StatusCode::INVALID_ARGUMENT, "max_new_tokens 0"},
      {[](auto& r) { r.mutable_sampling()->set_temperature(11); }, grpc::StatusCode::INVALID_ARGUMENT, "temperature 11"},
      {[](auto& r) { r.mutable_sampling()->set_top_p(1.5); }, grpc::StatusCode::INVALID_ARGUMENT, "top_p 1.5"},
      {[](auto& r) { r.mutable_sampling()->set_top_k(5000); }, grpc::StatusCode::INVALID_ARGUMENT, "vocabulary"},
      {[](auto& r) { r.set_detail(static_cast<v1::DetailLevel>(99)); }, grpc::StatusCode::INVALID_ARGUMENT, "detail level 99"},
      {[](auto& r) { r.set_model("nope"); }, grpc::StatusCode::NOT_FOUND, "no model 'nope'"},
      {[](auto& r) { r.set_model("../models/tiny"); }, grpc::StatusCode::INVALID_ARGUMENT, "'..'"},
      {[](auto& r) { r.set_dtype("int4"); }, grpc::StatusCode::INVALID_ARGUMENT, "dtype 'int4'"},
      {[](auto& r) { r.set_device("tpu"); }, grpc::StatusCode::INVALID_ARGUMENT, "device 'tpu'"},
      {[](auto& r) { r.set_idle_baseline_ms(70000); }, grpc::StatusCode::INVALID_ARGUMENT, "idle_baseline_ms"},
      {[](auto& r) { r.add_tags(""); }, grpc::StatusCode::INVALID_ARGUMENT, "tag"},
  };
  for (const Case& c : cases) {
    v1::ProfileRequest r = Request();
    c.edit(r);
    grpc::Status status = Profile(r, nullptr);
    EXPECT_EQ(status.error_code(), c.code) << c.message << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
  }
  // Known only once the prompt is tokenized: too long for the context (256 tokens).
  v1::ProfileRequest long_prompt = Request(60);
  long_prompt.set_prompt(std::string(220, 'x'));
  std::vector<v1::ProfileEvent> events;
  grpc::Status status = Profile(long_prompt, &events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("context of 256 tokens"));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().summary().status(), v1::RUN_STATUS_FAILED);
}

TEST_F(ProfilerServiceTest, ClientThatDisconnectsCancelsItsRun) {
  backend_->options().component_us = 400;  // slow enough to disconnect mid-run
  Start();
  std::string id;
  {
    grpc::ClientContext ctx;
    auto reader = stub_->Profile(&ctx, Request(60));
    v1::ProfileEvent e;
    while (reader->Read(&e)) {
      if (e.has_run_started()) id = e.run_id();
      if (e.has_token() && e.token().token().index() == 2) break;
    }
    ctx.TryCancel();
    reader->Finish();
  }
  ASSERT_FALSE(id.empty());
  absl::StatusOr<v1::RunSummary> summary;
  for (int i = 0; i < 200; ++i) {
    summary = store_->GetSummary(id);
    if (summary.ok() && summary->status() != v1::RUN_STATUS_RUNNING) break;
    absl::SleepFor(absl::Milliseconds(25));
  }
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->status(), v1::RUN_STATUS_CANCELLED);
  EXPECT_LT(summary->output_tokens(), 60u);
  bool said = false;
  for (const auto& w : summary->warnings()) said |= w.message().find("client disconnected") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST_F(ProfilerServiceTest, FullQueueIsResourceExhausted) {
  backend_->options().component_us = 300;
  RunManagerOptions options;
  options.max_queued = 0;
  Start(options);
  grpc::ClientContext first_ctx;
  auto first = stub_->Profile(&first_ctx, Request(40));
  v1::ProfileEvent e;
  ASSERT_TRUE(first->Read(&e));  // the first run has started
  grpc::Status second = Profile(Request(), nullptr);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(second.error_message(), HasSubstr("busy"));
  // CancelRun stops the first one.
  grpc::ClientContext cctx;
  v1::CancelRunRequest cancel;
  cancel.set_run_id(e.run_id());
  v1::CancelRunResponse cancelled;
  ASSERT_TRUE(stub_->CancelRun(&cctx, cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.status(), v1::RUN_STATUS_CANCELLED);
  while (first->Read(&e)) {
  }
  EXPECT_TRUE(first->Finish().ok());
  EXPECT_EQ(e.summary().status(), v1::RUN_STATUS_CANCELLED);
}

// A run cancelled before it started (here: eprofd shuts down while it waits) ends with a summary
// that carries what every run's summary carries from its request (NewRunSummary), and says why.
TEST_F(ProfilerServiceTest, ARunCancelledWhileQueuedHasAWholeSummary) {
  backend_->options().component_us = 300;
  Start();
  absl::StatusOr<std::shared_ptr<RunHandle>> first = manager_->Submit(Request(40));
  ASSERT_TRUE(first.ok()) << first.status();
  v1::ProfileRequest request = Request();
  request.add_tags("queued");
  request.set_experiment("exp");
  absl::StatusOr<std::shared_ptr<RunHandle>> second = manager_->Submit(request);
  ASSERT_TRUE(second.ok()) << second.status();
  manager_->Shutdown("eprofd is shutting down");
  ASSERT_TRUE((*second)->done.HasBeenNotified());
  const v1::RunSummary& s = (*second)->result.summary;
  EXPECT_EQ(s.status(), v1::RUN_STATUS_CANCELLED);
  EXPECT_THAT(s.error(), HasSubstr("cancelled while queued: eprofd is shutting down"));
  EXPECT_EQ(s.run_id(), (*second)->run_id);
  EXPECT_EQ(s.detail(), v1::DETAIL_LEVEL_LAYERS);
  ASSERT_EQ(s.tags_size(), 1);
  EXPECT_EQ(s.tags(0), "queued");
  EXPECT_EQ(s.experiment(), "exp");
  EXPECT_GT(s.created_at_unix_ms(), 0);
  EXPECT_EQ(s.request().prompt(), "Hello");
}

// RunManager's model cache keeps loaded models within its budget of weight bytes, the least
// recently used going first and the one in use always kept; a kept model is not loaded again.
TEST_F(ProfilerServiceTest, TheModelCacheEvictsTheLeastRecentlyUsedBeyondItsBudget) {
  WriteModelDir(dir_ / "models" / "other");
  WriteModelDir(dir_ / "models" / "third");
  backend_->options().weight_bytes = 1 << 20;
  RunManagerOptions options;
  options.model_cache_bytes = (2 << 20) + (1 << 19);  // room for two models, not three
  Start(options);
  auto run = [&](const std::string& model) {
    v1::ProfileRequest r = Request(2);
    r.set_model(model);
    r.set_idle_baseline_ms(0);
    ASSERT_TRUE(Profile(r, nullptr).ok()) << model;
  };
  run("tiny");
  run("other");
  EXPECT_EQ(backend_->loads(), 2);
  EXPECT_THAT(manager_->loaded_models(), ::testing::UnorderedElementsAre("tiny", "other"));
  run("tiny");  // cached: not loaded again, and now the most recently used
  EXPECT_EQ(backend_->loads(), 2);
  run("third");  // over the budget: "other", the least recently used, goes
  EXPECT_EQ(backend_->loads(), 3);
  EXPECT_THAT(manager_->loaded_models(), ::testing::UnorderedElementsAre("third", "tiny"));
  run("other");
  EXPECT_EQ(backend_->loads(), 4);
  EXPECT_THAT(manager_->loaded_models(), ::testing::UnorderedElementsAre("other", "third"));
  // A budget smaller than one model still keeps the one in use.
  backend_->options().weight_bytes = 8 << 20;
  WriteModelDir(dir_ / "models" / "big");
  run("big");
  EXPECT_THAT(manager_->loaded_models(), ::testing::ElementsAre("big"));
}

TEST_F(ProfilerServiceTest, TenWatchersSeeTheSameEventsInTheSameOrder) {
  backend_->options().component_us = 200;
  Start();
  grpc::ClientContext pctx;
  auto profile = stub_->Profile(&pctx, Request(30));
  v1::ProfileEvent first;
  ASSERT_TRUE(profile->Read(&first));
  std::vector<std::vector<std::pair<uint64_t, int>>> seen(10);
  std::vector<std::thread> watchers;
  for (int w = 0; w < 10; ++w) {
    watchers.emplace_back([&, w] {
      grpc::ClientContext ctx;
      v1::WatchRequest req;
      req.set_run_id(w % 2 == 0 ? first.run_id() : "");  // by id, or "the current run"
      auto reader = stub_->Watch(&ctx, req);
      v1::ProfileEvent e;
      while (reader->Read(&e)) seen[w].push_back({e.seq(), static_cast<int>(e.event_case())});
      EXPECT_TRUE(reader->Finish().ok());
    });
  }
  std::vector<std::pair<uint64_t, int>> own = {{first.seq(), static_cast<int>(first.event_case())}};
  v1::ProfileEvent e;
  while (profile->Read(&e)) own.push_back({e.seq(), static_cast<int>(e.event_case())});
  ASSERT_TRUE(profile->Finish().ok());
  for (auto& t : watchers) t.join();
  for (int w = 0; w < 10; ++w) EXPECT_EQ(seen[w], own) << "watcher " << w;
  EXPECT_EQ(own.back().second, static_cast<int>(v1::ProfileEvent::kSummary));

  // A finished run can still be watched, from the store.
  grpc::ClientContext ctx;
  v1::WatchRequest req;
  req.set_run_id(first.run_id());
  auto reader = stub_->Watch(&ctx, req);
  int tokens = 0;
  bool summary = false;
  while (reader->Read(&e)) {
    tokens += e.has_token();
    summary |= e.has_summary();
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(tokens, 30);
  EXPECT_TRUE(summary);
  grpc::ClientContext nctx;
  v1::WatchRequest none;
  auto no_run = stub_->Watch(&nctx, none);
  while (no_run->Read(&e)) {
  }
  EXPECT_EQ(no_run->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ProfilerServiceTest, StatusModelsAndPower) {
  Start();
  grpc::ClientContext c1;
  v1::ListModelsResponse models;
  ASSERT_TRUE(stub_->ListModels(&c1, v1::ListModelsRequest(), &models).ok());
  ASSERT_EQ(models.models_size(), 1);
  EXPECT_EQ(models.models(0).name(), "tiny");
  EXPECT_EQ(models.models(0).family(), "llama");

  grpc::ClientContext c2;
  v1::GetStatusResponse status;
  ASSERT_TRUE(stub_->GetStatus(&c2, v1::GetStatusRequest(), &status).ok());
  EXPECT_TRUE(status.power().connected());
  EXPECT_EQ(status.power().source(), "fake");
  EXPECT_EQ(status.max_new_tokens_cap(), 64u);
  EXPECT_EQ(status.max_queued_runs(), RunManagerOptions().max_queued);
  EXPECT_EQ(status.database_path(), (dir_ / "eprof.db").string());
  EXPECT_FALSE(status.has_current_run());

  grpc::ClientContext c3;
  v1::StreamPowerRequest req;
  req.set_interval_ms(20);  // the feed's windows are 5 ms: merged four by four
  auto reader = stub_->StreamPower(&c3, req);
  v1::StreamSamplesResponse r;
  int samples = 0;
  while (samples < 3 && reader->Read(&r)) {
    for (const auto& s : r.samples()) {
      EXPECT_GE(s.window_ns(), 20'000'000);
      EXPECT_NEAR(s.readings(0).power_mw(), s.readings(0).energy_mj() / (s.window_ns() * 1e-9), 1e-6);
      ++samples;
    }
  }
  c3.TryCancel();
  reader->Finish();
  EXPECT_EQ(samples, 3);
}

}  // namespace
}  // namespace eprof::daemon
