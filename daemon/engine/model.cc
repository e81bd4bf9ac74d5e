// The forward pass of every supported family (hf-models.md), on ATen.
#include "daemon/engine/model.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "daemon/engine/checkpoint.h"
#include "daemon/engine/gemv.h"
#include "daemon/engine/rope.h"
#include "daemon/engine/softmax.h"

namespace eprof::engine {
namespace {

struct Linear {
  at::Tensor w, b;  // w [out, in]; b optional
  // y = x·wᵀ + b for x [T, in], on eprof's pool (gemv.h) for fp32 on the CPU: one row (decode:
  // every weight read once) through its bandwidth-bound kernel, several (prefill) through
  // single-threaded BLAS sgemm per slice of w. Else libtorch: BLAS gemv for one row, gemm.
  at::Tensor operator()(const at::Tensor& x) const {
    const bool pool = x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat &&
                      w.device().is_cpu() && w.is_contiguous() &&
                      (!b.defined() || (b.scalar_type() == at::kFloat && b.is_contiguous()));
    if (pool && (x.size(0) == 1 ? GemvPool::UseForGemv() : GemvPool::UseForGemm())) {
      at::Tensor xr = x.contiguous();
      at::Tensor y = at::empty({x.size(0), w.size(0)}, x.options());
      const float* bias = b.defined() ? b.data_ptr<float>() : nullptr;
      if (x.size(0) == 1) {
        GemvPool::Get().Run(w.data_ptr<float>(), xr.data_ptr<float>(), bias, y.data_ptr<float>(),
                            w.size(0), w.size(1));
      } else {
        GemvPool::Get().RunGemm(xr.data_ptr<float>(), x.size(0), w.data_ptr<float>(), bias,
                                y.data_ptr<float>(), w.size(0), w.size(1));
      }
      return y;
    }
    if (x.size(0) == 1 && x.scalar_type() == at::kFloat) {
      at::Tensor y = b.defined() ? at::addmv(b, w, x[0]) : at::mv(w, x[0]);
      return y.unsqueeze(0);
    }
    return at::linear(x, w, b);
  }
};

struct Norm {
  NormKind kind = NormKind::kRms;
  at::Tensor w, b;  // kGemmaRms: w holds 1 + weight in float32
  double eps = 1e-6;
  at::Tensor operator()(const at::Tensor& x) const {
    switch (kind) {
      case NormKind::kRms: {
        at::Tensor h = x.to(at::kFloat);
        h = h * at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
        return w * h.to(x.scalar_type());
      }
      case NormKind::kGemmaRms: {
        at::Tensor h = x.to(at::kFloat);
        h = h * at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
        return (h * w).to(x.scalar_type());
      }
      case NormKind::kLayerNorm:
        return at::layer_norm(x, {x.size(-1)}, w, b, eps);
    }
    return x;
  }
};

struct Layer {
  Norm input_norm, post_attention_norm, pre_ffw_norm, post_ffw_norm;
  Linear q, k, v, qkv, o, gate, up, gate_up, down;
  Norm q_norm, k_norm;   // over head_dim; kLayerNorm here means StableLM's per-head LayerNorm
  at::Tensor k_cache, v_cache;  // [nKV, max_seq, D]
  bool sliding = false;
  const RopeTables* rope = nullptr;
};

at::ScalarType ToScalarType(DType d) {
  switch (d) {
    case DType::kF32: return at::kFloat;
    case DType::kF16: return at::kHalf;
    case DType::kBF16: return at::kBFloat16;
  }
  return at::kFloat;
}

std::string ShapeString(at::IntArrayRef shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

}  // namespace

struct Model::Impl {
  ModelConfig config;
  GenerationConfig generation;
  std::unique_ptr<Checkpoint> checkpoint;  // owns the mappings the weights may point into
  at::Device device = at::kCPU;
  at::ScalarType dtype = at::kFloat;
  int64_t max_seq = 0;
  int64_t cache_len = 0;
  // The token ids the KV cache holds, in order (for longrope's recomputation, see Forward).
  std::vector<int32_t> history;
  int64_t weight_bytes_per_token = 0;
  int64_t weight_bytes = 0;  // every tensor loaded, as held (model dtype, on the device)
  at::Tensor embed;        // [V, H]
  at::Tensor embed_scale;  // 0-dim, model dtype (Gemma)
  at::Tensor lm_head;      // [V, H]
  Norm final_norm;
  std::vector<Layer> layers;
  std::unique_ptr<RopeTables> rope, local_rope;
  Clock* clock = nullptr;
  Observer* observer = nullptr;
  bool hooks_outer = false, hooks_components = false, hooks_deep = false;
  bool sync_device = false;
  at::Tensor sync_probe;

