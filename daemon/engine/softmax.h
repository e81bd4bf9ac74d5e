// softmax(x)[id] for the probability of a sampled token, with an AVX2 kernel: libtorch's
// max / subtract / exp / sum over a 49k-entry vocabulary took ~55 µs per decode step on the
// inference thread, this takes ~27 µs (it is bound by the ~22 vector instructions per 8 exps).
//
//   std::optional<double> p = SoftmaxAtAvx2(logits.data(), logits.size(), id);
//   if (!p) p = /* the portable path */;
//
// Thread safety: pure functions.
#ifndef EPROF_DAEMON_ENGINE_SOFTMAX_H_
#define EPROF_DAEMON_ENGINE_SOFTMAX_H_

#include <cstddef>
#include <optional>

namespace eprof::engine {

// softmax(x[0..n))[id] = exp(x[id] - max) / Σ exp(x[i] - max), the sum in double. Each exp is
// a degree-5 polynomial after range reduction (relative error < 3e-7; below e^-87 it is ~1e-38,
// not 0), so the result is within ~1e-6 relative of a double-precision softmax. nullopt when
// this CPU has no AVX2/FMA, when x holds a NaN or its max is infinite, or id >= n: the caller
// falls back to its portable path, which defines those cases.
std::optional<double> SoftmaxAtAvx2(const float* x, size_t n, size_t id);

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_SOFTMAX_H_
