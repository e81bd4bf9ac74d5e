#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_split.h"
#include "common/status_matchers.h"
#include "daemon/service/run_compare.h"
#include "daemon/service/run_export.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

using ::eprof::testing::IsOk;
using ::eprof::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::GetRunResponse MakeRun(const std::string& id, double decode_tps, double j_per_token,
                       double prefill_mj) {
  v1::GetRunResponse r;
  v1::RunSummary* s = r.mutable_summary();
  s->set_run_id(id);
  s->set_status(v1::RUN_STATUS_COMPLETED);
  s->set_decode_tokens_per_s(decode_tps);
  s->set_joules_per_token(j_per_token);
  s->mutable_prefill_energy()->set_total_mj(prefill_mj);
  s->set_start_ns(1'000'000'000);
  s->set_end_ns(3'000'000'000);
  v1::PhaseRecord* p = r.add_phases();
  p->set_phase(v1::PHASE_PREFILL);
  p->set_start_ns(0);
  p->set_end_ns(500);
  p->mutable_energy()->set_total_mj(prefill_mj);
  return r;
}

const v1::MetricComparison& Metric(const v1::CompareRunsResponse& r, const std::string& name) {
  for (const auto& m : r.metrics()) {
    if (m.name() == name) return m;
  }
  ADD_FAILURE() << "no metric " << name;
  return r.metrics(0);
}

TEST(CompareRuns, SideBySideWithDifferencesToTheFirst) {
  auto r = CompareRuns({MakeRun("a", 10, 2.0, 100), MakeRun("b", 15, 1.0, 150), MakeRun("c", 5, 4.0, 0)});
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->runs_size(), 3);
  EXPECT_EQ(r->runs(1).run_id(), "b");
  const auto& tps = Metric(*r, "decode_tokens_per_s");
  EXPECT_THAT(tps.values(), ElementsAre(10, 15, 5));
  EXPECT_THAT(tps.delta_vs_first(), ElementsAre(0, 5, -5));
  EXPECT_THAT(tps.ratio_vs_first(), ElementsAre(1, 1.5, 0.5));
  EXPECT_FALSE(tps.lower_is_better());
  EXPECT_EQ(tps.unit(), "tokens/s");
  const auto& jpt = Metric(*r, "joules_per_token");
  EXPECT_TRUE(jpt.lower_is_better());
  EXPECT_THAT(jpt.ratio_vs_first(), ElementsAre(1, 0.5, 2));
  EXPECT_THAT(Metric(*r, "duration_s").values(), ElementsAre(2, 2, 2));
  ASSERT_EQ(r->phases_size(), 1);
  EXPECT_EQ(r->phases(0).phase(), v1::PHASE_PREFILL);
  EXPECT_EQ(r->phases(0).energy(2).total_mj(), 0);
  EXPECT_THAT(r->phases(0).duration_ns(), ElementsAre(500, 500, 500));
}

TEST(CompareRuns, TakesTwoToTen) {
  EXPECT_THAT(CompareRuns({MakeRun("a", 1, 1, 1)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2 to 10 runs, got 1")));
  std::vector<v1::GetRunResponse> eleven(11, MakeRun("a", 1, 1, 1));
  EXPECT_THAT(CompareRuns(eleven), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 11")));
  auto zero_first = CompareRuns({MakeRun("a", 0, 0, 0), MakeRun("b", 3, 3, 3)});
  ASSERT_THAT(zero_first, IsOk());
  EXPECT_THAT(Metric(*zero_first, "decode_tokens_per_s").ratio_vs_first(), ElementsAre(0, 0));
}

v1::GetRunResponse DetailedRun() {
  v1::GetRunResponse r = MakeRun("r-1", 12.5, 0.25, 1000);
  r.mutable_summary()->set_output_text("Hello, \"world\"\nbye");
  r.mutable_summary()->add_tags("x");
  v1::TokenRecord* t = r.add_tokens();
  t->set_index(0);
  t->set_token_id(42);
  t->set_text("a,b");
  t->set_phase(v1::PHASE_PREFILL);
  t->mutable_energy()->set_total_mj(1.5);
  t->mutable_energy()->set_attribution(v1::ATTRIBUTION_TIME_SHARE);
  v1::LayerMetrics* l = t->add_layers();
  l->set_layer(3);
  v1::ComponentMetrics* c = l->add_components();
  c->set_component(v1::COMPONENT_Q_PROJ);
  c->mutable_energy()->set_total_mj(0.125);
  v1::PowerSample* ps = r.add_power_samples();
  ps->set_seq(7);
  v1::Reading* rd = ps->add_readings();
  rd->set_channel("cpu");
  rd->set_energy_mj(2.5);
  return r;
}

TEST(ExportRun, CsvHasOneQuotedTablePerPart) {
  auto doc = ExportRunDocument(DetailedRun(), v1::EXPORT_FORMAT_CSV);
  ASSERT_THAT(doc, IsOk());
  EXPECT_THAT(*doc, HasSubstr("# table: summary\r\nfield,value\r\nrun_id,r-1\r\n"));
  EXPECT_THAT(*doc, HasSubstr("output_text,\"Hello, \"\"world\"\"\nbye\"\r\n"));
  EXPECT_THAT(*doc, HasSubstr("decode_tokens_per_s,12.5\r\n"));
  EXPECT_THAT(*doc, HasSubstr("# table: phases\r\n"));
  EXPECT_THAT(*doc, HasSubstr("PHASE_PREFILL,0,500,1000,0,ATTRIBUTION_UNSPECIFIED"));
  EXPECT_THAT(*doc, HasSubstr("0,42,\"a,b\",PHASE_PREFILL,0,0,1.5,0,ATTRIBUTION_TIME_SHARE,"));
  EXPECT_THAT(*doc, HasSubstr("# table: components\r\n"));
  EXPECT_THAT(*doc, HasSubstr("0,3,COMPONENT_Q_PROJ,0,0.125,0,"));
  EXPECT_THAT(*doc, HasSubstr("# table: power_samples\r\nseq,t_end_ns,window_ns,channel,energy_mj,"
                              "power_mw,quality\r\n7,0,0,cpu,2.5,0,QUALITY_UNSPECIFIED\r\n"));
}

TEST(ExportRun, JsonParsesBackToTheRun) {
  v1::GetRunResponse run = DetailedRun();
  auto doc = ExportRunDocument(run, v1::EXPORT_FORMAT_JSON);
  ASSERT_THAT(doc, IsOk());
  v1::GetRunResponse back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*doc, &back).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(run, back));
  EXPECT_THAT(*doc, HasSubstr("\"decodeTokensPerS\": 12.5"));
}

TEST(ExportRun, ChunksAreBoundedAndReassemble) {
  v1::GetRunResponse run = DetailedRun();
  for (int i = 0; i < 5000; ++i) *run.add_tokens() = run.tokens(0);
  auto doc = ExportRunDocument(run, v1::EXPORT_FORMAT_CSV);
  auto chunks = ExportRunChunks(run, v1::EXPORT_FORMAT_CSV);
  ASSERT_THAT(chunks, IsOk());
  ASSERT_GT(chunks->size(), 2u);
  std::string joined;
  for (const auto& c : *chunks) {
    EXPECT_LE(c.data().size(), kExportChunkBytes);
    joined += c.data();
  }
  EXPECT_EQ(joined, *doc);
  EXPECT_EQ((*chunks)[0].content_type(), "text/csv");
  EXPECT_EQ((*chunks)[0].filename(), "eprof-run-r-1.csv");
  EXPECT_TRUE((*chunks)[1].filename().empty());
  EXPECT_THAT(ExportRunChunks(run, v1::EXPORT_FORMAT_UNSPECIFIED),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("EXPORT_FORMAT_CSV")));
}

}  // namespace
}  // namespace eprof::daemon