  // ---- observer plumbing: one predictable branch per boundary when off ----
  int64_t Now() {
    if (sync_device) sync_probe.to(at::kCPU);  // waits for the device's queued work
    return clock->NowNs();
  }
  // Whether spans of `layer` (-1: outside the layers) are reported at the detail attached.
  bool Reports(int layer) const { return layer < 0 ? hooks_outer : hooks_components; }
  // One step of the forward pass, timed as component `c` of `layer` and reported with the
  // statistics of its output in deep mode; returns the step's output:
  //   q = Span(Component::kQProj, layer, [&] { return L.q(x); });
  template <typename Step>
  at::Tensor Span(Component c, int layer, Step&& step) {
    const bool on = Reports(layer);
    if (on) observer->OnComponentBegin(c, layer, Now());
    at::Tensor out = std::forward<Step>(step)();
    if (on) {
      observer->OnComponentEnd(c, layer, Now());
      if (hooks_deep) ReportStats(c, layer, out);
    }
    return out;
  }
  static ActivationStats StatsOf(const at::Tensor& out) {
    at::Tensor x = out.to(at::kFloat);
    at::Tensor a = x.abs();
    at::Tensor s = at::stack({a.mean(), x.std(/*unbiased=*/false), a.max(),
                              (a < 1e-4).to(at::kFloat).mean()})
                       .to(at::kCPU, at::kDouble);
    const double* v = s.data_ptr<double>();
    return ActivationStats{v[0], v[1], v[2], v[3]};
  }
  void ReportStats(Component c, int layer, const at::Tensor& out) {
    observer->OnActivationStats(c, layer, StatsOf(out));
  }

  absl::Status LoadWeights(const LoadOptions& options);
  // A layer's attention block (projections, q/k norms, rotary, the attention core, o_proj) and
  // its core alone: q·kᵀ over the KV cache, softmax, ·v (deep: per-head statistics).
  at::Tensor Attention(Layer& L, int layer, const at::Tensor& x, int64_t pos);
  at::Tensor AttentionCore(Layer& L, int layer, const at::Tensor& q, const at::Tensor& k,
                           const at::Tensor& v, int64_t pos);
  at::Tensor Mlp(Layer& L, int layer, const at::Tensor& x);
  at::Tensor Forward(const at::Tensor& ids, int64_t pos, bool all_positions);
};

// ---------------------------------------------------------------------------------------------
// Loading

absl::Status Model::Impl::LoadWeights(const LoadOptions& options) {
  const ModelConfig& c = config;
  const int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  const int64_t nH = c.num_heads, nKV = c.num_kv_heads, V = c.vocab_size;
  // Gemma 3 multimodal checkpoints use one of several prefixes (hf-models.md §7).
  if (checkpoint->Find(c.weight_prefix + "embed_tokens.weight") == nullptr) {
    for (const char* prefix : {"model.", "language_model.model.", "model.language_model."}) {
      if (checkpoint->Find(std::string(prefix) + "embed_tokens.weight") != nullptr) {
        config.weight_prefix = prefix;
        if (std::string(prefix) != "model.") {
          config.lm_head_name = std::string(prefix) == "language_model.model."
                                    ? "language_model.lm_head.weight"
                                    : "lm_head.weight";
        } else {
          config.lm_head_name = "lm_head.weight";
        }
        break;
      }
    }
  }
  LoadProgress progress;
  progress.tensors_total = static_cast<int64_t>(checkpoint->num_tensors());
  progress.bytes_total = static_cast<int64_t>(checkpoint->total_bytes());

  // Returns the tensor `name` of `shape` as a model-dtype tensor on the device (aliasing the
  // mapping when it already is one), or an error naming the file and the tensor.
  auto get = [&](const std::string& name, std::vector<int64_t> shape, bool required,
                 at::Tensor* out, at::ScalarType want) -> absl::Status {
    const TensorView* view = checkpoint->Find(name);
    if (view == nullptr) {
      if (!required) return absl::OkStatus();
      return absl::NotFoundError(absl::StrCat(checkpoint->source(), ": tensor '", name,
                                              "' is missing (", FamilyName(c.family),
                                              " needs it for this config)"));
    }
    if (view->shape != shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          view->file, ": tensor '", name, "' has shape ", ShapeString(view->shape),
          " but config.json implies ", ShapeString(shape)));
    }
    at::Tensor t = at::from_blob(const_cast<void*>(view->data), shape,
                                 at::TensorOptions().dtype(ToScalarType(view->dtype)));
    if (t.scalar_type() != want || device != at::kCPU) t = t.to(device, want);
    *out = t;
    weight_bytes += t.numel() * static_cast<int64_t>(t.element_size());
    progress.tensors_loaded += 1;
    progress.bytes_loaded += static_cast<int64_t>(view->size_bytes);
    if (options.progress) options.progress(progress);
    return absl::OkStatus();
  };
  auto linear = [&](const std::string& name, int64_t out, int64_t in, bool bias, Linear* l) {
    EPROF_RETURN_IF_ERROR(get(name + ".weight", {out, in}, true, &l->w, dtype));
    weight_bytes_per_token += out * in * static_cast<int64_t>(at::elementSize(dtype));
    if (bias) EPROF_RETURN_IF_ERROR(get(name + ".bias", {out}, true, &l->b, dtype));
    return absl::OkStatus();
  };
  auto norm = [&](const std::string& name, int64_t dim, Norm* n) -> absl::Status {
    n->kind = c.norm;
    n->eps = c.norm_eps;
    if (c.norm == NormKind::kGemmaRms) {
      at::Tensor w;
      EPROF_RETURN_IF_ERROR(get(name + ".weight", {dim}, true, &w, at::kFloat));
      n->w = 1.0 + w;  // (1 + weight.float()), as Gemma computes it each call
      return absl::OkStatus();
    }
    EPROF_RETURN_IF_ERROR(get(name + ".weight", {dim}, true, &n->w, dtype));
    if (c.norm == NormKind::kLayerNorm) {
      EPROF_RETURN_IF_ERROR(get(name + ".bias", {dim}, true, &n->b, dtype));
    }
    return absl::OkStatus();
  };

