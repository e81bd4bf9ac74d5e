#include "daemon/engine/generator.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "common/status_macros.h"
#include "daemon/engine/softmax.h"

namespace eprof::engine {

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kEos: return "eos";
    case StopReason::kMaxTokens: return "max_tokens";
    case StopReason::kCancelled: return "cancelled";
  }
  return "?";
}

int32_t SampleToken(const std::vector<float>& logits, const SamplingParams& params,
                    std::mt19937_64* rng) {
  const int64_t n = static_cast<int64_t>(logits.size());
  if (params.temperature <= 0.0) {
    if (std::optional<size_t> i = ArgmaxAvx2(logits.data(), logits.size())) {
      return static_cast<int32_t>(*i);
    }
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  // HF's order: temperature, then top-k, then top-p, then softmax and a draw.
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  int64_t keep = n;
  if (params.top_k > 0 && params.top_k < n) keep = params.top_k;
  auto by_logit = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::partial_sort(order.begin(), order.begin() + keep, order.end(), by_logit);
  order.resize(keep);
  std::vector<double> probs(keep);
  const double max_scaled = logits[order[0]] / params.temperature;
  double sum = 0;
  for (int64_t i = 0; i < keep; ++i) {
    probs[i] = std::exp(logits[order[i]] / params.temperature - max_scaled);
    sum += probs[i];
  }
  for (double& p : probs) p /= sum;
  if (params.top_p < 1.0) {
    double cumulative = 0;
    int64_t cut = keep;
    for (int64_t i = 0; i < keep; ++i) {
      cumulative += probs[i];
      if (cumulative >= params.top_p) {
        cut = i + 1;
        break;
      }
    }
    probs.resize(cut);
    order.resize(cut);
    const double kept = std::accumulate(probs.begin(), probs.end(), 0.0);
    for (double& p : probs) p /= kept;
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  double u = uniform(*rng);
  for (size_t i = 0; i < probs.size(); ++i) {
    u -= probs[i];
    if (u <= 0) return order[i];
  }
  return order.back();
}

Generator::Generator(Model* model, const GenerateParams& params)
    : model_(model), params_(params), rng_(params.sampling.seed), one_(1) {
  eos_ = params.eos_token_ids;
  if (params.use_model_eos) {
    for (int64_t id : model->generation_config().eos_token_ids) eos_.push_back(id);
  }
  model_->ResetCache();
}

absl::StatusOr<int32_t> Generator::Prefill(const std::vector<int32_t>& prompt) {
  model_->ResetCache();
  EPROF_RETURN_IF_ERROR(model_->Forward(prompt, /*all_positions=*/false, &logits_));
  return Sample();
}

absl::StatusOr<int32_t> Generator::Step(int32_t token) {
  one_[0] = token;
  EPROF_RETURN_IF_ERROR(model_->Forward(one_, /*all_positions=*/false, &logits_));
  return Sample();
}

int32_t Generator::Sample() {
  model_->BeginOuterSpan(Component::kSampling);  // the observer's "sampling" span (layer -1)
  const int32_t token = SampleToken(logits_, params_.sampling, &rng_);
  model_->EndOuterSpan(Component::kSampling);
  return token;
}

bool Generator::IsEos(int32_t token) const {
  return std::find(eos_.begin(), eos_.end(), token) != eos_.end();
}

absl::StatusOr<GenerateResult> Generator::Generate(const std::vector<int32_t>& prompt,
                                                   const std::function<void(int32_t)>& on_token) {
  GenerateResult result;
  if (params_.max_new_tokens <= 0) return result;
  if (cancelled_.load(std::memory_order_relaxed)) {
    result.stop_reason = StopReason::kCancelled;
    return result;
  }
  EPROF_ASSIGN_OR_RETURN(int32_t token, Prefill(prompt));
  while (true) {
    result.tokens.push_back(token);
    if (on_token) on_token(token);
    if (IsEos(token)) {
      result.stop_reason = StopReason::kEos;
      break;
    }
    if (static_cast<int64_t>(result.tokens.size()) >= params_.max_new_tokens) {
      result.stop_reason = StopReason::kMaxTokens;
      break;
    }
    if (cancelled_.load(std::memory_order_relaxed)) {
      result.stop_reason = StopReason::kCancelled;
      break;
    }
    EPROF_ASSIGN_OR_RETURN(token, Step(token));
  }
  return result;
}

}  // namespace eprof::engine
