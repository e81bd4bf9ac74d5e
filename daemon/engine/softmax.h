// Kernels over a vocabulary's logits, run on the inference thread after every decode step:
// softmax(x)[id] for the probability of a sampled token, with an AVX2 kernel faster than
// libtorch's max / subtract / exp / sum (daemon/engine/README.md), and the argmax of greedy
// sampling.
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

// The index of the first largest of x[0..n), as std::max_element finds it, for greedy sampling,
// without std::max_element's compare-and-select per element on a loop-carried dependency.
// nullopt when this CPU has no AVX2, n is 0, or x
// holds a NaN (where std::max_element's answer depends on the NaN's position): the caller falls
// back to std::max_element. -0.0 and +0.0 are equal, as for std::max_element.
std::optional<size_t> ArgmaxAvx2(const float* x, size_t n);

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_SOFTMAX_H_