  const std::string& p = config.weight_prefix;
  EPROF_RETURN_IF_ERROR(get(p + "embed_tokens.weight", {V, H}, true, &embed, dtype));
  if (c.scale_embedding) {
    embed_scale = at::scalar_tensor(std::sqrt(static_cast<double>(H)),
                                    at::TensorOptions().dtype(dtype).device(device));
  }
  if (c.tie_word_embeddings) {
    lm_head = embed;
  } else {
    EPROF_RETURN_IF_ERROR(get(config.lm_head_name, {V, H}, true, &lm_head, dtype));
  }
  weight_bytes_per_token += V * H * static_cast<int64_t>(at::elementSize(dtype));
  EPROF_RETURN_IF_ERROR(norm(p + "norm", H, &final_norm));

  // Checked before anything is allocated per layer: a config.json claiming millions of layers
  // over the weights of two must fail here, with the key's name, not after gigabytes.
  if (const int64_t stored = checkpoint->CountIndexed(p + "layers."); c.num_layers > stored) {
    return absl::InvalidArgumentError(absl::StrCat(
        checkpoint->source(), ": config.json says num_hidden_layers ", c.num_layers,
        " but the weights hold ",
        stored == 0 ? absl::StrCat("no ", p, "layers.N tensors")
                    : absl::StrCat(stored, " (", p, "layers.0 to ", p, "layers.", stored - 1, ")"),
        ": fix config.json or the weights"));
  }
  const int64_t rd = c.rotary_dims();
  rope = std::make_unique<RopeTables>(c.rope, rd, max_seq, c.max_position_embeddings, dtype, device);
  if (c.family == Family::kGemma3) {
    local_rope = std::make_unique<RopeTables>(c.local_rope, rd, max_seq,
                                              c.max_position_embeddings, dtype, device);
  }
  layers.resize(c.num_layers);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    Layer& L = layers[i];
    const std::string lp = absl::StrCat(p, "layers.", i, ".");
    EPROF_RETURN_IF_ERROR(norm(lp + "input_layernorm", H, &L.input_norm));
    if (!c.parallel_residual) {
      EPROF_RETURN_IF_ERROR(norm(lp + "post_attention_layernorm", H, &L.post_attention_norm));
    }
    if (c.four_norms) {
      EPROF_RETURN_IF_ERROR(norm(lp + "pre_feedforward_layernorm", H, &L.pre_ffw_norm));
      EPROF_RETURN_IF_ERROR(norm(lp + "post_feedforward_layernorm", H, &L.post_ffw_norm));
    }
    const std::string ap = lp + "self_attn.";
    if (c.fused_projections) {
      EPROF_RETURN_IF_ERROR(linear(ap + "qkv_proj", (nH + 2 * nKV) * D, H, c.qkv_bias, &L.qkv));
    } else {
      EPROF_RETURN_IF_ERROR(linear(ap + "q_proj", nH * D, H, c.qkv_bias, &L.q));
      EPROF_RETURN_IF_ERROR(linear(ap + "k_proj", nKV * D, H, c.qkv_bias, &L.k));
      EPROF_RETURN_IF_ERROR(linear(ap + "v_proj", nKV * D, H, c.qkv_bias, &L.v));
    }
    EPROF_RETURN_IF_ERROR(linear(ap + "o_proj", H, nH * D, c.o_bias, &L.o));
    if (c.qk_norm == QkNorm::kRms || c.qk_norm == QkNorm::kGemmaRms) {
      EPROF_RETURN_IF_ERROR(norm(ap + "q_norm", D, &L.q_norm));
      EPROF_RETURN_IF_ERROR(norm(ap + "k_norm", D, &L.k_norm));
    } else if (c.qk_norm == QkNorm::kLayerNormPerHead) {
      // StableLM: one bias-free LayerNorm per head; stacked to [heads, D].
      for (auto [which, heads, n] : {std::tuple{"q_layernorm", nH, &L.q_norm},
                                     std::tuple{"k_layernorm", nKV, &L.k_norm}}) {
        std::vector<at::Tensor> ws(heads);
        for (int64_t h = 0; h < heads; ++h) {
          EPROF_RETURN_IF_ERROR(
              get(absl::StrCat(ap, which, ".norms.", h, ".weight"), {D}, true, &ws[h], dtype));
        }
        n->kind = NormKind::kLayerNorm;
        n->eps = c.norm_eps;
        n->w = at::stack(ws);
      }
    }
    const std::string mp = lp + "mlp.";
    if (c.fused_projections) {
      EPROF_RETURN_IF_ERROR(linear(mp + "gate_up_proj", 2 * I, H, c.mlp_bias, &L.gate_up));
    } else {
      EPROF_RETURN_IF_ERROR(linear(mp + "gate_proj", I, H, c.mlp_bias, &L.gate));
      EPROF_RETURN_IF_ERROR(linear(mp + "up_proj", I, H, c.mlp_bias, &L.up));
    }
    EPROF_RETURN_IF_ERROR(linear(mp + "down_proj", H, I, c.mlp_bias, &L.down));
    L.sliding = c.layer_sliding[i];
    L.rope = (c.family == Family::kGemma3 && L.sliding) ? local_rope.get() : rope.get();
    auto cache_options = at::TensorOptions().dtype(dtype).device(device);
    L.k_cache = at::zeros({nKV, max_seq, D}, cache_options);
    L.v_cache = at::zeros({nKV, max_seq, D}, cache_options);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Forward

namespace {

// x [T, heads, D]; cos/sin [T, d]. Rotates the first d dims of each head (half-split).
at::Tensor ApplyRope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t D = x.size(-1), d = cos.size(-1), half = d / 2;
  at::Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);
  at::Tensor xr = d == D ? x : x.narrow(-1, 0, d);
  at::Tensor rotated = at::cat({-xr.narrow(-1, half, half), xr.narrow(-1, 0, half)}, -1);
  at::Tensor out = xr * c + rotated * s;
  if (d == D) return out;
  return at::cat({out, x.narrow(-1, d, D - d)}, -1);
}

