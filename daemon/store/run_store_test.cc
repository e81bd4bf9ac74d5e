#include "daemon/store/run_store.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/paths.h"
#include "common/status_matchers.h"
#include "daemon/store/schema.h"
#include "daemon/store/sqlite.h"
#include "daemon/store/token_layers.h"
#include "eprof/store/token_layers.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace eprof::store {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::IsOkAndHolds;
using ::eprof::testing::StatusIs;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RunStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("run_store_", getpid(), "_", counter_++);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "sub" / "eprof.db").string();  // the directory is created by Open
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<RunStore> OpenOrDie() {
    absl::StatusOr<std::unique_ptr<RunStore>> store = RunStore::Open(path_);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(*store) : nullptr;
  }

  // The one integer `sql` selects (with `?` bound to `arg`, if given), through a separate
  // connection; -1 when the query fails (the expectations say why).
  int64_t QueryInt(const std::string& sql, const std::string& arg = "") {
    auto db = Database::Open(path_);
    EXPECT_THAT(db, IsOk());
    if (!db.ok()) return -1;
    auto q = (*db)->Prepare(sql);
    EXPECT_THAT(q, IsOk());
    if (!q.ok()) return -1;
    if (!arg.empty()) q->Bind(1, arg);
    EXPECT_THAT(q->Step(), IsOkAndHolds(true));
    return q->ColumnInt(0);
  }
  // Counts rows of `table` for `run_id`.
  int64_t Rows(const std::string& table, const std::string& run_id) {
    return QueryInt(absl::StrCat("SELECT COUNT(*) FROM ", table, " WHERE run_id = ?"), run_id);
  }
  // Whether the database has a table or index called `name`.
  bool HasTable(const std::string& name) {
    return QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE name = ?", name) > 0;
  }

  // A database as schema version 1 left it, holding run "old" with `rows`: written by the current
  // store, then turned back (layer_metrics rows with LayerMetrics blobs, no token_layers,
  // version 1). The detail blob of token `corrupt_token`'s first layer is not a proto, if >= 0.
  void WriteSchemaOneRun(const RunRows& rows, int corrupt_token);  // defined below

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string path_;
};

v1::RunSummary Summary(const std::string& id, const std::string& model, int64_t created_ms,
                       v1::RunStatus status, double energy_mj = 0,
                       std::vector<std::string> tags = {}, const std::string& experiment = "") {
  v1::RunSummary s;
  s.set_run_id(id);
  s.mutable_model()->set_name(model);
  s.set_created_at_unix_ms(created_ms);
  s.set_status(status);
  s.mutable_total_energy()->set_total_mj(energy_mj);
  s.set_joules_per_token(energy_mj / 1000);
  for (auto& t : tags) s.add_tags(t);
  s.set_experiment(experiment);
  return s;
}

v1::Energy MakeEnergy(double total, double dynamic, v1::Attribution a) {
  v1::Energy e;
  e.set_total_mj(total);
  e.set_dynamic_mj(dynamic);
  e.set_attribution(a);
  e.set_quality(v1::QUALITY_MEASURED);
  return e;
}

// Token `index` with 2 layers, each with q_proj and down_proj components and 2 heads of
// attention statistics; energies derived from the index so every value is distinct.
v1::TokenRecord Token(uint32_t index, v1::Phase phase) {
  v1::TokenRecord t;
  t.set_index(index);
  t.set_token_id(1000 + index);
  t.set_text(absl::StrCat("tok", index, "\xC3\xA9"));
  t.set_phase(phase);
  t.set_start_ns(1'000'000 * index);
  t.set_end_ns(1'000'000 * (index + 1));
  *t.mutable_energy() = MakeEnergy(10.0 + index, 4.0 + index, v1::ATTRIBUTION_TIME_SHARE);
  v1::ChannelEnergy* ce = t.mutable_energy()->add_channels();
  ce->set_channel("cpu");
  ce->set_total_mj(10.0 + index);
  ce->set_dynamic_mj(4.0 + index);
  ce->set_quality(v1::QUALITY_MEASURED);
  t.set_probability(0.5);
  for (int layer = 0; layer < 2; ++layer) {
    v1::LayerMetrics* l = t.add_layers();
    l->set_layer(layer);
    l->set_duration_ns(100 * (layer + 1));
    *l->mutable_energy() = MakeEnergy(1.0 + layer, 0.5, v1::ATTRIBUTION_TIME_SHARE);
    l->mutable_output()->set_mean_abs(0.25);
    l->mutable_output()->set_std(1.5);
    l->mutable_output()->set_max_abs(7);
    l->mutable_output()->set_near_zero_fraction(0.125);
    for (v1::Component c : {v1::COMPONENT_Q_PROJ, v1::COMPONENT_DOWN_PROJ}) {
      v1::ComponentMetrics* cm = l->add_components();
      cm->set_component(c);
      cm->set_duration_ns(10 * c);
      *cm->mutable_energy() = MakeEnergy(0.1 * static_cast<int>(c), 0.05 * static_cast<int>(c),
                                         v1::ATTRIBUTION_TIME_SHARE);
      cm->mutable_activations()->set_mean_abs(static_cast<int>(c));
      cm->mutable_activations()->set_std(2);
      cm->mutable_activations()->set_max_abs(3);
      cm->mutable_activations()->set_near_zero_fraction(0.5);
    }
    for (int h = 0; h < 2; ++h) {
      v1::AttentionHeadStats* hs = l->add_attention_heads();
      hs->set_head(h);
      hs->set_entropy_nats(0.75 + h);
      hs->set_max_weight(0.5);
      hs->set_sparse_fraction(0.25);
    }
  }
  return t;
}

