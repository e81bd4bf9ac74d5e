// A token's layer and component metrics as one row of the run store's `token_layers` table
// (schema version 2): an eprof.store.TokenLayers message (proto/eprof/store/token_layers.proto),
// every layer's and component's figures in parallel packed arrays, deep statistics (rare) as
// LayerMetrics.
//
//   TokenLayers scratch;  // reused across tokens
//   std::string blob;
//   EncodeTokenLayers(token, &scratch, &blob);
//   ...
//   EPROF_RETURN_IF_ERROR(DecodeTokenLayers(blob, /*components=*/true, /*deep=*/false, run_id, &t));
//
// Thread safety: pure functions; the scratch message is the caller's.
#ifndef EPROF_DAEMON_STORE_TOKEN_LAYERS_H_
#define EPROF_DAEMON_STORE_TOKEN_LAYERS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "eprof/store/token_layers.pb.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::store {

// `t.layers()` in wire form into `*out`. `m` is cleared and refilled (its repeated fields keep
// their capacity, so a writer reuses one across tokens).
void EncodeTokenLayers(const v1::TokenRecord& t, TokenLayers* m, std::string* out);

// One layer's or component's figures as the packed arrays hold them (its Energy's quality is its
// token's, and is not stored).
struct PackedFigures {
  int64_t duration_ns = 0;
  double total_mj = 0;
  double dynamic_mj = 0;
  v1::Attribution attribution = v1::ATTRIBUTION_UNSPECIFIED;
};
// Appends a layer to `m`'s per-layer arrays; its `component_count` components follow it with
// AddPackedComponent, before the next layer. For writers that do not start from a TokenRecord
// (the profiler's SpanRecorder::BuildRow); EncodeTokenLayers uses them too.
void AddPackedLayer(int32_t layer, const PackedFigures& figures, uint32_t component_count,
                    TokenLayers* m);
void AddPackedComponent(v1::Component component, const PackedFigures& figures, TokenLayers* m);

// Appends the layers in `blob` to `t`, each layer's and component's energy taking the quality of
// `t`'s own energy (they share its channels). Components only when `components`; activation and
// attention statistics only when `deep` (and, for activations, `components`). A blob that does
// not parse, or whose arrays disagree in length, is DATA_LOSS naming `run_id` and the token.
absl::Status DecodeTokenLayers(const std::string& blob, bool components, bool deep,
                               const std::string& run_id, v1::TokenRecord* t);

}  // namespace eprof::store

#endif  // EPROF_DAEMON_STORE_TOKEN_LAYERS_H_