at::Tensor Activate(Activation a, const at::Tensor& x) {
  switch (a) {
    case Activation::kSilu: return at::silu(x);
    case Activation::kGeluExact: return at::gelu(x, "none");
    case Activation::kGeluTanh: return at::gelu(x, "tanh");
  }
  return x;
}

}  // namespace

at::Tensor Model::Impl::Attention(Layer& L, int layer, const at::Tensor& x, int64_t pos) {
  const ModelConfig& c = config;
  const int64_t T = x.size(0), D = c.head_dim, nH = c.num_heads, nKV = c.num_kv_heads;
  at::Tensor q, k, v;
  if (c.fused_projections) {
    at::Tensor qkv = Span(Component::kQkvProj, layer, [&] { return L.qkv(x); });
    q = qkv.narrow(1, 0, nH * D);
    k = qkv.narrow(1, nH * D, nKV * D);
    v = qkv.narrow(1, (nH + nKV) * D, nKV * D);
  } else {
    q = Span(Component::kQProj, layer, [&] { return L.q(x); });
    k = Span(Component::kKProj, layer, [&] { return L.k(x); });
    v = Span(Component::kVProj, layer, [&] { return L.v(x); });
  }
  q = q.reshape({T, nH, D});
  k = k.reshape({T, nKV, D});
  v = v.reshape({T, nKV, D});
  if (c.qk_norm != QkNorm::kNone) {
    // A layer norm per head (w [heads, D]), or the norm's own kind over each head's D values.
    auto head_norm = [&](const Norm& norm, const at::Tensor& t) {
      return c.qk_norm == QkNorm::kLayerNormPerHead
                 ? at::layer_norm(t, {D}, {}, {}, norm.eps) * norm.w
                 : norm(t);
    };
    q = Span(Component::kQNorm, layer, [&] { return head_norm(L.q_norm, q); });
    k = Span(Component::kKNorm, layer, [&] { return head_norm(L.k_norm, k); });
  }
  q = Span(Component::kRotary, layer, [&] {
    at::Tensor cos, sin;
    L.rope->Get(pos, T, &cos, &sin);
    k = ApplyRope(k, cos, sin);
    return ApplyRope(q, cos, sin);
  });
  at::Tensor out =
      Span(Component::kAttention, layer, [&] { return AttentionCore(L, layer, q, k, v, pos); });
  return Span(Component::kOProj, layer, [&] { return L.o(out); });
}