RunRows SampleRows() {
  RunRows rows;
  for (int i = 0; i < 3; ++i) {
    v1::PowerSample s;
    s.set_seq(i);
    s.set_t_end_ns(100 * (i + 1));
    s.set_window_ns(100);
    s.set_source("rapl");
    for (const char* ch : {"core", "package-0"}) {
      v1::Reading* r = s.add_readings();
      r->set_channel(ch);
      r->set_energy_mj(i + 0.5);
      r->set_power_mw(5000);
      r->set_quality(v1::QUALITY_MEASURED);
    }
    rows.samples.push_back(s);
  }
  v1::PhaseRecord prefill;
  prefill.set_phase(v1::PHASE_PREFILL);
  prefill.set_start_ns(0);
  prefill.set_end_ns(1'000'000);
  *prefill.mutable_energy() = MakeEnergy(10, 4, v1::ATTRIBUTION_TIME_SHARE);
  v1::SectionRecord* sec = prefill.add_sections();
  sec->set_name("forward");
  sec->set_phase(v1::PHASE_PREFILL);
  rows.phases.push_back(prefill);
  v1::PhaseRecord decode = prefill;
  decode.set_phase(v1::PHASE_DECODE);
  decode.set_start_ns(1'000'000);
  decode.set_end_ns(3'000'000);
  decode.clear_sections();
  rows.phases.push_back(decode);
  rows.tokens = {Token(0, v1::PHASE_PREFILL), Token(1, v1::PHASE_DECODE),
                 Token(2, v1::PHASE_DECODE)};
  return rows;
}

void RunStoreTest::WriteSchemaOneRun(const RunRows& rows, int corrupt_token) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    v1::RunSummary s = Summary("old", "llama/tiny", 1000, v1::RUN_STATUS_COMPLETED);
    ASSERT_THAT(store->CreateRun(s), IsOk());
    ASSERT_THAT(store->AppendRows("old", rows), IsOk());
    ASSERT_THAT(store->UpdateSummary(s), IsOk());
  }
  auto db = Database::Open(path_);
  ASSERT_THAT(db, IsOk());
  const std::string v1_sql = Migrations()[0];
  const size_t at = v1_sql.find("CREATE TABLE layer_metrics");
  ASSERT_NE(at, std::string::npos);
  ASSERT_THAT((*db)->Exec(v1_sql.substr(at, v1_sql.find(';', at) + 1 - at)), IsOk());
  auto ins = (*db)->Prepare(
      "INSERT INTO layer_metrics(run_id, token_idx, layer, duration_ns, total_mj, dynamic_mj, "
      "attribution, detail) VALUES (?,?,?,?,?,?,?,?)");
  ASSERT_THAT(ins, IsOk());
  for (const v1::TokenRecord& t : rows.tokens) {
    for (const v1::LayerMetrics& l : t.layers()) {
      v1::LayerMetrics detail;  // version 1's blob: only these three fields
      *detail.mutable_components() = l.components();
      *detail.mutable_attention_heads() = l.attention_heads();
      if (l.has_output()) *detail.mutable_output() = l.output();
      const bool corrupt = static_cast<int>(t.index()) == corrupt_token && &l == &t.layers(0);
      ins->Bind(1, std::string("old"));
      ins->Bind(2, static_cast<int64_t>(t.index()));
      ins->Bind(3, static_cast<int64_t>(l.layer()));
      ins->Bind(4, static_cast<int64_t>(l.duration_ns()));
      ins->Bind(5, l.energy().total_mj());
      ins->Bind(6, l.energy().dynamic_mj());
      ins->Bind(7, static_cast<int64_t>(l.energy().attribution()));
      ins->BindBlob(8, corrupt ? std::string("\xff\xff\xff") : detail.SerializeAsString());
      ASSERT_THAT(ins->Run(), IsOk());
    }
  }
  ASSERT_THAT((*db)->Exec("DROP TABLE token_layers; UPDATE schema_version SET version = 1"), IsOk());
}

