#include "daemon/profiler/span_recorder.h"

#include <algorithm>
#include <climits>
#include <map>

namespace eprof::daemon {

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

void SpanRecorder::BeginLayer(int32_t layer, int64_t t_ns) {
  if (!record_layers_) return;
  spans_.push_back({t_ns, -1, layer, v1::COMPONENT_UNSPECIFIED, -1});
}

void SpanRecorder::EndLayer(int32_t layer, int64_t t_ns) {
  if (!record_layers_) return;
  // The open span of this layer is almost always the last layer span pushed.
  for (auto it = spans_.rbegin(); it != spans_.rend(); ++it) {
    if (it->layer == layer && it->component == v1::COMPONENT_UNSPECIFIED && it->end_ns < 0) {
      it->end_ns = t_ns;
      return;
    }
  }
}

// At detail layers the parts outside the layers (embedding, final norm, lm_head) still count:
// they are the pseudo-layer -1, whose spans are its components.
void SpanRecorder::BeginComponent(int32_t layer, v1::Component component, int64_t t_ns) {
  if (!record_components_ && !(record_layers_ && layer < 0)) return;
  spans_.push_back({t_ns, -1, layer, component, -1});
}

void SpanRecorder::EndComponent(int32_t layer, v1::Component component, int64_t t_ns) {
  if (!record_components_ && !(record_layers_ && layer < 0)) return;
  for (auto it = spans_.rbegin(); it != spans_.rend(); ++it) {
    if (it->layer == layer && it->component == component && it->end_ns < 0) {
      it->end_ns = t_ns;
      return;
    }
  }
}

void SpanRecorder::ComponentStats(int32_t layer, v1::Component component,
                                  const v1::ActivationStats& stats) {
  if (!record_deep_) return;
  for (auto it = spans_.rbegin(); it != spans_.rend(); ++it) {
    if (it->layer == layer && it->component == component && it->end_ns >= 0) {
      it->activation_index = static_cast<int32_t>(activations_.size());
      activations_.push_back(stats);
      return;
    }
  }
}

void SpanRecorder::AttentionStats(int32_t layer, const std::vector<v1::AttentionHeadStats>& heads) {
  if (record_deep_) heads_.emplace_back(layer, heads);
}

void SpanRecorder::LayerOutputStats(int32_t layer, const v1::ActivationStats& stats) {
  if (record_deep_) layer_outputs_.emplace_back(layer, stats);
}

v1::TokenRecord SpanRecorder::Build(const PowerTimeline& timeline, const Baseline& baseline,
                                    bool part_energies) const {
  v1::TokenRecord token;
  token.set_index(index_);
  token.set_token_id(token_id_);
  token.set_text(text_);
  token.set_phase(phase_);
  token.set_start_ns(token_start_ns_);
  token.set_end_ns(token_end_ns_);
  token.set_probability(probability_);
  const auto& channels = timeline.channels();
  timeline.EnergyOf(token_start_ns_, token_end_ns_).ToProto(baseline, channels, token.mutable_energy());
  if (!record_layers_) return token;

  std::map<int32_t, v1::LayerMetrics*> layers;
  auto layer_of = [&](int32_t layer) {
    auto it = layers.find(layer);
    if (it != layers.end()) return it->second;
    v1::LayerMetrics* l = token.add_layers();
    l->set_layer(layer);
    layers[layer] = l;
    return l;
  };
  // Energies are summed per layer / component over their spans (totals only: per-channel figures
  // are kept for tokens, not for their parts); attribution of a sum is counter only if every
  // part was.
  v1::Quality quality = token.energy().quality();
  auto add = [&](v1::Energy* into, const PowerTimeline::Total& e) {
    bool first = into->attribution() == v1::ATTRIBUTION_UNSPECIFIED;
    double dynamic = baseline.empty() || e.attribution == v1::ATTRIBUTION_NONE
                         ? e.total_mj
                         : e.total_mj - baseline.total_power_mw * static_cast<double>(e.covered_ns) * 1e-9;
    into->set_total_mj(into->total_mj() + e.total_mj);
    into->set_dynamic_mj(into->dynamic_mj() + dynamic);
    into->set_quality(quality);
    if (first || e.attribution == v1::ATTRIBUTION_TIME_SHARE ||
        into->attribution() == v1::ATTRIBUTION_NONE) {
      into->set_attribution(e.attribution);
    }
  };
  for (const Span& s : spans_) {
    if (s.end_ns < 0) continue;
    v1::LayerMetrics* l = layer_of(s.layer);
    PowerTimeline::Total e;
    if (part_energies) e = timeline.TotalOf(s.start_ns, s.end_ns);
    if (s.component == v1::COMPONENT_UNSPECIFIED) {
      l->set_duration_ns(l->duration_ns() + (s.end_ns - s.start_ns));
      if (part_energies) add(l->mutable_energy(), e);
      continue;
    }
    v1::ComponentMetrics* c = nullptr;
    for (v1::ComponentMetrics& existing : *l->mutable_components()) {
      if (existing.component() == s.component) c = &existing;
    }
    if (c == nullptr) {
      c = l->add_components();
      c->set_component(s.component);
    }
    c->set_duration_ns(c->duration_ns() + (s.end_ns - s.start_ns));
    if (part_energies) add(c->mutable_energy(), e);
    if (s.activation_index >= 0) *c->mutable_activations() = activations_[s.activation_index];
  }
  // The pseudo-layer -1 (embedding, final norm, lm_head) has no layer span of its own: its time
  // and energy are its components'.
  for (v1::LayerMetrics& l : *token.mutable_layers()) {
    if (l.layer() >= 0 || l.duration_ns() > 0) continue;
    for (const v1::ComponentMetrics& c : l.components()) {
      l.set_duration_ns(l.duration_ns() + c.duration_ns());
      if (!part_energies) continue;
      v1::Energy* e = l.mutable_energy();
      bool first = e->attribution() == v1::ATTRIBUTION_UNSPECIFIED;
      e->set_total_mj(e->total_mj() + c.energy().total_mj());
      e->set_dynamic_mj(e->dynamic_mj() + c.energy().dynamic_mj());
      e->set_quality(c.energy().quality());
      if (first || c.energy().attribution() == v1::ATTRIBUTION_TIME_SHARE) {
        e->set_attribution(c.energy().attribution());
      }
    }
  }
  if (!record_components_) {
    for (v1::LayerMetrics& l : *token.mutable_layers()) l.clear_components();
  }
  for (const auto& [layer, heads] : heads_) {
    v1::LayerMetrics* l = layer_of(layer);
    for (const v1::AttentionHeadStats& h : heads) *l->add_attention_heads() = h;
  }
  for (const auto& [layer, stats] : layer_outputs_) *layer_of(layer)->mutable_output() = stats;
  // Transformer layers in index order, the outside-layers pseudo-layer last.
  std::stable_sort(token.mutable_layers()->begin(), token.mutable_layers()->end(),
                   [](const v1::LayerMetrics& a, const v1::LayerMetrics& b) {
                     auto key = [](int32_t l) { return l < 0 ? INT32_MAX : l; };
                     return key(a.layer()) < key(b.layer());
                   });
  return token;
}

}  // namespace eprof::daemon