at::Tensor Model::Impl::AttentionCore(Layer& L, int layer, const at::Tensor& q,
                                      const at::Tensor& k, const at::Tensor& v, int64_t pos) {
  const ModelConfig& c = config;
  const int64_t T = q.size(0), D = c.head_dim, nH = c.num_heads, nKV = c.num_kv_heads;
  const int64_t g = nH / nKV;
  L.k_cache.narrow(1, pos, T).copy_(k.transpose(0, 1));
  L.v_cache.narrow(1, pos, T).copy_(v.transpose(0, 1));
  const int64_t end = pos + T;
  const int64_t W = c.sliding_window;
  const int64_t start = (L.sliding && W > 0) ? std::max<int64_t>(0, pos - W + 1) : 0;
  const int64_t Lk = end - start;
  at::Tensor keys = L.k_cache.narrow(1, start, Lk);
  at::Tensor values = L.v_cache.narrow(1, start, Lk);
  // Query heads j*g … j*g+g−1 share KV head j (repeat_kv); grouping them avoids the copy.
  at::Tensor qh = q.permute({1, 0, 2}).reshape({nKV, g * T, D});
  at::Tensor scores = at::bmm(qh, keys.transpose(1, 2));  // [nKV, g*T, Lk]
  if (c.divide_by_sqrt_head_dim) {
    scores = scores / std::sqrt(static_cast<double>(D));
  } else {
    scores = scores * c.attn_scaling;
  }
  if (c.attn_softcap > 0) scores = at::tanh(scores / c.attn_softcap) * c.attn_softcap;
  at::Tensor visible;  // [T, Lk] bool, undefined when every key is visible
  if (T > 1 || (L.sliding && W > 0 && end - start > W)) {
    at::Tensor qpos = at::arange(pos, end, at::TensorOptions().dtype(at::kLong).device(device)).unsqueeze(1);
    at::Tensor kpos = at::arange(start, end, at::TensorOptions().dtype(at::kLong).device(device)).unsqueeze(0);
    visible = kpos <= qpos;
    if (L.sliding && W > 0) visible = at::logical_and(visible, (qpos - kpos) < W);
    scores = scores.view({nKV, g, T, Lk})
                 .masked_fill(at::logical_not(visible), -std::numeric_limits<double>::infinity())
                 .view({nKV, g * T, Lk});
  }
  at::Tensor probs = at::softmax(scores, -1, at::kFloat);
  if (hooks_deep) {
    at::Tensor pr = probs.view({nH, T, Lk});
    at::Tensor entropy = (-at::xlogy(pr, pr)).sum(-1).mean(-1);
    at::Tensor max_w = std::get<0>(pr.max(-1)).mean(-1);
    at::Tensor below = (pr < 0.01);
    at::Tensor frac;
    if (visible.defined()) {
      frac = at::logical_and(below, visible).sum({1, 2}).to(at::kDouble) /
             visible.sum().to(at::kDouble);
    } else {
      frac = below.sum({1, 2}).to(at::kDouble) / static_cast<double>(T * Lk);
    }
    at::Tensor all = at::stack({entropy.to(at::kDouble), max_w.to(at::kDouble), frac}, 1)
                         .to(at::kCPU).contiguous();
    const double* d = all.data_ptr<double>();
    std::vector<AttentionHeadStats> heads(nH);
    for (int64_t h = 0; h < nH; ++h) heads[h] = {d[3 * h], d[3 * h + 1], d[3 * h + 2]};
    observer->OnAttentionStats(layer, heads);
  }
  if (probs.scalar_type() != dtype) probs = probs.to(dtype);
  return at::bmm(probs, values)  // [nKV, g*T, D]
      .view({nH, T, D})
      .permute({1, 0, 2})
      .reshape({T, nH * D});
}