TEST_F(RunStoreTest, OpensWithWalForeignKeysAndTheLatestSchema) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto db = Database::Open(path_);
  ASSERT_THAT(db, IsOk());
  auto q = (*db)->Prepare("PRAGMA journal_mode");
  ASSERT_THAT(q, IsOk());
  ASSERT_THAT(q->Step(), IsOkAndHolds(true));
  EXPECT_EQ(q->ColumnText(0), "wal");
  EXPECT_EQ(QueryInt("SELECT version FROM schema_version"), RunStore::LatestSchemaVersion());
  store.reset();
  EXPECT_NE(OpenOrDie(), nullptr);  // reopening does not migrate again
}

TEST_F(RunStoreTest, RefusesANewerSchema) {
  ASSERT_NE(OpenOrDie(), nullptr);
  {
    auto db = Database::Open(path_);
    ASSERT_THAT(db, IsOk());
    ASSERT_THAT((*db)->Exec("UPDATE schema_version SET version = 99"), IsOk());
  }
  EXPECT_THAT(RunStore::Open(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema version 99, newer than this eprofd knows")));
}

TEST_F(RunStoreTest, RefusesAFileThatIsNotADatabase) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  std::ofstream(path_) << std::string(4096, 'x');
  EXPECT_THAT(RunStore::Open(path_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not a valid eprof database")));
}

TEST_F(RunStoreTest, RunRoundTripsWithEveryPart) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  v1::RunSummary s = Summary("r1", "llama/tiny", 1000, v1::RUN_STATUS_RUNNING, 0, {"a", "b"}, "exp");
  ASSERT_THAT(store->CreateRun(s), IsOk());
  EXPECT_THAT(store->CreateRun(s), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("r1")));
  RunRows rows = SampleRows();
  ASSERT_THAT(store->AppendRows("r1", rows), IsOk());
  s.set_status(v1::RUN_STATUS_COMPLETED);
  s.set_output_tokens(3);
  ASSERT_THAT(store->UpdateSummary(s), IsOk());

  absl::StatusOr<v1::GetRunResponse> run = store->GetRun("r1", v1::RunParts());
  ASSERT_THAT(run, IsOk());
  EXPECT_TRUE(MessageDifferencer::Equals(run->summary(), s));
  ASSERT_EQ(run->tokens_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(run->tokens(i), rows.tokens[i]))
        << run->tokens(i).DebugString();
  }
  ASSERT_EQ(run->power_samples_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(run->power_samples(i), rows.samples[i]));
  }
  ASSERT_EQ(run->phases_size(), 2);
  EXPECT_EQ(run->phases(0).phase(), v1::PHASE_PREFILL);
  EXPECT_EQ(run->phases(0).sections(0).name(), "forward");
  // Prefill's layers are token 0's; decode's are the sum over tokens 1 and 2.
  ASSERT_EQ(run->phases(0).layers_size(), 2);
  EXPECT_DOUBLE_EQ(run->phases(0).layers(1).energy().total_mj(), 2.0);
  ASSERT_EQ(run->phases(1).layers_size(), 2);
  EXPECT_EQ(run->phases(1).layers(1).duration_ns(), 400);
  EXPECT_DOUBLE_EQ(run->phases(1).layers(1).energy().total_mj(), 4.0);
  EXPECT_EQ(run->phases(1).layers(0).energy().attribution(), v1::ATTRIBUTION_TIME_SHARE);
  ASSERT_EQ(run->phases(1).layers(0).components_size(), 2);
  EXPECT_EQ(run->phases(1).layers(0).components(1).duration_ns(), 2 * 10 * v1::COMPONENT_DOWN_PROJ);
}

// The profiler hands tokens over with their layers already in stored form (RunRows.token_layers):
// they read back as the same tokens written with their layers in the record.
TEST_F(RunStoreTest, TokensWithLayersInStoredFormReadBackWhole) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  v1::RunSummary s = Summary("packed", "llama/tiny", 1000, v1::RUN_STATUS_COMPLETED);
  ASSERT_THAT(store->CreateRun(s), IsOk());
  const RunRows full = SampleRows();
  RunRows packed = full;
  TokenLayers scratch;
  for (v1::TokenRecord& t : packed.tokens) {
    std::string& layers = packed.token_layers.emplace_back();
    if (t.layers_size() > 0) EncodeTokenLayers(t, &scratch, &layers);
    t.clear_layers();
  }
  packed.tokens[2].clear_layers();
  packed.token_layers[2].clear();  // a token without layers
  ASSERT_THAT(store->AppendRows("packed", packed), IsOk());
  absl::StatusOr<v1::GetRunResponse> run = store->GetRun("packed", v1::RunParts());
  ASSERT_THAT(run, IsOk());
  ASSERT_EQ(run->tokens_size(), 3);
  for (int i = 0; i < 2; ++i) {
    ASSERT_GT(full.tokens[i].layers_size(), 0);
    EXPECT_TRUE(MessageDifferencer::Equals(run->tokens(i), full.tokens[i]))
        << run->tokens(i).DebugString();
  }
  EXPECT_EQ(run->tokens(2).layers_size(), 0);
  EXPECT_EQ(Rows("token_layers", "packed"), 2);
}

