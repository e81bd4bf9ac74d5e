#include "daemon/engine/reference_forward.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/engine/model_config.h"
#include "daemon/engine/safetensors.h"

namespace eprof::engine {
namespace {

using Vec = std::vector<double>;

struct Ref {
  const ModelConfig& c;
  const SafetensorsFile& f;

  Vec W(const std::string& name) const {
    const TensorView* v = f.Find(name);
    if (v == nullptr) return {};
    const float* p = static_cast<const float*>(v->data);
    return Vec(p, p + v->size_bytes / 4);
  }
  // y = W x (+ b), W [out, in].
  Vec Lin(const std::string& name, const Vec& x, bool bias) const {
    Vec w = W(name + ".weight");
    const size_t in = x.size(), out = w.size() / in;
    Vec y(out, 0.0);
    for (size_t o = 0; o < out; ++o) {
      double s = 0;
      for (size_t i = 0; i < in; ++i) s += w[o * in + i] * x[i];
      y[o] = s;
    }
    if (bias) {
      Vec b = W(name + ".bias");
      for (size_t o = 0; o < out; ++o) y[o] += b[o];
    }
    return y;
  }
  Vec Norm(const std::string& name, const Vec& x, NormKind kind, bool bias = true) const {
    const size_t n = x.size();
    Vec w = W(name + ".weight"), y(n);
    if (kind == NormKind::kLayerNorm) {
      double mean = 0, var = 0;
      for (double v : x) mean += v;
      mean /= n;
      for (double v : x) var += (v - mean) * (v - mean);
      var /= n;
      Vec b = bias ? W(name + ".bias") : Vec(n, 0.0);
      for (size_t i = 0; i < n; ++i) y[i] = (x[i] - mean) / std::sqrt(var + c.norm_eps) * w[i] + b[i];
      return y;
    }
    double ms = 0;
    for (double v : x) ms += v * v;
    const double r = 1.0 / std::sqrt(ms / n + c.norm_eps);
    for (size_t i = 0; i < n; ++i) {
      y[i] = x[i] * r * (kind == NormKind::kGemmaRms ? 1.0 + w[i] : w[i]);
    }
    return y;
  }
  double Act(double x) const {
    switch (c.activation) {
      case Activation::kSilu: return x / (1 + std::exp(-x));
      case Activation::kGeluExact: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
      case Activation::kGeluTanh:
        return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    }
    return x;
  }
  // inv_freq (d/2) and the cos/sin scale for a forward over seq_len positions.
  Vec InvFreq(const RopeConfig& rope, int seq_len, double* scale) const {
    const int d = static_cast<int>(c.rotary_dims());
    Vec inv(d / 2);
    *scale = 1.0;
    for (int i = 0; i < d / 2; ++i) inv[i] = 1.0 / std::pow(rope.theta, 2.0 * i / d);
    if (rope.type == "linear") {
      for (double& v : inv) v /= rope.factor;
    } else if (rope.type == "llama3") {
      const double L = rope.original_max_position_embeddings;
      const double lo = L / rope.low_freq_factor, hi = L / rope.high_freq_factor;
      for (double& v : inv) {
        const double wl = 2 * M_PI / v;
        if (wl > lo) {
          v = v / rope.factor;
        } else if (wl >= hi) {
          const double s = (L / wl - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
          v = (1 - s) * v / rope.factor + s * v;
        }
      }
    } else if (rope.type == "longrope") {
      const bool use_long = seq_len > rope.original_max_position_embeddings;
      const auto& ext = use_long ? rope.long_factor : rope.short_factor;
      for (int i = 0; i < d / 2; ++i) inv[i] = 1.0 / (ext[i] * std::pow(rope.theta, 2.0 * i / d));
      *scale = rope.factor <= 1 ? 1.0
                                : std::sqrt(1 + std::log(rope.factor) /
                                                    std::log(double(rope.original_max_position_embeddings)));
    }
    return inv;
  }
  // Rotates the first d dims of head vector x (half-split) at position pos.
  void Rope(double* x, int pos, const Vec& inv, double scale) const {
    const int d = static_cast<int>(c.rotary_dims()), half = d / 2;
    for (int i = 0; i < half; ++i) {
      const double a = pos * inv[i];
      const double cs = std::cos(a) * scale, sn = std::sin(a) * scale;
      const double x1 = x[i], x2 = x[i + half];
      x[i] = x1 * cs - x2 * sn;
      x[i + half] = x2 * cs + x1 * sn;
    }
  }
};

}  // namespace

absl::StatusOr<std::vector<std::vector<double>>> ReferenceForward(const std::string& dir,
                                                                  const std::vector<int32_t>& ids) {
  EPROF_ASSIGN_OR_RETURN(ModelConfig c, LoadModelConfig(dir));
  EPROF_ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(dir + "/model.safetensors"));
  Ref r{c, *file};
  const int T = static_cast<int>(ids.size());
  const int H = c.hidden_size, D = c.head_dim, nH = c.num_heads, nKV = c.num_kv_heads;
  const int g = nH / nKV, I = c.intermediate_size, V = c.vocab_size;
  const Vec E = r.W("model.embed_tokens.weight");
  std::vector<Vec> h(T, Vec(H));
  const double embed_scale = c.scale_embedding ? static_cast<float>(std::sqrt(double(H))) : 1.0;
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < H; ++i) h[t][i] = E[size_t(ids[t]) * H + i] * embed_scale;
  }
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    const bool sliding = c.layer_sliding[l];
    double scale;
    const RopeConfig& rope = (c.family == Family::kGemma3 && sliding) ? c.local_rope : c.rope;
    const Vec inv = r.InvFreq(rope, T, &scale);
    std::vector<Vec> xs(T), q(T), k(T), v(T);
    for (int t = 0; t < T; ++t) {
      xs[t] = r.Norm(p + "input_layernorm", h[t], c.norm);
      if (c.fused_projections) {
        Vec qkv = r.Lin(p + "self_attn.qkv_proj", xs[t], c.qkv_bias);
        q[t] = Vec(qkv.begin(), qkv.begin() + nH * D);
        k[t] = Vec(qkv.begin() + nH * D, qkv.begin() + (nH + nKV) * D);
        v[t] = Vec(qkv.begin() + (nH + nKV) * D, qkv.end());
      } else {
        q[t] = r.Lin(p + "self_attn.q_proj", xs[t], c.qkv_bias);
        k[t] = r.Lin(p + "self_attn.k_proj", xs[t], c.qkv_bias);
        v[t] = r.Lin(p + "self_attn.v_proj", xs[t], c.qkv_bias);
      }
      auto head_norm = [&](Vec& x, int heads, const char* rms_name, const char* ln_name) {
        for (int hh = 0; hh < heads; ++hh) {
          Vec part(x.begin() + hh * D, x.begin() + (hh + 1) * D);
          if (c.qk_norm == QkNorm::kLayerNormPerHead) {
            part = r.Norm(absl::StrCat(p, "self_attn.", ln_name, ".norms.", hh), part, NormKind::kLayerNorm, false);
          } else {
            part = r.Norm(p + "self_attn." + rms_name, part,
                          c.qk_norm == QkNorm::kGemmaRms ? NormKind::kGemmaRms : NormKind::kRms);
          }
          std::copy(part.begin(), part.end(), x.begin() + hh * D);
        }
      };
      if (c.qk_norm != QkNorm::kNone) {
        head_norm(q[t], nH, "q_norm", "q_layernorm");
        head_norm(k[t], nKV, "k_norm", "k_layernorm");
      }
      for (int hh = 0; hh < nH; ++hh) r.Rope(&q[t][hh * D], t, inv, scale);
      for (int hh = 0; hh < nKV; ++hh) r.Rope(&k[t][hh * D], t, inv, scale);
    }
    const double scaling = c.divide_by_sqrt_head_dim ? 1.0 / std::sqrt(double(D)) : c.attn_scaling;
    for (int t = 0; t < T; ++t) {
      Vec attn(nH * D, 0.0);
      for (int hh = 0; hh < nH; ++hh) {
        const int kv = hh / g;
        Vec s(t + 1, -INFINITY);
        double mx = -INFINITY;
        for (int j = 0; j <= t; ++j) {
          if (sliding && t - j >= c.sliding_window) continue;
          double dot = 0;
          for (int dd = 0; dd < D; ++dd) dot += q[t][hh * D + dd] * k[j][kv * D + dd];
          dot *= scaling;
          if (c.attn_softcap > 0) dot = std::tanh(dot / c.attn_softcap) * c.attn_softcap;
          s[j] = dot;
          mx = std::max(mx, dot);
        }
        double z = 0;
        for (double& e : s) z += (e = std::exp(e - mx));
        for (int j = 0; j <= t; ++j) {
          for (int dd = 0; dd < D; ++dd) attn[hh * D + dd] += s[j] / z * v[j][kv * D + dd];
        }
      }
      Vec a = r.Lin(p + "self_attn.o_proj", attn, c.o_bias);
      auto mlp = [&](const Vec& x) {
        Vec gate, up;
        if (c.fused_projections) {
          Vec gu = r.Lin(p + "mlp.gate_up_proj", x, false);
          gate = Vec(gu.begin(), gu.begin() + I);
          up = Vec(gu.begin() + I, gu.end());
        } else {
          gate = r.Lin(p + "mlp.gate_proj", x, c.mlp_bias);
          up = r.Lin(p + "mlp.up_proj", x, c.mlp_bias);
        }
        for (int i = 0; i < I; ++i) gate[i] = r.Act(gate[i]) * up[i];
        return r.Lin(p + "mlp.down_proj", gate, c.mlp_bias);
      };
      Vec out(H);
      if (c.parallel_residual) {
        Vec m = mlp(xs[t]);
        for (int i = 0; i < H; ++i) out[i] = h[t][i] + a[i] + m[i];
      } else {
        if (c.four_norms) a = r.Norm(p + "post_attention_layernorm", a, c.norm);
        Vec mid(H);
        for (int i = 0; i < H; ++i) mid[i] = h[t][i] + a[i];
        Vec x2 = r.Norm(p + (c.four_norms ? "pre_feedforward_layernorm" : "post_attention_layernorm"), mid, c.norm);
        Vec m = mlp(x2);
        if (c.four_norms) m = r.Norm(p + "post_feedforward_layernorm", m, c.norm);
        for (int i = 0; i < H; ++i) out[i] = mid[i] + m[i];
      }
      xs[t] = out;  // keep h[] intact for later positions of this layer
    }
    h = xs;
  }
  std::vector<Vec> logits(T);
  for (int t = 0; t < T; ++t) {
    Vec x = r.Norm("model.norm", h[t], c.norm);
    logits[t] = c.tie_word_embeddings ? Vec(V) : r.Lin("lm_head", x, false);
    if (c.tie_word_embeddings) {
      for (int o = 0; o < V; ++o) {
        double s = 0;
        for (int i = 0; i < H; ++i) s += E[size_t(o) * H + i] * x[i];
        logits[t][o] = s;
      }
    }
    if (c.final_softcap > 0) {
      for (double& z : logits[t]) z = std::tanh(z / c.final_softcap) * c.final_softcap;
    }
  }
  return logits;
}

}  // namespace eprof::engine