at::Tensor Model::Impl::Mlp(Layer& L, int layer, const at::Tensor& x) {
  const int64_t I = config.intermediate_size;
  at::Tensor gate, up;
  if (config.fused_projections) {
    at::Tensor gu = Span(Component::kGateUpProj, layer, [&] { return L.gate_up(x); });
    gate = gu.narrow(1, 0, I);
    up = gu.narrow(1, I, I);
  } else {
    gate = Span(Component::kGateProj, layer, [&] { return L.gate(x); });
    up = Span(Component::kUpProj, layer, [&] { return L.up(x); });
  }
  at::Tensor h =
      Span(Component::kMlpAct, layer, [&] { return Activate(config.activation, gate) * up; });
  return Span(Component::kDownProj, layer, [&] { return L.down(h); });
}

at::Tensor Model::Impl::Forward(const at::Tensor& ids, int64_t pos, bool all_positions) {
  const ModelConfig& c = config;
  at::Tensor h = Span(Component::kEmbedding, -1, [&] {
    at::Tensor e = at::embedding(embed, ids);  // [T, H]
    return embed_scale.defined() ? e * embed_scale : e;
  });
  for (int i = 0; i < static_cast<int>(layers.size()); ++i) {
    Layer& L = layers[i];
    if (hooks_outer) observer->OnLayerBegin(i, Now());
    at::Tensor residual = h;
    at::Tensor x = Span(Component::kInputNorm, i, [&] { return L.input_norm(h); });
    if (c.parallel_residual) {
      at::Tensor attn = Attention(L, i, x, pos);
      at::Tensor mlp = Mlp(L, i, x);
      h = residual + attn + mlp;
    } else {
      at::Tensor attn = Attention(L, i, x, pos);
      if (c.four_norms) {
        attn = Span(Component::kPostAttentionNorm, i, [&] { return L.post_attention_norm(attn); });
      }
      h = residual + attn;
      residual = h;
      x = c.four_norms
              ? Span(Component::kPreFeedforwardNorm, i, [&] { return L.pre_ffw_norm(h); })
              : Span(Component::kPostAttentionNorm, i, [&] { return L.post_attention_norm(h); });
      at::Tensor mlp = Mlp(L, i, x);
      if (c.four_norms) {
        mlp = Span(Component::kPostFeedforwardNorm, i, [&] { return L.post_ffw_norm(mlp); });
      }
      h = residual + mlp;
    }
    if (hooks_outer) {
      observer->OnLayerEnd(i, Now());
      if (hooks_deep) observer->OnLayerOutputStats(i, StatsOf(h));
    }
  }
  if (!all_positions && h.size(0) > 1) h = h.narrow(0, h.size(0) - 1, 1);
  h = Span(Component::kFinalNorm, -1, [&] { return final_norm(h); });
  return Span(Component::kLmHead, -1, [&] {
    at::Tensor logits = Linear{lm_head, {}}(h);
    return c.final_softcap > 0 ? at::tanh(logits / c.final_softcap) * c.final_softcap : logits;
  });
}

// ---------------------------------------------------------------------------------------------
// Public API

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() {
  // A pool worker whose chunk was taken over may still be reading these weights.
  if (GemvPool::UseForGemv() || GemvPool::UseForGemm()) GemvPool::Get().Quiesce();
}