// Rows that say a token's layers twice, or give stored forms for only some tokens, are a bug of
// the caller: refused whole, nothing of the batch written.
TEST_F(RunStoreTest, InconsistentStoredFormLayersAreRefusedWhole) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->CreateRun(Summary("bad", "llama/tiny", 1000, v1::RUN_STATUS_RUNNING)), IsOk());
  RunRows twice = SampleRows();
  TokenLayers scratch;
  for (const v1::TokenRecord& t : twice.tokens) {
    EncodeTokenLayers(t, &scratch, &twice.token_layers.emplace_back());
  }
  EXPECT_THAT(store->AppendRows("bad", twice),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("both in its record")));
  RunRows some = SampleRows();
  some.token_layers.resize(1);
  EXPECT_THAT(store->AppendRows("bad", some),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("one entry per token")));
  EXPECT_EQ(Rows("tokens", "bad"), 0);
  EXPECT_EQ(Rows("power_readings", "bad"), 0);
  EXPECT_EQ(Rows("phases", "bad"), 0);
  EXPECT_EQ(Rows("token_layers", "bad"), 0);
}

TEST_F(RunStoreTest, PartsSelectWhatIsRead) {
  auto store = OpenOrDie();
  ASSERT_THAT(store->CreateRun(Summary("r1", "m", 1, v1::RUN_STATUS_COMPLETED)), IsOk());
  ASSERT_THAT(store->AppendRows("r1", SampleRows()), IsOk());
  v1::RunParts tokens_only;
  tokens_only.set_tokens(true);
  auto run = store->GetRun("r1", tokens_only);
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->tokens_size(), 3);
  EXPECT_EQ(run->tokens(0).layers_size(), 0);
  EXPECT_EQ(run->phases_size(), 0);
  EXPECT_EQ(run->power_samples_size(), 0);

  v1::RunParts layers;
  layers.set_tokens(true);
  layers.set_layers(true);
  run = store->GetRun("r1", layers);
  ASSERT_THAT(run, IsOk());
  ASSERT_EQ(run->tokens(0).layers_size(), 2);
  EXPECT_EQ(run->tokens(0).layers(0).components_size(), 0);
  EXPECT_FALSE(run->tokens(0).layers(0).has_output());

  v1::RunParts components;
  components.set_tokens(true);
  components.set_components(true);  // implies layers, not deep statistics
  run = store->GetRun("r1", components);
  ASSERT_THAT(run, IsOk());
  ASSERT_EQ(run->tokens(1).layers(0).components_size(), 2);
  EXPECT_EQ(run->tokens(1).layers(0).components(1).component(), v1::COMPONENT_DOWN_PROJ);
  EXPECT_FALSE(run->tokens(1).layers(0).components(0).has_activations());
  EXPECT_EQ(run->tokens(1).layers(0).attention_heads_size(), 0);
  EXPECT_EQ(run->tokens(1).layers(0).components(0).energy().quality(), v1::QUALITY_MEASURED);

  // The phases' layers (summed from the tokens') without the tokens' own.
  v1::RunParts phase_layers = components;
  phase_layers.set_phases(true);
  phase_layers.set_omit_token_layers(true);
  components.set_phases(true);
  auto with = store->GetRun("r1", components);
  run = store->GetRun("r1", phase_layers);
  ASSERT_THAT(run, IsOk());
  ASSERT_THAT(with, IsOk());
  ASSERT_EQ(run->tokens_size(), 3);
  for (const v1::TokenRecord& t : run->tokens()) EXPECT_EQ(t.layers_size(), 0);
  ASSERT_EQ(run->phases_size(), with->phases_size());
  for (int i = 0; i < run->phases_size(); ++i) {
    EXPECT_EQ(run->phases(i).SerializeAsString(), with->phases(i).SerializeAsString()) << i;
  }
  EXPECT_TRUE(std::any_of(run->phases().begin(), run->phases().end(),
                          [](const v1::PhaseRecord& p) { return p.layers_size() > 0; }));

  EXPECT_THAT(store->GetRun("nope", layers), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
}

