// Records the spans of one generated token (or of prefill's forward pass) as the engine runs —
// layers and components with their monotonic timestamps, and at detail `deep` their activation
// and attention statistics — and turns them into a TokenRecord with energies once the power
// samples covering the token have arrived.
//
//   SpanRecorder rec(v1::DETAIL_LEVEL_COMPONENTS);
//   rec.BeginToken(0, v1::PHASE_PREFILL, t0);
//   model->Decode(&rec);  // the engine calls rec.OnLayerBegin(3, t),
//                         // rec.OnComponentBegin(engine::Component::kQProj, 3, t), ...
//   rec.EndToken(token_id, "text", probability, t1);
//   v1::TokenRecord record = rec.Build(timeline, baseline);  // once covered
//
// The hot path (Begin*/End* between BeginToken and EndToken) appends to vectors reserved once
// and neither allocates nor locks after the first token. Calls for levels the detail level does
// not record are ignored. The engine's components are the proto's (static_asserts in
// span_recorder.cc check every pair).
//
// Building runs between two forward passes or beside the next one (TokenPipeline), where every
// microsecond it takes from the engine's cores delays a token, just after a forward pass has
// streamed the weights through the caches. So the spans
// are first summed per layer and component into flat arrays the recorder keeps (no allocation
// after the first token), then written out: into a reused TokenRecord (BuildInto, for the live
// event) or straight into the store's packed form (BuildRow), without the ~800 messages a
// TokenRecord holds at detail components.
//
// Thread safety: not thread-safe (building uses the recorder's scratch arrays); used by the
// inference thread, then handed to whoever builds.
#ifndef EPROF_DAEMON_PROFILER_SPAN_RECORDER_H_
#define EPROF_DAEMON_PROFILER_SPAN_RECORDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/engine/observer.h"
#include "daemon/profiler/power_timeline.h"
#include "daemon/store/token_layers.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

class SpanRecorder final : public engine::Observer {
 public:
  explicit SpanRecorder(v1::DetailLevel detail);

  // Starts a token (clears the previous one's spans, keeping their capacity).
  void BeginToken(uint32_t index, v1::Phase phase, int64_t t_ns);
  void EndToken(int32_t token_id, std::string text, double probability, int64_t t_ns);

  // The engine's observer (daemon/engine/observer.h), attached for the token's forward pass.
  // layer >= 0 for transformer layers, -1 for the parts outside them (embedding, final norm,
  // lm_head, sampling); calls with other layers are ignored. The statistics (deep only) are of
  // the output of the component's latest ended span, of the layer's attention heads, and of the
  // layer's output hidden state.
  void OnLayerBegin(int layer, int64_t t_ns) override;
  void OnLayerEnd(int layer, int64_t t_ns) override;
  void OnComponentBegin(engine::Component component, int layer, int64_t t_ns) override;
  void OnComponentEnd(engine::Component component, int layer, int64_t t_ns) override;
  void OnActivationStats(engine::Component component, int layer,
                         const engine::ActivationStats& stats) override;
  void OnAttentionStats(int layer, const std::vector<engine::AttentionHeadStats>& heads) override;
  void OnLayerOutputStats(int layer, const engine::ActivationStats& stats) override;

  int64_t token_start_ns() const { return token_start_ns_; }
  int64_t token_end_ns() const { return token_end_ns_; }
  uint32_t token_index() const { return index_; }

  // The token with its energy and, by detail level, its layers and components, each attributed
  // from `timeline`. Layers appear in order of first appearance (-1 last when it comes last);
  // a component that ran several times in the token (none do today) has its times summed.
  // Records whose span is unfinished (Begin without End) are dropped. With `part_energies`
  // false the layers and components carry their times but no energy (the token itself still
  // has one): a live event for a token that samples do not cover yet, whose parts' energies
  // would be ~400 zeros at detail components.
  v1::TokenRecord Build(const PowerTimeline& timeline, const Baseline& baseline,
                        bool part_energies = true) const;
  // As Build, into `*out`, which is cleared first: its sub-messages are reused, so building
  // every token into the same record allocates nothing after the first.
  void BuildInto(const PowerTimeline& timeline, const Baseline& baseline, bool part_energies,
                 v1::TokenRecord* out) const;
  // The stored form of Build's result: `*token` without layers, and its layers as the store keeps
  // them (store::EncodeTokenLayers of Build's record, byte for byte) in `*layers`, "" below
  // detail layers. `scratch` is cleared and refilled; reused, it allocates nothing.
  void BuildRow(const PowerTimeline& timeline, const Baseline& baseline, v1::TokenRecord* token,
                store::TokenLayers* scratch, std::string* layers) const;

 private:
  struct Span {
    int64_t start_ns;
    int64_t end_ns;  // -1 while open
    int32_t layer;
    v1::Component component;  // COMPONENT_UNSPECIFIED for a layer span
    int32_t activation_index;  // into activations_, or -1
  };

  bool record_layers_;
  bool record_components_;
  bool record_deep_;
  uint32_t index_ = 0;
  v1::Phase phase_ = v1::PHASE_UNSPECIFIED;
  int64_t token_start_ns_ = 0;
  int64_t token_end_ns_ = -1;
  int32_t token_id_ = 0;
  std::string text_;
  double probability_ = 0;
  std::vector<Span> spans_;
  std::vector<v1::ActivationStats> activations_;
  std::vector<std::pair<int32_t, std::vector<v1::AttentionHeadStats>>> heads_;
  std::vector<std::pair<int32_t, v1::ActivationStats>> layer_outputs_;

  // A layer's or a component's figures summed over its spans.
  struct PartSum {
    v1::Component component = v1::COMPONENT_UNSPECIFIED;  // unspecified: the layer itself
    int64_t duration_ns = 0;
    double total_mj = 0;
    double dynamic_mj = 0;
    v1::Attribution attribution = v1::ATTRIBUTION_UNSPECIFIED;  // unspecified: no energy
    int32_t activation_index = -1;                              // the latest span's statistics
  };
  struct LayerSums {
    bool present = false;
    PartSum layer;
    std::vector<PartSum> components;  // in order of first appearance
    const v1::ActivationStats* output = nullptr;
    bool deep = false;  // has activation, attention or output statistics
  };
  // Fills sums_ and order_ (the layers present: transformer layers by index, then -1).
  void SumSpans(const PowerTimeline& timeline, const Baseline& baseline, bool part_energies) const;
  // The token's own fields and energy.
  void FillToken(const PowerTimeline& timeline, const Baseline& baseline,
                 v1::TokenRecord* out) const;
  // sums_[layer + 1]; layers below -1 do not occur (the engine reports -1 for everything
  // outside the layers).
  LayerSums& SumsOf(int32_t layer) const;

  mutable std::vector<LayerSums> sums_;
  mutable std::vector<int32_t> order_;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_SPAN_RECORDER_H_
