// The API messages survive binary and JSON round trips, and the descriptors say what the
// protos promise (every rpc present with its streaming shape).
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <string>

#include "eprof/v1/power.grpc.pb.h"
#include "eprof/v1/profiler.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using ::google::protobuf::util::MessageDifferencer;

v1::ProfileEvent MakeTokenEvent() {
  v1::ProfileEvent event;
  event.set_seq(42);
  event.set_run_id("run-7");
  event.set_t_ns(123'456'789'000);
  v1::TokenRecord* token = event.mutable_token()->mutable_token();
  token->set_index(3);
  token->set_token_id(128000);
  token->set_text("h\xC3\xA9llo");  // UTF-8
  token->set_phase(v1::PHASE_DECODE);
  token->set_start_ns(100);
  token->set_end_ns(250);
  v1::Energy* energy = token->mutable_energy();
  energy->set_total_mj(12.5);
  energy->set_dynamic_mj(-0.25);
  energy->set_attribution(v1::ATTRIBUTION_TIME_SHARE);
  energy->set_quality(v1::QUALITY_MEASURED);
  v1::ChannelEnergy* ch = energy->add_channels();
  ch->set_channel("package-0");
  ch->set_total_mj(12.5);
  v1::LayerMetrics* layer = token->add_layers();
  layer->set_layer(-1);
  v1::ComponentMetrics* comp = layer->add_components();
  comp->set_component(v1::COMPONENT_LM_HEAD);
  comp->set_duration_ns(77);
  event.mutable_token()->set_energy_final(true);
  return event;
}

TEST(ProtoRoundTrip, BinaryPreservesEveryField) {
  v1::ProfileEvent event = MakeTokenEvent();
  std::string wire;
  ASSERT_TRUE(event.SerializeToString(&wire));
  v1::ProfileEvent back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_TRUE(MessageDifferencer::Equals(event, back)) << back.DebugString();
  EXPECT_EQ(back.event_case(), v1::ProfileEvent::kToken);
  EXPECT_EQ(back.token().token().layers(0).layer(), -1);
}

TEST(ProtoRoundTrip, JsonPreservesEveryField) {
  v1::ProfileEvent event = MakeTokenEvent();
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(event, &json).ok());
  EXPECT_THAT(json, ::testing::HasSubstr("\"attribution\":\"ATTRIBUTION_TIME_SHARE\""));
  EXPECT_THAT(json, ::testing::HasSubstr("\"totalMj\":12.5"));
  v1::ProfileEvent back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(event, back)) << json;
}

TEST(ProtoRoundTrip, PowerSampleAndOptionalFields) {
  v1::StreamSamplesResponse response;
  response.set_dropped_samples(5);
  response.set_interval_ns(1'000'000);
  v1::PowerSample* sample = response.add_samples();
  sample->set_seq(9);
  sample->set_t_end_ns(2'000'000'000);
  sample->set_window_ns(1'000'000);
  v1::Reading* r = sample->add_readings();
  r->set_channel("cpu");
  r->set_energy_mj(1.5);
  r->set_power_mw(1500);
  r->set_quality(v1::QUALITY_ESTIMATED);
  std::string wire = response.SerializeAsString();
  v1::StreamSamplesResponse back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_TRUE(MessageDifferencer::Equals(response, back));

  // proto3 `optional`: presence survives, so "0 ms baseline" differs from "unset".
  v1::ProfileRequest request;
  EXPECT_FALSE(request.has_idle_baseline_ms());
  request.set_idle_baseline_ms(0);
  v1::ProfileRequest request_back;
  ASSERT_TRUE(request_back.ParseFromString(request.SerializeAsString()));
  EXPECT_TRUE(request_back.has_idle_baseline_ms());
  EXPECT_FALSE(request_back.sampling().has_seed());
}

TEST(ProtoServices, ShapesAreAsDocumented) {
  const auto* power = v1::PowerService::service_full_name();
  EXPECT_STREQ(power, "eprof.v1.PowerService");
  const google::protobuf::ServiceDescriptor* profiler =
      v1::ProfileEvent::descriptor()->file()->FindServiceByName("ProfilerService");
  ASSERT_NE(profiler, nullptr);
  struct Expected {
    const char* name;
    bool server_streaming;
  };
  for (Expected e : {Expected{"GetStatus", false}, {"ListModels", false}, {"Profile", true},
                     {"Watch", true}, {"CancelRun", false}, {"ListRuns", false},
                     {"GetRun", false}, {"CompareRuns", false}, {"ExportRun", true},
                     {"DeleteRun", false}, {"StreamPower", true}}) {
    const google::protobuf::MethodDescriptor* m = profiler->FindMethodByName(e.name);
    ASSERT_NE(m, nullptr) << e.name;
    EXPECT_EQ(m->server_streaming(), e.server_streaming) << e.name;
    EXPECT_FALSE(m->client_streaming()) << e.name;
  }
}

}  // namespace
}  // namespace eprof