// A finished run's prefill and decode phases keep their layer sums in their stored records, so
// reading them needs no token's layers; they are the sums GetRun made from the tokens before.
TEST_F(RunStoreTest, AFinishedRunStoresItsPhaseLayerSums) {
  v1::RunParts all;
  all.set_phases(true);
  all.set_tokens(true);
  all.set_components(true);
  v1::GetRunResponse summed;
  {
    auto store = OpenOrDie();
    ASSERT_THAT(store->CreateRun(Summary("r1", "m", 1, v1::RUN_STATUS_RUNNING)), IsOk());
    ASSERT_THAT(store->AppendRows("r1", SampleRows()), IsOk());
    auto run = store->GetRun("r1", all);  // still running: summed from the tokens on read
    ASSERT_THAT(run, IsOk());
    summed = *run;
    ASSERT_THAT(store->UpdateSummary(Summary("r1", "m", 1, v1::RUN_STATUS_COMPLETED)), IsOk());
  }
  {
    auto db = Database::Open(path_);
    ASSERT_THAT(db, IsOk());
    auto q = (*db)->Prepare("SELECT record FROM phases WHERE run_id = 'r1' ORDER BY phase");
    ASSERT_THAT(q, IsOk());
    int with_layers = 0;
    for (;;) {
      auto row = q->Step();
      ASSERT_THAT(row, IsOk());
      if (!*row) break;
      v1::PhaseRecord p;
      ASSERT_TRUE(p.ParseFromString(q->ColumnText(0)));
      if (p.layers_size() > 0) ++with_layers;
    }
    EXPECT_EQ(with_layers, 2);  // prefill and decode
  }
  auto store = OpenOrDie();
  auto run = store->GetRun("r1", all);
  ASSERT_THAT(run, IsOk());
  ASSERT_EQ(run->phases_size(), summed.phases_size());
  for (int i = 0; i < run->phases_size(); ++i) {
    EXPECT_EQ(run->phases(i).SerializeAsString(), summed.phases(i).SerializeAsString()) << i;
  }
  v1::RunParts without_components;
  without_components.set_phases(true);
  without_components.set_layers(true);
  without_components.set_omit_token_layers(true);
  run = store->GetRun("r1", without_components);
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->tokens_size(), 0);
  for (const v1::PhaseRecord& p : run->phases()) {
    for (const v1::LayerMetrics& l : p.layers()) EXPECT_EQ(l.components_size(), 0);
  }
  EXPECT_TRUE(std::any_of(run->phases().begin(), run->phases().end(),
                          [](const v1::PhaseRecord& p) { return p.layers_size() > 0; }));
  v1::RunParts phases_only;
  phases_only.set_phases(true);
  run = store->GetRun("r1", phases_only);
  ASSERT_THAT(run, IsOk());
  for (const v1::PhaseRecord& p : run->phases()) EXPECT_EQ(p.layers_size(), 0);
}

// Before, a second eprofd on the same database marked the first one's live run interrupted.
TEST_F(RunStoreTest, ASecondStoreOnTheSameFileIsRefusedNamingTheHolder) {
  auto first = OpenOrDie();
  ASSERT_NE(first, nullptr);
  EXPECT_THAT(RunStore::Open(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(absl::StrCat("pid ", getpid())),
                             HasSubstr("one database, one eprofd"), HasSubstr("--db"))));
  first.reset();
  EXPECT_NE(OpenOrDie(), nullptr) << "the lock goes with the store";
}

// Before, --db pointed at another application's SQLite file got eprof's tables added to it.
TEST_F(RunStoreTest, AnotherApplicationsDatabaseIsRefusedUnchanged) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  {
    auto db = Database::Open(path_);
    ASSERT_THAT(db, IsOk());
    ASSERT_THAT((*db)->Exec("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)"), IsOk());
  }
  EXPECT_THAT(RunStore::Open(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("another application"), HasSubstr("moz_places"),
                             HasSubstr("unchanged"))));
  EXPECT_FALSE(HasTable("runs"));
  EXPECT_FALSE(HasTable("schema_version"));
}

// Before, a few runs with 3 MB prompts made one page of ListRuns larger than gRPC's 4 MiB
// message limit, even at page size 2.
TEST_F(RunStoreTest, ListsCarryPreviewsOfLongPromptsAndTexts) {
  auto store = OpenOrDie();
  const std::string prompt = "é" + std::string(3 << 20, 'p');
  for (int i = 0; i < 5; ++i) {
    v1::RunSummary s = Summary(absl::StrCat("long", i), "m", i + 1, v1::RUN_STATUS_COMPLETED);
    s.mutable_request()->set_prompt(prompt);
    s.set_output_text(std::string(300, 'o') + "\xE2\x82\xAC");
    ASSERT_THAT(store->CreateRun(s), IsOk());
  }
  v1::ListRunsRequest all;
  auto list = store->ListRuns(all);
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->runs_size(), 5);
  EXPECT_LT(list->ByteSizeLong(), 64u << 10);
  const v1::RunSummary& r = list->runs(0);
  EXPECT_TRUE(r.prompt_truncated());
  EXPECT_EQ(r.prompt_bytes(), prompt.size());
  EXPECT_EQ(r.request().prompt(), prompt.substr(0, 256));
  EXPECT_TRUE(r.output_text_truncated());
  EXPECT_EQ(r.output_text().size(), 256u);
  // GetRun has them whole.
  auto whole = store->GetSummary("long0");
  ASSERT_THAT(whole, IsOk());
  EXPECT_EQ(whole->request().prompt(), prompt);
  EXPECT_FALSE(whole->prompt_truncated());
  EXPECT_EQ(whole->prompt_bytes(), prompt.size());
}

