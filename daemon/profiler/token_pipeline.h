// The generated tokens of one run, from the engine's spans to the live event and the stored
// rows: a SpanRecorder per token, the engine's observer while the token's forward pass runs;
// then the token's text, its live event (TokenCompleted, with the energy the samples in so far
// give) and, once a power sample covers the token, its final rows.
//
//   TokenPipeline tokens(detail, {&events, &power, &rows, &timeline, side, clock});
//   StopReason why;
//   EPROF_RETURN_IF_ERROR(tokens.Generate(model, max_new_tokens, cancelled, &why));
//   ... after the post-roll: tokens.FinalizeAll();
//
// Generate() runs prefill (in the timeline's open prefill phase, which ends with its token) and
// then the decode phase, which it begins. Tokens tile the two phases: token i starts where token
// i-1 ended. On the CPU the bookkeeping of decode token i (text, event, rows) runs on the
// SideExecutor beside step i+1, on a core the step leaves idle, rather than between the two
// steps; on another device it runs on the run's thread before step i+1.
//
// Thread safety: Generate() and FinalizeAll() on the run's thread. The bookkeeping posted to the
// executor touches only what the step does not (the previous token's recorder, the power window,
// the rows, the events), and Generate() waits for it before the next step, also when the step
// throws.
#ifndef EPROF_DAEMON_PROFILER_TOKEN_PIPELINE_H_
#define EPROF_DAEMON_PROFILER_TOKEN_PIPELINE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/side_executor.h"
#include "daemon/profiler/inference_backend.h"
#include "daemon/profiler/run_events.h"
#include "daemon/profiler/run_power.h"
#include "daemon/profiler/run_timeline.h"
#include "daemon/profiler/span_recorder.h"
#include "daemon/profiler/stop_reason.h"
#include "daemon/profiler/store_writer.h"
#include "daemon/store/token_layers.h"
#include "eprof/v1/profiler.pb.h"
#include "google/protobuf/arena.h"

namespace eprof::daemon {

// FAILED_PRECONDITION when the model gave token `index` a non-finite probability (NaN or
// infinite logits: every later token would be noise).
absl::Status CheckTokenFinite(const GeneratedToken& token, uint32_t index);

// A generation nobody records (warm-up): prefill, then decode until end of sequence,
// `max_new_tokens`, or `cancelled()` between tokens. Begin() has been called.
absl::Status GenerateUnrecorded(LoadedModel* model, uint32_t max_new_tokens,
                                const std::function<bool()>& cancelled);

class TokenPipeline {
 public:
  // The run's parts the pipeline works with; each outlives it.
  struct Parts {
    RunEvents* events;
    RunPower* power;
    RowBatch* rows;
    RunTimeline* timeline;
    SideExecutor* side;
    Clock* clock;
  };
  TokenPipeline(v1::DetailLevel detail, Parts parts);
  TokenPipeline(const TokenPipeline&) = delete;
  TokenPipeline& operator=(const TokenPipeline&) = delete;

  // Generates and records up to `max_new_tokens` tokens of `model` (Begin() called, the prefill
  // phase open). Stops at end of sequence, at the limit, or when `cancelled()` between tokens
  // (*stop_reason says which), or at the first error, which it returns; every token generated
  // before then is recorded.
  absl::Status Generate(LoadedModel* model, uint32_t max_new_tokens,
                        const std::function<bool()>& cancelled, StopReason* stop_reason);
  // Turns every token still waiting for a covering sample into its rows (the run is ending).
  void FinalizeAll() { FinalizeCovered(/*force=*/true); }

  // Tokens generated and recorded, the end of the last, and the text they make.
  uint32_t tokens() const { return tokens_; }
  int64_t last_token_end_ns() const { return last_token_end_ns_; }
  const std::string& text() const { return text_; }

 private:
  // A decode token whose bookkeeping waits to run beside the next step.
  struct PendingToken {
    SpanRecorder* recorder;
    GeneratedToken token;
    int64_t end_ns;
  };

  absl::Status Steps(LoadedModel* model, uint32_t max_new_tokens,
                     const std::function<bool()>& cancelled, StopReason* stop_reason);
  SpanRecorder* NewRecorder();
  // The token's bookkeeping: its text and end, its live event, the rows of every token a sample
  // now covers.
  void Finish(SpanRecorder* recorder, const GeneratedToken& token, int64_t end_ns);
  void Emit(SpanRecorder* recorder);
  // Turns recorders whose token a sample now covers into final rows (all of them when `force`).
  void FinalizeCovered(bool force);

  const v1::DetailLevel detail_;
  const Parts parts_;
  // Token recorders: those waiting for samples to cover them (the current one last), and spares.
  std::deque<std::unique_ptr<SpanRecorder>> waiting_;
  std::vector<std::unique_ptr<SpanRecorder>> spare_;
  std::optional<PendingToken> pending_;
  const std::function<void()> finish_pending_ = [this] {
    Finish(pending_->recorder, pending_->token, pending_->end_ns);
  };
  std::unique_ptr<TextStream> text_stream_;
  std::string text_;
  uint32_t tokens_ = 0;
  int64_t last_token_end_ns_ = -1;
  store::TokenLayers layers_scratch_;  // for BuildRow
  // Every TokenCompleted event, reused: its ~400 layer and component messages are allocated
  // once, side by side in the arena, so that building and serializing each token's event walks
  // contiguous memory rather than ~400 scattered heap blocks the forward pass has evicted.
  google::protobuf::Arena token_arena_;
  v1::ProfileEvent& token_event_;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_TOKEN_PIPELINE_H_
