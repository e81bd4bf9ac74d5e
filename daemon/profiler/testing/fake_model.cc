#include "daemon/profiler/testing/fake_model.h"

#include <cmath>

#include <thread>

#include "absl/strings/str_cat.h"

namespace eprof::daemon::testing {
namespace {

class FakeTextStream final : public TextStream {
 public:
  std::string Next(int32_t id) override { return id == 2 ? "" : absl::StrCat(" t", id); }
};

constexpr v1::Component kLayerComponents[] = {
    v1::COMPONENT_INPUT_NORM, v1::COMPONENT_Q_PROJ,    v1::COMPONENT_K_PROJ,
    v1::COMPONENT_V_PROJ,     v1::COMPONENT_ATTENTION, v1::COMPONENT_O_PROJ,
    v1::COMPONENT_POST_ATTENTION_NORM, v1::COMPONENT_GATE_PROJ, v1::COMPONENT_UP_PROJ,
    v1::COMPONENT_DOWN_PROJ};

}  // namespace

FakeModel::FakeModel(FakeModelOptions options, Clock* clock)
    : options_(std::move(options)), clock_(clock) {
  info_.set_name("fake");
  info_.set_family("llama");
  info_.set_num_layers(options_.layers);
  info_.set_vocab_size(options_.vocab_size);
  info_.set_context_length(options_.context_length);
  info_.set_has_tokenizer(options_.has_tokenizer);
}

void FakeModel::Spin(int us) {
  int64_t until = clock_->NowNs() + us * 1000LL;
  while (clock_->NowNs() < until) {
  }
}

absl::StatusOr<std::vector<int32_t>> FakeModel::Tokenize(const std::string& text,
                                                          bool add_special_tokens) {
  if (!options_.has_tokenizer) {
    return absl::FailedPreconditionError("model fake has no tokenizer.json");
  }
  std::vector<int32_t> ids;
  if (add_special_tokens) ids.push_back(1);
  for (unsigned char c : text) ids.push_back(3 + c % (options_.vocab_size - 3));
  return ids;
}

std::unique_ptr<TextStream> FakeModel::NewTextStream() { return std::make_unique<FakeTextStream>(); }

absl::Status FakeModel::Begin(const std::vector<int32_t>& prompt, const v1::SamplingParams&, int32_t,
                              v1::DetailLevel) {
  if (prompt.empty()) return absl::InvalidArgumentError("empty prompt");
  generated_ = 0;
  Spin(options_.component_us);
  return absl::OkStatus();
}

absl::StatusOr<GeneratedToken> FakeModel::Step(SpanObserver* observer, int positions) {
  if (options_.on_step) options_.on_step(generated_);
  forward_passes_.fetch_add(1);
  int work = options_.component_us * positions;
  auto component = [&](int32_t layer, v1::Component c) {
    if (observer) observer->BeginComponent(layer, c, clock_->NowNs());
    Spin(work);
    if (observer) observer->EndComponent(layer, c, clock_->NowNs());
  };
  component(-1, v1::COMPONENT_EMBEDDING);
  for (int l = 0; l < options_.layers; ++l) {
    if (observer) observer->BeginLayer(l, clock_->NowNs());
    for (v1::Component c : kLayerComponents) component(l, c);
    if (observer) observer->EndLayer(l, clock_->NowNs());
  }
  component(-1, v1::COMPONENT_FINAL_NORM);
  component(-1, v1::COMPONENT_LM_HEAD);
  GeneratedToken t;
  t.token_id = generated_ == options_.eos_at ? 2 : 3 + (generated_ * 7) % (options_.vocab_size - 3);
  t.probability = generated_ == options_.nan_at ? std::nan("") : 0.5;
  ++generated_;
  return t;
}

absl::StatusOr<GeneratedToken> FakeModel::Prefill(SpanObserver* observer) {
  return Step(observer, 4);  // prefill costs more than a decode step, as in a real model
}

absl::StatusOr<GeneratedToken> FakeModel::Decode(SpanObserver* observer) {
  if (generated_ == options_.fail_decode_at) {
    return absl::InternalError(absl::StrCat("fake engine failure at decode step ", generated_));
  }
  return Step(observer, 1);
}


}  // namespace eprof::daemon::testing