TEST_F(RunStoreTest, ListRefusesAnUnknownSortAndFindsRunsByIdPrefix) {
  auto store = OpenOrDie();
  ASSERT_THAT(store->CreateRun(Summary("abc111", "m", 1, v1::RUN_STATUS_COMPLETED)), IsOk());
  ASSERT_THAT(store->CreateRun(Summary("abc222", "m", 2, v1::RUN_STATUS_COMPLETED)), IsOk());
  ASSERT_THAT(store->CreateRun(Summary("def333", "m", 3, v1::RUN_STATUS_COMPLETED)), IsOk());
  v1::ListRunsRequest bad_sort;
  bad_sort.set_sort(static_cast<v1::RunSort>(42));
  EXPECT_THAT(store->ListRuns(bad_sort),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sort 42 is unknown")));
  v1::ListRunsRequest prefix;
  prefix.set_id_prefix("abc");
  EXPECT_EQ(store->ListRuns(prefix)->total_count(), 2u);
  prefix.set_id_prefix("abc2");
  auto one = store->ListRuns(prefix);
  ASSERT_THAT(one, IsOk());
  ASSERT_EQ(one->runs_size(), 1);
  EXPECT_EQ(one->runs(0).run_id(), "abc222");
  prefix.set_id_prefix("ab%");
  EXPECT_THAT(store->ListRuns(prefix), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RunStoreTest, UnfinishedRunsBecomeInterrupted) {
  {
    auto store = OpenOrDie();
    ASSERT_THAT(store->CreateRun(Summary("done", "m", 1, v1::RUN_STATUS_COMPLETED)), IsOk());
    ASSERT_THAT(store->CreateRun(Summary("live", "m", 2, v1::RUN_STATUS_RUNNING)), IsOk());
    ASSERT_THAT(store->AppendRows("live", SampleRows()), IsOk());
  }  // the daemon "dies"
  auto store = OpenOrDie();
  EXPECT_THAT(store->MarkUnfinishedInterrupted(), IsOkAndHolds(1));
  EXPECT_THAT(store->MarkUnfinishedInterrupted(), IsOkAndHolds(0));
  auto live = store->GetSummary("live");
  ASSERT_THAT(live, IsOk());
  EXPECT_EQ(live->status(), v1::RUN_STATUS_INTERRUPTED);
  ASSERT_EQ(live->warnings_size(), 1);
  EXPECT_EQ(live->warnings(0).code(), "interrupted");
  EXPECT_EQ(store->GetSummary("done")->status(), v1::RUN_STATUS_COMPLETED);
  // What was saved before the "crash" is still there.
  EXPECT_EQ(store->GetRun("live", v1::RunParts())->tokens_size(), 3);
  v1::ListRunsRequest by_status;
  by_status.add_statuses(v1::RUN_STATUS_INTERRUPTED);
  EXPECT_EQ(store->ListRuns(by_status)->total_count(), 1u);
}

// A run left running whose summary cannot be read is still marked interrupted (it would
// otherwise show as running forever); its summary stays as it was and reads as data loss.
TEST_F(RunStoreTest, AnUnfinishedRunWithAnUnreadableSummaryIsMarkedToo) {
  {
    auto store = OpenOrDie();
    ASSERT_THAT(store->CreateRun(Summary("done", "m", 1, v1::RUN_STATUS_COMPLETED)), IsOk());
    ASSERT_THAT(store->CreateRun(Summary("torn", "m", 2, v1::RUN_STATUS_RUNNING)), IsOk());
    ASSERT_THAT(store->CreateRun(Summary("live", "m", 3, v1::RUN_STATUS_RUNNING)), IsOk());
  }
  {
    auto db = Database::Open(path_);
    ASSERT_THAT(db, IsOk());
    ASSERT_THAT((*db)->Exec("UPDATE runs SET summary = x'ffffffff' WHERE id = 'torn'"), IsOk());
  }
  auto store = OpenOrDie();
  EXPECT_THAT(store->MarkUnfinishedInterrupted(), IsOkAndHolds(2));
  EXPECT_THAT(store->MarkUnfinishedInterrupted(), IsOkAndHolds(0));
  EXPECT_EQ(store->GetSummary("live")->status(), v1::RUN_STATUS_INTERRUPTED);
  EXPECT_EQ(store->GetSummary("done")->status(), v1::RUN_STATUS_COMPLETED);
  EXPECT_THAT(store->GetSummary("torn"), StatusIs(absl::StatusCode::kDataLoss));
  v1::ListRunsRequest running;
  running.add_statuses(v1::RUN_STATUS_RUNNING);
  EXPECT_EQ(store->ListRuns(running)->total_count(), 0u);
  // The damaged run does not hide the others from a list.
  absl::StatusOr<v1::ListRunsResponse> all = store->ListRuns(v1::ListRunsRequest());
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->runs_size(), 2);
}

// A database of schema version 1 (one layer_metrics row per token and layer, components in a
// LayerMetrics blob) opens migrated to version 2: every token reads back whole, components,
// activation and attention statistics included, and layer_metrics is gone.
TEST_F(RunStoreTest, MigratesSchemaOneLayerRowsIntoOneRowPerToken) {
  const RunRows rows = SampleRows();
  WriteSchemaOneRun(rows, /*corrupt_token=*/-1);
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<v1::GetRunResponse> run = store->GetRun("old", v1::RunParts());
  ASSERT_THAT(run, IsOk());
  ASSERT_EQ(run->tokens_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(run->tokens(i), rows.tokens[i]))
        << run->tokens(i).DebugString();
  }
  EXPECT_EQ(Rows("token_layers", "old"), 3);
  EXPECT_TRUE(HasTable("token_layers"));
  EXPECT_FALSE(HasTable("layer_metrics"));
}

