#include "daemon/profiler/token_pipeline.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace eprof::daemon {
namespace {

// One block for a token event of a large model at detail components (~400 messages for 30
// layers; more blocks of the same size as needed).
google::protobuf::ArenaOptions TokenArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 64 << 10;
  return options;
}

}  // namespace

absl::Status CheckTokenFinite(const GeneratedToken& token, uint32_t index) {
  if (std::isfinite(token.probability)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "the model produced NaN (or infinite) logits at token ", index,
      ": its weights hold non-finite values, or the compute dtype overflowed (try "
      "--dtype float32)"));
}

absl::Status GenerateUnrecorded(LoadedModel* model, uint32_t max_new_tokens,
                                const std::function<bool()>& cancelled) {
  for (uint32_t i = 0; i < max_new_tokens; ++i) {
    if (i > 0 && cancelled()) return absl::OkStatus();
    EPROF_ASSIGN_OR_RETURN(const GeneratedToken token,
                           i == 0 ? model->Prefill(nullptr) : model->Decode(nullptr));
    EPROF_RETURN_IF_ERROR(CheckTokenFinite(token, i));
    if (model->IsEos(token.token_id)) return absl::OkStatus();
  }
  return absl::OkStatus();
}

TokenPipeline::TokenPipeline(v1::DetailLevel detail, Parts parts)
    : detail_(detail), parts_(parts), token_arena_(TokenArenaOptions()),
      token_event_(*google::protobuf::Arena::CreateMessage<v1::ProfileEvent>(&token_arena_)) {}

absl::Status TokenPipeline::Generate(LoadedModel* model, uint32_t max_new_tokens,
                                     const std::function<bool()>& cancelled,
                                     StopReason* stop_reason) {
  text_stream_ = model->NewTextStream();
  absl::Status status = Steps(model, max_new_tokens, cancelled, stop_reason);
  if (pending_) {  // the last token (or the one before a stop or a failure)
    finish_pending_();
    pending_.reset();
  }
  return status;
}

absl::Status TokenPipeline::Steps(LoadedModel* model, uint32_t max_new_tokens,
                                  const std::function<bool()>& cancelled,
                                  StopReason* stop_reason) {
  const bool spans = detail_ >= v1::DETAIL_LEVEL_LAYERS;
  // Beside a pass on another device the host thread waits for the device anyway: the
  // bookkeeping runs there, between the step's launches, rather than on the engine's CPU pool.
  SideExecutor* side = model->device() == "cpu" ? parts_.side : SideExecutor::Inline();
  int64_t token_start = parts_.timeline->phase_start_ns();  // token 0 starts with prefill
  for (uint32_t i = 0; i < max_new_tokens; ++i) {
    if (i > 0 && cancelled()) {
      *stop_reason = StopReason::kCancelled;
      return absl::OkStatus();
    }
    if (i == 1) parts_.timeline->BeginPhase(v1::PHASE_DECODE);
    SpanRecorder* recorder = NewRecorder();
    recorder->BeginToken(i, i == 0 ? v1::PHASE_PREFILL : v1::PHASE_DECODE, token_start);
    engine::Observer* observer = spans ? recorder : nullptr;
    absl::StatusOr<GeneratedToken> token;
    if (i == 0) {
      token = model->Prefill(observer);
    } else {
      // The token before is finished beside this step. It touches nothing the step uses
      // (`recorder` is this token's).
      if (pending_) side->Post(finish_pending_);
      {
        // The posted task is waited for however Decode returns (a throw included): it uses
        // this pipeline's members.
        struct WaitAtExit {
          SideExecutor* side;
          bool posted;
          ~WaitAtExit() {
            if (posted) side->Wait();
          }
        } wait_at_exit{side, pending_.has_value()};
        token = model->Decode(observer);
      }
      pending_.reset();
    }
    if (!token.ok()) return token.status();
    // What was measured up to a non-finite token is kept (that token is not recorded).
    EPROF_RETURN_IF_ERROR(CheckTokenFinite(*token, i));
    token_start = parts_.clock->NowNs();
    tokens_ = i + 1;
    last_token_end_ns_ = token_start;
    if (i == 0) {
      parts_.timeline->EndPhaseAt(token_start);  // prefill ends with its token
      Finish(recorder, *token, token_start);
    } else {
      // Sending the live event from this thread instead wakes the streams onto this core,
      // where they preempt the next step.
      pending_ = PendingToken{recorder, *token, token_start};
    }
    if (model->IsEos(token->token_id)) {
      *stop_reason = StopReason::kEos;
      return absl::OkStatus();
    }
  }
  *stop_reason = StopReason::kMaxNewTokens;
  return absl::OkStatus();
}

SpanRecorder* TokenPipeline::NewRecorder() {
  if (!spare_.empty()) {
    waiting_.push_back(std::move(spare_.back()));
    spare_.pop_back();
  } else {
    waiting_.push_back(std::make_unique<SpanRecorder>(detail_));
  }
  return waiting_.back().get();
}

void TokenPipeline::Finish(SpanRecorder* recorder, const GeneratedToken& token, int64_t end_ns) {
  std::string piece = text_stream_->Next(token.token_id);
  text_ += piece;
  recorder->EndToken(token.token_id, std::move(piece), token.probability, end_ns);
  Emit(recorder);
  FinalizeCovered(/*force=*/false);
}

void TokenPipeline::Emit(SpanRecorder* recorder) {
  parts_.power->Drain();
  const PowerTimeline& timeline = parts_.power->timeline();
  // Built into the same message every token (the log keeps its wire form): its layer and
  // component messages are reused, not allocated and freed each time. A token that no sample
  // covers yet goes out with its times and a provisional token energy; its layers' and
  // components' energies come with the stored run (GetRun), once final.
  v1::TokenCompleted* tc = token_event_.mutable_token();
  const bool final = timeline.covered_until_ns() >= recorder->token_end_ns();
  recorder->BuildInto(timeline, parts_.power->baseline(), /*part_energies=*/final,
                      tc->mutable_token());
  tc->set_energy_final(final);
  parts_.events->Emit(token_event_);
}

void TokenPipeline::FinalizeCovered(bool force) {
  const PowerTimeline& timeline = parts_.power->timeline();
  store::RunRows& rows = parts_.rows->rows();
  while (!waiting_.empty()) {
    SpanRecorder* r = waiting_.front().get();
    if (r->token_end_ns() < 0) break;  // the current token
    if (!force && timeline.covered_until_ns() < r->token_end_ns()) break;
    r->BuildRow(timeline, parts_.power->baseline(), &rows.tokens.emplace_back(), &layers_scratch_,
                &rows.token_layers.emplace_back());
    spare_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  parts_.rows->Queue(/*force=*/false);
}

}  // namespace eprof::daemon