absl::StatusOr<std::unique_ptr<Model>> Model::Load(const std::string& dir,
                                                   const LoadOptions& options) {
  auto impl = std::make_unique<Impl>();
  EPROF_ASSIGN_OR_RETURN(impl->config, LoadModelConfig(dir));
  EPROF_ASSIGN_OR_RETURN(impl->generation, LoadGenerationConfig(dir));
  if (impl->generation.eos_token_ids.empty()) {
    impl->generation.eos_token_ids = impl->config.eos_token_ids;
  }
  EPROF_ASSIGN_OR_RETURN(impl->checkpoint, Checkpoint::Open(dir));
  impl->clock = options.clock != nullptr ? options.clock : Clock::Real();
  try {
    impl->device = at::Device(options.device);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad device '", options.device, "' (use cpu, cuda, cuda:N or mps)"));
  }
  if (impl->device.type() == at::kCUDA && !at::hasCUDA()) {
    return absl::FailedPreconditionError("device cuda requested but this libtorch has no CUDA");
  }
  if (impl->device.type() == at::kMPS && !at::hasMPS()) {
    return absl::FailedPreconditionError("device mps requested but this libtorch has no MPS");
  }
  impl->sync_device = impl->device.type() != at::kCPU;
  // Compute dtype.
  const std::string& want = options.dtype;
  const TensorView* embed_view = impl->checkpoint->Find(impl->config.weight_prefix + "embed_tokens.weight");
  DType stored = embed_view != nullptr ? embed_view->dtype : DType::kF32;
  if (embed_view == nullptr) {
    for (const char* prefix : {"model.", "language_model.model.", "model.language_model."}) {
      if (auto* v = impl->checkpoint->Find(std::string(prefix) + "embed_tokens.weight")) stored = v->dtype;
    }
  }
  if (want == "auto") {
    impl->dtype = ToScalarType(stored);
    if (impl->dtype == at::kHalf && impl->device.type() == at::kCPU) impl->dtype = at::kFloat;
  } else if (want == "float32" || want == "f32") {
    impl->dtype = at::kFloat;
  } else if (want == "bfloat16" || want == "bf16") {
    impl->dtype = at::kBFloat16;
  } else if (want == "float16" || want == "f16") {
    impl->dtype = at::kHalf;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("bad dtype '", want, "' (use auto, float32 or bfloat16)"));
  }
  impl->max_seq = options.max_seq_len > 0
                      ? options.max_seq_len
                      : std::min<int64_t>(impl->config.max_position_embeddings, 4096);
  try {
    at::NoGradGuard no_grad;
    EPROF_RETURN_IF_ERROR(impl->LoadWeights(options));
    impl->sync_probe = at::zeros({1}, at::TensorOptions().device(impl->device));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(dir, ": libtorch error while loading: ", e.what()));
  }
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

const ModelConfig& Model::config() const { return impl_->config; }
const GenerationConfig& Model::generation_config() const { return impl_->generation; }
std::string Model::device() const { return impl_->device.str(); }
std::string Model::compute_dtype() const {
  switch (impl_->dtype) {
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: return "float32";
  }
}
int64_t Model::weight_bytes_per_token() const { return impl_->weight_bytes_per_token; }
int64_t Model::weight_bytes() const { return impl_->weight_bytes; }
int64_t Model::max_seq_len() const { return impl_->max_seq; }
int64_t Model::cache_length() const { return impl_->cache_len; }
void Model::ResetCache() {
  impl_->cache_len = 0;
  impl_->history.clear();
}

void Model::SetObserver(Observer* observer, DetailLevel level) {
  Impl& m = *impl_;
  m.observer = observer;
  const bool on = observer != nullptr;
  m.hooks_outer = on && level >= DetailLevel::kLayers;
  m.hooks_components = on && level >= DetailLevel::kComponents;
  m.hooks_deep = on && level >= DetailLevel::kDeep;
}

void Model::BeginOuterSpan(Component component) {
  Impl& m = *impl_;
  if (m.hooks_outer) m.observer->OnComponentBegin(component, -1, m.Now());
}

void Model::EndOuterSpan(Component component) {
  Impl& m = *impl_;
  if (m.hooks_outer) m.observer->OnComponentEnd(component, -1, m.Now());
}