// A migration that meets a row it cannot read fails the open with the run, token and layer
// named, and leaves the database as it was: version 1, every layer row still there.
TEST_F(RunStoreTest, AMigrationThatCannotReadARowChangesNothing) {
  const RunRows rows = SampleRows();
  WriteSchemaOneRun(rows, /*corrupt_token=*/1);
  EXPECT_THAT(RunStore::Open(path_),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("migration to schema version 2 failed and changed "
                                       "nothing (the database stays at version 1"),
                             HasSubstr("run old: stored metrics of token 1 layer 0 are unreadable"),
                             HasSubstr("or start eprofd with another --db"))));
  EXPECT_EQ(Rows("layer_metrics", "old"), 6);  // 3 tokens x 2 layers
  EXPECT_EQ(QueryInt("SELECT version FROM schema_version"), 1);
  EXPECT_FALSE(HasTable("token_layers"));
}

// A token_layers row that does not decode fails the read with the run and token named, instead
// of returning a token with wrong layers.
TEST_F(RunStoreTest, AnUnreadableLayersRowIsDataLoss) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->CreateRun(Summary("r1", "m", 1, v1::RUN_STATUS_COMPLETED)), IsOk());
  ASSERT_THAT(store->AppendRows("r1", SampleRows()), IsOk());
  {
    TokenLayers bad;  // a layer without its duration or energies
    bad.add_layer(0);
    auto db = Database::Open(path_);
    ASSERT_THAT(db, IsOk());
    auto up = (*db)->Prepare("UPDATE token_layers SET layers = ? WHERE run_id = 'r1' AND token_idx = 1");
    ASSERT_THAT(up, IsOk());
    up->BindBlob(1, bad.SerializeAsString());
    ASSERT_THAT(up->Run(), IsOk());
  }
  EXPECT_THAT(store->GetRun("r1", v1::RunParts()),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("run r1: stored layer metrics of token 1 are unreadable")));
}

TEST_F(RunStoreTest, DeleteCascadesToEveryTable) {
  auto store = OpenOrDie();
  ASSERT_THAT(store->CreateRun(Summary("r1", "m", 1, v1::RUN_STATUS_COMPLETED, 0, {"t"})), IsOk());
  ASSERT_THAT(store->CreateRun(Summary("r2", "m", 2, v1::RUN_STATUS_COMPLETED)), IsOk());
  ASSERT_THAT(store->AppendRows("r1", SampleRows()), IsOk());
  ASSERT_THAT(store->AppendRows("r2", SampleRows()), IsOk());
  ASSERT_THAT(store->DeleteRun("r1"), IsOk());
  for (const char* table : {"run_tags", "phases", "tokens", "token_layers", "power_readings"}) {
    EXPECT_EQ(Rows(table, "r1"), 0) << table;
  }
  EXPECT_EQ(Rows("tokens", "r2"), 3);
  EXPECT_THAT(store->DeleteRun("r1"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("r1")));
  EXPECT_THAT(store->AppendRows("r1", SampleRows()), StatusIs(absl::StatusCode::kNotFound, HasSubstr("r1")));
  EXPECT_THAT(store->IntegrityCheck(), IsOk());
}

