// The engine's hooks for the profiler: begin/end callbacks at the embedding, every layer and
// every component, with the layer index and CLOCK_MONOTONIC timestamps (common/clock.h), plus
// activation and per-head attention statistics in deep mode; and a model load's progress.
// Torch-free, so that the profiler uses these types as they are.
//
// libtorch modules have no forward hooks here, so the engine calls the observer itself. With no
// observer attached (or DetailLevel::kNone / kPhases) each boundary costs one predictable branch.
// On an asynchronous device (CUDA, MPS) the engine synchronises the device before taking each
// timestamp, so spans measure execution, not launch.
//
// Calls arrive on the thread that runs the model, in nesting order:
//   OnComponentBegin(kEmbedding, -1) … OnComponentEnd(kEmbedding, -1)
//   OnLayerBegin(0)  OnComponentBegin(kInputNorm, 0) … OnComponentEnd(kInputNorm, 0) … OnLayerEnd(0)
//   …  OnComponentBegin(kFinalNorm, -1) …  OnComponentBegin(kLmHead, -1) …
// An observer must be fast and must not call back into the model.
#ifndef EPROF_DAEMON_ENGINE_OBSERVER_H_
#define EPROF_DAEMON_ENGINE_OBSERVER_H_

#include <cstdint>
#include <vector>

namespace eprof::engine {

// The same values as eprof.v1.Component (proto/eprof/v1/profiler.proto), so the profiler can
// static_cast between them; kept here so the engine does not depend on protobuf.
enum class Component : int {
  kUnspecified = 0,
  kEmbedding = 1,
  kInputNorm = 2,
  kQProj = 3,
  kKProj = 4,
  kVProj = 5,
  kQkvProj = 6,
  kQNorm = 7,
  kKNorm = 8,
  kRotary = 9,
  kAttention = 10,
  kOProj = 11,
  kPostAttentionNorm = 12,
  kPreFeedforwardNorm = 13,
  kPostFeedforwardNorm = 14,
  kGateProj = 15,
  kUpProj = 16,
  kGateUpProj = 17,
  kMlpAct = 18,
  kDownProj = 19,
  kFinalNorm = 20,
  kLmHead = 21,
  kSampling = 22,
};

const char* ComponentName(Component component);

// How much the engine reports. kNone and kPhases call nothing (the daemon times phases and
// tokens itself); kLayers: layers plus embedding, final norm and lm_head; kComponents: every
// component too; kDeep: components plus statistics.
enum class DetailLevel { kNone = 0, kPhases = 1, kTokens = 2, kLayers = 3, kComponents = 4, kDeep = 5 };

// Statistics of a component's output tensor (deep mode), over all its elements.
struct ActivationStats {
  double mean_abs = 0;
  double std = 0;
  double max_abs = 0;
  double frac_near_zero = 0;  // fraction with |x| < 1e-4
};

// One attention head's weights in one layer (deep mode), averaged over the query positions of
// the forward pass; only keys a query may see (causal, window) count.
struct AttentionHeadStats {
  double entropy_nats = 0;     // −Σ p ln p
  double max_weight = 0;       // the largest weight of the query row
  double frac_below_001 = 0;   // fraction of the visible weights < 0.01
};

// How far a model's load has got (Model::Load's progress callback; eprofd's ModelLoading events).
struct LoadProgress {
  int64_t tensors_loaded = 0;
  int64_t tensors_total = 0;
  int64_t bytes_loaded = 0;
  int64_t bytes_total = 0;
};

class Observer {
 public:
  virtual ~Observer() = default;
  // layer: 0-based index of the decoder layer; -1 outside the layers (embedding, final norm,
  // lm_head, and the Generator's sampling). t_ns: CLOCK_MONOTONIC ns from the engine's clock.
  virtual void OnLayerBegin(int layer, int64_t t_ns) {}
  virtual void OnLayerEnd(int layer, int64_t t_ns) {}
  virtual void OnComponentBegin(Component component, int layer, int64_t t_ns) {}
  virtual void OnComponentEnd(Component component, int layer, int64_t t_ns) {}
  // Deep mode only; called after OnComponentEnd for that component.
  virtual void OnActivationStats(Component component, int layer, const ActivationStats& stats) {}
  // Deep mode only; one entry per query head, after the layer's attention core.
  virtual void OnAttentionStats(int layer, const std::vector<AttentionHeadStats>& heads) {}
  // Deep mode only; statistics of the layer's output hidden state, after its OnLayerEnd.
  virtual void OnLayerOutputStats(int layer, const ActivationStats& stats) {}
};

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_OBSERVER_H_