absl::Status Model::Forward(const std::vector<int32_t>& ids, bool all_positions,
                            std::vector<float>* logits) {
  Impl& m = *impl_;
  const int64_t T = static_cast<int64_t>(ids.size());
  if (T == 0) return absl::InvalidArgumentError("Forward needs at least one token id");
  if (m.cache_len + T > m.max_seq) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the sequence would reach ", m.cache_len + T, " tokens but the KV cache holds ", m.max_seq,
        "; load the model with a larger max_seq_len or start a new sequence"));
  }
  for (int32_t id : ids) {
    if (id < 0 || id >= m.config.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("token id ", id, " is outside [0, ",
                                                     m.config.vocab_size, ")"));
    }
  }
  // Longrope (Phi-3): positions use the short factors while the sequence fits
  // original_max_position_embeddings and the long ones beyond. When a step takes the sequence
  // across that length, the cached keys were rotated with the short factors: transformers then
  // drops the cache and recomputes every position with the long factors
  // (Phi3ForCausalLM.prepare_inputs_for_generation), and so does this.
  const int64_t original = m.config.rope.original_max_position_embeddings;
  const bool recompute = m.config.rope.type == "longrope" && m.cache_len > 0 &&
                         m.cache_len <= original && m.cache_len + T > original;
  std::vector<int32_t> whole;
  const std::vector<int32_t>* feed = &ids;
  const int64_t cache_len_before = m.cache_len;
  if (recompute) {
    whole = m.history;
    whole.insert(whole.end(), ids.begin(), ids.end());
    feed = &whole;
    m.cache_len = 0;  // the whole sequence is computed again, from position 0
    m.history.clear();
  }
  const int64_t fed = static_cast<int64_t>(feed->size());
  try {
    at::NoGradGuard no_grad;
    at::Tensor id_tensor = at::from_blob(const_cast<int32_t*>(feed->data()), {fed},
                                         at::TensorOptions().dtype(at::kInt))
                               .to(m.device, at::kLong);
    at::Tensor out = m.Forward(id_tensor, m.cache_len, all_positions);
    if (recompute && all_positions) out = out.narrow(0, fed - T, T);  // the new positions only
    // The pass's matrix products are done: the pool's workers sleep through what comes until
    // the next pass (sampling, the caller's bookkeeping) instead of spinning on the other core.
    if (GemvPool::UseForGemv() || GemvPool::UseForGemm()) GemvPool::Get().Park();
    m.cache_len += fed;
    if (recompute) {
      m.history = std::move(whole);
    } else {
      m.history.insert(m.history.end(), ids.begin(), ids.end());
    }
    at::Tensor host = out.to(at::kCPU, at::kFloat).contiguous();
    logits->resize(static_cast<size_t>(host.numel()));
    std::memcpy(logits->data(), host.data_ptr<float>(), sizeof(float) * host.numel());
  } catch (const std::exception& e) {
    if (recompute) {  // the cache still holds what it held (the failed pass wrote past it)
      m.cache_len = cache_len_before;
      m.history.assign(whole.begin(), whole.end() - T);
    }
    return absl::InternalError(absl::StrCat("libtorch error in the forward pass: ", e.what()));
  }
  return absl::OkStatus();
}

double TokenProbability(const std::vector<float>& logits, int32_t id) {
  if (logits.empty() || id < 0 || static_cast<size_t>(id) >= logits.size()) return 0;
  if (std::optional<double> p = SoftmaxAtAvx2(logits.data(), logits.size(), static_cast<size_t>(id))) {
    return *p;
  }
  return TokenProbabilityLibtorch(logits, id);
}

double TokenProbabilityLibtorch(const std::vector<float>& logits, int32_t id) {
  if (logits.empty() || id < 0 || static_cast<size_t>(id) >= logits.size()) return 0;
  try {
    at::NoGradGuard no_grad;
    const at::Tensor t = at::from_blob(const_cast<float*>(logits.data()),
                                       {static_cast<int64_t>(logits.size())}, at::kFloat);
    // exp(x - max) in float (vectorized), summed in double: exact to ~1e-7 at any magnitude.
    const float max = t.max().item<float>();
    const double sum = (t - max).exp_().sum(at::kDouble).item<double>();
    return std::exp(static_cast<double>(logits[static_cast<size_t>(id)]) - max) / sum;
  } catch (const std::exception&) {
    return 0;  // cannot happen for a dense float vector; the figure is informational
  }
}

}  // namespace eprof::engine