TEST_F(RunStoreTest, ListFiltersSortsAndPages) {
  auto store = OpenOrDie();
  ASSERT_THAT(store->CreateRun(Summary("a", "llama", 100, v1::RUN_STATUS_COMPLETED, 50, {"x"}, "e1")), IsOk());
  ASSERT_THAT(store->CreateRun(Summary("b", "qwen", 200, v1::RUN_STATUS_COMPLETED, 10, {"x", "y"}, "e1")), IsOk());
  ASSERT_THAT(store->CreateRun(Summary("c", "llama", 300, v1::RUN_STATUS_FAILED, 30, {"y"}, "e2")), IsOk());
  ASSERT_THAT(store->CreateRun(Summary("d", "llama", 400, v1::RUN_STATUS_COMPLETED, 20, {}, "e2")), IsOk());

  auto ids = [&](const v1::ListRunsRequest& r) {
    std::vector<std::string> out;
    auto resp = store->ListRuns(r);
    EXPECT_THAT(resp, IsOk());
    if (resp.ok()) for (auto& s : resp->runs()) out.push_back(s.run_id());
    return out;
  };
  v1::ListRunsRequest all;
  EXPECT_THAT(ids(all), ElementsAre("d", "c", "b", "a"));  // newest first
  v1::ListRunsRequest llama;
  llama.set_model("llama");
  EXPECT_THAT(ids(llama), ElementsAre("d", "c", "a"));
  v1::ListRunsRequest tags;
  tags.add_tags("x");
  tags.add_tags("y");
  EXPECT_THAT(ids(tags), ElementsAre("b"));  // every tag must match
  v1::ListRunsRequest exp;
  exp.set_experiment("e2");
  exp.add_statuses(v1::RUN_STATUS_COMPLETED);
  EXPECT_THAT(ids(exp), ElementsAre("d"));
  v1::ListRunsRequest since;
  since.set_since_unix_ms(200);
  since.set_until_unix_ms(400);
  EXPECT_THAT(ids(since), ElementsAre("c", "b"));
  v1::ListRunsRequest by_energy;
  by_energy.set_sort(v1::RUN_SORT_TOTAL_ENERGY);
  by_energy.set_ascending(true);
  EXPECT_THAT(ids(by_energy), ElementsAre("b", "d", "c", "a"));

  v1::ListRunsRequest page;
  page.set_page_size(3);
  auto first = store->ListRuns(page);
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->runs_size(), 3);
  EXPECT_EQ(first->total_count(), 4u);
  ASSERT_FALSE(first->next_page_token().empty());
  page.set_page_token(first->next_page_token());
  auto second = store->ListRuns(page);
  ASSERT_THAT(second, IsOk());
  ASSERT_EQ(second->runs_size(), 1);
  EXPECT_EQ(second->runs(0).run_id(), "a");
  EXPECT_TRUE(second->next_page_token().empty());

  v1::ListRunsRequest bad;
  bad.set_page_size(5000);
  EXPECT_THAT(store->ListRuns(bad), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size 5000")));
  bad.set_page_size(0);
  bad.set_page_token("zz");
  EXPECT_THAT(store->ListRuns(bad), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

TEST_F(RunStoreTest, FullDiskFailsTheWriteAndKeepsEverythingElse) {
  auto store = OpenOrDie();
  ASSERT_THAT(store->CreateRun(Summary("old", "m", 1, v1::RUN_STATUS_COMPLETED)), IsOk());
  ASSERT_THAT(store->AppendRows("old", SampleRows()), IsOk());
  ASSERT_THAT(store->CreateRun(Summary("new", "m", 2, v1::RUN_STATUS_RUNNING)), IsOk());
  // Cap the file at its current size (plus a little): the next big batch cannot fit.
  ASSERT_THAT(store->SetMaxPageCountForTest(40), IsOk());
  RunRows big;
  for (uint32_t i = 0; i < 2000; ++i) big.tokens.push_back(Token(i, v1::PHASE_DECODE));
  absl::Status status = store->AppendRows("new", big);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("full; free space and retry")));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr(path_)));
  // The failed batch left nothing behind; the earlier run is intact; the file is consistent.
  EXPECT_EQ(Rows("tokens", "new"), 0);
  auto old = store->GetRun("old", v1::RunParts());
  ASSERT_THAT(old, IsOk());
  EXPECT_EQ(old->tokens_size(), 3);
  EXPECT_EQ(old->power_samples_size(), 3);
  EXPECT_THAT(store->IntegrityCheck(), IsOk());
  // The run can still be marked failed (a small write).
  v1::RunSummary failed = Summary("new", "m", 2, v1::RUN_STATUS_FAILED);
  failed.set_error(std::string(status.message()));
  EXPECT_THAT(store->UpdateSummary(failed), IsOk());
}

TEST(RunStorePath, FlagThenEnvironmentThenDataDirectory) {
  EXPECT_EQ(RunStore::ResolvePath("/x/y.db"), "/x/y.db");
  setenv("EPROF_DB", "/env/e.db", 1);
  EXPECT_EQ(RunStore::ResolvePath(""), "/env/e.db");
  unsetenv("EPROF_DB");
  setenv("XDG_DATA_HOME", "/xdg", 1);
  EXPECT_EQ(RunStore::ResolvePath(""), "/xdg/eprof/eprof.db");
  unsetenv("XDG_DATA_HOME");
  setenv("HOME", "/home/u", 1);
#if defined(__APPLE__)
  EXPECT_EQ(RunStore::ResolvePath(""), "/home/u/Library/Application Support/eprof/eprof.db");
#else
  EXPECT_EQ(RunStore::ResolvePath(""), "/home/u/.local/share/eprof/eprof.db");
#endif
  // The database and the models share one directory (the models go to DefaultDataDir()/models).
  EXPECT_EQ(RunStore::ResolvePath(""), DefaultDataDir() + "/eprof.db");
}

}  // namespace
}  // namespace eprof::store
