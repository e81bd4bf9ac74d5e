#include "daemon/engine/rope.h"

#include <algorithm>
#include <cmath>

namespace eprof::engine {
namespace {

// 1.0 / (base ** (arange(0, d, 2).float() / d)), float32.
at::Tensor DefaultInvFreq(double base, int64_t d) {
  at::Tensor exponents = at::arange(0, d, 2, at::kLong).to(at::kFloat) / static_cast<double>(d);
  return at::reciprocal(at::pow(base, exponents));
}

}  // namespace

RopeTables::RopeTables(const RopeConfig& rope, int64_t rotary_dims, int64_t max_seq_len,
                       int64_t max_position_embeddings, at::ScalarType dtype, at::Device device)
    : rope_(rope),
      dims_(rotary_dims),
      max_position_embeddings_(max_position_embeddings),
      dtype_(dtype),
      device_(device) {
  if (rope_.type == "longrope") {
    const double factor = rope_.factor;
    const double original = static_cast<double>(rope_.original_max_position_embeddings);
    if (rope_.attention_factor >= 0) {
      attention_scaling_ = rope_.attention_factor;
    } else if (factor <= 1.0) {
      attention_scaling_ = 1.0;
    } else {
      attention_scaling_ = std::sqrt(1.0 + std::log(factor) / std::log(original));
    }
  } else if (rope_.type == "yarn") {
    attention_scaling_ = rope_.attention_factor >= 0 ? rope_.attention_factor
                                                     : 0.1 * std::log(rope_.factor) + 1.0;
  }
  Build(InvFreq(1), 0, max_seq_len, &cos_, &sin_);
  if (rope_.type == "longrope") {
    Build(InvFreq(rope_.original_max_position_embeddings + 1), 0, max_seq_len, &long_cos_,
          &long_sin_);
  }
}

at::Tensor RopeTables::InvFreq(int64_t seq_len) const {
  const int64_t d = dims_;
  const std::string& type = rope_.type;
  if (type == "linear") return DefaultInvFreq(rope_.theta, d) / rope_.factor;
  if (type == "dynamic") {
    double base = rope_.theta;
    if (seq_len > max_position_embeddings_) {
      const double factor = rope_.factor;
      base = base * std::pow(factor * seq_len / max_position_embeddings_ - (factor - 1),
                             static_cast<double>(d) / (d - 2));
    }
    return DefaultInvFreq(base, d);
  }
  if (type == "llama3") {
    at::Tensor inv_freq = DefaultInvFreq(rope_.theta, d);
    const double factor = rope_.factor;
    const double low = rope_.low_freq_factor, high = rope_.high_freq_factor;
    const double old_len = static_cast<double>(rope_.original_max_position_embeddings);
    const double low_freq_wavelen = old_len / low;
    const double high_freq_wavelen = old_len / high;
    // Python's `2 * math.pi / t` is t.reciprocal() * (2π); mirror it exactly.
    at::Tensor wavelen = at::reciprocal(inv_freq) * (2 * M_PI);
    at::Tensor llama = at::where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq);
    at::Tensor smooth = (at::reciprocal(wavelen) * old_len - low) / (high - low);
    at::Tensor smoothed = (1 - smooth) * llama / factor + smooth * llama;
    at::Tensor medium = at::logical_not(wavelen < high_freq_wavelen) *
                        at::logical_not(wavelen > low_freq_wavelen);
    return at::where(medium, smoothed, llama);
  }
  if (type == "longrope") {
    const bool use_long = seq_len > rope_.original_max_position_embeddings;
    const std::vector<double>& ext = use_long ? rope_.long_factor : rope_.short_factor;
    at::Tensor ext_factors =
        at::tensor(at::ArrayRef<double>(ext), at::TensorOptions().dtype(at::kDouble))
            .to(at::kFloat);
    at::Tensor shape = at::arange(0, d, 2, at::kLong).to(at::kFloat) / static_cast<double>(d);
    return at::reciprocal(ext_factors * at::pow(rope_.theta, shape));
  }
  if (type == "yarn") {
    const double base = rope_.theta;
    const double factor = rope_.factor;
    const double max_pos = static_cast<double>(rope_.original_max_position_embeddings > 0
                                                   ? rope_.original_max_position_embeddings
                                                   : max_position_embeddings_);
    auto correction_dim = [&](double rotations) {
      return (d * std::log(max_pos / (rotations * 2 * M_PI))) / (2 * std::log(base));
    };
    double low = std::max(std::floor(correction_dim(rope_.beta_fast)), 0.0);
    double high = std::min(std::ceil(correction_dim(rope_.beta_slow)), static_cast<double>(d - 1));
    if (low == high) high += 0.001;
    at::Tensor pos_freqs = at::pow(base, at::arange(0, d, 2, at::kLong).to(at::kFloat) / d);
    at::Tensor extrapolation = at::reciprocal(pos_freqs);
    at::Tensor interpolation = at::reciprocal(factor * pos_freqs);
    at::Tensor ramp = at::clamp((at::arange(d / 2, at::kFloat) - low) / (high - low), 0, 1);
    at::Tensor extra = 1 - ramp;
    return interpolation * (1 - extra) + extrapolation * extra;
  }
  return DefaultInvFreq(rope_.theta, d);
}

void RopeTables::Build(const at::Tensor& inv_freq, int64_t pos, int64_t n, at::Tensor* cos,
                       at::Tensor* sin) const {
  at::Tensor positions = at::arange(pos, pos + n, at::kLong).to(at::kFloat);
  at::Tensor freqs = positions.unsqueeze(1) * inv_freq.unsqueeze(0);  // [n, d/2], float32
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  at::Tensor c = at::cos(emb), s = at::sin(emb);
  if (attention_scaling_ != 1.0) {
    c = c * attention_scaling_;
    s = s * attention_scaling_;
  }
  *cos = c.to(device_, dtype_).contiguous();
  *sin = s.to(device_, dtype_).contiguous();
}

void RopeTables::Get(int64_t pos, int64_t n, at::Tensor* cos, at::Tensor* sin) const {
  const int64_t seq_len = pos + n;
  if (rope_.type == "longrope" && seq_len > rope_.original_max_position_embeddings) {
    *cos = long_cos_.narrow(0, pos, n);
    *sin = long_sin_.narrow(0, pos, n);
    return;
  }
  if (rope_.type == "dynamic" && seq_len > max_position_embeddings_) {
    Build(InvFreq(seq_len), pos, n, cos, sin);
    return;
  }
  *cos = cos_.narrow(0, pos, n);
  *sin = sin_.narrow(0, pos, n);
}

}  // namespace eprof::engine
