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

using engine::Component;
constexpr Component kLayerComponents[] = {
    Component::kInputNorm, Component::kQProj,    Component::kKProj,
    Component::kVProj,     Component::kAttention, Component::kOProj,
    Component::kPostAttentionNorm, Component::kGateProj, Component::kUpProj,
    Component::kDownProj};

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

absl::Status FakeModel::Begin(const std::vector<int32_t>& prompt, const v1::SamplingParams&,
                              int32_t, v1::DetailLevel) {
  if (prompt.empty()) return absl::InvalidArgumentError("empty prompt");
  generated_ = 0;
  Spin(options_.component_us);
  return absl::OkStatus();
}

absl::StatusOr<GeneratedToken> FakeModel::Step(engine::Observer* observer, int positions) {
  if (options_.on_step) options_.on_step(generated_);
  forward_passes_.fetch_add(1);
  int work = options_.component_us * positions;
  auto component = [&](int layer, Component c) {
    if (observer) observer->OnComponentBegin(c, layer, clock_->NowNs());
    Spin(work);
    if (observer) observer->OnComponentEnd(c, layer, clock_->NowNs());
  };
  component(-1, Component::kEmbedding);
  for (int l = 0; l < options_.layers; ++l) {
    if (observer) observer->OnLayerBegin(l, clock_->NowNs());
    for (Component c : kLayerComponents) component(l, c);
    if (observer) observer->OnLayerEnd(l, clock_->NowNs());
  }
  component(-1, Component::kFinalNorm);
  component(-1, Component::kLmHead);
  GeneratedToken t;
  t.token_id = generated_ == options_.eos_at ? 2 : 3 + (generated_ * 7) % (options_.vocab_size - 3);
  t.probability = generated_ == options_.nan_at ? std::nan("") : 0.5;
  ++generated_;
  return t;
}

absl::StatusOr<GeneratedToken> FakeModel::Prefill(engine::Observer* observer) {
  return Step(observer, 4);  // prefill costs more than a decode step, as in a real model
}

absl::StatusOr<GeneratedToken> FakeModel::Decode(engine::Observer* observer) {
  if (generated_ == options_.fail_decode_at) {
    return absl::InternalError(absl::StrCat("fake engine failure at decode step ", generated_));
  }
  return Step(observer, 1);
}


}  // namespace eprof::daemon::testing
