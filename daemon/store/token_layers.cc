#include "daemon/store/token_layers.h"

#include "absl/strings/str_cat.h"

namespace eprof::store {

void AddPackedLayer(int32_t layer, const PackedFigures& f, uint32_t component_count,
                    TokenLayers* m) {
  m->add_layer(layer);
  m->add_layer_duration_ns(f.duration_ns);
  m->add_layer_total_mj(f.total_mj);
  m->add_layer_dynamic_mj(f.dynamic_mj);
  m->add_layer_attribution(f.attribution);
  m->add_layer_component_count(component_count);
}

void AddPackedComponent(v1::Component component, const PackedFigures& f, TokenLayers* m) {
  m->add_component(component);
  m->add_component_duration_ns(f.duration_ns);
  m->add_component_total_mj(f.total_mj);
  m->add_component_dynamic_mj(f.dynamic_mj);
  m->add_component_attribution(f.attribution);
}

namespace {

PackedFigures FiguresOf(int64_t duration_ns, const v1::Energy& e) {
  return {duration_ns, e.total_mj(), e.dynamic_mj(), e.attribution()};
}

}  // namespace

void EncodeTokenLayers(const v1::TokenRecord& t, TokenLayers* m, std::string* out) {
  m->Clear();
  for (const v1::LayerMetrics& l : t.layers()) {
    AddPackedLayer(l.layer(), FiguresOf(l.duration_ns(), l.energy()),
                   static_cast<uint32_t>(l.components_size()), m);
    bool activations = false;
    for (const v1::ComponentMetrics& c : l.components()) {
      AddPackedComponent(c.component(), FiguresOf(c.duration_ns(), c.energy()), m);
      activations = activations || c.has_activations();
    }
    if (activations || l.attention_heads_size() > 0 || l.has_output()) {
      v1::LayerMetrics* d = m->add_deep();
      d->set_layer(l.layer());
      *d->mutable_attention_heads() = l.attention_heads();
      if (l.has_output()) *d->mutable_output() = l.output();
      if (activations) {
        for (const v1::ComponentMetrics& c : l.components()) {
          v1::ComponentMetrics* dc = d->add_components();
          if (c.has_activations()) *dc->mutable_activations() = c.activations();
        }
      }
    }
  }
  m->SerializeToString(out);
}

namespace {

void SetEnergy(double total_mj, double dynamic_mj, int attribution, v1::Quality quality,
               v1::Energy* e) {
  e->set_total_mj(total_mj);
  e->set_dynamic_mj(dynamic_mj);
  e->set_attribution(static_cast<v1::Attribution>(attribution));
  e->set_quality(quality);
}

}  // namespace

absl::Status DecodeTokenLayers(const std::string& blob, bool components, bool deep,
                               const std::string& run_id, v1::TokenRecord* t) {
  TokenLayers m;
  auto unreadable = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("run ", run_id, ": stored layer metrics of token ",
                                            t->index(), " are unreadable (", why, ")"));
  };
  if (!m.ParseFromString(blob)) return unreadable("not a TokenLayers message");
  const int n = m.layer_size();
  if (m.layer_duration_ns_size() != n || m.layer_total_mj_size() != n ||
      m.layer_dynamic_mj_size() != n || m.layer_attribution_size() != n ||
      m.layer_component_count_size() != n) {
    return unreadable("per-layer arrays of different lengths");
  }
  const int nc = m.component_size();
  int64_t counted = 0;
  for (uint32_t k : m.layer_component_count()) counted += k;
  if (counted != nc || m.component_duration_ns_size() != nc || m.component_total_mj_size() != nc ||
      m.component_dynamic_mj_size() != nc || m.component_attribution_size() != nc) {
    return unreadable("component arrays do not match the layers' counts");
  }
  const v1::Quality quality = t->energy().quality();  // layers share their token's channels
  const int first = t->layers_size();
  int c = 0;
  for (int i = 0; i < n; ++i) {
    v1::LayerMetrics* l = t->add_layers();
    l->set_layer(m.layer(i));
    l->set_duration_ns(m.layer_duration_ns(i));
    SetEnergy(m.layer_total_mj(i), m.layer_dynamic_mj(i), m.layer_attribution(i), quality,
              l->mutable_energy());
    const int count = static_cast<int>(m.layer_component_count(i));
    if (components) {
      l->mutable_components()->Reserve(count);
      for (int k = c; k < c + count; ++k) {
        v1::ComponentMetrics* cm = l->add_components();
        cm->set_component(m.component(k));
        cm->set_duration_ns(m.component_duration_ns(k));
        SetEnergy(m.component_total_mj(k), m.component_dynamic_mj(k), m.component_attribution(k),
                  quality, cm->mutable_energy());
      }
    }
    c += count;
  }
  if (!deep) return absl::OkStatus();
  for (v1::LayerMetrics& d : *m.mutable_deep()) {
    v1::LayerMetrics* l = nullptr;
    for (int i = first; i < t->layers_size(); ++i) {
      if (t->layers(i).layer() == d.layer()) l = t->mutable_layers(i);
    }
    if (l == nullptr) return unreadable("deep statistics of a layer that is not there");
    *l->mutable_attention_heads() = std::move(*d.mutable_attention_heads());
    if (d.has_output()) *l->mutable_output() = std::move(*d.mutable_output());
    if (d.components_size() > 0 && components) {
      if (d.components_size() != l->components_size()) {
        return unreadable("activation statistics for a different number of components");
      }
      for (int k = 0; k < d.components_size(); ++k) {
        if (d.components(k).has_activations()) {
          *l->mutable_components(k)->mutable_activations() =
              std::move(*d.mutable_components(k)->mutable_activations());
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace eprof::store
