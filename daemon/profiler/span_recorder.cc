#include "daemon/profiler/span_recorder.h"

#include <algorithm>
#include <climits>

#include "daemon/store/energy_sum.h"

namespace eprof::daemon {
namespace {

// The engine's components are the proto's, value for value: the recorder casts between them.
#define EPROF_SAME_COMPONENT(engine_name, proto_name) \
  static_assert(static_cast<int>(engine::Component::k##engine_name) == v1::COMPONENT_##proto_name)
EPROF_SAME_COMPONENT(Unspecified, UNSPECIFIED);
EPROF_SAME_COMPONENT(Embedding, EMBEDDING);
EPROF_SAME_COMPONENT(InputNorm, INPUT_NORM);
EPROF_SAME_COMPONENT(QProj, Q_PROJ);
EPROF_SAME_COMPONENT(KProj, K_PROJ);
EPROF_SAME_COMPONENT(VProj, V_PROJ);
EPROF_SAME_COMPONENT(QkvProj, QKV_PROJ);
EPROF_SAME_COMPONENT(QNorm, Q_NORM);
EPROF_SAME_COMPONENT(KNorm, K_NORM);
EPROF_SAME_COMPONENT(Rotary, ROTARY);
EPROF_SAME_COMPONENT(Attention, ATTENTION);
EPROF_SAME_COMPONENT(OProj, O_PROJ);
EPROF_SAME_COMPONENT(PostAttentionNorm, POST_ATTENTION_NORM);
EPROF_SAME_COMPONENT(PreFeedforwardNorm, PRE_FEEDFORWARD_NORM);
EPROF_SAME_COMPONENT(PostFeedforwardNorm, POST_FEEDFORWARD_NORM);
EPROF_SAME_COMPONENT(GateProj, GATE_PROJ);
EPROF_SAME_COMPONENT(UpProj, UP_PROJ);
EPROF_SAME_COMPONENT(GateUpProj, GATE_UP_PROJ);
EPROF_SAME_COMPONENT(MlpAct, MLP_ACT);
EPROF_SAME_COMPONENT(DownProj, DOWN_PROJ);
EPROF_SAME_COMPONENT(FinalNorm, FINAL_NORM);
EPROF_SAME_COMPONENT(LmHead, LM_HEAD);
EPROF_SAME_COMPONENT(Sampling, SAMPLING);
#undef EPROF_SAME_COMPONENT
static_assert(static_cast<int>(engine::Component::kSampling) == v1::Component_MAX,
              "a component the engine does not have");

v1::Component ToProto(engine::Component c) { return static_cast<v1::Component>(c); }

v1::ActivationStats ToProto(const engine::ActivationStats& s) {
  v1::ActivationStats stats;
  stats.set_mean_abs(s.mean_abs);
  stats.set_std(s.std);
  stats.set_max_abs(s.max_abs);
  stats.set_near_zero_fraction(s.frac_near_zero);
  return stats;
}

}  // namespace

SpanRecorder::SpanRecorder(v1::DetailLevel detail)
    : record_layers_(detail >= v1::DETAIL_LEVEL_LAYERS),
      record_components_(detail >= v1::DETAIL_LEVEL_COMPONENTS),
      record_deep_(detail >= v1::DETAIL_LEVEL_DEEP) {
  // Room for a large model's token (e.g. 80 layers × 16 spans) without reallocating.
  if (record_layers_) spans_.reserve(record_components_ ? 2048 : 128);
  if (record_deep_) activations_.reserve(2048);
}

void SpanRecorder::BeginToken(uint32_t index, v1::Phase phase, int64_t t_ns) {
  index_ = index;
  phase_ = phase;
  token_start_ns_ = t_ns;
  token_end_ns_ = -1;
  spans_.clear();
  activations_.clear();
  heads_.clear();
  layer_outputs_.clear();
}

void SpanRecorder::EndToken(int32_t token_id, std::string text, double probability, int64_t t_ns) {
  token_id_ = token_id;
  text_ = std::move(text);
  probability_ = probability;
  token_end_ns_ = t_ns;
}

void SpanRecorder::OnLayerBegin(int layer, int64_t t_ns) {
  if (!record_layers_ || layer < -1) return;
  spans_.push_back({t_ns, -1, layer, v1::COMPONENT_UNSPECIFIED, -1});
}

void SpanRecorder::OnLayerEnd(int layer, int64_t t_ns) {
  if (!record_layers_) return;
  // The open span of this layer is almost always the last layer span pushed.
  for (auto it = spans_.rbegin(); it != spans_.rend(); ++it) {
    if (it->layer == layer && it->component == v1::COMPONENT_UNSPECIFIED && it->end_ns < 0) {
      it->end_ns = t_ns;
      return;
    }
  }
}

// At detail layers the parts outside the layers (embedding, final norm, lm_head, sampling) still
// count: they are the pseudo-layer -1, whose spans are its components.
void SpanRecorder::OnComponentBegin(engine::Component component, int layer, int64_t t_ns) {
  if (layer < -1 || (!record_components_ && !(record_layers_ && layer < 0))) return;
  spans_.push_back({t_ns, -1, layer, ToProto(component), -1});
}

void SpanRecorder::OnComponentEnd(engine::Component component, int layer, int64_t t_ns) {
  if (!record_components_ && !(record_layers_ && layer < 0)) return;
  for (auto it = spans_.rbegin(); it != spans_.rend(); ++it) {
    if (it->layer == layer && it->component == ToProto(component) && it->end_ns < 0) {
      it->end_ns = t_ns;
      return;
    }
  }
}

void SpanRecorder::OnActivationStats(engine::Component component, int layer,
                                     const engine::ActivationStats& stats) {
  if (!record_deep_) return;
  for (auto it = spans_.rbegin(); it != spans_.rend(); ++it) {
    if (it->layer == layer && it->component == ToProto(component) && it->end_ns >= 0) {
      it->activation_index = static_cast<int32_t>(activations_.size());
      activations_.push_back(ToProto(stats));
      return;
    }
  }
}

void SpanRecorder::OnAttentionStats(int layer,
                                    const std::vector<engine::AttentionHeadStats>& heads) {
  if (!record_deep_ || layer < -1) return;
  std::vector<v1::AttentionHeadStats> out(heads.size());
  for (size_t h = 0; h < heads.size(); ++h) {
    out[h].set_head(static_cast<uint32_t>(h));
    out[h].set_entropy_nats(heads[h].entropy_nats);
    out[h].set_max_weight(heads[h].max_weight);
    out[h].set_sparse_fraction(heads[h].frac_below_001);
  }
  heads_.emplace_back(layer, std::move(out));
}

void SpanRecorder::OnLayerOutputStats(int layer, const engine::ActivationStats& stats) {
  if (record_deep_ && layer >= -1) layer_outputs_.emplace_back(layer, ToProto(stats));
}

SpanRecorder::LayerSums& SpanRecorder::SumsOf(int32_t layer) const {
  const size_t i = static_cast<size_t>(layer + 1);
  if (i >= sums_.size()) sums_.resize(i + 1);
  LayerSums& l = sums_[i];
  if (!l.present) {
    l.present = true;
    l.layer = PartSum();
    l.components.clear();
    l.output = nullptr;
    l.deep = false;
  }
  return l;
}

namespace {

// Adds one span's (or part's) energy to a sum (store::CombineAttribution: the rule the store's
// sums follow too).
void Accumulate(double total_mj, double dynamic_mj, v1::Attribution attribution, double* into_total,
                double* into_dynamic, v1::Attribution* into_attribution) {
  *into_total += total_mj;
  *into_dynamic += dynamic_mj;
  *into_attribution = store::CombineAttribution(*into_attribution, attribution);
}

void SetEnergy(double total_mj, double dynamic_mj, v1::Attribution attribution,
               v1::Quality quality, v1::Energy* e) {
  e->set_total_mj(total_mj);
  e->set_dynamic_mj(dynamic_mj);
  e->set_attribution(attribution);
  e->set_quality(quality);
}

}  // namespace

void SpanRecorder::SumSpans(const PowerTimeline& timeline, const Baseline& baseline,
                            bool part_energies) const {
  for (LayerSums& l : sums_) l.present = false;
  // Energies are summed per layer / component over their spans (totals only: per-channel figures
  // are kept for tokens, not for their parts).
  for (const Span& s : spans_) {
    if (s.end_ns < 0) continue;  // unfinished: dropped
    LayerSums& l = SumsOf(s.layer);
    PartSum* into = &l.layer;
    if (s.component != v1::COMPONENT_UNSPECIFIED) {
      into = nullptr;
      for (PartSum& c : l.components) {
        if (c.component == s.component) into = &c;
      }
      if (into == nullptr) {
        into = &l.components.emplace_back();
        into->component = s.component;
      }
      if (s.activation_index >= 0) {
        into->activation_index = s.activation_index;
        l.deep = true;
      }
    }
    into->duration_ns += s.end_ns - s.start_ns;
    if (!part_energies) continue;
    const PowerTimeline::Total e = timeline.TotalOf(s.start_ns, s.end_ns);
    const double dynamic = baseline.DynamicMj(e.total_mj, baseline.total_power_mw, e.attribution,
                                              e.covered_ns);
    Accumulate(e.total_mj, dynamic, e.attribution, &into->total_mj, &into->dynamic_mj,
               &into->attribution);
  }
  // The pseudo-layer -1 (embedding, final norm, lm_head, sampling) has no layer span of its own:
  // its time and energy are its components'.
  if (!sums_.empty() && sums_[0].present && sums_[0].layer.duration_ns == 0) {
    PartSum& pseudo = sums_[0].layer;
    for (const PartSum& c : sums_[0].components) {
      pseudo.duration_ns += c.duration_ns;
      if (c.attribution != v1::ATTRIBUTION_UNSPECIFIED) {
        Accumulate(c.total_mj, c.dynamic_mj, c.attribution, &pseudo.total_mj, &pseudo.dynamic_mj,
                   &pseudo.attribution);
      }
    }
  }
  for (const auto& [layer, heads] : heads_) SumsOf(layer).deep = true;
  for (const auto& [layer, stats] : layer_outputs_) {
    LayerSums& l = SumsOf(layer);
    l.output = &stats;
    l.deep = true;
  }
  // Transformer layers in index order, the outside-layers pseudo-layer last.
  order_.clear();
  for (size_t i = 1; i < sums_.size(); ++i) {
    if (sums_[i].present) order_.push_back(static_cast<int32_t>(i) - 1);
  }
  if (!sums_.empty() && sums_[0].present) order_.push_back(-1);
}

void SpanRecorder::FillToken(const PowerTimeline& timeline, const Baseline& baseline,
                             v1::TokenRecord* out) const {
  out->Clear();
  out->set_index(index_);
  out->set_token_id(token_id_);
  out->set_text(text_);
  out->set_phase(phase_);
  out->set_start_ns(token_start_ns_);
  out->set_end_ns(token_end_ns_);
  out->set_probability(probability_);
  timeline.EnergyOf(token_start_ns_, token_end_ns_)
      .ToProto(baseline, timeline.channels(), out->mutable_energy());
}

v1::TokenRecord SpanRecorder::Build(const PowerTimeline& timeline, const Baseline& baseline,
                                    bool part_energies) const {
  v1::TokenRecord token;
  BuildInto(timeline, baseline, part_energies, &token);
  return token;
}

void SpanRecorder::BuildInto(const PowerTimeline& timeline, const Baseline& baseline,
                             bool part_energies, v1::TokenRecord* out) const {
  FillToken(timeline, baseline, out);
  if (!record_layers_) return;
  SumSpans(timeline, baseline, part_energies);
  const v1::Quality quality = out->energy().quality();  // parts share their token's channels
  for (int32_t layer : order_) {
    const LayerSums& sums = sums_[static_cast<size_t>(layer + 1)];
    v1::LayerMetrics* l = out->add_layers();
    l->set_layer(layer);
    l->set_duration_ns(sums.layer.duration_ns);
    if (sums.layer.attribution != v1::ATTRIBUTION_UNSPECIFIED) {
      SetEnergy(sums.layer.total_mj, sums.layer.dynamic_mj, sums.layer.attribution, quality,
                l->mutable_energy());
    }
    if (record_components_) {
      for (const PartSum& c : sums.components) {
        v1::ComponentMetrics* m = l->add_components();
        m->set_component(c.component);
        m->set_duration_ns(c.duration_ns);
        if (c.attribution != v1::ATTRIBUTION_UNSPECIFIED) {
          SetEnergy(c.total_mj, c.dynamic_mj, c.attribution, quality, m->mutable_energy());
        }
        if (c.activation_index >= 0) *m->mutable_activations() = activations_[c.activation_index];
      }
    }
    if (!sums.deep) continue;
    for (const auto& [at, heads] : heads_) {
      if (at != layer) continue;
      for (const v1::AttentionHeadStats& h : heads) *l->add_attention_heads() = h;
    }
    if (sums.output != nullptr) *l->mutable_output() = *sums.output;
  }
}

void SpanRecorder::BuildRow(const PowerTimeline& timeline, const Baseline& baseline,
                            v1::TokenRecord* token, store::TokenLayers* scratch,
                            std::string* layers) const {
  FillToken(timeline, baseline, token);
  layers->clear();
  if (!record_layers_) return;
  SumSpans(timeline, baseline, /*part_energies=*/true);
  store::TokenLayers& m = *scratch;
  m.Clear();
  for (int32_t layer : order_) {
    const LayerSums& sums = sums_[static_cast<size_t>(layer + 1)];
    const PartSum& l = sums.layer;
    store::AddPackedLayer(layer, {l.duration_ns, l.total_mj, l.dynamic_mj, l.attribution},
                          record_components_ ? static_cast<uint32_t>(sums.components.size()) : 0,
                          &m);
    bool activations = false;
    if (record_components_) {
      for (const PartSum& c : sums.components) {
        store::AddPackedComponent(
            c.component, {c.duration_ns, c.total_mj, c.dynamic_mj, c.attribution}, &m);
        activations = activations || c.activation_index >= 0;
      }
    }
    if (!sums.deep) continue;
    // Deep statistics (rare, and large anyway) as the store keeps them: a LayerMetrics.
    bool heads = false;
    for (const auto& [at, h] : heads_) heads = heads || (at == layer && !h.empty());
    if (!activations && !heads && sums.output == nullptr) continue;
    v1::LayerMetrics* d = m.add_deep();
    d->set_layer(layer);
    for (const auto& [at, h] : heads_) {
      if (at != layer) continue;
      for (const v1::AttentionHeadStats& one : h) *d->add_attention_heads() = one;
    }
    if (sums.output != nullptr) *d->mutable_output() = *sums.output;
    if (activations) {
      for (const PartSum& c : sums.components) {
        v1::ComponentMetrics* dc = d->add_components();
        if (c.activation_index >= 0) *dc->mutable_activations() = activations_[c.activation_index];
      }
    }
  }
  m.SerializeToString(layers);
}

}  // namespace eprof::daemon
